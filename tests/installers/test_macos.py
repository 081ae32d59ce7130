"""macOS: the .app bundle and its Info.plist (assembled here), and the .dmg's need for a macOS runner."""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest

from flaskdesk.host import Host, RecordingHost
from flaskdesk.packaging import dmg, macapp
from flaskdesk.packaging.base import Job, PackagingError, check_can_build

from .conftest import make_app, make_bundle


def test_info_plist_declares_identity_documents_and_urls() -> None:
    app = make_app("notes", None, version="2.1.0rc1")
    plist = macapp.info_plist(app, executable="notes", icon_file="notes.icns")
    assert plist["CFBundleIdentifier"] == app.identifier
    assert (plist["CFBundleShortVersionString"], plist["CFBundleVersion"]) == ("2.1", "2.1.0rc1")
    assert plist["CFBundleDocumentTypes"] == [
        {
            "CFBundleTypeName": "Test note",
            "CFBundleTypeRole": "Editor",
            "CFBundleTypeExtensions": ["fdnote"],
            "CFBundleTypeMIMETypes": ["application/x-notes-fdnote"],
            "LSHandlerRank": "Owner",
        }
    ]
    assert plist["CFBundleURLTypes"] == [
        {"CFBundleURLName": app.identifier, "CFBundleURLSchemes": ["fdnotes"]}
    ]


def _mac_job(tmp_path: Path, icon: Path) -> Job:
    return Job(
        app=make_app("notes", icon),
        bundle=make_bundle(tmp_path / "dist", "notes"),
        out_dir=tmp_path / "dist",
        work_dir=tmp_path / "work" / "app",
        platform="darwin",
        env={},
    )


def test_app_bundle_is_assembled_and_plist_valid(tmp_path: Path, icon: Path) -> None:
    job = _mac_job(tmp_path, icon)
    (bundle,) = macapp.PACKAGER.package(job, Host(allowed_roots=[tmp_path]), lambda line: None)
    assert bundle == tmp_path / "dist" / "macos" / "Test Notes.app"
    contents = bundle / "Contents"
    assert (contents / "MacOS" / "notes").stat().st_mode & 0o111
    assert (contents / "Resources" / "notes.icns").read_bytes()[:4] == b"icns"
    with (contents / "Info.plist").open("rb") as handle:
        plist = plistlib.load(handle)
    assert plist["CFBundleExecutable"] == "notes" and plist["CFBundleIconFile"] == "notes.icns"
    assert (contents / "PkgInfo").read_text() == "APPL????"


def test_pyinstaller_app_is_reused_and_its_plist_completed(tmp_path: Path, icon: Path) -> None:
    job = _mac_job(tmp_path, icon)
    made = tmp_path / "dist" / "notes.app" / "Contents"
    (made / "MacOS").mkdir(parents=True)
    (made / "MacOS" / "notes").write_text("binary")
    (made / "Info.plist").write_bytes(plistlib.dumps({"PyInstallerKey": 1, "CFBundleIdentifier": "old"}))
    (bundle,) = macapp.PACKAGER.package(job, Host(allowed_roots=[tmp_path]), lambda line: None)
    plist = plistlib.loads((bundle / "Contents" / "Info.plist").read_bytes())
    assert plist["PyInstallerKey"] == 1 and plist["CFBundleIdentifier"] == job.app.identifier


def test_dmg_needs_a_macos_runner(tmp_path: Path, icon: Path) -> None:
    job = _mac_job(tmp_path, icon)
    with pytest.raises(PackagingError, match=r"macOS runner \(macos-latest"):
        check_can_build(dmg.PACKAGER, job, host_platform="linux")
    with pytest.raises(PackagingError, match=r"hdiutil \(creates macOS disk images\): part of macOS"):
        dmg.PACKAGER.package(job, RecordingHost(), lambda line: None)


def test_dmg_command() -> None:
    assert dmg.hdiutil_argv("Notes", Path("/s"), Path("/o.dmg")) == [
        "hdiutil", "create", "-volname", "Notes", "-srcfolder", "/s",
        "-ov", "-fs", "HFS+", "-format", "UDZO", "/o.dmg",
    ]  # fmt: skip
