"""The tray icon (system tray, notification area), as plain data the toolkit hooks turn into widgets.

A :class:`Tray` is an icon, a tooltip and a menu. Its items are :class:`~flaskdesk.ui.menu.MenuItem`
objects that run a Python callable (on a worker thread, as menu bar items do) or show a route of
the app in the main window (which comes to the front); editing roles make no sense without a
focused page and are refused. Clicking the icon itself (activating it) brings the main window to
the front; the menu opens on a right click.

Where a tray can be shown: Qt (``QSystemTrayIcon``: StatusNotifierItem or XEmbed on Linux, the
notification area on Windows, the menu bar extras on macOS) and GTK (``Gtk.StatusIcon``, XEmbed
only: deprecated in GTK 3, and GNOME shows XEmbed icons only with an extension). pywebview's
native backends (WebView2, Cocoa) have none: there the app runs without one and the log says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .menu import MenuItem, Separator

__all__ = ["TRAY_BACKENDS", "Tray", "build_tray"]

#: The window backends that can show a tray icon.
TRAY_BACKENDS = ("qt", "gtk")


@dataclass(frozen=True)
class Tray:
    """The app's tray icon: ``icon`` (``None``: the toolkit's generic application icon), a tooltip, a menu."""

    tooltip: str
    items: tuple[MenuItem | Separator, ...] = ()
    icon: Path | None = None

    def __post_init__(self) -> None:
        for item in self.items:
            if isinstance(item, MenuItem) and item.role is not None:
                raise ValueError(
                    f"tray item {item.label!r}: a tray menu cannot perform an editing command ({item.role})"
                )


def build_tray(items: Sequence[MenuItem | Separator], *, tooltip: str, icon: Path | None = None) -> Tray:
    """The tray with separators tidied: none first, none last, never two in a row."""
    tidy: list[MenuItem | Separator] = []
    for item in items:
        if isinstance(item, Separator) and (not tidy or isinstance(tidy[-1], Separator)):
            continue
        tidy.append(item)
    while tidy and isinstance(tidy[-1], Separator):
        tidy.pop()
    return Tray(tooltip=tooltip, items=tuple(tidy), icon=icon)
