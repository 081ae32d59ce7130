"""The in-process transport: the window's engine hands requests straight to the WSGI app, no socket.

With ``transport="scheme"`` the window loads ``app://flaskdesk/`` and the engine's custom-scheme API
(``ui/_qt_scheme.py``, ``ui/_gtk_scheme.py``) turns every request into one call of
:meth:`InProcessApp.handle` ``(method, url, headers, body, initiator=...)``. This module is the pure
WSGI half of that: it knows nothing about Qt or GTK.

* :meth:`InProcessApp.handle` builds a PEP 3333 environ, queues the call on a pool of named,
  non-daemon worker threads (a slow view never blocks the engine's GUI thread) and returns an
  :class:`InProcessResponse` at once; the engine side registers ``on_head`` / ``on_data`` callbacks
  and reads the body with :meth:`InProcessResponse.read`.
* A body with a known ``Content-Length`` up to ``buffer_limit`` arrives whole (``response.body``), so
  engines can hand it over as one buffer (seekable: Range requests work); anything else streams
  through a bounded buffer (backpressure: the worker waits while the engine has not read).
* Neither engine keeps cookies for a custom scheme (measured: Qt WebEngine 6.11, WebKitGTK 2.50), so
  the cookie jar is kept here (:class:`SchemeCookies`): ``Set-Cookie`` is taken out of each response
  and ``Cookie`` put into each request, per RFC 6265 paths and expiry, persistent cookies saved to a
  file in the app's web storage dir. Flask sessions and Flask-Login work; ``document.cookie`` does not.
* Redirects are resolved to absolute URLs (``response.redirect``); how to follow them is the
  engine's business (Qt: ``job.redirect``; GTK cannot, see ``ui/_gtk_scheme.py``).
* :class:`SchemeGuard` is the :class:`~flaskdesk.app.guard.Guard` for this transport: nothing but the
  app's own window can reach an in-process handler, so the launch token, the session cookie and
  the loopback Host list are moot; the origin checks become checks against ``app://flaskdesk``.
* :class:`UploadStash` carries multipart bodies that the engines cannot hand over themselves
  (WebKitGTK's ``webkit_uri_scheme_request_get_http_body`` crashes on ``Blob``/``File`` parts, Qt's
  ``requestBody()`` pads a file from disk with zeros), see ``ui/js/scheme.js``.

What a scheme cannot carry is listed by :func:`scheme_problems` (WebSocket routes and extensions).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import io
import logging
import os
import queue
import secrets
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes, urljoin, urlsplit, urlunsplit

from ..errors import ServerError
from .guard import INTERNAL_PREFIX, Guard, GuardPolicy, _Exchange

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "INITIATOR_KEY",
    "TRANSPORT_KEY",
    "UPLOAD_FIELD",
    "UPLOAD_PATH",
    "InProcessApp",
    "InProcessResponse",
    "SchemeCookies",
    "SchemeGuard",
    "UploadStash",
    "scheme_problems",
]

log = logging.getLogger("flaskdesk.scheme")

#: WSGI environ key: ``"scheme"`` for requests that came through this transport.
TRANSPORT_KEY = "flaskdesk.transport"
#: WSGI environ key: the requesting document's origin as the *engine* reports it (Qt's
#: ``QWebEngineUrlRequestJob.initiator()``), ``""`` for a navigation the user or flaskdesk started,
#: absent when the engine does not say (WebKitGTK). Page script cannot forge it.
INITIATOR_KEY = "flaskdesk.initiator"
#: Where ``ui/js/scheme.js`` parks a multipart body before re-submitting its form.
UPLOAD_PATH = f"{INTERNAL_PREFIX}upload"
#: The one field of the stand-in form that names a parked body.
UPLOAD_FIELD = "__flaskdesk_upload"
#: Request header naming the parked body's real ``Content-Type`` (with its multipart boundary).
UPLOAD_TYPE_HEADER = "X-Flaskdesk-Content-Type"

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer"})
_NO_BODY_STATUSES = frozenset({204, 304})
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TRUSTED_FETCH_SITES = frozenset({"same-origin", "none"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# --------------------------------------------------------------------------------------------------
# the response an engine reads


class InProcessResponse:
    """One request's answer: filled in by a worker thread, read by the engine (any thread).

    Once ``on_head`` callbacks run, ``status``, ``reason``, ``headers`` (without ``Set-Cookie``:
    the jar took them) and ``redirect`` (absolute target of a 3xx with ``Location``) are set, and
    either ``body`` holds the whole body or ``streaming`` is true and :meth:`read` yields it.
    """

    def __init__(self, method: str, url: str, *, stream_buffer: int) -> None:
        self.method = method
        self.url = url
        self.status = 0
        self.reason = ""
        self.headers: list[tuple[str, str]] = []
        self.redirect: str | None = None
        self.body: bytes | None = None
        self.streaming = False
        self._cond = threading.Condition()
        self._stream_buffer = stream_buffer
        self._buffer = bytearray()
        self._head_ready = False
        self._eof = False
        self._abandoned = False
        self._head_callbacks: list[Callable[[InProcessResponse], None]] = []
        self._data_callbacks: list[Callable[[InProcessResponse], None]] = []

    def __repr__(self) -> str:
        return f"<InProcessResponse {self.method} {urlsplit(self.url).path!r} {self.status or 'pending'}>"

    @property
    def content_type(self) -> str:
        return header_value(self.headers, "Content-Type") or ""

    # -- engine side -------------------------------------------------------------------------------

    def on_head(self, callback: Callable[[InProcessResponse], None]) -> None:
        """Call ``callback(self)`` once the head is known (now, if it already is). Worker thread."""
        with self._cond:
            if not self._head_ready:
                self._head_callbacks.append(callback)
                return
        callback(self)

    def on_data(self, callback: Callable[[InProcessResponse], None]) -> None:
        """Call ``callback(self)`` whenever streamed bytes (or the end) arrive; once now if some have."""
        with self._cond:
            self._data_callbacks.append(callback)
            pending = bool(self._buffer) or self._eof
        if pending:
            callback(self)

    def read(self, size: int) -> bytes | None:
        """Up to ``size`` streamed bytes without waiting: ``b""`` if none yet, ``None`` at the end."""
        with self._cond:
            if not self._buffer:
                return None if self._eof or self._abandoned else b""
            chunk = bytes(self._buffer[:size])
            del self._buffer[:size]
            self._cond.notify_all()  # a worker may wait for room
            return chunk

    def at_end(self) -> bool:
        with self._cond:
            return (self._eof or self._abandoned) and not self._buffer

    def abandon(self) -> None:
        """The engine dropped this request (page closed or navigated away): stop producing the body."""
        with self._cond:
            self._abandoned = True
            self._buffer.clear()
            self._cond.notify_all()

    @property
    def abandoned(self) -> bool:
        with self._cond:
            return self._abandoned

    # -- worker side -------------------------------------------------------------------------------

    def _set_head(self, status: str, headers: list[tuple[str, str]], body: bytes | None) -> None:
        code, _, reason = status.partition(" ")
        self.status = int(code) if code.isdigit() else 500
        self.reason = reason.strip() or "Unknown"
        self.headers = headers
        self.body = body
        self.streaming = body is None
        location = header_value(headers, "Location")
        if location and 300 <= self.status < 400 and self.status != 304:
            self.redirect = resolve_url(self.url, location)
        with self._cond:
            self._head_ready = True
            if body is not None:
                self._eof = True
            callbacks, self._head_callbacks = self._head_callbacks, []
        for callback in callbacks:
            _call(callback, self)

    def _feed(self, chunk: bytes) -> bool:
        """Buffer ``chunk`` (waiting while the buffer is full); False once the engine let go."""
        if not chunk:
            return not self.abandoned
        with self._cond:
            while len(self._buffer) >= self._stream_buffer and not self._abandoned:
                self._cond.wait(1.0)
            if self._abandoned:
                return False
            self._buffer += chunk
            callbacks = list(self._data_callbacks)
        for callback in callbacks:
            _call(callback, self)
        return True

    def _finish(self) -> None:
        with self._cond:
            self._eof = True
            callbacks = list(self._data_callbacks)
            self._cond.notify_all()
        for callback in callbacks:
            _call(callback, self)


def _call(callback: Callable[[InProcessResponse], None], response: InProcessResponse) -> None:
    try:
        callback(response)
    except Exception:
        log.exception("a response callback for %r failed", response)


# --------------------------------------------------------------------------------------------------
# cookies


class SchemeCookies:
    """The cookie jar for ``app://`` (the engines keep none for custom schemes).

    RFC 6265 matching by :mod:`http.cookiejar` (host-only cookies, paths, expiry, ``Secure`` allowed
    on the app scheme: it is a secure context). Persistent cookies are written to ``path`` (mode
    0600, atomically) whenever a response set one, and read back at start, so "remember me" survives
    a restart the way it does in the loopback transport's engine storage; session cookies die with
    the process.
    """

    def __init__(self, scheme: str, path: Path | None = None) -> None:
        policy = http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "wss", scheme))
        self._jar = http.cookiejar.LWPCookieJar(policy=policy)
        self._path = path
        self._lock = threading.Lock()
        if path is not None and path.is_file():
            try:
                self._jar.load(str(path), ignore_discard=False, ignore_expires=False)
            except (OSError, http.cookiejar.LoadError) as error:
                log.warning("could not read the saved cookies in %s (%s); starting without them", path, error)

    def cookie_header(self, url: str) -> str | None:
        """The ``Cookie`` header the jar sends to ``url``, or ``None``."""
        request = urllib.request.Request(url)
        with self._lock:
            self._jar.add_cookie_header(request)
        return request.get_header("Cookie")

    def store(self, url: str, set_cookies: Sequence[str]) -> None:
        """Take the ``Set-Cookie`` values of a response to ``url``."""
        if not set_cookies:
            return
        message = Message()
        for value in set_cookies:
            message["Set-Cookie"] = value
        request = urllib.request.Request(url)
        with self._lock:
            self._jar.extract_cookies(_CookieResponse(message), request)  # type: ignore[arg-type]
            persistent = any(not cookie.discard for cookie in self._jar)
            if self._path is not None and (persistent or self._path.exists()):
                self._save()

    def names(self) -> list[str]:
        with self._lock:
            return sorted(cookie.name for cookie in self._jar)

    def _save(self) -> None:
        assert self._path is not None
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".cookies-", dir=self._path.parent)
            os.close(fd)
            os.chmod(tmp, 0o600)
            self._jar.save(tmp, ignore_discard=False, ignore_expires=False)
            os.replace(tmp, self._path)
        except OSError as error:
            log.warning("could not save cookies to %s: %s", self._path, error)


@dataclass(frozen=True)
class _Job:
    response: InProcessResponse
    headers: list[tuple[str, str]]
    body: bytes
    initiator: str | None


@dataclass(frozen=True)
class _CookieResponse:
    message: Message

    def info(self) -> Message:
        return self.message


# --------------------------------------------------------------------------------------------------
# parked multipart bodies


class UploadStash:
    """Bodies parked by ``ui/js/scheme.js`` for one re-submitted form each.

    Neither engine's scheme API reads request bodies that hold a ``Blob``/``File`` right (WebKitGTK
    crashes, Qt pads a file from disk with zeros), so the page script serialises such a form
    itself, POSTs the bytes here, and submits a stand-in form whose one field names the parked
    body; :meth:`swap` puts the real body and ``Content-Type`` back before the app sees the
    request. Ids are 128-bit random, single use, and expire after ``ttl`` seconds.
    """

    def __init__(self, *, ttl: float = 120.0, max_bytes: int = 1 << 30) -> None:
        self._ttl = ttl
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._parked: dict[str, tuple[float, str, bytes]] = {}

    def park(self, content_type: str, body: bytes) -> str | None:
        """Keep ``body``; return its id, or ``None`` when the stash is full."""
        now = time.monotonic()
        with self._lock:
            for key, (created, _, _) in list(self._parked.items()):
                if now - created > self._ttl:
                    del self._parked[key]
            if sum(len(b) for _, _, b in self._parked.values()) + len(body) > self._max_bytes:
                return None
            key = secrets.token_urlsafe(16)
            self._parked[key] = (now, content_type, body)
            return key

    def swap(self, content_type: str, body: bytes) -> tuple[str, bytes] | None:
        """The parked ``(content_type, body)`` if this is a stand-in form's body, else ``None``."""
        if not content_type.lower().startswith("application/x-www-form-urlencoded"):
            return None
        prefix = f"{UPLOAD_FIELD}=".encode("ascii")
        if not body.startswith(prefix) or len(body) > 64:
            return None
        key = body[len(prefix) :].decode("ascii", "replace")
        with self._lock:
            parked = self._parked.pop(key, None)
        if parked is None or time.monotonic() - parked[0] > self._ttl:
            return None
        return parked[1], parked[2]


# --------------------------------------------------------------------------------------------------
# the guard for the scheme


class SchemeGuard(Guard):
    """The :class:`Guard` with access checks for an in-process scheme instead of a loopback port.

    Only the app's own window can reach an in-process handler (it is installed on the window's own
    web profile / context), so what guards a port is moot: no launch token, no session cookie, no
    port. What stays, as checks against ``origin`` (``app://flaskdesk``):

    * ``Host`` must be the origin's host: ``app://other/`` is another origin, refused;
    * the engine's own word on who asked (``environ["flaskdesk.initiator"]``, Qt's
      ``QWebEngineUrlRequestJob.initiator()``, which page script cannot forge) must be the app's
      origin, or empty (a navigation flaskdesk or the user started);
    * a present ``Origin`` must be the app's; ``Origin: null`` only when the engine vouches for the
      initiator; ``Sec-Fetch-Site`` (if an engine sends it) must be ``same-origin``/``none``;
    * with no engine word (WebKitGTK), an unsafe method without ``Origin`` but with a ``Referer``
      must have it on the app's origin (pages are served with ``Referrer-Policy: same-origin``:
      the app's own ``fetch()`` sends one, a sandboxed ``<iframe>``'s sends ``about:srcdoc``). With
      neither header (WebKitGTK's ``XMLHttpRequest`` sends none) the request is let through, as
      the loopback guard lets header-less clients through; the gap that leaves is in
      ``SECURITY.md`` (script in a sandboxed iframe, on WebKitGTK only);
    * CORS preflights are refused, ``Access-Control-*`` headers stripped (the scheme is registered
      without CORS, so no other origin can read a response either).

    Everything on the response side (CSP with nonce, ``nosniff``, frame and CORP headers, the
    script tag, generic 500 pages, internal mounts under ``/__flaskdesk__/``) is the guard's, unchanged,
    except ``Referrer-Policy: same-origin`` instead of ``no-referrer`` (no token travels in scheme
    URLs, and same-origin referrers are what tells WebKitGTK's form posts from an opaque origin's)
    and lower-case hex nonces (Qt lower-cases the header values a scheme handler sets).
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        origin: str,
        policy: GuardPolicy | None = None,
        internal: Mapping[str, WSGIApplication] | None = None,
    ) -> None:
        parts = urlsplit(origin)
        if not parts.scheme or not parts.hostname or parts.path not in ("", "/") or parts.port:
            raise ValueError(f"origin must look like app://flaskdesk, not {origin!r}")
        # The base class wants a port and a token for the loopback rules this class replaces; the
        # placeholders are never used (no launch URL, no cookie is ever issued or required).
        super().__init__(app, port=1, token=Guard.new_token(), policy=policy, internal=internal)
        self.origin = f"{parts.scheme}://{parts.hostname}"
        self.host = parts.hostname

    def __repr__(self) -> str:
        return f"<SchemeGuard origin={self.origin!r} internal={sorted(self._internal)!r}>"

    def launch_url(self, next_path: str = "/") -> str:
        """The URL the window opens first (no token: there is nothing to trade it for)."""
        if not next_path.startswith("/") or next_path.startswith("//"):
            raise ValueError(f"next_path must be a path on this app starting with '/', not {next_path!r}")
        return f"{self.origin}{next_path}"

    def authenticate_environ(self, environ: dict[str, Any]) -> None:
        environ["HTTP_HOST"] = self.host

    def _refusal(self, environ: WSGIEnvironment) -> str | None:
        host = environ.get("HTTP_HOST")
        if host != self.host:
            return f"Host {host!r} is not {self.host!r}"
        initiator = environ.get(INITIATOR_KEY)
        if initiator and initiator != self.origin:
            return f"initiator {initiator!r}"
        site = environ.get("HTTP_SEC_FETCH_SITE")
        if site is not None and site not in _TRUSTED_FETCH_SITES:
            return f"Sec-Fetch-Site {site!r}"
        origin = environ.get("HTTP_ORIGIN")
        vouched_null = origin == "null" and initiator == self.origin
        if origin is not None and origin != self.origin and not vouched_null:
            return f"Origin {origin!r}"
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            return "CORS preflight (cross-origin requests are never allowed)"
        referer = environ.get("HTTP_REFERER")
        unvouched = initiator is None and origin is None and method not in _SAFE_METHODS
        if unvouched and referer is not None and not referer.startswith(f"{self.origin}/"):
            return f"unsafe method from Referer {referer!r}"
        return None

    def _has_session(self, environ: WSGIEnvironment) -> bool:
        return True  # reaching an in-process handler at all means being the app's window

    def _new_nonce(self) -> str:
        # Lower-case hex, same 128 bits: Qt WebEngine (6.11) lower-cases the values of the headers a
        # scheme handler adds, so a mixed-case nonce in the CSP header would match no script tag.
        return secrets.token_hex(16)

    def _launch(
        self, environ: WSGIEnvironment, start_response: StartResponse, exchange: _Exchange
    ) -> Iterable[bytes]:
        from .guard import _NOT_FOUND_PAGE

        return self._page(start_response, "404 Not Found", _NOT_FOUND_PAGE, exchange)

    def _secure(self, headers: list[tuple[str, str]], exchange: _Exchange) -> list[tuple[str, str]]:
        secured = super()._secure(headers, exchange)
        return [
            (name, "same-origin" if name.lower() == "referrer-policy" else value) for name, value in secured
        ]


# --------------------------------------------------------------------------------------------------
# the transport


class InProcessApp:
    """Serve ``app`` to an engine's custom-scheme handler on worker threads; no socket is opened.

    ``origin`` is the scheme origin the window uses (``app://flaskdesk``). ``threads`` workers run
    requests concurrently (a slow view never blocks the GUI thread, nor other requests).
    ``cookie_file`` keeps persistent cookies between runs (``None``: memory only). Bodies with a
    ``Content-Length`` up to ``buffer_limit`` bytes are handed over whole; others stream through a
    buffer of ``stream_buffer`` bytes. Lifecycle as :class:`~flaskdesk.app.server.Server`:
    :meth:`start`, :meth:`swap_app`, :meth:`shutdown` (finish in-flight requests, join threads).
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        origin: str,
        threads: int = 8,
        name: str = "flaskdesk",
        cookie_file: Path | None = None,
        buffer_limit: int = 8 * 1024 * 1024,
        stream_buffer: int = 1024 * 1024,
        max_request_body: int = 256 * 1024 * 1024,
    ) -> None:
        if threads < 1:
            raise ValueError("threads must be at least 1")
        parts = urlsplit(origin)
        if not parts.scheme or not parts.hostname:
            raise ValueError(f"origin must look like app://flaskdesk, not {origin!r}")
        self.app = app
        self.origin = f"{parts.scheme}://{parts.hostname}"
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.name = name
        self.cookies = SchemeCookies(parts.scheme, cookie_file)
        self.stash = UploadStash()
        self.buffer_limit = buffer_limit
        self.stream_buffer = stream_buffer
        self.max_request_body = max_request_body
        self._threads = threads
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._lock = threading.Condition()
        self._active = 0
        self._streaming: set[InProcessResponse] = set()
        self._closing = False
        self._started = False

    @property
    def url(self) -> str:
        """The origin the window talks to, as :attr:`Server.url <flaskdesk.app.server.Server.url>`."""
        return self.origin

    def start(self) -> None:
        """Start the worker threads (named, non-daemon: closing waits for them)."""
        with self._lock:
            if self._started:
                return
            self._started = True
            for number in range(self._threads):
                worker = threading.Thread(
                    target=self._work, name=f"{self.name}-scheme-{number}", daemon=False
                )
                try:
                    worker.start()
                except RuntimeError as error:  # "can't start new thread"
                    raise ServerError(
                        f"could not start the in-process transport's threads: {error}"
                    ) from error
                self._workers.append(worker)

    def swap_app(self, app: WSGIApplication) -> None:
        """Later requests go to ``app`` (dev reload), as :meth:`Server.swap_app`."""
        self.app = app

    def handle(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]] | Mapping[str, str],
        body: bytes,
        *,
        initiator: str | None = None,
    ) -> InProcessResponse:
        """Queue one request; return its response at once (thread-safe, never blocks).

        ``headers`` as the engine gives them (hop-by-hop ones are dropped); ``initiator`` is the
        requesting document's origin *if the engine reports it* (``""``: a navigation without one),
        ``None`` if it cannot say.
        """
        response = InProcessResponse(method.upper(), url, stream_buffer=self.stream_buffer)
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        with self._lock:
            refused = "closing" if self._closing else "not started" if not self._started else None
            if refused is None:
                self._active += 1
        if refused is not None:
            log.warning("refused %s %r: the app is %s", response.method, urlsplit(url).path, refused)
            _plain(response, "503 Service Unavailable", f"The application is {refused}.\n")
            return response
        self._queue.put(_Job(response, pairs, body, initiator))
        return response

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Refuse new requests, let running ones finish (within ``timeout``), join the workers.

        Bodies still streaming to a window that is gone are dropped (there is no one to read them);
        views still running are waited for, so a write that was in flight when the window closed
        completes. Returns True if everything finished in time.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            self._closing = True
            streaming = list(self._streaming)
        for response in streaming:
            response.abandon()
        with self._lock:
            while self._active and time.monotonic() < deadline:
                self._lock.wait(min(0.1, max(0.0, deadline - time.monotonic())))
            unfinished = self._active
        for _ in self._workers:
            self._queue.put(None)
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        alive = [worker.name for worker in self._workers if worker.is_alive()]
        if unfinished or alive:
            log.error(
                "%d request(s) still running %.1f s after the window closed; threads %s",
                unfinished,
                timeout,
                alive,
            )
            return False
        return True

    # -- worker ------------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            response = job.response
            try:
                self._serve(response, job.headers, job.body, job.initiator)
            except BaseException:  # never leave the engine waiting for a head
                log.exception("request %r failed in the transport", response)
                if not response.status:
                    _plain(
                        response, "500 Internal Server Error", "Internal error in flaskdesk's transport.\n"
                    )
                else:
                    response._finish()
            finally:
                with self._lock:
                    self._active -= 1
                    self._streaming.discard(response)
                    self._lock.notify_all()

    def _serve(
        self,
        response: InProcessResponse,
        pairs: list[tuple[str, str]],
        body: bytes,
        initiator: str | None,
    ) -> None:
        method, url = response.method, response.url
        path = urlsplit(url).path
        if len(body) > self.max_request_body:
            _plain(response, "413 Content Too Large", "The request body is too large.\n")
            return
        if path == UPLOAD_PATH:
            self._park(response, pairs, body, initiator)
            return
        content_type = header_value(pairs, "Content-Type") or ""
        swapped = self.stash.swap(content_type, body) if method == "POST" else None
        if swapped is not None:
            content_type, body = swapped
            pairs = [(k, v) for k, v in pairs if k.lower() != "content-type"]
            pairs.append(("Content-Type", content_type))
        environ = build_environ(method, url, pairs, body, initiator=initiator)
        jar_cookies = self.cookies.cookie_header(url)
        if jar_cookies:
            existing = environ.get("HTTP_COOKIE")
            environ["HTTP_COOKIE"] = f"{jar_cookies}; {existing}" if existing else jar_cookies
        self._run_app(response, environ)

    def _run_app(self, response: InProcessResponse, environ: dict[str, Any]) -> None:
        capture: dict[str, Any] = {}
        written: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            if exc_info is not None and exc_info[1] is not None and response.status:
                raise exc_info[1].with_traceback(exc_info[2])
            capture["status"], capture["headers"] = status, list(headers)
            return written.append

        result = self.app(environ, start_response)
        chunks = iter(result)
        try:
            self._respond(response, chunks, capture, written)
        finally:
            _close(result)

    def _respond(
        self,
        response: InProcessResponse,
        chunks: Iterator[bytes],
        capture: dict[str, Any],
        written: list[bytes],
    ) -> None:
        """Hand the head over as soon as it is known, then the body (whole, or streamed)."""
        # Always start the iterable (even for HEAD): closing a generator that never ran skips its
        # ``finally``, and the app's file or stream would be left open.
        first = [next(chunks, b"")]
        if "status" not in capture:
            raise RuntimeError("the WSGI app returned without calling start_response")
        status: str = capture["status"]
        headers = self._take_cookies(response.url, capture["headers"])
        head = [*written, *first]
        code = int(status[:3]) if status[:3].isdigit() else 500
        if response.method == "HEAD" or code in _NO_BODY_STATUSES:
            response._set_head(status, headers, b"")
            return
        length = header_value(headers, "Content-Length")
        if length is not None and length.isdigit() and int(length) <= self.buffer_limit:
            response._set_head(status, headers, b"".join([*head, *chunks]))
            return
        with self._lock:
            self._streaming.add(response)
            closing = self._closing
        response._set_head(status, headers, None)
        if closing:  # the window is gone: no one will read this body
            response.abandon()
        for chunk in _chain(head, chunks):
            if not response._feed(chunk):
                log.info("stopped streaming %r: the window let go of it", response)
                break
        response._finish()

    def _take_cookies(self, url: str, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        set_cookies = [value for name, value in headers if name.lower() == "set-cookie"]
        self.cookies.store(url, set_cookies)
        return [
            (name, value)
            for name, value in headers
            if name.lower() != "set-cookie" and name.lower() not in _HOP_BY_HOP
        ]

    def _park(
        self,
        response: InProcessResponse,
        pairs: list[tuple[str, str]],
        body: bytes,
        initiator: str | None,
    ) -> None:
        real_type = header_value(pairs, UPLOAD_TYPE_HEADER) or ""
        origin = header_value(pairs, "Origin")
        foreign = (initiator and initiator != self.origin) or (origin is not None and origin != self.origin)
        if response.method != "POST" or foreign or not real_type.lower().startswith("multipart/form-data"):
            _plain(response, "403 Forbidden", "Refused.\n")
            return
        key = self.stash.park(real_type, body)
        if key is None:
            _plain(response, "413 Content Too Large", "Too many uploads in flight.\n")
            return
        _plain(response, "200 OK", key, content_type="text/plain; charset=utf-8")


def build_environ(
    method: str,
    url: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    *,
    initiator: str | None = None,
) -> dict[str, Any]:
    """A PEP 3333 environ for one request (pure).

    ``PATH_INFO`` is the percent-decoded path as latin-1 (as servers do); ``wsgi.url_scheme`` is the
    custom scheme (``app``); repeated headers are joined with ``", "`` (``"; "`` for ``Cookie``).
    """
    parts = urlsplit(url)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method.upper(),
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(parts.path or "/").decode("latin-1"),
        "QUERY_STRING": parts.query,
        "SERVER_NAME": parts.hostname or "",
        "SERVER_PORT": "0",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": parts.netloc,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr if sys.stderr is not None else io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        TRANSPORT_KEY: "scheme",
    }
    if initiator is not None:
        environ[INITIATOR_KEY] = initiator
    if body or method.upper() in _UNSAFE_METHODS:
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in headers:
        key = name.strip().upper().replace("-", "_")
        if not key or name.lower() in _HOP_BY_HOP or name.lower() in ("host", "content-length"):
            continue
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
            continue
        key = f"HTTP_{key}"
        if key in environ:
            environ[key] += ("; " if key == "HTTP_COOKIE" else ", ") + value
        else:
            environ[key] = value
    return environ


def resolve_url(base: str, location: str) -> str:
    """``location`` resolved against ``base``; :func:`urljoin` leaves custom schemes' URLs alone."""
    if urlsplit(location).scheme:
        return location
    parts = urlsplit(base)
    joined = urlsplit(urljoin(urlunsplit(("http", parts.netloc, parts.path, parts.query, "")), location))
    return urlunsplit((parts.scheme, joined.netloc, joined.path, joined.query, joined.fragment))


def header_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of header ``name`` (case-insensitive), or ``None``."""
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


def scheme_problems(app: Any) -> list[str]:
    """What this app uses that a custom scheme cannot carry (empty: nothing known).

    WebSockets need a ``ws://`` server, which there is none of without a socket: Flask-Sock routes
    (``Rule.websocket``) and Flask-SocketIO (``app.extensions["socketio"]``; its long-polling
    fallback works over the scheme, the upgrade never happens) are reported.
    """
    problems: list[str] = []
    url_map = getattr(app, "url_map", None)
    if url_map is not None:
        sockets = sorted(rule.rule for rule in url_map.iter_rules() if getattr(rule, "websocket", False))
        if sockets:
            problems.append(
                f"WebSocket routes {', '.join(sockets)} cannot be served over the app:// scheme (there is no "
                'socket to upgrade); use transport = "loopback"'
            )
    extensions = getattr(app, "extensions", {}) or {}
    if "socketio" in extensions:
        problems.append(
            "Flask-SocketIO cannot upgrade to WebSockets over the app:// scheme; clients fall back to "
            'long-polling (one worker thread per open poll). Use transport = "loopback" for real WebSockets'
        )
    return problems


def _plain(response: InProcessResponse, status: str, text: str, *, content_type: str | None = None) -> None:
    body = text.encode("utf-8")
    headers = [
        ("Content-Type", content_type or "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    response._set_head(status, headers, b"" if response.method == "HEAD" else body)


def _chain(head: list[bytes], chunks: Iterator[bytes]) -> Iterator[bytes]:
    yield from head
    yield from chunks


def _close(result: Iterable[bytes]) -> None:
    close = getattr(result, "close", None)
    if callable(close):
        with contextlib.suppress(Exception):
            close()
