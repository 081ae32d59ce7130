"""``[tool.flaskdesk]`` parsing and validation, and the precedence rule."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from flaskdesk.config import (
    ENV_VARS,
    FileType,
    ProjectConfig,
    find_pyproject,
    load_project_config,
    project_config_from_dict,
    resolve,
)
from flaskdesk.errors import ConfigError

FULL = """\
[project]
name = "notes"
version = "1.4.2"

[tool.flaskdesk]
app = "notes:create_app()"
name = "My Notes"
identifier = "org.example.MyNotes"
title = "Notes"
width = 1200
height = 800
min-size = [640, 480]
resizable = false
icon = "assets/icon.png"
background-color = "#1e1e1e"
backend = "qt"
transport = "loopback"
shutdown-timeout = 2.5
csp = "default-src 'self'"
single-instance = true
onefile = false
first-run = ["init-db"]
on-upgrade = ["db upgrade"]
include = ["notes/templates/**", "README.md"]
exclude = ["tkinter", "notes.tests"]
url-schemes = ["notes"]
dev-reload-extra = ["notes/static/**/*.css"]
locales = ["en", "pt-BR"]

[[tool.flaskdesk.file-types]]
extensions = [".md", "markdown"]
name = "Markdown document"
mime-type = "text/markdown"
icon = "assets/md.png"
"""


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _config(**table: Any) -> ProjectConfig:
    return project_config_from_dict(
        {key.replace("_", "-"): value for key, value in table.items()}, source="test"
    )


# --- find_pyproject ------------------------------------------------------------------------------


def test_find_pyproject_walks_up(tmp_path: Path) -> None:
    pyproject = _write(tmp_path / "project", "")
    deep = tmp_path / "project" / "src" / "notes"
    deep.mkdir(parents=True)
    (deep / "app.py").write_text("")
    assert find_pyproject(deep) == pyproject
    assert find_pyproject(deep / "app.py") == pyproject
    assert find_pyproject(tmp_path / "project") == pyproject


def test_find_pyproject_takes_the_nearest(tmp_path: Path) -> None:
    _write(tmp_path, "")
    inner = _write(tmp_path / "inner", "")
    assert find_pyproject(tmp_path / "inner") == inner


def test_find_pyproject_none(tmp_path: Path) -> None:
    if any((folder / "pyproject.toml").is_file() for folder in tmp_path.parents):
        pytest.skip("a pyproject.toml above the temp dir")
    assert find_pyproject(tmp_path) is None


# --- load_project_config -------------------------------------------------------------------------


def test_every_key_is_parsed(tmp_path: Path) -> None:
    pyproject = _write(tmp_path, FULL)
    config = load_project_config(pyproject)
    assert config == ProjectConfig(
        app="notes:create_app()",
        name="My Notes",
        identifier="org.example.MyNotes",
        version="1.4.2",
        title="Notes",
        width=1200,
        height=800,
        min_size=(640, 480),
        resizable=False,
        icon=tmp_path.resolve() / "assets" / "icon.png",
        background_color="#1e1e1e",
        backend="qt",
        transport="loopback",
        shutdown_timeout=2.5,
        csp="default-src 'self'",
        single_instance=True,
        onefile=False,
        first_run=("init-db",),
        on_upgrade=("db upgrade",),
        include=("notes/templates/**", "README.md"),
        exclude=("tkinter", "notes.tests"),
        file_types=(
            FileType(
                extensions=("md", "markdown"),
                name="Markdown document",
                mime_type="text/markdown",
                icon=tmp_path.resolve() / "assets" / "md.png",
                role="editor",
            ),
        ),
        url_schemes=("notes",),
        dev_reload_extra=("notes/static/**/*.css",),
        locales=("en", "pt-BR"),
        source=str(pyproject),
        root=tmp_path,
    )


def test_every_field_is_a_key() -> None:
    """Each dataclass field has a TOML key and back, so no setting can be unreachable."""
    fields = {f.name for f in dataclasses.fields(ProjectConfig)} - {"source", "root"}
    assert {key.replace("-", "_") for key in _FULL_TABLE_KEYS} == fields
    assert project_config_from_dict({}, source="test").to_table() == {}


_FULL_TABLE_KEYS = [
    "app",
    "name",
    "identifier",
    "version",
    "title",
    "width",
    "height",
    "min-size",
    "resizable",
    "icon",
    "background-color",
    "backend",
    "transport",
    "shutdown-timeout",
    "csp",
    "single-instance",
    "onefile",
    "first-run",
    "on-upgrade",
    "include",
    "exclude",
    "file-types",
    "url-schemes",
    "dev-reload-extra",
    "locales",
]


def test_to_table_round_trips(tmp_path: Path) -> None:
    config = load_project_config(_write(tmp_path, FULL))
    table = config.to_table()
    assert sorted(table) == sorted(_FULL_TABLE_KEYS)
    again = project_config_from_dict(table, source=config.source, root=config.root)
    assert again == config


def test_no_table_gives_defaults_and_the_project_version(tmp_path: Path) -> None:
    config = load_project_config(_write(tmp_path, '[project]\nname = "x"\nversion = "0.3"\n'))
    assert config == ProjectConfig(version="0.3", source=config.source, root=tmp_path)
    assert config.app is None and config.backend is None


def test_explicit_version_wins_over_project(tmp_path: Path) -> None:
    text = '[project]\nversion = "0.3"\n[tool.flaskdesk]\nversion = "2.0.0"\n'
    assert load_project_config(_write(tmp_path, text)).version == "2.0.0"


def test_dynamic_version_is_unknown(tmp_path: Path) -> None:
    text = '[project]\nname = "x"\ndynamic = ["version"]\n'
    assert load_project_config(_write(tmp_path, text)).version is None


def test_malformed_toml_names_file_and_line(tmp_path: Path) -> None:
    pyproject = _write(tmp_path, '[tool.flaskdesk]\ntitle = "ok"\nwidth = \n')
    with pytest.raises(ConfigError, match=r"pyproject\.toml is not valid TOML \(line 3, column 9\)") as info:
        load_project_config(pyproject)
    assert str(pyproject) in str(info.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Cannot read .*missing.toml"):
        load_project_config(tmp_path / "missing.toml")


def test_table_must_be_a_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"must be a table, not str"):
        load_project_config(_write(tmp_path, 'tool.flaskdesk = "qt"\n'))


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("widht", r"'widht' \(did you mean 'width'\?\)"),
        ("min_size", r"'min_size' \(keys are kebab-case: did you mean 'min-size'\?\)"),
        ("backgroundcolor", r"did you mean 'background-color'"),
        ("zzz", r"'zzz' \(valid keys: app, backend, background-color, csp,"),
    ],
)
def test_unknown_key(tmp_path: Path, key: str, message: str) -> None:
    pyproject = _write(tmp_path, f"[tool.flaskdesk]\n{key} = 1\n")
    with pytest.raises(ConfigError, match=message) as info:
        load_project_config(pyproject)
    assert f"Unknown key in [tool.flaskdesk] of {pyproject}" in str(info.value)


def test_all_unknown_keys_are_reported() -> None:
    with pytest.raises(ConfigError, match=r"Unknown keys .*'titel'.*'hieght'"):
        project_config_from_dict({"titel": "x", "hieght": 1}, source="test")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("app", "", "an app target string"),
        ("app", 3, "an app target string"),
        ("name", "", "at least one letter or digit"),
        ("name", "x" * 101, "at most 100 characters"),
        ("name", "tab\there", "a printable name"),
        ("identifier", "myapp", "a reverse-DNS identifier"),
        ("identifier", "org.example.", "a reverse-DNS identifier"),
        ("identifier", "org.example.my app", "a reverse-DNS identifier"),
        ("identifier", "org.1example.app", "a reverse-DNS identifier"),
        ("version", 1.0, "a version string"),
        ("version", "1 2", "a version string"),
        ("title", "", "a non-empty string"),
        ("width", 0, "a positive whole number"),
        ("width", -5, "a positive whole number"),
        ("width", 10.5, "a positive whole number"),
        ("width", True, "a positive whole number"),
        ("height", "800", "a positive whole number"),
        ("min-size", [640], r"\[width, height\]"),
        ("min-size", [640, 0], r"\[width, height\]"),
        ("min-size", "640x480", r"\[width, height\]"),
        ("resizable", "yes", "true or false"),
        ("resizable", 1, "true or false"),
        ("icon", "", "a file path string"),
        ("icon", 5, "a file path string"),
        ("background-color", "red", '"#rgb" or "#rrggbb"'),
        ("background-color", "#12345", '"#rgb" or "#rrggbb"'),
        ("background-color", "#ggg", '"#rgb" or "#rrggbb"'),
        ("backend", "foo", 'one of "qt", "gtk", "auto"'),
        ("backend", 1, 'one of "qt", "gtk", "auto"'),
        ("transport", "http", 'one of "loopback", "scheme"'),
        ("shutdown-timeout", 0, "greater than 0"),
        ("shutdown-timeout", -1.5, "greater than 0"),
        ("shutdown-timeout", "10", "greater than 0"),
        ("shutdown-timeout", float("inf"), "greater than 0"),
        ("shutdown-timeout", float("nan"), "greater than 0"),
        ("shutdown-timeout", False, "greater than 0"),
        ("csp", "", "a non-empty string"),
        ("single-instance", "true", "true or false"),
        ("onefile", None, "true or false"),
        ("first-run", "init-db", "a list of non-empty command strings"),
        ("first-run", ["init-db", ""], "but item 1 is ''"),
        ("on-upgrade", [3], "but item 0 is 3"),
        ("include", [""], "a list of non-empty paths"),
        ("exclude", ["not a module"], "dotted module names"),
        ("exclude", ["pkg..mod"], "dotted module names"),
        ("url-schemes", ["https"], "not http, https, file"),
        ("url-schemes", ["My App"], "lower-case URL schemes"),
        ("url-schemes", ["1app"], "lower-case URL schemes"),
        ("dev-reload-extra", "static/", "a list of non-empty paths"),
        ("locales", ["english!"], "locale codes"),
        ("locales", ["e"], "locale codes"),
    ],
)
def test_bad_values(key: str, value: object, expected: str) -> None:
    with pytest.raises(
        ConfigError, match=rf"\[tool\.flaskdesk\] {key} = .* in test is not valid: expected"
    ) as info:
        project_config_from_dict({key: value}, source="test")
    assert re.search(expected, str(info.value)), str(info.value)
    assert repr(value)[:40] in str(info.value)


@pytest.mark.parametrize(
    ("entry", "where", "expected"),
    [
        ("md", "file-types", "a list of tables"),
        ([{"name": "Doc"}], r"file-types\[0\]", '"extensions"'),
        ([{"extensions": []}], r"file-types\[0\]", '"extensions"'),
        ([{"extensions": ["md"]}, {"extensions": ["a b"]}], r"file-types\[1\]", '"extensions"'),
        ([{"extensions": ["md"], "mime-type": "markdown"}], r"file-types\[0\]", '"mime-type"'),
        ([{"extensions": ["md"], "role": "owner"}], r"file-types\[0\]", '"role"'),
        ([{"extensions": ["md"], "name": ""}], r"file-types\[0\]", '"name"'),
        ([{"extensions": ["md"], "mime_type": "text/x"}], r"file-types\[0\]", "not 'mime_type'"),
        (["md"], r"file-types\[0\]", "a list of tables"),
    ],
)
def test_bad_file_types(entry: object, where: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=rf"\[tool\.flaskdesk\] {where} = .*expected.*{expected}"):
        project_config_from_dict({"file-types": entry}, source="test")


def test_file_type_defaults_and_relative_icon_without_root() -> None:
    config = project_config_from_dict({"file-types": [{"extensions": ["TXT"], "icon": "t.png"}]}, source="x")
    assert config.file_types == (FileType(extensions=("txt",), icon=Path("t.png")),)


def test_choices_are_case_insensitive() -> None:
    assert _config(backend="Qt", transport="SCHEME").backend == "qt"
    assert _config(transport="SCHEME").transport == "scheme"


def test_integers_are_accepted_as_timeouts() -> None:
    config = _config(shutdown_timeout=10)
    assert config.shutdown_timeout == 10.0 and isinstance(config.shutdown_timeout, float)


# --- resolve -------------------------------------------------------------------------------------


PROJECT = project_config_from_dict({"backend": "gtk", "title": "From pyproject"}, source="test")


@pytest.mark.parametrize(
    ("cli", "env", "project", "desktop", "expected"),
    [
        ("qt", {"FLASKDESK_GUI": "auto"}, PROJECT, "auto", "qt"),
        (None, {"FLASKDESK_GUI": "auto"}, PROJECT, "qt", "auto"),
        (None, {}, PROJECT, "qt", "gtk"),
        (None, {}, None, "qt", "qt"),
        (None, {}, ProjectConfig(), "qt", "qt"),
        (None, {}, None, None, "default"),
        # an empty variable counts as unset
        (None, {"FLASKDESK_GUI": ""}, PROJECT, None, "gtk"),
        (None, {"FLASKDESK_GUI": "  "}, None, None, "default"),
        # parsed like the TOML value
        (None, {"FLASKDESK_GUI": " QT "}, None, None, "qt"),
    ],
)
def test_resolve_precedence(
    cli: str | None, env: dict[str, str], project: ProjectConfig | None, desktop: str | None, expected: str
) -> None:
    assert (
        resolve("backend", cli=cli, env=env, project=project, desktop=desktop, default="default") == expected
    )


def test_resolve_settings_without_env_var() -> None:
    assert (
        resolve("title", cli=None, env={}, project=PROJECT, desktop="Mine", default="x") == "From pyproject"
    )
    assert resolve("title", cli=None, env={}, project=None, desktop="Mine", default="x") == "Mine"


def test_resolve_parses_env_values() -> None:
    env = {
        "FLASKDESK_SHUTDOWN_TIMEOUT": "2.5",
        "FLASKDESK_NAME": " Test Notes ",
        "FLASKDESK_TRANSPORT": "scheme",
    }
    assert resolve("shutdown_timeout", cli=None, env=env, project=None, desktop=None, default=10.0) == 2.5
    assert resolve("name", cli=None, env=env, project=None, desktop=None, default="app") == "Test Notes"
    assert resolve("transport", cli=None, env=env, project=None, desktop=None, default="loopback") == "scheme"


def test_resolve_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"FLASKDESK_DATA_DIR": "data"}
    value = resolve("data_dir", cli=None, env=env, project=PROJECT, desktop=None, default=None)
    assert value == tmp_path / "data"
    assert resolve("data_dir", cli=None, env={}, project=PROJECT, desktop=None, default=None) is None


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "FLASKDESK_GUI",
            "foo",
            r"FLASKDESK_GUI='foo' is not valid: expected one of \"qt\", \"gtk\", \"auto\"",
        ),
        ("FLASKDESK_TRANSPORT", "tcp", r"FLASKDESK_TRANSPORT='tcp' .* one of \"loopback\", \"scheme\""),
        ("FLASKDESK_SHUTDOWN_TIMEOUT", "soon", r"FLASKDESK_SHUTDOWN_TIMEOUT='soon' .* greater than 0"),
        ("FLASKDESK_SHUTDOWN_TIMEOUT", "-1", r"FLASKDESK_SHUTDOWN_TIMEOUT='-1' .* greater than 0"),
        ("FLASKDESK_NAME", "///", r"FLASKDESK_NAME='///' .* at least one letter or digit"),
    ],
)
def test_resolve_rejects_bad_env(variable: str, value: str, message: str) -> None:
    field = next(field for field, var in ENV_VARS.items() if var == variable)
    with pytest.raises(ConfigError, match=message) as info:
        resolve(field, cli=None, env={variable: value}, project=None, desktop=None, default=None)
    assert "unset it" in str(info.value)


def test_bad_env_is_ignored_when_the_cli_decides() -> None:
    assert (
        resolve("backend", cli="qt", env={"FLASKDESK_GUI": "foo"}, project=None, desktop=None, default="")
        == "qt"
    )


def test_resolve_unknown_field_is_a_bug() -> None:
    with pytest.raises(ValueError, match="'colour' is not a flaskdesk setting"):
        resolve("colour", cli=None, env={}, project=None, desktop=None, default=None)


def test_env_vars_are_read_only() -> None:
    with pytest.raises(TypeError):
        ENV_VARS["backend"] = "OTHER"  # type: ignore[index]
