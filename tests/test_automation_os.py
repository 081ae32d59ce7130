"""The automation channel's OS-specific half, for both OSes, on whichever OS runs the tests.

Windows cannot run here, so its half is checked where it is pure or portable: the socket checks
run on real loopback TCP sockets (Linux has them too), the ``Popen`` keywords and the ``taskkill``
calls are compared exactly with recording stand-ins. POSIX runs for real.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flaskdesk._automation_os import (
    CREATE_NEW_PROCESS_GROUP,
    PosixOS,
    WindowsOS,
    for_platform,
    is_loopback,
    pair_problem,
    taskkill_path,
)


def tcp_pair(
    host: str = "127.0.0.1", family: socket.AddressFamily = socket.AF_INET
) -> tuple[socket.socket, socket.socket]:
    """Two ends of one loopback TCP connection, its listener closed: what Windows' socketpair() gives."""
    with socket.create_server((host, 0), family=family) as listener:
        client = socket.create_connection(listener.getsockname()[:2])
        server, _ = listener.accept()
    return client, server


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = tcp_pair()
    yield ours, theirs
    ours.close()
    theirs.close()


class FakeSocket:
    """A connected TCP socket as ``refusal`` sees it, for addresses this machine may not have."""

    family = socket.AF_INET
    type = socket.SOCK_STREAM

    def __init__(self, local: tuple[str, int], peer: tuple[str, int]) -> None:
        self.local = local
        self.peer = peer

    def getsockname(self) -> tuple[str, int]:
        return self.local

    def getpeername(self) -> tuple[str, int]:
        return self.peer


# -- choosing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "kind"),
    [("win32", WindowsOS), ("linux", PosixOS), ("darwin", PosixOS), ("freebsd14", PosixOS)],
)
def test_one_choice_per_platform(platform: str, kind: type) -> None:
    assert isinstance(for_platform(platform), kind)


def test_this_platform_is_the_default() -> None:
    assert isinstance(for_platform(), WindowsOS if sys.platform == "win32" else PosixOS)


# -- which addresses are loopback ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (("127.0.0.1", 50123), True),
        (("127.8.9.10", 1), True),
        (("::1", 50123, 0, 0), True),
        (("::ffff:127.0.0.1", 50123, 0, 0), True),
        (("10.0.0.5", 50123), False),
        (("192.168.1.20", 50123), False),
        (("0.0.0.0", 50123), False),
        (("::", 50123, 0, 0), False),
        (("::ffff:10.0.0.5", 50123, 0, 0), False),
        (("fe80::1%eth0", 50123, 0, 2), False),
        (("localhost", 50123), False),  # a name is not an address
        ("/tmp/flaskdesk.sock", False),  # an AF_UNIX address
        ((), False),
    ],
)
def test_is_loopback(address: Any, expected: bool) -> None:
    assert is_loopback(address) is expected


# -- what the app accepts --------------------------------------------------------------------------


def test_windows_accepts_a_connected_loopback_tcp_pair(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    assert WindowsOS().refusal(theirs) is None
    assert WindowsOS().refusal(ours) is None


def test_windows_accepts_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        ours, theirs = tcp_pair("::1", socket.AF_INET6)
    except OSError as error:
        pytest.skip(f"no IPv6 loopback here: {error}")
    with ours, theirs:
        assert WindowsOS().refusal(theirs) is None


def test_windows_refuses_a_listening_socket() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        assert WindowsOS().refusal(listener) == (
            "must be a connected socketpair end, not a listening or unconnected socket"
        )


def test_windows_refuses_an_unconnected_socket() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as unconnected:
        assert "not a listening or unconnected socket" in str(WindowsOS().refusal(unconnected))


def test_windows_refuses_a_connection_off_loopback() -> None:
    refusal = WindowsOS().refusal(FakeSocket(("10.0.0.2", 50000), ("10.0.0.9", 443)))
    assert refusal == "must be connected over loopback, not 10.0.0.2 to 10.0.0.9"
    assert WindowsOS().refusal(FakeSocket(("127.0.0.1", 50000), ("10.0.0.9", 443))) is not None
    assert WindowsOS().refusal(FakeSocket(("10.0.0.2", 50000), ("127.0.0.1", 443))) is not None


def test_windows_refuses_udp_and_unix_sockets() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.connect(("127.0.0.1", 9))
        assert "loopback TCP socketpair" in str(WindowsOS().refusal(udp))
    if hasattr(socket, "AF_UNIX"):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with a, b:
            assert "loopback TCP socketpair" in str(WindowsOS().refusal(a))


def test_posix_accepts_only_an_af_unix_stream(pair: tuple[socket.socket, socket.socket]) -> None:
    _, theirs = pair
    assert PosixOS().refusal(theirs) == "must be one end of an AF_UNIX socketpair, never a network socket"
    if hasattr(socket, "AF_UNIX"):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with a, b:
            assert PosixOS().refusal(a) is None
        c, d = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        with c, d:
            assert PosixOS().refusal(c) is not None


# -- the launching tool's pair ---------------------------------------------------------------------


def test_a_pair_is_one_connection(pair: tuple[socket.socket, socket.socket]) -> None:
    assert pair_problem(*pair) is None


def test_ends_of_two_connections_are_not_a_pair() -> None:
    """What an intruder who won the race for socketpair()'s listener would leave behind."""
    first, second = tcp_pair(), tcp_pair()
    try:
        assert pair_problem(first[0], second[1]) == "its ends are connected to other sockets"
    finally:
        for end in (*first, *second):
            end.close()


def test_windows_socketpair_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[int, int]] = []
    made = tcp_pair()

    def socketpair(family: int, kind: int) -> tuple[socket.socket, socket.socket]:
        asked.append((family, kind))
        return made

    monkeypatch.setattr(socket, "socketpair", socketpair)
    assert WindowsOS().socketpair() == made
    assert asked == [(socket.AF_INET, socket.SOCK_STREAM)]
    assert [end.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for end in made] == [1, 1]
    for end in made:
        end.close()


def test_windows_socketpair_refuses_a_hijacked_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tcp_pair(), tcp_pair()
    monkeypatch.setattr(socket, "socketpair", lambda family, kind: (first[0], second[1]))
    with pytest.raises(ConnectionError, match="not connected to itself: its ends are connected to other"):
        WindowsOS().socketpair()
    assert first[0].fileno() == -1 and second[1].fileno() == -1  # both closed
    first[1].close()
    second[0].close()


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="POSIX")
def test_posix_socketpair_is_af_unix() -> None:
    ours, theirs = PosixOS().socketpair()
    with ours, theirs:
        assert ours.family == theirs.family == socket.AF_UNIX
        assert ours.type == socket.SOCK_STREAM


# -- handing it to the child -----------------------------------------------------------------------


def test_posix_popen_options(pair: tuple[socket.socket, socket.socket]) -> None:
    _, theirs = pair
    assert PosixOS().popen_options(theirs) == {"pass_fds": (theirs.fileno(),), "start_new_session": True}


def test_windows_popen_options(pair: tuple[socket.socket, socket.socket]) -> None:
    _, theirs = pair
    made: list[list[int]] = []

    def startupinfo(handles: list[int]) -> str:
        made.append(handles)
        return "the STARTUPINFO"

    assert theirs.get_inheritable() is False
    options = WindowsOS(startupinfo=startupinfo).popen_options(theirs)
    assert options == {
        "close_fds": True,
        "startupinfo": "the STARTUPINFO",
        "creationflags": CREATE_NEW_PROCESS_GROUP,
    }
    assert made == [[theirs.fileno()]]  # that handle and no other
    assert theirs.get_inheritable() is True  # handle_list refuses non-inheritable handles
    assert CREATE_NEW_PROCESS_GROUP == 0x200


@pytest.mark.skipif(sys.platform != "win32", reason="Windows")
def test_windows_startupinfo_lists_the_handle(pair: tuple[socket.socket, socket.socket]) -> None:
    _, theirs = pair
    info = WindowsOS().popen_options(theirs)["startupinfo"]
    assert isinstance(info, subprocess.STARTUPINFO)
    assert info.lpAttributeList == {"handle_list": [theirs.fileno()]}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX")
def test_windows_startupinfo_is_not_made_off_windows(pair: tuple[socket.socket, socket.socket]) -> None:
    with pytest.raises(OSError, match="Windows only"):
        WindowsOS().popen_options(pair[1])


# -- stopping the app ------------------------------------------------------------------------------


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    if process.poll() is None:
        process.kill()
    process.wait(10)


class RecordingRun:
    def __init__(self) -> None:
        self.calls: list[tuple[list[str], dict[str, Any]]] = []

    def __call__(self, argv: list[str], **options: Any) -> subprocess.CompletedProcess[bytes]:
        self.calls.append((argv, options))
        return subprocess.CompletedProcess(argv, 0)


def test_windows_terminate_asks_the_windows_of_the_tree_to_close(sleeper: subprocess.Popen[bytes]) -> None:
    run = RecordingRun()
    WindowsOS(run=run).terminate(sleeper)
    assert run.calls == [
        (
            [taskkill_path(), "/T", "/PID", str(sleeper.pid)],
            {"capture_output": True, "check": False, "timeout": 30},
        )
    ]
    assert sleeper.poll() is None  # a request only: the driver waits, then kills


def test_windows_kill_ends_the_tree_and_falls_back_to_terminateprocess(
    sleeper: subprocess.Popen[bytes],
) -> None:
    run = RecordingRun()
    WindowsOS(run=run).kill(sleeper)
    assert [argv for argv, _ in run.calls] == [[taskkill_path(), "/T", "/F", "/PID", str(sleeper.pid)]]
    assert sleeper.wait(10) is not None  # the recorded taskkill did nothing: Popen.kill() did


def test_windows_stop_leaves_an_exited_app_alone(sleeper: subprocess.Popen[bytes]) -> None:
    sleeper.kill()
    sleeper.wait(10)
    run = RecordingRun()
    WindowsOS(run=run).terminate(sleeper)
    WindowsOS(run=run).kill(sleeper)
    assert run.calls == []


def test_windows_stop_survives_a_missing_taskkill(sleeper: subprocess.Popen[bytes]) -> None:
    def missing(argv: list[str], **options: Any) -> None:
        raise FileNotFoundError(argv[0])

    WindowsOS(run=missing).terminate(sleeper)
    WindowsOS(run=missing).kill(sleeper)
    assert sleeper.wait(10) is not None


def test_taskkill_is_the_system_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYSTEMROOT", r"D:\Win")
    assert taskkill_path() == r"D:\Win\System32\taskkill.exe"
    monkeypatch.delenv("SYSTEMROOT")
    assert taskkill_path() == r"C:\Windows\System32\taskkill.exe"


def _gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie waiting for its new parent counts as exited)."""
    status = Path(f"/proc/{pid}/status")
    try:
        return "\nState:\tZ" in status.read_text()
    except OSError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_posix_terminate_and_kill(tmp_path: Path, pair: tuple[socket.socket, socket.socket]) -> None:
    """SIGTERM to the app itself; SIGKILL to its whole group, helpers included."""
    script = tmp_path / "app.py"
    script.write_text(
        textwrap.dedent(
            """
            import signal, subprocess, sys, time
            signal.signal(signal.SIGTERM, lambda *_: print("terminated", flush=True))
            helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            print(helper.pid, flush=True)
            time.sleep(60)
            """
        )
    )
    app = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, **PosixOS().popen_options(pair[1])
    )
    try:
        assert app.stdout is not None
        helper = int(app.stdout.readline())
        PosixOS().terminate(app)
        assert app.stdout.readline() == b"terminated\n"
        assert app.poll() is None and not _gone(helper)
        PosixOS().kill(app)
        assert app.wait(10) == -signal.SIGKILL
        deadline = time.monotonic() + 10
        while not _gone(helper) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(helper)
    finally:
        if app.poll() is None:
            app.kill()
        app.wait(10)
        if app.stdout is not None:
            app.stdout.close()
