"""A real window serving ``transport_site`` over either transport, driven by ``test_window_transports.py``.

pywebview owns the main thread and starts once per process, so each test runs this script in a
fresh interpreter: ``python scheme_child.py CONFIG.json``. It writes what it saw to
``config["out"]`` (JSON) for the test to assert on.

* ``transport="loopback"``: the shipped path, unchanged: ``Server`` + ``Guard`` +
  ``select_backend(...).run(WindowSession(...))``.
* ``transport="scheme"``: what ``WebviewBackend.run`` does once wired (``ui/scheme.py``,
  "Wiring"), done here by hand with the same pieces: the toolkit's
  flaskdesk hooks (``QtHooks``/``GtkHooks``, navigation policy included) attached from
  ``window.events.before_show`` with the scheme's navigation policy, then
  ``install_scheme_transport`` (handler on the window's profile / web context, native navigation),
  an ``InProcessApp`` behind the real ``SchemeGuard``, and no socket anywhere.
"""

from __future__ import annotations

import hashlib
import importlib
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

from PIL import Image
from transport_site import PAGE_COLOUR, create_app

from flaskdesk.app.guard import Guard, GuardPolicy
from flaskdesk.app.inprocess import InProcessApp, SchemeGuard
from flaskdesk.app.server import Server
from flaskdesk.ui.backend import select_backend
from flaskdesk.ui.bridge import script_wsgi_app
from flaskdesk.ui.scheme import ORIGIN, SchemeTransport, install_scheme_transport, navigate
from flaskdesk.ui.window import WindowHandle, WindowOptions, WindowSession

UPLOAD_BYTES = 300_000  # bigger than one 16 KiB read: catches truncated Blob parts


# --------------------------------------------------------------------------------------------------
# observing


def screenshot(path: Path) -> Path:
    subprocess.run(["import", "-window", "root", str(path)], check=True, capture_output=True)
    return path


def colour_share(path: Path, colour: str, tolerance: int = 3) -> float:
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


def wait_for(predicate: Callable[[], Any], timeout: float, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def process_tree(root: int) -> set[int]:
    """``root`` and every process below it (the engines' renderer / network helpers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in tree:
                tree.add(child)
                todo.append(child)
    return tree


def tcp_sockets(pids: set[int]) -> dict[str, list[str]]:
    """TCP sockets (v4 and v6) the processes hold, from ``/proc/net/tcp*`` and their fds.

    ``listening`` are ``local_address`` values in state LISTEN; ``other`` any other state.
    """
    inodes: set[str] = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    found: dict[str, list[str]] = {"listening": [], "other": []}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                found["listening" if fields[3] == "0A" else "other"].append(f"{table[-4:]} {fields[1]}")
    return found


# --------------------------------------------------------------------------------------------------
# talking to the page


class Page:
    """Run scripts in the window and wait for results (async ones land in ``window.__t``)."""

    def __init__(self, handle: WindowHandle) -> None:
        self.handle = handle

    def value(self, expression: str) -> Any:
        raw = self.handle.evaluate_js(f"JSON.stringify((() => {{ return {expression}; }})())")
        return json.loads(raw) if isinstance(raw, str) else raw

    def start(self, key: str, promise: str) -> None:
        self.handle.evaluate_js(
            "(() => { window.__t = window.__t || {}; "
            f"Promise.resolve().then(() => {promise}).then("
            f"v => {{ window.__t[{json.dumps(key)}] = {{ok: v === undefined ? null : v}}; }}, "
            f"e => {{ window.__t[{json.dumps(key)}] = "
            "{err: String(e && e.name) + ': ' + String(e && e.message)}; }"
            "); return 1; })()"
        )

    def result(self, key: str, timeout: float = 15) -> Any:
        def ready() -> Any:
            try:
                return self.value(f"(window.__t || {{}})[{json.dumps(key)}] || null")
            except Exception:
                return None

        outcome = wait_for(ready, timeout, 0.05)
        if outcome is None:
            return {"err": "timeout"}
        return outcome

    def run(self, key: str, promise: str, timeout: float = 15) -> Any:
        self.start(key, promise)
        return self.result(key, timeout)

    def loaded(self, path: str, timeout: float = 15) -> str:
        def ready() -> str | None:
            # Ask the document itself: the view's URL changes when a navigation starts, while the
            # old document (complete, too) is still the one that answers scripts.
            try:
                raw = self.handle.evaluate_js("JSON.stringify([location.href, document.readyState])")
                url, state = json.loads(raw) if isinstance(raw, str) else ("", "")
            except Exception:
                return None
            return url if state == "complete" and url.split("?")[0].endswith(path) else None

        return str(wait_for(ready, timeout) or "")


# --------------------------------------------------------------------------------------------------
# scenarios


def full(page: Page, config: dict[str, Any], result: dict[str, Any], shots: Path, origin: str) -> None:
    """Everything a page does, one after another, in one window."""
    result["url"] = page.loaded("/")
    result["origin"] = page.value("location.origin")
    result["secure_context"] = page.value("window.isSecureContext")
    opts = config["options"]
    result["colour"] = painted(shots / "page.png", opts)

    result["json"] = page.run(
        "json",
        "fetch('/api/echo', {method: 'POST', headers: {'Content-Type': 'application/json'}, "
        "body: JSON.stringify({a: [1, '\\u00fc']})}).then(r => r.json().then(j => "
        "({status: r.status, ok: r.ok, echo: r.headers.get('x-echo'), case: r.headers.get('x-case'), "
        "body: j})))",
    )
    result["status_fetch"] = page.run(
        "status_fetch",
        "Promise.all([404, 500, 201].map(c => fetch('/api/status/' + c).then(r => [r.status, r.ok])))",
    )
    result["case_xhr"] = page.run(
        "case_xhr",
        "new Promise(done => { const x = new XMLHttpRequest(); x.open('POST', '/api/echo'); "
        "x.setRequestHeader('Content-Type', 'application/json'); "
        "x.onload = () => done([x.getResponseHeader('X-Case'), /x-case: MiXeD Case/i.test("
        "x.getAllResponseHeaders()) && x.getAllResponseHeaders().includes('MiXeD Case')]); x.send('{}'); })",
    )
    result["inline_scripts"] = page.value("[window.inlineRan === true, window.unNoncedRan === true]")
    result["status_xhr"] = page.run(
        "status_xhr",
        "new Promise(done => { const x = new XMLHttpRequest(); x.open('GET', '/api/status/404'); "
        "x.onload = () => done([x.status, x.statusText]); x.send(); })",
    )
    result["download"] = page.run(
        "download",
        "fetch('/download').then(r => r.text().then(t => ({status: r.status, text: t, "
        "disposition: r.headers.get('content-disposition'), type: r.headers.get('content-type'), "
        "length: r.headers.get('content-length')})))",
    )
    result["big"] = page.run(
        "big",
        "fetch('/big').then(r => r.arrayBuffer()).then(b => { const v = new Uint8Array(b); "
        "return {length: v.length, first: [v[0], v[1], v[2]], last: v[v.length - 1]}; })",
        timeout=30,
    )
    result["stream"] = page.run(
        "stream",
        "(() => { const t0 = performance.now(); const seen = []; return fetch('/stream').then(r => { "
        "const reader = r.body.getReader(); const text = new TextDecoder(); "
        "const pump = () => reader.read().then(({done, value}) => { if (done) return "
        "{chunks: seen, total: Math.round(performance.now() - t0)}; "
        "seen.push([Math.round(performance.now() - t0), text.decode(value)]); return pump(); }); "
        "return pump(); }); })()",
    )
    result["sse"] = page.run(
        "sse",
        "new Promise((done, fail) => { const got = []; const es = new EventSource('/events'); "
        "es.onmessage = e => { got.push(e.data); if (got.length === 3) { es.close(); done(got); } }; "
        "es.onerror = () => { es.close(); got.length ? done(got) : fail(new Error('EventSource error')); }; "
        "})",
    )
    result["bridge"] = page.run(
        "bridge",
        "flaskdesk.api.add(2, 3).then(v => flaskdesk.api.nope().then(() => [v, 'no error'], "
        "e => [v, e.name, e.message]))",
    )
    result["bridge_context"] = page.run("bridge_context", "flaskdesk.api.where()")
    content = (
        "(() => { const b = new Uint8Array(%d); for (let i = 0; i < b.length; i++) b[i] = i %% 251; "
        "return b; })()"
    )
    expected = hashlib.sha256(bytes(i % 251 for i in range(UPLOAD_BYTES))).hexdigest()
    result["upload_expected"] = expected
    result["upload_fetch"] = page.run(
        "upload_fetch",
        f"(() => {{ const f = new FormData(); f.append('note', 'via fetch'); "
        f"f.append('up', new File([{content % UPLOAD_BYTES}], 'a.bin', "
        "{type: 'application/octet-stream'})); "
        "return fetch('/upload.json', {method: 'POST', body: f}).then(r => r.json()); })()",
    )
    result["upload_xhr"] = page.run(
        "upload_xhr",
        f"new Promise(done => {{ const f = new FormData(); f.append('note', 'via xhr'); "
        f"f.append('up', new Blob([{content % 1000}]), 'b.bin'); const x = new XMLHttpRequest(); "
        "x.open('POST', '/upload.json'); x.onload = () => done(JSON.parse(x.responseText)); x.send(f); })",
    )
    result["upload_blob_body"] = page.run(
        "upload_blob_body",
        "fetch('/api/echo', {method: 'POST', headers: {'Content-Type': 'application/json'}, "
        "body: new Blob([JSON.stringify({blob: true})])}).then(r => r.json()).then(j => j.received)",
    )
    result["cookie_js"] = page.value(
        "(() => { window.__said = []; const said = console.error; "
        "console.error = (...a) => { window.__said.push(a.join(' ')); said.apply(console, a); }; "
        "document.cookie = 'js_cookie=1; path=/'; "
        "try { new WebSocket('ws://127.0.0.1:9/x').close(); } catch (e) {} "
        "console.error = said; return document.cookie; })()"
    )
    result["console_said"] = page.value("window.__said")

    # Form POST → 302 → GET, with a session cookie and a flash message across the redirect.
    page.handle.evaluate_js(
        "document.getElementById('name').value = 'ada'; document.getElementById('send').click(); 1"
    )
    result["form_url"] = page.loaded("/hello")
    result["form_text"] = page.value(
        "[document.getElementById('hello').textContent, "
        "[...document.querySelectorAll('.flash')].map(e => e.textContent)]"
    )
    result["form_history"] = page.value("history.length")
    result["hello_colour"] = painted(shots / "hello.png", opts)

    # A multipart form navigation with a file: the most common upload of a Flask app.
    navigate_to(page, origin + "/")
    page.loaded("/")
    page.handle.evaluate_js(
        "(() => { const t = new DataTransfer(); "
        f"t.items.add(new File([{content % UPLOAD_BYTES}], 'form.bin', "
        "{type: 'application/octet-stream'})); document.getElementById('up').files = t.files; "
        "document.getElementById('upload-send').click(); return 1; })()"
    )
    result["upload_form_url"] = page.loaded("/uploaded")
    result["upload_form"] = page.value("JSON.parse(document.getElementById('upload').textContent)")

    # Flask-Login: POST /login → 302 /me, remembered.
    navigate_to(page, origin + "/")
    page.loaded("/")
    page.handle.evaluate_js("document.getElementById('login-form').submit(); 1")
    result["login_url"] = page.loaded("/me")
    result["login_text"] = page.value("document.getElementById('me').textContent")

    navigate_to(page, origin + "/unicode")
    page.loaded("/unicode")
    result["unicode"] = page.value("[document.title, document.getElementById('u').textContent]")

    navigate_to(page, origin + "/boom")
    page.loaded("/boom")
    result["error_page"] = page.value("document.body.innerText")
    navigate_to(page, origin + "/gone")
    page.loaded("/gone")
    result["missing_page"] = page.value("document.title")

    # The navigation policy still holds: other sites go to the browser, the window stays.
    navigate_to(page, origin + "/plain")
    page.loaded("/plain")
    page.handle.evaluate_js("location.href = 'https://example.org/away'; 1")
    log = Path(config["browser_log"])
    result["external_handed"] = bool(
        wait_for(lambda: log.exists() and "https://example.org/away" in log.read_text(), 5)
    )
    time.sleep(0.3)
    result["external_url"] = page.handle.get_current_url()
    page.handle.evaluate_js("location.href = 'file:///etc/passwd'; 1")
    time.sleep(0.5)
    result["file_url"] = page.handle.get_current_url()


def painted(path: Path, options: dict[str, Any]) -> float:
    """Photograph the screen until the page colour covers the window (pages paint after ``load``)."""
    needed = 0.8 * options["width"] * options["height"] / (1280 * 800)
    share = 0.0

    def enough() -> bool:
        nonlocal share
        share = colour_share(screenshot(path), PAGE_COLOUR)
        return share >= needed

    wait_for(enough, 8, 0.2)
    return share


def freeze(page: Page, config: dict[str, Any], result: dict[str, Any], shots: Path, origin: str) -> None:
    """A slow view (fetch, then a navigation) must never freeze the window."""
    page.loaded("/")
    page.start("slow", "fetch('/slow?seconds=3').then(r => r.text())")
    latencies = []
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        started = time.monotonic()
        page.handle.evaluate_js("1 + 1")
        latencies.append(time.monotonic() - started)
        time.sleep(0.05)
    result["js_latency_max"] = max(latencies)
    result["js_calls"] = len(latencies)
    result["slow"] = page.result("slow", 10)
    # A slow navigation: the old page stays interactive meanwhile.
    page.handle.evaluate_js("location.href = '/slow?seconds=2'; 1")
    started = time.monotonic()
    during = []
    while time.monotonic() - started < 1.5:
        t = time.monotonic()
        page.handle.evaluate_js("1")
        during.append(time.monotonic() - t)
        time.sleep(0.05)
    result["nav_latency_max"] = max(during)
    result["slow_nav_url"] = page.loaded("/slow")


def close_during_write(
    page: Page, config: dict[str, Any], result: dict[str, Any], shots: Path, origin: str
) -> None:
    """Start a 2 s write, close the window while it runs (the test checks the file afterwards)."""
    page.loaded("/")
    page.start(
        "write",
        "fetch('/slow-write', {method: 'POST', headers: {'Content-Type': 'application/json'}, "
        "body: JSON.stringify({text: 'written while the window closed'})})",
    )
    data = Path(config["data_dir"])
    result["started"] = bool(wait_for(lambda: (data / "started").exists(), 10))
    result["closed_at"] = time.time()


def sockets(page: Page, config: dict[str, Any], result: dict[str, Any], shots: Path, origin: str) -> None:
    """Which TCP sockets the whole process tree holds while the page is up and has made requests."""
    result["url"] = page.loaded("/")
    result["bridge"] = page.run("bridge", "flaskdesk.api.add(1, 1)")
    result["tree"] = sorted(process_tree(os.getpid()))
    result["tcp"] = tcp_sockets(process_tree(os.getpid()))
    ss = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout.splitlines()
    result["ss_mine"] = [line for line in ss if f"pid={os.getpid()}," in line]


SCENARIOS: dict[str, Callable[[Page, dict[str, Any], dict[str, Any], Path, str], None]] = {
    "full": full,
    "freeze": freeze,
    "close_during_write": close_during_write,
    "sockets": sockets,
}


def navigate_to(page: Page, url: str) -> None:
    page.handle.load_url(url)


# --------------------------------------------------------------------------------------------------
# running


class SchemeWindow:
    """:class:`WindowHandle` over a pywebview window on the scheme (``load_url`` goes native)."""

    def __init__(self, window: Any) -> None:
        self._window = window

    def load_url(self, url: str) -> None:
        navigate(self._window, url)

    def evaluate_js(self, script: str) -> Any:
        return self._window.run_js(script)

    def get_current_url(self) -> str | None:
        url = self._window.get_current_url()
        return None if url is None else str(url)

    def destroy(self) -> None:
        self._window.destroy()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
    config = json.loads(Path(sys.argv[1]).read_text())
    out, shots = Path(config["out"]), Path(config["shot_dir"])
    storage = Path(config["storage_dir"])
    storage.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"events": []}
    app, desktop = create_app(config["data_dir"])
    desktop.bridge.context = app.app_context
    internal = {"bridge": desktop.bridge.wsgi_app, "flaskdesk.js": script_wsgi_app}
    options = WindowOptions(**config["options"])
    scenario = SCENARIOS[config["scenario"]]
    started = time.monotonic()

    def run_scenario(handle: WindowHandle, origin: str) -> None:
        result["shown_after"] = time.monotonic() - started
        try:
            scenario(Page(handle), config, result, shots, origin)
        except Exception as error:  # report, never hang the test
            logging.exception("scenario failed")
            result["error"] = repr(error)
        finally:
            result["closing_at"] = time.monotonic() - started
            handle.destroy()

    if config["transport"] == "loopback":
        server = Server(lambda e, s: [], name="flaskdesk-child")
        guard = Guard(app, port=server.port, token=Guard.new_token(), policy=GuardPolicy(), internal=internal)
        server.swap_app(guard)
        server.start()
        backend = select_backend(config["backend"])
        session = WindowSession(
            url=guard.launch_url("/"),
            options=options,
            app_origin=server.url,
            storage_dir=storage,
            on_shown=lambda handle: threading.Thread(target=run_scenario, args=(handle, server.url)).start(),
        )
        try:
            backend.run(session)
        finally:
            result["drained"] = server.shutdown(10)
    else:
        transport = InProcessApp(
            SchemeGuard(app, origin=ORIGIN, policy=GuardPolicy(), internal=internal),
            origin=ORIGIN,
            cookie_file=storage / "scheme-cookies.lwp",
            name="flaskdesk-child",
        )
        transport.start()
        try:
            run_scheme_window(config["backend"], transport, options, storage, run_scenario)
        finally:
            closing = time.monotonic()
            result["drained"] = transport.shutdown(10)
            result["drain_seconds"] = time.monotonic() - closing
    result["run_seconds"] = time.monotonic() - started
    out.write_text(json.dumps(result))
    return 0


def run_scheme_window(
    toolkit: str,
    transport: InProcessApp,
    options: WindowOptions,
    storage: Path,
    run_scenario: Callable[[WindowHandle, str], None],
) -> None:
    """What ``WebviewBackend.run`` does for ``transport="scheme"`` once wired (``ui/scheme.py``, "Wiring")."""
    select_backend(toolkit)  # the same checks (toolkit importable, display answers)
    if toolkit == "qt":
        from flaskdesk.ui._qt import QtHooks

        hooks: Any = QtHooks()
    else:
        from flaskdesk.ui._gtk import GtkHooks

        hooks = GtkHooks()
    scheme = SchemeTransport(transport.handle)
    hooks.prepare()
    scheme.prepare(toolkit)
    webview = importlib.import_module("webview")
    window = webview.create_window(
        options.title,
        url=None,  # an app:// URL here would start pywebview's own HTTP server
        width=options.width,
        height=options.height,
        min_size=options.min_size,
        background_color=options.background_color,
        text_select=True,
    )

    def attach_hooks() -> None:
        hooks.attach(
            window,
            policy=scheme.policy,
            options=options,
            storage_dir=storage.resolve(),
            dev=False,
            trust_first_navigation=True,  # pywebview's own blank page, replaced at once
        )

    window.events.before_show += attach_hooks
    install_scheme_transport(window, toolkit, scheme, scheme.url("/"))
    window.events.shown += lambda: threading.Thread(
        target=run_scenario, args=(SchemeWindow(window), ORIGIN), name="scenario"
    ).start()
    webview.start(gui=toolkit, debug=False, private_mode=False, storage_path=str(storage.resolve()))


if __name__ == "__main__":
    sys.exit(main())
