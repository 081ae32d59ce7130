"""The Qt slim pass: path rules, and libraries only the dropped files needed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pytest

from flaskdesk.freeze.slim import drop_reason, normalize_locales, orphaned, slim_toc

Q = "PyQt6/Qt6"
LOCALES = normalize_locales(["de", "pt"])


@pytest.mark.parametrize(
    ("dest", "dropped"),
    [
        (f"{Q}/qml/QtQuick/Controls/qmldir", True),
        (f"{Q}/qml/QtQuick3D/libqquick3dplugin.so", True),
        (f"{Q}/translations/qtwebengine_locales/en-US.pak", False),
        (f"{Q}/translations/qtwebengine_locales/de.pak", False),
        (f"{Q}/translations/qtwebengine_locales/pt-BR.pak", False),  # bare "pt" keeps every Portuguese
        (f"{Q}/translations/qtwebengine_locales/fr.pak", True),
        (f"{Q}/translations/qtwebengine_locales/en-GB.pak", True),
        (f"{Q}/translations/qtbase_de.qm", False),
        (f"{Q}/translations/qt_help_de.qm", False),
        (f"{Q}/translations/qt_pt_BR.qm", False),
        (f"{Q}/translations/qtbase_ja.qm", True),
        (f"{Q}/translations/qt_en.qm", False),
        (f"{Q}/resources/qtwebengine_resources.pak", False),
        (f"{Q}/resources/icudtl.dat", False),
        (f"{Q}/resources/qtwebengine_devtools_resources.pak", True),
        (f"{Q}/libexec/QtWebEngineProcess", False),
        (f"{Q}/lib/libQt6Quick3D.so.6", False),  # libraries go by the orphan pass, not by name
        (f"{Q}/plugins/platforms/libqxcb.so", False),
        (f"{Q}/plugins/platforms/libqwayland.so", False),
        (f"{Q}/plugins/platforms/libqoffscreen.so", False),
        (f"{Q}/plugins/platforms/libqeglfs.so", True),
        (f"{Q}/plugins/platforms/libqvnc.so", True),
        (f"{Q}/plugins/platformthemes/libqxdgdesktopportal.so", False),
        (f"{Q}/plugins/platformthemes/libqgtk3.so", True),
        (f"{Q}/plugins/imageformats/libqjpeg.so", False),
        (f"{Q}/plugins/imageformats/libqpdf.so", True),
        (f"{Q}/plugins/position/libqtposition_geoclue2.so", True),
        (f"{Q}/plugins/sqldrivers/libqsqlite.so", True),
        (f"{Q}/plugins/platforminputcontexts/libibusplatforminputcontextplugin.so", False),
        ("PyQt6/QtCore.abi3.so", False),
        ("libssl.so.3", False),
        ("notes/templates/qml/index.html", False),  # only Qt's own tree is touched
    ],
)
def test_drop_reason(dest: str, dropped: bool) -> None:
    assert (drop_reason(dest, qt_root=Q, locales=LOCALES) is not None) == dropped


def test_pyside_tree_and_windows_separators() -> None:
    assert drop_reason("PySide6/Qt/qml/QtQuick/qmldir", qt_root="PySide6/Qt", locales=LOCALES) is not None
    assert drop_reason("PyQt6\\Qt6\\qml\\QtQuick\\qmldir", qt_root=Q, locales=LOCALES) is not None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([], ("en-US",)),
        (["de_AT", "en-US", "pt-br"], ("en-US", "de-AT", "pt-BR")),
        (["zh-Hant"], ("en-US", "zh-Hant")),
    ],
)
def test_normalize_locales(given: list[str], expected: tuple[str, ...]) -> None:
    assert normalize_locales(given) == expected


def _lib(name: str) -> tuple[str, str, str]:
    return (f"{Q}/lib/{name}", f"/src/{name}", "BINARY")


LINKS = {
    "/src/QtWebEngineCore.abi3.so": ["libQt6WebEngineCore.so.6", "libc.so.6"],
    "/src/libQt6WebEngineCore.so.6": ["libQt6Quick.so.6", "libQt6Core.so.6"],
    "/src/libQt6Quick.so.6": ["libQt6Core.so.6"],
    "/src/libqquick3dplugin.so": ["libQt6Quick3D.so.6", "libQt6Quick.so.6"],
    "/src/libQt6Quick3D.so.6": ["libQt6Quick3DUtils.so.6", "libQt6Core.so.6"],
    "/src/libqgtk3.so": ["libgtk-3.so.0"],
    "/src/libgtk-3.so.0": ["libglib-2.0.so.0"],
    "/src/_ctypes.so": ["libffi.so.8"],
}


def imports_of(src: str) -> Iterable[str]:
    return LINKS.get(src, [])


def test_orphaned_keeps_what_anything_kept_links_to() -> None:
    kept = [
        ("PyQt6/QtWebEngineCore.abi3.so", "/src/QtWebEngineCore.abi3.so", "EXTENSION"),
        _lib("libQt6WebEngineCore.so.6"),
        _lib("libQt6Quick.so.6"),
        _lib("libQt6Core.so.6"),
        _lib("libQt6Quick3D.so.6"),
        _lib("libQt6Quick3DUtils.so.6"),
        ("libgtk-3.so.0", "/src/libgtk-3.so.0", "BINARY"),
        ("libglib-2.0.so.0", "/src/libglib-2.0.so.0", "BINARY"),
        ("libffi.so.8", "/src/libffi.so.8", "BINARY"),
        ("libctypes_only.so", "/src/libctypes_only.so", "BINARY"),  # a hook's ctypes library: no links
    ]
    dropped = [
        (f"{Q}/qml/QtQuick3D/libqquick3dplugin.so", "/src/libqquick3dplugin.so", "BINARY"),
        (f"{Q}/plugins/platformthemes/libqgtk3.so", "/src/libqgtk3.so", "BINARY"),
    ]
    orphans = orphaned(kept, dropped, imports_of)
    assert sorted(orphans) == [
        f"{Q}/lib/libQt6Quick3D.so.6",
        f"{Q}/lib/libQt6Quick3DUtils.so.6",
        "libglib-2.0.so.0",
        "libgtk-3.so.0",
    ]


def test_slim_toc_filters_and_reports(tmp_path: Path) -> None:
    source = tmp_path / "big.pak"
    source.write_bytes(b"x" * 1000)
    binaries = [
        ("PyQt6/QtCore.abi3.so", "/src/QtCore.abi3.so", "EXTENSION"),
        (f"{Q}/qml/QtQuick3D/libqquick3dplugin.so", "/src/libqquick3dplugin.so", "BINARY"),
        _lib("libQt6Quick3D.so.6"),
        _lib("libQt6Quick3DUtils.so.6"),
    ]
    datas = [
        (f"{Q}/translations/qtwebengine_locales/fr.pak", str(source), "DATA"),
        (f"{Q}/translations/qtwebengine_locales/en-US.pak", str(source), "DATA"),
    ]
    report = tmp_path / "slim.json"
    kept_bins, kept_datas = slim_toc(
        binaries, datas, qt_binding="PyQt6", locales=(), report=report, imports_of=imports_of
    )
    assert kept_bins == [binaries[0]]
    assert kept_datas == [datas[1]]
    rows = json.loads(report.read_text())
    assert [row["dest"] for row in rows] == sorted(
        [binaries[1][0], binaries[2][0], binaries[3][0], datas[0][0]]
    )
    assert {row["dest"]: row["bytes"] for row in rows}[datas[0][0]] == 1000
