"""The in-process transport without a window: environ, guard rules, cookies, streaming, draining.

Requests go through ``InProcessApp.handle`` exactly as the engine adapters send them, to the fixture
app (``transport_site``) behind the real :class:`SchemeGuard`, so what is tested here is what a
window gets, minus the engine.
"""

from __future__ import annotations

import hashlib
import json
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from transport_site import BIG_FILE_BYTES, create_app

from flaskdesk.app.guard import GuardPolicy
from flaskdesk.app.inprocess import (
    UPLOAD_FIELD,
    UPLOAD_PATH,
    UPLOAD_TYPE_HEADER,
    InProcessApp,
    InProcessResponse,
    SchemeGuard,
    build_environ,
    scheme_problems,
)
from flaskdesk.ui import scheme as ui_scheme
from flaskdesk.ui.bridge import script_wsgi_app

ORIGIN = "app://flaskdesk"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[InProcessApp]:
    transport = build_stack(tmp_path)
    yield transport
    assert transport.shutdown(5)


def build_stack(tmp_path: Path, **options: Any) -> InProcessApp:
    app, desktop = create_app(tmp_path / "data")
    desktop.bridge.context = app.app_context
    guard = SchemeGuard(
        app,
        origin=ORIGIN,
        policy=GuardPolicy(),
        internal={"bridge": desktop.bridge.wsgi_app, "flaskdesk.js": script_wsgi_app},
    )
    transport = InProcessApp(
        guard,
        origin=ORIGIN,
        threads=4,
        cookie_file=tmp_path / "cookies.lwp",
        name="flaskdesk-test",
        **options,
    )
    transport.start()
    return transport


def call(
    transport: InProcessApp,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    initiator: str | None = ORIGIN,
    timeout: float = 10,
) -> tuple[InProcessResponse, bytes]:
    """One request as an engine makes it; the response and its whole body."""
    response = transport.handle(method, ORIGIN + path, list(headers), body, initiator=initiator)
    return response, collect(response, timeout)


def collect(response: InProcessResponse, timeout: float = 10) -> bytes:
    head = threading.Event()
    response.on_head(lambda _: head.set())
    assert head.wait(timeout), f"no head for {response!r}"
    if response.body is not None:
        return response.body
    data = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        chunk = response.read(1 << 16)
        if chunk is None:
            return bytes(data)
        if chunk:
            data += chunk
        else:
            time.sleep(0.005)
    raise AssertionError(f"{response!r} did not end")


def header(response: InProcessResponse, name: str) -> str | None:
    return dict((k.lower(), v) for k, v in response.headers).get(name.lower())


# -- environ ------------------------------------------------------------------------------------


def test_environ_is_pep3333_for_the_scheme() -> None:
    environ = build_environ(
        "post",
        "app://flaskdesk/a%20b/%C3%BC?x=1&y=%20",
        [
            ("Content-Type", "application/json"),
            ("X-A", "1"),
            ("x-a", "2"),
            ("Cookie", "a=1"),
            ("Cookie", "b=2"),
        ],
        b"{}",
        initiator=ORIGIN,
    )
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["PATH_INFO"] == "/a b/\u00c3\u00bc"  # latin-1 of the UTF-8 bytes, as servers do
    assert environ["QUERY_STRING"] == "x=1&y=%20"
    assert environ["HTTP_HOST"] == "flaskdesk"
    assert environ["wsgi.url_scheme"] == "app"
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["CONTENT_LENGTH"] == "2"
    assert environ["HTTP_X_A"] == "1, 2"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ["wsgi.input"].read() == b"{}"
    assert environ["flaskdesk.initiator"] == ORIGIN
    assert environ["flaskdesk.transport"] == "scheme"


def test_upload_constants_agree_between_the_rooms() -> None:
    """``app/`` and ``ui/`` may not import each other, so the page script's names are kept twice."""
    assert (UPLOAD_PATH, UPLOAD_FIELD, UPLOAD_TYPE_HEADER) == (
        ui_scheme.UPLOAD_PATH,
        ui_scheme.UPLOAD_FIELD,
        ui_scheme.UPLOAD_TYPE_HEADER,
    )


# -- pages, forms, JSON ---------------------------------------------------------------------------


def test_page_is_guarded_html_with_the_script_and_no_cookie_needed(stack: InProcessApp) -> None:
    response, body = call(stack, "GET", "/", initiator="")
    assert response.status == 200 and response.reason == "OK"
    assert not response.streaming
    assert b"transport index" in body
    assert b'src="/__flaskdesk__/flaskdesk.js"' in body
    csp = header(response, "Content-Security-Policy") or ""
    assert "script-src 'self' 'nonce-" in csp and "object-src 'none'" in csp
    assert header(response, "Referrer-Policy") == "same-origin"
    assert header(response, "X-Content-Type-Options") == "nosniff"
    css, css_body = call(stack, "GET", "/static/site.css")
    assert css.status == 200 and b"#c2185b" in css_body
    assert css.content_type.startswith("text/css")


def test_form_post_redirects_and_the_session_cookie_carries_over(stack: InProcessApp) -> None:
    posted, _ = call(
        stack,
        "POST",
        "/form",
        [("Content-Type", "application/x-www-form-urlencoded"), ("Origin", "null")],
        b"name=ada",
    )
    assert posted.status == 302
    assert posted.redirect == f"{ORIGIN}/hello"
    assert header(posted, "Set-Cookie") is None  # the jar took it
    assert stack.cookies.names() == ["session"]
    _page, body = call(stack, "GET", "/hello")
    assert b"Hello ada" in body and b"saved ada" in body


def test_json_post_round_trip(stack: InProcessApp) -> None:
    response, body = call(
        stack,
        "POST",
        "/api/echo",
        [("Content-Type", "application/json")],
        json.dumps({"a": [1, "ü"]}).encode(),
    )
    assert response.status == 200 and header(response, "X-Echo") == "yes"
    data = json.loads(body)
    assert data["received"] == {"a": [1, "ü"]}
    assert data["url"] == f"{ORIGIN}/api/echo" and data["scheme"] == "app"


def test_error_statuses_and_pages(stack: InProcessApp) -> None:
    missing, _ = call(stack, "GET", "/gone")
    assert (missing.status, missing.reason) == (404, "NOT FOUND")
    boom, body = call(stack, "GET", "/boom")
    assert boom.status == 500
    assert b"request id" in body and b"failed on purpose" not in body  # the guard's generic page


def test_head_has_headers_and_no_body(stack: InProcessApp) -> None:
    response, body = call(stack, "HEAD", "/download")
    assert response.status == 200 and body == b""
    assert header(response, "Content-Disposition") == "attachment; filename=report.csv"


def test_bridge_call(stack: InProcessApp) -> None:
    body = json.dumps({"name": "add", "args": [2, 3], "kwargs": {}}).encode()
    _response, reply = call(
        stack, "POST", "/__flaskdesk__/bridge", [("Content-Type", "application/json")], body
    )
    assert json.loads(reply) == {"ok": True, "result": 5}
    unknown = json.dumps({"name": "__class__", "args": [], "kwargs": {}}).encode()
    _refused, reply = call(
        stack, "POST", "/__flaskdesk__/bridge", [("Content-Type", "application/json")], unknown
    )
    assert json.loads(reply)["ok"] is False


# -- uploads and downloads ------------------------------------------------------------------------


def multipart(boundary: str, content: bytes) -> bytes:
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="up"; filename="f.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )


def test_multipart_upload(stack: InProcessApp) -> None:
    content = bytes(range(256)) * 4000
    body = multipart("XyZ", content)
    _response, reply = call(
        stack, "POST", "/upload.json", [("Content-Type", "multipart/form-data; boundary=XyZ")], body
    )
    data = json.loads(reply)
    assert data["size"] == len(content) and data["sha256"] == hashlib.sha256(content).hexdigest()
    assert data["note"] == "hi" and data["filename"] == "f.bin"


def test_parked_upload_is_swapped_in_once(stack: InProcessApp) -> None:
    content = b"parked bytes" * 1000
    body = multipart("Bnd", content)
    parked, key = call(
        stack,
        "POST",
        UPLOAD_PATH,
        [
            ("Content-Type", "application/octet-stream"),
            (UPLOAD_TYPE_HEADER, "multipart/form-data; boundary=Bnd"),
        ],
        body,
        initiator=None,
    )
    assert parked.status == 200
    stand_in = f"{UPLOAD_FIELD}={key.decode()}".encode()
    form = [("Content-Type", "application/x-www-form-urlencoded"), ("Origin", ORIGIN)]
    _response, reply = call(stack, "POST", "/upload.json", form, stand_in, initiator=None)
    assert json.loads(reply)["sha256"] == hashlib.sha256(content).hexdigest()
    again, _ = call(stack, "POST", "/upload.json", form, stand_in, initiator=None)
    assert again.status == 400  # single use: the stand-in body alone has no file


def test_parking_needs_a_multipart_type_and_the_app_origin(stack: InProcessApp) -> None:
    plain = [("Content-Type", "application/octet-stream"), (UPLOAD_TYPE_HEADER, "text/plain")]
    assert call(stack, "POST", UPLOAD_PATH, plain, b"x", initiator=None)[0].status == 403
    typed = [
        ("Content-Type", "application/octet-stream"),
        (UPLOAD_TYPE_HEADER, "multipart/form-data; boundary=a"),
    ]
    assert call(stack, "POST", UPLOAD_PATH, typed, b"x", initiator="https://evil.example")[0].status == 403
    assert (
        call(stack, "POST", UPLOAD_PATH, [*typed, ("Origin", "null")], b"x", initiator=None)[0].status == 403
    )


def test_send_file_headers_and_a_streamed_big_file(stack: InProcessApp) -> None:
    small, body = call(stack, "GET", "/download")
    assert body == b"a,b\n1,2\n" and not small.streaming
    assert header(small, "Content-Disposition") == "attachment; filename=report.csv"
    assert small.content_type.startswith("text/csv") and header(small, "Content-Length") == "8"
    big, data = call(stack, "GET", "/big")
    assert big.streaming  # bigger than the whole-body limit
    assert len(data) == BIG_FILE_BYTES and data[:3] == b"\x00\x01\x02"


def test_too_big_request_body_is_refused(tmp_path: Path) -> None:
    transport = build_stack(tmp_path, max_request_body=10)
    try:
        response, _ = call(transport, "POST", "/api/echo", [("Content-Type", "application/json")], b"x" * 11)
        assert response.status == 413
    finally:
        assert transport.shutdown(5)


# -- streaming ------------------------------------------------------------------------------------


def test_stream_head_arrives_before_the_body_ends(stack: InProcessApp) -> None:
    started = time.monotonic()
    response = stack.handle("GET", f"{ORIGIN}/stream", [], b"", initiator=ORIGIN)
    head = threading.Event()
    response.on_head(lambda _: head.set())
    assert head.wait(5)
    assert time.monotonic() - started < 0.35  # the first chunk, not the whole 1.2 s body
    assert response.streaming and header(response, "Content-Length") is None
    assert collect(response) == b"chunk0;chunk1;chunk2;"
    assert time.monotonic() - started > 0.8


def test_abandoned_stream_stops_the_generator(tmp_path: Path) -> None:
    closed = threading.Event()
    app = Flask(__name__)

    @app.route("/forever")
    def forever() -> Any:
        def chunks() -> Iterator[bytes]:
            try:
                while True:
                    yield b"x" * 65536
            finally:
                closed.set()

        return app.response_class(chunks(), mimetype="application/octet-stream")

    transport = InProcessApp(app, origin=ORIGIN, threads=1, stream_buffer=1 << 18, name="flaskdesk-test")
    transport.start()
    try:
        response = transport.handle("GET", f"{ORIGIN}/forever", [], b"")
        head = threading.Event()
        response.on_head(lambda _: head.set())
        assert head.wait(5)
        assert response.read(1000)
        time.sleep(0.2)  # the worker now waits for room (backpressure), it does not spin
        response.abandon()
        assert closed.wait(5)
    finally:
        assert transport.shutdown(5)


# -- concurrency and closing ----------------------------------------------------------------------


def test_slow_view_does_not_hold_up_other_requests(stack: InProcessApp) -> None:
    slow = stack.handle("GET", f"{ORIGIN}/slow?seconds=1.5", [], b"", initiator=ORIGIN)
    started = time.monotonic()
    fast, _ = call(stack, "GET", "/plain")
    assert fast.status == 200 and time.monotonic() - started < 0.5
    assert b"slow done" in collect(slow)


def test_handle_never_blocks_the_caller(stack: InProcessApp) -> None:
    started = time.monotonic()
    responses = [stack.handle("GET", f"{ORIGIN}/slow?seconds=0.5", [], b"") for _ in range(6)]
    assert time.monotonic() - started < 0.05
    for response in responses:
        collect(response)


def test_shutdown_finishes_an_in_flight_write_and_refuses_new_requests(tmp_path: Path) -> None:
    transport = build_stack(tmp_path)
    data = tmp_path / "data"
    response = transport.handle(
        "POST",
        f"{ORIGIN}/slow-write",
        [("Content-Type", "application/json")],
        b'{"text": "kept"}',
        initiator=ORIGIN,
    )
    deadline = time.monotonic() + 5
    while not (data / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    response.abandon()  # the window went away mid-request
    closing = time.monotonic()
    assert transport.shutdown(10)
    assert time.monotonic() - closing > 1.0
    assert (data / "finished").read_text() == "kept"
    late = transport.handle("GET", f"{ORIGIN}/", [], b"")
    assert late.status == 503


def test_shutdown_reports_requests_past_the_deadline(tmp_path: Path) -> None:
    transport = build_stack(tmp_path)
    slow = transport.handle("GET", f"{ORIGIN}/slow?seconds=1.5", [], b"")
    time.sleep(0.1)
    assert transport.shutdown(0.2) is False
    collect(slow)
    for worker in transport._workers:
        worker.join(5)


def test_requests_before_start_are_refused(tmp_path: Path) -> None:
    transport = InProcessApp(Flask(__name__), origin=ORIGIN)
    assert transport.handle("GET", f"{ORIGIN}/", [], b"").status == 503


# -- cookies ----------------------------------------------------------------------------------------


def test_flask_login_remember_cookie_persists_across_runs(tmp_path: Path) -> None:
    first = build_stack(tmp_path)
    try:
        login, _ = call(
            first,
            "POST",
            "/login",
            [("Content-Type", "application/x-www-form-urlencoded"), ("Origin", ORIGIN)],
            b"user=ada",
        )
        assert login.redirect == f"{ORIGIN}/me"
        assert b"ada" in call(first, "GET", "/me")[1]
    finally:
        assert first.shutdown(5)
    saved = tmp_path / "cookies.lwp"
    assert "remember_token" in saved.read_text() and "session=" not in saved.read_text()
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    second = build_stack(tmp_path)  # a new run: only the persistent remember cookie is back
    try:
        assert second.cookies.names() == ["remember_token"]
        page, body = call(second, "GET", "/me")
        assert page.status == 200 and b"ada" in body
    finally:
        assert second.shutdown(5)


def test_logged_out_user_is_refused(stack: InProcessApp) -> None:
    response, _ = call(stack, "GET", "/me")
    assert response.status == 401


# -- the scheme guard -------------------------------------------------------------------------------


ROUTES = [
    "/",
    "/static/site.css",
    "/api/echo",
    "/__flaskdesk__/bridge",
    "/__flaskdesk__/flaskdesk.js",
    "/nowhere",
]


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize(
    ("method", "headers", "initiator"),
    [
        ("GET", [], "https://evil.example"),
        ("GET", [], "null"),
        ("POST", [], "app://other"),
        ("GET", [("Origin", "https://evil.example")], None),
        ("GET", [("Origin", "app://other")], None),
        ("POST", [("Origin", "null")], None),  # WebKitGTK, sandboxed iframe form post
        ("POST", [("Referer", "about:srcdoc")], None),  # WebKitGTK, sandboxed iframe fetch
        ("POST", [("Referer", "app://other/x")], None),
        ("GET", [("Sec-Fetch-Site", "cross-site")], None),
        ("GET", [("Sec-Fetch-Site", "same-site")], ORIGIN),
        ("OPTIONS", [("Origin", ORIGIN), ("Access-Control-Request-Method", "POST")], ORIGIN),
    ],
)
def test_foreign_requests_are_refused_on_every_route(
    stack: InProcessApp, path: str, method: str, headers: list[tuple[str, str]], initiator: str | None
) -> None:
    response, body = call(
        stack, method, path, headers, b"{}" if method == "POST" else b"", initiator=initiator
    )
    assert response.status == 403, (path, method, headers, initiator)
    assert b"only serves its own application window" in body


def test_wrong_host_is_refused(stack: InProcessApp) -> None:
    response = stack.handle("GET", "app://other/", [], b"", initiator="")
    collect(response)
    assert response.status == 403


@pytest.mark.parametrize(
    ("headers", "initiator"),
    [
        ([("Origin", "null")], ORIGIN),  # Qt form post: Origin null, the engine vouches for it
        ([("Origin", ORIGIN)], None),  # WebKitGTK form post (Referrer-Policy: same-origin)
        ([("Referer", f"{ORIGIN}/page")], None),  # WebKitGTK fetch(): no Origin, same-origin Referer
        ([], ORIGIN),  # Qt fetch(): no Origin, initiator
        ([], None),  # WebKitGTK XMLHttpRequest: neither Origin nor Referer (see SchemeGuard)
    ],
)
def test_the_windows_own_writes_pass(
    stack: InProcessApp, headers: list[tuple[str, str]], initiator: str | None
) -> None:
    response, _ = call(
        stack,
        "POST",
        "/api/echo",
        [("Content-Type", "application/json"), *headers],
        b"{}",
        initiator=initiator,
    )
    assert response.status == 200


def test_launch_endpoint_does_not_exist(stack: InProcessApp) -> None:
    response, _ = call(stack, "GET", "/__flaskdesk__/launch?token=x", initiator="")
    assert response.status == 404


def test_guard_rejects_bad_origins() -> None:
    app = Flask(__name__)
    for bad in ("http://127.0.0.1:5000", "app://", "app://x/path", "app://x:8"):
        with pytest.raises(ValueError):
            SchemeGuard(app, origin=bad)
    assert SchemeGuard(app, origin=ORIGIN).launch_url("/a") == f"{ORIGIN}/a"


# -- what a scheme cannot carry -------------------------------------------------------------------


def test_websocket_users_are_reported() -> None:
    app = Flask(__name__)
    assert scheme_problems(app) == []
    app.add_url_rule("/ws", "ws", lambda: "", websocket=True)
    app.extensions["socketio"] = object()
    problems = scheme_problems(app)
    assert len(problems) == 2
    assert "/ws" in problems[0] and "loopback" in problems[0]
    assert "Flask-SocketIO" in problems[1]
