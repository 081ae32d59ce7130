"""Where the window may go: the navigation policy, as pure logic the toolkit hooks consult.

The window is a view of one app, not a browser. It stays on the app's origin
(``http://127.0.0.1:PORT``); links to the rest of the web (``http``, ``https``, ``mailto``) are
refused in the window and handed to the user's browser, where the address bar, extensions and
history belong; every other scheme (``file:``, ``data:``, ``javascript:``, custom schemes) is
refused outright, because a page that can show local files or attacker-built documents under the
app's window is a phishing and file-disclosure vector.

Two narrow allowances, both needed by ordinary pages and both unable to leave the app's origin:

* ``about:blank`` and ``about:srcdoc`` in *subframes*: an ``<iframe>`` starts on ``about:blank``
  and ``<iframe srcdoc>`` loads ``about:srcdoc``; rich-text editors and print helpers rely on both.
  They inherit the embedding page's origin. In the main frame they are refused (no app needs to
  blank its own window).
* ``blob:`` URLs whose origin is the app's: the URL standard gives a blob URL the origin of the
  script that made it, so this is a same-origin navigation (a generated PDF or image preview).

Subframes never open the browser: an ``<iframe src="https://...">`` is refused quietly, otherwise
every third-party embed would pop a browser tab when the page loads.

:class:`NavigationPolicy.decide` has no side effects, so the whole table is unit-tested;
:func:`carry_out` is the one place that opens the browser.
"""

from __future__ import annotations

import enum
import logging
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

log = logging.getLogger("flaskdesk.ui")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SUBFRAME_DOCUMENTS = frozenset({"blank", "srcdoc"})


class Verdict(enum.Enum):
    """What to do with one navigation."""

    ALLOW = "allow"
    """Load it in the window (for a new-window request: in the *existing* window)."""
    EXTERNAL = "external"
    """Refuse it in the window and hand the URL to the system browser."""
    BLOCK = "block"
    """Refuse it."""


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an ``http``/``https`` URL, normalised; ``None`` for anything else.

    The default port is dropped and the host lower-cased, so ``HTTP://LocalHost:80/x`` and
    ``http://localhost`` compare equal. A malformed URL (bad port, bad IPv6 literal) has no origin.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    return _origin(parts, port)


def _origin(parts: SplitResult, port: int | None) -> str | None:
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname
    if ":" in host:  # IPv6 literal: urlsplit strips the brackets
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


@dataclass(frozen=True)
class NavigationPolicy:
    """The navigation rules for one window.

    ``app_origin`` is the only origin the window may show (``None`` for a window with no app, such
    as the startup-error page, which then only ever hands links to the browser).
    """

    app_origin: str | None

    def __post_init__(self) -> None:
        if self.app_origin is None:
            return
        normalised = origin_of(self.app_origin)
        parts = urlsplit(self.app_origin)
        # A path or query here would be a caller's mistake that silently makes nothing same-origin.
        if normalised is None or parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(
                f"app_origin must be an http(s) origin like http://127.0.0.1:8000, got {self.app_origin!r}"
            )
        object.__setattr__(self, "app_origin", normalised)

    def decide(self, url: str, *, main_frame: bool, new_window: bool = False) -> Verdict:
        """The verdict for a navigation to ``url``.

        ``main_frame`` is False for an ``<iframe>``'s own navigation; ``new_window`` is True for
        ``target=_blank`` and ``window.open`` (which always concern a top-level window).
        """
        top_level = main_frame or new_window
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            return Verdict.BLOCK
        scheme = parts.scheme.lower()
        if scheme in _DEFAULT_PORTS:
            if self._is_app(_origin(parts, port)):
                return Verdict.ALLOW
            return Verdict.EXTERNAL if top_level else Verdict.BLOCK
        if scheme == "mailto":
            return Verdict.EXTERNAL if top_level else Verdict.BLOCK
        if scheme == "about" and parts.path.lower() in _SUBFRAME_DOCUMENTS:
            return Verdict.BLOCK if top_level else Verdict.ALLOW
        if scheme == "blob" and self._is_app(origin_of(url.strip()[len("blob:") :])):
            return Verdict.ALLOW
        return Verdict.BLOCK

    def _is_app(self, origin: str | None) -> bool:
        return origin is not None and origin == self.app_origin


def describe(url: str) -> str:
    """A loggable form of ``url``: scheme and host only (paths and queries may carry tokens)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<malformed URL>"
    scheme = parts.scheme.lower() or "<no scheme>"
    if parts.hostname:
        return f"{scheme}://{parts.hostname}/..."
    return f"{scheme}: URL"


def open_in_browser(url: str) -> None:
    """Hand ``url`` to the user's browser (``webbrowser`` honours ``$BROWSER``) without blocking.

    ``webbrowser.open`` waits for a ``$BROWSER`` command to exit, so it runs on a short-lived
    daemon thread: the GUI thread that asked must not freeze, and an app that is closing must not
    wait for a browser to start.
    """
    threading.Thread(
        target=webbrowser.open, args=(url, 2), name="flaskdesk-browser-handoff", daemon=True
    ).start()


def carry_out(verdict: Verdict, url: str, *, opener: Callable[[str], None] = open_in_browser) -> bool:
    """Do the part of ``verdict`` the window cannot: open the browser or log the refusal.

    Returns True when the window itself should load ``url``.
    """
    if verdict is Verdict.ALLOW:
        return True
    if verdict is Verdict.EXTERNAL:
        log.info("opening %s in the system browser", describe(url))
        opener(url)
    else:
        log.warning("refused to navigate the window to %s", describe(url))
    return False
