"""Per-user folders: where they are, first-run detection, safety of existing data, instance relocation."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from flask import Flask

from flaskdesk.app.loader import instance_path_override
from flaskdesk.app.paths import AppPaths, default_instance_path, relocate_instance_path, safe_app_dir_name
from flaskdesk.errors import ConfigError, DataDirError


def test_for_app_honours_xdg(isolated_dirs: Path) -> None:
    paths = AppPaths.for_app("My Notes")
    assert paths.name == "My Notes"
    assert paths.data_dir == isolated_dirs / "xdg_data_home" / "My Notes"
    assert paths.config_dir == isolated_dirs / "xdg_config_home" / "My Notes"
    assert paths.log_dir == isolated_dirs / "xdg_state_home" / "My Notes" / "log"
    assert paths.cache_dir == isolated_dirs / "xdg_cache_home" / "My Notes"
    assert paths.instance_dir == paths.data_dir / "instance"
    assert paths.web_storage_dir == paths.data_dir / "webview"


def test_data_root_puts_everything_under_it(isolated_dirs: Path, tmp_path: Path) -> None:
    paths = AppPaths.for_app("notes/app", data_root=tmp_path / "root")
    base = tmp_path / "root" / "notes-app"
    assert (paths.data_dir, paths.config_dir, paths.log_dir, paths.cache_dir) == (
        base / "data",
        base / "config",
        base / "log",
        base / "cache",
    )
    assert not any((isolated_dirs / "xdg_data_home").iterdir())


def test_nothing_is_created_until_ensure(isolated_dirs: Path) -> None:
    paths = AppPaths.for_app("Lazy")
    assert not paths.data_dir.exists()
    assert not paths.log_dir.exists()


def test_ensure_detects_first_run_once(tmp_path: Path) -> None:
    paths = AppPaths.for_app("First", data_root=tmp_path)
    assert paths.ensure() is True
    for folder in (
        paths.data_dir,
        paths.config_dir,
        paths.log_dir,
        paths.cache_dir,
        paths.instance_dir,
        paths.web_storage_dir,
    ):
        assert folder.is_dir()
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert paths.ensure() is False
    assert AppPaths.for_app("First", data_root=tmp_path).ensure() is False


def test_ensure_leaves_existing_data_intact(tmp_path: Path) -> None:
    paths = AppPaths.for_app("Kept", data_root=tmp_path)
    paths.instance_dir.mkdir(parents=True)
    database = paths.instance_dir / "app.sqlite"
    database.write_bytes(b"precious")
    paths.data_dir.chmod(0o750)
    assert paths.ensure() is False
    assert database.read_bytes() == b"precious"
    assert sorted(p.name for p in paths.data_dir.iterdir()) == ["instance", "webview"]
    assert sorted(p.name for p in paths.instance_dir.iterdir()) == ["app.sqlite"]
    assert stat.S_IMODE(paths.data_dir.stat().st_mode) == 0o750


def test_unusable_data_dir_is_a_data_dir_error(tmp_path: Path) -> None:
    """A path below a regular file cannot be created, even by root (ENOTDIR)."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    paths = AppPaths.for_app("Blocked", data_root=blocker)
    with pytest.raises(
        DataDirError, match=r"Cannot use the folder .*blocker.*Not a directory.*FLASKDESK_DATA_DIR"
    ) as info:
        paths.ensure()
    assert isinstance(info.value.__cause__, OSError)
    assert blocker.read_text() == "a file, not a folder"


def test_data_dir_that_is_a_file_is_a_data_dir_error(tmp_path: Path) -> None:
    paths = AppPaths.for_app("Filed", data_root=tmp_path)
    paths.data_dir.parent.mkdir(parents=True)
    paths.data_dir.write_text("not a folder")
    with pytest.raises(DataDirError, match=str(paths.data_dir)):
        paths.ensure()
    assert paths.data_dir.read_text() == "not a folder"


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("notes", "notes"),
        ("My Notes", "My Notes"),
        ("my-notes_2.0", "my-notes_2.0"),
        ("a/b\\c:d*e?f", "a-b-c-d-e-f"),
        ("  ..hidden. ", "hidden"),
        ("C++ Studio", "C++ Studio"),
        ("Café Ünïcode", "Café Ünïcode"),
        ("ﬁle", "file"),  # NFKC: the ligature becomes two letters
        ("Cafe\u0301", "Café"),  # NFKC: combining accent composed, same folder as the precomposed name
        ("CON", "_CON"),
        ("nul.app", "_nul.app"),
        ("x" * 100, "x" * 64),
        ("tabs\tand\nnewlines", "tabs-and-newlines"),
    ],
)
def test_safe_app_dir_name(name: str, folder: str) -> None:
    assert safe_app_dir_name(name) == folder
    assert safe_app_dir_name(folder) == folder  # stable: applying it again changes nothing


@pytest.mark.parametrize("name", ["", "   ", "///", "..."])
def test_safe_app_dir_name_needs_letters(name: str) -> None:
    with pytest.raises(ConfigError, match=r"no letters or digits.*\[tool\.flaskdesk\]"):
        safe_app_dir_name(name)


def test_relocate_moves_a_default_instance_path(tmp_path: Path) -> None:
    app = Flask("relocate_default")
    assert relocate_instance_path(app, tmp_path / "instance") is True
    assert app.instance_path == str(tmp_path / "instance")
    assert relocate_instance_path(app, tmp_path / "instance") is False


def test_relocate_keeps_an_explicit_instance_path(tmp_path: Path) -> None:
    app = Flask("relocate_explicit", instance_path=str(tmp_path / "mine"))
    assert relocate_instance_path(app, tmp_path / "instance") is False
    assert app.instance_path == str(tmp_path / "mine")


def test_relocate_moves_the_config_root_of_instance_relative_config(tmp_path: Path) -> None:
    app = Flask("relocate_config", instance_relative_config=True)
    assert relocate_instance_path(app, tmp_path / "instance") is True
    assert app.config.root_path == str(tmp_path / "instance")


def test_relocate_after_the_override_is_a_no_op(tmp_path: Path) -> None:
    with instance_path_override(tmp_path / "instance"):
        app = Flask("relocate_override")
    assert default_instance_path(app) != app.instance_path
    assert relocate_instance_path(app, tmp_path / "instance") is False
    assert app.instance_path == str(tmp_path / "instance")
