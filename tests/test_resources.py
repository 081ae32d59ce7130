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
