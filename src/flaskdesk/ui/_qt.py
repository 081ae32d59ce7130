"""Qt WebEngine specifics: Chromium's environment, and the hooks on pywebview's Qt window.

pywebview builds the window (``webview/platforms/qt.py``: a ``BrowserView`` QMainWindow holding a
``QWebEngineView`` whose page uses a named ``QWebEngineProfile``); :meth:`QtHooks.attach` runs on
the GUI thread from pywebview's ``before_show`` event, after the page exists and before the event
loop has started its first navigation, and adds what flaskdesk needs on top:

* the navigation policy, on ``QWebEnginePage.navigationRequested`` (every main-frame and subframe
  navigation, redirects included) and on the page pywebview returns from ``createWindow`` for
  ``target=_blank`` / ``window.open`` (pywebview's own one hands *any* URL, ``file:`` included, to
  the browser);
* the page's background colour, so nothing white is painted before the first page arrives, and
  a truly fixed size for ``resizable=False``;
* the HTTP cache inside the app's storage dir (Qt's default is keyed by the executable's name,
  which every ``python``-launched app shares);
* in dev mode, in-process devtools on F12 (``QWebEnginePage.setDevToolsPage``) instead of
  pywebview's ``debug=True``, which opens a Chromium remote-debugging TCP port that any local
  process can use to drive the app;
* the menu bar (``QMenuBar`` of the window, ``QAction`` with real shortcuts; Edit items trigger
  the page's own ``WebAction``), downloads through a save dialog (``downloadRequested``), native
  dialogs (``QFileDialog``, ``QMessageBox``), window geometry, and a way to run code on the GUI
  thread from any other (:meth:`QtHooks.call_soon`, a queued signal);
* the tray icon (``QSystemTrayIcon`` with a ``QMenu``; Qt picks StatusNotifierItem or XEmbed on
  Linux), which off Linux also shows the app's notifications (``showMessage``).

Qt is imported inside functions only, so this module (and :func:`chromium_environment`, a pure
function) can be imported and tested without Qt installed.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BackendError
from .dialogs import DialogKind, FileDialogRequest, MessageKind
from .menu import Menu, MenuItem, Separator, qt_shortcut
from .navigation import NavigationPolicy, Verdict, carry_out
from .notifications import Notification
from .tray import Tray
from .window import WindowOptions
from .window_state import Rect, WindowState

if TYPE_CHECKING:
    from ._qt_enums import DeferredPromotion

log = logging.getLogger("flaskdesk.ui")

FLAGS_VAR = "QTWEBENGINE_CHROMIUM_FLAGS"
REMOTE_DEBUGGING_VAR = "QTWEBENGINE_REMOTE_DEBUGGING"
#: Flags by which a user already chose how Chromium starts its processes (then left as they are).
_PROCESS_MODEL_FLAGS = (
    "--no-zygote",
    "--zygote",
    "--no-unsandboxed-zygote",
    "--single-process",
    "--in-process",
)


@dataclass(frozen=True)
class EnginePlan:
    """Environment changes to make before Chromium starts, and warnings to log about the rest."""

    env: Mapping[str, str]
    warnings: tuple[str, ...] = ()


def chromium_environment(
    environ: Mapping[str, str], *, is_root: bool, zygotes: bool = sys.platform.startswith("linux")
) -> EnginePlan:
    """What to add to the environment before Qt WebEngine starts (pure: returns, never sets).

    Chromium refuses to start its sandbox as root, so root gets ``--no-sandbox``, appended to the
    user's own ``QTWEBENGINE_CHROMIUM_FLAGS`` (never replacing them) unless the sandbox is already
    off. Without the sandbox, Chromium's two zygote processes (which exist to fork sandboxed
    children) only hold memory, ~18 MB of the tree's PSS here: ``--no-zygote`` then starts the one
    renderer directly (Chromium accepts it only with the sandbox off). With the sandbox on, the
    renderers need the sandboxed zygote, but the second, *unsandboxed* one (~9 MB of PSS) only
    forks GPU and network processes, which Qt WebEngine keeps in the browser process:
    ``--no-unsandboxed-zygote`` leaves it out (a service that would have used it starts directly).
    Neither flag when the user already chose a process model, nor off Linux (``zygotes=False``),
    where Chromium has no zygotes. Remote debugging is never switched on here, in dev mode or not;
    a user who switched it on is told what that exposes, and their setting is left alone.
    """
    env: dict[str, str] = {}
    warnings: list[str] = []
    flags = environ.get(FLAGS_VAR, "")
    words = flags.split()
    added: list[str] = []
    sandbox_off = "--no-sandbox" in words or environ.get("QTWEBENGINE_DISABLE_SANDBOX") == "1"
    if is_root and not sandbox_off:
        added.append("--no-sandbox")
        sandbox_off = True
    if zygotes and not any(w.startswith(_PROCESS_MODEL_FLAGS) for w in words):
        added.append("--no-zygote" if sandbox_off else "--no-unsandboxed-zygote")
    if added:
        env[FLAGS_VAR] = " ".join([flags.strip(), *added]).lstrip()
    if environ.get(REMOTE_DEBUGGING_VAR):
        warnings.append(
            f"{REMOTE_DEBUGGING_VAR} is set: Chromium's remote debugging port lets any local process read "
            f"and drive this app's pages; unset it unless you are debugging (F12 opens devtools in dev mode)"
        )
    if any(w.startswith(("--remote-debugging-port", "--remote-debugging-pipe")) for w in words):
        warnings.append(
            f"{FLAGS_VAR} enables remote debugging: any local process can read and drive this app's "
            f"pages; remove --remote-debugging-* unless you are debugging"
        )
    return EnginePlan(env=env, warnings=tuple(warnings))


def _qt(module: str) -> Any:
    """A ``qtpy`` module, imported on use (qtpy picks the same binding pywebview uses)."""
    return importlib.import_module(f"qtpy.{module}")


def _is_root() -> bool:
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0


#: After the first page loads, how long the GUI thread waits before adding qtpy's remaining enum
#: names (~0.08 s of work; see :mod:`flaskdesk.ui._qt_enums`).
_ENUM_PROMOTION_DELAY_MS = 300

_WEB_ACTIONS = {
    "undo": "Undo",
    "redo": "Redo",
    "cut": "Cut",
    "copy": "Copy",
    "paste": "Paste",
    "select_all": "SelectAll",
}


class QtHooks:
    """flaskdesk's additions to a pywebview Qt window (see the module docstring)."""

    name = "qt"

    def __init__(self, enum_promotion: DeferredPromotion | None = None) -> None:
        self._enum_promotion = enum_promotion  # the rest of qtpy's enum names, after the first load
        self._invoker: Any = None  # a QObject living on the GUI thread (made in the first attach)
        self._open_dialogs: list[Any] = []
        self._tray_icon: Any = None  # the QSystemTrayIcon and its QMenu, kept alive while shown
        self._tray_menu: Any = None

    def prepare(self) -> None:
        """Set Chromium's environment; must run before the first ``QWebEngineProfile`` exists."""
        plan = chromium_environment(os.environ, is_root=_is_root())
        os.environ.update(plan.env)
        for warning in plan.warnings:
            log.warning("%s", warning)

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
        """Install the hooks on pywebview ``window`` (GUI thread, from ``before_show``).

        ``trust_first_navigation`` lets the page's own first load through (the error window's
        inline HTML arrives as a ``data:`` URL, which the policy would refuse). ``menus`` become
        the window's menu bar; ``run_action`` runs a menu item's Python callable off the GUI
        thread; ``downloads`` saves attachments through a save dialog.
        """
        if self._invoker is None:
            self._invoker = _make_invoker()
        qt_core, qt_gui = _qt("QtCore"), _qt("QtGui")

        browser = window.native
        view = getattr(browser, "webview", None)
        page = view.page() if view is not None else None
        if view is None or page is None or not hasattr(page, "nav_handler"):
            raise BackendError(
                "pywebview's Qt window no longer has the page flaskdesk hooks into (BrowserView.webview"
                ".page().nav_handler); install the pywebview version flaskdesk supports (pip install "
                "'pywebview>=5.3,<7')"
            )
        profile = page.profile()
        if storage_dir is not None:
            _check_storage(profile, storage_dir)
            # Keep the HTTP cache with the rest of this app's web data (see module docstring).
            profile.setCachePath(str(storage_dir / "cache"))
        page.setBackgroundColor(qt_gui.QColor(options.background_color))
        if not options.resizable:
            # pywebview applies min_size after setFixedSize, which lets the window shrink again.
            browser.setFixedSize(options.width, options.height)

        trusted = [trust_first_navigation]

        def on_navigation(request: Any) -> None:
            url = request.url().toString()
            if trusted[0]:
                trusted[0] = False
                return
            verdict = policy.decide(url, main_frame=request.isMainFrame())
            if not carry_out(verdict, url):
                request.reject()

        def load_here(url: Any) -> None:
            view.setUrl(qt_core.QUrl(url))

        page.navigationRequested.connect(on_navigation)
        # Chromium hands schemes it cannot load (mailto:, custom ones) straight to
        # QDesktopServices.openUrl after a click, skipping the page's checks unless those are asked
        # first. "Allow all" is what routes every such URL through navigationRequested above
        # (Qt asks the page before opening anything), where the policy refuses all but mailto:.
        web_settings = _qt("QtWebEngineCore").QWebEngineSettings
        settings = page.settings()
        settings.setUnknownUrlSchemePolicy(web_settings.UnknownUrlSchemePolicy.AllowAllUnknownUrlSchemes)
        # Popups only from a user's click, as in WebKitGTK and browsers (no browser-tab spam).
        settings.setAttribute(web_settings.WebAttribute.JavascriptCanOpenWindows, False)
        new_window_page = _new_window_page(profile, browser, policy, load_here)
        page.nav_handler = new_window_page
        if dev:
            _add_devtools_shortcut(browser, page)
        if self._enum_promotion is not None:
            promotion, self._enum_promotion = self._enum_promotion, None
            # Once the first page is up, and a little later, so its first frame is painted first.
            page.loadFinished.connect(
                lambda _ok: qt_core.QTimer.singleShot(_ENUM_PROMOTION_DELAY_MS, promotion.finish)
            )
        if menus:
            _add_menu_bar(browser, page, menus, policy, load_here, run_action)
        if downloads:
            theirs = getattr(browser, "on_download_requested", None)
            if theirs is not None:  # pywebview's own (settings["ALLOW_DOWNLOADS"]): one dialog, ours
                with contextlib.suppress(TypeError, RuntimeError):
                    profile.downloadRequested.disconnect(theirs)
            profile.downloadRequested.connect(lambda download: self._download(window, page, download))

    @contextlib.contextmanager
    def sharing_profile(self, main_window: Any) -> Iterator[None]:
        """While a second window is created (GUI thread, synchronously): give it the main window's profile.

        pywebview makes a new ``QWebEngineProfile('pywebview')`` per window; two profile objects on
        one storage path fight over the HTTP cache and the cookie database (the second window's
        loads stall). Every window of the app must share one profile, as tabs of a browser do.
        """
        platform = sys.modules.get("webview.platforms.qt")
        view = getattr(getattr(main_window, "native", None), "webview", None)
        if platform is None or view is None or not hasattr(platform, "QWebEngineProfile"):
            raise BackendError(
                "pywebview's Qt module no longer makes its profile where flaskdesk expects "
                "(webview.platforms.qt.QWebEngineProfile); install the pywebview version flaskdesk supports"
            )
        shared = view.page().profile()
        original = getattr(platform, "QWebEngineProfile")  # noqa: B009  # a module attribute, swapped
        setattr(platform, "QWebEngineProfile", lambda *_args: shared)  # noqa: B010
        try:
            yield
        finally:
            setattr(platform, "QWebEngineProfile", original)  # noqa: B010

    # -- running code on the GUI thread -----------------------------------------------------------

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the GUI thread (from any thread; queued behind what the GUI is doing)."""
        if self._invoker is None:
            raise BackendError("the Qt window is not up yet")
        self._invoker.call.emit(fn)

    # -- dialogs (GUI thread) ---------------------------------------------------------------------

    def file_dialog(self, window: Any, request: FileDialogRequest) -> list[str] | None:
        """Show a ``QFileDialog`` over ``window``; the chosen paths or ``None``."""
        widgets = _qt("QtWidgets")
        file_dialog = widgets.QFileDialog
        dialog = file_dialog(window.native, request.title, request.directory or "")
        if request.kind is DialogKind.FOLDER:
            dialog.setFileMode(file_dialog.FileMode.Directory)
            dialog.setOption(file_dialog.Option.ShowDirsOnly, True)
        elif request.kind is DialogKind.SAVE:
            dialog.setAcceptMode(file_dialog.AcceptMode.AcceptSave)
            dialog.setFileMode(file_dialog.FileMode.AnyFile)
            if request.filename:
                dialog.selectFile(request.filename)
        else:
            dialog.setFileMode(
                file_dialog.FileMode.ExistingFiles if request.multiple else file_dialog.FileMode.ExistingFile
            )
        if request.file_types:
            dialog.setNameFilters([f"{name} ({' '.join(patterns)})" for name, patterns in request.file_types])
        chosen: list[str] | None = self._run_dialog(
            dialog, lambda: [str(path) for path in dialog.selectedFiles()] or None
        )
        return chosen

    def message_dialog(self, window: Any, kind: MessageKind, title: str, message: str) -> bool:
        """Show a ``QMessageBox``; for a question, True when OK was chosen."""
        box_class = _qt("QtWidgets").QMessageBox
        icons = {
            MessageKind.INFO: box_class.Icon.Information,
            MessageKind.WARNING: box_class.Icon.Warning,
            MessageKind.ERROR: box_class.Icon.Critical,
            MessageKind.QUESTION: box_class.Icon.Question,
        }
        buttons = box_class.StandardButton.Ok
        if kind is MessageKind.QUESTION:
            buttons = box_class.StandardButton.Ok | box_class.StandardButton.Cancel
        box = box_class(icons[kind], title, message, buttons, window.native)
        answer = self._run_dialog(box, lambda: box.clickedButton() is box.button(box_class.StandardButton.Ok))
        return bool(answer)

    def _run_dialog(self, dialog: Any, result: Callable[[], Any]) -> Any:
        self._open_dialogs.append(dialog)
        try:
            accepted = dialog.exec()
        finally:
            self._open_dialogs.remove(dialog)
        value = result() if accepted or isinstance(dialog, _qt("QtWidgets").QMessageBox) else None
        dialog.deleteLater()
        return value

    def cancel_dialogs(self) -> None:
        """Close every open dialog as cancelled (GUI thread; the app is closing)."""
        for dialog in list(self._open_dialogs):
            dialog.reject()

    def _download(self, window: Any, page: Any, download: Any) -> None:
        """An attachment: ask where to save it, then let Chromium save it there (or cancel)."""
        if download.page() is not page or download.isSavePageDownload():
            return  # another window's (each has its own profile object) or "save page as"
        request = FileDialogRequest(
            DialogKind.SAVE,
            "Save",
            directory=download.downloadDirectory() or None,
            filename=download.downloadFileName() or None,
        )
        chosen = self.file_dialog(window, request)
        if not chosen:
            log.info("download of %s cancelled", download.downloadFileName())
            download.cancel()
            return
        target = Path(chosen[0])
        download.setDownloadDirectory(str(target.parent))
        download.setDownloadFileName(target.name)

        def finished() -> None:
            if download.isFinished():
                state = download.state()
                ok = state == type(state).DownloadCompleted
                log.info("download %s: %s", "saved to" if ok else "failed for", target)

        download.isFinishedChanged.connect(finished)
        download.accept()

    # -- tray icon and notifications (GUI thread) ---------------------------------------------------

    def show_tray(
        self, tray: Tray, *, on_activate: Callable[[], None], on_choose: Callable[[MenuItem], None]
    ) -> None:
        """Show ``tray`` as a ``QSystemTrayIcon``: a click calls ``on_activate``, an item ``on_choose``."""
        widgets = _qt("QtWidgets")
        tray_class = widgets.QSystemTrayIcon
        if not tray_class.isSystemTrayAvailable():
            log.info("no system tray is running yet; the tray icon appears when one starts")
        icon = self._tray_icon
        if icon is None:
            icon = tray_class(_qt_icon(tray.icon), widgets.QApplication.instance())
            reasons = (tray_class.ActivationReason.Trigger, tray_class.ActivationReason.DoubleClick)
            icon.activated.connect(lambda reason: on_activate() if reason in reasons else None)
        else:
            icon.setIcon(_qt_icon(tray.icon))
        icon.setToolTip(tray.tooltip)
        menu = widgets.QMenu()
        for entry in tray.items:
            if isinstance(entry, Separator):
                menu.addSeparator()
                continue
            action = menu.addAction(entry.label)
            action.triggered.connect(lambda _checked=False, item=entry: on_choose(item))
        icon.setContextMenu(menu if tray.items else None)
        self._tray_icon, self._tray_menu = icon, menu
        icon.show()

    def hide_tray(self) -> None:
        """Take the tray icon away (the app is closing; Windows would keep a dead icon otherwise)."""
        icon, self._tray_icon, self._tray_menu = self._tray_icon, None, None
        if icon is not None:
            icon.hide()
            icon.deleteLater()

    def notify(self, notification: Notification) -> None:
        """Show ``notification`` as a tray message (how Qt notifies on Windows and macOS).

        Qt shows messages through a visible tray icon: an app without one gets its icon in the tray
        from the first notification on.
        """
        widgets = _qt("QtWidgets")
        icon = self._tray_icon
        if icon is None:
            icon = widgets.QSystemTrayIcon(_qt_icon(None), widgets.QApplication.instance())
            icon.setToolTip(notification.app_name)
            icon.show()
            self._tray_icon = icon
        shown_for = 10_000 if notification.timeout is None else round(notification.timeout * 1000)
        icon.showMessage(
            notification.title,
            notification.body,
            _qt_icon(notification.icon) if notification.icon is not None else icon.icon(),
            min(shown_for or 2**31 - 1, 2**31 - 1),
        )

    # -- window state (GUI thread) ----------------------------------------------------------------

    def present(self, window: Any) -> None:
        """Un-minimise, raise and focus ``window``."""
        browser = window.native
        if browser.isMinimized():
            browser.showNormal()
        browser.raise_()
        browser.activateWindow()

    def screens(self) -> list[Rect]:
        app = _qt("QtWidgets").QApplication.instance()
        if app is None:
            return []
        return [
            Rect(g.x(), g.y(), g.width(), g.height())
            for g in (screen.availableGeometry() for screen in app.screens())
        ]

    def can_position(self) -> bool:
        """Wayland does not let a client place its windows."""
        return not str(_qt("QtGui").QGuiApplication.platformName()).startswith("wayland")

    def apply_state(self, window: Any, state: WindowState) -> None:
        """Size (and position, maximized) ``window`` before it is first shown (from ``before_show``)."""
        browser = window.native
        browser.resize(state.width, state.height)
        if state.x is not None and state.y is not None:
            browser.move(state.x, state.y)
        if state.maximized:
            window.maximized = True  # pywebview reads it after before_show: showMaximized()

    def read_state(self, window: Any) -> WindowState | None:
        """``window``'s size, position and maximized state now (normal geometry when maximized)."""
        browser = window.native
        maximized = bool(browser.isMaximized())
        if maximized:
            normal = browser.normalGeometry()
            return WindowState(normal.width(), normal.height(), normal.x(), normal.y(), True)
        position = browser.pos()
        return WindowState(browser.width(), browser.height(), position.x(), position.y(), False)


def _qt_icon(path: Path | None) -> Any:
    """``path`` as a ``QIcon``; without one, the app's window icon, else Qt's generic computer icon."""
    qt_gui, widgets = _qt("QtGui"), _qt("QtWidgets")
    if path is not None:
        icon = qt_gui.QIcon(str(path))
        if not icon.isNull():
            return icon
        log.warning("the tray icon %s cannot be read; using the default icon", path)
    app = widgets.QApplication.instance()
    icon = app.windowIcon() if app is not None else qt_gui.QIcon()
    if icon.isNull() and app is not None:
        icon = app.style().standardIcon(widgets.QStyle.StandardPixmap.SP_ComputerIcon)
    return icon


def _check_storage(profile: Any, storage_dir: Path) -> None:
    """Fail closed if pywebview did not give the profile the app's storage dir.

    pywebview reads its storage path when ``webview.platforms.qt`` is first imported; if something
    imported it before ``webview.start(storage_path=...)``, web data would go to ``~/.pywebview``
    and be shared between apps.
    """
    actual = profile.persistentStoragePath()
    if profile.isOffTheRecord() or Path(actual) != storage_dir:
        raise BackendError(
            f"the Qt web profile stores data in {actual or '(memory only)'} instead of {storage_dir}; "
            "webview.platforms.qt was imported before the window started. Import flaskdesk's UI "
            "only through flaskdesk.ui.backend"
        )


def _new_window_page(profile: Any, parent: Any, policy: NavigationPolicy, load_here: Any) -> Any:
    """The page handed back for ``target=_blank`` / ``window.open``: never shown, only consulted.

    Every navigation it is asked to make is refused; same-origin URLs are loaded in the main
    window instead (flaskdesk apps have one window), external ones go to the browser.
    """

    class NewWindowPage(_qt("QtWebEngineWidgets").QWebEnginePage):  # type: ignore[misc]  # Qt classes are untyped here
        def acceptNavigationRequest(self, url: Any, navigation_type: Any, is_main_frame: bool) -> bool:
            text = url.toString()
            verdict = policy.decide(text, main_frame=True, new_window=True)
            if verdict is Verdict.ALLOW:
                load_here(url)
            else:
                carry_out(verdict, text)
            return False

    return NewWindowPage(profile, parent)


def _add_devtools_shortcut(browser: Any, page: Any) -> None:
    """F12 toggles Chromium devtools in a window of its own, in process (no debugging port)."""
    qt_core, qt_gui, qt_web = _qt("QtCore"), _qt("QtGui"), _qt("QtWebEngineWidgets")
    holder: list[Any] = []

    def toggle() -> None:
        if not holder:
            tools = qt_web.QWebEngineView()
            tools.setParent(browser, qt_core.Qt.WindowType.Window)
            tools.setWindowTitle(f"Developer tools - {browser.windowTitle()}")
            tools.resize(900, 640)
            page.setDevToolsPage(tools.page())
            holder.append(tools)
        tools = holder[0]
        tools.setVisible(not tools.isVisible())

    shortcut = qt_gui.QShortcut(qt_gui.QKeySequence("F12"), browser)
    shortcut.activated.connect(toggle)


def _make_invoker() -> Any:
    """A QObject on the GUI thread whose ``call`` signal, emitted from any thread, runs a function there."""
    qt_core = _qt("QtCore")

    class Invoker(qt_core.QObject):  # type: ignore[misc,name-defined]  # Qt classes are untyped here
        call = qt_core.Signal(object)

        def __init__(self) -> None:
            super().__init__()
            self.call.connect(self._run, qt_core.Qt.ConnectionType.QueuedConnection)

        def _run(self, fn: Callable[[], None]) -> None:
            try:
                fn()
            except Exception:
                log.exception("a function run on the GUI thread failed")

    return Invoker()


def _readable_on_window_colour(widget: Any, qt_gui: Any) -> None:
    """Light text on a dark window colour: pywebview paints the window (menu bar included) in the
    app's background colour but leaves the text colours dark."""
    palette = widget.palette()
    roles = qt_gui.QPalette.ColorRole
    if palette.color(roles.Window).lightnessF() >= 0.5:
        return
    light = qt_gui.QColor("#e8e8e8")
    for role in (roles.WindowText, roles.ButtonText, roles.Text):
        palette.setColor(role, light)
    widget.setPalette(palette)


def _add_menu_bar(
    browser: Any,
    page: Any,
    menus: tuple[Menu, ...],
    policy: NavigationPolicy,
    load_here: Callable[[str], None],
    run_action: Callable[[Callable[[], object]], None] | None,
) -> None:
    """The window's menu bar; shortcuts are real ``QAction`` shortcuts, Edit items act on the page."""
    qt_gui, web = _qt("QtGui"), _qt("QtWebEngineCore").QWebEnginePage
    menu_bar = browser.menuBar()
    menu_bar.setNativeMenuBar(False)
    _readable_on_window_colour(menu_bar, qt_gui)

    def handler(item: MenuItem) -> Callable[[], None]:
        if item.role is not None:
            action = getattr(web.WebAction, _WEB_ACTIONS[item.role])
            return lambda: page.triggerAction(action)
        if item.route is not None:
            route = item.route
            return lambda: load_here(f"{policy.app_origin}{route}")
        function = item.action
        assert function is not None
        if run_action is None:
            return lambda: None
        return lambda: run_action(function)

    for menu in menus:
        qmenu = menu_bar.addMenu(menu.title)
        for entry in menu.items:
            if isinstance(entry, Separator):
                qmenu.addSeparator()
                continue
            action = qt_gui.QAction(entry.label, browser)
            if entry.shortcut:
                action.setShortcut(qt_gui.QKeySequence(qt_shortcut(entry.shortcut)))
            triggered = handler(entry)
            action.triggered.connect(lambda _checked=False, run=triggered: run())
            qmenu.addAction(action)
