"""Contender 1, the floor: a bare pywebview window showing the page pre-rendered to a file.

No server, no Flask: only what every other contender also pays for (Python, pywebview, the engine).
    python floor.py BACKEND PAGE.html
"""

import sys
from pathlib import Path

import webview

backend, page = sys.argv[1], Path(sys.argv[2])
webview.create_window("flaskdesk bench", page.resolve().as_uri(), width=800, height=600)
webview.start(gui=backend)  # type: ignore[arg-type]  # 'qt' or 'gtk'
