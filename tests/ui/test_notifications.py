"""Notifications without a display: the D-Bus call's body, every failure's message, the routes per platform.

The D-Bus exchange runs against a real ``dbus-daemon`` (a private bus that starts no services), with
a small notification server of our own on it where a test needs one; dunst on a real display is in
``tests/test_desktop_features.py``.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flaskdesk import BridgeError, Desktop, NotificationError
from flaskdesk.ui.backend import WebviewBackend
from flaskdesk.ui.notifications import (
    BUS_NAME,
    NOTIFY_SIGNATURE,
    Notification,
    Notifications,
    dbus_failure,
    escape_markup,
    notify_arguments,
    send_notify,
)

# -- the call, planned ------------------------------------------------------------------------------


def test_the_notify_call_body(tmp_path: Path) -> None:
    assert notify_arguments(Notification("Saved", "3 rows", app_name="Notes")) == (
        "Notes",
        0,
        "",
        "Saved",
        "3 rows",
        [],
        {},
        -1,  # the server's default time on screen
    )
    icon = tmp_path / "icon.png"
    icon.write_bytes(b"png")
    with_icon = Notification("Saved", app_name="Notes", icon=icon, timeout=2.5)
    assert notify_arguments(with_icon) == ("Notes", 0, icon.resolve().as_uri(), "Saved", "", [], {}, 2500)
    assert notify_arguments(Notification("Stays", timeout=0))[-1] == 0  # until dismissed
    assert notify_arguments(Notification("Long", timeout=1e12))[-1] == 2**31 - 1
    assert NOTIFY_SIGNATURE == "susssasa{sv}i"


def test_a_server_that_reads_markup_gets_the_body_escaped() -> None:
    note = Notification("Hi", "Tom & Jerry <b>3</b> <a href='x'>")
    assert notify_arguments(note)[4] == "Tom & Jerry <b>3</b> <a href='x'>"
    assert (
        notify_arguments(note, body_markup=True)[4]
        == "Tom &amp; Jerry &lt;b&gt;3&lt;/b&gt; &lt;a href='x'&gt;"
    )
    assert escape_markup("a&amp;b") == "a&amp;amp;b"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"title": ""}, ValueError, "needs a title"),
        ({"title": "  "}, ValueError, "needs a title"),
        ({"title": 3}, ValueError, "needs a title"),
        ({"title": "t", "body": None}, TypeError, "body must be a string"),
        ({"title": "t", "timeout": -1}, ValueError, "seconds >= 0"),
        ({"title": "t", "timeout": float("inf")}, ValueError, "seconds >= 0"),
        ({"title": "t", "timeout": True}, ValueError, "seconds >= 0"),
        ({"title": "t", "timeout": "5"}, ValueError, "seconds >= 0"),
    ],
)
def test_bad_notifications_are_refused(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        Notification(**kwargs)


def test_no_server_says_how_to_start_one() -> None:
    message = dbus_failure("org.freedesktop.DBus.Error.ServiceUnknown", "not provided", "unix:path=/x")
    assert message.startswith("no notification server is running on the session bus (unix:path=/x)")
    assert "dunst" in message
    other = dbus_failure("org.example.Error.Full", "too many", "unix:path=/x")
    assert other == "the notification server refused the notification: org.example.Error.Full: too many"


# -- the call, made: failures --------------------------------------------------------------------------


class FakeServer:
    """``org.freedesktop.Notifications`` on the bus: records each call, answers or stays silent."""

    def __init__(self, address: str, *, capabilities: list[str], answer: bool = True) -> None:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self._capabilities = capabilities
        self._answer = answer
        self._stop = threading.Event()
        self._connection = open_dbus_connection(address)
        bus = DBusAddress(
            "/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus"
        )
        reply = self._connection.send_and_get_reply(
            new_method_call(bus, "RequestName", "su", (BUS_NAME, 4)), timeout=5
        )
        assert reply.body == (1,)  # the primary owner
        self._thread = threading.Thread(target=self._serve, name="fake-notification-server")
        self._thread.start()

    def _serve(self) -> None:
        from jeepney import HeaderFields, MessageType, new_method_return

        while not self._stop.is_set():
            try:
                message = self._connection.receive(timeout=0.05)
            except TimeoutError:
                continue
            if message.header.message_type != MessageType.method_call:
                continue
            member = message.header.fields.get(HeaderFields.member)
            self.calls.append((member, tuple(message.body)))
            if not self._answer:
                continue
            if member == "GetCapabilities":
                self._connection.send(new_method_return(message, "as", (self._capabilities,)))
            elif member == "Notify":
                self._connection.send(new_method_return(message, "u", (41,)))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._connection.close()


@pytest.fixture
def server(private_bus: str) -> Iterator[FakeServer]:
    fake = FakeServer(private_bus, capabilities=["body", "body-markup"])
    try:
        yield fake
    finally:
        fake.close()


NOTE = Notification("Saved", "a <b>", app_name="Notes")


def test_the_exchange_asks_capabilities_then_notifies(private_bus: str, server: FakeServer) -> None:
    assert send_notify(NOTE, address=private_bus) == 41
    assert server.calls == [
        ("GetCapabilities", ()),
        ("Notify", ("Notes", 0, "", "Saved", "a &lt;b&gt;", [], {}, -1)),
    ]


def test_a_server_without_markup_gets_the_text_as_is(private_bus: str) -> None:
    plain = FakeServer(private_bus, capabilities=["body"])
    try:
        send_notify(NOTE, address=private_bus)
    finally:
        plain.close()
    assert plain.calls[-1] == ("Notify", ("Notes", 0, "", "Saved", "a <b>", [], {}, -1))


def test_no_session_bus_variable() -> None:
    with pytest.raises(NotificationError, match=r"\$DBUS_SESSION_BUS_ADDRESS is not set.*dbus-run-session"):
        send_notify(NOTE, address=None)


def test_an_address_this_app_cannot_use() -> None:
    with pytest.raises(NotificationError, match="is not a session bus address this app can use"):
        send_notify(NOTE, address="tcp:host=localhost,port=1")


def test_a_bus_that_is_gone(tmp_path: Path) -> None:
    with pytest.raises(NotificationError, match="cannot connect to the D-Bus session bus at unix:path="):
        send_notify(NOTE, address=f"unix:path={tmp_path / 'gone'}")


def test_a_bus_that_never_answers_fails_in_time(tmp_path: Path) -> None:
    path = tmp_path / "silent"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.bind(str(path))
        silent.listen(1)  # connects, and then nothing is ever said
        started = time.monotonic()
        with pytest.raises(NotificationError, match="does not answer"):
            send_notify(NOTE, address=f"unix:path={path}", timeout=0.5)
        assert time.monotonic() - started < 2


def test_no_notification_server_on_the_bus(private_bus: str) -> None:
    started = time.monotonic()
    with pytest.raises(
        NotificationError, match="no notification server is running on the session bus"
    ) as caught:
        send_notify(NOTE, address=private_bus)
    assert "(D-Bus said: The name org.freedesktop.Notifications was not provided" in str(caught.value)
    assert time.monotonic() - started < 2  # refused at once, not after a timeout


def test_a_server_that_never_answers_fails_in_time(private_bus: str) -> None:
    stuck = FakeServer(private_bus, capabilities=[], answer=False)
    try:
        started = time.monotonic()
        with pytest.raises(NotificationError, match=r"was not answered within 0\.5 s"):
            send_notify(NOTE, address=private_bus, timeout=0.5)
        assert time.monotonic() - started < 2
    finally:
        stuck.close()


# -- the routes ---------------------------------------------------------------------------------------


class FakeHost:
    def __init__(self) -> None:
        self.shown: list[Notification] = []

    def notify(self, notification: Notification) -> None:
        self.shown.append(notification)


def test_on_linux_it_is_d_bus_with_the_app_name(private_bus: str, server: FakeServer, tmp_path: Path) -> None:
    icon = tmp_path / "app.png"
    icon.write_bytes(b"png")
    notifications = Notifications(
        lambda: ("Notes", icon),
        lambda: None,
        platform="linux",
        environ={"DBUS_SESSION_BUS_ADDRESS": private_bus},
    )
    notifications.show("Saved", "3 rows", timeout=3)
    assert server.calls[-1] == (
        "Notify",
        ("Notes", 0, icon.resolve().as_uri(), "Saved", "3 rows", [], {}, 3000),
    )
    with pytest.raises(NotificationError, match="is not set"):
        Notifications(lambda: ("Notes", None), lambda: None, platform="linux", environ={}).show("Saved")


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_elsewhere_the_running_window_shows_it(platform: str, tmp_path: Path) -> None:
    host = FakeHost()
    Notifications(lambda: ("Notes", None), lambda: host, platform=platform).show("Saved", "3 rows")
    assert host.shown == [Notification("Saved", "3 rows", app_name="Notes")]
    with pytest.raises(
        NotificationError, match="on Windows and macOS, notifications are shown by the app's window"
    ):
        Notifications(lambda: ("Notes", None), lambda: None, platform=platform).show("Saved")


def test_a_missing_icon_is_left_out_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    host = FakeHost()
    notifications = Notifications(lambda: ("Notes", tmp_path / "gone.png"), lambda: host, platform="win32")
    with caplog.at_level(logging.WARNING, logger="flaskdesk.ui"):
        notifications.show("Saved")
    assert host.shown[0].icon is None
    assert "gone.png does not exist" in caplog.text
    icon = tmp_path / "mine.png"
    icon.write_bytes(b"png")
    notifications.show("Saved", icon=icon)
    assert host.shown[1].icon == icon


def test_the_backend_shows_them_through_qt_or_says_it_cannot() -> None:
    with pytest.raises(
        NotificationError, match="the edgechromium backend cannot show notifications: use the Qt"
    ):
        WebviewBackend("edgechromium", None).notify(NOTE)

    class Hooks:
        def __init__(self) -> None:
            self.shown: list[Notification] = []

        def notify(self, notification: Notification) -> None:
            self.shown.append(notification)

    hooks = Hooks()
    backend = WebviewBackend("qt", hooks)  # type: ignore[arg-type]
    with pytest.raises(NotificationError, match="none is open"):
        backend.notify(NOTE)
    backend._gui_running, backend._main = True, object()
    backend.notify(NOTE)  # on the main thread: run there at once
    assert hooks.shown == [NOTE]


# -- Desktop and the page ------------------------------------------------------------------------------


def test_desktop_notify_and_the_page_s_bridge_call(
    private_bus: str, server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", private_bus)
    icon = tmp_path / "tray.png"
    icon.write_bytes(b"png")
    app = Flask("notes", root_path=str(tmp_path))
    desktop = Desktop(app, title="Notes", tray_icon="tray.png")
    desktop.notify("From Python")
    # What flaskdesk.notifications.show("From the page", "<i>hi</i>", {timeout: 4}) sends.
    assert (
        desktop.bridge.call("_flaskdesk.notifications.show", ["From the page", "<i>hi</i>"], {"timeout": 4})
        is None
    )
    uri = icon.resolve().as_uri()
    assert [args for member, args in server.calls if member == "Notify"] == [
        ("Notes", 0, uri, "From Python", "", [], {}, -1),  # the tray icon is the app's icon
        ("Notes", 0, uri, "From the page", "&lt;i&gt;hi&lt;/i&gt;", [], {}, 4000),
    ]
    with pytest.raises(BridgeError) as wrong:
        desktop.bridge.call("_flaskdesk.notifications.show", ["Hi"], {"timeout": "soon"})
    assert wrong.value.name == "TypeError"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the D-Bus route is Linux's")
def test_the_page_learns_why_when_no_notification_can_be_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    desktop = Desktop(Flask("notes"), title="Notes")
    with pytest.raises(BridgeError) as caught:
        desktop.bridge.call("_flaskdesk.notifications.show", ["Hi"], {})
    assert caught.value.name == "NotificationError"  # error.name in the page's rejected promise
    assert "DBUS_SESSION_BUS_ADDRESS is not set" in caught.value.message
