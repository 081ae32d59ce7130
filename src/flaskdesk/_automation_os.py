"""The automation channel's OS-specific half: the only code of the channel that asks which OS it is on.

Both processes need something from the OS. The launching tool makes a connected socket pair,
starts the app with one end inherited (and nothing else) and its number in
``FLASKDESK_AUTOMATION_FD``, and can stop the app with everything it started; the app checks that
the socket it was handed is the kind of socket that tool makes. :func:`for_platform` picks one
:class:`ChannelOS` for all of that.

**POSIX** (:class:`PosixOS`): ``socket.socketpair(AF_UNIX)``, the child's end passed with
``subprocess.Popen(pass_fds=...)``; the app starts a new session, so ``SIGKILL`` to its process
group also ends its helpers (QtWebEngine), while ``SIGTERM`` closes its window the graceful way.
The app refuses anything but an ``AF_UNIX`` stream socket.

**Windows** (:class:`WindowsOS`): Python has no ``AF_UNIX`` there and ``Popen`` no ``pass_fds``.
``socket.socketpair()`` returns a connected loopback TCP pair whose temporary listener is already
closed; the pair is checked to be connected to itself (a process that raced for that listener is
refused, whatever the Python version). The child's end is made inheritable and is the only extra
handle in ``STARTUPINFO.lpAttributeList["handle_list"]``, with ``close_fds=True``: ``CreateProcess``
passes that handle (and the standard ones) to the child under the same number, and no other handle
of the tool. The app gets its own process group. It accepts only a *connected* TCP stream socket
whose own address and peer are both loopback. Stopping: ``taskkill /T`` asks the windows of the app
and of its children to close (``WM_CLOSE``, as the window's close button does); ``taskkill /T /F``
ends the tree.

Inheritance rather than ``socket.share(pid)``/``socket.fromshare()``: ``share`` needs the target's
PID and a second channel to carry its result, and a PyInstaller onefile build runs the app as a
child of its bootloader, so the PID the tool knows is not the app's. An inherited handle, like an
inherited descriptor on POSIX, reaches the app through the bootloader (which creates its child with
inheritance on) with no extra step.

On both, nothing is left listening and nothing is on disk for another process to connect to, and
the one-time secret is still required (it is what protects against a handle leaked to the wrong
process).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from typing import Any, Protocol

#: Win32 ``CREATE_NEW_PROCESS_GROUP`` (``subprocess`` only names it on Windows).
CREATE_NEW_PROCESS_GROUP = 0x00000200


class SocketLike(Protocol):
    """What :meth:`ChannelOS.refusal` reads from a socket."""

    @property
    def family(self) -> int: ...
    @property
    def type(self) -> int: ...
    def getsockname(self) -> Any: ...
    def getpeername(self) -> Any: ...


class ChannelOS(Protocol):
    """The OS-specific operations of the channel, for both the launching tool and the app."""

    #: How a launching tool must hand the socket over (quoted in the app's error messages).
    passing: str

    def socketpair(self) -> tuple[socket.socket, socket.socket]:
        """A connected pair: keep the first end, hand the second to :meth:`popen_options`."""
        ...

    def popen_options(self, child_end: socket.socket) -> dict[str, Any]:
        """``subprocess.Popen`` keywords that let the child inherit ``child_end`` and no other handle."""
        ...

    def refusal(self, sock: SocketLike) -> str | None:
        """Why the app must not use ``sock`` as its channel (``None``: it is the expected kind)."""
        ...

    def terminate(self, process: subprocess.Popen[Any]) -> None:
        """Ask the app to close its window and drain (when the channel cannot ask it any more)."""
        ...

    def kill(self, process: subprocess.Popen[Any]) -> None:
        """End the app and every process it started, now."""
        ...


def for_platform(platform: str = sys.platform) -> ChannelOS:
    """The operations for ``platform`` (a ``sys.platform`` value; tests pass the other one)."""
    return WindowsOS() if platform == "win32" else PosixOS()


# The standard library names that exist on one OS only, in one place for the type checker.
if sys.platform == "win32":
    _AF_UNIX = -1  # not in Python on Windows; PosixOS is never chosen there

    def _kill_process_group(pid: int) -> None:
        raise OSError("process groups are POSIX")

    def _native_startupinfo(handles: list[int]) -> Any:
        return subprocess.STARTUPINFO(lpAttributeList={"handle_list": handles})

else:
    _AF_UNIX = socket.AF_UNIX

    def _kill_process_group(pid: int) -> None:
        os.killpg(pid, signal.SIGKILL)

    def _native_startupinfo(handles: list[int]) -> Any:
        raise OSError("STARTUPINFO handle lists exist on Windows only")


class PosixOS:
    """Linux, macOS and the BSDs: an inherited ``AF_UNIX`` socket."""

    passing = "subprocess.Popen(pass_fds=...)"

    def socketpair(self) -> tuple[socket.socket, socket.socket]:
        ours, theirs = socket.socketpair(_AF_UNIX, socket.SOCK_STREAM)
        return ours, theirs

    def popen_options(self, child_end: socket.socket) -> dict[str, Any]:
        # A new session: the app and its helper processes are one group that kill() ends.
        return {"pass_fds": (child_end.fileno(),), "start_new_session": True}

    def refusal(self, sock: SocketLike) -> str | None:
        if sock.family != _AF_UNIX or sock.type != socket.SOCK_STREAM:
            return "must be one end of an AF_UNIX socketpair, never a network socket"
        return None

    def terminate(self, process: subprocess.Popen[Any]) -> None:
        # SIGTERM: flaskdesk's signal watcher closes the window, so the app still drains.
        with contextlib.suppress(ProcessLookupError):
            process.terminate()

    def kill(self, process: subprocess.Popen[Any]) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            _kill_process_group(process.pid)  # the group that start_new_session made


class WindowsOS:
    """Windows: an inherited, connected loopback TCP socket, passed by handle list.

    ``startupinfo`` builds ``subprocess.STARTUPINFO`` from the handle list and ``run`` is
    ``subprocess.run``; tests replace both to check the exact calls on any OS.
    """

    passing = (
        'subprocess.Popen(close_fds=True, startupinfo=STARTUPINFO(lpAttributeList={"handle_list": '
        "[handle]})) with the handle made inheritable"
    )

    def __init__(
        self,
        *,
        startupinfo: Callable[[list[int]], Any] | None = None,
        run: Callable[..., Any] | None = None,
    ) -> None:
        self._startupinfo = startupinfo or _native_startupinfo
        self._run = run or subprocess.run

    def socketpair(self) -> tuple[socket.socket, socket.socket]:
        ours, theirs = socket.socketpair(socket.AF_INET, socket.SOCK_STREAM)
        problem = pair_problem(ours, theirs)
        if problem is not None:
            ours.close()
            theirs.close()
            raise ConnectionError(f"the automation socket pair is not connected to itself: {problem}")
        for end in (ours, theirs):  # one line each way: no wait for Windows' delayed ACK
            end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return ours, theirs

    def popen_options(self, child_end: socket.socket) -> dict[str, Any]:
        # handle_list takes inheritable handles only; close_fds=True keeps every other one back.
        # The tool closes its copy of child_end right after Popen, so the flag does not outlive it.
        child_end.set_inheritable(True)
        return {
            "close_fds": True,
            "startupinfo": self._startupinfo([child_end.fileno()]),
            "creationflags": CREATE_NEW_PROCESS_GROUP,
        }

    def refusal(self, sock: SocketLike) -> str | None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
            return "must be one end of a loopback TCP socketpair (socket.socketpair() on Windows)"
        try:
            local, peer = sock.getsockname(), sock.getpeername()
        except OSError:
            return "must be a connected socketpair end, not a listening or unconnected socket"
        if not (is_loopback(local) and is_loopback(peer)):
            return f"must be connected over loopback, not {_host(local)} to {_host(peer)}"
        return None

    def terminate(self, process: subprocess.Popen[Any]) -> None:
        # No SIGTERM for a window on Windows: taskkill without /F posts WM_CLOSE to the windows of
        # the process tree, the same close as the window's close button. The caller waits, then kill()s.
        self._taskkill(process, force=False)

    def kill(self, process: subprocess.Popen[Any]) -> None:
        # /T: a onefile build's bootloader has the app as its child; TerminateProcess alone would
        # leave the app (and WebView2's helpers) running.
        self._taskkill(process, force=True)
        if process.poll() is None:
            with contextlib.suppress(OSError):
                process.kill()

    def _taskkill(self, process: subprocess.Popen[Any], *, force: bool) -> None:
        if process.poll() is not None:
            return
        argv = [taskkill_path(), "/T", *(["/F"] if force else []), "/PID", str(process.pid)]
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self._run(argv, capture_output=True, check=False, timeout=30)


def taskkill_path() -> str:
    """``taskkill.exe`` in the system directory (not whatever a test's ``PATH`` finds first)."""
    root = os.environ.get("SYSTEMROOT") or r"C:\Windows"  # os.environ ignores case on Windows
    return rf"{root}\System32\taskkill.exe"


def is_loopback(address: Any) -> bool:
    """Whether a socket address ``(host, port, ...)`` is on loopback (IPv4-mapped IPv6 included)."""
    host = _host(address)
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def pair_problem(ours: SocketLike, theirs: SocketLike) -> str | None:
    """Why two TCP sockets are not the two ends of one loopback connection (``None``: they are)."""
    for end in (ours, theirs):
        problem = WindowsOS().refusal(end)
        if problem is not None:
            return problem
    ours_name, theirs_name = ours.getsockname()[:2], theirs.getsockname()[:2]
    if ours_name != theirs.getpeername()[:2] or theirs_name != ours.getpeername()[:2]:
        return "its ends are connected to other sockets"
    return None


def _host(address: Any) -> str:
    return str(address[0]) if isinstance(address, tuple) and address else str(address)
