"""Fixtures for the packaging tests: a small fake onedir build (a shell script as the program) and its app."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from flaskdesk.config import FileType
from flaskdesk.packaging.base import AppInfo, Job
from flaskdesk.scaffold.icon import app_icon

#: What the fake program does: record its arguments and create the user's data folder, like the app.
FAKE_PROGRAM = """#!/bin/sh
data="${XDG_DATA_HOME:-$HOME/.local/share}/%(name)s"
mkdir -p "$data"
echo "started with: $*" >> "$data/launches.txt"
"""


def make_bundle(
    root: Path, name: str, *, windows: bool = False, tool: dict[str, object] | None = None
) -> Path:
    """A onedir-shaped folder: the program, ``_internal`` with a real ELF file and the baked config."""
    bundle = root / name
    internal = bundle / "_internal"
    (internal / "flaskdesk").mkdir(parents=True)
    program = bundle / (f"{name}.exe" if windows else name)
    program.write_text(FAKE_PROGRAM % {"name": name}, encoding="utf-8")
    program.chmod(0o755)
    shutil.copy2("/bin/true", internal / "helper")  # a real ELF: needs libc.so.6 from the system
    (internal / "data").mkdir()
    (internal / "data" / "page.html").write_text("<p>hello</p>\n", encoding="utf-8")
    (internal / "data" / "link.html").symlink_to("page.html")
    baked = {
        "tool": {"backend": "qt", **(tool or {"name": name})},
        "project": {"name": name, "version": "1.2.3"},
    }
    (internal / "flaskdesk" / "baked-config.json").write_text(json.dumps(baked), encoding="utf-8")
    return bundle


@pytest.fixture
def icon(tmp_path: Path) -> Path:
    """A 512 px PNG icon."""
    path = tmp_path / "icon.png"
    path.write_bytes(app_icon("flaskdesk tests", 512))
    return path


@pytest.fixture
def unique_name() -> str:
    """A package name nothing on the real system uses (real installs happen in some tests)."""
    return f"fdtest-{uuid.uuid4().hex[:8]}"


def make_app(name: str, icon: Path | None, **changes: object) -> AppInfo:
    """An app with a file type and a URL scheme (the interesting case for every format)."""
    values: dict[str, object] = {
        "name": name,
        "executable": name,
        "title": "Test Notes",
        "version": "1.2.3",
        "identifier": f"org.flaskdesk.{name.replace('-', '_')}",
        "backend": "qt",
        "description": "Notes for testing flaskdesk packages.",
        "maintainer": "Jane Doe <jane@example.org>",
        "homepage": "https://example.org/notes",
        "license": "BSD-3-Clause",
        "icon": icon,
        "file_types": (FileType(("fdnote",), "Test note", None, None, "editor"),),
        "url_schemes": ("fdnotes",),
        "data_dir_name": name,
    }
    values.update(changes)
    return AppInfo(**values)  # type: ignore[arg-type]


@pytest.fixture
def app(unique_name: str, icon: Path) -> AppInfo:
    """The app of :func:`make_app`."""
    return make_app(unique_name, icon)


@pytest.fixture
def job(tmp_path: Path, app: AppInfo) -> Job:
    """A Linux job over a fresh fake bundle, writing into ``tmp_path/dist``."""
    bundle = make_bundle(tmp_path / "build-out", app.name)
    return Job(
        app=app,
        bundle=bundle,
        out_dir=tmp_path / "dist",
        work_dir=tmp_path / "work" / "fmt",
        platform="linux",
        machine="x86_64",
        env={"SOURCE_DATE_EPOCH": "1700000000"},
    )
