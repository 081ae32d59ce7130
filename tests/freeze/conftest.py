"""Fixtures for the freeze tests: the blueprint-in-an-installed-package project, ready to build."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "freeze_blueprint_pkg"
EXT_SRC = FIXTURE / "ext" / "src"


@pytest.fixture(scope="session")
def installed_ext() -> Path:
    """``fdbp_ext`` installed (editable) in this environment, as a real extension would be.

    Installed once; the probe and PyInstaller run in child processes, which pick up the new
    ``.pth`` file even when this process started before it existed.
    """
    if importlib.util.find_spec("fdbp_ext") is None:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--no-build-isolation",
                "-e",
                str(FIXTURE / "ext"),
            ],
            check=True,
        )
    return EXT_SRC


@pytest.fixture
def demo_project(tmp_path: Path, installed_ext: Path) -> Path:
    """A fresh copy of the fixture app project (builds write build/ and dist/ inside it)."""
    target = tmp_path / "demo"
    shutil.copytree(FIXTURE / "app", target)
    return target


@pytest.fixture
def demo_importable(monkeypatch: pytest.MonkeyPatch, installed_ext: Path) -> Iterator[None]:
    """Make ``demoapp`` and ``fdbp_ext`` importable in this process (for in-process tests)."""
    monkeypatch.syspath_prepend(str(FIXTURE / "app"))
    monkeypatch.syspath_prepend(str(installed_ext))
    yield
    for name in [m for m in sys.modules if m.split(".")[0] in ("demoapp", "fdbp_ext")]:
        del sys.modules[name]
