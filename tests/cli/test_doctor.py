"""``flaskdesk doctor``: the checks against fake machines, then one real run here."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from flaskdesk.cli.doctor import (
    QT_SYSTEM_LIBRARIES,
    Probe,
    apt_command,
    diagnose,
    has_display,
    render,
)

ALL_LIBS = frozenset(name for name, _ in QT_SYSTEM_LIBRARIES)
TYPELIB_DIR = "/usr/lib/x86_64-linux-gnu/girepository-1.0"
ALL_MODULES = frozenset({"webview", "PyQt6", "PyQt6.QtWebEngineWidgets", "qtpy", "gi", "PyInstaller"})
DISTRIBUTIONS = {
    "pywebview": "webview",
    "PyQt6": "PyQt6",
    "QtPy": "qtpy",
    "PyGObject": "gi",
    "pyinstaller": "PyInstaller",
}
VERSIONS = {
    "pywebview": "6.2.1",
    "PyQt6": "6.11.0",
    "QtPy": "2.4.3",
    "PyGObject": "3.50.2",
    "pyinstaller": "6.22.3",
}
ALL_PROGRAMS = frozenset({"apt-get", "xvfb-run", "dpkg-deb", "rpmbuild", "makensis", "wixl", "appimagetool"})


@dataclass
class FakeProbe:
    """A machine described by what it has."""

    platform: str = "linux"
    euid: int | None = 0
    env: Mapping[str, str] = field(default_factory=lambda: {"DISPLAY": ":0"})
    modules: frozenset[str] = ALL_MODULES
    libraries: frozenset[str] = ALL_LIBS
    programs: frozenset[str] = ALL_PROGRAMS
    files: frozenset[str] = frozenset(
        {"/tmp/.X11-unix/X0", f"{TYPELIB_DIR}/Gtk-3.0.typelib", f"{TYPELIB_DIR}/WebKit2-4.1.typelib"}
    )

    def import_error(self, module: str) -> str | None:
        return None if module in self.modules else f"ModuleNotFoundError: No module named '{module}'"

    def version(self, distribution: str) -> str | None:
        module = DISTRIBUTIONS.get(distribution)
        return VERSIONS.get(distribution) if module in self.modules else None

    def find_library(self, name: str) -> str | None:
        return f"lib{name}.so" if name in self.libraries else None

    def which(self, program: str) -> str | None:
        return f"/usr/bin/{program}" if program in self.programs else None

    def exists(self, path: str) -> bool:
        return path in self.files

    def glob(self, pattern: str) -> list[str]:
        return [TYPELIB_DIR] if pattern == "/usr/lib/*/girepository-1.0" else []


def _probe(**changes: object) -> Probe:
    return FakeProbe(**changes)  # type: ignore[arg-type]


def _failed(probe: Probe) -> dict[str, str | None]:
    return {c.label: c.fix for c in diagnose(probe).checks if not c.ok}


def test_a_complete_machine() -> None:
    report = diagnose(_probe())
    assert report.can_show_window
    assert report.backends == ("qt", "gtk")
    assert [c.label for c in report.checks if not c.ok] == []


def test_root_is_noted_with_the_sandbox_flag() -> None:
    lines = render(diagnose(_probe()), _probe(), python="3.11.7")
    assert any(line.startswith("  ! running as root:") and "--no-sandbox" in line for line in lines)
    assert not any(
        "running as root" in line for line in render(diagnose(_probe(euid=1000)), _probe(), python="3")
    )


def test_missing_qt_libraries_name_the_packages() -> None:
    probe = _probe(libraries=ALL_LIBS - {"xcb-cursor", "nss3"})
    report = diagnose(probe)
    assert report.backends == ("gtk",)
    assert _failed(probe) == {"system libraries (xcb, nss, GL)": "apt-get install -y libxcb-cursor0 libnss3"}


def test_not_root_gets_sudo_and_no_apt_gets_a_hint() -> None:
    assert apt_command(_probe(euid=1000), ["libnss3"]) == "sudo apt-get install -y libnss3"
    no_apt = apt_command(_probe(euid=1000, programs=frozenset()), ["libnss3"])
    assert no_apt == (
        "install with your distribution's package manager (on Debian/Ubuntu: sudo apt-get install -y libnss3)"
    )


def test_nothing_can_show_a_window() -> None:
    probe = _probe(modules=frozenset({"webview"}), files=frozenset({"/tmp/.X11-unix/X0"}))
    report = diagnose(probe)
    assert not report.can_show_window
    assert report.backends == ()
    failed = _failed(probe)
    assert failed["PyQt6 + PyQt6-WebEngine"] == "pip install 'flaskdesk[qt]'"
    assert failed["QtPy"] == "pip install qtpy"
    assert (
        failed["GTK 3 and WebKit2GTK 4.1 typelibs"] == "apt-get install -y gir1.2-gtk-3.0 gir1.2-webkit2-4.1"
    )
    assert failed["PyGObject (gi)"].startswith(
        "apt-get install -y libgirepository1.0-dev libcairo2-dev pkg-config gobject-introspection && "
        "pip install 'PyGObject<3.51'"
    )
    lines = render(report, probe, python="3.11.7")
    assert "No window backend works here: fix the Qt or the GTK lines above (one is enough)." in lines
    assert "Everything a window needs, in one go:" in lines


def test_webengine_missing_from_an_installed_pyqt() -> None:
    probe = _probe(modules=ALL_MODULES - {"PyQt6.QtWebEngineWidgets"})
    assert _failed(probe) == {"PyQt6 WebEngine": "pip install PyQt6-WebEngine"}
    assert diagnose(probe).backends == ("gtk",)


def test_pyside_counts_as_qt() -> None:
    probe = _probe(
        modules=(ALL_MODULES - {"PyQt6", "PyQt6.QtWebEngineWidgets"})
        | {"PySide6", "PySide6.QtWebEngineWidgets"}
    )
    assert diagnose(probe).backends == ("qt", "gtk")


def test_typelibs_found_through_gi_typelib_path() -> None:
    probe = _probe(
        env={"DISPLAY": ":0", "GI_TYPELIB_PATH": "/opt/gi"},
        files=frozenset({"/tmp/.X11-unix/X0", "/opt/gi/Gtk-3.0.typelib", "/opt/gi/WebKit2-4.1.typelib"}),
    )
    probe.glob = lambda pattern: []  # type: ignore[method-assign]
    assert diagnose(probe).backends == ("qt", "gtk")


@pytest.mark.parametrize(
    ("env", "files", "expected"),
    [
        ({}, set(), (False, "no DISPLAY or WAYLAND_DISPLAY")),
        ({"DISPLAY": ":0"}, {"/tmp/.X11-unix/X0"}, (True, "X11 :0")),
        ({"DISPLAY": ":5.0"}, set(), (False, "DISPLAY=:5.0 is set but no X server listens there")),
        ({"DISPLAY": "otherhost:0"}, set(), (True, "X11 otherhost:0")),
        (
            {"WAYLAND_DISPLAY": "wayland-0", "XDG_RUNTIME_DIR": "/run/user/1"},
            {"/run/user/1/wayland-0"},
            (True, "Wayland wayland-0"),
        ),
        (
            {"WAYLAND_DISPLAY": "wayland-0", "XDG_RUNTIME_DIR": "/run/user/1"},
            set(),
            (False, "no DISPLAY or WAYLAND_DISPLAY"),
        ),
        ({"QT_QPA_PLATFORM": "offscreen"}, set(), (True, "Qt offscreen (no visible window)")),
    ],
)
def test_display_detection(env: dict[str, str], files: set[str], expected: tuple[bool, str]) -> None:
    assert has_display(_probe(env=env, files=frozenset(files))) == expected


def test_no_display_suggests_xvfb_and_browser() -> None:
    probe = _probe(env={})
    report = diagnose(probe)
    assert not report.can_show_window and report.backends == ("qt", "gtk")
    assert _failed(probe) == {"display": "xvfb-run -a flaskdesk run  (or: flaskdesk run --browser)"}
    no_xvfb = _probe(env={}, programs=ALL_PROGRAMS - {"xvfb-run"})
    assert _failed(no_xvfb)["display"] == (
        "apt-get install -y xvfb xauth, then xvfb-run -a flaskdesk run  (or: flaskdesk run --browser)"
    )


def test_build_and_installer_tools_are_optional() -> None:
    probe = _probe(modules=ALL_MODULES - {"PyInstaller"}, programs=frozenset({"apt-get", "xvfb-run"}))
    report = diagnose(probe)
    assert report.can_show_window
    assert _failed(probe) == {
        "PyInstaller": "pip install 'pyinstaller>=6.10'",
        "dpkg-deb (.deb packages)": "apt-get install -y dpkg",
        "rpmbuild (.rpm packages)": "apt-get install -y rpm",
        "makensis (Windows .exe installers (NSIS))": "apt-get install -y nsis",
        "wixl (Windows .msi installers)": "apt-get install -y wixl",
        "appimagetool (AppImages)": (
            "download appimagetool from https://github.com/AppImage/appimagetool/releases, make it "
            "executable and put it on PATH"
        ),
    }


def test_render_exact_output() -> None:
    probe = _probe(euid=1000, libraries=ALL_LIBS - {"xcb-cursor"}, programs=ALL_PROGRAMS - {"appimagetool"})
    assert render(diagnose(probe), probe, python="3.11.7") == [
        "flaskdesk doctor: linux, Python 3.11.7",
        "",
        "Window",
        "  ✓ pywebview: 6.2.1",
        "  ✓ display: X11 :0",
        "",
        "Qt backend",
        "  ✓ PyQt6 with WebEngine: 6.11.0",
        "  ✓ QtPy: 2.4.3",
        "  ✗ system libraries (xcb, nss, GL): missing libxcb-cursor0",
        "      fix: sudo apt-get install -y libxcb-cursor0",
        "",
        "GTK backend",
        "  ✓ PyGObject (gi): 3.50.2",
        "  ✓ GTK 3 and WebKit2GTK 4.1 typelibs: found",
        "",
        "Build (flaskdesk build)",
        "  ✓ PyInstaller: 6.22.3",
        "",
        "Installers (flaskdesk package)",
        "  ✓ dpkg-deb (.deb packages): /usr/bin/dpkg-deb",
        "  ✓ rpmbuild (.rpm packages): /usr/bin/rpmbuild",
        "  ✓ makensis (Windows .exe installers (NSIS)): /usr/bin/makensis",
        "  ✓ wixl (Windows .msi installers): /usr/bin/wixl",
        "  - appimagetool (AppImages): not found",
        "      fix: download appimagetool from https://github.com/AppImage/appimagetool/releases, make it "
        "executable and put it on PATH",
        "",
        "Windows can be shown here with: gtk.",
    ]


def test_other_platforms_use_the_native_backend() -> None:
    probe = _probe(platform="darwin", env={}, programs=frozenset({"hdiutil"}))
    report = diagnose(probe)
    assert report.can_show_window and report.backends == ("native",)
    assert [c.label for c in report.checks if c.group.startswith("Installers")] == [
        "hdiutil (.dmg disk images)",
        "pkgbuild (.pkg installers)",
    ]


def _doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from flaskdesk.cli import main; main()", "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_doctor_on_this_machine_without_a_display() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = _doctor(env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "✗ display: no DISPLAY or WAYLAND_DISPLAY" in result.stdout
    assert "fix: xvfb-run -a flaskdesk run  (or: flaskdesk run --browser)" in result.stdout
    assert "nothing on this machine can show a window yet" in result.stderr
    # What this project's set-up scripts install (see /work/shared/README.md) is all found.
    for line in ("✓ PyQt6 with WebEngine", "✓ system libraries (xcb, nss, GL): all found", "✓ PyInstaller"):
        assert line in result.stdout


def test_doctor_on_this_machine_with_a_display(x_display: str) -> None:
    result = _doctor({**os.environ, "DISPLAY": x_display})
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"✓ display: X11 {x_display}" in result.stdout
    assert "Windows can be shown here with: qt" in result.stdout
