"""What a window is asked to be: its look (:class:`WindowOptions`), one launch (:class:`WindowSession`),
the live handle a launch gets back (:class:`WindowHandle`), and what a running backend offers the
rest of the app (:class:`WindowManager`: more windows, bringing the app to the front, dialogs).

Plain data and a protocol, no toolkit imports: ``launch.py`` builds these, and every backend in
:mod:`flaskdesk.ui.backend` reads them, so neither side depends on pywebview's own types.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .menu import Menu

if TYPE_CHECKING:
    from .dialogs import DialogHost
    from .scheme import SchemeTransport
    from .tray import Tray


@dataclass(frozen=True)
class WindowOptions:
    """How the main window looks.

    ``background_color`` is painted before the first page arrives (and behind it), so an app with a
    dark theme does not flash white while the server answers; pick the page's own background.
    """

    title: str = "flaskdesk"
    width: int = 1000
    height: int = 700
    min_size: tuple[int, int] = (200, 100)
    resizable: bool = True
    icon: Path | None = None
    background_color: str = "#FFFFFF"


class WindowHandle(Protocol):
    """A live window, usable from any thread (calls are marshalled to the GUI thread)."""

    def load_url(self, url: str) -> None:
        """Navigate the window (the navigation policy still applies)."""

    def evaluate_js(self, script: str) -> Any:
        """Run ``script`` in the page and return its JSON-decoded result (waits for the page)."""

    def get_current_url(self) -> str | None:
        """The URL the window shows now, or ``None`` while it shows inline HTML."""

    def destroy(self) -> None:
        """Close the window as if the user had closed it."""


@dataclass(frozen=True)
class WindowSession:
    """Everything one ``Backend.run`` needs.

    ``url`` carries the one-time launch token, so it is never logged. ``app_origin`` is the only
    origin the window may show; everything else is refused or handed to the system browser (see
    :mod:`flaskdesk.ui.navigation`). ``storage_dir`` keeps localStorage, IndexedDB and cookies
    between runs, per app, so two flaskdesk apps never share web storage.
    """

    url: str
    options: WindowOptions
    app_origin: str
    storage_dir: Path
    dev: bool = False
    on_shown: Callable[[WindowHandle], None] | None = None
    on_closed: Callable[[], None] | None = None
    #: The menu bar (see :mod:`flaskdesk.ui.menu`); empty: no menu bar.
    menus: tuple[Menu, ...] = ()
    #: Runs a menu item's Python action (the backend calls it on a worker thread).
    run_action: Callable[[Callable[[], object]], None] | None = None
    #: Shown at once while the first page loads (inline HTML: no server, no scripts from it).
    splash_html: str | None = None
    #: ``window-state.json``: sizes and positions remembered across runs (``None``: not remembered).
    state_file: Path | None = None
    #: Attachments (``Content-Disposition: attachment``) are saved through a native save dialog.
    downloads: bool = True
    #: The URL that opens ``path`` in a *new* window already signed in (the guard's launch URL).
    window_url: Callable[[str], str] | None = None
    #: ``transport="scheme"``: the window's own engine serves the app over ``app://`` (``url`` and
    #: ``app_origin`` are then ``app://flaskdesk/...``); ``None``: the loopback server.
    scheme: SchemeTransport | None = None
    #: The tray icon and its menu (see :mod:`flaskdesk.ui.tray`); ``None``: no tray icon.
    tray: Tray | None = None


@runtime_checkable
class WindowManager(Protocol):
    """What a running backend offers beyond the main window (thread-safe; :class:`WebviewBackend` has it)."""

    def open_window(self, path: str, options: WindowOptions, *, key: str | None = None) -> WindowHandle:
        """Open ``path`` of the app in a new window; ``key`` names it for remembering its size."""

    def bring_to_front(self) -> None:
        """Show the main window (un-minimised, raised, focused where the platform allows)."""

    def close_all(self) -> None:
        """Close every window, as the user closing the main window does (thread-safe)."""

    def dialog_host(self) -> DialogHost | None:
        """Native dialogs over the frontmost window, or ``None`` when no window is open."""
