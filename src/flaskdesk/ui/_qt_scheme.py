"""Qt WebEngine's half of ``transport="scheme"``: a ``QWebEngineUrlSchemeHandler`` on the window's profile.

* :func:`register_scheme` declares ``app`` before the ``QApplication`` exists (Qt reads scheme
  declarations once, at start-up): ``Syntax.Host`` (``app://flaskdesk/...``), ``SecureScheme``
  (a secure context: ``crypto.subtle``, clipboard, no mixed-content warnings) and
  ``FetchApiAllowed`` (``fetch()`` and ``EventSource`` work). Not ``CorsEnabled``: that would make
  Chromium add ``Access-Control-Allow-Origin: <any origin>`` to every reply; not
  ``LocalAccessAllowed``: pages must not read ``file:`` URLs; not ``ServiceWorkersAllowed``.
* :func:`install` puts the handler on the window's ``QWebEngineProfile`` and the page script
  (``ui/js/scheme.js``, status restoring) into the page, from pywebview's ``before_show``.

``requestStarted`` runs on the GUI thread: it reads the request (the body through
``requestBody()``, Qt >= 6.7) and hands it to the transport, which answers on a worker thread; the
answer comes back to the GUI thread through a queued signal and becomes ``job.redirect(...)`` or
``job.reply(content_type, device)`` plus ``setAdditionalResponseHeaders`` (Qt >= 6.6). Whole bodies
go out as a ``QBuffer`` (seekable: Chromium serves ``Range`` requests from it itself, so the app
never sees ``Range``); streamed ones through :class:`_StreamDevice`, which Chromium reads on its IO
thread. What Qt cannot express (measured, Qt 6.11): a status code (every reply is 200, every
redirect a 303), cookies (the transport keeps them), and the case of header values (every value
a handler adds is lower-cased: the guard's nonces are lower-case hex, and ``ui/js/scheme.js``
gives ``fetch``/``XMLHttpRequest`` the original values back from ``X-Flaskdesk-Headers``; what
only the engine reads stays lower-cased, e.g. a ``Content-Disposition`` file name or the hashes
in an app's own CSP).
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from ..errors import BackendError
from .scheme import HEADERS_HEADER, STATUS_HEADER, SchemeHandler, SchemeResponse, engine_headers

log = logging.getLogger("flaskdesk.ui")

#: Request headers Qt handles itself: it serves ``Range`` from the reply device, and cannot say
#: "304", so conditional requests must not reach the app.
_DROPPED_REQUEST_HEADERS = frozenset({"range", "if-range", "if-none-match", "if-modified-since"})
#: Response headers not passed as additional headers (Qt sets them from ``reply()`` itself).
_DROPPED_RESPONSE_HEADERS = frozenset(
    {"content-type", "location", "set-cookie", "transfer-encoding", "connection"}
)
_HANDLER_NAME = "flaskdesk-scheme-handler"
#: Largest hex copy of mixed-case header values sent along (bigger: left lower-cased).
_MAX_CASED_HEADERS = 32 * 1024
#: Largest request body read; one byte more makes the transport answer 413.
MAX_REQUEST_BODY = 256 * 1024 * 1024


def _qt(module: str) -> Any:
    return importlib.import_module(f"qtpy.{module}")


def register_scheme(name: str) -> None:
    """Declare the scheme to Qt WebEngine; must run before the ``QApplication`` is created."""
    core = _qt("QtWebEngineCore")
    url_scheme = core.QWebEngineUrlScheme
    if bytes(url_scheme.schemeByName(name.encode("ascii")).name()) == name.encode("ascii"):
        return  # declared already (one per process)
    if _qt("QtWidgets").QApplication.instance() is not None:
        raise BackendError(
            "the app:// scheme must be declared before Qt starts; flaskdesk declares it in "
            "SchemeTransport.prepare(), which must run before webview.start()"
        )
    scheme = url_scheme(name.encode("ascii"))
    scheme.setSyntax(url_scheme.Syntax.Host)
    scheme.setFlags(url_scheme.Flag.SecureScheme | url_scheme.Flag.FetchApiAllowed)
    url_scheme.registerScheme(scheme)


def install(window: Any, handle: SchemeHandler, *, origin: str, script: str) -> Any:
    """Serve ``handle`` on ``window``'s profile (GUI thread, ``before_show``); return the handler.

    A window whose profile has the handler already (a second window sharing the main window's
    profile) only gets the page script.
    """
    core = _qt("QtWebEngineCore")
    browser = window.native
    view = getattr(browser, "webview", None)
    page = view.page() if view is not None else None
    if page is None:
        raise BackendError(
            "pywebview's Qt window has no QWebEngineView to serve app:// in; install the pywebview "
            "version flaskdesk supports (pip install 'pywebview>=5.3,<7')"
        )
    scheme = origin.split(":", 1)[0].encode("ascii")
    profile = page.profile()
    handler = profile.urlSchemeHandler(scheme)
    if handler is None:
        # Parented to the profile: a second window sharing the profile shares the handler too.
        handler = _handler_class()(handle, profile)
        handler.setObjectName(_HANDLER_NAME)
        profile.installUrlSchemeHandler(scheme, handler)
    elif handler.objectName() != _HANDLER_NAME:
        raise BackendError(f"the window's profile already has someone else's {scheme.decode()}:// handler")

    injected = core.QWebEngineScript()
    injected.setName("flaskdesk-scheme")
    injected.setSourceCode(script)
    injected.setInjectionPoint(core.QWebEngineScript.InjectionPoint.DocumentCreation)
    injected.setWorldId(core.QWebEngineScript.ScriptWorldId.MainWorld)
    injected.setRunsOnSubFrames(True)
    page.scripts().insert(injected)
    return handler


class _JobState:
    """One request job as the GUI thread knows it; ``gone`` once Qt deleted the job."""

    def __init__(self, job: Any, ranged: bool) -> None:
        self.job = job
        self.ranged = ranged  # Qt answers a Range request itself, from the whole body
        self.gone = False
        self.response: SchemeResponse | None = None
        self.device: Any = None

    def on_destroyed(self, *_: object) -> None:
        self.gone = True
        if self.response is not None and not self.response.at_end():
            self.response.abandon()


def _handler_class() -> type:
    """The handler, relay and device classes (built on use: Qt is imported only when a window opens)."""
    core, web = _qt("QtCore"), _qt("QtWebEngineCore")

    class Relay(_qt("QtCore").QObject):  # type: ignore[misc]  # Qt classes are untyped here
        """Runs callables on the GUI thread (queued signal from any thread)."""

        posted = core.Signal(object)

        def __init__(self, parent: Any) -> None:
            super().__init__(parent)
            self.posted.connect(self._run)

        def post(self, fn: Callable[[], None]) -> None:
            self.posted.emit(fn)

        def _run(self, fn: Callable[[], None]) -> None:
            try:
                fn()
            except Exception:
                log.exception("answering an app:// request failed")

    class StreamDevice(_qt("QtCore").QIODevice):  # type: ignore[misc]
        """A sequential device over a streamed response; Chromium reads it on its IO thread.

        ``readData`` returns what the transport has buffered (``b""``: nothing yet, Chromium waits
        for ``readyRead``; ``None``, i.e. -1, once complete); ``atEnd`` only once the body is complete
        and drained (the default ``atEnd`` of a sequential device would end the reply at the first
        pause).
        """

        def __init__(self, response: SchemeResponse, parent: Any) -> None:
            super().__init__(parent)
            self._response = response
            self.open(core.QIODevice.OpenModeFlag.ReadOnly | core.QIODevice.OpenModeFlag.Unbuffered)

        def isSequential(self) -> bool:
            return True

        def atEnd(self) -> bool:
            return self._response.at_end()

        def readData(self, maxlen: int) -> bytes | None:
            # b"": nothing yet (Chromium waits for readyRead); None (-1) at the end: Qt 6.11 checks
            # atEnd() only after a read that did not return 0.
            return self._response.read(maxlen)

        def writeData(self, data: bytes) -> int:
            return -1

    class Handler(_qt("QtWebEngineCore").QWebEngineUrlSchemeHandler):  # type: ignore[misc]
        def __init__(self, handle: SchemeHandler, parent: Any) -> None:
            super().__init__(parent)
            self._handle = handle
            self._relay = Relay(self)

        def requestStarted(self, job: Any) -> None:  # GUI thread
            try:
                method, url, headers, body, initiator, ranged = _read_request(job)
            except Exception:
                log.exception("could not read an app:// request")
                job.fail(web.QWebEngineUrlRequestJob.Error.RequestFailed)
                return
            state = _JobState(job, ranged)
            job.destroyed.connect(state.on_destroyed)
            response = self._handle(method, url, headers, body, initiator=initiator)
            state.response = response
            response.on_head(lambda _: self._relay.post(partial(self._reply, state)))

        def _reply(self, state: _JobState) -> None:  # GUI thread
            response = state.response
            assert response is not None
            if state.gone:
                response.abandon()
                return
            job = state.job
            if response.redirect is not None:
                job.redirect(core.QUrl(response.redirect))
                return
            job.setAdditionalResponseHeaders(_additional_headers(response, ranged=state.ranged))
            content_type = response.content_type.encode("latin-1", "replace")
            if response.body is not None:
                device = core.QBuffer(job)
                device.setData(response.body)
                device.open(core.QIODevice.OpenModeFlag.ReadOnly)
                job.reply(content_type, device)
                return
            device = StreamDevice(response, job)
            state.device = device
            job.reply(content_type, device)
            response.on_data(lambda _: self._relay.post(partial(self._more, state)))

        def _more(self, state: _JobState) -> None:  # GUI thread: tell Chromium to read again
            if state.gone or state.device is None:
                return
            state.device.readyRead.emit()
            if state.response is not None and state.response.at_end():
                state.device.readChannelFinished.emit()

    return Handler


def _read_request(job: Any) -> tuple[str, str, list[tuple[str, str]], bytes, str, bool]:
    """Method, URL (fully encoded), headers, body, initiator, and whether it asked for a range."""
    method = bytes(job.requestMethod()).decode("latin-1")
    url = bytes(job.requestUrl().toEncoded()).decode("ascii")
    every = [
        (bytes(name).decode("latin-1"), bytes(value).decode("latin-1"))
        for name, value in job.requestHeaders().items()
    ]
    headers = [(name, value) for name, value in every if name.lower() not in _DROPPED_REQUEST_HEADERS]
    ranged = any(name.lower() == "range" for name, _ in every)
    initiator = job.initiator().toString() if not job.initiator().isEmpty() else ""
    body = b"" if method in ("GET", "HEAD") else _read_body(job)
    return method, url, headers, body, initiator, ranged


def _read_body(job: Any) -> bytes:
    """The request body, read in one call.

    Qt's ``requestBody()`` device (6.7-6.11, ``ResourceRequestBody::readData``) moves past a
    ``Blob`` part after the first ``readData`` call, however much of it was read, so reading in
    chunks (``readAll()``) truncates blobs to 16 KiB; a single read as large as the limit gets every
    part whole (measured: 20 MB in 0.12 s; the unused buffer is never touched). A ``File`` picked
    from disk comes out as its bytes and then zeros up to the size asked for, so ``ui/js/scheme.js``
    hands every body that holds a ``Blob``/``File`` over as plain bytes (``config.uploads``).
    """
    device = job.requestBody()
    if device is None:
        return b""
    if not device.isOpen():
        device.open(_qt("QtCore").QIODevice.OpenModeFlag.ReadOnly)
    data = device.read(MAX_REQUEST_BODY + 1)
    return bytes(data) if data else b""


def _additional_headers(response: SchemeResponse, *, ranged: bool) -> dict[bytes, list[bytes]]:
    """The app's headers for ``setAdditionalResponseHeaders`` (a ``QMultiMap``: name → values).

    ``Content-Length`` stays (Chromium puts none in the headers itself) unless Qt answers a range.
    """
    headers: dict[bytes, list[bytes]] = {}
    drop = _DROPPED_RESPONSE_HEADERS | {"content-length"} if ranged else _DROPPED_RESPONSE_HEADERS
    passed = engine_headers(response, drop=drop)
    if response.status != 200:
        passed.append((STATUS_HEADER, f"{response.status} {response.reason}"))
    for name, value in passed:
        headers.setdefault(name.encode("latin-1"), []).append(value.encode("latin-1", "replace"))
    # Qt lower-cases these values (6.11): page script gets them back from a copy it can decode.
    cased = [(name, value) for name, value in passed if value != value.lower()]
    if cased:
        encoded = json.dumps(cased).encode("utf-8").hex()
        if len(encoded) <= _MAX_CASED_HEADERS:
            headers[HEADERS_HEADER.encode("ascii")] = [encoded.encode("ascii")]
    return headers
