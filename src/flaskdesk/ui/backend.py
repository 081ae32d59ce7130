"""Window backends: the one place that picks a GUI toolkit and the only module that imports ``webview``.

:func:`select_backend` chooses ``qt`` or ``gtk`` on Linux (the native backend on Windows and macOS),
checks that the toolkit imports and that there is a display, and returns a :class:`Backend`; every
reason it cannot is a :class:`~flaskdesk.errors.BackendError` that names the package, the apt line
or ``xvfb-run``. ``sys.platform`` and ``$FLASKDESK_GUI`` are read here and nowhere else.

The backend drives pywebview (one ``create_window`` + ``start`` per process, on the main thread)
and adds, through the toolkit hooks in :mod:`._qt` / :mod:`._gtk`, what a desktop app needs and
pywebview does not give: the navigation policy, per-app persistent web storage, engine flags,
devtools without a debugging port, and SIGTERM/SIGINT that close the window instead of killing
the process mid-request.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import importlib
import logging
import os
import re
import signal
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from .._heap import release_freed_memory
from ..errors import BackendError, ConfigError, DataDirError, NotificationError, WindowError
from .dialogs import DialogHost, DialogKind, FileDialogRequest, MessageKind
from .menu import Menu, MenuItem
from .navigation import NavigationPolicy, origin_of
from .notifications import Notification
from .scheme import SchemeNavigationPolicy, navigate
from .tray import TRAY_BACKENDS, Tray
from .window import WindowHandle, WindowOptions, WindowSession
from .window_state import Rect, WindowState, WindowStateFile, clamp

if TYPE_CHECKING:
    from ._qt_enums import DeferredPromotion

log = logging.getLogger("flaskdesk.ui")

GUI_ENV_VAR = "FLASKDESK_GUI"

_QT_EXTRA = "pip install 'flaskdesk[qt]'  (PyQt6 + PyQt6-WebEngine + QtPy)"
_GTK_EXTRA = (
    "pip install 'flaskdesk[gtk]'  (PyGObject; to build it: apt-get install libgirepository1.0-dev "
    "libcairo2-dev pkg-config gobject-introspection)"
)
_GTK_SYSTEM = "apt-get install gir1.2-webkit2-4.1 gir1.2-gtk-3.0"
_NO_DISPLAY = (
    "run it inside a desktop session, or headless under a virtual display: `xvfb-run -a <your command>`"
)
# Shared libraries the Qt xcb platform plugin and WebEngine need that minimal Debian/Ubuntu
# installs lack; Qt aborts the process (uncatchably) when the xcb plugin cannot load.
_DEBIAN_PACKAGES = (
    ("libxcb-cursor", "libxcb-cursor0"),
    ("libxcb-icccm", "libxcb-icccm4"),
    ("libxcb-keysyms", "libxcb-keysyms1"),
    ("libxcb-image", "libxcb-image0"),
    ("libxcb-render-util", "libxcb-render-util0"),
    ("libxcb-xinerama", "libxcb-xinerama0"),
    ("libxcb-shape", "libxcb-shape0"),
    ("libxcb-randr", "libxcb-randr0"),
    ("libxcb-xkb", "libxcb-xkb1"),
    ("libxkbcommon-x11", "libxkbcommon-x11-0"),
    ("libxkbcommon", "libxkbcommon0"),
    ("libnss3", "libnss3"),
    ("libEGL", "libegl1"),
    ("libGL", "libgl1"),
    ("libfontconfig", "libfontconfig1"),
    ("libdbus-1", "libdbus-1-3"),
)
_QT_SYSTEM_ALL = (
    "apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 libxcb-xinerama0 "
    "libnss3 libegl1 libgl1"
)


class Backend(Protocol):
    """A way to show flaskdesk windows."""

    name: str
    """``"qt"``, ``"gtk"``, ``"edgechromium"`` or ``"cocoa"``."""

    def run(self, session: WindowSession) -> None:
        """Show the app's window; main thread; blocks until the last window closes."""

    def show_error(self, title: str, html: str, options: WindowOptions) -> None:
        """Show a startup-failure page (inline HTML, no server); blocks until it is closed."""

    def close_all(self) -> None:
        """Close every window (thread-safe; waits at most a few seconds for a page still loading).

        Makes ``run``/``show_error`` return; a backend whose windows were closed stays closed.
        """


class ToolkitHooks(Protocol):
    """The per-toolkit additions to a pywebview window (:mod:`._qt`, :mod:`._gtk`).

    Everything but :meth:`prepare` and :meth:`call_soon` runs on the GUI thread.
    """

    name: str

    def prepare(self) -> None:
        """Set what the engine reads at start-up (environment); before ``webview.start``."""

    def attach(
        self,
        window: Any,
        *,
        policy: NavigationPolicy,
        options: WindowOptions,
        storage_dir: Path | None,
        dev: bool,
        trust_first_navigation: bool = False,
        menus: tuple[Menu, ...] = (),
        run_action: Callable[[Callable[[], object]], None] | None = None,
        downloads: bool = False,
    ) -> None:
        """Hook the native window; GUI thread, from pywebview's ``before_show`` event."""

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the GUI thread (callable from any thread, once a window was attached)."""

    def sharing_profile(self, main_window: Any) -> AbstractContextManager[None]:
        """Around creating a second window (GUI thread): make it share ``main_window``'s web profile."""

    def file_dialog(self, window: Any, request: FileDialogRequest) -> list[str] | None:
        """A modal file dialog over ``window``: the chosen paths, or ``None``."""

    def message_dialog(self, window: Any, kind: MessageKind, title: str, message: str) -> bool:
        """A modal message box over ``window``; True for OK."""

    def cancel_dialogs(self) -> None:
        """Cancel every open dialog (the app is closing)."""

    def present(self, window: Any) -> None:
        """Un-minimise, raise and focus ``window``."""

    def screens(self) -> list[Rect]:
        """The screens' usable areas now."""

    def can_position(self) -> bool:
        """Whether the platform lets a client place its windows (Wayland does not)."""

    def apply_state(self, window: Any, state: WindowState) -> None:
        """Size, place and maximize ``window`` before it is first shown."""

    def read_state(self, window: Any) -> WindowState | None:
        """``window``'s size, position and maximized state now."""

    def show_tray(
        self, tray: Tray, *, on_activate: Callable[[], None], on_choose: Callable[[MenuItem], None]
    ) -> None:
        """Show the tray icon: clicking it calls ``on_activate``, choosing a menu item ``on_choose``."""

    def hide_tray(self) -> None:
        """Take the tray icon away (the main window is closing)."""

    def notify(self, notification: Notification) -> None:
        """Show a notification through the toolkit (Qt off Linux); else raise ``NotificationError``."""


# --------------------------------------------------------------------------------------------------
# choosing


def platform_family(platform: str) -> str:
    """``"linux"`` (also the BSDs: pywebview treats them alike), ``"win32"`` or ``"darwin"``."""
    if platform.startswith(("win32", "cygwin")):
        return "win32"
    if platform == "darwin":
        return "darwin"
    return "linux"


def backend_names(family: str) -> tuple[str, ...]:
    """The backends flaskdesk can run on a platform family, the platform's own first."""
    if family == "win32":
        return ("edgechromium", "qt")
    if family == "darwin":
        return ("cocoa", "qt")
    return ("qt", "gtk")


def requested_name(requested: str | None, environ: Mapping[str, str], family: str) -> str | None:
    """The backend asked for (argument first, then ``$FLASKDESK_GUI``), or ``None`` for the default."""
    source = "the backend setting"
    raw = requested
    if raw is None or not raw.strip():
        raw, source = environ.get(GUI_ENV_VAR), f"${GUI_ENV_VAR}"
    if raw is None or not raw.strip() or raw.strip().lower() == "auto":
        return None
    name = raw.strip().lower()
    allowed = backend_names(family)
    if name not in allowed:
        raise BackendError(
            f"unknown window backend {raw!r} (from {source}); on this platform choose one of: "
            + ", ".join(allowed)
        )
    return name


def select_backend(requested: str | None = None) -> Backend:
    """The backend to use: ``requested``, else ``$FLASKDESK_GUI``, else the platform's default.

    On Linux the default is Qt when PyQt6/PySide6 with WebEngine imports, else GTK. The chosen
    toolkit is imported here (the window would import it anyway a moment later), so a missing
    package or system library is reported as a readable :class:`BackendError` instead of
    pywebview silently falling back to the other toolkit, or Qt aborting the process.
    """
    family = platform_family(sys.platform)
    name = requested_name(requested, os.environ, family)
    promotion = _deferred_qt_enum_names(name, family)
    if family != "linux":
        return _native_backend(name or backend_names(family)[0], promotion)
    if name is None:
        qt_problem = _qt_problem(os.environ)
        if qt_problem is None:
            name = "qt"
        else:
            gtk_problem = _gtk_problem()
            if gtk_problem is not None:
                raise BackendError(
                    "no window toolkit can be used.\n"
                    f"  Qt: {qt_problem}\n  GTK: {gtk_problem}\n"
                    "Install one of them (Qt is self-contained from PyPI; GTK uses the system's WebKitGTK)."
                )
            name = "gtk"
            log.info("using GTK: Qt is not usable (%s)", qt_problem)
    else:
        problem = _qt_problem(os.environ) if name == "qt" else _gtk_problem()
        if problem is not None:
            raise BackendError(f"the {name} window backend cannot be used: {problem}")
    display_problem = _display_problem(name, os.environ)
    if display_problem is not None:
        raise BackendError(display_problem)
    return WebviewBackend(name, _hooks_for(name, promotion))


def _native_backend(name: str, promotion: DeferredPromotion | None) -> Backend:
    if name == "qt":
        problem = _qt_problem(os.environ)
        if problem is not None:
            raise BackendError(f"the qt window backend cannot be used: {problem}")
    return WebviewBackend(name, _hooks_for(name, promotion))


def _deferred_qt_enum_names(name: str | None, family: str) -> DeferredPromotion | None:
    """When Qt may be chosen: install :mod:`._qt_enums`'s split before the checks import qtpy's modules."""
    if name != "qt" and not (name is None and family == "linux"):
        return None
    from ._qt_enums import defer_enum_promotion

    return defer_enum_promotion()


def _hooks_for(name: str, promotion: DeferredPromotion | None = None) -> ToolkitHooks | None:
    if name == "qt":
        from ._qt import QtHooks

        return QtHooks(promotion)
    if name == "gtk":
        from ._gtk import GtkHooks

        return GtkHooks()
    return None


def _qt_problem(environ: Mapping[str, str]) -> str | None:
    """Why Qt WebEngine cannot be used here, or ``None`` if it can."""
    try:
        importlib.import_module("qtpy")
        importlib.import_module("qtpy.QtWebEngineWidgets")
    except (ImportError, RuntimeError) as error:  # qtpy raises RuntimeError subclasses too
        text = str(error)
        missing_lib = _missing_library(text)
        if missing_lib:
            return f"a system library is missing ({text}); {missing_lib}"
        return f"{text or type(error).__name__}; {_QT_EXTRA}"
    if _qt_uses_xcb(environ):
        return _xcb_plugin_problem()
    return None


def _qt_uses_xcb(environ: Mapping[str, str]) -> bool:
    """Whether Qt will pick its X11 (xcb) platform plugin."""
    platform = environ.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.startswith("xcb")
    return bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")


def _xcb_plugin_problem() -> str | None:
    """Load Qt's X11 platform plugin the way Qt will, to see a missing library before Qt aborts."""
    qtcore = importlib.import_module("qtpy.QtCore")
    library_info = qtcore.QLibraryInfo
    plugins = Path(library_info.path(library_info.LibraryPath.PluginsPath))
    plugin = plugins / "platforms" / "libqxcb.so"
    if not plugin.is_file():
        return None  # a Qt build without xcb (or laid out differently): let Qt speak for itself
    try:
        # Lazy binding: missing libraries still fail here, but no symbol is resolved (2 ms, not 35).
        ctypes.CDLL(str(plugin), mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    except OSError as error:
        text = str(error)
        return f"Qt's X11 plugin cannot load ({text}); {_missing_library(text) or _QT_SYSTEM_ALL}"
    return None


def _missing_library(message: str) -> str | None:
    """The apt line for a shared library named in a loader error, if it is one we know."""
    match = re.search(r"(lib[\w.+-]+?\.so(?:\.\d+)*)", message)
    if not match:
        return None
    soname = match.group(1)
    for base, package in _DEBIAN_PACKAGES:
        if soname.startswith(base + "."):
            return f"on Debian/Ubuntu: apt-get install {package}"
    return f"install the package that provides {soname} (on Debian/Ubuntu: {_QT_SYSTEM_ALL})"


def _gtk_problem() -> str | None:
    """Why GTK + WebKitGTK cannot be used here, or ``None`` if it can."""
    try:
        gi = importlib.import_module("gi")
    except ImportError as error:
        return f"{error}; {_GTK_EXTRA}"
    try:
        gi.require_version("Gtk", "3.0")
        try:
            gi.require_version("WebKit2", "4.1")
        except ValueError:
            gi.require_version("WebKit2", "4.0")
        importlib.import_module("gi.repository.Gtk")
        importlib.import_module("gi.repository.WebKit2")
    except (ValueError, ImportError) as error:
        return f"{error}; {_GTK_SYSTEM}"
    return None


_LOCAL_X_DISPLAY = re.compile(r"^(?:unix)?:(\d+)(?:\.\d+)?$")


def _display_problem(name: str, environ: Mapping[str, str]) -> str | None:
    """Why no window can be shown (no display, or an X server that does not answer), or ``None``."""
    if name == "qt" and environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal", "vnc")):
        return None
    display = environ.get("DISPLAY", "")
    if environ.get("WAYLAND_DISPLAY"):
        return None
    if not display:
        hint = " (or, for Qt, QT_QPA_PLATFORM=offscreen: a window nobody sees)" if name == "qt" else ""
        return (
            "there is no display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset): "
            f"{_NO_DISPLAY}{hint}"
        )
    match = _LOCAL_X_DISPLAY.match(display)
    if match and not _x_server_answers(int(match.group(1))):
        return f"no X server answers on DISPLAY={display}: start one or {_NO_DISPLAY}"
    return None


def _x_server_answers(number: int) -> bool:
    """Connect to local X display ``number`` (abstract socket, then the file) and hang up.

    Both toolkits abort the process when the display is dead; asking first costs well under a
    millisecond.
    """
    for address in (f"\0/tmp/.X11-unix/X{number}", f"/tmp/.X11-unix/X{number}"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            try:
                probe.connect(address)
            except OSError:
                continue
            return True
    return False


# --------------------------------------------------------------------------------------------------
# running


#: Resolves once the engine has produced two frames, so what the page shows is on screen.
_PAINTED_FRAME_JS = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


def _wait_for_a_painted_frame(window: Any, timeout: float) -> None:
    """Wait until the window's loaded page has been painted, or ``timeout`` passes.

    An engine reports a page loaded before its first frame reaches the screen; a navigation
    started in between (on a busy machine) can leave the old page never shown at all.
    """
    painted = threading.Event()
    try:
        window.evaluate_js(_PAINTED_FRAME_JS, callback=lambda _result: painted.set())
    except Exception:  # a page whose own CSP forbids eval: the load event is all there is
        log.debug("could not wait for the splash to paint", exc_info=True)
        return
    painted.wait(timeout)


#: How long closing waits for a page that is still loading (see :meth:`WebviewBackend.close_all`).
_LOAD_SETTLE_SECONDS = 3.0
#: How long the app's first load waits for the splash page to be up.
_SPLASH_LOAD_SECONDS = 3.0
#: How long ``on_shown`` waits for the first page of an ``app://`` window (opened after it shows).
_FIRST_LOAD_SECONDS = 30.0
#: How long after the app's first page has loaded start-up's freed memory is handed back: after
#: Qt's deferred enum names (0.3 s after the load, see :mod:`flaskdesk.ui._qt_enums`).
_MEMORY_SETTLE_SECONDS = 1.0
#: How often a thread waiting for the GUI thread checks that the GUI is still running.
_GUI_POLL_SECONDS = 0.25
MAIN_WINDOW_KEY = "main"


def _once_settled(*, on_load: int) -> Callable[[], None]:
    """A ``loaded`` handler that, on the ``on_load``-th load, hands start-up's freed memory back.

    Later on a daemon timer (the handler runs on pywebview's event thread, which later handlers
    share), so the page paints first and the window never waits for it.
    """
    loads = iter(range(on_load - 1, -1, -1))

    def loaded() -> None:
        if next(loads, None) == 0:
            timer = threading.Timer(_MEMORY_SETTLE_SECONDS, release_freed_memory)
            timer.name, timer.daemon = "flaskdesk-release-memory", True
            timer.start()

    return loaded


class WebviewBackend:
    """A :class:`Backend` on pywebview, with flaskdesk's hooks for its toolkit (if it has them).

    While :meth:`run` runs it is also a :class:`~flaskdesk.ui.window.WindowManager`: more windows
    on the same app, bringing the app to the front, native dialogs; all callable from any thread.
    """

    def __init__(self, name: str, hooks: ToolkitHooks | None) -> None:
        self.name = name
        self._hooks = hooks
        self._lock = threading.Lock()
        self._stop_requested = False  # close_all() was called: every window closes once shown
        self._live: list[Any] = []  # pywebview windows that are shown and not yet closed
        self._failure: BaseException | None = None  # a hook failed for the window being started
        self._signals: _SignalWatcher | None = None
        self._session: WindowSession | None = None
        self._policy: NavigationPolicy | None = None
        self._storage_dir: Path | None = None
        self._state_file: WindowStateFile | None = None
        self._main: Any = None
        self._gui_running = False
        self._dialog_lock = threading.Lock()
        self._closing: list[Any] = []  # windows asked to close, not closed yet
        self._scheme = False  # this run serves the app over app:// (URLs are opened natively)

    def run(self, session: WindowSession) -> None:
        """Show ``session.url`` in the main window; return once the last window has closed.

        ``session.on_closed`` is called here, on the main thread, just before returning, also
        when the window was closed by SIGTERM/SIGINT. Closing the main window closes the others.
        """
        _require_main_thread("run")
        scheme = session.scheme
        policy = scheme.policy if scheme is not None else NavigationPolicy(session.app_origin)
        if not _on_origin(policy, session.url):
            raise ValueError("WindowSession.url must be on WindowSession.app_origin")
        storage_dir = _ensure_storage_dir(session.storage_dir)
        options = session.options
        _check_color(options.background_color)
        if self._stop_requested:  # SIGTERM (close_all) before there was anything to close
            if session.on_closed is not None:
                session.on_closed()
            return
        webview = _import_webview()
        if self._hooks is None:
            log.warning(
                "the %s backend does not enforce flaskdesk's navigation policy yet: links to other "
                "sites may open inside the window",
                self.name,
            )
            if session.tray is not None:
                log.warning(
                    "the %s backend has no tray icon: the app runs without one (the tray needs the %s "
                    "backend; on Windows and macOS: pip install 'flaskdesk[qt]' and backend = \"qt\")",
                    self.name,
                    " or ".join(TRAY_BACKENDS),
                )
        else:
            self._hooks.prepare()
        if scheme is not None:
            scheme.prepare(self.name)  # Qt reads scheme declarations once, before it starts
        self._scheme = scheme is not None
        self._session, self._policy, self._storage_dir = session, policy, storage_dir
        self._state_file = WindowStateFile(session.state_file) if session.state_file is not None else None
        splash = session.splash_html
        # An app:// URL is opened natively once the window is hooked (given it, pywebview would
        # rewrite it into a path on an HTTP server of its own).
        window = _create_window(webview, None if splash or scheme else session.url, options, html=splash)
        self._main = window
        # The splash (or, for the scheme, pywebview's blank page) is inline HTML: its load is
        # trusted; the app's URL follows.
        self._watch(
            window,
            policy,
            options,
            storage_dir=storage_dir,
            dev=session.dev,
            trust_first=bool(splash) or scheme is not None,
            key=MAIN_WINDOW_KEY,
            main=True,
            start_url=session.url if scheme is not None and not splash else None,
        )
        # The app's first page is the window's first load, or its second after the splash or
        # pywebview's blank page (scheme).
        window.events.loaded += _once_settled(on_load=2 if splash or scheme else 1)
        if splash:
            on_shown = session.on_shown
            window.events.shown += lambda: self._leave_splash(window, session.url, on_shown)
        elif session.on_shown is not None and scheme is not None:
            on_shown = session.on_shown
            window.events.shown += lambda: self._after_first_load(on_shown, window)
        elif session.on_shown is not None:
            on_shown = session.on_shown
            window.events.shown += lambda: self._call_on_shown(on_shown, window)
        try:
            self._start(
                webview,
                private_mode=False,
                storage_path=str(storage_dir),
                icon=_icon_path(options.icon),
            )
        finally:
            self._session = None
            self._main = None
        if session.on_closed is not None:
            session.on_closed()

    def show_error(self, title: str, html: str, options: WindowOptions) -> None:
        """Show ``html`` in a window titled ``title``; return once it is closed.

        The page may only hand links to the browser; it keeps no web storage.
        """
        _require_main_thread("show_error")
        if self._stop_requested:
            return
        # A message-sized, resizable, white window (the app's colours may be what is broken).
        width, height = min(options.width, 760), min(options.height, 520)
        look = dataclasses.replace(
            options,
            title=title,
            width=width,
            height=height,
            min_size=(min(options.min_size[0], width), min(options.min_size[1], height)),
            resizable=True,
            background_color="#FFFFFF",
        )
        webview = _import_webview()
        if self._hooks is not None:
            self._hooks.prepare()
        window = _create_window(webview, None, look, html=html)
        self._watch(window, NavigationPolicy(None), look, storage_dir=None, dev=False, trust_first=True)
        self._start(webview, private_mode=True, storage_path=None, icon=_icon_path(options.icon))

    def close_all(self) -> None:
        """Close every window; windows still opening close as soon as they are shown.

        Closing is final for this backend: a later ``run``/``show_error`` returns at once (a
        SIGTERM before the window exists must not be followed by a window). Open dialogs are
        cancelled first (their callers get ``None``).
        """
        with self._lock:
            self._stop_requested = True
            live = list(self._live)
        if live and self._hooks is not None and self._gui_running:
            with contextlib.suppress(Exception):
                self._hooks.call_soon(self._hooks.cancel_dialogs)
        for window in live:
            # pywebview injects its JS on a non-daemon thread that waits for the page; closing
            # mid-load strands that thread and the process never exits. Let the load settle first.
            window.events.loaded.wait(_LOAD_SETTLE_SECONDS)
            self._destroy(window)

    def _destroy(self, window: Any) -> None:
        """Close ``window`` once (pywebview's GTK backend fails on a second close of the same window)."""
        with self._lock:
            if window in self._closing or window not in self._live:
                return
            self._closing.append(window)
        window.destroy()  # pywebview marshals this to the GUI thread

    # -- WindowManager: what the running app can ask for (any thread) -------------------------------

    def open_window(self, path: str, options: WindowOptions, *, key: str | None = None) -> WindowHandle:
        """Open ``path`` of the app in a new window, signed in like the main one; returns its handle.

        The window has the main window's navigation policy, menus and downloads; with a ``key``
        its size and position are remembered under that name.
        """
        session, policy, storage_dir = self._session, self._policy, self._storage_dir
        if session is None or policy is None or storage_dir is None or not self._gui_running:
            raise WindowError("the app has no window open, so it cannot open another one yet")
        if session.window_url is None:
            raise WindowError("this launch cannot sign a new window in (no window_url in its session)")
        _check_color(options.background_color)
        url = session.window_url(path)
        if not _on_origin(policy, url):
            raise WindowError(f"{path!r} is not a path of the app")
        scheme = session.scheme is not None
        made: list[Any] = []
        hooks = self._hooks

        def create() -> None:  # GUI thread: the hooks are in place before the window can load anything
            webview = _import_webview()
            window = _create_window(webview, None if scheme else url, options)
            self._watch(
                window,
                policy,
                options,
                storage_dir=storage_dir,
                dev=session.dev,
                trust_first=scheme,  # pywebview's blank page; the app's URL is opened natively
                key=key,
                start_url=url if scheme else None,
            )
            guilib = getattr(webview, "guilib", None)
            initialize = getattr(window, "_initialize", None)
            if guilib is None or initialize is None:
                raise BackendError(
                    "this pywebview has no webview.guilib / Window._initialize; install "
                    "the pywebview version flaskdesk supports (pip install 'pywebview>=5.3,<7')"
                )
            if initialize(gui=guilib):
                assert hooks is not None
                with hooks.sharing_profile(self._main):
                    guilib.create_window(window)
            made.append(window)

        if hooks is None:  # native backends: pywebview's own way (from a worker thread)
            webview = _import_webview()
            window = _create_window(webview, url, options)
            self._watch(
                window, policy, options, storage_dir=storage_dir, dev=session.dev, trust_first=False, key=key
            )
            return _WebviewWindowHandle(window)
        self._on_gui(create)
        if not made:
            raise WindowError("the window could not be opened (the app is closing)")
        return _WebviewWindowHandle(made[0], scheme=scheme)

    def bring_to_front(self) -> None:
        """Show the main window on top (un-minimised, focused where the window system allows)."""
        hooks, main = self._hooks, self._main
        if hooks is None or main is None or not self._gui_running:
            if main is not None:
                with contextlib.suppress(Exception):
                    main.restore()
                    main.show()
            return
        hooks.call_soon(lambda: hooks.present(main))

    def dialog_host(self) -> DialogHost | None:
        """Dialogs over the frontmost window, while a window is open."""
        with self._lock:
            live = bool(self._live)
        if not live or not self._gui_running:
            return None
        return _BackendDialogs(self)

    # -- internals ---------------------------------------------------------------------------------

    def _on_gui(self, fn: Callable[[], Any], *, cancelled: Any = None) -> Any:
        """Run ``fn`` on the GUI thread and return its result (or raise its exception).

        Returns ``cancelled`` if the GUI loop ends before ``fn`` has run.
        """
        if threading.current_thread() is threading.main_thread():
            return fn()
        hooks = self._hooks
        if hooks is None:
            raise WindowError(f"the {self.name} backend cannot run code on its GUI thread")
        done = threading.Event()
        outcome: list[Any] = []

        def job() -> None:
            try:
                outcome.append((True, fn()))
            except BaseException as error:  # handed to the waiting thread
                outcome.append((False, error))
            finally:
                done.set()

        hooks.call_soon(job)
        while not done.wait(_GUI_POLL_SECONDS):
            if not self._gui_running:
                return cancelled
        ok, value = outcome[0]
        if not ok:
            raise value
        return value

    def _frontmost(self) -> Any:
        """The window dialogs belong to: the active one if it is ours, else the main one (GUI thread)."""
        with self._lock:
            live = list(self._live)
        if not live:
            return None
        with contextlib.suppress(Exception):
            active = _import_webview().active_window()
            if active in live:
                return active
        return self._main if self._main in live else live[0]

    def _watch(
        self,
        window: Any,
        policy: NavigationPolicy,
        options: WindowOptions,
        *,
        storage_dir: Path | None,
        dev: bool,
        trust_first: bool,
        key: str | None = None,
        main: bool = False,
        start_url: str | None = None,
    ) -> None:
        """Hook ``window``'s events; ``start_url`` is an ``app://`` URL opened natively once it is hooked."""
        hooks = self._hooks
        session = self._session if storage_dir is not None else None  # the error window has none of it
        state_file = self._state_file if session is not None else None
        scheme = session.scheme if session is not None else None

        def before_show() -> None:  # GUI thread, synchronously inside pywebview's window creation
            if self._signals is not None:
                self._signals.reinstall()  # pywebview's Qt backend has just replaced SIGINT's handler
            if hooks is None:
                return
            try:
                hooks.attach(
                    window,
                    policy=policy,
                    options=options,
                    storage_dir=storage_dir,
                    dev=dev,
                    trust_first_navigation=trust_first,
                    menus=session.menus if session is not None else (),
                    run_action=self._run_action if session is not None else None,
                    downloads=session.downloads if session is not None else False,
                )
            except Exception as error:  # fail closed: pywebview would log it and carry on
                log.error("could not set up the window; closing it", exc_info=error)
                with self._lock:
                    self._failure = error
                return
            if state_file is not None and key is not None:
                self._restore_state(hooks, window, state_file, key, options)
            if main and session is not None and session.tray is not None:
                self._show_tray(hooks, session.tray)
            if scheme is not None:
                downloads = session is not None and session.downloads
                try:
                    # the app:// handler (once per web profile); attachments through the save dialog
                    scheme.attach(window, self.name, save_as=_save_as(hooks, window) if downloads else None)
                except Exception as error:  # fail closed, as above
                    log.error("could not serve app:// in the window; closing it", exc_info=error)
                    with self._lock:
                        self._failure = error
                    return
                if start_url is not None:
                    navigate(window, start_url)

        def closing() -> None:  # GUI thread, before the window goes
            if main and hooks is not None and session is not None and session.tray is not None:
                with contextlib.suppress(Exception):
                    hooks.hide_tray()
            if hooks is not None and state_file is not None and key is not None:
                try:
                    state = hooks.read_state(window)
                except Exception:
                    log.exception("could not read the window's size to remember it")
                    return
                if state is not None:
                    state_file.save(key, state)

        def shown() -> None:  # worker thread
            with self._lock:
                self._live.append(window)
                closing_now = self._stop_requested or self._failure is not None
            if closing_now:
                window.destroy()

        def closed() -> None:
            with self._lock:
                if window in self._live:
                    self._live.remove(window)
                if window in self._closing:
                    self._closing.remove(window)
                others = list(self._live) if main else []
            for other in others:  # the main window takes its app's other windows with it
                self._destroy(other)

        window.events.before_show += before_show
        window.events.closing += closing
        window.events.shown += shown
        window.events.closed += closed

    def _restore_state(
        self, hooks: ToolkitHooks, window: Any, state_file: WindowStateFile, key: str, options: WindowOptions
    ) -> None:
        saved = state_file.load(key)
        if saved is None:
            return
        if not options.resizable:
            saved = dataclasses.replace(saved, width=options.width, height=options.height, maximized=False)
        state = clamp(saved, hooks.screens(), min_size=options.min_size)
        if state.x is not None and not hooks.can_position():
            log.info(
                "restoring the %s window's size only: this window system does not let apps place windows", key
            )
            state = dataclasses.replace(state, x=None, y=None)
        try:
            hooks.apply_state(window, state)
        except Exception:
            log.exception("could not restore the %s window's size", key)

    def _show_tray(self, hooks: ToolkitHooks, tray: Tray) -> None:
        """The tray icon (GUI thread, as the main window is set up); a failure leaves the app without it."""
        try:
            hooks.show_tray(tray, on_activate=self.bring_to_front, on_choose=self._tray_choice)
        except Exception:
            log.exception("could not show the tray icon; the app runs without it")

    def _tray_choice(self, item: MenuItem) -> None:
        """A tray menu item was chosen (GUI thread): run its action, or show its route in the main window."""
        if item.action is not None:
            self._run_action(item.action)
            return
        main, policy = self._main, self._policy
        if item.route is None or main is None or policy is None:
            return
        handle, url = self._handle(main), f"{policy.app_origin}{item.route}"

        def show() -> None:  # off the GUI thread: pywebview waits on it to load a URL
            handle.load_url(url)
            self.bring_to_front()

        threading.Thread(target=show, name="flaskdesk-tray-link", daemon=True).start()

    def notify(self, notification: Notification) -> None:
        """Show ``notification`` through the toolkit (a :class:`~.notifications.NotificationHost`)."""
        hooks = self._hooks
        if hooks is None:
            raise NotificationError(
                f"the {self.name} backend cannot show notifications: use the Qt backend "
                "(pip install 'flaskdesk[qt]' and backend = \"qt\")"
            )
        if not self._gui_running or self._main is None:
            raise NotificationError("notifications are shown through the app's window, and none is open")
        self._on_gui(lambda: hooks.notify(notification))

    def _run_action(self, action: Callable[[], object]) -> None:
        """A menu item's Python action: on a worker thread of its own (it may block or open a dialog)."""
        session = self._session

        def run() -> None:
            try:
                if session is not None and session.run_action is not None:
                    session.run_action(action)
                else:
                    action()
            except Exception:
                log.exception("the menu action %r failed", getattr(action, "__name__", action))

        threading.Thread(target=run, name="flaskdesk-menu-action", daemon=True).start()

    def _leave_splash(self, window: Any, url: str, on_shown: Callable[[WindowHandle], None] | None) -> None:
        """The splash is up: load the app; its first page replaces the splash when it arrives."""
        # The splash must have loaded (and so painted) first: a navigation started earlier cancels
        # it. The engine then keeps showing it until the app's first response arrives.
        if window.events.loaded.wait(_SPLASH_LOAD_SECONDS):
            _wait_for_a_painted_frame(window, _SPLASH_LOAD_SECONDS)
        with self._lock:
            if self._stop_requested or self._failure is not None:
                return
        self._handle(window).load_url(url)
        if on_shown is not None:
            window.events.loaded.wait()
            self._call_on_shown(on_shown, window)

    def _after_first_load(self, on_shown: Callable[[WindowHandle], None], window: Any) -> None:
        """``on_shown`` once the app's first page loaded (scheme: it is opened after the window shows)."""
        if not window.events.loaded.wait(_FIRST_LOAD_SECONDS):
            log.warning("the app's first page did not load within %.0f s", _FIRST_LOAD_SECONDS)
        self._call_on_shown(on_shown, window)

    def _call_on_shown(self, on_shown: Callable[[WindowHandle], None], window: Any) -> None:
        with self._lock:
            if self._stop_requested or self._failure is not None:
                return
        try:
            on_shown(self._handle(window))
        except Exception:
            log.exception("the on_shown callback failed")

    def _handle(self, window: Any) -> _WebviewWindowHandle:
        return _WebviewWindowHandle(window, scheme=self._scheme)

    def _start(self, webview: Any, **kwargs: Any) -> None:
        with self._lock:
            self._failure = None
            if self._stop_requested:
                return  # closed (by a signal) before the window ever existed
        with _SignalWatcher(self.close_all) as signals:
            self._signals = signals
            self._gui_running = True
            try:
                webview.start(gui=self.name, debug=False, **kwargs)
            except webview.WebViewException as error:
                raise BackendError(f"the {self.name} window could not open: {error}") from error
            finally:
                self._gui_running = False
                self._signals = None
                _release_stranded_js_calls(webview)
        if self._failure is not None:
            failure, self._failure = self._failure, None
            if isinstance(failure, BackendError):
                raise failure
            raise BackendError(f"the {self.name} window could not be set up: {failure}") from failure


class _BackendDialogs:
    """:class:`~flaskdesk.ui.dialogs.DialogHost` over a running :class:`WebviewBackend`.

    One dialog at a time (a second caller waits for the first to be answered); a caller waiting
    when the app closes gets ``None``/False.
    """

    def __init__(self, backend: WebviewBackend) -> None:
        self._backend = backend

    def file_dialog(self, request: FileDialogRequest) -> list[str] | None:
        hooks = self._backend._hooks
        if hooks is None:
            return self._native_file_dialog(request)
        result: list[str] | None = self._one_at_a_time(
            lambda window: hooks.file_dialog(window, request), None
        )
        return result

    def message_dialog(self, kind: MessageKind, title: str, message: str) -> bool:
        hooks = self._backend._hooks
        if hooks is None:
            return self._native_message(kind, title, message)
        return bool(
            self._one_at_a_time(lambda window: hooks.message_dialog(window, kind, title, message), False)
        )

    def _one_at_a_time(self, show: Callable[[Any], Any], cancelled: Any) -> Any:
        backend = self._backend
        while not backend._dialog_lock.acquire(timeout=_GUI_POLL_SECONDS):
            if not backend._gui_running:
                return cancelled
        try:

            def on_gui() -> Any:
                window = backend._frontmost()
                return cancelled if window is None else show(window)

            return backend._on_gui(on_gui, cancelled=cancelled)
        finally:
            backend._dialog_lock.release()

    # Native backends (WebView2, Cocoa): pywebview's own dialogs, which marshal themselves.

    def _native_file_dialog(self, request: FileDialogRequest) -> list[str] | None:
        window = self._backend._main
        if window is None:
            return None
        webview = _import_webview()
        kinds = {
            DialogKind.OPEN: webview.FileDialog.OPEN,
            DialogKind.SAVE: webview.FileDialog.SAVE,
            DialogKind.FOLDER: webview.FileDialog.FOLDER,
        }
        chosen = window.create_file_dialog(
            kinds[request.kind],
            directory=request.directory or "",
            allow_multiple=request.multiple,
            save_filename=request.filename or "",
            file_types=tuple(f"{name} ({';'.join(patterns)})" for name, patterns in request.file_types),
        )
        return [str(path) for path in chosen] if chosen else None

    def _native_message(self, kind: MessageKind, title: str, message: str) -> bool:
        window = self._backend._main
        if window is None:
            return False
        return bool(window.create_confirmation_dialog(title, message))


def _create_window(webview: Any, url: str | None, options: WindowOptions, **extra: Any) -> Any:
    """A pywebview window with the app's look (every window flaskdesk opens goes through here)."""
    return webview.create_window(
        options.title,
        url=url,
        width=options.width,
        height=options.height,
        min_size=options.min_size,
        resizable=options.resizable,
        background_color=options.background_color,
        text_select=True,  # a web app's text stays selectable, as in a browser
        **extra,
    )


def _release_stranded_js_calls(webview: Any) -> None:
    """Wake pywebview threads still waiting for a script result from a window that is gone.

    The GUI loop has ended, so those results never come; the waiting threads are not daemons and
    would keep the process alive for ever. Qt keeps the pending results on the native view, so
    they can be released (and later calls answered at once); other toolkits answer on close.
    """
    for window in list(getattr(webview, "windows", [])):
        native: Any = getattr(window, "native", None)
        pending = getattr(native, "_js_results", None)
        if not isinstance(pending, dict):
            continue
        native.evaluate_js = lambda script, parse_json=True: None
        for entry in list(pending.values()):
            semaphore = entry.get("semaphore") if isinstance(entry, dict) else None
            if semaphore is not None:
                semaphore.release()


class _WebviewWindowHandle:
    """:class:`~flaskdesk.ui.window.WindowHandle` over a pywebview window (thread-safe by pywebview)."""

    def __init__(self, window: Any, *, scheme: bool = False) -> None:
        self._window = window
        self._scheme = scheme  # app:// URLs: pywebview's load_url would rewrite them to its own server

    def load_url(self, url: str) -> None:
        if self._scheme:
            navigate(self._window, url)
        else:
            self._window.load_url(url)

    def evaluate_js(self, script: str) -> Any:
        return self._window.run_js(script)  # evaluate_js wraps in eval(), which the CSP forbids

    def get_current_url(self) -> str | None:
        url = self._window.get_current_url()
        return None if url is None else str(url)

    def destroy(self) -> None:
        self._window.destroy()


class _SignalWatcher:
    """SIGTERM/SIGINT → ``on_signal`` promptly, even while a toolkit's C main loop runs.

    Python runs signal handlers only between bytecodes of the main thread, and under Qt the main
    thread sits in C++ (pywebview's 500 ms no-op timer is all that wakes it). So
    ``signal.set_wakeup_fd`` makes the C-level handler write the signal number to a pipe at once,
    and a watcher thread reads it and calls ``on_signal`` (``close_all``): the window closes
    gracefully and ``run`` returns normally. PyGObject swaps in its own wakeup fd while GTK's loop
    runs (to run Python handlers promptly), so the Python-level handler writes to the same pipe
    too; the watcher is the one place that acts, and closing twice is harmless. Handlers, wakeup
    fd and thread are all restored or joined on exit.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, on_signal: Callable[[], None]) -> None:
        self._on_signal = on_signal
        self._previous: dict[int, Any] = {}
        self._previous_fd = -1
        self._read_fd = -1
        self._write_fd = -1
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _SignalWatcher:
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        self._previous = {signum: signal.getsignal(signum) for signum in self.SIGNALS}
        self.reinstall()
        self._previous_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        self._thread = threading.Thread(target=self._watch, name="flaskdesk-signal-watcher", daemon=True)
        self._thread.start()
        return self

    def reinstall(self) -> None:
        """(Re)install our Python-level handlers; they make the C handler write to the pipe."""
        for signum in self.SIGNALS:
            signal.signal(signum, self._noted)

    def _noted(self, signum: int, frame: Any) -> None:
        """The Python-level handler: pass the signal to the watcher (never act in a handler)."""
        with contextlib.suppress(OSError):  # pipe full (the watcher has plenty to act on)
            os.write(self._write_fd, bytes([signum]))

    def _watch(self) -> None:
        seen: set[int] = set()
        while True:
            try:
                data = os.read(self._read_fd, 64)
            except OSError:
                return
            if not data:
                return  # write end closed: run() is over
            for signum in data:
                if signum in self.SIGNALS:
                    # Each signal usually arrives twice (C wakeup byte, then the Python handler's).
                    level = logging.DEBUG if signum in seen else logging.INFO
                    log.log(level, "%s received: closing the window", signal.Signals(signum).name)
                    seen.add(signum)
                    self._on_signal()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        signal.set_wakeup_fd(self._previous_fd)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        os.close(self._write_fd)
        if self._thread is not None:
            self._thread.join(timeout=5)
        os.close(self._read_fd)


# --------------------------------------------------------------------------------------------------
# helpers


def _import_webview() -> Any:
    """Import pywebview (here only: importing it is the heavy part of opening a window)."""
    return importlib.import_module("webview")


def _save_as(hooks: ToolkitHooks, window: Any) -> Callable[[str], str | None]:
    """Where to save an attachment of an ``app://`` window: the save dialog over it (GUI thread)."""

    def ask(suggested: str) -> str | None:
        request = FileDialogRequest(DialogKind.SAVE, "Save", filename=suggested or None)
        chosen = hooks.file_dialog(window, request)
        return chosen[0] if chosen else None

    return ask


def _on_origin(policy: NavigationPolicy, url: str) -> bool:
    """Whether ``url`` is on ``policy``'s app origin (``http://127.0.0.1:PORT`` or ``app://flaskdesk``)."""
    if isinstance(policy, SchemeNavigationPolicy):
        return policy.owns(url)
    return origin_of(url) == policy.app_origin


def _require_main_thread(what: str) -> None:
    if threading.current_thread() is not threading.main_thread():
        raise BackendError(
            f"Backend.{what}() must be called on the main thread: GUI toolkits own it (run the "
            "server on a thread and the window on the main thread)"
        )


def _ensure_storage_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataDirError(
            f"cannot create the web storage directory {path}: {error.strerror}; check its permissions "
            "or point the app's data directory somewhere writable"
        ) from error
    if not os.access(path, os.W_OK):
        raise DataDirError(f"the web storage directory {path} is not writable; fix its permissions")
    return path.resolve()


_HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


def _check_color(color: str) -> None:
    if not _HEX_COLOR.match(color):
        raise ConfigError(f"background_color must be a hex colour like #1e1e1e or #fff, got {color!r}")


def _icon_path(icon: Path | None) -> str | None:
    """The icon as pywebview wants it, or ``None`` (with a warning) if the file is missing.

    A missing icon is not worth refusing to start over; GTK would raise on it inside the window
    set-up, so it is dropped here.
    """
    if icon is None:
        return None
    if not icon.is_file():
        log.warning("window icon %s does not exist; using the default icon", icon)
        return None
    return str(icon.resolve())
