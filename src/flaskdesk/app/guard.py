"""The guard: WSGI middleware that lets only the app's own window use the loopback server.

A server on ``127.0.0.1`` is reachable by every local process and, through the user's web
browser, by every web page the user visits. The guard closes those doors the way Jupyter Server
and Electron's security checklist do (the full threat model is in ``SECURITY.md``):

1. **Host allow-list** (against DNS rebinding): the ``Host`` header must be exactly one of
   ``127.0.0.1:PORT`` / ``localhost:PORT`` (``[::1]:PORT`` if allowed), checked before anything
   else runs, so a page on ``evil.example`` that re-resolves to ``127.0.0.1`` gets nothing.
2. **Launch token → cookie** (against other local users and browser tabs): the window opens
   :meth:`Guard.launch_url`, whose ``token`` (256 random bits, new each launch) buys an
   ``HttpOnly; SameSite=Strict`` session cookie and a redirect. Every other request needs that
   cookie; without it the answer is a short 403.
3. **Fetch metadata / Origin** (against CSRF): ``Sec-Fetch-Site: cross-site`` or ``same-site``
   is refused for every method, a mismatched ``Origin`` is refused, and CORS preflights are
   refused, so no ``Access-Control-Allow-*`` header ever leaves. Cookies do not isolate ports
   and ``127.0.0.1:OTHER`` is *same-site*, so ``SameSite=Strict`` alone would not stop another
   local web server's page; these checks do.
4. **Headers** on every response: a CSP with a fresh nonce (``environ["flaskdesk.csp_nonce"]``),
   ``nosniff``, ``X-Frame-Options: DENY``, ``Referrer-Policy: no-referrer``, COOP/CORP
   ``same-origin``.
5. **Script injection**: HTML pages get ``<script src=".../__flaskdesk__/flaskdesk.js">`` so the
   bridge is there without the app editing its templates.
6. **Generic errors**: a 500 carries a request id (``environ["flaskdesk.request_id"]``, also
   logged with the path) instead of whatever the app rendered, and never a traceback.

``/__flaskdesk__/`` is reserved: ``launch`` is the guard's own, every other name there is an
internal WSGI app passed in ``internal`` (the bridge, the JS file), guarded like any route.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from .csp import default_policy, render_policy

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "CSP_NONCE_KEY",
    "INTERNAL_PREFIX",
    "REQUEST_ID_KEY",
    "SCRIPT_MOUNT",
    "SCRIPT_PATH",
    "Guard",
    "GuardPolicy",
    "log_request_exception",
]

logger = logging.getLogger("flaskdesk.guard")

#: WSGI environ key holding this response's CSP nonce (templates put it on inline scripts).
CSP_NONCE_KEY = "flaskdesk.csp_nonce"
#: WSGI environ key holding this request's id (shown on 500 pages and written to the log).
REQUEST_ID_KEY = "flaskdesk.request_id"
#: URL prefix reserved for the guard's own endpoint and the internal mounts.
INTERNAL_PREFIX = "/__flaskdesk__/"
#: Mount name that the injected ``<script>`` tag points at.
SCRIPT_MOUNT = "flaskdesk.js"
#: Path of the JS shim (below the app's ``SCRIPT_NAME``), for templates that include it themselves.
SCRIPT_PATH = f"{INTERNAL_PREFIX}{SCRIPT_MOUNT}"

_LAUNCH = "launch"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TRUSTED_FETCH_SITES = frozenset({"same-origin", "none"})
#: HTML bodies bigger than this are passed through without the script tag rather than buffered.
_MAX_INJECT_BYTES = 16 * 1024 * 1024
#: Headers the guard owns: whatever the app set for these is replaced (or, for CORS, dropped).
_OWNED_HEADERS = frozenset(
    {
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
        "cross-origin-opener-policy",
        "cross-origin-resource-policy",
    }
)
_MIN_TOKEN_CHARS = 32
_QUOTE_SAFE = "/?&=#%:@!$'()*+,;~-._"
_INJECTED_RE = re.compile(rb"<script\b[^>]*\bdata-flaskdesk\b", re.IGNORECASE)
_HEAD_END_RE = re.compile(rb"</head\s*>", re.IGNORECASE)
_OPENING_TAG_RES = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (rb"<body\b[^>]*>", rb"<html\b[^>]*>", rb"<!doctype\b[^>]*>")
)

_FORBIDDEN_PAGE = (
    "<!doctype html><meta charset=utf-8><title>403 Forbidden</title>"
    "<h1>Forbidden</h1><p>This server only serves its own application window.</p>\n"
)
_NOT_FOUND_PAGE = "<!doctype html><meta charset=utf-8><title>404 Not Found</title><h1>Not Found</h1>\n"
_BAD_LAUNCH_PAGE = (
    "<!doctype html><meta charset=utf-8><title>400 Bad Request</title>"
    "<h1>Bad Request</h1><p>The launch link is malformed.</p>\n"
)
_METHOD_PAGE = (
    "<!doctype html><meta charset=utf-8><title>405 Method Not Allowed</title><h1>Method Not Allowed</h1>\n"
)
_ERROR_PAGE = (
    "<!doctype html><meta charset=utf-8><title>500 Internal Server Error</title>"
    "<h1>Something went wrong</h1><p>The application hit an unexpected error. "
    "The details are in the application's log under request id <code>{request_id}</code>.</p>\n"
)


@dataclass(frozen=True)
class GuardPolicy:
    """What an app may adjust about the guard without turning it off.

    ``csp`` replaces the default Content-Security-Policy; write ``{nonce}`` where the
    per-response nonce goes (``script-src 'self' 'nonce-{nonce}'``). ``dev`` relaxes the CSP for
    the Werkzeug debugger and keeps 500 pages as the app rendered them (so the debugger's page
    shows); every access check stays on.
    """

    csp: str | None = None
    dev: bool = False

    def __post_init__(self) -> None:
        if self.csp is not None and (not self.csp.strip() or any(c in self.csp for c in "\r\n\0")):
            raise ValueError("GuardPolicy.csp must be a non-empty single-line header value")


@dataclass(frozen=True)
class _Exchange:
    """Per-request values the response side needs (kept off ``self``: requests run concurrently)."""

    method: str
    path: str
    nonce: str
    request_id: str
    script_src: str | None


class Guard:
    """WSGI middleware around the served app; see the module docstring for what it enforces.

    ``app`` is a plain attribute so dev reload can swap the wrapped app (``guard.app = new``).
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        port: int,
        token: str,
        policy: GuardPolicy | None = None,
        internal: Mapping[str, WSGIApplication] | None = None,
        hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
    ) -> None:
        if not 0 < port < 65536:
            raise ValueError(f"port must be the server's bound port (1-65535), not {port}")
        if len(token) < _MIN_TOKEN_CHARS:
            raise ValueError("token is too short: use Guard.new_token()")
        if not hosts:
            raise ValueError("hosts must name at least one loopback host")
        mounts = dict(internal or {})
        for name in mounts:
            if name == _LAUNCH or not name or "/" in name:
                raise ValueError(f"invalid internal mount name {name!r}")
        self.app = app
        self.port = port
        self.policy = policy if policy is not None else GuardPolicy()
        self.cookie_name = f"flaskdesk-{port}"
        self._token = token.encode("ascii")
        # The cookie is a second secret, so the launch token itself is never sent again after
        # the first request (it stays out of every later request's headers).
        self._session = secrets.token_urlsafe(32)
        self._internal: Mapping[str, WSGIApplication] = MappingProxyType(mounts)
        self._hosts = tuple(_host_with_port(host, port) for host in hosts)
        self._allowed_hosts = frozenset(self._hosts)

    def __repr__(self) -> str:
        # Never shows the token or the session cookie.
        return f"<Guard port={self.port} hosts={self._hosts!r} internal={sorted(self._internal)!r}>"

    @staticmethod
    def new_token() -> str:
        """A fresh launch token: 256 bits from :mod:`secrets`, URL-safe."""
        return secrets.token_urlsafe(32)

    def launch_url(self, next_path: str = "/") -> str:
        """The URL the window opens first: it trades the token for the cookie, then goes to ``next_path``."""
        if not _is_local_path(next_path):
            raise ValueError(f"next_path must be a path on this app starting with '/', not {next_path!r}")
        query = urlencode({"token": self._token.decode("ascii"), "next": next_path})
        return f"http://{self._hosts[0]}{INTERNAL_PREFIX}{_LAUNCH}?{query}"

    def authenticate_environ(self, environ: dict[str, Any]) -> None:
        """Make a WSGI environ look like it came from the app's own window (for test clients).

        Adds the session cookie and sets ``Host`` to the first allowed host: Werkzeug's test
        client sends ``Host: localhost`` without a port, which the allow-list rightly refuses.
        """
        cookie = f"{self.cookie_name}={self._session}"
        existing = environ.get("HTTP_COOKIE")
        environ["HTTP_COOKIE"] = f"{existing}; {cookie}" if existing else cookie
        environ["HTTP_HOST"] = self._hosts[0]

    # -- the request side -------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        nonce = self._new_nonce()
        request_id = secrets.token_hex(6)
        environ[CSP_NONCE_KEY] = nonce
        environ[REQUEST_ID_KEY] = request_id
        path = environ.get("PATH_INFO", "")
        script_name = environ.get("SCRIPT_NAME", "")
        has_script = SCRIPT_MOUNT in self._internal
        exchange = _Exchange(
            method=environ.get("REQUEST_METHOD", "GET"),
            path=path,
            nonce=nonce,
            request_id=request_id,
            script_src=f"{quote(script_name)}{SCRIPT_PATH}" if has_script else None,
        )

        refusal = self._refusal(environ)
        if refusal is not None:
            logger.warning("refused %s %r (request %s): %s", exchange.method, path, request_id, refusal)
            return self._page(start_response, "403 Forbidden", _FORBIDDEN_PAGE, exchange)

        internal_name = path[len(INTERNAL_PREFIX) :] if path.startswith(INTERNAL_PREFIX) else None
        if internal_name == _LAUNCH:
            return self._launch(environ, start_response, exchange)
        if not self._has_session(environ):
            logger.warning("refused %s %r (request %s): no session cookie", exchange.method, path, request_id)
            return self._page(start_response, "403 Forbidden", _FORBIDDEN_PAGE, exchange)
        if internal_name is None:
            return self._respond(self.app, environ, start_response, exchange, inject=has_script)
        mounted = self._internal.get(internal_name)
        if mounted is None:
            return self._page(start_response, "404 Not Found", _NOT_FOUND_PAGE, exchange)
        environ["SCRIPT_NAME"] = f"{script_name}{INTERNAL_PREFIX}{internal_name}"
        environ["PATH_INFO"] = ""
        return self._respond(mounted, environ, start_response, exchange, inject=False)

    def _new_nonce(self) -> str:
        """This response's CSP nonce (128 random bits)."""
        return secrets.token_urlsafe(16)

    def _refusal(self, environ: WSGIEnvironment) -> str | None:
        """Why this request must not reach any code (``None`` if it may go on to the cookie check).

        The order does not matter for safety (each check alone refuses); Host comes first because
        a rebinding page must learn nothing, not even which other check failed.
        """
        host = environ.get("HTTP_HOST")
        if host not in self._allowed_hosts:
            return f"Host {host!r} is not one of {sorted(self._allowed_hosts)}"

        # Sec-Fetch-Site is set by the browser and cannot be forged by a page: trust it when
        # present. Refusing same-site too matters: 127.0.0.1:OTHERPORT is the same *site*.
        site = environ.get("HTTP_SEC_FETCH_SITE")
        if site is not None and site not in _TRUSTED_FETCH_SITES:
            return f"Sec-Fetch-Site {site!r}"

        # Browsers send ``Origin: null`` on a same-origin form POST from a page served with
        # ``Referrer-Policy: no-referrer`` (Fetch standard, "append a request Origin header"), so
        # "null" is accepted only when the browser also vouches for it with Sec-Fetch-Site.
        origin = environ.get("HTTP_ORIGIN")
        vouched_null = origin == "null" and site == "same-origin"
        if origin is not None and origin != f"http://{host}" and not vouched_null:
            return f"Origin {origin!r}"

        if environ.get("REQUEST_METHOD") == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            return "CORS preflight (cross-origin requests are never allowed)"

        # Neither Sec-Fetch-Site nor Origin on an unsafe method: every engine pywebview uses sends
        # at least one of them, so this is a non-browser client, which still needs the cookie (as
        # in Jupyter Server, which lets Origin-less requests through to its token check).
        return None

    def _has_session(self, environ: WSGIEnvironment) -> bool:
        expected = self._session.encode("ascii")
        for value in _cookie_values(environ.get("HTTP_COOKIE", ""), self.cookie_name):
            if hmac.compare_digest(value.encode("utf-8", "replace"), expected):
                return True
        return False

    def _launch(
        self, environ: WSGIEnvironment, start_response: StartResponse, exchange: _Exchange
    ) -> Iterable[bytes]:
        """Trade the launch token for the session cookie and redirect to ``next``.

        The token stays valid for the guard's lifetime (unlike Jupyter's one-time browser token):
        it never leaves the process (no argv, no log, no Referer thanks to ``no-referrer``), and a
        webview that reloads or opens a second window must be able to launch again.
        """
        if exchange.method not in ("GET", "HEAD"):
            return self._page(
                start_response, "405 Method Not Allowed", _METHOD_PAGE, exchange, [("Allow", "GET")]
            )
        try:
            params = parse_qs(
                environ.get("QUERY_STRING", ""), keep_blank_values=True, errors="replace", max_num_fields=8
            )
        except ValueError:
            params = {}
        tokens = params.get("token", [])
        given = tokens[0].encode("utf-8", "replace") if len(tokens) == 1 else b""
        # compare_digest even when nothing was given, so timing tells nothing either way.
        if not hmac.compare_digest(given, self._token) or len(tokens) != 1:
            logger.warning("refused launch (request %s): missing or wrong token", exchange.request_id)
            return self._page(start_response, "403 Forbidden", _FORBIDDEN_PAGE, exchange)
        nexts = params.get("next", ["/"])
        if len(nexts) != 1 or not _is_local_path(nexts[0]):
            logger.warning("refused launch (request %s): next is not a local path", exchange.request_id)
            return self._page(start_response, "400 Bad Request", _BAD_LAUNCH_PAGE, exchange)
        location = quote(nexts[0], safe=_QUOTE_SAFE)
        cookie = f"{self.cookie_name}={self._session}; Path=/; HttpOnly; SameSite=Strict"
        logger.info("window authenticated (request %s)", exchange.request_id)
        headers = [
            ("Location", location),
            ("Set-Cookie", cookie),
            ("Cache-Control", "no-store"),
            ("Content-Length", "0"),
        ]
        start_response("303 See Other", self._secure(headers, exchange))
        return []

    # -- the response side ------------------------------------------------------------------

    def _respond(
        self,
        app: WSGIApplication,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        exchange: _Exchange,
        *,
        inject: bool,
    ) -> Iterable[bytes]:
        """Run ``app``, then send its response with the guard's headers (and maybe the script tag).

        Headers are held back until the app has produced its first chunk (or finished, for an
        HTML page that gets the script tag), so a crash before that still becomes a clean 500.
        """
        capture = _Capture()
        try:
            result = app(environ, capture.start_response)
        except Exception:
            return self._crashed(start_response, exchange)
        chunks = iter(result)
        try:
            head = capture.written + ([next(chunks, b"")] if capture.status is None else [])
            if capture.status is None:
                raise RuntimeError("the WSGI app returned without calling start_response")
            status, headers = capture.status, capture.headers
            code = _status_code(status)
            if code >= 500:
                logger.error(
                    "request %s: %s %r answered %s",
                    exchange.request_id,
                    exchange.method,
                    exchange.path,
                    status,
                )
            if code == 500 and not self.policy.dev and _is_html(headers):
                body = b"".join([*head, *chunks])
                if exchange.request_id.encode("ascii") not in body:
                    # The app's 500 page does not show the id, so it is not one made for this
                    # guard: replace it (it might carry details of the failure).
                    _close(result)
                    return self._page(start_response, status, _ERROR_PAGE, exchange)
                head, chunks = [body], iter(())
            if inject and exchange.script_src and self._should_inject(headers, exchange, code):
                body = _inject(b"".join([*head, *chunks]), exchange.script_src, exchange.nonce)
                headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
                headers.append(("Content-Length", str(len(body))))
                head, chunks = [body], iter(())
        except Exception:
            _close(result)
            return self._crashed(start_response, exchange)

        capture.sent = True
        start_response(status, self._secure(headers, exchange))
        return _stream(head, chunks, result, exchange)

    def _should_inject(self, headers: list[tuple[str, str]], exchange: _Exchange, code: int) -> bool:
        """Only whole, uncompressed HTML bodies of a known, bounded size get the script tag.

        No ``Content-Length`` means a streamed response (Flask sets it for every buffered body),
        which must stay streamed; HEAD has no body to change.
        """
        if exchange.method == "HEAD" or code < 200 or code == 204 or 300 <= code < 400:
            return False  # no body, or one that is never rendered (a redirect's)
        if not _is_html(headers):
            return False
        length = _header(headers, "Content-Length")
        if length is None or not length.isdigit() or int(length) > _MAX_INJECT_BYTES:
            return False
        return _header(headers, "Content-Encoding") in (None, "identity")

    def _secure(self, headers: list[tuple[str, str]], exchange: _Exchange) -> list[tuple[str, str]]:
        """The app's headers minus CORS and the ones the guard owns, plus the guard's own.

        An app's own ``Content-Security-Policy`` on a response is kept (it knows that page best;
        app-wide changes go through ``GuardPolicy.csp``); every other security header is the
        guard's, whatever the app said.
        """
        kept = [
            (name, value)
            for name, value in headers
            if name.lower() not in _OWNED_HEADERS and not name.lower().startswith("access-control-")
        ]
        if _header(kept, "Content-Security-Policy") is None:
            if self.policy.csp is not None:
                csp = render_policy(self.policy.csp, exchange.nonce)
            else:
                csp = default_policy(exchange.nonce, dev=self.policy.dev)
            kept.append(("Content-Security-Policy", csp))
        kept += [
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
            # No Cross-Origin-Opener-Policy: the window is never opened by, and never opens, a page
            # of another origin (the navigation policy refuses it), so COOP protects nothing here,
            # and it makes the engine swap renderer processes on the first page: +55 ms to the
            # first paint on Qt, +170 ms on WebKitGTK (benchmarks/README.md).
            ("Cross-Origin-Resource-Policy", "same-origin"),
        ]
        return kept

    def _page(
        self,
        start_response: StartResponse,
        status: str,
        template: str,
        exchange: _Exchange,
        extra: list[tuple[str, str]] | None = None,
    ) -> Iterable[bytes]:
        body = template.format(request_id=exchange.request_id).encode("utf-8")
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            *(extra or []),
        ]
        start_response(status, self._secure(headers, exchange))
        return [] if exchange.method == "HEAD" else [body]

    def _crashed(self, start_response: StartResponse, exchange: _Exchange) -> Iterable[bytes]:
        """The app raised out of WSGI (not a Flask view: Flask turns those into a 500 itself)."""
        logger.exception("request %s: %s %r raised", exchange.request_id, exchange.method, exchange.path)
        return self._page(start_response, "500 Internal Server Error", _ERROR_PAGE, exchange)


def log_request_exception(sender: object, exception: BaseException, **extra: object) -> None:
    """Log a view's exception with the guard's request id; connect to Flask's ``got_request_exception``.

    The 500 page shows only the id; this puts the traceback next to that id in the log.
    """
    from flask import has_request_context, request

    if has_request_context():
        request_id = request.environ.get(REQUEST_ID_KEY, "-")
        method, path = request.method, request.path
    else:
        request_id, method, path = "-", "-", "-"
    logger.error(
        "request %s: %s %r raised %s",
        request_id,
        method,
        path,
        type(exception).__name__,
        exc_info=(type(exception), exception, exception.__traceback__),
    )


class _Capture:
    """A ``start_response`` that records instead of sending, so the guard can still change the answer."""

    def __init__(self) -> None:
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.written: list[bytes] = []
        self.sent = False

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
    ) -> Callable[[bytes], object]:
        if exc_info is not None and exc_info[1] is not None:
            # PEP 3333: with exc_info, replace headers not sent yet, else re-raise.
            if self.sent:
                raise exc_info[1].with_traceback(exc_info[2])
        elif self.status is not None:
            raise RuntimeError("start_response called twice without exc_info")
        self.status = status
        self.headers = list(headers)
        return self.written.append


def _stream(
    head: list[bytes], chunks: Iterator[bytes], result: Iterable[bytes], exchange: _Exchange
) -> Iterator[bytes]:
    """Yield the held-back chunks, then the rest; always close the app's iterable (PEP 3333)."""
    try:
        yield from head
        yield from chunks
    except Exception:
        # Headers are gone already: all that is left is to log and let the server drop the connection.
        logger.exception(
            "request %s: %s %r raised while streaming", exchange.request_id, exchange.method, exchange.path
        )
        raise
    finally:
        _close(result)


def _close(result: Iterable[bytes]) -> None:
    close = getattr(result, "close", None)
    if callable(close):
        close()


def _inject(body: bytes, src: str, nonce: str) -> bytes:
    """Insert the shim's ``<script>`` before ``</head>``, else after ``<body>``/``<html>``/doctype.

    Never before the doctype: anything ahead of it puts the page in quirks mode.
    """
    if _INJECTED_RE.search(body):
        return body
    tag = f'<script src="{src}" nonce="{nonce}" data-flaskdesk></script>'.encode("ascii")
    match = _HEAD_END_RE.search(body)
    if match:
        return body[: match.start()] + tag + body[match.start() :]
    for pattern in _OPENING_TAG_RES:
        match = pattern.search(body)
        if match:
            return body[: match.end()] + tag + body[match.end() :]
    return tag + body


def _is_local_path(value: str) -> bool:
    """True for a path on this app only: no scheme, no host, nothing a browser would turn into one.

    Browsers treat ``\\`` as ``/`` and drop tabs and newlines inside URLs, so ``/\\evil`` and
    ``/\\t/evil`` would become ``//evil``: any backslash, control or space character is refused.
    """
    if not value.startswith("/") or value.startswith("//"):
        return False
    if any(ch == "\\" or ch <= " " or ch == "\x7f" for ch in value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def _host_with_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _cookie_values(header: str, name: str) -> list[str]:
    """Every value sent for cookie ``name`` (a stale one from an earlier launch may come first)."""
    values = []
    for part in header.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip() == name:
            values.append(value.strip().strip('"'))
    return values


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


def _is_html(headers: list[tuple[str, str]]) -> bool:
    content_type = _header(headers, "Content-Type") or ""
    return content_type.split(";", 1)[0].strip().lower() == "text/html"


def _status_code(status: str) -> int:
    code = status.split(" ", 1)[0]
    return int(code) if code.isdigit() else 500
