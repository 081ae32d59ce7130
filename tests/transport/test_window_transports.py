"""Real windows, both toolkits, both transports, under Xvfb, through the real launch.

The app (``transport_site``) is launched the way ``flaskdesk run`` launches any app, with the
transport chosen the way a user chooses it (``FLASKDESK_TRANSPORT``): settings → ``launch.py``
(``Server`` + ``Guard``, or ``InProcessApp`` + ``SchemeGuard``) → ``WebviewBackend.run``. The test
drives the real window over the automation channel (:class:`~flaskdesk.testing.driver.AppDriver`),
so every assertion below holds for both transports unless it says otherwise.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from PIL import Image

from flaskdesk.app.paths import AppPaths
from flaskdesk.launch import SCHEME_COOKIE_FILE
from flaskdesk.testing.driver import AppDriver, DriverError

pytestmark = [pytest.mark.window, pytest.mark.timeout(150)]

HERE = Path(__file__).parent
TARGET = "transport_site:create_site()"
APP_NAME = "Transport site"  # the title, as no [tool.flaskdesk] name is set
BACKENDS = ["qt", "gtk"]
TRANSPORTS = ["loopback", "scheme"]
PAGE_COLOUR = "#c2185b"  # transport_site/static/site.css
UPLOAD_BYTES = 300_000  # bigger than one 16 KiB read: catches truncated Blob parts
#: Opens IndexedDB ``t`` (store ``s``) and runs ``%s`` once it is open (``r``: the request, ``ok``).
INDEXED_DB = (
    "new Promise((ok, no) => { const r = indexedDB.open('t', 1); "
    "r.onupgradeneeded = () => r.result.createObjectStore('s'); r.onerror = () => no(r.error); "
    "r.onsuccess = () => { %s; }; })"
)


# --------------------------------------------------------------------------------------------------
# launching and looking


class Site:
    """Launches ``transport_site`` over one transport and backend; everything it needs is in ``tmp_path``."""

    def __init__(self, display: str, tmp_path: Path, backend: str, transport: str) -> None:
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.tmp_path = tmp_path
        self.backend = backend
        self.transport = transport
        self.data = tmp_path / "site"  # what the views write
        self.data_dir = tmp_path / "appdata"  # FLASKDESK_DATA_DIR: logs, web storage, cookies
        self.browser_log = tmp_path / "browser.log"
        browser = tmp_path / "browser.sh"
        browser.write_text(f'#!/bin/sh\necho "$1" >> {self.browser_log}\n')
        browser.chmod(0o755)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("QTWEBENGINE_", "FLASKDESK_"))}
        self.env = {
            **env,
            "DISPLAY": display,
            "BROWSER": str(browser),
            "FLASKDESK_GUI": backend,
            "FLASKDESK_TRANSPORT": transport,
            "TRANSPORT_SITE_DATA": str(self.data),
            "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
            "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        }
        self.drivers: list[AppDriver] = []
        self.shots = tmp_path / "shots"
        self.shots.mkdir(exist_ok=True)

    def launch(self) -> AppDriver:
        driver = AppDriver.from_source(
            TARGET,
            cwd=HERE,
            env=self.env,
            data_dir=self.data_dir,
            artifacts_dir=self.tmp_path / f"artifacts-{len(self.drivers)}",
        )
        self.drivers.append(driver)
        return driver.start()

    @property
    def origin(self) -> str:
        return "app://flaskdesk" if self.transport == "scheme" else "http://127.0.0.1"

    def close(self) -> None:
        for driver in self.drivers:
            driver.stop()


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return cast(str, request.param)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return cast(str, request.param)


@pytest.fixture
def site(x_display: str, tmp_path: Path, backend: str, transport: str) -> Iterator[Site]:
    launched = Site(x_display, tmp_path, backend, transport)
    try:
        yield launched
    finally:
        launched.close()


def attempt(app: AppDriver, js: str, timeout: float = 15) -> dict[str, Any]:
    """``{"ok": value}`` of an expression (a promise is awaited), or ``{"err": "Name: message"}``."""
    try:
        return {"ok": app.evaluate(js, timeout=timeout)}
    except DriverError as error:
        return {"err": str(error)}


def ok(outcome: dict[str, Any]) -> Any:
    assert "err" not in outcome, outcome
    return outcome["ok"]


def wait_for(predicate: Callable[[], Any], timeout: float, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def loaded(app: AppDriver, path: str, timeout: float = 15) -> str:
    """The URL once the window's *document* is ``path`` and complete (the view's URL changes earlier)."""

    def ready() -> str | None:
        try:
            url, state = app.evaluate("[location.href, document.readyState]")
        except DriverError:
            return None  # between documents
        return str(url) if state == "complete" and str(url).split("?")[0].endswith(path) else None

    return str(wait_for(ready, timeout) or "")


def colour_share(path: Path, colour: str, tolerance: int = 3) -> float:
    want = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        counts = cast("list[tuple[int, tuple[int, int, int]]]", rgb.getcolors(maxcolors=1 << 24) or [])
        hits = sum(
            n for n, pixel in counts if all(abs(a - b) <= tolerance for a, b in zip(pixel, want, strict=True))
        )
        return hits / (rgb.width * rgb.height)


def painted(app: AppDriver, path: Path) -> float:
    """Photograph the window until the page colour covers most of it (pages paint after ``load``)."""
    share = 0.0

    def enough() -> bool:
        nonlocal share
        share = colour_share(app.screenshot(path), PAGE_COLOUR)
        return share >= 0.8

    wait_for(enough, 8, 0.2)
    return share


# --------------------------------------------------------------------------------------------------
# what a page does


def test_everything_a_page_does(site: Site) -> None:
    app = site.launch()
    origin = app.evaluate("location.origin")
    if site.transport == "scheme":
        assert origin == "app://flaskdesk"
        assert app.url == "app://flaskdesk/"
    else:
        assert origin.startswith("http://127.0.0.1:")
    assert f"serving on {origin}" in app.log_text()
    assert app.evaluate("window.isSecureContext") is True  # app:// is registered secure

    # Template page + static CSS: the stylesheet's colour covers the window (look at page.png).
    assert loaded(app, "/") == f"{origin}/"
    assert painted(app, site.shots / "page.png") >= 0.8

    # JSON fetch POST, headers, and real status codes for fetch and XHR (Qt: restored by scheme.js).
    echoed = ok(
        attempt(
            app,
            "fetch('/api/echo', {method: 'POST', headers: {'Content-Type': 'application/json'}, "
            "body: JSON.stringify({a: [1, '\\u00fc']})}).then(r => r.json().then(j => "
            "({status: r.status, ok: r.ok, echo: r.headers.get('x-echo'), case: r.headers.get('x-case'), "
            "body: j})))",
        )
    )
    assert echoed["status"] == 200 and echoed["ok"] and echoed["echo"] == "yes"
    assert echoed["body"]["received"] == {"a": [1, "\u00fc"]}
    assert echoed["body"]["scheme"] == ("app" if site.transport == "scheme" else "http")
    statuses = "Promise.all([404, 500, 201].map(c => fetch('/api/status/' + c).then(r => [r.status, r.ok])))"
    assert ok(attempt(app, statuses)) == [[404, False], [500, False], [201, True]]
    assert ok(
        attempt(
            app,
            "new Promise(done => { const x = new XMLHttpRequest(); x.open('GET', '/api/status/404'); "
            "x.onload = () => done([x.status, x.statusText]); x.send(); })",
        )
    ) == [404, "NOT FOUND"]
    # Header values keep their case (Qt lower-cases them; scheme.js restores them for scripts).
    assert echoed["case"] == "MiXeD Case"
    assert ok(
        attempt(
            app,
            "new Promise(done => { const x = new XMLHttpRequest(); x.open('POST', '/api/echo'); "
            "x.setRequestHeader('Content-Type', 'application/json'); "
            "x.onload = () => done([x.getResponseHeader('X-Case'), "
            "x.getAllResponseHeaders().includes('MiXeD Case')]); x.send('{}'); })",
        )
    ) == ["MiXeD Case", True]
    # CSP nonces work (inline script with the nonce runs, without it does not).
    assert app.evaluate("[window.inlineRan === true, window.unNoncedRan === true]") == [True, False]

    # send_file: headers as over HTTP; a 9 MiB file streams through whole.
    download = ok(
        attempt(
            app,
            "fetch('/download').then(r => r.text().then(t => ({status: r.status, text: t, "
            "disposition: r.headers.get('content-disposition'), type: r.headers.get('content-type'), "
            "length: r.headers.get('content-length')})))",
        )
    )
    assert download["text"] == "a,b\n1,2\n"
    assert download["disposition"] == "attachment; filename=report.csv"
    assert download["type"] == "text/csv; charset=utf-8" and download["length"] == "8"
    big = attempt(
        app,
        "fetch('/big').then(r => r.arrayBuffer()).then(b => { const v = new Uint8Array(b); "
        "return {length: v.length, first: [v[0], v[1], v[2]], last: v[v.length - 1]}; })",
        timeout=30,
    )
    assert ok(big) == {"length": 9 * 1024 * 1024, "first": [0, 1, 2], "last": 255}

    # Streaming: chunks arrive as the view yields them (0.4 s apart), and an event stream works.
    stream = ok(
        attempt(
            app,
            "(() => { const t0 = performance.now(); const seen = []; return fetch('/stream').then(r => { "
            "const reader = r.body.getReader(); const text = new TextDecoder(); "
            "const pump = () => reader.read().then(({done, value}) => { if (done) return "
            "{chunks: seen, total: Math.round(performance.now() - t0)}; "
            "seen.push([Math.round(performance.now() - t0), text.decode(value)]); return pump(); }); "
            "return pump(); }); })()",
        )
    )
    assert [text for _, text in stream["chunks"]] == ["chunk0;", "chunk1;", "chunk2;"]
    assert stream["chunks"][0][0] < 300 and stream["total"] > 700
    assert ok(
        attempt(
            app,
            "new Promise((done, fail) => { const got = []; const es = new EventSource('/events'); "
            "es.onmessage = e => { got.push(e.data); if (got.length === 3) { es.close(); done(got); } }; "
            "es.onerror = () => { es.close(); got.length ? done(got) : fail(new Error('EventSource error')); "
            "}; })",
        )
    ) == ["event0", "event1", "event2"]

    # The bridge works over the transport, errors included.
    assert ok(
        attempt(
            app,
            "flaskdesk.api.add(2, 3).then(v => flaskdesk.api.nope().then(() => [v, 'no error'], "
            "e => [v, e.name, e.message]))",
        )
    ) == [5, "LookupError", "no function named 'nope' is exposed"]

    # Uploads: multipart by fetch, by XHR, a Blob body, and a form navigation with a file.
    content = (
        "(() => { const b = new Uint8Array(%d); for (let i = 0; i < b.length; i++) b[i] = i %% 251; "
        "return b; })()"
    )
    expected = hashlib.sha256(bytes(i % 251 for i in range(UPLOAD_BYTES))).hexdigest()
    by_fetch = ok(
        attempt(
            app,
            "(() => { const f = new FormData(); f.append('note', 'via fetch'); "
            f"f.append('up', new File([{content % UPLOAD_BYTES}], 'a.bin', "
            "{type: 'application/octet-stream'})); "
            "return fetch('/upload.json', {method: 'POST', body: f}).then(r => r.json()); })()",
        )
    )
    assert by_fetch["sha256"] == expected and by_fetch["note"] == "via fetch"
    by_xhr = ok(
        attempt(
            app,
            "new Promise(done => { const f = new FormData(); f.append('note', 'via xhr'); "
            f"f.append('up', new Blob([{content % 1000}]), 'b.bin'); const x = new XMLHttpRequest(); "
            "x.open('POST', '/upload.json'); x.onload = () => done(JSON.parse(x.responseText)); "
            "x.send(f); })",
        )
    )
    assert by_xhr["size"] == 1000 and by_xhr["note"] == "via xhr"
    assert ok(
        attempt(
            app,
            "fetch('/api/echo', {method: 'POST', headers: {'Content-Type': 'application/json'}, "
            "body: new Blob([JSON.stringify({blob: true})])}).then(r => r.json()).then(j => j.received)",
        )
    ) == {"blob": True}
    app.evaluate(
        "(() => { const t = new DataTransfer(); "
        f"t.items.add(new File([{content % UPLOAD_BYTES}], 'form.bin', "
        "{type: 'application/octet-stream'})); document.getElementById('up').files = t.files; "
        "document.getElementById('upload-send').click(); return 1; })()"
    )
    assert loaded(app, "/uploaded") == f"{origin}/uploaded"
    uploaded = app.evaluate("JSON.parse(document.getElementById('upload').textContent)")
    assert uploaded["sha256"] == expected
    assert uploaded["filename"] == "form.bin" and uploaded["note"] == "a note"

    # Form POST → 302 → GET, with the session cookie and a flash message across the redirect.
    app.goto("/")
    app.fill("#name", "ada")
    app.click("#send")
    assert loaded(app, "/hello") == f"{origin}/hello"
    assert app.evaluate(
        "[document.getElementById('hello').textContent, "
        "[...document.querySelectorAll('.flash')].map(e => e.textContent)]"
    ) == ["Hello ada", ["saved ada"]]
    assert painted(app, site.shots / "hello.png") >= 0.8  # the stylesheet on a second page

    # Flask-Login: POST /login → 302 /me, remembered.
    app.goto("/")
    app.evaluate("(document.getElementById('login-form').submit(), 1)")
    assert loaded(app, "/me") == f"{origin}/me"
    assert app.text("#me") == "ada"

    # Encodings and error pages look as they do over HTTP.
    app.goto("/unicode")
    assert app.evaluate("[document.title, document.getElementById('u').textContent]") == [
        "\u00fc",
        "gr\u00fc\u00dfe \u2713",
    ]
    app.goto("/boom")
    error_page = app.evaluate("document.body.innerText")
    assert error_page.startswith("Something went wrong") and "request id" in error_page
    app.goto("/gone")
    assert app.evaluate("document.title") == "404 Not Found"

    # The navigation policy holds on both transports: other sites go to the browser, the window stays.
    app.goto("/plain")
    app.evaluate("(location.href = 'https://example.org/away', 1)")
    log = site.browser_log
    assert wait_for(lambda: log.exists() and "https://example.org/away" in log.read_text(), 5)
    time.sleep(0.3)
    assert app.url == f"{origin}/plain"
    app.evaluate("(location.href = 'file:///etc/passwd', 1)")
    time.sleep(0.5)
    assert app.url == f"{origin}/plain"

    # document.cookie: the engines keep no cookies for a custom scheme (server cookies are in the jar).
    cookie_js = app.evaluate(
        "(() => { window.__said = []; const said = console.error; "
        "console.error = (...a) => { window.__said.push(a.join(' ')); said.apply(console, a); }; "
        "document.cookie = 'js_cookie=1; path=/'; "
        "try { new WebSocket('ws://127.0.0.1:9/x').close(); } catch (e) {} "
        "console.error = said; return document.cookie; })()"
    )
    said = " | ".join(app.evaluate("window.__said"))
    if site.transport == "scheme":
        assert cookie_js == ""
        # ... and what the scheme cannot do is said, not silent.
        assert "document.cookie does not work over app://" in said
        assert "WebSockets cannot reach the app over app://" in said
    else:
        assert cookie_js == "js_cookie=1"
        assert "flaskdesk:" not in said

    assert app.close() == 0
    text = app.log_text()
    assert "closed cleanly" in text and "still running" not in text


def test_slow_view_never_freezes_the_window(site: Site) -> None:
    app = site.launch()
    app.evaluate("(window.__slow = fetch('/slow?seconds=3').then(r => r.text()), 1)")
    latencies = []
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        started = time.monotonic()
        app.evaluate("1 + 1")
        latencies.append(time.monotonic() - started)
        time.sleep(0.05)
    assert len(latencies) >= 10
    assert max(latencies) < 0.5  # the GUI thread answered all along the 3 s request
    assert "slow done" in app.evaluate("window.__slow", timeout=10)

    # A slow navigation: the old page stays interactive meanwhile.
    app.evaluate("(location.href = '/slow?seconds=2', 1)")
    during = []
    started = time.monotonic()
    while time.monotonic() - started < 1.5:
        began = time.monotonic()
        app.evaluate("1")
        during.append(time.monotonic() - began)
        time.sleep(0.05)
    assert max(during) < 0.5
    assert loaded(app, "/slow").endswith("/slow?seconds=2")
    assert app.close() == 0


def test_in_flight_write_survives_closing(site: Site) -> None:
    app = site.launch()
    app.evaluate(
        "(fetch('/slow-write', {method: 'POST', headers: {'Content-Type': 'application/json'}, "
        "body: JSON.stringify({text: 'written while the window closed'})}), 1)"
    )
    assert wait_for(lambda: (site.data / "started").exists(), 10)
    closing = time.monotonic()
    assert app.close() == 0  # as the user closes the window: the launch drains, then exits
    assert time.monotonic() - closing > 0.5, "the app did not wait for the running request"
    assert (site.data / "finished").read_text() == "written while the window closed"
    assert "closed cleanly" in app.log_text()


def test_sign_in_and_permanent_sessions_survive_a_restart(site: Site) -> None:
    """Flask-Login's "remember me", a permanent session and the page's web storage come back on the next run.

    Over loopback the engine keeps the cookies in the app's web storage; over the scheme
    flaskdesk's own jar does (``scheme-cookies.lwp``), as neither engine keeps any for ``app://``.
    """
    with site.launch() as first:
        first.evaluate("(document.getElementById('login-form').submit(), 1)")
        assert loaded(first, "/me")
        assert first.text("#me") == "ada"
        kept = "fetch('/keep', {method: 'POST', headers: {'Content-Type': 'application/json'}, "
        assert first.evaluate(kept + "body: JSON.stringify({value: 'kept'})}).then(r => r.json())") == {
            "kept": "kept"
        }
        first.evaluate("(localStorage.setItem('remembered', 'yes'), 1)")
        store = "r.result.transaction('s', 'readwrite').objectStore('s').put('kept', 'k').onsuccess = "
        assert first.evaluate(INDEXED_DB % (store + "() => ok('stored')")) == "stored"
        assert first.close() == 0
    jar = AppPaths.for_app(APP_NAME, data_root=site.data_dir).web_storage_dir / SCHEME_COOKIE_FILE
    if site.transport == "scheme":
        assert oct(jar.stat().st_mode & 0o777) == "0o600"
        assert "remember_token" in jar.read_text()
    with site.launch() as second:
        second.goto("/me")
        assert second.text("#me") == "ada"  # signed in again by the remember cookie alone
        second.goto("/kept")
        assert second.text("#kept") == "kept"
        assert second.evaluate("localStorage.getItem('remembered')") == "yes"
        read = "const g = r.result.transaction('s').objectStore('s').get('k'); "
        read += "g.onsuccess = () => ok(g.result)"
        assert second.evaluate(INDEXED_DB % read) == "kept"
        assert second.close() == 0


# --------------------------------------------------------------------------------------------------
# no port


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
    """TCP sockets (v4 and v6) the processes hold: their fds' socket inodes in ``/proc/net/tcp*``.

    ``listening``: ``local_address`` values in state LISTEN; ``other``: any other state.
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


def listening_by(pid: int) -> list[str]:
    lines = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout.splitlines()
    return [line for line in lines if f"pid={pid}," in line]


@pytest.mark.parametrize("transport", ["scheme"], indirect=True)
def test_scheme_mode_opens_no_tcp_socket(site: Site, x_display: str, tmp_path: Path) -> None:
    app = site.launch()
    assert app.url == "app://flaskdesk/"
    assert app.evaluate("flaskdesk.api.add(1, 1)") == 2  # requests went through
    assert app.pid is not None
    tree = process_tree(app.pid)
    assert len(tree) > 1  # the engine's helper processes are looked at too
    assert tcp_sockets(tree) == {"listening": [], "other": []}
    assert listening_by(app.pid) == []
    assert "serving on app://flaskdesk" in app.log_text()
    assert app.close() == 0

    # The same probe sees the loopback server, so an empty answer above means something.
    loopback = Site(x_display, tmp_path / "loopback", site.backend, "loopback")
    try:
        other = loopback.launch()
        assert other.pid is not None
        assert len(tcp_sockets(process_tree(other.pid))["listening"]) == 1
        (line,) = listening_by(other.pid)
        assert "127.0.0.1:" in line
        assert other.close() == 0
    finally:
        loopback.close()
