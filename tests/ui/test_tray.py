"""The tray icon as data, how an app declares it, and what the backend does with its clicks.

The real trays (Qt's ``QSystemTrayIcon`` and GTK's ``Gtk.StatusIcon`` docked in trayer) are in
``tests/test_desktop_features.py``; these pin down the decisions around them without a display.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

from flaskdesk import Desktop
from flaskdesk.features import session_options
from flaskdesk.ui import backend as backend_module
from flaskdesk.ui.backend import WebviewBackend
from flaskdesk.ui.menu import MenuItem, Separator
from flaskdesk.ui.navigation import NavigationPolicy
from flaskdesk.ui.tray import Tray, build_tray
from flaskdesk.ui.window import WindowOptions, WindowSession


def app_and_desktop(tmp_path: Path, **options: Any) -> tuple[Flask, Desktop]:
    app = Flask("trayapp", root_path=str(tmp_path))
    return app, Desktop(app, title="Tray App", **options)


def tray_of(app: Flask, desktop: Desktop) -> Tray | None:
    return desktop._tray(app, desktop.launch_settings(app))


# -- declaring it ------------------------------------------------------------------------------------


def test_no_tray_icon_unless_the_app_declares_one(tmp_path: Path) -> None:
    app, desktop = app_and_desktop(tmp_path, icon=str(tmp_path / "window.png"))
    assert tray_of(app, desktop) is None


def test_items_links_and_separators_make_the_menu(tmp_path: Path) -> None:
    window_icon = tmp_path / "window.png"
    window_icon.write_bytes(b"png")
    app, desktop = app_and_desktop(tmp_path, icon=str(window_icon))

    @desktop.tray_item("New note")
    def new_note() -> None:
        pass

    desktop.tray_separator()
    desktop.tray_link("Recent notes", "/recent")
    desktop.tray_separator()  # a trailing line is dropped
    assert tray_of(app, desktop) == Tray(
        tooltip="Tray App",  # the title
        items=(MenuItem("New note", action=new_note), Separator(), MenuItem("Recent notes", route="/recent")),
        icon=window_icon,  # the window's icon by default
    )


def test_a_tray_icon_of_its_own_relative_to_the_app(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "tray.png").write_bytes(b"png")
    app, desktop = app_and_desktop(tmp_path, tray_icon="static/tray.png", tray_tooltip="Notes are running")
    tray = tray_of(app, desktop)  # an icon alone is a tray: clicking it brings the window back
    assert tray == Tray(tooltip="Notes are running", items=(), icon=tmp_path / "static" / "tray.png")


def test_a_missing_tray_icon_falls_back_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app, desktop = app_and_desktop(tmp_path, tray_icon="nope.png")
    with caplog.at_level(logging.WARNING, logger="flaskdesk"):
        tray = tray_of(app, desktop)
    assert tray is not None and tray.icon is None  # the toolkit's generic icon
    assert f"tray icon {tmp_path / 'nope.png'} does not exist" in caplog.text


def test_bad_entries_are_refused_where_they_are_declared(tmp_path: Path) -> None:
    _app, desktop = app_and_desktop(tmp_path)
    with pytest.raises(ValueError, match="route must be a path of the app"):
        desktop.tray_link("Elsewhere", "https://example.org/")
    with pytest.raises(ValueError, match="needs a label"):
        desktop.tray_item(" ")(lambda: None)
    with pytest.raises(ValueError, match="cannot perform an editing command"):
        Tray(tooltip="t", items=(MenuItem("Copy", role="copy"),))


def test_separators_are_tidied() -> None:
    item = MenuItem("A", route="/a")
    tray = build_tray([Separator(), item, Separator(), Separator(), item, Separator()], tooltip="t")
    assert tray.items == (item, Separator(), item)


def test_the_tray_reaches_the_window_session(tmp_path: Path) -> None:
    app, desktop = app_and_desktop(tmp_path)
    desktop.tray_link("Home", "/")
    settings = desktop.launch_settings(app)
    paths = SimpleNamespace(config_dir=tmp_path / "config")
    guard = SimpleNamespace(launch_url=lambda path: f"http://127.0.0.1:1{path}")
    options = session_options(desktop, app, settings, paths, guard)  # type: ignore[arg-type]
    assert options["tray"] == Tray(tooltip="Tray App", items=(MenuItem("Home", route="/"),))


# -- the backend: showing it, and its clicks ------------------------------------------------------------


class TrayHooks:
    """The tray half of a toolkit; the GUI thread is the test's."""

    name = "fake"

    def __init__(self, *, fail: bool = False) -> None:
        self.shown: list[tuple[Tray, Callable[[], None], Callable[[MenuItem], None]]] = []
        self.presented: list[Any] = []
        self.fail = fail

    def show_tray(
        self, tray: Tray, *, on_activate: Callable[[], None], on_choose: Callable[[MenuItem], None]
    ) -> None:
        if self.fail:
            raise RuntimeError("no tray here")
        self.shown.append((tray, on_activate, on_choose))

    def call_soon(self, fn: Callable[[], None]) -> None:
        fn()

    def present(self, window: Any) -> None:
        self.presented.append(window)


class Window:
    def __init__(self) -> None:
        self.loaded: list[str] = []
        self.done = threading.Event()

    def load_url(self, url: str) -> None:
        self.loaded.append(url)
        self.done.set()


TRAY = Tray(tooltip="t", items=(MenuItem("Home", route="/home"),))


def running_backend(hooks: TrayHooks) -> tuple[WebviewBackend, Window]:
    backend = WebviewBackend("fake", hooks)  # type: ignore[arg-type]
    main = Window()
    backend._main, backend._gui_running = main, True
    backend._policy = NavigationPolicy("http://127.0.0.1:5123")
    return backend, main


def test_clicking_the_icon_brings_the_main_window_to_the_front() -> None:
    hooks = TrayHooks()
    backend, main = running_backend(hooks)
    backend._show_tray(hooks, TRAY)  # type: ignore[arg-type]
    ((tray, on_activate, _on_choose),) = hooks.shown
    assert tray is TRAY
    on_activate()
    assert hooks.presented == [main]


def test_a_link_shows_its_route_in_the_main_window_then_brings_it_forward() -> None:
    hooks = TrayHooks()
    backend, main = running_backend(hooks)
    backend._tray_choice(MenuItem("Home", route="/home"))
    assert main.done.wait(5)
    assert main.loaded == ["http://127.0.0.1:5123/home"]
    deadline = time.monotonic() + 5
    while not hooks.presented and time.monotonic() < deadline:
        time.sleep(0.02)
    assert hooks.presented == [main]


def test_an_item_runs_its_action_off_the_gui_thread() -> None:
    backend, _main = running_backend(TrayHooks())
    ran: list[str] = []
    done = threading.Event()

    def action() -> None:
        ran.append(threading.current_thread().name)
        done.set()

    backend._tray_choice(MenuItem("Ping", action=action))
    assert done.wait(5)
    assert ran == ["flaskdesk-menu-action"]


def test_a_tray_that_cannot_be_shown_leaves_the_app_running(caplog: pytest.LogCaptureFixture) -> None:
    hooks = TrayHooks(fail=True)
    backend, _main = running_backend(hooks)
    with caplog.at_level(logging.ERROR, logger="flaskdesk.ui"):
        backend._show_tray(hooks, TRAY)  # type: ignore[arg-type]
    assert "could not show the tray icon; the app runs without it" in caplog.text


class _Event:
    def __init__(self) -> None:
        self.handlers: list[Callable[..., Any]] = []

    def __iadd__(self, handler: Callable[..., Any]) -> _Event:
        self.handlers.append(handler)
        return self


def test_a_backend_without_a_tray_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """WebView2 and Cocoa (no toolkit hooks): the app runs, without the tray, and the log says why."""
    events = SimpleNamespace(
        before_show=_Event(), closing=_Event(), shown=_Event(), loaded=_Event(), closed=_Event()
    )
    webview = SimpleNamespace(
        create_window=lambda *args, **kwargs: SimpleNamespace(events=events),
        start=lambda **kwargs: None,
        WebViewException=RuntimeError,
    )
    monkeypatch.setattr(backend_module, "_import_webview", lambda: webview)
    session = WindowSession(
        url="http://127.0.0.1:5123/launch",
        options=WindowOptions(),
        app_origin="http://127.0.0.1:5123",
        storage_dir=tmp_path / "storage",
        tray=TRAY,
    )
    with caplog.at_level(logging.WARNING, logger="flaskdesk.ui"):
        WebviewBackend("edgechromium", None).run(session)
    warnings = [r.getMessage() for r in caplog.records if "tray" in r.getMessage()]
    assert warnings == [
        "the edgechromium backend has no tray icon: the app runs without one (the tray needs the qt or "
        "gtk backend; on Windows and macOS: pip install 'flaskdesk[qt]' and backend = \"qt\")"
    ]
