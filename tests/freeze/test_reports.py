"""Size report, licence notices and the fast-rebuild manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flaskdesk.freeze.licenses import (
    declared_license,
    distributions_for,
    is_gpl,
    license_notices,
    read_summary,
    top_level_map,
)
from flaskdesk.freeze.manifest import AssetUpdate, Manifest, hash_assets, hash_sources, plan_update
from flaskdesk.freeze.size_report import group_of, render_html, render_text, summarize, write_reports


@pytest.mark.parametrize(
    ("path", "group"),
    [
        ("notes", "notes (bootloader + Python modules)"),
        ("_internal/PyQt6/Qt6/lib/libQt6WebEngineCore.so.6", "PyQt6"),
        ("_internal/libssl.so.3", "system libraries"),
        ("_internal/libsoftokn3.chk", "system libraries"),
        ("_internal/libpython3.11.so.1.0", "Python runtime"),
        ("_internal/base_library.zip", "Python runtime"),
        ("_internal/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so", "Python runtime"),
        ("_internal/flask-3.1.3.dist-info/METADATA", "package metadata"),
        ("_internal/notes/templates/index.html", "notes"),
        ("_internal/licenses/Flask-3.1.3/LICENSE.txt", "licenses"),
    ],
)
def test_group_of(path: str, group: str) -> None:
    assert group_of(path, executable="notes") == group


def test_summary_is_largest_first_and_renders() -> None:
    rows = summarize(
        [
            ("_internal/PyQt6/a.so", 300),
            ("_internal/PyQt6/b.so", 100),
            ("_internal/libx.so", 50),
            ("notes", 60),
        ],
        executable="notes",
    )
    assert [(r.group, r.size, r.files) for r in rows] == [
        ("PyQt6", 400, 2),
        ("notes (bootloader + Python modules)", 60, 1),
        ("system libraries", 50, 1),
    ]
    assert rows[0].largest == (("_internal/PyQt6/a.so", 300), ("_internal/PyQt6/b.so", 100))
    text = render_text("t", rows, [("QML modules", 1_000_000, 3)])
    assert text.splitlines()[1] == "Total: 0.0 MB in 4 files"
    assert "PyQt6" in text.splitlines()[4] and "78.4%" in text.splitlines()[4]
    assert "Dropped by the slim pass (1.0 MB):" in text
    page = render_html("t <b>", rows)
    assert "<title>t &lt;b&gt;</title>" in page and page.index("PyQt6") < page.index("system libraries")


def test_write_reports_on_a_folder(tmp_path: Path) -> None:
    bundle = tmp_path / "dist" / "n"
    (bundle / "_internal" / "pkg").mkdir(parents=True)
    (bundle / "n").write_bytes(b"x" * 10)
    (bundle / "_internal" / "pkg" / "a").write_bytes(b"x" * 5)
    (bundle / "_internal" / "link").symlink_to(bundle / "n")
    slim = tmp_path / "slim.json"
    slim.write_text(json.dumps([{"dest": "q", "reason": "QML", "bytes": 7}]))
    text, html, total = write_reports(bundle, executable="n", out_dir=tmp_path, slim_report=slim)
    assert total == 15
    assert "QML" in text.read_text() and html.read_text().startswith("<!doctype html>")


@pytest.mark.parametrize(
    ("text", "gpl"),
    [
        ("GPL-3.0-only", True),
        ("GPL v3", True),
        ("GNU General Public License v3 (GPLv3)", True),
        ("AGPL-3.0-or-later", True),
        ("LGPL v3", False),
        ("GNU Lesser General Public License v3 (LGPLv3)", False),
        ("GPL-2.0-or-later WITH Bootloader-exception", False),
        ("BSD-3-Clause", False),
        ("MIT OR GPL-2.0", True),  # a dual licence still names GPL: the warning asks the user to check
    ],
)
def test_is_gpl(text: str, gpl: bool) -> None:
    assert is_gpl(text) is gpl


def test_declared_license_prefers_the_expression() -> None:
    from email.message import Message

    meta = Message()
    meta["License"] = "BSD License\n\nlong text..."
    meta["Classifier"] = "License :: OSI Approved :: BSD License"
    assert declared_license(meta) == "BSD License"
    meta["License-Expression"] = "BSD-3-Clause"
    assert declared_license(meta) == "BSD-3-Clause"


def test_top_level_map_sees_compiled_only_distributions() -> None:
    mapping = top_level_map()
    # PyQt6-WebEngine ships only .so/.pyi files under PyQt6/: importlib.metadata alone misses it
    assert {"PyQt6", "PyQt6-WebEngine", "PyQt6-Qt6"} <= set(mapping["PyQt6"])
    assert distributions_for(["flask", "nope"], mapping) == ["Flask"]


def test_license_notices_for_a_toc(tmp_path: Path) -> None:
    pure = [("flask.app", "/x/flask/app.py", "PYMODULE"), ("webview", "/x/webview/__init__.py", "PYMODULE")]
    binaries = [("PyQt6/QtCore.abi3.so", "/x", "EXTENSION"), ("libssl.so.3", "/x", "BINARY")]
    out = tmp_path / "licenses"
    (out / "stale").mkdir(parents=True)
    entries = license_notices(pure, binaries, [], out_dir=str(out), summary=str(tmp_path / "licenses.json"))
    assert not (out / "stale").exists()
    dests = {dest for dest, _src, kind in entries}
    assert "licenses/THIRD-PARTY-NOTICES.txt" in dests
    assert any(d.startswith("licenses/Flask-") and d.endswith("LICENSE.txt") for d in dests)
    notices = {n.distribution: n for n in read_summary(tmp_path / "licenses.json")}
    assert notices["PyQt6"].gpl and notices["PyQt6-WebEngine"].gpl
    assert not notices["PyQt6-Qt6"].gpl  # Qt itself is LGPL
    assert not notices["pyinstaller"].gpl  # the bootloader exception
    assert not notices["pywebview"].gpl
    index = (out / "THIRD-PARTY-NOTICES.txt").read_text()
    assert "PyQt6 6." in index and "Python 3." in index


# -- fast-rebuild manifest ------------------------------------------------------------------------


def _manifest(
    sources: dict[str, str], assets: dict[str, dict[str, str]], key: dict[str, str] | None = None
) -> Manifest:
    key = key or {"packages": "1", "target": "1"}
    return Manifest(
        key=key,
        sources=sources,
        source_roots=(),
        assets=assets,
        asset_roots=(),
        bundle_data="/b",
        executable="/b/n",
    )


def test_plan_update_cases() -> None:
    old = _manifest(
        {"a.py": "1"},
        {
            "t/x.html": {"source": "/s/x.html", "sha256": "1"},
            "t/gone.html": {"source": "/s/gone.html", "sha256": "1"},
        },
    )
    key = {"packages": "1", "target": "1"}
    assert plan_update(None, key=key, sources={}, assets={}) == "no previous build manifest"
    assert plan_update(old, key={"packages": "2", "target": "2"}, sources={"a.py": "1"}, assets={}) == (
        "the installed packages and the build options changed"
    )
    assert "a.py" in str(plan_update(old, key=key, sources={"a.py": "2"}, assets={}))
    assert "b.py" in str(plan_update(old, key=key, sources={"a.py": "1", "b.py": "1"}, assets={}))
    update = plan_update(
        old,
        key=key,
        sources={"a.py": "1"},
        assets={
            "t/x.html": {"source": "/s/x.html", "sha256": "2"},
            "t/new.css": {"source": "/s/n.css", "sha256": "1"},
        },
    )
    assert update == AssetUpdate(
        copy=(("/s/n.css", "t/new.css"), ("/s/x.html", "t/x.html")), delete=("t/gone.html",)
    )
    same = plan_update(old, key=key, sources={"a.py": "1"}, assets=dict(old.assets))
    assert isinstance(same, AssetUpdate) and same.empty


def test_manifest_round_trip_and_hashes(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "__pycache__" / "a.py").write_text("ignored")
    (tmp_path / "t.html").write_text("<p>")
    sources = hash_sources([str(tmp_path / "pkg"), str(tmp_path / "missing")])
    assert list(sources) == [str(tmp_path / "pkg" / "a.py")]
    assets = hash_assets([(tmp_path / "t.html", "pkg/t.html")])
    manifest = _manifest(sources, assets)
    path = tmp_path / "manifest.json"
    path.write_text(manifest.to_json())
    assert Manifest.load(path) == manifest
    path.write_text("{not json")
    assert Manifest.load(path) is None
    assert Manifest.load(tmp_path / "absent.json") is None
