"""Experiment: the plain recipe reordered so the window starts before Flask is imported.

The window opens on a blank page; a thread imports Flask and the app, starts werkzeug's server and
loads the page. The question it answers: does starting the engine first hide Flask's import (the
only way left for a launcher to get closer to the floor)?
    python window_first.py BACKEND            # the import starts at once, while Qt/GTK load
    python window_first_after_shown.py BACKEND  # the import starts once the window is shown
"""

import sys
import threading

import webview


def main(backend: str, *, after_shown: bool) -> None:
    window = webview.create_window(
        "flaskdesk bench", html="<html><body></body></html>", width=800, height=600
    )

    def serve() -> None:
        from benchpage import create_app
        from werkzeug.serving import make_server

        server = make_server("127.0.0.1", 0, create_app(), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        window.load_url(f"http://127.0.0.1:{server.server_port}/")

    if after_shown:
        webview.start(serve, gui=backend)  # type: ignore[arg-type]  # 'qt' or 'gtk'
        return
    threading.Thread(target=serve, daemon=True).start()
    webview.start(gui=backend)  # type: ignore[arg-type]


if __name__ == "__main__":
    main(sys.argv[1], after_shown=False)
