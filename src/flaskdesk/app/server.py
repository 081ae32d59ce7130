"""The embedded HTTP server: bind → thread → ready → drain → join.

The app is served by waitress (measured faster here than Werkzeug's threaded server and cheroot,
see ``benchmarks/servers.py``) on loopback, and this module owns its whole lifecycle:

* **bind** in the caller's thread, so the port is known (and held) before the window or the
  guard needs it, and the very socket that was bound is the one served: there is no
  "probe a free port, close it, bind again" race for another process to win. The socket never
  gets ``SO_REUSEADDR`` from us and listens at once, so no second socket can share the port.
* **serve** on named threads: one non-daemon ``…-server`` thread runs waitress's event loop (it is
  what keeps the process alive while the app is served) and ``…-worker-N`` threads run the app.
* **drain** on shutdown. Waitress has no graceful stop (its loop runs until its socket map is
  empty, its workers are daemon threads), so :meth:`Server.shutdown` drives one: close the
  listener, let every connection with work in flight (a running view, a body still uploading,
  unsent output) finish, close idle keep-alive connections, then empty the map so the loop
  returns, stop the workers and join every thread.

Everything that touches waitress's event-loop objects runs *in the loop thread* (as a thunk
passed through waitress's trigger), because those objects are not thread-safe.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from waitress import wasyncore
from waitress.server import create_server
from waitress.task import ThreadedTaskDispatcher

from ..errors import ServerError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["Server"]

log = logging.getLogger("flaskdesk.server")

#: Sent as the ``Server`` header instead of waitress's own name and version.
_IDENT = "flaskdesk"
#: How often :meth:`Server.shutdown` re-checks whether the in-flight work has finished.
_DRAIN_POLL = 0.01
#: Extra time the loop thread gets to act on the forced close once the deadline has passed.
_FORCE_GRACE = 1.0
#: How long idle workers get to exit after being told to stop, even past the deadline.
_IDLE_EXIT_GRACE = 0.1
#: Queued connections kept while the server is not yet accepting (the same as waitress's default).
_BACKLOG = 1024

_INTERNAL_ERROR = b"Internal Server Error: the application raised an exception (see the log).\n"


class Server:
    """A WSGI app served over HTTP on loopback, with a lifecycle a desktop app can rely on.

    ``host``/``port`` are where to listen (port 0: the OS picks a free port, read back into
    :attr:`port` and :attr:`url`); ``threads`` is how many requests run at once; ``name`` labels
    the threads (``flaskdesk-<name>-server``, ``flaskdesk-<name>-worker-N``; for the default name
    just ``flaskdesk-server``...), so a debugger or a leak check can tell whose they are.

    >>> server = Server(app)            # bound and listening now; server.url is final
    >>> server.start()                  # returns once requests are being answered
    >>> server.shutdown(timeout=10.0)   # True if every in-flight request finished
    """

    host: str
    port: int
    url: str

    def __init__(
        self,
        app: WSGIApplication,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 8,
        name: str = "flaskdesk",
    ) -> None:
        if threads < 1:
            raise ServerError(f"The server needs at least one worker thread, not threads={threads}.")
        self._app = app
        self._threads = threads
        # Leak checks and debuggers find our threads by this prefix, whatever the app is called.
        self._thread_prefix = (
            name if name == "flaskdesk" or name.startswith("flaskdesk-") else f"flaskdesk-{name}"
        )
        self._lock = threading.Lock()
        self._state = "bound"  # → "running" → "closed"
        self._drained: bool | None = None
        self._waitress: Any = None
        self._pool: _WorkerPool | None = None
        self._loop_thread: threading.Thread | None = None
        self._sock = _bind(host, port)
        bound_host, self.port = self._sock.getsockname()[:2]
        self.host = str(bound_host)
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{shown}:{self.port}"

    def __repr__(self) -> str:
        return f"<Server {self.url} {self._state}>"

    def __enter__(self) -> Server:
        """Start serving (if not started yet) for the ``with`` block."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    # ------------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 10.0) -> None:
        """Serve on background threads; return once connections are being accepted.

        Connections made between ``__init__`` and now waited in the listen backlog and are served
        now. Calling ``start()`` on a running server does nothing; after :meth:`shutdown` it is an
        error, because the port has been released.
        """
        with self._lock:
            if self._state == "running":
                return
            if self._state == "closed":
                raise ServerError(
                    f"The server for {self.url} has been shut down and its port released; "
                    "create a new Server to serve again."
                )
            self._state = "running"
            ready = threading.Event()
            try:
                self._launch(ready)
            except Exception as error:
                self._abort_start()
                raise ServerError(
                    f"The HTTP server on {self.url} could not start: {error}. If the system is short "
                    "of threads or open files, close other programs and try again; otherwise report "
                    "this with the log."
                ) from error
        deadline = time.monotonic() + timeout
        loop_thread = self._loop_thread
        assert loop_thread is not None
        while not ready.wait(_DRAIN_POLL):
            if not loop_thread.is_alive() or time.monotonic() >= deadline:
                self.shutdown(timeout=1.0)
                raise ServerError(
                    f"The HTTP server on {self.url} did not become ready within {timeout:g} s. The "
                    "machine may be overloaded, or the server loop crashed (see the log for "
                    "'flaskdesk.server' errors); try again, or raise the start timeout."
                )

    def swap_app(self, app: WSGIApplication) -> None:
        """Send later requests to ``app`` (dev-mode reload); requests already running keep theirs."""
        # One attribute store: a request reads ``self._app`` once, so it sees the old or the new app.
        self._app = app

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Stop accepting, finish in-flight requests, close idle connections, join every thread.

        Returns True if all of that happened within ``timeout`` seconds. Otherwise the remaining
        connections are closed, a warning names how many requests were cut off, and False is
        returned. A view that is *still running* cannot be stopped from outside: its worker thread
        runs it to the end, then finds its connection closed and exits. Workers are daemon threads
        so such a view cannot keep the process alive. Safe to call twice, and before
        :meth:`start`; must not be called from a view (it would wait for itself).
        """
        if self._is_own_thread():
            raise ServerError(
                "Server.shutdown() was called from a request the server is running, and would wait for "
                "that request to finish. Call it from another thread (for example the UI thread, or a "
                "new threading.Thread started by the view)."
            )
        if not self._lock.acquire(timeout=max(timeout, 0.0)):
            return False
        try:
            if self._state == "closed":
                return bool(self._drained)
            if self._state == "bound":
                self._sock.close()
                self._state = "closed"
                self._drained = True
                return True
            self._state = "closed"
            self._drained = self._drain(time.monotonic() + max(timeout, 0.0))
            return self._drained
        finally:
            self._lock.release()

    # ------------------------------------------------------------------ internals: start

    def _launch(self, ready: threading.Event) -> None:
        """Create waitress around our bound socket and start the worker and loop threads."""
        self._pool = _WorkerPool(self._thread_prefix)
        self._waitress = create_server(
            self._serve,
            map={},
            _dispatcher=self._pool,  # ours: named workers that shutdown() can join
            sockets=[self._sock],
            ident=_IDENT,
            expose_tracebacks=False,
            asyncore_use_poll=True,  # poll(): no FD_SETSIZE limit
        )
        # waitress sets SO_REUSEADDR on every listener. Linux never lets a second socket share a
        # listening port, and its accepted connections must carry the flag too, or their TIME_WAIT
        # blocks the next run from rebinding this port; elsewhere put our choice back.
        if not sys.platform.startswith("linux"):
            with contextlib.suppress(OSError):
                self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        self._pool.set_thread_count(self._threads)
        # The thunk runs inside the loop, after the listener is in the map: i.e. accepting.
        self._waitress.trigger.pull_trigger(ready.set)
        loop_thread = threading.Thread(
            target=self._run_loop, name=f"{self._thread_prefix}-server", daemon=False
        )
        loop_thread.start()  # last: if anything above failed, no loop thread needs stopping
        self._loop_thread = loop_thread

    def _abort_start(self) -> None:
        """Undo a half-done :meth:`_launch` (caller holds the lock)."""
        self._state = "closed"
        self._drained = True
        if self._pool is not None:
            self._pool.stop()
            self._pool.join(time.monotonic() + 1.0)
        if self._waitress is not None:
            wasyncore.close_all(self._waitress._map, ignore_all=True)
        self._sock.close()

    def _run_loop(self) -> None:
        try:
            self._waitress.run()
        except BaseException:
            log.exception("the HTTP server loop stopped unexpectedly; the app no longer answers requests")
            raise

    def _serve(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The callable waitress serves: the current app, with its exceptions logged and answered 500.

        Only the call is guarded, not iteration over the body: wrapping the iterable would hide
        ``wsgi.file_wrapper`` responses from waitress's zero-copy path. Errors while iterating are
        logged by waitress (logger ``waitress``), which also answers 500 if no header went out.
        """
        app = self._app
        try:
            return app(environ, start_response)
        except Exception:
            log.exception(
                "unhandled exception in the app while serving %s %s",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
            )
            # With exc_info, waitress re-raises if the headers were already sent (PEP 3333).
            start_response(
                "500 Internal Server Error",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(_INTERNAL_ERROR))),
                ],
                sys.exc_info(),
            )
            return [_INTERNAL_ERROR]

    def _is_own_thread(self) -> bool:
        current = threading.current_thread()
        if current is self._loop_thread:
            return True
        return self._pool is not None and current in self._pool.workers

    # ------------------------------------------------------------------ internals: drain

    def _drain(self, deadline: float) -> bool:
        """Run the graceful stop; see the module docstring. Called once, with the lock held."""
        server, pool, loop_thread = self._waitress, self._pool, self._loop_thread
        assert server is not None and pool is not None and loop_thread is not None
        # 1-3: the loop thread closes the listener at the first step, then, at every step, the
        # connections that have become idle; when none is left it leaves the loop.
        while loop_thread.is_alive() and time.monotonic() < deadline:
            server.trigger.pull_trigger(lambda: self._in_loop(self._drain_step, server))
            loop_thread.join(_DRAIN_POLL)
        cut_off = _Count()
        if loop_thread.is_alive():
            server.trigger.pull_trigger(lambda: self._in_loop(self._force_close, server, cut_off))
            loop_thread.join(_FORCE_GRACE)
        if loop_thread.is_alive():
            log.error("the HTTP server loop did not stop; its thread %r is left running", loop_thread.name)
        else:
            # Only after a crash is anything left; nobody else touches the map once the loop is gone.
            _close_leftovers(server)
        # 4: no connection is left, so no new task can be queued: stop the workers and join them.
        pool.stop()
        pool.join(deadline)
        cancelled = pool.cancel_pending()
        stragglers = pool.alive()
        # A worker that outlives the deadline may still pull the trigger when its view returns;
        # keep the trigger's pipe open until the last worker has gone rather than risk writing into
        # a file descriptor the OS has handed to someone else. (A loop that did not stop still
        # polls it: then it is left open.)
        if not loop_thread.is_alive():
            pool.when_idle(server.trigger.close)
        cut = max(cut_off.value, stragglers + cancelled)
        if cut or loop_thread.is_alive():
            log.warning(
                "server shutdown deadline hit: %d request(s) cut off%s",
                cut,
                f"; {stragglers} view(s) still running will finish in the background" if stragglers else "",
            )
            return False
        return True

    def _in_loop(self, step: Callable[..., None], *args: Any) -> None:
        """Run ``step`` in the loop thread, logging failures (waitress would log them at INFO)."""
        try:
            step(*args)
        except Exception:
            log.exception("error while shutting the HTTP server down")

    @staticmethod
    def _drain_step(server: Any) -> None:
        """One drain step, in the loop thread: stop listening, wind every connection down, maybe exit."""
        _stop_listening(server)
        for channel in list(server.active_channels.values()):
            _wind_down(channel)
        _leave_loop_if_empty(server)

    @staticmethod
    def _force_close(server: Any, cut_off: _Count) -> None:
        """At the deadline, in the loop thread: close every connection, counting those cut off."""
        _stop_listening(server)
        for channel in list(server.active_channels.values()):
            if _has_work(channel):
                cut_off.value += 1
            if channel.request is not None:  # a body still uploading: nobody else will close it
                channel.request.close()
            channel.handle_close()
        _leave_loop_if_empty(server)


class _Count:
    """A counter the loop thread fills in for the caller (the thunk cannot return a value)."""

    value = 0


def _bind(host: str, port: int) -> socket.socket:
    """Bind and listen on ``host:port``, or raise a :class:`ServerError` that says what to do."""
    where = f"{host}:{port}"
    if not 0 <= port <= 65535:  # getaddrinfo would silently wrap 70000 to 4464
        raise ServerError(
            f"Cannot serve the app on {where}: ports run from 1 to 65535; use port=0 to let the OS pick."
        )
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICSERV)
    except (OSError, UnicodeError) as error:
        raise ServerError(
            f"Cannot serve the app on {where}: the host name does not resolve ({error}). "
            "Use a loopback address such as 127.0.0.1 (the default)."
        ) from error
    last: OSError | None = None
    for family, kind, proto, _name, address in infos:
        try:
            sock = socket.socket(family, kind, proto)
        except OSError as error:  # e.g. IPv6 disabled
            last = error
            continue
        try:
            exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)  # Windows only
            if port and sys.platform.startswith("linux"):
                # Rebinding the port of the app's last run must not fail on its connections still
                # in TIME_WAIT. On Linux this never lets a second socket share a listening port.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if exclusive is not None:
                # Windows lets a later SO_REUSEADDR socket steal a port unless it is held exclusively.
                sock.setsockopt(socket.SOL_SOCKET, exclusive, 1)
            sock.bind(address)
            sock.listen(_BACKLOG)
        except OSError as error:
            sock.close()
            last = error
            continue
        return sock
    assert last is not None  # getaddrinfo returns at least one address or raises
    raise ServerError(_bind_advice(where, port, last)) from last


def _bind_advice(where: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        hint = (
            f"Another program (or another copy of this app) is already using port {port}. Close it, "
            "or let the system pick a free port with port=0 (the default)."
        )
    elif error.errno in (errno.EACCES, errno.EPERM):
        hint = (
            "The operating system refused the port: ports below 1024 need administrator rights, and a "
            "firewall or security policy may block others. Use port=0 (the default) or a port above 1024."
        )
    elif error.errno == errno.EADDRNOTAVAIL:
        hint = "That address does not belong to this machine. Use a loopback address such as 127.0.0.1."
    else:
        hint = "Use the defaults (127.0.0.1, port 0), and check the log for details."
    return f"Cannot serve the app on {where}: {error.strerror or error}. {hint}"


def _stop_listening(server: Any) -> None:
    """Close the listening socket, first taking in connections the OS already completed.

    Those clients connected before shutdown and may have sent a request; refusing them would
    reset them mid-request. Each gets a channel and is then drained like any other connection.
    """
    if server.socket is None:
        return
    for _ in range(_BACKLOG):
        before = len(server.active_channels)
        server.handle_accept()  # one non-blocking accept(); nothing happens if none is waiting
        if len(server.active_channels) == before:
            break
    # Not server.close(): that would also close the trigger, which the drain still needs.
    wasyncore.dispatcher.close(server)


def _wind_down(channel: Any) -> None:
    """Close a connection once nothing on it is in flight; until then, make it the last request.

    In flight means: a request is running or queued, a request is partly received (a body still
    uploading), output is not sent yet, or the client's next request already sits unread in the
    socket (peeked, not consumed; it will be read and served). A connection with none of that is
    an idle keep-alive connection and is closed now.

    A busy connection's newest request is marked ``Connection: close`` (in waitress's parsed
    request headers, which it consults when it writes the response head), so the client gets a
    complete response, learns the connection ends, and does not send another request on it.
    """
    with channel.requests_lock:  # workers pop their request under this lock, after their output
        queued = list(channel.requests)
        partial = channel.request
    if partial is not None:
        if partial.headers_finished:  # headers still arriving: mark it at a later step
            partial.headers["CONNECTION"] = "close"
        return
    if queued:
        queued[-1].headers["CONNECTION"] = "close"
        return
    if channel.will_close or channel.close_when_flushed or _unread_request(channel):
        return
    if channel.total_outbufs_len:
        channel.close_when_flushed = True  # waitress closes it once the response is sent
    else:
        channel.handle_close()


def _has_work(channel: Any) -> bool:
    """Whether closing ``channel`` now would cut a request off (see :func:`_wind_down`)."""
    return bool(
        channel.requests
        or channel.request is not None
        or channel.total_outbufs_len
        or _unread_request(channel)
    )


def _unread_request(channel: Any) -> bool:
    """Whether the client has sent bytes the server has not read yet."""
    try:
        return bool(channel.socket.recv(1, socket.MSG_PEEK))  # b"": the client closed its end
    except OSError:  # BlockingIOError: nothing pending; anything else: a broken connection
        return False


def _leave_loop_if_empty(server: Any) -> None:
    """Once only the trigger is left in the socket map, remove it too: waitress's loop then returns.

    The trigger is taken out of the map but not closed: a worker finishing its last request may
    still pull it, and the caller closes it once the workers are gone.
    """
    if server.socket is None and not server.active_channels and set(server._map.values()) <= {server.trigger}:
        server.trigger.del_channel()


def _close_leftovers(server: Any) -> None:
    """Close whatever is still in the socket map after the loop thread has gone (a crash)."""
    for dispatcher in list(server._map.values()):
        if dispatcher is server.trigger:
            server.trigger.del_channel()  # closed once the workers are gone, see Server._drain
        elif dispatcher is server:
            wasyncore.dispatcher.close(server)  # not server.close(): that closes the trigger too
        else:
            with contextlib.suppress(Exception):
                dispatcher.close()


class _WorkerPool(ThreadedTaskDispatcher):  # type: ignore[misc]  # waitress ships no type hints
    """waitress's thread pool, with named threads that can be joined and counted.

    ``start_new_thread`` is waitress's hook for creating a worker; ours names it, keeps the
    :class:`threading.Thread` so :meth:`join` can wait for it, and tracks when the last one exits.
    Workers stay daemon threads (as in waitress) so a view that never returns cannot keep the
    process alive once :meth:`Server.shutdown` has given up on it; the server thread is the
    non-daemon one.
    """

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self._prefix = prefix
        self.workers: list[threading.Thread] = []
        self._live = 0
        self._on_idle: Callable[[], None] | None = None

    def start_new_thread(self, target: Callable[[int], None], thread_no: int) -> None:
        """Start one worker (waitress calls this from ``set_thread_count``, holding ``self.lock``)."""
        thread = threading.Thread(
            target=self._run, args=(target, thread_no), name=f"{self._prefix}-worker-{thread_no}", daemon=True
        )
        self._live += 1
        self.workers.append(thread)
        thread.start()

    def _run(self, target: Callable[[int], None], thread_no: int) -> None:
        try:
            target(thread_no)
        finally:
            with self.lock:
                self._live -= 1
                callback = self._on_idle if self._live == 0 else None
                if callback is not None:
                    self._on_idle = None
            if callback is not None:
                callback()

    def stop(self) -> None:
        """Ask every worker to exit once its current task is done (queued tasks are not started)."""
        self.set_thread_count(0)

    def join(self, deadline: float) -> None:
        """Join the workers until ``deadline``, giving idle ones woken by :meth:`stop` a moment past it.

        Without that moment, workers that were merely waiting for work would be counted as
        requests cut off whenever the deadline had already passed.
        """
        deadline = max(deadline, time.monotonic() + _IDLE_EXIT_GRACE)
        for thread in self.workers:
            thread.join(max(0.0, deadline - time.monotonic()))

    def alive(self) -> int:
        return sum(thread.is_alive() for thread in self.workers)

    def cancel_pending(self) -> int:
        """Drop the tasks no worker took (their connections are closed); return how many."""
        with self.lock:
            pending = list(self.queue)
            self.queue.clear()
        for channel in pending:
            for request in channel.requests:
                request.close()
            channel.cancel()
        return len(pending)

    def when_idle(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` now if no worker is running, else when the last one exits."""
        with self.lock:
            if self._live:
                self._on_idle = callback
                return
        callback()
