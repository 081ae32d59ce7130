"""A stand-in for ``flaskdesk``, used by conftest.py only while the real package does not import.

flaskdesk is developed in the same repository; while its runtime is half-written, these tests
still check the Flask side of the app. Tests that need the real thing (the bridge) are skipped.
Delete this file once ``import flaskdesk`` works everywhere the tests run.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

from flask import Flask
from markupsafe import Markup


class Desktop:
    is_stand_in = True

    def __init__(self, app: Flask | None = None, **options: Any) -> None:
        self.options = options
        self.functions: dict[str, Callable[..., Any]] = {}
        self.app: Flask | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        app.extensions["flaskdesk"] = self
        self.app = app
        app.jinja_env.globals.setdefault("csp_nonce", lambda: "")
        app.jinja_env.globals.setdefault("flaskdesk_script", lambda: Markup(""))

    def expose(self, fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
        def register(f: Callable[..., Any]) -> Callable[..., Any]:
            self.functions[name or f.__name__] = f
            return f

        return register if fn is None else register(fn)

    def run(self, **_: Any) -> None:
        raise RuntimeError("the flaskdesk stand-in cannot open a window")


def install(error: ImportError) -> None:
    """Replace a ``flaskdesk`` that failed to import (``error``) with this stand-in."""
    for name in [n for n in sys.modules if n == "flaskdesk" or n.startswith("flaskdesk.")]:
        del sys.modules[name]
    module = types.ModuleType("flaskdesk", f"stand-in: the real flaskdesk failed to import ({error})")
    module.Desktop = Desktop  # type: ignore[attr-defined]
    sys.modules["flaskdesk"] = module
