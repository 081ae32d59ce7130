"""macOS ``.app``: ``Contents/MacOS``, ``Info.plist`` (identifier, version, document/URL types), ``.icns``.

On macOS ``flaskdesk build`` already has PyInstaller write ``dist/NAME.app`` (its layout keeps
code signing happy); that bundle is copied and its ``Info.plist`` completed with what
``[tool.flaskdesk]`` declares. Without it (tests on Linux), the bundle is assembled from the
onedir folder. The plist is planned as a dict (:func:`info_plist`) and written with
:mod:`plistlib`, so it is always valid.
"""

from __future__ import annotations

import plistlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..host import Host
from . import icons, signing
from .base import (
    AppInfo,
    Job,
    PackagingError,
    Progress,
    Tool,
    mime_type_for,
    safe_filename,
    write_text,
)

#: Oldest macOS the plist claims (PyInstaller 6 and Python 3.11 wheels target 10.13+ / 11+).
MINIMUM_SYSTEM = "10.13"


def bundle_name(app: AppInfo) -> str:
    """``Title.app``: the name Finder and the Dock show."""
    return f"{safe_filename(app.title)}.app"


def info_plist(app: AppInfo, *, executable: str, icon_file: str | None) -> dict[str, Any]:
    """The ``Info.plist`` keys flaskdesk sets (pure)."""
    numbers = [part for part in app.version.split(".") if part.isdigit()][:3] or ["0"]
    plist: dict[str, Any] = {
        "CFBundleDevelopmentRegion": "en",
        "CFBundleDisplayName": app.title,
        "CFBundleExecutable": executable,
        "CFBundleIdentifier": app.identifier,
        "CFBundleInfoDictionaryVersion": "6.0",
        "CFBundleName": app.title[:15],
        "CFBundlePackageType": "APPL",
        "CFBundleShortVersionString": ".".join(numbers),
        "CFBundleVersion": app.version,
        "LSMinimumSystemVersion": MINIMUM_SYSTEM,
        "NSHighResolutionCapable": True,
        "NSSupportsAutomaticGraphicsSwitching": True,
        "NSAppTransportSecurity": {"NSAllowsLocalNetworking": True},
    }
    if icon_file is not None:
        plist["CFBundleIconFile"] = icon_file
    if app.file_types:
        plist["CFBundleDocumentTypes"] = [
            {
                "CFBundleTypeName": ft.name or f"{app.title} document",
                "CFBundleTypeRole": "Editor" if ft.role == "editor" else "Viewer",
                "CFBundleTypeExtensions": list(ft.extensions),
                "CFBundleTypeMIMETypes": [mime_type_for(app, ft)],
                "LSHandlerRank": "Owner" if ft.mime_type is None else "Alternate",
            }
            for ft in app.file_types
        ]
    if app.url_schemes:
        plist["CFBundleURLTypes"] = [
            {"CFBundleURLName": app.identifier, "CFBundleURLSchemes": list(app.url_schemes)}
        ]
    return plist


def merged_plist(existing: Mapping[str, Any], ours: Mapping[str, Any]) -> dict[str, Any]:
    """PyInstaller's plist with flaskdesk's keys on top (pure)."""
    return {**existing, **ours}


def assemble(job: Job, host: Host, target: Path, progress: Progress) -> Path:
    """Write ``target`` (``Title.app``) from PyInstaller's ``.app`` if present, else from the onedir build."""
    app = job.app
    pyinstaller_app = job.bundle.parent / f"{app.name}.app"
    contents = target / "Contents"
    if pyinstaller_app.is_dir():
        progress(f"copying {pyinstaller_app.name}")
        host.copytree(pyinstaller_app, target)
        executable = app.name
    else:
        progress("assembling the .app from the onedir build")
        host.copytree(job.bundle, contents / "MacOS")
        executable = app.executable
    if not (contents / "MacOS" / executable).is_file():
        raise PackagingError(
            f"{contents / 'MacOS' / executable} is missing: run `flaskdesk build` on macOS first."
        )
    icon_file = None
    if app.icon is not None:
        icon_file = f"{app.name}.icns"
        icons.write_icns(app.icon, contents / "Resources" / icon_file)
    plist_path = contents / "Info.plist"
    existing: dict[str, Any] = {}
    if plist_path.is_file():
        with plist_path.open("rb") as handle:
            existing = plistlib.load(handle)
    plist = merged_plist(existing, info_plist(app, executable=executable, icon_file=icon_file))
    plist_path.write_bytes(plistlib.dumps(plist, sort_keys=True))
    write_text(contents / "PkgInfo", "APPL????")
    return target


class AppBundlePackager:
    """Writes ``dist/macos/Title.app``."""

    name = "app"
    title = "macOS .app bundle"
    platforms = ("darwin",)
    hosts = ("darwin", "linux")

    def tools(self, job: Job) -> tuple[Tool, ...]:
        """None (codesign only when signing is asked for)."""
        return ()

    def package(self, job: Job, host: Host, progress: Progress) -> tuple[Path, ...]:
        """Assemble (replacing an older ``dist/macos/Title.app``) and sign."""
        target = job.out_dir / "macos" / bundle_name(job.app)
        host.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        assemble(job, host, target, progress)
        signing.sign(host, "app", target, job.env, progress)
        return (target,)


PACKAGER = AppBundlePackager()
