"""The NSIS script: per-user install, exact uninstall list, WebView2, associations; makensis compiles it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flaskdesk.host import Host
from flaskdesk.packaging import nsis
from flaskdesk.packaging.base import AppInfo, Job, PackagingError

from .conftest import make_app, make_bundle


def _script(app: AppInfo, bootstrapper: Path | None = None) -> str:
    return nsis.script_text(
        app,
        payload=Path("/p"),
        files=["Notes.exe", "_internal/a.dll", "_internal/sub/b.txt"],
        folders=["_internal", "_internal/sub"],
        output=Path("/out/setup.exe"),
        icon=None,
        bootstrapper=bootstrapper,
        size_kib=42,
    )


def test_script_is_per_user_and_uninstalls_exactly_what_it_installed() -> None:
    app = make_app("Notes", None, executable="Notes.exe", title='Say "hi" $HOME')
    text = _script(app)
    assert "RequestExecutionLevel user\n" in text
    assert 'InstallDir "$LOCALAPPDATA\\Programs\\${APP_NAME}"' in text
    assert '!define APP_TITLE "Say $\\"hi$\\" $$HOME"' in text
    assert '!define SHORTCUT "Say hi $$HOME"' in text
    uninstall = text.split('Section "-un.Program files"')[1].split("SectionEnd")[0]
    assert [
        line.strip()
        for line in uninstall.splitlines()
        if line.strip().startswith(('Delete "$INSTDIR', "RMDir"))
    ] == [
        'Delete "$INSTDIR\\Notes.exe"',
        'Delete "$INSTDIR\\_internal\\a.dll"',
        'Delete "$INSTDIR\\_internal\\sub\\b.txt"',
        'RMDir "$INSTDIR\\_internal\\sub"',
        'RMDir "$INSTDIR\\_internal"',
        'Delete "$INSTDIR\\uninstall.exe"',
        'RMDir "$INSTDIR"',
    ]
    assert 'Section /o "un.Also delete my data' in text
    assert 'RMDir /r "$LOCALAPPDATA\\Notes"' in text
    assert 'WriteRegStr HKCU "Software\\Classes\\fdnotes" "URL Protocol" ""' in text
    assert "Software\\Classes\\.fdnote\\OpenWithProgids" in text


def test_webview2_bootstrapper_is_embedded_when_given() -> None:
    app = make_app("Notes", None, executable="Notes.exe")
    assert 'File "/oname=$PLUGINSDIR\\MicrosoftEdgeWebview2Setup.exe" "/b/setup.exe"' in _script(
        app, Path("/b/setup.exe")
    )
    without = _script(app)
    assert "MicrosoftEdgeWebview2Setup.exe" not in without and 'ExecShell "open" "${WEBVIEW2_URL}"' in without


def test_numeric_version() -> None:
    assert nsis.numeric_version("1.2.0rc1") == "1.2.0.1"
    assert nsis.numeric_version("3") == "3.0.0.0"


def _windows_job(tmp_path: Path, icon: Path, env: dict[str, str]) -> Job:
    app = make_app("Notes", icon, executable="Notes.exe")
    return Job(
        app=app,
        bundle=make_bundle(tmp_path / "b", "Notes", windows=True),
        out_dir=tmp_path / "dist",
        work_dir=tmp_path / "work" / "nsis",
        platform="win32",
        env=env,
    )


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("makensis") is None, reason="nsis is not installed")
@pytest.mark.parametrize("with_bootstrapper", [True, False])
def test_compiles_with_makensis(tmp_path: Path, icon: Path, with_bootstrapper: bool) -> None:
    env = {}
    if with_bootstrapper:
        (tmp_path / "MicrosoftEdgeWebview2Setup.exe").write_bytes(b"MZ stand-in bootstrapper")
        env["FLASKDESK_WEBVIEW2_BOOTSTRAPPER"] = str(tmp_path / "MicrosoftEdgeWebview2Setup.exe")
    job = _windows_job(tmp_path, icon, env)
    notes: list[str] = []
    (installer,) = nsis.PACKAGER.package(job, Host(allowed_roots=[tmp_path]), notes.append)
    assert installer.name == "Notes-1.2.3-setup.exe"
    assert installer.read_bytes()[:2] == b"MZ" and installer.stat().st_size > 50_000
    assert any("FLASKDESK_WEBVIEW2_BOOTSTRAPPER is not set" in n for n in notes) != with_bootstrapper


def test_missing_bootstrapper_file_is_an_error(tmp_path: Path, icon: Path) -> None:
    job = _windows_job(tmp_path, icon, {"FLASKDESK_WEBVIEW2_BOOTSTRAPPER": str(tmp_path / "nope.exe")})
    with pytest.raises(PackagingError, match="does not exist"):
        nsis.PACKAGER.package(job, Host(allowed_roots=[tmp_path]), lambda line: None)
