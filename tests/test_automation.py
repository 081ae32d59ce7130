"""The automation channel's protocol and its safety rules, without a real window.

The page is a fake whose ``evaluate_js`` answers the way the channel's own JS envelope would,
so these tests pin the protocol; ``tests/testing`` drives a real window through it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flaskdesk import automation
from flaskdesk.automation import FD_VARIABLE, SECRET_VARIABLE, AutomationChannel, claim
from flaskdesk.errors import ConfigError

SECRET = "s" * 43
ORIGIN = "http://127.0.0.1:5123"


class FakeWindow:
    """Answers scripts like a page would; ``page`` maps a substring of the script to a value."""

    def __init__(self, page: Callable[[str], Any] | None = None) -> None:
        self.page = page or (lambda script: {"ready": "complete", "title": "Fake", "api": True})
        self.loaded: list[str] = []
        self.scripts: list[str] = []
        self.destroyed = False
        self.url = ORIGIN + "/"

    def evaluate_js(self, script: str) -> Any:
        self.scripts.append(script)
        if "__flaskdeskErrors" in script:
            return json.dumps({"ok": True, "value": []})
        try:
            value = self.page(script)
        except JSError as error:
            return json.dumps({"ok": False, "name": error.name, "message": str(error), "stack": None})
        return json.dumps({"ok": True, "value": value})

    def load_url(self, url: str) -> None:
        self.loaded.append(url)
        self.url = url

    def get_current_url(self) -> str | None:
        return self.url

    def destroy(self) -> None:
        self.destroyed = True


class JSError(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def make_app() -> Flask:
    app = Flask("fake_app")

    @app.get("/")
    def index() -> str:
        return "home"

    @app.get("/notes/<int:note_id>")
    def note(note_id: int) -> str:
        return str(note_id)

    @app.post("/save")
    def save() -> str:
        return "saved"

    @app.route("/page", defaults={"number": 1})
    @app.route("/page/<int:number>")
    def page(number: int) -> str:
        return str(number)

    return app


class Client:
    """The test side of the socketpair, speaking the protocol line by line."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.settimeout(10)
        self.file = sock.makefile("rb")
        self.next_id = 0

    def send(self, message: dict[str, Any]) -> None:
        self.sock.sendall(json.dumps(message).encode() + b"\n")

    def receive(self) -> dict[str, Any] | None:
        line = self.file.readline()
        return json.loads(line) if line else None

    def request(self, cmd: str, **args: Any) -> dict[str, Any] | None:
        self.next_id += 1
        self.send({"id": self.next_id, "cmd": cmd, "args": args})
        return self.receive()

    def hello(self, secret: str = SECRET) -> dict[str, Any] | None:
        return self.request("hello", secret=secret)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, int]]:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    fd = theirs.detach()
    yield ours, fd
    ours.close()


def start(
    pair: tuple[socket.socket, int], window: FakeWindow | None = None
) -> tuple[Client, AutomationChannel, FakeWindow]:
    ours, fd = pair
    channel = claim({FD_VARIABLE: str(fd), SECRET_VARIABLE: SECRET})
    assert channel is not None
    window = window or FakeWindow()
    channel.start(window, app=make_app(), origin=ORIGIN, log_file=Path("/tmp/app.log"))
    return Client(ours), channel, window


@pytest.fixture
def session(pair: tuple[socket.socket, int]) -> Iterator[tuple[Client, FakeWindow]]:
    client, channel, window = start(pair)
    assert client.hello() == {"id": 1, "ok": True, "result": {"protocol": 1, "pid": os.getpid()}}
    yield client, window
    channel.close()


# -- switching it on ---------------------------------------------------------------------------


def test_off_without_the_variables() -> None:
    env = {"PATH": "/usr/bin"}
    assert claim(env) is None
    assert env == {"PATH": "/usr/bin"}


def test_claim_removes_both_variables_and_stops_inheritance(pair: tuple[socket.socket, int]) -> None:
    _, fd = pair
    os.set_inheritable(fd, True)
    env = {FD_VARIABLE: str(fd), SECRET_VARIABLE: SECRET, "OTHER": "1"}
    channel = claim(env)
    assert channel is not None
    assert env == {"OTHER": "1"}
    assert os.get_inheritable(fd) is False
    channel.close()


@pytest.mark.parametrize("secret", [None, "", "short", "é" * 40])
def test_a_missing_or_weak_secret_is_refused(pair: tuple[socket.socket, int], secret: str | None) -> None:
    _, fd = pair
    env = {FD_VARIABLE: str(fd)}
    if secret is not None:
        env[SECRET_VARIABLE] = secret
    with pytest.raises(ConfigError, match=SECRET_VARIABLE):
        claim(env)
    assert env == {}
    os.close(fd)


def test_a_network_socket_is_refused() -> None:
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fd = tcp.detach()
    env = {FD_VARIABLE: str(fd), SECRET_VARIABLE: SECRET}
    with pytest.raises(ConfigError, match="AF_UNIX"):
        claim(env)
    with pytest.raises(OSError):
        os.fstat(fd)  # closed, not left open


@pytest.mark.parametrize("value", ["not-a-number", "999999"])
def test_a_bad_descriptor_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="pass_fds"):
        claim({FD_VARIABLE: value, SECRET_VARIABLE: SECRET})


def test_a_pipe_is_refused() -> None:
    read_end, write_end = os.pipe()
    try:
        with pytest.raises(ConfigError):
            claim({FD_VARIABLE: str(read_end), SECRET_VARIABLE: SECRET})
    finally:
        os.close(read_end)
        os.close(write_end)


# -- on Windows: a connected loopback TCP pair (real sockets here; only the handle passing differs) --


def tcp_pair() -> tuple[socket.socket, socket.socket]:
    """What ``socket.socketpair()`` returns on Windows: one loopback connection, its listener closed."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    return client, server


def assert_closed(fd: int) -> None:
    with pytest.raises(OSError):
        os.fstat(fd)


def test_windows_speaks_the_protocol_over_a_loopback_tcp_pair() -> None:
    ours, theirs = tcp_pair()
    theirs.set_inheritable(True)  # as the launching tool leaves it for handle_list
    fd = theirs.detach()
    env = {FD_VARIABLE: str(fd), SECRET_VARIABLE: SECRET, "OTHER": "1"}
    channel = claim(env, platform="win32")
    assert channel is not None
    assert env == {"OTHER": "1"}
    assert os.get_inheritable(fd) is False
    channel.start(FakeWindow(), app=make_app(), origin=ORIGIN, log_file=None)
    client = Client(ours)
    assert client.hello() == {"id": 1, "ok": True, "result": {"protocol": 1, "pid": os.getpid()}}
    reply = client.request("routes")
    assert reply is not None and reply["result"] == ["/", "/page"]
    channel.close()
    ours.close()


def test_windows_still_requires_the_secret_first() -> None:
    ours, theirs = tcp_pair()
    channel = claim({FD_VARIABLE: str(theirs.detach()), SECRET_VARIABLE: SECRET}, platform="win32")
    assert channel is not None
    window = FakeWindow()
    channel.start(window, app=make_app(), origin=ORIGIN)
    client = Client(ours)
    reply = client.hello("x" * 43)
    assert reply is not None and reply["error"]["name"] == "Unauthorized"
    assert client.receive() is None
    assert window.scripts == []
    channel.close()
    ours.close()


def test_windows_refuses_a_weak_secret() -> None:
    ours, theirs = tcp_pair()
    fd = theirs.detach()
    with pytest.raises(ConfigError, match=SECRET_VARIABLE):
        claim({FD_VARIABLE: str(fd), SECRET_VARIABLE: "short"}, platform="win32")
    os.close(fd)
    ours.close()


def test_posix_refuses_the_windows_pair() -> None:
    ours, theirs = tcp_pair()
    fd = theirs.detach()
    with pytest.raises(ConfigError, match="AF_UNIX socketpair, never a network socket"):
        claim({FD_VARIABLE: str(fd), SECRET_VARIABLE: SECRET}, platform="linux")
    assert_closed(fd)
    ours.close()


def _listening() -> socket.socket:
    return socket.create_server(("127.0.0.1", 0))


def _unconnected() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def _udp() -> socket.socket:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.connect(("127.0.0.1", 9))
    return udp


def _unix() -> socket.socket:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    ours.close()
    return theirs


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_listening, "not a listening or unconnected socket"),
        (_unconnected, "not a listening or unconnected socket"),
        (_udp, "loopback TCP socketpair"),
        (_unix, "loopback TCP socketpair"),
    ],
    ids=["listening", "unconnected", "udp", "af-unix"],
)
def test_windows_refuses_anything_but_a_connected_loopback_tcp_socket(
    make: Callable[[], socket.socket], reason: str
) -> None:
    fd = make().detach()
    with pytest.raises(ConfigError, match=reason):
        claim({FD_VARIABLE: str(fd), SECRET_VARIABLE: SECRET}, platform="win32")
    assert_closed(fd)


def test_windows_says_how_to_pass_the_handle() -> None:
    with pytest.raises(ConfigError, match="handle_list"):
        claim({FD_VARIABLE: "not-a-handle", SECRET_VARIABLE: SECRET}, platform="win32")


def test_the_app_and_its_children_never_see_the_variables(tmp_path: Path) -> None:
    """A real child process: claim at start-up, then the app's env and a grandchild's are clean."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    child = textwrap.dedent(
        """
        import json, os, subprocess, sys
        from flaskdesk import automation
        fd = int(os.environ["FLASKDESK_AUTOMATION_FD"])
        channel = automation.claim(os.environ)
        grandchild = subprocess.run(
            [sys.executable, "-c", "import json, os; print(json.dumps(sorted(os.environ)))"],
            capture_output=True, text=True, close_fds=False, check=True,
        ).stdout
        print(json.dumps({
            "claimed": channel is not None,
            "env": sorted(k for k in os.environ if k.startswith("FLASKDESK_AUTOMATION")),
            "grandchild": [k for k in json.loads(grandchild) if k.startswith("FLASKDESK_AUTOMATION")],
            "inheritable": os.get_inheritable(fd),
        }))
        """
    )
    env = {**os.environ, FD_VARIABLE: str(theirs.fileno()), SECRET_VARIABLE: SECRET}
    out = subprocess.run(
        [sys.executable, "-c", child],
        env=env,
        pass_fds=(theirs.fileno(),),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    theirs.close()
    ours.close()
    assert json.loads(out) == {"claimed": True, "env": [], "grandchild": [], "inheritable": False}


# -- the secret comes first -------------------------------------------------------------------


def test_the_right_secret_opens_the_channel(session: tuple[Client, FakeWindow]) -> None:
    client, _ = session
    status = client.request("status")
    assert status == {
        "id": 2,
        "ok": True,
        "result": {
            "loaded": True,
            "url": ORIGIN + "/",
            "title": "Fake",
            "pid": os.getpid(),
            "app": "fake_app",
            "log_file": "/tmp/app.log",
        },
    }


@pytest.mark.parametrize(
    "first",
    [
        {"id": 1, "cmd": "hello", "args": {"secret": "x" * 43}},
        {"id": 1, "cmd": "hello", "args": {"secret": SECRET[:-1]}},
        {"id": 1, "cmd": "hello", "args": {}},
        {"id": 1, "cmd": "status", "args": {"secret": SECRET}},
        {"id": 1, "cmd": "eval", "args": {"js": "1"}},
        {"id": 1, "cmd": "hello", "args": {"secret": 12345}},
        ["hello", SECRET],
    ],
    ids=["wrong", "prefix", "none", "status-first", "eval-first", "not-a-string", "not-an-object"],
)
def test_anything_but_the_secret_first_is_refused_and_closes(
    pair: tuple[socket.socket, int], first: Any
) -> None:
    client, channel, window = start(pair)
    client.send(first)
    reply = client.receive()
    assert reply is not None and reply["ok"] is False
    assert reply["error"]["name"] == "Unauthorized"
    # The channel is closed: a correct hello afterwards gets nothing, and no script ran.
    assert client.receive() is None
    with pytest.raises(OSError):
        for _ in range(3):
            client.hello()
    assert window.scripts == []
    channel.close()


def test_garbage_before_the_secret_is_refused(pair: tuple[socket.socket, int]) -> None:
    client, channel, _ = start(pair)
    client.sock.sendall(b"\xff\xfenot json\n")
    reply = client.receive()
    assert reply is not None and reply["error"]["name"] == "Unauthorized"
    assert client.receive() is None
    channel.close()


def test_an_oversized_first_line_is_refused(pair: tuple[socket.socket, int]) -> None:
    client, channel, _ = start(pair)
    client.sock.sendall(b'{"id": 1, "cmd": "hello", "args": {"secret": "' + b"a" * 100_000)
    reply = client.receive()
    assert reply is not None and reply["error"]["name"] == "Unauthorized"
    channel.close()


def test_the_channel_opens_no_network_listener(pair: tuple[socket.socket, int]) -> None:
    if not Path("/proc/self/net/tcp").exists():
        pytest.skip("needs /proc (Linux)")
    before = listening_inet_sockets()
    client, channel, _ = start(pair)
    assert client.hello() is not None
    assert client.request("status") is not None
    assert listening_inet_sockets() == before
    channel.close()


def listening_inet_sockets() -> set[str]:
    """Inodes of this process's TCP sockets in LISTEN state (IPv4 and IPv6), read from /proc."""
    own = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            own.add(target[8:-1])
    listening = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # TCP_LISTEN
                listening.add(fields[9])
    return own & listening


# -- commands ---------------------------------------------------------------------------------


def test_unknown_commands_and_arguments_are_bad_requests(session: tuple[Client, FakeWindow]) -> None:
    client, _ = session
    reply = client.request("exec", code="import os")
    assert reply is not None and reply["error"]["name"] == "BadRequest"
    assert "unknown command 'exec'" in reply["error"]["message"]
    reply = client.request("text", nonsense=1)
    assert reply is not None and reply["error"]["name"] == "BadRequest"
    client.sock.sendall(b"[1, 2]\n")
    reply = client.receive()
    assert reply is not None and reply["error"]["name"] == "BadRequest"


def test_routes_are_the_argument_less_get_routes(session: tuple[Client, FakeWindow]) -> None:
    client, _ = session
    reply = client.request("routes")
    assert reply is not None
    assert reply["result"] == ["/", "/page"]


@pytest.mark.parametrize(
    "path",
    [
        "//evil.example/",
        "http://evil.example/",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "/\\evil.example",
        "notes",
        "/a\nb",
        "",
    ],
)
def test_goto_stays_on_the_app(session: tuple[Client, FakeWindow], path: str) -> None:
    client, window = session
    reply = client.request("goto", path=path)
    assert reply is not None and reply["error"]["name"] == "Refused"
    assert window.loaded == []


def test_goto_loads_a_path_on_the_app(pair: tuple[socket.socket, int]) -> None:
    def page(script: str) -> Any:
        if "__flaskdeskNavigation||null" in script:
            return {"m": None, "ready": "complete"}
        return None

    client, channel, window = start(pair, FakeWindow(page))
    client.hello()
    reply = client.request("goto", path="/notes/1?x=1")
    assert reply is not None and reply["ok"], reply
    assert window.loaded == [ORIGIN + "/notes/1?x=1"]
    assert reply["result"] == ORIGIN + "/notes/1?x=1"
    channel.close()


def test_urls_never_show_the_launch_token(session: tuple[Client, FakeWindow]) -> None:
    client, window = session
    window.url = ORIGIN + "/__flaskdesk__/launch?token=abcdef&next=%2F"
    reply = client.request("url")
    assert reply is not None and reply["result"] == ORIGIN + "/__flaskdesk__/launch?next=%2F"


def test_eval_returns_the_value_or_the_js_error(pair: tuple[socket.socket, int]) -> None:
    def page(script: str) -> Any:
        if "boom" in script:
            raise JSError("TypeError", "boom")
        return {"value": [1, "two", None]}

    client, channel, _ = start(pair, FakeWindow(page))
    client.hello()
    assert client.request("eval", js="[1, 'two', null]") == {"id": 2, "ok": True, "result": [1, "two", None]}
    reply = client.request("eval", js="boom()")
    assert reply is not None
    assert (reply["ok"], reply["error"]["name"], reply["error"]["message"]) == (False, "TypeError", "boom")
    channel.close()


def test_wait_for_times_out_with_the_page_state(pair: tuple[socket.socket, int]) -> None:
    def page(script: str) -> Any:
        if "innerText)||''" in script:
            return {"text": "Welcome\nNothing here yet", "title": "Home"}
        return False  # the selector never matches

    client, channel, _ = start(pair, FakeWindow(page))
    client.hello()
    reply = client.request("wait_for", selector="#missing", timeout=0.2)
    assert reply is not None and reply["ok"] is False
    assert reply["error"] == {
        "name": "TimeoutError",
        "message": "no element matched '#missing' within 0.2 s",
        "selector": "#missing",
        "url": ORIGIN + "/",
        "page_text": "Welcome\nNothing here yet",
        "title": "Home",
    }
    channel.close()


def test_close_answers_then_closes_the_window(session: tuple[Client, FakeWindow]) -> None:
    client, window = session
    assert client.request("close") == {"id": 2, "ok": True, "result": None}
    deadline = time.monotonic() + 5
    while not window.destroyed and time.monotonic() < deadline:
        time.sleep(0.02)
    assert window.destroyed


def test_a_startup_failure_is_reported_at_once(pair: tuple[socket.socket, int]) -> None:
    ours, fd = pair
    channel = claim({FD_VARIABLE: str(fd), SECRET_VARIABLE: SECRET})
    assert channel is not None
    channel.fail(ConfigError("the template folder is missing"), Path("/tmp/app.log"))
    client = Client(ours)
    assert client.receive() == {
        "event": "startup_error",
        "name": "ConfigError",
        "message": "the template folder is missing",
        "log_file": "/tmp/app.log",
    }
    assert client.receive() is None


def test_commands_are_an_explicit_allow_list() -> None:
    assert sorted(automation.COMMANDS) == sorted(
        [
            "status",
            "url",
            "goto",
            "eval",
            "wait_for",
            "click",
            "fill",
            "text",
            "routes",
            "bridge_check",
            "js_errors",
            "close",
        ]
    )
