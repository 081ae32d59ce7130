"""A real flaskdesk window in a process of its own, driven by tests/ui/test_window_real.py.

pywebview owns the main thread and starts once per process, so each real-window test runs this
script with ``.venv/bin/python window_child.py CONFIG.json``. It serves ``window_site/`` (a Jinja
template and a static CSS file) with werkzeug on loopback, opens the window through
``select_backend(...).run(...)``, performs one scenario from ``on_shown``, and writes what it saw
to ``config["out"]`` as JSON for the test to assert on.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from flask import Flask, render_template
from PIL import Image
from werkzeug.serving import make_server

from flaskdesk.ui.backend import select_backend
from flaskdesk.ui.window import WindowHandle, WindowOptions, WindowSession

SITE = Path(__file__).with_name("window_site")


def make_app(delay: float) -> Flask:
    app = Flask(__name__, root_path=str(SITE))

    @app.route("/")
    def index() -> str:
        time.sleep(delay)  # lets a test photograph the window before the first page arrives
        return render_template("index.html", title="window test")

    @app.route("/other")
    def other() -> str:
        return render_template("other.html")

    @app.route("/later")
    def later() -> str:
        return render_template("later.html")

    return app


def screenshot(path: Path) -> Path:
    subprocess.run(["import", "-window", "root", str(path)], check=True, capture_output=True)
    return path


def colour_share(path: Path, colour: str, tolerance: int = 3) -> float:
    """Share of the screenshot's pixels within ``tolerance`` of ``colour`` (``#rrggbb``)."""
    want = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        counts = cast("list[tuple[int, tuple[int, int, int]]]", rgb.getcolors(maxcolors=1 << 24) or [])
        hits = sum(
            count
            for count, pixel in counts
            if all(abs(a - b) <= tolerance for a, b in zip(pixel, want, strict=True))
        )
        return hits / (rgb.width * rgb.height)


def wait_for(predicate: Callable[[], Any], timeout: float, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def shot_with(path: Path, colour: str, minimum: float, timeout: float = 6.0) -> float:
    """Photograph the screen until ``colour`` covers ``minimum`` of it (pages paint a bit after load)."""
    share = 0.0

    def good() -> bool:
        nonlocal share
        share = colour_share(screenshot(path), colour)
        return share >= minimum

    wait_for(good, timeout, step=0.2)
    return share


def x_window_facts(title: str) -> dict[str, str]:
    """xprop's view of the top-level window called ``title`` (found with xdotool)."""
    found = wait_for(
        lambda: subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", f"^{title}$"], capture_output=True, text=True
        ).stdout.split(),
        5,
    )
    if not found:
        return {}
    window_id = found[-1]
    props = subprocess.run(
        ["xprop", "-id", window_id, "WM_NAME", "_NET_WM_NAME", "WM_NORMAL_HINTS"],
        capture_output=True,
        text=True,
    ).stdout
    icon = subprocess.run(["xprop", "-id", window_id, "_NET_WM_ICON"], capture_output=True, text=True).stdout
    return {"id": window_id, "props": props, "icon": icon[:200]}


def real_click(handle: WindowHandle, title: str, element_id: str) -> None:
    """Click an element with the X pointer (a user gesture, unlike element.click() from a script)."""
    rect = handle.evaluate_js(
        f"(() => {{ const r = document.getElementById('{element_id}').getBoundingClientRect();"
        " return [r.left + r.width / 2, r.top + r.height / 2]; })()"
    )
    window_id = x_window_facts(title)["id"]
    subprocess.run(
        ["xdotool", "mousemove", "--window", window_id, str(int(rect[0])), str(int(rect[1])), "click", "1"],
        check=True,
    )


def wait_loaded(handle: WindowHandle, path: str = "") -> str:
    """Block until the page (optionally at ``path``) finished loading; return its URL."""

    def loaded() -> str | None:
        try:
            url = handle.get_current_url() or ""
            ready = handle.evaluate_js("document.readyState")
        except Exception:
            return None
        return url if ready == "complete" and url.endswith(path) else None

    return str(wait_for(loaded, 10) or "")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
    config = json.loads(Path(sys.argv[1]).read_text())
    out = Path(config["out"])
    shots = Path(config["shot_dir"])
    result: dict[str, Any] = {"events": []}
    scenario = config["scenario"]

    options = WindowOptions(
        **{
            **config.get("options", {}),
            "min_size": tuple(config.get("options", {}).get("min_size", (200, 100))),
            "icon": Path(config["options"]["icon"]) if config.get("options", {}).get("icon") else None,
        }
    )
    backend = select_backend(config["backend"])
    result["backend"] = backend.name

    if scenario == "error":
        return show_error(backend, options, config, result, out, shots)

    server = make_server(
        "127.0.0.1", config.get("port", 0), make_app(config.get("delay", 0.0)), threaded=True
    )
    serving = threading.Thread(target=server.serve_forever, name="site-server")
    serving.start()
    origin = f"http://127.0.0.1:{server.server_port}"
    result["port"] = server.server_port

    def on_shown(handle: WindowHandle) -> None:
        try:
            SCENARIOS[scenario](handle, config, result, shots, origin)
        except Exception as error:  # report, never hang the test
            result["error"] = repr(error)
        finally:
            if scenario != "signal":
                handle.destroy()

    def on_closed() -> None:
        result["events"].append("closed")

    session = WindowSession(
        url=origin + "/",
        options=options,
        app_origin=origin,
        storage_dir=Path(config["storage_dir"]),
        dev=config.get("dev", False),
        on_shown=on_shown,
        on_closed=on_closed,
    )
    started = time.monotonic()
    try:
        backend.run(session)
    finally:
        result["run_seconds"] = time.monotonic() - started
        server.shutdown()
        serving.join()
        out.write_text(json.dumps(result))
    return 0


def look(
    handle: WindowHandle, config: dict[str, Any], result: dict[str, Any], shots: Path, origin: str
) -> None:
    """Before the page arrives the window shows background_color; then the page's own colour."""
    time.sleep(0.5)  # the server holds "/" for config["delay"] seconds
    result["before"] = colour_share(screenshot(shots / "before.png"), config["options"]["background_color"])
    result["before_white"] = colour_share(shots / "before.png", "#ffffff", tolerance=0)
    result["url"] = wait_loaded(handle)
    result["iframe"] = handle.evaluate_js("document.getElementById('frame').contentDocument.body.innerText")
    opts = config["options"]
    result["after"] = shot_with(
        shots / "after.png", "#3a7bd5", 0.8 * opts["width"] * opts["height"] / (1280 * 800)
    )
    result["x"] = x_window_facts(config["options"]["title"])


def storage(
    handle: WindowHandle, config: dict[str, Any], result: dict[str, Any], shots: Path, origin: str
) -> None:
    """Write (or read back) a localStorage item and a persistent cookie."""
    wait_loaded(handle)
    value = config["value"]
    if config["mode"] == "write":
        handle.evaluate_js(
            f"localStorage.setItem('flaskdesk-test', {json.dumps(value)});"
            f"document.cookie = 'flaskdesk_test={value}; max-age=3600; path=/; SameSite=Strict'; 1"
        )
    result["local"] = handle.evaluate_js("localStorage.getItem('flaskdesk-test')")
    result["cookie"] = handle.evaluate_js("document.cookie")


def navigate(
    handle: WindowHandle, config: dict[str, Any], result: dict[str, Any], shots: Path, origin: str
) -> None:
    """Try every kind of navigation; record where the window is after each, and what $BROWSER got."""
    log = Path(config["browser_log"])

    def handed(url: str) -> bool:
        return bool(wait_for(lambda: log.exists() and url in log.read_text().split(), 4))

    wait_loaded(handle)
    steps: list[tuple[str, str, str | None]] = [
        ("click", "document.getElementById('external').click()", "https://example.org/x"),
        ("assign", "location.href = 'https://example.org/assigned'", "https://example.org/assigned"),
        ("blank", "real_click:blank", "https://example.org/blank"),
        ("window.open", "real_click:opener", "https://example.org/opened"),
        ("mailto", "document.getElementById('mail').click()", "mailto:someone@example.org"),
        ("data", "location.href = 'data:text/html,<h1>hi</h1>'", None),
        ("file", "location.href = 'file:///etc/passwd'", None),
        ("custom", "location.href = 'flaskdesk-test://x'", None),
    ]
    for name, script, external in steps:
        if script.startswith("real_click:"):
            real_click(handle, config["options"]["title"], script.split(":", 1)[1])
        else:
            handle.evaluate_js(script + "; 1")
        if external is not None:
            result[f"{name}.handed"] = handed(external)
        else:
            time.sleep(0.6)
        result[f"{name}.url"] = handle.get_current_url()
    real_click(handle, config["options"]["title"], "same-blank")
    result["same-blank.url"] = wait_loaded(handle, "/other")
    # A page of the app that leaves by itself, without a user gesture.
    handle.evaluate_js("location.href = '/later'; 1")
    result["later.url"] = wait_loaded(handle, "/later")
    result["later.handed"] = handed("https://example.org/later")
    time.sleep(0.3)
    result["later.url_after"] = handle.get_current_url()
    result["browser_log"] = log.read_text().split() if log.exists() else []
    screenshot(shots / "navigate.png")


def signal_scenario(
    handle: WindowHandle, config: dict[str, Any], result: dict[str, Any], shots: Path, origin: str
) -> None:
    """Tell the test the page is up; the test then signals this process."""
    result["url"] = wait_loaded(handle)
    Path(config["ready"]).write_text("ready")


def listening_ports() -> list[str]:
    """TCP ports this process listens on (the test server's included)."""
    lines = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout.splitlines()
    mine = f"pid={os.getpid()},"
    return sorted(line.split()[3].rsplit(":", 1)[1] for line in lines if mine in line)


def dev(
    handle: WindowHandle, config: dict[str, Any], result: dict[str, Any], shots: Path, origin: str
) -> None:
    """Dev mode: F12 opens devtools in a window of their own, and no debugging port is opened."""
    wait_loaded(handle)
    window_id = x_window_facts(config["options"]["title"])["id"]
    # No window manager under Xvfb: give the window the keyboard focus ourselves.
    subprocess.run(["xdotool", "mousemove", "--window", window_id, "100", "100"], check=True)
    subprocess.run(["xdotool", "windowfocus", "--sync", window_id], check=True)
    subprocess.run(["xdotool", "key", "F12"], check=True)
    result["devtools"] = wait_for(
        lambda: subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", "Developer tools|Web Inspector"],
            capture_output=True,
            text=True,
        ).stdout.split(),
        8,
    )
    time.sleep(0.5)
    screenshot(shots / "devtools.png")
    result["listening"] = listening_ports()
    result["remote_debugging_env"] = os.environ.get("QTWEBENGINE_REMOTE_DEBUGGING")


SCENARIOS: dict[str, Callable[[WindowHandle, dict[str, Any], dict[str, Any], Path, str], None]] = {
    "look": look,
    "storage": storage,
    "navigate": navigate,
    "signal": signal_scenario,
    "dev": dev,
}


def show_error(
    backend: Any,
    options: WindowOptions,
    config: dict[str, Any],
    result: dict[str, Any],
    out: Path,
    shots: Path,
) -> int:
    """show_error() blocks; a helper thread photographs the window, then close_all() ends it."""
    title = config["error_title"]

    def photograph_then_close() -> None:
        try:
            result["x"] = x_window_facts(title)
            result["share"] = shot_with(shots / "error.png", config["error_colour"], 0.2)
            # The page's link covers the window: a click must go to $BROWSER, not into the window.
            subprocess.run(
                ["xdotool", "mousemove", "--window", result["x"]["id"], "50", "50", "click", "1"], check=True
            )
            log = Path(config["browser_log"])
            result["handed"] = wait_for(lambda: log.exists() and log.read_text().split(), 4) or []
            time.sleep(0.3)
            result["share_after_click"] = colour_share(
                screenshot(shots / "error-after.png"), config["error_colour"]
            )
        finally:
            backend.close_all()

    helper = threading.Thread(target=photograph_then_close, name="error-photographer")
    helper.start()
    started = time.monotonic()
    backend.show_error(title, config["html"], options)
    result["seconds"] = time.monotonic() - started
    helper.join()
    out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
