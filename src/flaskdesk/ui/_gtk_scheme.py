"""WebKitGTK's half of ``transport="scheme"``: a URI scheme registered on the window's web context.

pywebview gives each window its own ``WebKitWebContext`` (rooted at the app's storage dir);
:func:`install` registers ``app`` there (and as a *secure* scheme, so pages are a secure context),
and adds ``ui/js/scheme.js`` as a user script, from pywebview's ``before_show``, before the first
page is requested.

The callback runs on the GUI thread: it reads method, URI, headers and body (WebKitGTK >= 2.40)
and hands them to the transport; the answer comes back through ``GLib.idle_add`` and becomes a
``WebKitURISchemeResponse`` (>= 2.36) with the real status, reason and headers. Whole bodies go
out as a ``GMemoryInputStream``; streamed ones through a pipe read by WebKit with
``g_input_stream_read_async`` (a ``GUnixInputStream``), fed from the GUI thread without ever
blocking it (non-blocking writes, resumed by a GLib watch when the pipe drains).

What WebKitGTK cannot do (measured, 2.50), and what is done instead:

* it does not follow redirects from scheme responses: a document navigation (``Accept: text/html``)
  gets a small page with ``<meta http-equiv="refresh">`` to the target; any other request is followed
  here, through the transport, up to 10 hops (``Response.url`` then shows the first URL);
* ``webkit_uri_scheme_request_get_http_body`` crashes the process on a body that holds a ``Blob`` or
  ``File``: ``ui/js/scheme.js`` flattens those in the page before they are sent;
* it keeps no cookies for the scheme (the transport keeps them);
* it cannot download a scheme URL at all (and shows its response policy decision no headers, so
  it would display an attachment it can render): an attachment a navigation opens is saved here,
  through ``save_as`` (the window's save dialog), and the page stays, as with a download over HTTP.
"""

from __future__ import annotations

import errno
import html
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from werkzeug.http import parse_options_header

from ..errors import BackendError
from .scheme import SaveAs, SchemeHandler, SchemeResponse, engine_headers

log = logging.getLogger("flaskdesk.ui")

#: Not passed on. ``Content-Type`` is passed as a header too: WebKit replaces the response's header
#: fields with these, so without it ``fetch`` sees none, and ``nosniff`` blocks scripts and styles.
_DROPPED_RESPONSE_HEADERS = frozenset({"set-cookie", "transfer-encoding", "connection"})
_MAX_REDIRECTS = 10
#: Attribute on a ``WebKitWebContext`` wrapper that has the scheme handler (and holds its server).
_SERVED_MARK = "_flaskdesk_scheme_server"
_READ_CHUNK = 64 * 1024


def install(
    window: Any, handle: SchemeHandler, *, origin: str, script: str, save_as: SaveAs | None = None
) -> Any:
    """Serve ``handle`` in pywebview ``window``'s web context; GUI thread (``before_show``).

    Returns the scheme server, or ``None`` when the window's context had it already.
    """
    gi_webkit = _webkit()
    browser = getattr(window.gui, "BrowserView", None)
    instance = browser.instances.get(window.uid) if browser is not None else None
    view = getattr(instance, "webview", None)
    if view is None:
        raise BackendError(
            "pywebview's GTK window has no WebKitWebView to serve app:// in; install the pywebview "
            "version flaskdesk supports (pip install 'pywebview>=5.3,<7')"
        )
    scheme = origin.split(":", 1)[0]
    context = view.get_context()
    security = context.get_security_manager()
    server: _SchemeServer | None = None
    # Once per context. pywebview gives every window a context of its own (a second window needs
    # its own handler), but WebKit keeps "secure" schemes for the whole process, so that cannot tell
    # whether this context has the handler: the context's wrapper is marked instead.
    security.register_uri_scheme_as_secure(scheme)
    if not getattr(context, _SERVED_MARK, False):
        server = _SchemeServer(handle, origin, save_as)
        context.register_uri_scheme(scheme, server.on_request)
        setattr(context, _SERVED_MARK, server)  # also keeps the server (and its callback) alive
    view.get_user_content_manager().add_script(
        gi_webkit.UserScript.new(
            script,
            gi_webkit.UserContentInjectedFrames.ALL_FRAMES,
            gi_webkit.UserScriptInjectionTime.START,
            None,
            None,
        )
    )
    return server


def _webkit() -> Any:
    import gi

    try:
        gi.require_version("WebKit2", "4.1")
    except ValueError:
        gi.require_version("WebKit2", "4.0")
    from gi.repository import WebKit2

    return WebKit2


class _SchemeServer:
    """The ``register_uri_scheme`` callback and the replies it sends (GUI thread only)."""

    def __init__(self, handle: SchemeHandler, origin: str, save_as: SaveAs | None = None) -> None:
        from gi.repository import Gio, GLib, Soup

        self._handle = handle
        self._origin = origin
        self._save_as = save_as
        self._gio, self._glib, self._soup = Gio, GLib, Soup
        self._webkit = _webkit()
        self._unix_stream = _unix_input_stream()

    def on_request(self, request: Any, *_: object) -> None:
        try:
            method = request.get_http_method() or "GET"
            url = request.get_uri()
            headers = _request_headers(request)
            body = _request_body(request, method)
        except Exception:
            log.exception("could not read an app:// request")
            self._fail(request, "could not read the request")
            return
        navigation = _is_navigation(headers)
        self._dispatch(request, method, url, headers, body, navigation, hops=0)

    def _dispatch(
        self,
        request: Any,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes,
        navigation: bool,
        hops: int,
    ) -> None:
        response = self._handle(method, url, headers, body, initiator=None)

        def on_head(_: object) -> None:  # worker thread
            self._glib.idle_add(self._reply, request, response, method, headers, body, navigation, hops)

        response.on_head(on_head)

    def _reply(
        self,
        request: Any,
        response: SchemeResponse,
        method: str,
        headers: list[tuple[str, str]],
        body: bytes,
        navigation: bool,
        hops: int,
    ) -> bool:  # GUI thread, idle callback
        try:
            target = response.redirect
            if target is not None and urlsplit(target).scheme == urlsplit(self._origin).scheme:
                if navigation:
                    self._send(request, 200, "OK", _refresh_headers(), _refresh_page(target), None)
                    return False
                if hops < _MAX_REDIRECTS:
                    keep = response.status in (307, 308)
                    self._dispatch(
                        request,
                        method if keep else ("HEAD" if method == "HEAD" else "GET"),
                        target,
                        headers if keep else _without_body_headers(headers),
                        body if keep else b"",
                        navigation,
                        hops + 1,
                    )
                    return False
            passed = engine_headers(response, drop=_DROPPED_RESPONSE_HEADERS)
            if navigation and self._save_as is not None and _attachment_name(passed) is not None:
                self._download(request, response, _attachment_name(passed) or "download")
                return False
            self._send(
                request,
                response.status,
                response.reason,
                passed,
                response.body,
                response,
                content_type=response.content_type,
            )
        except Exception:
            log.exception("answering an app:// request failed")
            response.abandon()
            self._fail(request, "the reply failed")
        return False

    def _send(
        self,
        request: Any,
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        response: SchemeResponse | None,
        *,
        content_type: str = "text/html; charset=utf-8",
    ) -> None:
        if body is not None:
            stream = self._gio.MemoryInputStream.new_from_bytes(self._glib.Bytes.new(body))
            length = len(body)
        else:
            assert response is not None
            read_fd, write_fd = os.pipe()
            os.set_blocking(write_fd, False)
            stream = self._unix_stream(read_fd, True)
            declared = next((v for k, v in headers if k.lower() == "content-length"), "")
            length = int(declared) if declared.isdigit() else -1
            _Pump(response, write_fd, self._glib).start()
        reply = self._webkit.URISchemeResponse.new(stream, length)
        if content_type:
            reply.set_content_type(content_type)
        reply.set_status(status, reason or "Unknown")  # WebKit reports 200 unless a reason is given
        soup_headers = self._soup.MessageHeaders.new(self._soup.MessageHeadersType.RESPONSE)
        for name, value in headers:
            soup_headers.append(name, value)
        reply.set_http_headers(soup_headers)
        request.finish_with_response(reply)

    def _download(self, request: Any, response: SchemeResponse, suggested: str) -> None:
        """Save an attachment the window navigated to where the user says; the page stays (GUI thread).

        WebKitGTK cannot download a custom scheme's URL (its download fails with "The URL can't be
        shown"), so the load is cancelled (no error page, as for a download over HTTP) and the body
        the transport already has is written here.
        """
        cancelled = self._glib.Error.new_literal(
            self._webkit.NetworkError.quark(), "saved as a download", int(self._webkit.NetworkError.CANCELLED)
        )
        request.finish_error(cancelled)
        assert self._save_as is not None
        target = self._save_as(suggested)
        if target is None:
            log.info("download of %s cancelled", suggested)
            response.abandon()
            return
        threading.Thread(
            target=_save_body, args=(response, Path(target)), name="flaskdesk-download", daemon=True
        ).start()

    def _fail(self, request: Any, message: str) -> None:
        error = self._glib.Error.new_literal(
            self._gio.io_error_quark(), message, int(self._gio.IOErrorEnum.FAILED)
        )
        request.finish_error(error)


class _Pump:
    """Moves a streamed body into the pipe WebKit reads, from the GUI thread, never blocking it.

    ``on_data`` (worker thread) schedules a pump on the GUI thread; a pump writes what it can
    (non-blocking), and if the pipe is full waits for a GLib ``OUT`` watch. Closing the write end
    ends the body; a closed read end (WebKit cancelled the load) abandons the response.
    """

    def __init__(self, response: SchemeResponse, fd: int, glib: Any) -> None:
        self._response = response
        self._fd = fd
        self._glib = glib
        self._pending = b""
        self._scheduled = False
        self._watching = False
        self._closed = False

    def start(self) -> None:
        self._response.on_data(self._wake)

    def _wake(self, _: object) -> None:  # any thread
        if not self._scheduled:
            self._scheduled = True
            self._glib.idle_add(self._pump)

    def _pump(self, *_: object) -> bool:  # GUI thread
        self._scheduled = False
        if self._closed:
            return False
        while True:
            if not self._pending:
                chunk = self._response.read(_READ_CHUNK)
                if chunk is None:
                    self._close()
                    return False
                if not chunk:
                    return False  # nothing yet: on_data wakes us
                self._pending = chunk
            try:
                written = os.write(self._fd, self._pending)
            except BlockingIOError:
                self._watch()
                return False
            except OSError as error:
                if error.errno == errno.EPIPE:
                    log.info("the window stopped reading %s", urlsplit(self._response.url).path)
                else:
                    log.warning("streaming %s failed: %s", urlsplit(self._response.url).path, error)
                self._response.abandon()
                self._close()
                return False
            self._pending = self._pending[written:]

    def _watch(self) -> None:
        if self._watching:
            return
        self._watching = True

        def writable(*_: object) -> bool:
            self._watching = False
            self._pump()
            return False

        self._glib.unix_fd_add_full(
            self._glib.PRIORITY_DEFAULT,
            self._fd,
            self._glib.IOCondition.OUT | self._glib.IOCondition.ERR,
            writable,
        )

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self._fd)


def _unix_input_stream() -> Callable[[int, bool], Any]:
    """``GUnixInputStream.new`` (``GioUnix`` since GLib 2.80, ``Gio`` before)."""
    try:
        from gi.repository import GioUnix

        return GioUnix.InputStream.new  # type: ignore[no-any-return]
    except ImportError:
        from gi.repository import Gio

        return Gio.UnixInputStream.new  # type: ignore[no-any-return]


def _request_headers(request: Any) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    soup_headers = request.get_http_headers()
    if soup_headers is not None:
        soup_headers.foreach(lambda name, value, *_: found.append((name, value)))
    return found


def _request_body(request: Any, method: str) -> bytes:
    """The request body (a ``GInputStream`` of flattened bytes; never a ``Blob``, see module doc)."""
    if method in ("GET", "HEAD"):
        return b""
    stream = request.get_http_body()
    if stream is None:
        return b""
    data = bytearray()
    while True:
        chunk = stream.read_bytes(_READ_CHUNK, None)
        if chunk.get_size() == 0:
            break
        data += chunk.get_data()
    stream.close(None)
    return bytes(data)


def _is_navigation(headers: list[tuple[str, str]]) -> bool:
    """A document load (window or iframe)? WebKit asks for HTML first and upgrades only documents."""
    for name, value in headers:
        lowered = name.lower()
        if lowered == "upgrade-insecure-requests" or (lowered == "accept" and value.startswith("text/html")):
            return True
    return False


def _attachment_name(headers: list[tuple[str, str]]) -> str | None:
    """The file name of a ``Content-Disposition: attachment`` (``""`` if it names none), else ``None``."""
    value = next((v for k, v in headers if k.lower() == "content-disposition"), "")
    kind, options = parse_options_header(value)
    if kind.lower() != "attachment":
        return None
    return Path(options.get("filename", "")).name


def _save_body(response: SchemeResponse, target: Path) -> None:
    """Write ``response``'s body to ``target`` (a worker thread: a streamed body may take a while)."""
    arrived = threading.Event()
    try:
        with target.open("wb") as out:
            if response.body is not None:
                out.write(response.body)
            else:
                response.on_data(lambda _: arrived.set())
                while True:
                    chunk = response.read(_READ_CHUNK)
                    if chunk is None:
                        break
                    if chunk:
                        out.write(chunk)
                    else:
                        arrived.wait(1.0)
                        arrived.clear()
    except OSError as error:
        response.abandon()
        log.warning("could not save the download to %s: %s", target, error)
        return
    log.info("download saved to %s", target)


def _without_body_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in ("content-type", "content-length", "origin")]


def _refresh_headers() -> list[tuple[str, str]]:
    return [
        ("Cache-Control", "no-store"),
        ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
        ("Referrer-Policy", "same-origin"),
        ("X-Content-Type-Options", "nosniff"),
    ]


def _refresh_page(target: str) -> bytes:
    """The stand-in for a redirect WebKitGTK will not follow: navigate on at once, replacing this entry."""
    escaped = html.escape(target, quote=True)
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f'<meta http-equiv="refresh" content="0;url={escaped}"><title>Redirecting</title>'
        "<style>html{background:transparent}</style></head><body></body></html>"
    ).encode()
