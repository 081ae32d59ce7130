"""``transport="scheme"``: the window's own engine serves the app over ``app://flaskdesk/``, no socket.

This is the toolkit-neutral half; the engine halves are :mod:`._qt_scheme` (Qt WebEngine's
``QWebEngineUrlSchemeHandler``) and :mod:`._gtk_scheme` (WebKitGTK's ``register_uri_scheme``). The
WSGI half lives in :mod:`flaskdesk.app.inprocess`; ``ui/`` and ``app/`` never import each other, so
the two meet through one plain callable that ``launch.py`` passes in: :class:`SchemeHandler`,
``handle(method, url, headers, body, *, initiator) -> SchemeResponse`` (in practice
``InProcessApp.handle``). It must not block: it queues the request and returns a response object
whose head and body arrive later, from a worker thread; the engine halves marshal them to the GUI
thread, so a slow view never freezes the window.

Why ``app://flaskdesk``: a custom scheme is what WebKit (``WKURLSchemeHandler`` cannot take
``http``) and Qt need, ``app`` is the name Electron apps use for the same job, and it is registered
per process and per profile, never system-wide, so it cannot collide with another program or with
an app's own deep-link scheme (``[tool.flaskdesk] url-schemes``, which names OS handlers). The host
is fixed: an app's web storage is already isolated by its own profile directory.

What the engine adapters smooth over (measured with Qt WebEngine 6.11 and WebKitGTK 2.50):

* neither engine keeps cookies for a custom scheme: the transport keeps the jar
  (:class:`flaskdesk.app.inprocess.SchemeCookies`); ``document.cookie`` stays empty;
* Qt replies without a status code (always 200; redirects become 303): error pages still render
  as the app sent them, ``job.redirect`` follows redirects, and ``ui/js/scheme.js`` restores
  ``status``/``ok`` for ``fetch``/``XMLHttpRequest`` from an ``X-Flaskdesk-Status`` header;
* WebKitGTK does not follow redirects from scheme responses: navigations get a
  ``<meta http-equiv=refresh>`` page, subresource redirects are followed in Python; it cannot
  download a scheme URL either, so attachments are saved by the transport (``save_as``);
* neither body API reads ``Blob``/``File`` parts right (WebKitGTK crashes, Qt pads a file picked
  from disk with zeros), so ``ui/js/scheme.js`` flattens such bodies in the page on both.

What a scheme cannot do at all: WebSockets (no socket to upgrade; :func:`scheme_problems` in
``app/inprocess.py`` reports apps that use them), ``document.cookie``, Service Workers (not enabled
for the scheme), HTTP caching (every request reaches the app), and on Qt the 307/308 "repeat the
POST" redirects (Qt turns every redirect into a 303 GET).

Windows (WebView2) and macOS (WKWebView) are designed for but not built; see
:func:`_edgechromium_design` and :func:`_cocoa_design`.

Wiring (``launch.py`` and ``ui/backend.py``): for ``transport="scheme"``, ``launch`` builds
``InProcessApp`` + ``SchemeGuard`` instead of ``Server`` + ``Guard`` and passes
``WindowSession(..., scheme=SchemeTransport(transport.handle))``; ``WebviewBackend.run`` then uses
``scheme.policy``, calls ``scheme.prepare(name)`` after ``hooks.prepare()``, creates each window
with ``url=None``, calls ``scheme.attach(window, name)`` in ``before_show`` after ``hooks.attach``
(then :func:`navigate` to the window's first URL), and loads later URLs with :func:`navigate`
instead of ``Window.load_url``. ``tests/transport/test_window_transports.py`` runs the same real
windows over both transports.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Protocol
from urllib.parse import urlsplit

from ..errors import BackendError
from .navigation import NavigationPolicy, Verdict

log = logging.getLogger("flaskdesk.ui")

__all__ = [
    "HOST",
    "ORIGIN",
    "SCHEME",
    "SchemeHandler",
    "SchemeNavigationPolicy",
    "SchemeResponse",
    "SchemeTransport",
    "install_scheme_transport",
    "navigate",
    "page_script",
]

SCHEME = "app"
HOST = "flaskdesk"
ORIGIN = f"{SCHEME}://{HOST}"
#: Response header that carries the real status where the engine cannot (Qt).
STATUS_HEADER = "X-Flaskdesk-Status"
#: Response header that carries the app's header values where the engine changes them (Qt
#: lower-cases them): hex of the UTF-8 JSON ``[[name, value], ...]``.
HEADERS_HEADER = "X-Flaskdesk-Headers"
#: Where ``scheme.js`` parks multipart bodies on WebKitGTK (``app/inprocess.py`` ``UPLOAD_PATH``).
UPLOAD_PATH = "/__flaskdesk__/upload"
UPLOAD_FIELD = "__flaskdesk_upload"
UPLOAD_TYPE_HEADER = "X-Flaskdesk-Content-Type"


class SchemeResponse(Protocol):
    """What an engine adapter reads (``flaskdesk.app.inprocess.InProcessResponse`` satisfies it).

    Head fields are valid once ``on_head`` callbacks run; then ``body`` is the whole body, or
    ``streaming`` is true and :meth:`read` yields it.
    """

    method: str
    url: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    redirect: str | None
    body: bytes | None
    streaming: bool

    @property
    def content_type(self) -> str: ...

    def on_head(self, callback: Callable[[Any], None]) -> None:
        """Call ``callback(response)`` once the head is known (any thread)."""

    def on_data(self, callback: Callable[[Any], None]) -> None:
        """Call ``callback(response)`` when streamed bytes or the end arrive (any thread)."""

    def read(self, size: int) -> bytes | None:
        """Up to ``size`` bytes now: ``b""`` if none yet, ``None`` at the end."""

    def at_end(self) -> bool: ...

    def abandon(self) -> None:
        """The engine let go of the request: stop producing the body."""


#: ``save_as(suggested_name)``: where the user wants an attachment saved (GUI thread), or ``None``.
SaveAs = Callable[[str], "str | None"]


class SchemeHandler(Protocol):
    """``handle(method, url, headers, body, *, initiator)``: queue one request, return at once.

    ``initiator`` is the requesting document's origin as the engine reports it (``""`` for a
    navigation with none), ``None`` when the engine cannot say.
    """

    def __call__(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        *,
        initiator: str | None = None,
    ) -> SchemeResponse: ...


# --------------------------------------------------------------------------------------------------
# navigation


def scheme_origin(url: str, scheme: str = SCHEME) -> str | None:
    """``scheme://host`` of a URL on ``scheme`` (lower-cased), else ``None``."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() != scheme or not parts.hostname or port is not None:
        return None
    return f"{scheme}://{parts.hostname}"


@dataclass(frozen=True)
class SchemeNavigationPolicy(NavigationPolicy):
    """:class:`NavigationPolicy` for a window whose app lives at ``app://flaskdesk``.

    The app's scheme origin is the one the window may show (``blob:`` URLs made by it too); another
    host on the same scheme is another origin and refused; everything else is decided exactly as for
    the loopback transport (``http(s)``/``mailto`` to the browser, ``file:``/``data:``/other schemes
    refused, ``about:blank``/``about:srcdoc`` only in subframes).
    """

    scheme: str = SCHEME

    def __post_init__(self) -> None:
        if self.app_origin is None:
            return
        normalised = scheme_origin(self.app_origin, self.scheme)
        parts = urlsplit(self.app_origin)
        if normalised is None or parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(
                f"app_origin must be a {self.scheme}:// origin like {ORIGIN}, got {self.app_origin!r}"
            )
        object.__setattr__(self, "app_origin", normalised)

    def decide(self, url: str, *, main_frame: bool, new_window: bool = False) -> Verdict:
        text = url.strip()
        lowered = text.lower()
        if lowered.startswith(f"{self.scheme}:"):
            return Verdict.ALLOW if self.owns(text) else Verdict.BLOCK
        if lowered.startswith("blob:") and self.owns(text[len("blob:") :]):
            return Verdict.ALLOW
        return super().decide(url, main_frame=main_frame, new_window=new_window)

    def owns(self, url: str) -> bool:
        """Whether ``url`` is on the app's own origin."""
        return self.app_origin is not None and scheme_origin(url, self.scheme) == self.app_origin


# --------------------------------------------------------------------------------------------------
# the transport, as the backend sees it


@dataclass
class SchemeTransport:
    """Everything a window backend needs to serve the app over the scheme.

    ``handle`` is the app side's :class:`SchemeHandler`. Call :meth:`prepare` on the main thread
    before the toolkit starts (Qt registers schemes only then), and :meth:`attach` on the GUI thread
    from pywebview's ``before_show`` (or let :func:`install_scheme_transport` do both hooks).
    """

    handle: SchemeHandler
    origin: str = ORIGIN
    installed: list[Any] = field(default_factory=list, repr=False)  # keeps native handlers alive

    def __post_init__(self) -> None:
        scheme = urlsplit(self.origin).scheme
        if scheme_origin(self.origin, scheme) != self.origin:
            raise ValueError(f"origin must look like {ORIGIN}, got {self.origin!r}")

    @property
    def scheme(self) -> str:
        return urlsplit(self.origin).scheme

    @property
    def policy(self) -> SchemeNavigationPolicy:
        return SchemeNavigationPolicy(self.origin, scheme=self.scheme)

    def url(self, path: str = "/") -> str:
        if not path.startswith("/") or path.startswith("//"):
            raise ValueError(f"path must start with a single '/', got {path!r}")
        return f"{self.origin}{path}"

    def prepare(self, toolkit: str) -> None:
        """Before the engine starts (main thread, before ``webview.start``)."""
        if toolkit == "qt":
            from ._qt_scheme import register_scheme

            register_scheme(self.scheme)
        elif toolkit == "gtk":
            pass  # WebKitGTK takes schemes per context, at attach time
        else:
            _native_design(toolkit)

    def attach(self, window: Any, toolkit: str, *, save_as: SaveAs | None = None) -> None:
        """Install the handler and the page script on pywebview ``window`` (GUI thread, ``before_show``).

        ``save_as(suggested_name)`` asks where to save an attachment (GUI thread; the chosen path or
        ``None``). WebKitGTK cannot download a custom scheme's URL, so there the transport saves
        attachments itself through it; Qt downloads them as over HTTP and does not need it.
        """
        script = page_script(toolkit, self.origin)
        if toolkit == "qt":
            from ._qt_scheme import install as install_qt

            self.installed.append(install_qt(window, self.handle, origin=self.origin, script=script))
        elif toolkit == "gtk":
            from ._gtk_scheme import install as install_gtk

            self.installed.append(
                install_gtk(window, self.handle, origin=self.origin, script=script, save_as=save_as)
            )
        else:
            _native_design(toolkit)


def install_scheme_transport(
    window: Any, toolkit: str, transport: SchemeTransport, url: str | None = None
) -> None:
    """Serve ``transport`` in pywebview ``window``, and open ``url`` (an ``app://`` URL) in it if given.

    Hooks ``window.events.before_show`` (GUI thread, before the first page): install the handler
    on the window's profile / web context (once per profile: later windows sharing it only get
    the page script), then navigate natively. Create the window with ``url=None``: given a
    non-``http`` URL, pywebview starts its own HTTP server for it. Register this *after*
    flaskdesk's toolkit hooks, so the navigation policy is in place first.
    """
    if url is not None and not transport.policy.owns(url):
        raise ValueError(f"{url!r} is not on {transport.origin}")

    def before_show() -> None:
        transport.attach(window, toolkit)
        if url is not None:
            navigate(window, url)

    window.events.before_show += before_show


def navigate(window: Any, url: str) -> None:
    """Load ``url`` in pywebview ``window`` as is (thread-safe).

    ``Window.load_url`` would turn a non-``http`` URL into a path on pywebview's own HTTP server;
    the platform's ``load_url(url, uid)`` loads it natively (Qt: ``QWebEngineView.setUrl`` through a
    queued signal; GTK: ``WebKitWebView.load_uri`` from an idle callback).
    """
    window.events.loaded.clear()
    window.gui.load_url(url, window.uid)


def page_script(toolkit: str, origin: str = ORIGIN) -> str:
    """``ui/js/scheme.js`` called with the switches ``toolkit`` needs (see the script's header)."""
    config: Mapping[str, object] = {
        "restore": toolkit == "qt",
        "uploads": True,  # both engines mis-read Blob/File bodies (ui/js/scheme.js's header)
        "stash": UPLOAD_PATH,
        "field": UPLOAD_FIELD,
        "typeHeader": UPLOAD_TYPE_HEADER,
        "origin": origin,
    }
    source = resources.files("flaskdesk.ui").joinpath("js/scheme.js").read_text("utf-8")
    return f"{source.rstrip().rstrip(';')}({json.dumps(config)});\n"


def engine_headers(response: SchemeResponse, *, drop: frozenset[str]) -> list[tuple[str, str]]:
    """The response headers an engine adapter passes on (minus ``drop``, lower-case names)."""
    return [(name, value) for name, value in response.headers if name.lower() not in drop]


# --------------------------------------------------------------------------------------------------
# platforms that cannot run here


def _native_design(toolkit: str) -> None:
    designs = {"edgechromium": _edgechromium_design, "cocoa": _cocoa_design}
    design = designs.get(toolkit)
    if design is None:
        raise BackendError(f"transport='scheme' does not know the {toolkit!r} window backend")
    design()


def _edgechromium_design() -> None:
    """Windows, WebView2 — designed, not built (it cannot be tested on Linux).

    * Before the environment exists: ``CoreWebView2EnvironmentOptions.CustomSchemeRegistrations``
      with ``CoreWebView2CustomSchemeRegistration("app")``, ``TreatAsSecure = True``,
      ``HasAuthorityComponent = True``, ``AllowedOrigins = ["app://flaskdesk"]`` (pywebview's
      ``edgechromium.py`` creates the environment; this needs a hook there, or flaskdesk creating it).
    * ``AddWebResourceRequestedFilter("app://flaskdesk/*", CoreWebView2WebResourceContext.All,
      CoreWebView2WebResourceRequestSourceKinds.All)`` and a ``WebResourceRequested`` handler that
      takes a deferral (``args.GetDeferral()``), reads ``Request.Method``/``Uri``/``Headers``/
      ``Content`` (an ``IStream``), calls ``handle(...)`` and, from ``on_head`` marshalled to the UI
      thread, sets ``args.Response = env.CreateWebResourceResponse(stream, status, reason,
      headers)`` and completes the deferral. WebView2 has real status codes and follows redirects;
      cookies from scheme responses are not stored (same jar as here). Streaming: a COM ``IStream``
      whose ``Read`` blocks on :meth:`SchemeResponse.read`.
    """
    raise BackendError(
        "transport='scheme' is not available on Windows (WebView2) yet: use transport='loopback'. "
        "The design (CustomSchemeRegistration + WebResourceRequested) is in flaskdesk/ui/scheme.py."
    )


def _cocoa_design() -> None:
    """macOS, WKWebView — designed, not built (it cannot be tested on Linux).

    * ``WKWebViewConfiguration.setURLSchemeHandler_forURLScheme_(handler, "app")`` before the
      ``WKWebView`` is created (pywebview's ``cocoa.py`` builds the configuration; a hook is needed).
    * The handler implements ``webView:startURLSchemeTask:`` (read ``task.request()``: method, URL,
      ``allHTTPHeaderFields``, ``HTTPBody``/``HTTPBodyStream``; call ``handle(...)``) and
      ``webView:stopURLSchemeTask:`` (→ :meth:`SchemeResponse.abandon`). From ``on_head``, on the
      main thread: ``task.didReceiveResponse_(NSHTTPURLResponse(status, headers))``, then
      ``didReceiveData_`` per chunk and ``didFinish()``. Status codes work; redirects do not
      (``_willPerformRedirection`` is private): same meta-refresh/Python-follow strategy as WebKitGTK;
      no cookies for the scheme (same jar). Blob bodies arrive in ``HTTPBodyStream``.
    """
    raise BackendError(
        "transport='scheme' is not available on macOS (WKWebView) yet: use transport='loopback'. "
        "The design (WKURLSchemeHandler) is in flaskdesk/ui/scheme.py."
    )
