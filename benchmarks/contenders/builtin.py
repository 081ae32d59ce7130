"""Contender 3: pywebview given the Flask app itself (``create_window(url=app)``), served by its
built-in server (bottle's adapter around ``wsgiref`` with ``ThreadingMixIn``).
    python builtin.py BACKEND
"""

import sys

import webview
from benchpage import create_app

webview.create_window("flaskdesk bench", create_app(), width=800, height=600)
webview.start(gui=sys.argv[1])  # type: ignore[arg-type]  # 'qt' or 'gtk'
