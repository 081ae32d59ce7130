"""The one "am I frozen?" module, exercised by faking PyInstaller's ``sys`` attributes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import flaskdesk
from flaskdesk import resources
from flaskdesk.errors import ConfigError


@pytest.fixture
def frozen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Pretend to run inside a PyInstaller build unpacked at ``tmp_path/bundle``."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    return bundle


def test_not_frozen_from_source() -> None:
    assert resources.is_frozen() is False
    assert resources.baked_config_path() is None
    assert resources.load_baked_config() is None


def test_frozen_needs_both_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    """``sys.frozen`` alone is set by other freezers (cx_Freeze, py2exe) that unpack nothing."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    assert resources.is_frozen() is False


def test_bundle_dir_from_source_holds_the_package() -> None:
    assert resources.bundle_dir() / "flaskdesk" == Path(flaskdesk.__file__).resolve().parent


def test_frozen_paths(frozen: Path) -> None:
    assert resources.is_frozen() is True
    assert resources.bundle_dir() == frozen
    assert resources.baked_config_path() == frozen / "flaskdesk" / "baked-config.json"


def test_load_baked_config(frozen: Path) -> None:
    assert resources.load_baked_config() is None  # nothing baked
    (frozen / "flaskdesk").mkdir()
    baked = {"tool": {"name": "Notes", "backend": "qt"}, "project": {"version": "1.0"}}
    (frozen / "flaskdesk" / "baked-config.json").write_text(json.dumps(baked), encoding="utf-8")
    assert resources.load_baked_config() == baked


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "\udcff"])
def test_damaged_baked_config(frozen: Path, content: str) -> None:
    (frozen / "flaskdesk").mkdir()
    (frozen / "flaskdesk" / "baked-config.json").write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(ConfigError, match=r"baked into this build .* rebuild the app"):
        resources.load_baked_config()


def test_package_file() -> None:
    errors = resources.package_file("errors.py")
    assert errors.is_file()
    assert "FlaskdeskError" in errors.read_text(encoding="utf-8")
    assert resources.package_file("app/paths.py").is_file()


@pytest.mark.parametrize("relative", ["../pyproject.toml", "/etc/passwd", "app/../errors.py", "", "app//x"])
def test_package_file_stays_inside(relative: str) -> None:
    with pytest.raises(ValueError, match="plain relative path"):
        resources.package_file(relative)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder: pyproject.toml, the app in a src/ layout, and a file to ``include``."""
    root = tmp_path / "proj"
    (root / "src" / "notes").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "pyproject.toml").write_text("[tool.flaskdesk]\n", encoding="utf-8")
    (root / "data" / "rates.csv").write_text("eur,1\n", encoding="utf-8")
    return root


def test_project_path_from_source_finds_the_project_folder(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flask import Flask

    expected = project / "data" / "rates.csv"
    assert resources.project_path("data/rates.csv", start=project / "src" / "notes") == expected
    assert resources.project_path("data/rates.csv", start=project / "pyproject.toml") == expected
    app = Flask("notes", root_path=str(project / "src" / "notes"))
    monkeypatch.chdir(tmp_path)  # the current Flask app wins over the current directory
    with app.app_context():
        assert resources.project_path("data/rates.csv").read_text(encoding="utf-8") == "eur,1\n"
    monkeypatch.chdir(project / "src")
    assert resources.project_path("data/rates.csv") == expected
    lone = tmp_path / "lone"  # no pyproject.toml anywhere above: relative to ``start`` itself
    lone.mkdir()
    assert resources.project_path("data/x.csv", start=lone) == lone / "data" / "x.csv"


def test_project_path_frozen_is_in_the_bundle(frozen: Path, project: Path) -> None:
    """Where ``include`` put the file: the same relative path in the bundle, wherever ``start`` is."""
    assert resources.project_path("data/rates.csv") == frozen / "data" / "rates.csv"
    assert resources.project_path("data/rates.csv", start=project) == frozen / "data" / "rates.csv"


@pytest.mark.parametrize("relative", ["../secret", "/etc/passwd", "data/../../x", ""])
def test_project_path_stays_inside(relative: str) -> None:
    with pytest.raises(ValueError, match="relative to the project folder"):
        resources.project_path(relative)
