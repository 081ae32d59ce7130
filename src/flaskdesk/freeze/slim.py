"""Slim a Qt build: drop what a single QtWebEngine web view never loads.

PyInstaller's Qt hooks collect for a generic Qt app: every QML module (and, through their plugins,
Quick 3D, Quick Controls, Multimedia, Pdf...), every plugin category, every translation, and
Chromium's locale packs for 50 languages. A flaskdesk window is one ``QWebEngineView`` in a
``QMainWindow``: it needs the platform plugins, input methods, image formats, TLS, WebEngine's
``resources/``, ``QtWebEngineProcess`` and the locale packs of the app's languages (``en-US``
always, Chromium's fallback).

Two passes, both run by the generated spec inside PyInstaller (after ``Analysis``, before ``PYZ``):

1. :func:`drop_reason` — path rules (pure): QML tree, unused plugin categories and plugins,
   translations of other languages, the developer-tools pack (frozen builds never run in dev mode).
2. :func:`orphaned` — libraries that only the dropped files needed (``libQt6Quick3D*``,
   ``libQt6Pdf``, GTK pulled in by the ``qgtk3`` theme plugin...), found from the binaries'
   link-time imports. A library any kept binary links to stays, so this can only remove what
   nothing left can load; libraries a hook collected for ``ctypes`` are never candidates
   (nothing dropped links to them).

Measured by ``benchmarks/build.py``: 663 MB naive → 383 MB slim (0.58x) for the fixture app, and it renders.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path, PurePosixPath

#: A PyInstaller TOC entry: (destination in the bundle, source path, type code).
TocEntry = tuple[str, str, str]
#: src path -> names of the shared libraries it links to (``DT_NEEDED`` on Linux).
ImportsOf = Callable[[str], Iterable[str]]

#: Where each Qt binding keeps Qt itself inside the bundle.
QT_ROOTS = {"PyQt6": "PyQt6/Qt6", "PySide6": "PySide6/Qt"}

#: Plugin folders a QtWebEngine window uses; every other category (sensors, multimedia, sql,
#: position, egl device integrations, generic input...) is dropped.
KEEP_PLUGIN_DIRS = frozenset(
    {
        "platforms",
        "platformthemes",
        "platforminputcontexts",
        "xcbglintegrations",
        "imageformats",
        "iconengines",
        "tls",
        "printsupport",
        "wayland-decoration-client",
        "wayland-graphics-integration-client",
        "wayland-shell-integration",
    }
)
#: Platform plugins kept: X11, Wayland, and offscreen/minimal (headless runs and tests).
KEEP_PLATFORMS = frozenset(
    {
        "libqxcb.so",
        "libqwayland.so",
        "libqwayland-egl.so",
        "libqwayland-generic.so",
        "libqoffscreen.so",
        "libqminimal.so",
    }
)
#: Single plugins dropped from kept folders, with the reason (each drags a large library in).
DROP_PLUGINS = {
    "platformthemes/libqgtk3.so": "the GTK 3 theme plugin loads all of GTK (xdg-desktop-portal is kept)",
    "imageformats/libqpdf.so": "PDF as an image format loads QtPdf",
}
_QM = re.compile(r"^(?P<prefix>[a-z_]+?)_(?P<locale>[a-z]{2,3}(?:_[A-Za-z]{2,4})?)\.qm$")


def normalize_locales(locales: Iterable[str]) -> tuple[str, ...]:
    """App locales as Chromium names them (``pt_BR`` → ``pt-BR``), ``en-US`` first, no repeats."""
    seen: dict[str, None] = {"en-US": None}
    for locale in locales:
        parts = locale.replace("_", "-").split("-")
        name = "-".join([parts[0].lower(), *(p.upper() if len(p) == 2 else p for p in parts[1:])])
        seen.setdefault(name, None)
    return tuple(seen)


def _pak_wanted(pak: str, locales: Sequence[str]) -> bool:
    """``de-AT`` wants ``de.pak``; a bare ``pt`` wants ``pt-BR`` and ``pt-PT``."""
    for locale in locales:
        language = locale.split("-")[0]
        if pak in (locale, language) or ("-" not in locale and pak.startswith(locale + "-")):
            return True
    return False


def drop_reason(dest: str, *, qt_root: str, locales: Sequence[str]) -> str | None:
    """Why the bundle file ``dest`` is not needed by a QtWebEngine window, or ``None`` to keep it.

    ``locales`` must already be normalized (:func:`normalize_locales`).
    """
    path = dest.replace("\\", "/")
    prefix = qt_root + "/"
    if not path.startswith(prefix):
        return None
    inside = PurePosixPath(path[len(prefix) :])
    parts = inside.parts
    if not parts:
        return None
    top = parts[0]
    if top == "qml":
        return "QML modules (the window is a QtWidgets view, not Qt Quick)"
    if top == "translations":
        if len(parts) >= 3 and parts[1] == "qtwebengine_locales":
            pak = PurePosixPath(parts[-1]).stem
            return (
                None if _pak_wanted(pak, locales) else "WebEngine locale pack for a language not in `locales`"
            )
        match = _QM.match(inside.name)
        if match is not None:
            language = match.group("locale").split("_")[0]
            if any(locale.split("-")[0] == language for locale in locales):
                return None
        return "Qt translation for a language not in `locales`"
    if top == "resources" and inside.name == "qtwebengine_devtools_resources.pak":
        return "developer tools pack (a frozen build never runs in dev mode)"
    if top == "plugins" and len(parts) >= 3:
        category = parts[1]
        if category not in KEEP_PLUGIN_DIRS:
            return f"Qt plugin category {category!r} is unused by a web view"
        if category == "platforms" and parts[-1] not in KEEP_PLATFORMS:
            return "platform plugin for a device a desktop app does not run on"
        plugin = f"{category}/{parts[-1]}"
        if plugin in DROP_PLUGINS:
            return DROP_PLUGINS[plugin]
    return None


def orphaned(kept: Sequence[TocEntry], dropped: Sequence[TocEntry], imports_of: ImportsOf) -> dict[str, str]:
    """Kept shared libraries that only ``dropped`` binaries link to: ``{dest: reason}``.

    A library is an orphan when some dropped binary needs it (directly or through other
    libraries) and no remaining binary does. Python extension modules are always roots.
    """
    by_name: dict[str, TocEntry] = {}
    for entry in kept:
        if entry[2] == "BINARY":
            by_name.setdefault(PurePosixPath(entry[0].replace("\\", "/")).name, entry)

    def reach(starts: Iterable[TocEntry]) -> set[str]:
        seen: set[str] = set()
        todo = list(starts)
        while todo:
            entry = todo.pop()
            for name in imports_of(entry[1]):
                base = PurePosixPath(name).name
                if base in by_name and base not in seen:
                    seen.add(base)
                    todo.append(by_name[base])
        return seen

    candidates = reach(dropped)
    roots = [entry for entry in kept if PurePosixPath(entry[0].replace("\\", "/")).name not in candidates]
    needed = reach(roots)
    return {
        by_name[name][0]: "library only the dropped files link to" for name in sorted(candidates - needed)
    }


def _pyinstaller_imports(src: str) -> list[str]:
    """Link-time imports via PyInstaller's own analysis (runs ``ldd`` on Linux)."""
    from PyInstaller.depend.bindepend import get_imports

    return [name for name, _path in get_imports(src)]


def slim_toc(
    binaries: Sequence[TocEntry],
    datas: Sequence[TocEntry],
    *,
    qt_binding: str,
    locales: Sequence[str] = (),
    report: str | os.PathLike[str] | None = None,
    imports_of: ImportsOf | None = None,
) -> tuple[list[TocEntry], list[TocEntry]]:
    """``(binaries, datas)`` without what a QtWebEngine window never loads; called by the spec.

    ``report`` receives a JSON list of every dropped file with its size and reason, which the
    size report shows, so nothing disappears silently.
    """
    qt_root = QT_ROOTS[qt_binding]
    wanted = normalize_locales(locales)
    reasons: dict[str, str] = {}
    kept_bins: list[TocEntry] = []
    dropped_bins: list[TocEntry] = []
    for entry in binaries:
        reason = drop_reason(entry[0], qt_root=qt_root, locales=wanted)
        if reason is None:
            kept_bins.append(entry)
        else:
            reasons[entry[0]] = reason
            dropped_bins.append(entry)
    kept_datas: list[TocEntry] = []
    for entry in datas:
        reason = drop_reason(entry[0], qt_root=qt_root, locales=wanted)
        if reason is None:
            kept_datas.append(entry)
        else:
            reasons[entry[0]] = reason
    orphans = orphaned(kept_bins, dropped_bins, imports_of or _pyinstaller_imports)
    reasons.update(orphans)
    kept_bins = [entry for entry in kept_bins if entry[0] not in orphans]
    if report is not None:
        sources = {entry[0]: entry[1] for entry in (*binaries, *datas)}
        rows = [
            {"dest": dest, "reason": reason, "bytes": _size(sources[dest])}
            for dest, reason in sorted(reasons.items())
        ]
        Path(report).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return kept_bins, kept_datas


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
