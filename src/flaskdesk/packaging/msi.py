"""Windows MSI: ``templates/main.wxs`` rendered for the build, compiled by ``wixl`` (or WiX 3 on Windows).

Per-machine, for administrators who deploy MSIs (the NSIS installer is the per-user one). Every
file is its own component with a GUID derived from the app identifier and the path, so upgrades
(``MajorUpgrade`` with an ``UpgradeCode`` derived from the identifier) replace exactly what the
previous version installed. User data in ``%LOCALAPPDATA%`` is never touched by an MSI uninstall.
"""

from __future__ import annotations

import hashlib
import re
import sys
import uuid
from pathlib import Path, PurePosixPath

from ..host import Host
from . import icons, signing
from .base import (
    AppInfo,
    Job,
    Progress,
    Tool,
    fresh_dir,
    render,
    require_tools,
    run_checked,
    safe_filename,
    walk_files,
    xml_escape,
)

WIXL = Tool("wixl", "builds MSI installers on Linux/macOS", debian="wixl", homebrew="msitools")
CANDLE = Tool("candle", "compiles WiX sources (WiX 3)", chocolatey="wixtoolset")
LIGHT = Tool("light", "links MSI installers (WiX 3)", chocolatey="wixtoolset")
_NAMESPACE = uuid.UUID("8f3c6a52-5d0e-4b8e-9f3e-7d1c1f2a9b10")


def tools_for_host(host_platform: str) -> tuple[Tool, ...]:
    """WiX 3 on Windows (Chocolatey ``wixtoolset``), msitools' ``wixl`` elsewhere."""
    return (CANDLE, LIGHT) if host_platform == "win32" else (WIXL,)


def guid(app: AppInfo, what: str) -> str:
    """A stable GUID for ``what`` of this app (same identifier + path → same GUID, every build)."""
    return str(uuid.uuid5(_NAMESPACE, f"{app.identifier}/{what}")).upper()


def msi_version(version: str) -> str:
    """``major.minor.build`` within MSI's limits (255.255.65535)."""
    numbers = [int(n) for n in re.findall(r"\d+", version)[:3]] + [0, 0, 0]
    return f"{min(numbers[0], 255)}.{min(numbers[1], 255)}.{min(numbers[2], 65535)}"


def _id(kind: str, rel: str) -> str:
    return f"{kind}_{hashlib.sha1(rel.encode(), usedforsecurity=False).hexdigest()[:16]}"


def file_tree(app: AppInfo, payload: str, files: list[str]) -> tuple[str, list[str]]:
    """The nested ``<Directory>``/``<Component>``/``<File>`` XML and the component ids (pure).

    ``payload`` is the payload folder relative to the ``.wxs`` (wixl accepts only relative sources).
    """
    by_dir: dict[str, list[str]] = {}
    for rel in files:
        by_dir.setdefault(str(PurePosixPath(rel).parent), []).append(rel)
    subdirs: dict[str, list[str]] = {}
    for folder in sorted(by_dir):
        parts = PurePosixPath(folder).parts if folder != "." else ()
        for depth in range(len(parts)):
            parent = "/".join(parts[:depth]) or "."
            child = "/".join(parts[: depth + 1])
            if child not in subdirs.setdefault(parent, []):
                subdirs[parent].append(child)
    components: list[str] = []

    def emit(folder: str, indent: str) -> list[str]:
        lines: list[str] = []
        for rel in sorted(by_dir.get(folder, [])):
            component = _id("cmp", rel)
            components.append(component)
            source = xml_escape(f"{payload}/{rel}")
            lines.append(f'{indent}<Component Id="{component}" Guid="{guid(app, rel)}" Win64="yes">')
            lines.append(
                f'{indent}  <File Id="{_id("fil", rel)}" Name="{xml_escape(PurePosixPath(rel).name)}" '
                f'Source="{source}" KeyPath="yes"/>'
            )
            lines.append(f"{indent}</Component>")
        for child in sorted(subdirs.get(folder, [])):
            lines.append(
                f'{indent}<Directory Id="{_id("dir", child)}" Name="{xml_escape(PurePosixPath(child).name)}">'
            )
            lines += emit(child, indent + "  ")
            lines.append(f"{indent}</Directory>")
        return lines

    return "\n".join(emit(".", " " * 10)), components


def wxs_text(app: AppInfo, *, payload: str, files: list[str], icon: str | None) -> str:
    """The ``.wxs`` source (pure); ``payload`` and ``icon`` relative to the ``.wxs`` folder."""
    tree, components = file_tree(app, payload, files)
    file_types = [
        {
            "extension": ext,
            "progid": f"{app.identifier}.{ext}",
            "description": ft.name or f"{app.title} document",
        }
        for ft in app.file_types
        for ext in ft.extensions
    ]
    return render(
        "main.wxs",
        title=app.title,
        shortcut=safe_filename(app.title),
        name=app.name,
        version=app.version,
        msi_version=msi_version(app.version),
        publisher=app.vendor,
        identifier=app.identifier,
        executable=app.executable,
        upgrade_code=guid(app, "upgrade-code"),
        registration_guid=guid(app, "registration"),
        icon=icon,
        tree=tree,
        components=components,
        file_types=file_types,
        url_schemes=list(app.url_schemes),
    )


def msi_name(app: AppInfo) -> str:
    """``NAME-VERSION-x64.msi``."""
    return f"{app.name}-{app.version}-x64.msi"


def build_argvs(wxs: Path, output: Path, *, wixl: bool) -> list[list[str]]:
    """The exact commands: ``wixl`` alone, or WiX 3's ``candle`` then ``light``."""
    if wixl:
        return [["wixl", "--arch", "x64", "-o", str(output), str(wxs)]]
    obj = wxs.with_suffix(".wixobj")
    return [
        ["candle", "-nologo", "-arch", "x64", "-out", str(obj), str(wxs)],
        ["light", "-nologo", "-sval", "-out", str(output), str(obj)],
    ]


class MsiPackager:
    """Builds ``dist/NAME-VERSION-x64.msi`` with wixl (Linux) or WiX 3 (Windows)."""

    name = "msi"
    title = "MSI installer (Windows)"
    platforms = ("win32",)
    hosts = ("win32", "linux", "darwin")

    def tools(self, job: Job) -> tuple[Tool, ...]:
        """wixl off Windows; candle and light (WiX 3) on a Windows host."""
        return tools_for_host(sys.platform)

    def package(self, job: Job, host: Host, progress: Progress) -> tuple[Path, ...]:
        """Sign the program, write the .wxs, build, sign the MSI."""
        tools = self.tools(job)
        require_tools(host, "MSI", tools)
        app = job.app
        work = fresh_dir(host, job.work_dir)
        payload = work / "payload"
        host.copytree(job.bundle, payload)
        signing.sign(host, "exe", payload / app.executable, job.env, progress)
        icon = icons.write_ico(app.icon, work / "app.ico") if app.icon is not None else None
        wxs = work / "main.wxs"
        files = [p.as_posix() for p in walk_files(payload)]
        wxs.write_text(
            wxs_text(app, payload="payload", files=files, icon=icon.name if icon else None), encoding="utf-8"
        )
        job.out_dir.mkdir(parents=True, exist_ok=True)
        output = job.out_dir / msi_name(app)
        for argv in build_argvs(wxs, output, wixl=tools == (WIXL,)):
            progress(f"running {argv[0]}")
            run_checked(host, argv, what=argv[0], cwd=work)
        extra = signing.sign(host, "msi", output, job.env, progress)
        return (output, *extra)


PACKAGER = MsiPackager()
