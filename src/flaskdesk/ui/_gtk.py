"""WebKitGTK specifics: the hooks on pywebview's GTK window.

pywebview builds the window (``webview/platforms/gtk.py``: a ``BrowserView`` holding a
``WebKit2.WebView`` with a ``WebsiteDataManager`` rooted at the storage path);
:meth:`GtkHooks.attach` runs on the GUI thread from pywebview's ``before_show`` event, before the
first page is requested, and adds the navigation policy on the view's ``decide-policy`` signal.

pywebview connects its own ``decide-policy`` handler first, and for ``target=_blank`` it hands
*any* URL (``file:`` included) to the browser before anyone else is asked. So ours is put in front:
pywebview's handler is disconnected and reconnected after ours. Ours settles every navigation
decision itself and leaves response decisions (download or display) to pywebview.

WebKitGTK does not say whether a navigation is for the main frame or a subframe. Where that matters
(a cross-origin ``http(s)`` URL: browser for the window, refused for an iframe) the decision is made
from what *is* known: a user's click or form submission is the window's; anything else is let
through to the response, where ``is_main_frame_main_resource`` tells, and is refused there (or,
if the host cannot be reached, when the load fails, before WebKit paints its error page). Same
reason, one gap: ``about:blank``, allowed for iframes, cannot be refused in the main frame.

Devtools in dev mode: F12 opens WebKit's inspector, which runs in process (no port).

Also here: the menu bar (a ``Gio.Menu`` set on the ``Gtk.Application``, whose items name
``win.`` actions that each window defines for itself, so Edit acts on the window it was chosen
in), attachments saved through a save dialog (a ``Content-Disposition: attachment`` response is
turned into a download, and ``decide-destination`` asks where), native dialogs
(``Gtk.FileChooserDialog``, ``Gtk.MessageDialog``), window geometry, running code on the GUI
thread (``GLib.idle_add``), and the tray icon: ``Gtk.StatusIcon`` with a ``Gtk.Menu``. GTK 3's
only tray API, deprecated but working: it docks into XEmbed trays (most X11 panels; GNOME only
with an extension). Notifications do not go through GTK: on Linux they are D-Bus calls
(:mod:`.notifications`) for every backend.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import BackendError, NotificationError
from .dialogs import DialogKind, FileDialogRequest, MessageKind
from .menu import Menu, MenuItem, Separator, gtk_accelerator
from .navigation import NavigationPolicy, Verdict, carry_out
from .notifications import Notification
from .tray import Tray
from .window import WindowOptions
from .window_state import Rect, WindowState

log = logging.getLogger("flaskdesk.ui")


_EDITING_COMMANDS = {
    "undo": "Undo",
    "redo": "Redo",
    "cut": "Cut",
    "copy": "Copy",
    "paste": "Paste",
    "select_all": "SelectAll",
}


#: WebKitGTK's own switch for its compositing mode: when the user set it (either way), theirs rules.
COMPOSITING_VAR = "WEBKIT_DISABLE_COMPOSITING_MODE"


def software_rendering_only(dri: Path = Path("/dev/dri")) -> bool:
    """Whether this machine has no GPU render node (``/dev/dri/renderD*``), so GL is software only.

    VMs without GPU passthrough, containers, Xvfb and remote X sessions: Mesa's llvmpipe then does
    all of WebKitGTK's GL. Render nodes exist for every GPU with a DRM driver (Intel, AMD,
    nouveau, NVIDIA's proprietary driver since 2015); their absence is the cheap, reliable sign.
    """
    try:
        return not any(node.name.startswith("renderD") for node in dri.iterdir())
    except OSError:
        return True


def should_skip_compositing(environ: Mapping[str, str], *, software_only: bool) -> bool:
    """Whether flaskdesk's views should draw without accelerated compositing (pure).

    With software GL only, WebKitGTK's accelerated compositing sets up a GL context in llvmpipe and
    composites every frame through it: 80 to 170 ms more before the first page is painted here
    (``python -m benchmarks --backend gtk``), and more CPU for each frame after. Drawing without
    it is what WebKitGTK does on such machines when told to; pages and CSS are unchanged, and WebGL
    still worked here (WebKitGTK 2.50; some 2.5x releases lacked WebGL in this mode). With
    a GPU, or when the user set ``WEBKIT_DISABLE_COMPOSITING_MODE`` themselves, WebKit decides.
    """
    return software_only and COMPOSITING_VAR not in environ


def helper_library_path(environ: Mapping[str, str], *, frozen: bool) -> str | None:
    """``LD_LIBRARY_PATH`` for the system's WebKit helpers: the user's own, as before the bootloader.

    ``""``: remove the variable (the user had none); ``None``: leave it (not frozen, or a
    bootloader that did not set it).
    """
    if not frozen or "LD_LIBRARY_PATH" not in environ:
        return None
    return environ.get("LD_LIBRARY_PATH_ORIG", "")


class GtkHooks:
    """flaskdesk's additions to a pywebview GTK window (see the module docstring)."""

    name = "gtk"

    def __init__(self) -> None:
        self._open_dialogs: list[Any] = []
        self._menu_model_set = False
        self._normal_sizes: dict[int, tuple[int, int, int, int]] = {}
        self._status_icon: Any = None  # the Gtk.StatusIcon and its Gtk.Menu, kept alive while shown
        self._tray_menu: Any = None
        self._skip_compositing = False  # decided once per run in prepare(), applied to each view

    def prepare(self) -> None:
        """Give WebKit's helpers the system's library path (frozen builds); decide on compositing.

        WebKitGTK is the system's, also in a frozen build: it starts the system's
        ``WebKitWebProcess``/``WebKitNetworkProcess``, which inherit this process's environment.
        PyInstaller's bootloader points ``LD_LIBRARY_PATH`` into the bundle (keeping the user's in
        ``LD_LIBRARY_PATH_ORIG``), so those helpers loaded the *build machine's* GTK, X and font
        libraries from the bundle instead of the ones their WebKit was built against: a crash
        waiting for the first system whose WebKit differs from the build machine's, and private
        library copies that share no memory with anything (~0.1 s of start-up here). This process's
        own libraries are unaffected: the dynamic loader read the variable when it started.
        """
        restored = helper_library_path(os.environ, frozen=bool(getattr(sys, "frozen", False)))
        if restored:
            os.environ["LD_LIBRARY_PATH"] = restored
        elif restored is not None:
            os.environ.pop("LD_LIBRARY_PATH", None)
        self._skip_compositing = should_skip_compositing(os.environ, software_only=software_rendering_only())
        if self._skip_compositing:
            log.info(
                "no GPU render node in /dev/dri: drawing without accelerated compositing (set %s "
                "yourself to choose)",
                COMPOSITING_VAR,
            )

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

        ``options`` are already applied by pywebview (the background colour as window CSS and view
        background, with the view kept transparent until the first load), so they are not read here.
        ``menus``, ``run_action`` and ``downloads`` are as for the Qt hooks.
        """
        browser = getattr(window.gui, "BrowserView", None)
        instance = browser.instances.get(window.uid) if browser is not None else None
        view = getattr(instance, "webview", None)
        theirs = getattr(instance, "on_navigation", None)
        if view is None or theirs is None:
            raise BackendError(
                "pywebview's GTK window no longer has the WebView flaskdesk hooks into (BrowserView"
                ".webview/.on_navigation); install the pywebview version flaskdesk supports (pip install "
                "'pywebview>=5.3,<7')"
            )
        if storage_dir is not None:
            _check_storage(view, storage_dir)
        if self._skip_compositing:
            from gi.repository import WebKit2  # pywebview required the version it loaded

            # Before the first load (pywebview loads right after before_show).
            view.get_settings().set_hardware_acceleration_policy(WebKit2.HardwareAccelerationPolicy.NEVER)
        decider = _Decider(policy, trust_first_navigation, downloads=downloads)
        view.disconnect_by_func(theirs)
        view.connect("decide-policy", decider.on_decide_policy)
        view.connect("decide-policy", theirs)
        view.connect("load-failed", decider.on_load_failed)
        view.connect("create", decider.on_create)
        if dev:
            _add_inspector_shortcut(window.native, view)
        if menus:
            self._add_menus(window.native, view, menus, policy, run_action)
        if downloads:
            context = view.get_context()
            theirs = getattr(instance, "on_download_started", None)
            if theirs is not None:  # pywebview's own (settings["ALLOW_DOWNLOADS"]): one dialog, ours
                with contextlib.suppress(TypeError):
                    context.disconnect_by_func(theirs)
            context.connect("download-started", lambda _ctx, download: self._download(window, view, download))
        gtk_window = window.native
        gtk_window.connect("configure-event", lambda w, _e: self._note_normal_size(w))

    @contextlib.contextmanager
    def sharing_profile(self, main_window: Any) -> Iterator[None]:
        """Nothing to do: pywebview's GTK windows on one storage path already share their web data."""
        yield

    # -- running code on the GUI thread -----------------------------------------------------------

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the GUI thread (from any thread)."""
        from gi.repository import GLib

        def run() -> bool:
            try:
                fn()
            except Exception:
                log.exception("a function run on the GUI thread failed")
            return False  # once

        GLib.idle_add(run)

    # -- menus -------------------------------------------------------------------------------------

    def _add_menus(
        self,
        gtk_window: Any,
        view: Any,
        menus: tuple[Menu, ...],
        policy: NavigationPolicy,
        run_action: Callable[[Callable[[], object]], None] | None,
    ) -> None:
        from gi.repository import Gio

        app = gtk_window.get_application()
        model = Gio.Menu()
        number = 0
        for menu in menus:
            submenu, section = Gio.Menu(), Gio.Menu()
            for entry in menu.items:
                if isinstance(entry, Separator):
                    submenu.append_section(None, section)
                    section = Gio.Menu()
                    continue
                number += 1
                name = f"flaskdesk-{number}"
                action = Gio.SimpleAction.new(name, None)
                action.connect("activate", self._menu_handler(entry, view, policy, run_action))
                gtk_window.add_action(action)
                section.append(entry.label, f"win.{name}")
                if entry.shortcut and app is not None:
                    app.set_accels_for_action(f"win.{name}", [gtk_accelerator(entry.shortcut)])
            submenu.append_section(None, section)
            model.append_submenu(menu.title, submenu)
        if app is not None and not self._menu_model_set:
            app.set_menubar(model)  # one model for the app; each window has its own win.* actions
            self._menu_model_set = True
        gtk_window.set_show_menubar(True)

    @staticmethod
    def _menu_handler(
        item: MenuItem,
        view: Any,
        policy: NavigationPolicy,
        run_action: Callable[[Callable[[], object]], None] | None,
    ) -> Callable[[Any, Any], None]:
        if item.role is not None:
            command = _EDITING_COMMANDS[item.role]
            return lambda _action, _param: view.execute_editing_command(command)
        if item.route is not None:
            url = f"{policy.app_origin}{item.route}"
            return lambda _action, _param: view.load_uri(url)
        function = item.action
        assert function is not None
        if run_action is None:
            return lambda _action, _param: None
        return lambda _action, _param: run_action(function)

    # -- dialogs (GUI thread) ---------------------------------------------------------------------

    def file_dialog(self, window: Any, request: FileDialogRequest) -> list[str] | None:
        """Show a ``Gtk.FileChooserDialog`` over ``window``; the chosen paths or ``None``."""
        from gi.repository import Gtk

        actions = {
            DialogKind.OPEN: (Gtk.FileChooserAction.OPEN, "_Open"),
            DialogKind.SAVE: (Gtk.FileChooserAction.SAVE, "_Save"),
            DialogKind.FOLDER: (Gtk.FileChooserAction.SELECT_FOLDER, "_Select"),
        }
        action, accept = actions[request.kind]
        dialog = Gtk.FileChooserDialog(
            title=request.title, transient_for=window.native, action=action, modal=True
        )
        dialog.add_buttons("_Cancel", Gtk.ResponseType.CANCEL, accept, Gtk.ResponseType.ACCEPT)
        dialog.set_default_response(Gtk.ResponseType.ACCEPT)
        dialog.set_select_multiple(request.multiple)
        if request.directory:
            dialog.set_current_folder(request.directory)
        if request.kind is DialogKind.SAVE:
            dialog.set_do_overwrite_confirmation(True)
            if request.filename:
                dialog.set_current_name(request.filename)
        for name, patterns in request.file_types:
            file_filter = Gtk.FileFilter()
            file_filter.set_name(name)
            for pattern in patterns:
                file_filter.add_pattern(pattern)
            dialog.add_filter(file_filter)
        answer = self._run_dialog(dialog)
        chosen = [str(p) for p in dialog.get_filenames()] if answer == Gtk.ResponseType.ACCEPT else []
        dialog.destroy()
        return chosen or None

    def message_dialog(self, window: Any, kind: MessageKind, title: str, message: str) -> bool:
        """Show a ``Gtk.MessageDialog``; for a question, True when OK was chosen."""
        from gi.repository import Gtk

        types = {
            MessageKind.INFO: Gtk.MessageType.INFO,
            MessageKind.WARNING: Gtk.MessageType.WARNING,
            MessageKind.ERROR: Gtk.MessageType.ERROR,
            MessageKind.QUESTION: Gtk.MessageType.QUESTION,
        }
        buttons = Gtk.ButtonsType.OK_CANCEL if kind is MessageKind.QUESTION else Gtk.ButtonsType.OK
        dialog = Gtk.MessageDialog(
            transient_for=window.native,
            modal=True,
            message_type=types[kind],
            buttons=buttons,
            text=title or message,
        )
        if title:
            dialog.format_secondary_text(message)
        dialog.set_title(title)
        answer = self._run_dialog(dialog)
        dialog.destroy()
        return bool(answer == Gtk.ResponseType.OK)

    def _run_dialog(self, dialog: Any) -> Any:
        self._open_dialogs.append(dialog)
        try:
            return dialog.run()
        finally:
            self._open_dialogs.remove(dialog)

    def cancel_dialogs(self) -> None:
        """Close every open dialog as cancelled (GUI thread; the app is closing)."""
        from gi.repository import Gtk

        for dialog in list(self._open_dialogs):
            dialog.response(Gtk.ResponseType.CANCEL)

    def _download(self, window: Any, view: Any, download: Any) -> None:
        if download.get_web_view() is not view:
            return

        def decide(download: Any, suggested: str) -> bool:
            from gi.repository import GLib

            request = FileDialogRequest(
                DialogKind.SAVE,
                "Save",
                directory=GLib.get_user_special_dir(GLib.UserDirectory.DIRECTORY_DOWNLOAD),
                filename=suggested or None,
            )
            chosen = self.file_dialog(window, request)
            if not chosen:
                log.info("download of %s cancelled", suggested)
                download.cancel()
                return True
            download.set_allow_overwrite(True)  # the dialog already asked
            download.set_destination(GLib.filename_to_uri(chosen[0], None))
            download.connect("finished", lambda _d: log.info("download saved to %s", chosen[0]))
            return True

        download.connect("decide-destination", decide)

    # -- tray icon (GUI thread) --------------------------------------------------------------------

    def show_tray(
        self, tray: Tray, *, on_activate: Callable[[], None], on_choose: Callable[[MenuItem], None]
    ) -> None:
        """Show ``tray`` as a ``Gtk.StatusIcon``: a click calls ``on_activate``, a menu item ``on_choose``."""
        from gi.repository import Gtk

        with warnings.catch_warnings():  # Gtk.StatusIcon is deprecated (GTK 3.14), and still the only way
            warnings.simplefilter("ignore", DeprecationWarning)
            if tray.icon is not None:
                icon = Gtk.StatusIcon.new_from_file(str(tray.icon))
            else:
                icon = Gtk.StatusIcon.new_from_icon_name("application-x-executable")
            icon.set_tooltip_text(tray.tooltip)
            icon.set_title(tray.tooltip)
        menu = Gtk.Menu()
        for entry in tray.items:
            if isinstance(entry, Separator):
                menu.append(Gtk.SeparatorMenuItem())
                continue
            menu_item = Gtk.MenuItem.new_with_label(entry.label)
            menu_item.connect("activate", lambda _widget, item=entry: on_choose(item))
            menu.append(menu_item)
        menu.show_all()

        def popup(status_icon: Any, button: int, when: int) -> None:
            if tray.items:
                menu.popup(None, None, Gtk.StatusIcon.position_menu, status_icon, button, when)

        icon.connect("activate", lambda _icon: on_activate())
        icon.connect("popup-menu", popup)
        self.hide_tray()
        self._status_icon, self._tray_menu = icon, menu
        icon.set_visible(True)

    def hide_tray(self) -> None:
        """Take the tray icon away (the app is closing)."""
        icon, self._status_icon, self._tray_menu = self._status_icon, None, None
        if icon is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                icon.set_visible(False)

    def notify(self, notification: Notification) -> None:
        """Not through GTK: on Linux every backend sends notifications over D-Bus."""
        raise NotificationError(
            "the GTK backend shows notifications over D-Bus (Linux) only; they are not sent through GTK"
        )

    # -- window state (GUI thread) ----------------------------------------------------------------

    def present(self, window: Any) -> None:
        """Un-minimise, raise and focus ``window``."""
        window.native.deiconify()
        window.native.present()

    def screens(self) -> list[Rect]:
        from gi.repository import Gdk

        display = Gdk.Display.get_default()
        if display is None:
            return []
        found = []
        for index in range(display.get_n_monitors()):
            area = display.get_monitor(index).get_workarea()
            found.append(Rect(area.x, area.y, area.width, area.height))
        return found

    def can_position(self) -> bool:
        """Wayland does not let a client place its windows."""
        from gi.repository import Gdk

        return "wayland" not in type(Gdk.Display.get_default()).__name__.lower()

    def apply_state(self, window: Any, state: WindowState) -> None:
        """Size (and position, maximized) ``window`` before it is first shown (from ``before_show``)."""
        gtk_window = window.native
        gtk_window.resize(state.width, state.height)
        if state.x is not None and state.y is not None:
            gtk_window.move(state.x, state.y)
        if state.maximized:
            gtk_window.maximize()

    def read_state(self, window: Any) -> WindowState | None:
        """``window``'s size, position and maximized state now (the size before maximizing when it is)."""
        gtk_window = window.native
        maximized = bool(gtk_window.is_maximized())
        if maximized and id(gtk_window) in self._normal_sizes:
            x, y, width, height = self._normal_sizes[id(gtk_window)]
            return WindowState(width, height, x, y, True)
        width, height = gtk_window.get_size()
        x, y = gtk_window.get_position()
        return WindowState(width, height, x, y, maximized)

    def _note_normal_size(self, gtk_window: Any) -> bool:
        if not gtk_window.is_maximized():
            x, y = gtk_window.get_position()
            width, height = gtk_window.get_size()
            self._normal_sizes[id(gtk_window)] = (x, y, width, height)
        return False


def _check_storage(view: Any, storage_dir: Path) -> None:
    """Fail closed if the view's web data does not live in the app's storage dir."""
    manager = view.get_context().get_website_data_manager()
    actual = manager.get_base_data_directory() if manager is not None else None
    if manager is None or manager.is_ephemeral() or actual is None or Path(actual) != storage_dir:
        raise BackendError(
            f"the WebKitGTK view stores data in {actual or '(memory only)'} instead of {storage_dir}; "
            "install the pywebview version flaskdesk supports (pip install 'pywebview>=5.3,<7')"
        )


class _Decider:
    """The ``decide-policy``, ``create`` and ``load-failed`` handlers for one view."""

    def __init__(
        self, policy: NavigationPolicy, trust_first_navigation: bool, *, downloads: bool = False
    ) -> None:
        from gi.repository import WebKit2

        self._downloads = downloads
        self._policy = policy
        self._trust_next = trust_first_navigation
        self._kinds = WebKit2.PolicyDecisionType
        self._user_initiated = frozenset(
            {
                WebKit2.NavigationType.LINK_CLICKED,
                WebKit2.NavigationType.FORM_SUBMITTED,
                WebKit2.NavigationType.FORM_RESUBMITTED,
            }
        )
        # Failures that are not the host's: our own refusal, or a load superseded by another.
        self._not_failures = (
            (WebKit2.PolicyError.quark(), int(WebKit2.PolicyError.FRAME_LOAD_INTERRUPTED_BY_POLICY_CHANGE)),
            (WebKit2.NetworkError.quark(), int(WebKit2.NetworkError.CANCELLED)),
        )

    def on_decide_policy(self, view: Any, decision: Any, kind: Any) -> bool:
        """Settle navigation decisions (return True: handled); pass response decisions on."""
        if kind == self._kinds.RESPONSE:
            return self._on_response(decision)
        action = decision.get_navigation_action()
        url = action.get_request().get_uri() or ""
        if self._trust_next:
            self._trust_next = False
            decision.use()
            return True
        if kind == self._kinds.NEW_WINDOW_ACTION:
            decision.ignore()
            self._new_window(view, url)
            return True
        as_window = self._policy.decide(url, main_frame=True)
        as_frame = self._policy.decide(url, main_frame=False)
        user_initiated = action.is_user_gesture() or action.get_navigation_type() in self._user_initiated
        if as_window is as_frame or user_initiated:
            verdict = as_window  # a click or a form submission is the window's own navigation
        else:
            # Main frame or iframe? Only the response (or the failure) will tell.
            decision.use()
            return True
        if carry_out(verdict, url):
            decision.use()
        else:
            decision.ignore()
        return True

    def on_create(self, view: Any, action: Any) -> None:
        """``window.open()`` asks for a new view here (links with a target go through policy first).

        No view is ever created: the URL goes where a new-window navigation's verdict says.
        """
        url = action.get_request().get_uri() or ""
        self._new_window(view, url)
        return None

    def _new_window(self, view: Any, url: str) -> None:
        verdict = self._policy.decide(url, main_frame=True, new_window=True)
        if verdict is Verdict.ALLOW:
            view.load_uri(url)
        else:
            carry_out(verdict, url)

    def _on_response(self, decision: Any) -> bool:
        url = decision.get_response().get_uri() or ""
        verdict = self._policy.decide(url, main_frame=decision.is_main_frame_main_resource())
        if verdict is Verdict.ALLOW:
            if self._downloads and _is_attachment(decision.get_response()):
                decision.download()  # a download even when WebKit could show it (text/csv, PDF...)
                return True
            return False  # pywebview decides between showing and downloading
        decision.ignore()
        carry_out(verdict, url)
        return True

    def on_load_failed(self, view: Any, event: Any, url: str, error: Any) -> bool:
        """A deferred cross-origin load that failed: hand it over instead of showing an error page.

        Returns True (handled) to stop WebKit from replacing the app's page with its error page.
        """
        if any(error.matches(domain, code) for domain, code in self._not_failures):
            return False  # WebKit shows no error page for these
        verdict = self._policy.decide(url, main_frame=True)
        if verdict is Verdict.ALLOW:
            return False  # the app's own page failed: WebKit's error page is the right thing
        carry_out(verdict, url)
        return True


def _is_attachment(response: Any) -> bool:
    headers = response.get_http_headers()
    value = headers.get_one("Content-Disposition") if headers is not None else None
    return bool(value) and str(value).strip().lower().startswith("attachment")


def _add_inspector_shortcut(gtk_window: Any, view: Any) -> None:
    """F12 opens WebKit's inspector (in process; no remote-inspector server is started)."""
    from gi.repository import Gdk

    view.get_settings().set_enable_developer_extras(True)

    def on_key(_widget: Any, event: Any) -> bool:
        if event.keyval != Gdk.KEY_F12:
            return False
        view.get_inspector().show()
        return True

    gtk_window.connect("key-press-event", on_key)
