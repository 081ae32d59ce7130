"""AppImage: an AppDir (``AppRun``, ``.desktop``, icon, the build) made one file by ``appimagetool``.

``appimagetool`` is not packaged by Debian and cannot be downloaded here, so when it is missing
the error says so and points at the workflow ``flaskdesk ci`` writes, which fetches it on a
GitHub-hosted Ubuntu runner. A GTK build still uses the system's WebKit2GTK at run time.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..host import Host
from . import freedesktop, icons, signing
from .base import (
    AppInfo,
    Job,
    Progress,
    Tool,
    architecture,
    fresh_dir,
    normalize_modes,
    package_version,
    render,
    require_tools,
    run_checked,
    write_text,
)

APPIMAGETOOL = Tool(
    "appimagetool",
    "turns an AppDir into an AppImage",
    note=(
        "not packaged by Debian or Homebrew: download appimagetool-x86_64.AppImage from "
        "github.com/AppImage/appimagetool/releases, make it executable and put it on PATH as appimagetool; "
        "or let the workflow from `flaskdesk ci` build the AppImage on a GitHub-hosted Ubuntu runner"
    ),
)


def apprun_text(app: AppInfo) -> str:
    """``AppRun``: exec the bundled program with the AppImage's arguments."""
    return render("AppRun", name=app.name, executable=app.executable)


def appimage_name(app: AppInfo, arch: str) -> str:
    """``NAME-VERSION-ARCH.AppImage``."""
    return f"{app.name}-{package_version(app.version)}-{arch}.AppImage"


def appimagetool_argv(appdir: Path, output: Path) -> list[str]:
    """The exact ``appimagetool`` command (no AppStream check: the app ships no metainfo)."""
    return ["appimagetool", "--no-appstream", str(appdir), str(output)]


def build_appdir(job: Job, host: Host, appdir: Path, progress: Progress) -> Path:
    """Lay out the AppDir: ``AppRun``, ``NAME.desktop`` and icon at the top, the build in ``usr/lib/NAME``."""
    app = job.app
    progress("assembling the AppDir")
    host.copytree(job.bundle, appdir / "usr" / "lib" / app.name)
    write_text(appdir / "AppRun", apprun_text(app), mode=0o755)
    desktop = freedesktop.desktop_entry(app)
    write_text(appdir / freedesktop.desktop_file_name(app), desktop)
    write_text(appdir / "usr/share/applications" / freedesktop.desktop_file_name(app), desktop)
    if app.icon is not None:
        icons.write_pngs(app.icon, appdir, app.icon_name)
        icons.write_png(app.icon, appdir / f"{app.icon_name}.png", 256)
        os.symlink(f"{app.icon_name}.png", appdir / ".DirIcon")
    mime = freedesktop.mime_xml(app)
    if mime is not None:
        write_text(appdir / f"usr/share/mime/packages/{app.identifier}.xml", mime)
    normalize_modes(appdir)
    return appdir


class AppImagePackager:
    """Builds ``dist/NAME-VERSION-ARCH.AppImage`` with ``appimagetool``."""

    name = "appimage"
    title = "AppImage"
    platforms = ("linux",)
    hosts = ("linux",)

    def tools(self, job: Job) -> tuple[Tool, ...]:
        """appimagetool."""
        return (APPIMAGETOOL,)

    def package(self, job: Job, host: Host, progress: Progress) -> tuple[Path, ...]:
        """Check the tool, build the AppDir, run appimagetool, sign."""
        require_tools(host, "AppImage", self.tools(job))
        arch = architecture(job.machine, "rpm")
        appdir = build_appdir(job, host, fresh_dir(host, job.work_dir) / f"{job.app.name}.AppDir", progress)
        job.out_dir.mkdir(parents=True, exist_ok=True)
        output = job.out_dir / appimage_name(job.app, arch)
        progress(f"building {output.name} with appimagetool")
        env = {**job.env, "ARCH": arch, "APPIMAGE_EXTRACT_AND_RUN": "1"}
        run_checked(host, appimagetool_argv(appdir, output), what="appimagetool", env=env)
        extra = signing.sign(host, "appimage", output, job.env, progress)
        return (output, *extra)


PACKAGER = AppImagePackager()
