"""``flaskdesk doctor``: what this machine has for showing windows, building and packaging.

Every check is a pure function of a :class:`Probe` (imports, shared libraries, programs on
``PATH``, files, the environment), so tests feed a fake probe and compare the exact results;
:class:`SystemProbe` asks the real machine. Each missing piece comes with the exact command that
fixes it. The command exits non-zero when no backend can show a window.
"""

from __future__ import annotations

import ctypes.util
import glob
import importlib
import os
import platform
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Literal, Protocol

import click

from ..errors import BackendError

Level = Literal["required", "optional", "info"]

#: Shared libraries Qt WebEngine's X11 platform plugin loads (Debian package names).
QT_SYSTEM_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("xcb-cursor", "libxcb-cursor0"),
    ("xcb-icccm", "libxcb-icccm4"),
    ("xcb-keysyms", "libxcb-keysyms1"),
    ("xcb-xinerama", "libxcb-xinerama0"),
    ("xkbcommon-x11", "libxkbcommon-x11-0"),
    ("nss3", "libnss3"),
    ("EGL", "libegl1"),
    ("GL", "libgl1"),
)
GTK_TYPELIBS: tuple[tuple[str, str, str], ...] = (
    ("Gtk", "3.0", "gir1.2-gtk-3.0"),
    ("WebKit2", "4.1", "gir1.2-webkit2-4.1"),
)
#: Installer tools: program, Debian package (None: not packaged), what it makes.
INSTALLER_TOOLS: tuple[tuple[str, str | None, str], ...] = (
    ("dpkg-deb", "dpkg", ".deb packages"),
    ("rpmbuild", "rpm", ".rpm packages"),
    ("makensis", "nsis", "Windows .exe installers (NSIS)"),
    ("wixl", "wixl", "Windows .msi installers"),
    ("appimagetool", None, "AppImages"),
)
APPIMAGETOOL_URL = "https://github.com/AppImage/appimagetool/releases"
PYGOBJECT_BUILD_DEPS = ("libgirepository1.0-dev", "libcairo2-dev", "pkg-config", "gobject-introspection")


class Probe(Protocol):
    """What the checks may ask about the machine."""

    platform: str  # sys.platform
    euid: int | None  # None where there is no geteuid (Windows)
    env: Mapping[str, str]

    def import_error(self, module: str) -> str | None:
        """``None`` if ``module`` imports, else why not (one line)."""

    def version(self, distribution: str) -> str | None:
        """The installed version of a distribution, or ``None``."""

    def find_library(self, name: str) -> str | None:
        """``ctypes.util.find_library(name)``."""

    def which(self, program: str) -> str | None:
        """``shutil.which(program)``."""

    def exists(self, path: str) -> bool:
        """Whether ``path`` exists."""

    def glob(self, pattern: str) -> list[str]:
        """``glob.glob(pattern)``."""


@dataclass
class SystemProbe:
    """The real machine."""

    platform: str = sys.platform
    euid: int | None = field(default_factory=lambda: os.geteuid() if hasattr(os, "geteuid") else None)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def import_error(self, module: str) -> str | None:
        try:
            importlib.import_module(module)
        except Exception as error:  # ImportError, or OSError/RuntimeError from a native library
            return f"{type(error).__name__}: {error}".splitlines()[0]
        return None

    def version(self, distribution: str) -> str | None:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            return None

    def find_library(self, name: str) -> str | None:
        return ctypes.util.find_library(name)

    def which(self, program: str) -> str | None:
        return shutil.which(program)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def glob(self, pattern: str) -> list[str]:
        return sorted(glob.glob(pattern))


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, whether it is there, and how to fix it if not."""

    group: str
    label: str
    ok: bool
    detail: str = ""
    fix: str | None = None
    level: Level = "required"
    apt: tuple[str, ...] = ()  # Debian packages that fix it (collected into one command at the end)
    pip: tuple[str, ...] = ()  # pip requirements that fix it


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]
    backends: tuple[str, ...]  # backends that can show a window here
    display: bool

    @property
    def can_show_window(self) -> bool:
        return bool(self.backends) and self.display


def _sudo(probe: Probe) -> str:
    return "" if probe.euid in (0, None) else "sudo "


def apt_command(probe: Probe, packages: Sequence[str]) -> str:
    """The install command for Debian packages (with ``sudo`` unless root)."""
    line = f"{_sudo(probe)}apt-get install -y {' '.join(packages)}"
    if probe.which("apt-get") is None:
        return f"install with your distribution's package manager (on Debian/Ubuntu: {line})"
    return line


def pip_command(requirements: Sequence[str]) -> str:
    return "pip install " + " ".join(f"'{r}'" if any(c in r for c in "<>[]") else r for r in requirements)


def _missing_libraries(probe: Probe, libraries: Sequence[tuple[str, str]]) -> list[str]:
    return [package for name, package in libraries if probe.find_library(name) is None]


def typelib_dirs(probe: Probe) -> list[str]:
    """Where GObject-Introspection looks for ``.typelib`` files."""
    dirs = [d for d in probe.env.get("GI_TYPELIB_PATH", "").split(os.pathsep) if d]
    for pattern in (
        "/usr/lib/girepository-1.0",
        "/usr/lib/*/girepository-1.0",
        "/usr/lib64/girepository-1.0",
        "/usr/local/lib/girepository-1.0",
        "/usr/local/lib/*/girepository-1.0",
    ):
        dirs.extend(probe.glob(pattern) if "*" in pattern else [pattern])
    return dirs


def has_typelib(probe: Probe, namespace: str, version: str) -> bool:
    return any(probe.exists(os.path.join(d, f"{namespace}-{version}.typelib")) for d in typelib_dirs(probe))


def check_pywebview(probe: Probe) -> list[Check]:
    error = probe.import_error("webview")
    return [
        Check(
            "Window",
            "pywebview",
            error is None,
            probe.version("pywebview") or error or "",
            None if error is None else pip_command(["pywebview"]),
            pip=() if error is None else ("pywebview",),
        )
    ]


def check_qt(probe: Probe) -> tuple[list[Check], bool]:
    """The Qt backend: a binding with WebEngine, QtPy, and (on Linux) the X11 libraries."""
    group = "Qt backend"
    checks: list[Check] = []
    binding = None
    for name, engine, dists in (
        ("PyQt6", "PyQt6.QtWebEngineWidgets", ("PyQt6", "PyQt6-WebEngine")),
        ("PySide6", "PySide6.QtWebEngineWidgets", ("PySide6",)),
    ):
        if probe.import_error(name) is None:
            error = probe.import_error(engine)
            version = probe.version(dists[0]) or ""
            if error is None:
                binding = name
                checks.append(Check(group, f"{name} with WebEngine", True, version))
                break
            checks.append(
                Check(
                    group,
                    f"{name} WebEngine",
                    False,
                    error,
                    pip_command([dists[-1] if name == "PyQt6" else "PySide6-WebEngine"]),
                    pip=(dists[-1] if name == "PyQt6" else "PySide6-WebEngine",),
                )
            )
    if binding is None and not checks:
        checks.append(
            Check(
                group,
                "PyQt6 + PyQt6-WebEngine",
                False,
                "not installed",
                pip_command(["flaskdesk[qt]"]),
                pip=("flaskdesk[qt]",),
            )
        )
    qtpy_error = probe.import_error("qtpy")
    checks.append(
        Check(
            group,
            "QtPy",
            qtpy_error is None,
            probe.version("QtPy") or qtpy_error or "",
            None if qtpy_error is None else pip_command(["qtpy"]),
            pip=() if qtpy_error is None else ("qtpy",),
        )
    )
    libs_ok = True
    if probe.platform.startswith("linux"):
        missing = _missing_libraries(probe, QT_SYSTEM_LIBRARIES)
        libs_ok = not missing
        checks.append(
            Check(
                group,
                "system libraries (xcb, nss, GL)",
                libs_ok,
                "all found" if libs_ok else "missing " + ", ".join(missing),
                None if libs_ok else apt_command(probe, missing),
                apt=tuple(missing),
            )
        )
    return checks, binding is not None and qtpy_error is None and libs_ok


def check_gtk(probe: Probe) -> tuple[list[Check], bool]:
    """The GTK backend (Linux): PyGObject and the GTK 3 / WebKit2GTK 4.1 typelibs."""
    group = "GTK backend"
    if not probe.platform.startswith("linux"):
        return [], False
    checks: list[Check] = []
    gi_error = probe.import_error("gi")
    gi_fix = (
        f"{apt_command(probe, PYGOBJECT_BUILD_DEPS)} && {pip_command(['PyGObject<3.51'])}"
        f"  (or a venv made with --system-site-packages and {apt_command(probe, ['python3-gi'])})"
    )
    checks.append(
        Check(
            group,
            "PyGObject (gi)",
            gi_error is None,
            probe.version("PyGObject") or gi_error or "",
            None if gi_error is None else gi_fix,
            apt=() if gi_error is None else PYGOBJECT_BUILD_DEPS,
            pip=() if gi_error is None else ("PyGObject<3.51",),
        )
    )
    missing = [
        package for namespace, version, package in GTK_TYPELIBS if not has_typelib(probe, namespace, version)
    ]
    checks.append(
        Check(
            group,
            "GTK 3 and WebKit2GTK 4.1 typelibs",
            not missing,
            "found" if not missing else "missing " + ", ".join(missing),
            None if not missing else apt_command(probe, missing),
            apt=tuple(missing),
        )
    )
    return checks, gi_error is None and not missing


def check_root(probe: Probe) -> list[Check]:
    if probe.euid != 0:
        return []
    return [
        Check(
            "Window",
            "running as root",
            True,
            "Qt WebEngine's sandbox cannot run as root; flaskdesk adds --no-sandbox for you "
            "(better: run apps as a normal user)",
            level="info",
        )
    ]


def has_display(probe: Probe) -> tuple[bool, str]:
    """Whether a window can appear: always on Windows/macOS; on Linux an X or Wayland display."""
    if not probe.platform.startswith("linux"):
        return True, "the desktop"
    env = probe.env
    wayland = env.get("WAYLAND_DISPLAY")
    if wayland:
        runtime = env.get("XDG_RUNTIME_DIR", "")
        socket = wayland if os.path.isabs(wayland) else os.path.join(runtime, wayland)
        if probe.exists(socket):
            return True, f"Wayland {wayland}"
    display = env.get("DISPLAY")
    if display:
        host, _, rest = display.partition(":")
        number = rest.split(".")[0]
        if host in ("", "unix") and number.isdigit() and not probe.exists(f"/tmp/.X11-unix/X{number}"):
            return False, f"DISPLAY={display} is set but no X server listens there"
        return True, f"X11 {display}"
    if env.get("QT_QPA_PLATFORM") == "offscreen":
        return True, "Qt offscreen (no visible window)"
    return False, "no DISPLAY or WAYLAND_DISPLAY"


def check_display(probe: Probe) -> tuple[list[Check], bool]:
    ok, detail = has_display(probe)
    fix = None
    if not ok:
        xvfb = "" if probe.which("xvfb-run") else f"{apt_command(probe, ['xvfb', 'xauth'])}, then "
        fix = f"{xvfb}xvfb-run -a flaskdesk run  (or: flaskdesk run --browser)"
    return [
        Check(
            "Window",
            "display",
            ok,
            detail,
            fix,
            apt=() if ok or probe.which("xvfb-run") else ("xvfb", "xauth"),
        )
    ], ok


def check_build(probe: Probe) -> list[Check]:
    error = probe.import_error("PyInstaller")
    return [
        Check(
            "Build (flaskdesk build)",
            "PyInstaller",
            error is None,
            probe.version("pyinstaller") or error or "",
            None if error is None else pip_command(["pyinstaller>=6.10"]),
            level="optional",
            pip=() if error is None else ("pyinstaller>=6.10",),
        )
    ]


def check_installers(probe: Probe) -> list[Check]:
    group = "Installers (flaskdesk package)"
    checks: list[Check] = []
    tools = list(INSTALLER_TOOLS)
    if probe.platform == "darwin":
        tools = [("hdiutil", None, ".dmg disk images"), ("pkgbuild", None, ".pkg installers")]
    elif probe.platform == "win32":
        tools = [(t, p, what) for t, p, what in INSTALLER_TOOLS if t in ("makensis", "wixl")]
    for program, package, what in tools:
        found = probe.which(program)
        if found:
            fix = None
        elif program == "appimagetool":
            fix = f"download appimagetool from {APPIMAGETOOL_URL}, make it executable and put it on PATH"
        elif package is None:
            fix = f"install the {program} command (it comes with the operating system's developer tools)"
        else:
            fix = apt_command(probe, [package])
        checks.append(
            Check(
                group,
                f"{program} ({what})",
                found is not None,
                found or "not found",
                fix,
                level="optional",
                apt=(package,) if package and not found else (),
            )
        )
    return checks


def diagnose(probe: Probe) -> Report:
    """Run every check against ``probe``."""
    checks: list[Check] = []
    checks += check_pywebview(probe)
    display_checks, display_ok = check_display(probe)
    checks += display_checks
    checks += check_root(probe)
    webview_ok = checks[0].ok
    backends: list[str] = []
    if probe.platform.startswith("linux"):
        qt_checks, qt_ok = check_qt(probe)
        gtk_checks, gtk_ok = check_gtk(probe)
        checks += qt_checks + gtk_checks
        backends += [name for name, ok in (("qt", qt_ok), ("gtk", gtk_ok)) if ok and webview_ok]
    elif webview_ok:
        backends.append("native")
    checks += check_build(probe)
    checks += check_installers(probe)
    return Report(tuple(checks), tuple(backends), display_ok)


def render(report: Report, probe: Probe, *, python: str) -> list[str]:
    """The report as lines of text (no colour): what ``flaskdesk doctor`` prints."""
    lines = [f"flaskdesk doctor: {probe.platform}, Python {python}"]
    group = None
    for check in report.checks:
        if check.group != group:
            group = check.group
            lines += ["", group]
        mark = "✓" if check.ok else ("✗" if check.level == "required" else "-")
        if check.level == "info":
            mark = "!"
        lines.append(f"  {mark} {check.label}" + (f": {check.detail}" if check.detail else ""))
        if check.fix and not check.ok:
            lines.append(f"      fix: {check.fix}")
    lines.append("")
    if report.can_show_window:
        lines.append(f"Windows can be shown here with: {', '.join(report.backends)}.")
    elif report.backends:
        ready = " and ".join(report.backends)
        lines.append(
            f"No display: {ready} can run, but there is nowhere to show a window (see 'display' above)."
        )
    else:
        lines.append("No window backend works here: fix the Qt or the GTK lines above (one is enough).")
    apt = sorted({p for c in report.checks if not c.ok and c.level == "required" for p in c.apt})
    pip = sorted({p for c in report.checks if not c.ok and c.level == "required" for p in c.pip})
    if not report.can_show_window and (apt or pip):
        lines.append("Everything a window needs, in one go:")
        if apt:
            lines.append(f"  {apt_command(probe, apt)}")
        if pip:
            lines.append(f"  {pip_command(pip)}")
    return lines


@click.command("doctor")
def doctor_command() -> None:
    """Check this machine for window backends, a display, PyInstaller and installer tools.

    Prints each with ✓ or ✗ and the command that fixes it; exits with status 1 when no backend
    can show a window here.
    """
    probe = SystemProbe()
    report = diagnose(probe)
    for line in render(report, probe, python=platform.python_version()):
        if line.startswith("  ✓") or line.startswith("Windows can"):
            click.secho(line, fg="green")
        elif line.startswith("  ✗") or line.startswith("No "):
            click.secho(line, fg="red")
        elif line.startswith("      fix:") or line.startswith("  !"):
            click.secho(line, fg="yellow")
        else:
            click.echo(line)
    if not report.can_show_window:
        raise BackendError("nothing on this machine can show a window yet; the fixes are listed above.")
