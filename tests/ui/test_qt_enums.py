"""qtpy's unscoped enum names: the few pywebview needs at once, every other one after the first load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("qtpy.QtWebEngineWidgets", exc_type=ImportError)

#: Runs in a fresh interpreter (this one may have imported qtpy already): installs the split, imports
#: what a Qt launch imports, and reports which unscoped names resolve before and after ``finish()``.
PROBE = textwrap.dedent(
    r"""
    import json, re, sys
    from flaskdesk.ui._qt_enums import EAGER_CLASSES, defer_enum_promotion

    promotion = defer_enum_promotion()
    import qtpy.QtWebEngineWidgets, qtpy.QtWidgets, qtpy.QtGui, qtpy.QtCore
    import webview.platforms.qt as platform

    source = open(platform.__file__, encoding="utf-8").read()
    names = {"Qt": qtpy.QtCore.Qt, **{n: getattr(qtpy.QtCore, n) for n in ("QEvent", "QFile")}}
    names.update((n, v) for n, v in vars(platform).items() if n.startswith("Q") and isinstance(v, type))
    used = sorted(set(re.findall(r"\b(Qt|Q[A-Za-z]+)\.([A-Z][A-Za-z0-9_]*)\b", source)))

    def missing():
        return [f"{cls}.{attr}" for cls, attr in used if cls in names and not hasattr(names[cls], attr)]

    missing_before = missing()
    later = {
        "QPalette.Window": lambda: qtpy.QtGui.QPalette.Window,
        "QSizePolicy.Expanding": lambda: qtpy.QtWidgets.QSizePolicy.Expanding,
    }

    def resolves():
        out = {}
        for key, get in later.items():
            try:
                get()
                out[key] = True
            except AttributeError:
                out[key] = False
        return out

    before = resolves()
    pending = list(promotion.pending)
    promotion.finish()
    print(json.dumps({"missing_before": missing_before, "missing_after": missing(), "used": len(used),
                      "before": before, "after": resolves(),
                      "pending": pending, "eager": list(EAGER_CLASSES)}))
    """
)


def _probe() -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_pywebviews_unscoped_names_resolve_before_the_rest_is_promoted() -> None:
    """Every ``Class.Member`` in pywebview's Qt platform that qtpy makes resolvable, the eager
    classes alone make resolvable too (a few resolve under neither: pywebview's PyQt5-era names)."""
    report = _probe()
    assert report["used"], "the scan found no Class.Member names in pywebview's Qt platform"
    needs_eager = sorted(set(report["missing_before"]) - set(report["missing_after"]))  # type: ignore[arg-type]
    assert needs_eager == [], (
        f"pywebview uses unscoped enum names of classes not in EAGER_CLASSES: {needs_eager}; "
        "add their classes to flaskdesk.ui._qt_enums.EAGER_CLASSES"
    )


def test_the_rest_waits_for_finish_and_then_matches_qtpy() -> None:
    report = _probe()
    assert report["before"] == {"QPalette.Window": False, "QSizePolicy.Expanding": False}
    assert report["after"] == {"QPalette.Window": True, "QSizePolicy.Expanding": True}
    assert sorted(report["pending"]) == ["PyQt6.QtCore", "PyQt6.QtGui", "PyQt6.QtWidgets"]  # type: ignore[arg-type]


ENUM_APP = textwrap.dedent(
    """
    import sys
    from flask import Flask

    def create_app():
        app = Flask(__name__)

        @app.get("/")
        def names():
            gui, widgets = sys.modules["qtpy.QtGui"], sys.modules["qtpy.QtWidgets"]
            found = hasattr(gui.QPalette, "Window") and hasattr(widgets.QSizePolicy, "Expanding")
            return f"<p id='names'>{'all' if found else 'eager only'}</p>"

        return app
    """
)


@pytest.mark.window
@pytest.mark.slow
def test_a_real_qt_launch_adds_every_name_once_the_page_is_up(x_display: str, tmp_path: Path) -> None:
    from flaskdesk.testing.driver import AppDriver

    (tmp_path / "enum_app.py").write_text(ENUM_APP)
    env = {**os.environ, "DISPLAY": x_display, "FLASKDESK_GUI": "qt"}
    with AppDriver.from_source(
        "enum_app:create_app()", cwd=tmp_path, env=env, data_dir=tmp_path / "data", artifacts_dir=tmp_path
    ) as app:
        deadline = time.monotonic() + 10
        while True:
            app.goto("/")
            if app.text("#names") == "all" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert app.text("#names") == "all"
        assert app.close() == 0
