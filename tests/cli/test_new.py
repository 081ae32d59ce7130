"""``flaskdesk new``: names, the rendered template, the refusal rules, and the new project's own tests."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import zlib
from importlib import metadata
from pathlib import Path, PurePosixPath

import pytest
from click.testing import CliRunner

from flaskdesk.cli import cli
from flaskdesk.config import load_project_config
from flaskdesk.errors import ConfigError
from flaskdesk.scaffold import plan_project, project_names, write_project
from flaskdesk.scaffold.icon import app_icon, png_bytes
from flaskdesk.scaffold.render import render_text

EXPECTED_FILES = [
    ".gitignore",
    "README.md",
    "my_app/__init__.py",
    "my_app/__main__.py",
    "my_app/api.py",
    "my_app/static/app.js",
    "my_app/static/style.css",
    "my_app/tasks.py",
    "my_app/templates/about.html",
    "my_app/templates/base.html",
    "my_app/templates/index.html",
    "my_app/views.py",
    "packaging/README.md",
    "packaging/icon.png",
    "pyproject.toml",
    "tests/test_app.py",
]


@pytest.mark.parametrize(
    ("name", "package", "title", "identifier"),
    [
        ("my-app", "my_app", "My App", "org.example.MyApp"),
        ("Notes", "notes", "Notes", "org.example.Notes"),
        ("shop.front_end", "shop_front_end", "Shop Front End", "org.example.ShopFrontEnd"),
        ("todo2", "todo2", "Todo2", "org.example.Todo2"),
    ],
)
def test_names_are_derived(name: str, package: str, title: str, identifier: str) -> None:
    names = project_names(name)
    assert (names.name, names.package, names.title, names.identifier) == (name, package, title, identifier)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "not a valid project name"),
        ("my app", "not a valid project name"),
        ("-app", "not a valid project name"),
        ("app-", "not a valid project name"),
        ("ca$h", "not a valid project name"),
        ("2fast", "must start with a letter"),
        ("json", "hides a module"),
        ("flask", "hides a module"),
        ("flaskdesk", "hides a module"),
        ("tests", "hides a module"),
        ("packaging", "hides a module"),
        ("class", "hides a module"),
    ],
)
def test_bad_names_are_refused(name: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        project_names(name)


def test_title_and_identifier_can_be_given() -> None:
    names = project_names("my-app", title="Ledger (Pro)", identifier="com.acme.Ledger")
    assert (names.title, names.identifier) == ("Ledger (Pro)", "com.acme.Ledger")
    with pytest.raises(ConfigError, match="--identifier"):
        project_names("my-app", identifier="Ledger")
    with pytest.raises(ConfigError, match="--title"):
        project_names("my-app", title='<script>"')


def test_render_text_replaces_known_keys_and_leaves_jinja_alone() -> None:
    text = "{{name}} {{ url_for('x') }} {{package}}"
    assert render_text(text, {"name": "a", "package": "b"}) == "a {{ url_for('x') }} b"
    with pytest.raises(KeyError, match="unknown placeholder"):
        render_text("{{nmae}}", {"name": "a"})


def test_plan_has_every_file_and_no_placeholder_left() -> None:
    plan = plan_project(project_names("my-app"), flaskdesk_version="0.1.0")
    assert [str(f.path) for f in plan] == EXPECTED_FILES
    for planned in plan:
        if planned.path.suffix in (".py", ".toml", ".md", ".html"):
            text = planned.content.decode("utf-8")
            assert "{{name}}" not in text and "{{package}}" not in text and "{{title}}" not in text
            assert "__package__" not in text
    jinja = next(f for f in plan if f.path == PurePosixPath("my_app/templates/base.html")).content.decode()
    assert "{{ url_for('static', filename='style.css') }}" in jinja
    assert "{% block title %}{% endblock %}My App</title>" in jinja


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (depth, colour) == (8, 6)  # 8-bit RGBA
    return width, height


def test_icon_is_a_valid_png_of_512_px() -> None:
    data = app_icon("my-app")
    assert _png_size(data) == (512, 512)
    assert data == app_icon("my-app")  # the same project always gets the same icon
    assert data != app_icon("other-app")
    # Decode the pixels: a transparent corner, an opaque centre.
    idat = b"".join(
        data[i + 8 : i + 8 + struct.unpack(">I", data[i : i + 4])[0]]
        for i in _chunk_offsets(data)
        if data[i + 4 : i + 8] == b"IDAT"
    )
    raw = zlib.decompress(idat)
    stride = 1 + 512 * 4
    assert raw[0 * stride + 1 + 3] == 0  # (0, 0) alpha
    assert raw[256 * stride + 1 + 100 * 4 + 3] == 255  # (100, 256) alpha


def _chunk_offsets(data: bytes) -> list[int]:
    offsets, i = [], 8
    while i < len(data):
        offsets.append(i)
        i += 12 + struct.unpack(">I", data[i : i + 4])[0]
    return offsets


def test_png_writer_checks_its_rows() -> None:
    assert _png_size(png_bytes(2, 1, [b"\0" * 8])) == (2, 1)
    with pytest.raises(ValueError):
        png_bytes(2, 2, [b"\0" * 8])


def test_generated_config_is_valid(tmp_path: Path) -> None:
    write_project(plan_project(project_names("my-app"), flaskdesk_version="0.1.0"), tmp_path / "p")
    config = load_project_config(tmp_path / "p" / "pyproject.toml")
    assert config.app == "my_app:create_app()"
    assert config.name == "my-app"
    assert config.identifier == "org.example.MyApp"
    assert config.icon == tmp_path / "p" / "packaging" / "icon.png"
    assert config.backend == "qt"


def test_cli_creates_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["new", "my-app"])
    assert result.exit_code == 0, result.output
    assert "Created My App in my-app/ (17 files)." in result.output
    files = sorted(
        str(p.relative_to(tmp_path / "my-app")) for p in (tmp_path / "my-app").rglob("*") if p.is_file()
    )
    assert files == sorted([*EXPECTED_FILES, ".github/workflows/release.yml"])


def test_cli_uses_an_empty_directory(tmp_path: Path) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    result = CliRunner().invoke(cli, ["new", "my-app", "--directory", str(target)])
    assert result.exit_code == 0, result.output
    assert (target / "my_app" / "__init__.py").is_file()


def test_cli_refuses_a_non_empty_directory_and_changes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "README.md").write_text("mine")
    result = CliRunner().invoke(cli, ["new", "my-app", "--directory", str(target)])
    assert isinstance(result.exception, ConfigError)
    assert "already exists and is not empty" in str(result.exception)
    assert "never overwrites" in str(result.exception)
    assert [p.name for p in target.iterdir()] == ["README.md"]
    assert (target / "README.md").read_text() == "mine"


def test_main_maps_errors_to_exit_status_2(tmp_path: Path) -> None:
    (tmp_path / "my-app").mkdir()
    (tmp_path / "my-app" / "x").write_text("")
    bad_name = _flaskdesk(["new", "2fast"], cwd=tmp_path)
    busy = _flaskdesk(["new", "my-app"], cwd=tmp_path)
    assert bad_name.returncode == busy.returncode == 2
    assert "'2fast' cannot be a Python package name" in bad_name.stderr
    assert "already exists and is not empty" in busy.stderr
    assert not (tmp_path / "2fast").exists()


def test_write_never_overwrites_a_file_created_meanwhile(tmp_path: Path) -> None:
    plan = plan_project(project_names("my-app"), flaskdesk_version="0.1.0")
    target = tmp_path / "p"
    (target / "tests").mkdir(parents=True)
    # check_target sees a non-empty folder: refused before anything is written
    with pytest.raises(ConfigError):
        write_project(plan, target)
    assert [p.name for p in target.iterdir()] == ["tests"]


def test_write_cleans_up_after_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = plan_project(project_names("my-app"), flaskdesk_version="0.1.0")
    target = tmp_path / "p"
    real_open = open
    calls = {"n": 0}

    def failing_open(path: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        if "x" in mode:
            calls["n"] += 1
            if calls["n"] == 5:
                raise OSError(28, "No space left on device")
        return real_open(path, mode, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", failing_open)
    with pytest.raises(ConfigError, match="No space left on device"):
        write_project(plan, target)
    assert not target.exists()


def _flaskdesk(args: list[str], *, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from flaskdesk.cli import main; main()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kwargs,  # type: ignore[arg-type]
    )


def _plugin_args() -> list[str]:
    """Load flaskdesk's pytest plugin explicitly when this dev install predates its entry point."""
    registered = any(ep.value.startswith("flaskdesk.") for ep in metadata.entry_points(group="pytest11"))
    return [] if registered else ["-p", "flaskdesk.testing.plugin"]


def test_the_new_projects_own_tests_pass(tmp_path: Path) -> None:
    """What a user does first: scaffold, then run the project's tests (here without installing it)."""
    result = _flaskdesk(["new", "my-app"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    project = tmp_path / "my-app"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK", "PYTEST"))}
    env["PYTHONPATH"] = str(project)
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *_plugin_args()],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "8 passed" in tests.stdout


def test_the_new_project_is_lint_and_type_clean(tmp_path: Path) -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    assert _flaskdesk(["new", "my-app"], cwd=tmp_path).returncode == 0
    project = tmp_path / "my-app"
    lint = subprocess.run(
        [
            ruff,
            "check",
            "--no-cache",
            "--isolated",
            "--select",
            "E,F,W,I,B,UP,SIM,RUF",
            "--line-length",
            "110",
            ".",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    types = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            os.devnull,
            "my_app",
            "tests",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MYPYPATH": str(project)},
    )
    assert types.returncode == 0, types.stdout + types.stderr


def test_the_new_app_loads_the_way_flaskdesk_run_finds_it(tmp_path: Path) -> None:
    assert _flaskdesk(["new", "my-app"], cwd=tmp_path).returncode == 0
    project = tmp_path / "my-app"
    code = (
        "from flaskdesk.launcher import load_app\n"
        "app, project = load_app()\n"
        "desktop = app.extensions['flaskdesk']\n"
        "print(app.name, project.name, desktop.bridge.names(), sorted(app.blueprints))\n"
    )
    env = {**os.environ, "FLASKDESK_DATA_DIR": str(tmp_path / "data")}
    env.pop("FLASK_APP", None)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=project, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "my_app my-app ['greet'] ['main']"


def test_new_project_gets_the_release_workflow(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["new", "farm-app", "--directory", str(tmp_path / "farm-app")])
    assert result.exit_code == 0, result.output
    workflow = (tmp_path / "farm-app" / ".github" / "workflows" / "release.yml").read_text()
    assert "flaskdesk build --check" in workflow
    for runner in ("ubuntu", "windows", "macos"):
        assert runner in workflow
