"""Desktop notifications: ``desktop.notify(title, body)`` and ``flaskdesk.notifications.show()`` in pages.

On Linux a notification is one ``org.freedesktop.Notifications.Notify`` call on the session D-Bus,
made with the pure-Python ``jeepney`` (no libdbus, no toolkit), so it works on both window backends
and even without a window: the desktop's notification server (GNOME Shell, Plasma, dunst, mako,
xfce4-notifyd...) shows it. Elsewhere the Qt backend shows it through its tray icon
(``QSystemTrayIcon.showMessage``: a toast on Windows, Notification Center on macOS); the native
backends (WebView2, Cocoa) have none, and say so.

Plan apart from do: :class:`Notification` checks the arguments, :func:`notify_arguments` builds the
D-Bus call's body (tests compare it exactly) and :func:`dbus_failure` words each failure; the one
side effect is :func:`send_notify`, every step of which is bounded by one deadline. No session bus,
a bus that does not answer and no notification server are each a
:class:`~flaskdesk.errors.NotificationError` that says what to do, within seconds, never a hang.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..errors import NotificationError

__all__ = [
    "BUS_NAME",
    "NOTIFY_SIGNATURE",
    "Notification",
    "NotificationHost",
    "Notifications",
    "dbus_failure",
    "escape_markup",
    "notify_arguments",
    "send_notify",
]

log = logging.getLogger("flaskdesk.ui")

BUS_NAME = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
NOTIFY_SIGNATURE = "susssasa{sv}i"
#: How long one notification may take over D-Bus, connecting included (seconds).
DBUS_TIMEOUT = 5.0
_BUS_VAR = "DBUS_SESSION_BUS_ADDRESS"
_NO_SERVER_ERRORS = frozenset(
    {
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
        "org.freedesktop.DBus.Error.Spawn.ServiceNotFound",
        "org.freedesktop.DBus.Error.Spawn.ChildExited",
        "org.freedesktop.DBus.Error.Spawn.Failed",
        "org.freedesktop.DBus.Error.Spawn.ExecFailed",
        "org.freedesktop.DBus.Error.TimedOut",
        "org.freedesktop.DBus.Error.NoReply",
    }
)
_START_A_SERVER = (
    "start the desktop's notification service, or a standalone one such as dunst or mako "
    "(apt-get install dunst; it needs the same DISPLAY or WAYLAND_DISPLAY as the app)"
)


@dataclass(frozen=True)
class Notification:
    """One notification, checked: what a server is asked to show.

    ``timeout`` is how long it stays on screen in seconds (``None``: the server's default; ``0``:
    until dismissed); ``icon`` is an image file (``None``: none).
    """

    title: str
    body: str = ""
    app_name: str = "flaskdesk"
    icon: Path | None = None
    timeout: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.title, str) or not self.title.strip():
            raise ValueError("a notification needs a title (a non-empty string)")
        if not isinstance(self.body, str):
            raise TypeError(f"a notification's body must be a string, not {type(self.body).__name__}")
        if self.timeout is not None and (
            isinstance(self.timeout, bool)
            or not isinstance(self.timeout, int | float)
            or not math.isfinite(self.timeout)
            or self.timeout < 0
        ):
            raise ValueError(
                f"a notification's timeout is a number of seconds >= 0 (or None), not {self.timeout!r}"
            )


def escape_markup(text: str) -> str:
    """``text`` as plain text in the body markup servers interpret (``<b>``, ``<a href>``...)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def notify_arguments(
    notification: Notification, *, body_markup: bool = False
) -> tuple[str, int, str, str, str, list[str], dict[str, Any], int]:
    """The body of the ``Notify`` call (signature :data:`NOTIFY_SIGNATURE`).

    ``body_markup``: the server interprets markup in the body (its ``GetCapabilities`` says
    ``body-markup``), so the text is escaped to show as written; a page's text never becomes a
    link or an image.
    """
    icon = notification.icon.resolve().as_uri() if notification.icon is not None else ""
    body = escape_markup(notification.body) if body_markup else notification.body
    expire = -1 if notification.timeout is None else round(notification.timeout * 1000)
    return (notification.app_name, 0, icon, notification.title, body, [], {}, min(expire, 2**31 - 1))


def dbus_failure(error_name: str | None, detail: str, address: str) -> str:
    """The user's message for a D-Bus error reply to ``Notify``."""
    if error_name in _NO_SERVER_ERRORS:
        return (
            f"no notification server is running on the session bus ({address}): {_START_A_SERVER}. "
            f"(D-Bus said: {detail})"
        )
    return f"the notification server refused the notification: {error_name}: {detail}"


class _DBusErrorReply(Exception):
    def __init__(self, name: str | None, body: tuple[Any, ...]) -> None:
        super().__init__(name)
        self.name = name
        self.detail = str(body[0]) if body else ""


class _Exchange:
    """Method calls on one bus connection, each reply awaited until one shared deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        from jeepney import Parser

        self._sock = sock
        self._deadline = deadline
        self._parser = Parser()
        self._serial = 0

    def _remaining(self) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    def call(self, message: Any) -> tuple[Any, ...]:
        from jeepney import HeaderFields, MessageType

        self._serial += 1
        self._sock.settimeout(self._remaining())
        self._sock.sendall(message.serialise(serial=self._serial))
        while True:
            reply = self._parser.get_next_message()
            if reply is None:
                self._sock.settimeout(self._remaining())
                data = self._sock.recv(65536)
                if not data:
                    raise ConnectionResetError("the bus closed the connection")
                self._parser.add_data(data)
                continue
            if reply.header.fields.get(HeaderFields.reply_serial) != self._serial:
                continue  # a signal (NameAcquired...), not our reply
            if reply.header.message_type == MessageType.error:
                raise _DBusErrorReply(reply.header.fields.get(HeaderFields.error_name), reply.body)
            return tuple(reply.body)


def send_notify(notification: Notification, *, address: str | None, timeout: float = DBUS_TIMEOUT) -> int:
    """Show ``notification`` through the notification server on the bus at ``address``; its id.

    Connects, authenticates, asks the server's capabilities (to escape the body where it would be
    read as markup) and sends ``Notify``, all within ``timeout`` seconds.
    """
    if not address:
        raise NotificationError(
            f"notifications need a D-Bus session bus, and ${_BUS_VAR} is not set: run the app inside "
            "a desktop session (or start one for a headless test: "
            "`dbus-run-session -- <your command>`), with a notification service running"
        )
    from jeepney import DBusAddress, new_method_call
    from jeepney.bus import get_bus
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import prep_socket

    deadline = time.monotonic() + timeout
    try:
        path = get_bus(address)
    except (RuntimeError, ValueError, KeyError) as error:
        raise NotificationError(
            f"${_BUS_VAR} ({address!r}) is not a session bus address this app can use ({error}); "
            "it must be a unix: address, as desktop sessions set it"
        ) from None
    try:
        sock = prep_socket(path, timeout=max(0.001, deadline - time.monotonic()))
    except (OSError, TimeoutError) as error:
        raise NotificationError(
            f"cannot connect to the D-Bus session bus at {address} ({error}): the session bus is gone "
            "or does not answer; run the app inside a live desktop session"
        ) from None
    server = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=BUS_NAME)
    with contextlib.closing(sock):
        exchange = _Exchange(sock, deadline)
        try:
            exchange.call(message_bus.Hello())
            (capabilities,) = exchange.call(new_method_call(server, "GetCapabilities"))
            arguments = notify_arguments(notification, body_markup="body-markup" in capabilities)
            (notification_id,) = exchange.call(new_method_call(server, "Notify", NOTIFY_SIGNATURE, arguments))
        except TimeoutError:
            raise NotificationError(
                f"the notification was not answered within {timeout:g} s on the session bus at {address}: "
                f"the bus or the notification server is stuck; restart it, or {_START_A_SERVER}"
            ) from None
        except _DBusErrorReply as error:
            raise NotificationError(dbus_failure(error.name, error.detail, address)) from None
        except OSError as error:
            raise NotificationError(
                f"the D-Bus session bus at {address} dropped the connection ({error}); "
                "run the app inside a live desktop session"
            ) from None
    return int(notification_id)


@runtime_checkable
class NotificationHost(Protocol):
    """Shows notifications through the running window's toolkit (Qt, off Linux); thread-safe."""

    def notify(self, notification: Notification) -> None:
        """Show ``notification`` or raise :class:`~flaskdesk.errors.NotificationError`."""


class Notifications:
    """``desktop.notify``: picks the way to show a notification on this platform.

    ``app`` gives the app's name and default icon when a notification is shown; ``host`` the
    running window's :class:`NotificationHost` (or ``None`` when no window is open).
    """

    def __init__(
        self,
        app: Callable[[], tuple[str, Path | None]],
        host: Callable[[], object | None],
        *,
        platform: str = sys.platform,
        environ: Mapping[str, str] = os.environ,
        timeout: float = DBUS_TIMEOUT,
    ) -> None:
        self._app = app
        self._host = host
        self._platform = platform
        self._environ = environ
        self._timeout = timeout

    def show(
        self,
        title: str,
        body: str = "",
        *,
        icon: str | os.PathLike[str] | None = None,
        timeout: float | None = None,
    ) -> None:
        """Show a notification now (any thread); a :class:`~flaskdesk.NotificationError` if none can be."""
        app_name, default_icon = self._app()
        chosen = Path(icon) if icon is not None else default_icon
        if chosen is not None and not chosen.is_file():
            log.warning("notification icon %s does not exist; showing the notification without one", chosen)
            chosen = None
        notification = Notification(title, body, app_name=app_name, icon=chosen, timeout=timeout)
        from .backend import platform_family

        if platform_family(self._platform) == "linux":
            number = send_notify(notification, address=self._environ.get(_BUS_VAR), timeout=self._timeout)
            log.debug("notification %d shown: %s", number, title)
            return
        host = self._host()
        if not isinstance(host, NotificationHost):
            raise NotificationError(
                "on Windows and macOS, notifications are shown by the app's window (Qt backend): call "
                "notify() while the window is open (from views, bridge functions and menu actions)"
            )
        host.notify(notification)
