"""The embedded server, over real HTTP on 127.0.0.1: bind, serve, swap, drain, deadline, join."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask, Response, jsonify, render_template, request

from flaskdesk.app.server import Server
from flaskdesk.errors import ServerError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


def text_app(body: bytes) -> WSGIApplication:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return app


@contextmanager
def serving(app: WSGIApplication, *, threads: int = 8, name: str = "flaskdesk") -> Iterator[Server]:
    server = Server(app, threads=threads, name=name)
    server.start()
    try:
        yield server
    finally:
        server.shutdown(timeout=5)


def get(server: Server, path: str = "/") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_until_refused(server: Server, within: float = 3.0) -> None:
    """Return once the port refuses connections (the listener is closed)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((server.host, server.port), timeout=0.5):
                pass
        except ConnectionRefusedError:
            return
        except (ConnectionResetError, TimeoutError):
            pass  # the listener closed during this handshake (reset, or SYN dropped): try again
        time.sleep(0.01)
    pytest.fail(f"{server.url} still accepts connections")


def in_thread(target: Callable[[], object]) -> tuple[threading.Thread, dict[str, object]]:
    """Run ``target()`` in a thread; its result (or exception) lands in the returned dict."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = target()
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, name="test-client")
    thread.start()
    return thread, outcome


@pytest.fixture
def flask_app(tmp_path: Path) -> Flask:
    (tmp_path / "hello.html").write_text("<h1>Hello {{ name }}!</h1>")
    app = Flask(__name__, template_folder=str(tmp_path))

    @app.get("/")
    def index() -> str:
        return "index"

    @app.post("/echo")
    def echo() -> Response:
        return jsonify(received=request.get_json(), method=request.method)

    @app.get("/hello/<name>")
    def hello(name: str) -> str:
        return render_template("hello.html", name=name)

    return app


# ---------------------------------------------------------------------------- binding


def test_port_zero_binds_a_real_port_and_url_matches() -> None:
    server = Server(text_app(b"ok"))
    try:
        assert server.host == "127.0.0.1"
        assert 0 < server.port < 65536
        assert server.url == f"http://127.0.0.1:{server.port}"
    finally:
        assert server.shutdown()


def test_connections_made_before_start_are_served_after_it() -> None:
    """The socket listens from __init__, so the URL works as soon as the guard/window has it."""
    server = Server(text_app(b"early"))
    try:
        with socket.create_connection((server.host, server.port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            server.start()
            response = http.client.HTTPResponse(sock)
            response.begin()
            assert (response.status, response.read()) == (200, b"early")
    finally:
        assert server.shutdown()


def test_a_taken_port_raises_server_error_saying_what_to_do() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServerError) as caught:
            Server(text_app(b"ok"), port=port)
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message
    assert f"already using port {port}" in message
    assert "port=0" in message


def test_an_unresolvable_host_raises_server_error() -> None:
    with pytest.raises(ServerError, match="does not resolve"):
        Server(text_app(b"ok"), host="no-such-host.invalid")


@pytest.mark.parametrize("port", [-1, 70000])
def test_a_port_out_of_range_raises_server_error(port: int) -> None:
    with pytest.raises(ServerError, match="port=0"):
        Server(text_app(b"ok"), port=port)


def test_ipv6_loopback_url_has_brackets() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        server = Server(text_app(b"v6"), host="::1")
    except ServerError:
        pytest.skip("no IPv6 loopback here")
    with server:
        assert server.url == f"http://[::1]:{server.port}"
        assert get(server) == (200, b"v6")


@pytest.mark.parametrize("option", ["SO_REUSEADDR", "SO_REUSEPORT"])
def test_no_second_socket_can_bind_the_port(option: str) -> None:
    """Another local process must not be able to take over the app's port (before or after start)."""
    if not hasattr(socket, option):
        pytest.skip(f"no {option} here")
    server = Server(text_app(b"ok"))
    try:
        for _phase in ("bound", "running"):
            with socket.socket() as intruder:
                intruder.setsockopt(socket.SOL_SOCKET, getattr(socket, option), 1)
                with pytest.raises(OSError):
                    intruder.bind((server.host, server.port))
            server.start()
    finally:
        assert server.shutdown()


# ---------------------------------------------------------------------------- serving


def test_serves_a_flask_app(flask_app: Flask) -> None:
    with serving(flask_app) as server:
        assert get(server) == (200, b"index")
        assert get(server, "/hello/%3Cb%3E") == (200, b"<h1>Hello &lt;b&gt;!</h1>")

        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        try:
            conn.request(
                "POST", "/echo", body=json.dumps({"a": [1, 2]}), headers={"Content-Type": "application/json"}
            )
            response = conn.getresponse()
            assert response.status == 200
            assert json.loads(response.read()) == {"received": {"a": [1, 2]}, "method": "POST"}
        finally:
            conn.close()


def test_an_app_that_raises_gets_a_500_and_the_server_lives_on(caplog: pytest.LogCaptureFixture) -> None:
    def broken(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/boom":
            raise RuntimeError("kaboom")
        return text_app(b"fine")(environ, start_response)

    with caplog.at_level(logging.ERROR, logger="flaskdesk.server"), serving(broken) as server:
        status, body = get(server, "/boom")
        assert status == 500
        assert b"kaboom" not in body  # no traceback leaks to the page
        assert get(server, "/ok") == (200, b"fine")
    errors = [r for r in caplog.records if r.name == "flaskdesk.server" and r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "GET /boom" in errors[0].getMessage()
    assert errors[0].exc_info is not None and "kaboom" in str(errors[0].exc_info[1])


def test_swap_app_sends_later_requests_to_the_new_app() -> None:
    with serving(text_app(b"old")) as server:
        assert get(server) == (200, b"old")
        server.swap_app(text_app(b"new"))
        assert get(server) == (200, b"new")


def test_swap_app_before_start_is_what_gets_served() -> None:
    server = Server(text_app(b"placeholder"))
    server.swap_app(text_app(b"real"))
    with server:
        assert get(server) == (200, b"real")


def test_threads_are_named_and_all_joined_by_shutdown() -> None:
    before = set(threading.enumerate())
    with serving(text_app(b"ok"), threads=3, name="notes") as server:
        assert get(server) == (200, b"ok")
        ours = [t for t in threading.enumerate() if t not in before]
    names = sorted(t.name for t in ours)
    assert names == ["flaskdesk-notes-server", *(f"flaskdesk-notes-worker-{n}" for n in range(3))]
    loop = next(t for t in ours if t.name.endswith("-server"))
    assert not loop.daemon  # the server thread keeps the process alive while serving
    assert not any(t.is_alive() for t in ours)  # shutdown() joined every one of them


# ---------------------------------------------------------------------------- shutdown


def test_shutdown_lets_a_running_view_finish(tmp_path: Path) -> None:
    marker = tmp_path / "written.txt"
    started = threading.Event()

    def slow(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started.set()
        time.sleep(1)
        marker.write_text("done")
        return text_app(b"finished")(environ, start_response)

    server = Server(slow)
    server.start()
    client, outcome = in_thread(lambda: get(server))
    assert started.wait(5)
    shutting, result = in_thread(lambda: server.shutdown(timeout=5))
    wait_until_refused(server)  # new connections are refused at once, while the view still runs
    assert shutting.is_alive()
    shutting.join(10)
    client.join(10)
    assert result == {"result": True}
    assert outcome == {"result": (200, b"finished")}
    assert marker.read_text() == "done"


def test_shutdown_waits_for_a_body_still_uploading(tmp_path: Path) -> None:
    """A POST still being written when the window closes must complete, and its view must run."""
    stored = tmp_path / "upload.bin"
    app = Flask(__name__)

    @app.post("/upload")
    def upload() -> str:
        stored.write_bytes(request.get_data())
        return "stored"

    body = bytes(range(256)) * 1024  # 256 KiB
    half = len(body) // 2
    server = Server(app)
    server.start()
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        head = f"POST /upload HTTP/1.1\r\nHost: {server.host}\r\nContent-Length: {len(body)}\r\n\r\n"
        sock.sendall(head.encode() + body[:half])
        time.sleep(0.1)  # let the server read the headers and the first half
        shutting, result = in_thread(lambda: server.shutdown(timeout=5))
        wait_until_refused(server)  # shutdown() is under way
        sock.sendall(body[half:])
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert (response.status, response.read()) == (200, b"stored")
    shutting.join(10)
    assert result == {"result": True}
    assert stored.read_bytes() == body


def test_idle_keep_alive_connections_are_closed_and_do_not_block_shutdown() -> None:
    server = Server(text_app(b"ok"))
    server.start()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        assert response.read() == b"ok"
        assert response.getheader("Connection") != "close"  # the connection stays open, idle
        started = time.monotonic()
        assert server.shutdown(timeout=5)
        assert time.monotonic() - started < 1
        assert conn.sock is not None
        with contextlib.suppress(ConnectionResetError):
            assert conn.sock.recv(1) == b""  # the server closed its end
    finally:
        conn.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.host, server.port), timeout=1).close()


def test_shutdown_under_keep_alive_load_is_quick_and_truncates_nothing() -> None:
    """Busy connections get ``Connection: close`` on their last response instead of being cut."""
    body = b"y" * 50_000

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        time.sleep(0.002)
        return text_app(body)(environ, start_response)

    server = Server(app)
    server.start()
    stop = threading.Event()
    outcomes: list[str] = []

    def client() -> None:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        while not stop.is_set():
            try:
                conn.request("GET", "/")
                response = conn.getresponse()
                data = response.read()
                outcomes.append("ok" if (response.status, data) == (200, body) else f"bad {response.status}")
            except (
                ConnectionRefusedError,
                ConnectionResetError,
                http.client.RemoteDisconnected,
                BrokenPipeError,
            ):
                conn.close()  # refused: the port is closed; the others: an idle connection closed under us
                time.sleep(0.005)
            except Exception as error:  # e.g. IncompleteRead: a truncated response
                outcomes.append(repr(error))
                conn.close()
        conn.close()

    clients = [threading.Thread(target=client, name=f"test-client-{n}") for n in range(4)]
    for thread in clients:
        thread.start()
    time.sleep(0.2)
    began = time.monotonic()
    assert server.shutdown(timeout=5)
    assert time.monotonic() - began < 1
    stop.set()
    for thread in clients:
        thread.join(5)
    assert outcomes.count("ok") > 10
    assert set(outcomes) == {"ok"}


def test_deadline_cuts_off_a_view_that_runs_too_long(caplog: pytest.LogCaptureFixture) -> None:
    """shutdown() gives up at the deadline; the view's worker finishes it later, then exits."""
    started, release = threading.Event(), threading.Event()

    def stuck(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started.set()
        release.wait(10)
        return text_app(b"too late")(environ, start_response)

    server = Server(stuck)
    server.start()
    client, outcome = in_thread(lambda: get(server))
    assert started.wait(5)
    began = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="flaskdesk.server"):
        assert server.shutdown(timeout=0.3) is False
    assert time.monotonic() - began < 0.3 + 0.5
    assert "1 request(s) cut off" in caplog.text
    client.join(5)
    assert isinstance(outcome.get("error"), (http.client.RemoteDisconnected, ConnectionError))
    assert any(t.name.startswith("flaskdesk-worker") for t in threading.enumerate())  # still in the view
    release.set()
    deadline = time.monotonic() + 2
    while any(t.name.startswith("flaskdesk") for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not [t.name for t in threading.enumerate() if t.name.startswith("flaskdesk")]
    assert server.shutdown() is False  # idempotent: the same answer again


def test_deadline_cuts_off_an_upload_that_never_completes(caplog: pytest.LogCaptureFixture) -> None:
    server = Server(text_app(b"ok"))
    server.start()
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly a little")
        time.sleep(0.05)
        began = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="flaskdesk.server"):
            assert server.shutdown(timeout=0.2) is False
        assert time.monotonic() - began < 0.2 + 0.5
        with contextlib.suppress(ConnectionResetError):
            assert sock.recv(1) == b""  # closed without a response
    assert "1 request(s) cut off" in caplog.text


def test_the_process_exits_even_if_a_view_never_returns() -> None:
    code = textwrap.dedent(
        """
        import http.client, threading, time
        from flaskdesk.app.server import Server

        started = threading.Event()

        def never(environ, start_response):
            started.set()
            time.sleep(600)

        server = Server(never)
        server.start()
        conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
        threading.Thread(target=lambda: conn.request("GET", "/"), daemon=True).start()
        started.wait(10)
        print(server.shutdown(timeout=0.2), flush=True)
        """
    )
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "False"), done.stderr
    assert time.monotonic() - began < 10


def test_shutdown_is_idempotent_and_safe_before_start() -> None:
    server = Server(text_app(b"ok"))
    assert server.shutdown() is True
    assert server.shutdown() is True
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.host, server.port), timeout=1).close()
    with pytest.raises(ServerError, match="create a new Server"):
        server.start()


def test_shutdown_of_a_running_server_is_idempotent() -> None:
    server = Server(text_app(b"ok"))
    server.start()
    server.start()  # already running: nothing to do
    assert get(server) == (200, b"ok")
    assert server.shutdown() is True
    assert server.shutdown() is True
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.host, server.port), timeout=1).close()


def test_context_manager_serves_then_shuts_down() -> None:
    with Server(text_app(b"ok")) as server:
        assert get(server) == (200, b"ok")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.host, server.port), timeout=1).close()


def test_shutdown_from_inside_a_view_is_refused_not_deadlocked() -> None:
    holder: dict[str, Server] = {}
    seen: list[BaseException] = []

    def quitter(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            holder["server"].shutdown()
        except ServerError as error:
            seen.append(error)
        return text_app(b"ok")(environ, start_response)

    with serving(quitter) as server:
        holder["server"] = server
        assert get(server) == (200, b"ok")
    assert len(seen) == 1 and "another thread" in str(seen[0])
