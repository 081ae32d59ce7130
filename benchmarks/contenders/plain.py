"""Contender 2, the plain recipe: Flask on Werkzeug's ``make_server`` in a thread, plus pywebview.

What pywebview's documentation and most blog posts show. With a result path it shows the bridge
page and exposes ``echo``/``report`` through pywebview's ``js_api``.
    python plain.py BACKEND [RESULT.json CALLS WARMUP]
"""

import json
import sys
import threading
from pathlib import Path

import webview
from benchpage import create_app
from werkzeug.serving import make_server

backend = sys.argv[1]
result = Path(sys.argv[2]) if len(sys.argv) > 2 else None


class Api:
    def echo(self, value: object) -> object:
        return value

    def report(self, results: object) -> None:
        assert result is not None
        result.write_text(json.dumps(results))


if result is None:
    app = create_app()
else:
    app = create_app(bridge="pywebview", calls=int(sys.argv[3]), warmup=int(sys.argv[4]))
server = make_server("127.0.0.1", 0, app, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
webview.create_window(
    "flaskdesk bench",
    f"http://127.0.0.1:{server.server_port}/",
    width=800,
    height=600,
    js_api=Api() if result is not None else None,
)
webview.start(gui=backend)  # type: ignore[arg-type]  # 'qt' or 'gtk'
