"""Single instance: one running copy of an app per user data dir; later launches hand over their argv.

The first launch takes an exclusive lock on ``<data dir>/instance.lock`` (``fcntl.flock``; on
Windows ``msvcrt.locking``). The OS drops the lock when the process dies, however it dies, so a
launch after a ``kill -9`` or a power cut is simply the first again: there is no stale pid file to
second-guess. Different data dirs (``FLASKDESK_DATA_DIR``) are different instances.

The lock holder then listens for later launches on ``<data dir>/instance.sock`` (a Unix socket,
mode 0600 in a 0700 folder; on Windows a loopback TCP port written to ``instance.port``). Each
launch of the holder writes a fresh random secret to ``instance.secret`` (0600). A later launch
finds the lock taken, reads the secret, connects, and sends one JSON line
``{"secret", "argv", "cwd"}``; the holder checks the secret (``hmac.compare_digest``) and, on
Linux, that the peer runs as the same user, answers ``{"ok": true}``, and passes ``argv`` and
``cwd`` on. The later launch then exits 0.

Pure OS plumbing: nothing here knows about windows or Flask (``launch.py`` joins it to both).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import secrets
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from .errors import SingleInstanceError

log = logging.getLogger("flaskdesk")

LOCK_NAME = "instance.lock"
SOCKET_NAME = "instance.sock"
SECRET_NAME = "instance.secret"
PORT_NAME = "instance.port"

#: How long a later launch keeps trying to reach a holder that is still starting up.
HAND_OVER_TIMEOUT = 10.0
_RETRY_INTERVAL = 0.05
_MAX_MESSAGE = 1024 * 1024
_CONNECTION_TIMEOUT = 2.0
_POLL = 0.25
#: ``sockaddr_un.sun_path`` is 108 bytes on Linux (104 on macOS); longer paths go through /proc.
_MAX_UNIX_PATH = 100

Handler = Callable[[list[str], str], None]


class SingleInstance:
    """The lock of one data dir, held by this process, and the listener for later launches."""

    def __init__(self, folder: Path, lock_file: IO[bytes]) -> None:
        self.folder = folder
        self._lock_file = lock_file
        self._listener: socket.socket | None = None
        self._socket_path: Path | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._secret = b""

    @classmethod
    def try_lock(cls, folder: Path) -> SingleInstance | None:
        """The lock of ``folder`` if no other process holds it, else ``None`` (never blocks)."""
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_file = open(folder / LOCK_NAME, "a+b")  # noqa: SIM115  # held open for the process's life
        try:
            _lock(lock_file)
        except OSError:
            lock_file.close()
            return None
        return cls(folder, lock_file)

    def listen(self, handler: Handler) -> None:
        """Accept later launches on a background thread; each one's ``(argv, cwd)`` goes to ``handler``.

        ``handler`` runs on that thread, one launch at a time.
        """
        self._secret = secrets.token_urlsafe(32).encode("ascii")
        _write_private(self.folder / SECRET_NAME, self._secret)
        self._listener = self._bind()
        self._listener.listen(8)
        self._thread = threading.Thread(
            target=self._serve, args=(handler,), name="flaskdesk-single-instance", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop listening and release the lock (the next launch becomes the first). Idempotent."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)
        self._thread = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for name in (SOCKET_NAME, PORT_NAME):
            with contextlib.suppress(OSError):
                (self.folder / name).unlink()
        if not self._lock_file.closed:
            self._lock_file.close()  # closing the descriptor releases the lock

    # -- internals ---------------------------------------------------------------------------------

    def _bind(self) -> socket.socket:
        if not _has_unix_sockets():
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            server.bind(("127.0.0.1", 0))
            _write_private(self.folder / PORT_NAME, str(server.getsockname()[1]).encode("ascii"))
            return server
        path = self.folder / SOCKET_NAME
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # left by a holder that was killed: we hold the lock, so it is stale
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        previous = os.umask(0o177)  # born 0600: no window in which another user could connect
        try:
            with _unix_address(path) as address:
                server.bind(address)
        except OSError:
            server.close()
            raise
        finally:
            os.umask(previous)
        self._socket_path = path
        return server

    def _serve(self, handler: Handler) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([listener], [], [], _POLL)
                if not ready:
                    continue
                connection, _ = listener.accept()
            except OSError:
                if self._stop.is_set():
                    return
                log.exception("single instance: accepting a later launch failed")
                time.sleep(_POLL)
                continue
            with connection:
                message = self._receive(connection)
            if message is None:
                continue
            argv, cwd = message
            try:
                handler(argv, cwd)
            except Exception:
                log.exception("single instance: handling a later launch failed")

    def _receive(self, connection: socket.socket) -> tuple[list[str], str] | None:
        connection.settimeout(_CONNECTION_TIMEOUT)
        try:
            if not _same_user(connection):
                log.warning("single instance: refused a connection from another user")
                return None
            line = _read_line(connection)
            message = json.loads(line)
            given = message.get("secret") if isinstance(message, dict) else None
            if not isinstance(given, str) or not hmac.compare_digest(given.encode("utf-8"), self._secret):
                log.warning("single instance: refused a later launch that did not present the secret")
                _send(connection, {"ok": False, "error": "wrong secret"})
                return None
            argv, cwd = message.get("argv"), message.get("cwd")
            if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
                raise ValueError("argv must be a list of strings")
            if not isinstance(cwd, str):
                raise ValueError("cwd must be a string")
            _send(connection, {"ok": True, "pid": os.getpid()})
        except (OSError, ValueError, UnicodeDecodeError) as error:
            log.warning("single instance: a later launch sent a bad message: %s", error)
            return None
        log.info("another launch handed over its arguments (%d)", len(argv) - 1)
        return argv, cwd


def claim(
    folder: Path, argv: Sequence[str], cwd: str, *, timeout: float = HAND_OVER_TIMEOUT
) -> SingleInstance | None:
    """Become the instance for ``folder``, or hand ``argv`` to the one that is.

    Returns the held :class:`SingleInstance` (call :meth:`~SingleInstance.listen` next) or
    ``None`` once the running instance has taken ``argv``: this process should then exit 0.
    Raises :class:`~flaskdesk.errors.SingleInstanceError` when another process holds the lock
    but does not answer within ``timeout``.
    """
    deadline = time.monotonic() + timeout
    problem = "it did not answer"
    while True:
        held = SingleInstance.try_lock(folder)
        if held is not None:
            return held
        try:
            if hand_over(folder, argv, cwd):
                return None
            problem = "it refused the hand-over (its secret changed while we read it?)"
        except (OSError, ValueError) as error:
            problem = f"it did not answer ({error})"
        if time.monotonic() >= deadline:
            raise SingleInstanceError(
                f"Another copy of this app is running (it holds {folder / LOCK_NAME}), but {problem} "
                f"within {timeout:g} s. Close it (or end its process) and try again; to allow several "
                "copies, set single-instance = false in [tool.flaskdesk]."
            )
        time.sleep(_RETRY_INTERVAL)


def hand_over(folder: Path, argv: Sequence[str], cwd: str) -> bool:
    """Send ``argv`` to the instance holding ``folder``; True once it took it (``OSError``: unreachable)."""
    secret = (folder / SECRET_NAME).read_text(encoding="ascii").strip()
    if _has_unix_sockets():
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target: Any = folder / SOCKET_NAME
    else:
        port = int((folder / PORT_NAME).read_text(encoding="ascii").strip())
        client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        target = ("127.0.0.1", port)
    with client:
        client.settimeout(_CONNECTION_TIMEOUT)
        if isinstance(target, Path):
            with _unix_address(target) as address:
                client.connect(address)
        else:
            client.connect(target)
        _send(client, {"secret": secret, "argv": list(argv), "cwd": cwd})
        reply = json.loads(_read_line(client))
    return isinstance(reply, dict) and reply.get("ok") is True


# -- helpers ---------------------------------------------------------------------------------------


def _lock(lock_file: IO[bytes]) -> None:
    """Take the exclusive lock without waiting; ``OSError`` if another process has it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        lock_file.seek(0)
        msvcrt.locking(lock_file.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]
        return
    fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _has_unix_sockets() -> bool:
    return hasattr(socket, "AF_UNIX") and os.name != "nt"


@contextlib.contextmanager
def _unix_address(path: Path) -> Any:
    """``path`` as a socket address, going through ``/proc/self/fd`` when it is too long for one."""
    text = os.fsencode(path)
    if len(text) <= _MAX_UNIX_PATH:
        yield text
        return
    if not Path("/proc/self/fd").is_dir():
        raise OSError(f"the socket path {path} is too long ({len(text)} bytes) for this system")
    folder_fd = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        yield os.fsencode(f"/proc/self/fd/{folder_fd}/{path.name}")
    finally:
        os.close(folder_fd)


def _write_private(path: Path, content: bytes) -> None:
    """Write a file only its owner can read (created 0600, never widened)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as stream:
        stream.write(content)


def _same_user(connection: socket.socket) -> bool:
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None or connection.family != getattr(socket, "AF_UNIX", None):
        return True  # the secret is the check there
    _pid, uid, _gid = struct.unpack(
        "3i", connection.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    )
    return bool(uid == os.getuid())


def _read_line(connection: socket.socket) -> str:
    data = b""
    while b"\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            raise ValueError("the connection closed before a whole message arrived")
        data += chunk
        if len(data) > _MAX_MESSAGE:
            raise ValueError("message too long")
    return data.partition(b"\n")[0].decode("utf-8")


def _send(connection: socket.socket, message: dict[str, Any]) -> None:
    connection.sendall(json.dumps(message).encode("utf-8") + b"\n")
