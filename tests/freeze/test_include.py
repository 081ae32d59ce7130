"""``[tool.flaskdesk] include`` resolved against a project folder: matches, destinations, mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from flaskdesk.errors import ConfigError
from flaskdesk.freeze.collect import asset_files
from flaskdesk.freeze.include import resolve_includes
from flaskdesk.freeze.spec import DataEntry


def write(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    write(
        root,
        "pyproject.toml",
        "settings.json",
        "data/a.csv",
        "data/b.csv",
        "data/notes.txt",
        "data/deep/c.csv",
        "content/index.md",
        "content/guide/start.md",
        "content/__pycache__/x.pyc",
        "dist/Demo/_internal/data/a.csv",
        "build/flaskdesk/probe.json",
        ".venv/pyvenv.cfg",
        ".venv/lib/site.csv",
        ".git/config",
        ".env",
        "data/.secret.csv",
        ".well-known/security.txt",
    )
    return root


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (["data/*.csv"], [("data/a.csv", "data"), ("data/b.csv", "data")]),
        (
            ["data/**/*.csv"],
            [("data/a.csv", "data"), ("data/b.csv", "data"), ("data/deep/c.csv", "data/deep")],
        ),
        (["content/"], [("content", "content")]),
        (["content"], [("content", "content")]),
        (["settings.json"], [("settings.json", ".")]),
        (["./data/a.csv"], [("data/a.csv", "data")]),
        (["data\\a.csv"], [("data/a.csv", "data")]),  # written the Windows way
        (["content/**/*.md", "content/"], [("content", "content")]),  # a match inside a folder match
        (["data/a.csv", "data/a.csv", "data/*.csv"], [("data/a.csv", "data"), ("data/b.csv", "data")]),
        # a wildcard's matches in build output, venvs and __pycache__ are skipped, not errors
        (["**/*.csv"], [("data/a.csv", "data"), ("data/b.csv", "data"), ("data/deep/c.csv", "data/deep")]),
        (["*/__pycache__/*"], None),
        # as in the shell, wildcards skip hidden names; spelling the dot reaches them
        (["data/.*.csv"], [("data/.secret.csv", "data")]),
        ([".well-known/*"], [(".well-known/security.txt", ".well-known")]),
        ([".env"], [(".env", ".")]),
    ],
)
def test_resolution(project: Path, patterns: list[str], expected: list[tuple[str, str]] | None) -> None:
    if expected is None:
        with pytest.raises(ConfigError, match="matches nothing"):
            resolve_includes(patterns, project)
        return
    assert resolve_includes(patterns, project) == tuple(
        DataEntry(project / src, dest) for src, dest in expected
    )


def test_nothing_to_include(project: Path) -> None:
    assert resolve_includes((), project) == ()


def test_every_file_lands_at_its_project_relative_path(project: Path) -> None:
    entries = resolve_includes(["data/*.csv", "content/", "settings.json"], project)
    assert sorted(dest for _src, dest in asset_files(entries)) == [
        "content/guide/start.md",
        "content/index.md",
        "data/a.csv",
        "data/b.csv",
        "settings.json",
    ]


def test_relative_to_the_project_folder_not_the_current_one(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_includes(["data/a.csv"], project) == (DataEntry(project / "data" / "a.csv", "data"),)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("data/*.json", 'include: "data/*.json" matches nothing in {root}. Patterns are relative'),
        ("missing.txt", 'include: "missing.txt" matches nothing'),
        ("../secret", 'include: "../secret" leaves the project folder ({root})'),
        ("data/../../secret", "leaves the project folder"),
        ("/etc/passwd", 'include: "/etc/passwd" is an absolute path'),
        ("C:\\data\\a.csv", "is an absolute path"),
        ("dist", 'include: "dist" would bundle dist/, the build\'s own output'),
        ("dist/**/*.csv", "would bundle dist/, the build's own output"),
        ("build/flaskdesk/probe.json", "would bundle build/, the build's own output"),
        (".venv/lib/site.csv", "would bundle the virtual environment .venv/"),
        (".venv", "would bundle the virtual environment .venv/"),
        (".", 'include: "." would bundle the whole project folder'),
        ("**", "would bundle the whole project folder"),
    ],
)
def test_mistakes_name_the_key_and_the_pattern(project: Path, pattern: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_includes(["data/a.csv", pattern], project)
    text = str(caught.value)
    assert text.startswith(f'[tool.flaskdesk] include: "{pattern}"')
    assert message.format(root=project) in text


def test_wildcards_do_not_match_hidden_files(project: Path) -> None:
    entries = resolve_includes(["*.json", "data/*"], project)
    names = [entry.source.relative_to(project).as_posix() for entry in entries]
    assert names == ["data/a.csv", "data/b.csv", "data/deep", "data/notes.txt", "settings.json"]
    everything = [e.source.relative_to(project).as_posix() for e in resolve_includes(["**/*.csv"], project)]
    assert "data/.secret.csv" not in everything


@pytest.mark.parametrize("folder", ["flaskdesk", "licenses"])
def test_the_bundles_own_folders_are_refused(project: Path, folder: str) -> None:
    write(project, f"{folder}/extra.txt")
    for pattern in (folder, f"{folder}/*.txt", "*/extra.txt"):
        with pytest.raises(ConfigError) as caught:
            resolve_includes([pattern], project)
        assert f"would put {folder}" in str(caught.value)
        assert f"Rename the project's {folder}/ folder" in str(caught.value)


def test_a_folder_holding_a_venv_is_refused(project: Path) -> None:
    write(project, "tools/env/pyvenv.cfg", "tools/run.sh")
    with pytest.raises(ConfigError, match=r'"tools" would bundle the virtual environment tools/env/'):
        resolve_includes(["tools"], project)
    # a wildcard that reaches into it skips it instead
    assert resolve_includes(["tools/*"], project) == (DataEntry(project / "tools" / "run.sh", "tools"),)
