"""PyInstaller hook for flaskdesk: bundle the runtime's own files, never the tooling.

The runtime reads ``ui/js/*.js`` and its page templates through :mod:`flaskdesk.resources`;
those are data files PyInstaller's import scan cannot see, and it imports pywebview by name.
The tooling (``cli``, ``freeze``, ``packaging``, ``testing``, ``host``) never runs inside a
frozen app, so neither its modules nor its templates ship.
"""

from __future__ import annotations

from PyInstaller.utils.hooks import collect_data_files

_TOOLING = ("cli", "freeze", "packaging", "scaffold", "testing")

datas = collect_data_files(
    "flaskdesk",
    excludes=[*(f"{name}/**" for name in _TOOLING), "**/__pycache__", "py.typed"],
)
excludedimports = [f"flaskdesk.{name}" for name in (*_TOOLING, "host")]
# The runtime imports pywebview with importlib (so that only a window needs it): say so here.
# Which of pywebview's platform modules ships is the spec's decision (flaskdesk build adds one).
hiddenimports = ["webview"]
