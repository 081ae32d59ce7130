"""Windows NSIS installer: ``templates/installer.nsi`` rendered for the build and compiled by ``makensis``.

Per-user (no UAC prompt) into ``%LOCALAPPDATA%\\Programs\\NAME``; Start-menu and desktop shortcuts;
file-type and URL-scheme registration under ``HKCU\\Software\\Classes``; an uninstaller that deletes
exactly the files listed at package time (so files a user put there survive) and the user's data
folder only when its box is ticked. The WebView2 runtime is installed when missing from the
evergreen bootstrapper named by ``FLASKDESK_WEBVIEW2_BOOTSTRAPPER`` (the generated workflow
downloads it on the Windows runner; nothing is downloaded at package time). The script compiles
with ``makensis`` on Linux too, which is how it is tested here.
"""

from __future__ import annotations

import re
from pathlib import Path, PureWindowsPath
from typing import Any

from ..host import Host
from . import icons, signing
from .base import (
    AppInfo,
    Job,
    PackagingError,
    Progress,
    Tool,
    fresh_dir,
    render,
    require_tools,
    run_checked,
    safe_filename,
    tree_size,
    walk_dirs,
    walk_files,
)

MAKENSIS = Tool("makensis", "compiles NSIS installers", debian="nsis", homebrew="makensis", chocolatey="nsis")
BOOTSTRAPPER_VAR = "FLASKDESK_WEBVIEW2_BOOTSTRAPPER"


def nsis_string(text: str) -> str:
    """Text safe inside an NSIS double-quoted string (``$`` and ``"`` escaped, one line)."""
    return " ".join(text.split()).replace("$", "$$").replace('"', '$\\"')


def numeric_version(version: str) -> str:
    """``a.b.c.d`` from the first four numbers of ``version`` (Windows version resources need it)."""
    numbers = [str(min(int(n), 65535)) for n in re.findall(r"\d+", version)[:4]]
    return ".".join(numbers + ["0"] * (4 - len(numbers)))


def installer_name(app: AppInfo) -> str:
    """``NAME-VERSION-setup.exe``."""
    return f"{app.name}-{app.version}-setup.exe"


def progid(app: AppInfo, extension: str) -> str:
    """The registry ProgID for one extension (``org.example.App.md``)."""
    return f"{app.identifier}.{extension}"


def script_text(
    app: AppInfo,
    *,
    payload: Path,
    files: list[str],
    folders: list[str],
    output: Path,
    icon: Path | None,
    bootstrapper: Path | None,
    size_kib: int,
) -> str:
    """The ``.nsi`` script (pure): ``files``/``folders`` are the payload's relative paths."""
    file_types: list[dict[str, Any]] = []
    for file_type in app.file_types:
        for extension in file_type.extensions:
            file_types.append(
                {
                    "extension": extension,
                    "progid": progid(app, extension),
                    "description": nsis_string(file_type.name or f"{app.title} document"),
                }
            )
    return render(
        "installer.nsi",
        name=app.name,
        title=nsis_string(app.title),
        shortcut=nsis_string(safe_filename(app.title)),
        version=nsis_string(app.version),
        numeric_version=numeric_version(app.version),
        executable=app.executable,
        identifier=app.identifier,
        publisher=nsis_string(app.vendor),
        output=nsis_string(str(output)),
        icon=nsis_string(str(icon)) if icon else None,
        payload=nsis_string(str(payload / "*")),
        webview2_bootstrapper=nsis_string(str(bootstrapper)) if bootstrapper else None,
        files=[nsis_string(str(PureWindowsPath(f))) for f in files],
        folders=[
            nsis_string(str(PureWindowsPath(f))) for f in sorted(folders, key=lambda f: (-f.count("/"), f))
        ],
        file_types=file_types,
        url_schemes=list(app.url_schemes),
        data_dir=nsis_string(app.data_dir_name or app.name),
        size_kib=size_kib,
    )


def makensis_argv(script: Path) -> list[str]:
    """The exact ``makensis`` command (``-V2``: warnings and errors only; ``-WX``: warnings fail)."""
    return ["makensis", "-V2", "-WX", "-NOCD", str(script)]


class NsisPackager:
    """Builds ``dist/NAME-VERSION-setup.exe`` with ``makensis``."""

    name = "nsis"
    title = "NSIS installer (Windows .exe)"
    platforms = ("win32",)
    hosts = ("win32", "linux", "darwin")

    def tools(self, job: Job) -> tuple[Tool, ...]:
        """makensis."""
        return (MAKENSIS,)

    def package(self, job: Job, host: Host, progress: Progress) -> tuple[Path, ...]:
        """Sign the program, write the script, compile it, sign the installer."""
        require_tools(host, "NSIS installer", self.tools(job))
        app = job.app
        work = fresh_dir(host, job.work_dir)
        bootstrapper = job.env.get(BOOTSTRAPPER_VAR)
        if bootstrapper and not Path(bootstrapper).is_file():
            raise PackagingError(
                f"{BOOTSTRAPPER_VAR}={bootstrapper} does not exist. "
                "Point it at MicrosoftEdgeWebview2Setup.exe."
            )
        if not bootstrapper:
            progress(
                f"warning: {BOOTSTRAPPER_VAR} is not set: when WebView2 is missing the installer opens its "
                "download page instead of installing it"
            )
        payload = work / "payload"
        host.copytree(job.bundle, payload)
        signing.sign(host, "exe", payload / app.executable, job.env, progress)
        icon = icons.write_ico(app.icon, work / "app.ico") if app.icon is not None else None
        job.out_dir.mkdir(parents=True, exist_ok=True)
        output = job.out_dir / installer_name(app)
        script = work / "installer.nsi"
        script.write_text(
            script_text(
                app,
                payload=payload,
                files=[p.as_posix() for p in walk_files(payload)],
                folders=[p.as_posix() for p in walk_dirs(payload)],
                output=output,
                icon=icon,
                bootstrapper=Path(bootstrapper) if bootstrapper else None,
                size_kib=(tree_size(payload) + 1023) // 1024,
            ),
            encoding="utf-8",
        )
        progress(f"compiling {output.name} with makensis")
        run_checked(host, makensis_argv(script), what="makensis", log_file=work / "makensis.log")
        extra = signing.sign(host, "exe", output, job.env, progress)
        return (output, *extra)


PACKAGER = NsisPackager()
