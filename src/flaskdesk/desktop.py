"""``Desktop``: the runtime's front door.

It is a Flask extension in the usual shape (``Desktop(app)`` or ``Desktop()`` then ``init_app``):
it records the window settings and the exposed bridge functions on ``app.extensions["flaskdesk"]``,
so every tool that loads an app by target finds them, and ``run()`` hands over to the launcher.
Nothing here changes how the app behaves when it is deployed as a website: the guard wraps only
the WSGI callable flaskdesk serves, and the template helpers render nothing outside flaskdesk.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from flask import Flask, got_request_exception, has_request_context, request
from markupsafe import Markup

from . import resources
from .app.guard import SCRIPT_PATH, log_request_exception
from .app.paths import relocate_instance_path
from .automation import AutomationChannel
from .config import TRANSPORTS
from .errors import ConfigError, WindowError
from .settings import DesktopArgs, LaunchSettings, project_config_for, resolve_settings
from .store import SettingsStore
from .ui.bridge import Bridge
from .ui.dialogs import DialogHost, Dialogs
from .ui.menu import Menu, MenuItem, Separator, build_menus
from .ui.notifications import Notifications
from .ui.tray import Tray, build_tray
from .ui.window import WindowHandle, WindowManager, WindowOptions

if TYPE_CHECKING:
    from .instance import SingleInstance

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("flaskdesk")


class Desktop:
    """Runs a Flask app as a desktop application.

    ``title``, ``width``, ``height``, ``min_size``, ``resizable``, ``icon`` and ``background_color``
    shape the window (a relative ``icon`` is taken from the app's root folder, as Flask's
    ``static_folder`` is); ``name`` names the app's data directories (default: ``[tool.flaskdesk] name``,
    else the title); ``backend`` picks ``"qt"`` or ``"gtk"`` on Linux; ``shutdown_timeout`` is how
    long in-flight requests may take to finish once the window closes; ``csp`` replaces the default
    Content-Security-Policy; ``single_instance=False`` lets several copies run at once;
    ``transport="scheme"`` serves the app to its window over ``app://`` in-process, with no TCP port
    (default ``"loopback"``: HTTP on 127.0.0.1; see :doc:`/guide/transport`). Each can also come
    from ``[tool.flaskdesk]`` or the environment.

    ``splash`` is shown at once while the first page loads: HTML (a string starting with ``<``) or
    the name of a template in the app's template folder. ``menu=False`` leaves out the menu bar
    (the standard Edit menu and the items added with :meth:`menu_item`).

    ``tray_icon`` (an image file; relative paths are taken from the app's root folder) and
    ``tray_tooltip`` (default: the title) shape the tray icon, which is shown when the app gives a
    ``tray_icon`` or adds items with :meth:`tray_item` / :meth:`tray_link` (its icon then defaults
    to the window's).
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        title: str | None = None,
        width: int | None = None,
        height: int | None = None,
        min_size: tuple[int, int] | None = None,
        resizable: bool | None = None,
        icon: str | os.PathLike[str] | None = None,
        background_color: str | None = None,
        backend: str | None = None,
        name: str | None = None,
        shutdown_timeout: float | None = None,
        csp: str | None = None,
        single_instance: bool | None = None,
        transport: str | None = None,
        splash: str | None = None,
        menu: bool = True,
        tray_icon: str | os.PathLike[str] | None = None,
        tray_tooltip: str | None = None,
    ) -> None:
        self.args = DesktopArgs(
            title=title,
            width=width,
            height=height,
            min_size=min_size,
            resizable=resizable,
            icon=icon,
            background_color=background_color,
            backend=backend,
            name=name,
            shutdown_timeout=shutdown_timeout,
            csp=csp,
            single_instance=single_instance,
            transport=_check_transport(transport),
        )
        self.bridge = Bridge()
        self.app: Flask | None = None
        self._teardown: list[Callable[[], None]] = []
        self.splash = splash
        self.menu = menu
        self.tray_icon = tray_icon
        self.tray_tooltip = tray_tooltip
        self._tray_items: list[MenuItem | Separator] = []
        self._notifications = Notifications(self._notification_defaults, lambda: self._windows)
        #: Native dialogs over the app's window (while it runs): ``desktop.dialogs.open_file()``...
        self.dialogs = Dialogs(self._dialog_host)
        self._settings: SettingsStore | None = None
        self._settings_lock = threading.Lock()
        self._menus: list[tuple[str, list[MenuItem | Separator]]] = []
        self._second_instance_hooks: list[Callable[..., None]] = []
        self._windows: WindowManager | None = None  # set by the launch while the window runs
        self._instance: SingleInstance | None = None  # the single-instance lock, while held
        for function_name, fn in self.dialogs.bridge_functions().items():
            self.bridge.expose_internal(f"dialogs.{function_name}", fn)
        self.bridge.expose_internal("windows.open", self._open_window_from_page)
        self.bridge.expose_internal("notifications.show", self._notify_from_page)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Register on ``app`` (``app.extensions["flaskdesk"]``) and add the template helpers."""
        if not isinstance(app, Flask):
            raise ConfigError(
                f"Desktop() needs a Flask application, but it was given a {type(app).__name__} "
                f"({app!r:.80}). "
                "Pass the object you created with Flask(__name__), or call desktop.init_app(app) inside your "
                "app factory."
            )
        app.extensions["flaskdesk"] = self
        self.app = app
        app.jinja_env.globals.setdefault("flaskdesk_script", _flaskdesk_script)
        app.jinja_env.globals.setdefault("csp_nonce", _csp_nonce)
        got_request_exception.connect(log_request_exception, app, weak=False)
        if _runs_as_main(app) or resources.is_frozen():
            # Run as a script or frozen: this process is the desktop app, so its instance folder
            # belongs in the user's data dir before other extensions read it.
            self.relocate_instance_path(app)

    def relocate_instance_path(self, app: Flask) -> bool:
        """Point ``app.instance_path`` into the per-user data dir unless the app chose one."""
        from .app.paths import AppPaths

        settings = self.launch_settings(app)
        paths = AppPaths.for_app(settings.name, data_root=settings.data_dir)
        moved = relocate_instance_path(app, paths.instance_dir)
        if moved:
            already = sorted(set(app.extensions) - {"flaskdesk"})
            if already:
                log.warning(
                    "Moved %s's instance folder to %s after the extensions %s were set up; if they "
                    "stored paths under the old instance folder, create Desktop(app) before them.",
                    app.name,
                    paths.instance_dir,
                    ", ".join(already),
                )
        return moved

    @overload
    def expose(self, fn: F) -> F: ...
    @overload
    def expose(self, fn: None = None, *, name: str | None = None) -> Callable[[F], F]: ...
    def expose(self, fn: F | None = None, *, name: str | None = None) -> F | Callable[[F], F]:
        """Make ``fn`` callable from the app's pages as ``await flaskdesk.api.NAME(...)``.

        Only functions registered here can be called, by exact name.
        """
        if fn is None:
            return lambda f: self.bridge.expose(f, name=name)
        return self.bridge.expose(fn, name=name)

    def teardown(self, fn: Callable[[], None]) -> Callable[[], None]:
        """Register ``fn`` to run (inside an app context) after the window closed and requests drained."""
        self._teardown.append(fn)
        return fn

    def run_teardown(self) -> None:
        """Run app teardown: the registered callbacks, then Flask's app-context teardown functions."""
        app = self._require_app()
        with app.app_context():
            for fn in self._teardown:
                try:
                    fn()
                except Exception:
                    log.exception("teardown function %r failed", fn)

    def launch_settings(
        self, app: Flask | None = None, cli: Mapping[str, Any] | None = None
    ) -> LaunchSettings:
        """Resolve this launch's settings (window size, name, backend...).

        Precedence: command line, environment, pyproject, ``Desktop(...)`` arguments, defaults.
        (Called ``settings()`` before 0.2; ``desktop.settings`` is now the user's settings store.)
        """
        app = app or self._require_app()
        args = self.args
        if args.icon is not None and not Path(args.icon).is_absolute():
            # As Flask's folders: relative to the app, so a frozen app started anywhere finds it.
            args = dataclasses.replace(args, icon=Path(app.root_path, args.icon))
        return resolve_settings(
            args,
            default_name=app.name if app.name != "__main__" else _script_name(),
            project=project_config_for(app.root_path),
            cli=cli,
        )

    # -- the settings store --------------------------------------------------------------------------

    @property
    def settings(self) -> SettingsStore:
        """The app's settings store: a JSON-backed mapping in the user's config dir, saved on every change.

        ``desktop.settings["theme"] = "dark"`` is written at once (atomically); usable before
        ``run()``. The file is ``<config dir>/settings.json``; ``desktop.settings.defaults`` holds
        values for keys the file does not set.
        """
        with self._settings_lock:
            if self._settings is None:
                self._settings = SettingsStore(self._settings_path)
            return self._settings

    def _settings_path(self) -> Path:
        from .app.paths import AppPaths

        settings = self.launch_settings()
        return AppPaths.for_app(settings.name, data_root=settings.data_dir).config_dir / "settings.json"

    # -- single instance -------------------------------------------------------------------------------

    def on_second_instance(self, fn: F) -> F:
        """Call ``fn(argv)`` when the app is launched again while it runs (the window comes to the front).

        ``argv`` is the later launch's ``sys.argv`` (a file to open, for example); a function that
        takes a second argument also gets that launch's working directory, to resolve relative
        paths. Runs in the app context, on a background thread.
        """
        self._second_instance_hooks.append(fn)
        return fn

    def _second_instance(self, app: Flask, argv: list[str], cwd: str) -> None:
        """A later launch handed over its arguments: come to the front, then tell the app."""
        self.bring_to_front()
        with app.app_context():
            for fn in self._second_instance_hooks:
                try:
                    if _takes_two(fn):
                        fn(list(argv), cwd)
                    else:
                        fn(list(argv))
                except Exception:
                    log.exception("on_second_instance function %r failed", fn)

    # -- menus -----------------------------------------------------------------------------------------

    def menu_item(self, menu: str, label: str, *, shortcut: str | None = None) -> Callable[[F], F]:
        """Add ``label`` to the menu ``menu`` (created on first use); choosing it calls the function.

        The function runs in the app context on a worker thread (it may open dialogs).
        ``shortcut`` is like ``"Ctrl+E"`` or ``"CmdOrCtrl+Shift+E"``.
        """

        def register(fn: F) -> F:
            self._menu(menu).append(MenuItem(label, action=fn, shortcut=shortcut))
            return fn

        return register

    def menu_link(self, menu: str, label: str, route: str, *, shortcut: str | None = None) -> None:
        """Add ``label`` to the menu ``menu``; choosing it shows ``route`` (an app path) in that window."""
        self._menu(menu).append(MenuItem(label, route=route, shortcut=shortcut))

    def menu_separator(self, menu: str) -> None:
        """Add a separator line to the menu ``menu``."""
        self._menu(menu).append(Separator())

    def _menu(self, title: str) -> list[MenuItem | Separator]:
        for existing, items in self._menus:
            if existing == title:
                return items
        items = []
        self._menus.append((title, items))
        return items

    def _menu_bar(self) -> tuple[Menu, ...]:
        if not self.menu:
            return ()
        return build_menus([Menu(title, tuple(items)) for title, items in self._menus])

    # -- the tray icon and notifications ---------------------------------------------------------------

    def tray_item(self, label: str) -> Callable[[F], F]:
        """Add ``label`` to the tray icon's menu (so the app has a tray icon); choosing it calls the function.

        The function runs in the app context on a worker thread, as for :meth:`menu_item`.
        """

        def register(fn: F) -> F:
            self._tray_items.append(MenuItem(label, action=fn))
            return fn

        return register

    def tray_link(self, label: str, route: str) -> None:
        """Add ``label`` to the tray icon's menu; choosing it shows ``route`` in the main window, in front."""
        self._tray_items.append(MenuItem(label, route=route))

    def tray_separator(self) -> None:
        """Add a separator line to the tray icon's menu."""
        self._tray_items.append(Separator())

    def notify(
        self,
        title: str,
        body: str = "",
        *,
        icon: str | os.PathLike[str] | None = None,
        timeout: float | None = None,
    ) -> None:
        """Show a desktop notification: ``title``, and ``body`` as plain text under it.

        ``icon`` is an image file (default: the tray icon, else the window icon); ``timeout`` is how
        long it stays, in seconds (default: the desktop's choice; ``0``: until dismissed). Usable from
        any thread. On Linux it works with or without a window (D-Bus); on Windows and macOS it
        needs the Qt backend and an open window. Raises :class:`~flaskdesk.NotificationError`
        (with what to do) when no notification can be shown.
        """
        self._notifications.show(title, body, icon=icon, timeout=timeout)

    def _notify_from_page(self, title: str, body: str = "", timeout: float | None = None) -> None:
        """``flaskdesk.notifications.show(title, body, {timeout})`` from page script (the app's icon)."""
        self.notify(title, body, timeout=timeout)

    def _tray_icon_file(self, app: Flask, settings: LaunchSettings) -> Path | None:
        if self.tray_icon is None:
            return settings.icon
        return Path(app.root_path, self.tray_icon)  # an absolute tray_icon stays as it is

    def _tray(self, app: Flask, settings: LaunchSettings) -> Tray | None:
        """The tray icon this launch shows, or ``None`` when the app declares none."""
        if not self._tray_items and self.tray_icon is None:
            return None
        icon = self._tray_icon_file(app, settings)
        if icon is not None and not icon.is_file():
            log.warning("tray icon %s does not exist; using the default icon", icon)
            icon = None
        return build_tray(self._tray_items, tooltip=self.tray_tooltip or settings.title, icon=icon)

    def _notification_defaults(self) -> tuple[str, Path | None]:
        """The name notifications are shown under, and their default icon."""
        app = self._require_app()
        settings = self.launch_settings(app)
        return settings.title, self._tray_icon_file(app, settings)

    # -- the running window ------------------------------------------------------------------------

    def open_window(
        self,
        path: str = "/",
        *,
        title: str | None = None,
        width: int | None = None,
        height: int | None = None,
        name: str | None = None,
    ) -> WindowHandle:
        """Open another window on ``path`` of the app (while the app runs); returns its handle.

        It shares the server, the sign-in and the navigation rules of the main window. ``name``
        (default: the path) is what its size and position are remembered under. Closing the main
        window closes the others.
        """
        windows = self._require_windows()
        if not isinstance(path, str) or not path.startswith("/") or path.startswith("//") or "\\" in path:
            raise WindowError(f"open_window() takes a path of the app such as '/settings', not {path!r}")
        app = self._require_app()
        base = self.launch_settings(app)
        options = WindowOptions(
            title=title or base.title,
            width=width or base.width,
            height=height or base.height,
            min_size=(
                min(base.min_size[0], width or base.width),
                min(base.min_size[1], height or base.height),
            ),
            resizable=True,
            icon=base.icon,
            background_color=base.background_color,
        )
        key = name or path.split("?", 1)[0].split("#", 1)[0]
        return windows.open_window(path, options, key=f"window:{key}")

    def _open_window_from_page(
        self, path: str, title: str | None = None, width: int | None = None, height: int | None = None
    ) -> None:
        """``flaskdesk.windows.open(path, {title, width, height})`` from page script."""
        self.open_window(path, title=title, width=width, height=height)

    def bring_to_front(self) -> None:
        """Show the main window on top of others (no effect when no window is open)."""
        if self._windows is not None:
            self._windows.bring_to_front()

    def _splash_html(self, app: Flask) -> str | None:
        """The splash page: the HTML given, or the named template rendered (it must be self-contained)."""
        splash = self.splash
        if not splash:
            return None
        if splash.lstrip().startswith("<"):
            return splash
        from flask import render_template

        with app.test_request_context("/"):
            return render_template(splash)

    def _adopt_window(self, running: Desktop) -> None:
        """Reach the window ``running`` (the Desktop the launch started) runs: dev mode's reloaded app."""
        self._windows = running._windows

    def _dialog_host(self) -> DialogHost | None:
        windows = self._windows
        return windows.dialog_host() if windows is not None else None

    def quit(self) -> None:
        """End the app as closing its main window does: every window closes, requests still running
        finish (within ``shutdown_timeout``), teardown runs and :meth:`run` returns.

        For a "Quit" item in the tray or a menu, or a bridge function; callable from any thread
        while the app runs in its window.
        """
        if self._windows is None:
            raise WindowError(
                "No window is open: quit() ends an app running in its window (call it from views, "
                "bridge functions, menu or tray actions), not before desktop.run() or after it."
            )
        log.info("the app asked to quit")
        self._windows.close_all()

    def _require_windows(self) -> WindowManager:
        if self._windows is None:
            raise WindowError(
                "No window is open: open_window() works while the app runs in its window (from views, "
                "bridge functions and menu actions), not before desktop.run() or after it."
            )
        return self._windows

    def run(self, *, dev: bool = False, automation: AutomationChannel | None = None, **cli: Any) -> None:
        """Show the app in a native window; block until the last window closes.

        Raises a :class:`~flaskdesk.FlaskdeskError` after the error window closes when the app
        could not start, so launchers can exit non-zero.
        """
        from .launch import launch

        launch(self, dev=dev, cli=cli, automation=automation)

    def _require_app(self) -> Flask:
        if self.app is None:
            raise ConfigError(
                "This Desktop has no Flask app yet: create it as Desktop(app), or call desktop.init_app(app) "
                "(for example inside your app factory) before running it."
            )
        return self.app


def _check_transport(transport: str | None) -> str | None:
    """``Desktop(transport=...)``, validated as ``[tool.flaskdesk] transport`` is."""
    if transport is None:
        return None
    if not isinstance(transport, str) or transport.strip().lower() not in TRANSPORTS:
        raise ConfigError(
            f"Desktop(transport={transport!r}) is not a transport: use one of "
            + ", ".join(repr(name) for name in TRANSPORTS)
        )
    return transport.strip().lower()


def _takes_two(fn: Callable[..., Any]) -> bool:
    try:
        signature = inspect.signature(fn)
        signature.bind(["argv"], "cwd")
    except (TypeError, ValueError):
        return False
    return True


def _runs_as_main(app: Flask) -> bool:
    """Is this process the app itself (``python app.py`` or ``python -m package``), not a web server?"""
    if app.import_name == "__main__":
        return True
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    main_name = getattr(spec, "name", None)
    return main_name in {app.import_name, f"{app.import_name}.__main__"}


def _script_name() -> str:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None) or "app"
    return os.path.splitext(os.path.basename(path))[0]


def _flaskdesk_script() -> Markup:
    """The ``<script>`` tag that defines ``flaskdesk.api``; empty when not served by flaskdesk."""
    nonce = request.environ.get("flaskdesk.csp_nonce") if has_request_context() else None
    if nonce is None:
        return Markup("")
    return Markup('<script src="{}" nonce="{}" data-flaskdesk></script>').format(SCRIPT_PATH, nonce)


def _csp_nonce() -> str:
    """This response's CSP nonce for ``<script nonce="{{ csp_nonce() }}">``; empty outside flaskdesk."""
    return str(request.environ.get("flaskdesk.csp_nonce", "")) if has_request_context() else ""
