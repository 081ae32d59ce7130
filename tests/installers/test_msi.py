"""The MSI: .wxs source with stable GUIDs, built for real with wixl and read back with msitools."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from flaskdesk.host import Host
from flaskdesk.packaging import msi
from flaskdesk.packaging.base import Job

from .conftest import make_app, make_bundle


def test_guids_are_stable_per_identifier_and_path() -> None:
    app = make_app("Notes", None)
    assert msi.guid(app, "a/b.dll") == msi.guid(app, "a/b.dll") != msi.guid(app, "a/c.dll")
    assert msi.guid(app, "x") != msi.guid(make_app("Other", None), "x")


def test_msi_version() -> None:
    assert msi.msi_version("1.2.3rc1") == "1.2.3"
    assert msi.msi_version("300.1") == "255.1.0"


def test_file_tree_nests_directories() -> None:
    tree, components = msi.file_tree(make_app("Notes", None), "payload", ["Notes.exe", "_internal/sub/b.txt"])
    assert len(components) == 2
    lines = [line.strip() for line in tree.splitlines()]
    assert lines[1].startswith('<File Id="fil_') and 'Source="payload/Notes.exe"' in lines[1]
    assert lines[3].startswith('<Directory Id="dir_') and 'Name="_internal"' in lines[3]
    assert lines[4].endswith('Name="sub">')


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("wixl") is None or shutil.which("msiinfo") is None, reason="wixl/msitools missing"
)
def test_builds_with_wixl(tmp_path: Path, icon: Path) -> None:
    app = make_app("Notes", icon, executable="Notes.exe", title='My "Notes" & co')
    job = Job(
        app=app,
        bundle=make_bundle(tmp_path / "b", "Notes", windows=True),
        out_dir=tmp_path / "dist",
        work_dir=tmp_path / "work" / "msi",
        platform="win32",
        env={},
    )
    (package,) = msi.PACKAGER.package(job, Host(allowed_roots=[tmp_path]), lambda line: None)
    assert package.name == "Notes-1.2.3-x64.msi"

    def table(name: str) -> str:
        return subprocess.run(
            ["msiinfo", "export", str(package), name], capture_output=True, text=True
        ).stdout

    assert {"Notes.exe", "helper", "page.html", "baked-config.json"} <= {
        row.split("\t")[2] for row in table("File").splitlines()[3:]
    }
    assert "My Notes & co\tRegistration\t[INSTALLDIR]Notes.exe" in table("Shortcut")
    assert "Software\\Classes\\fdnotes\tURL Protocol" in table("Registry")
    assert f"UpgradeCode\t{{{msi.guid(app, 'upgrade-code')}}}" in table("Property")
