"""The application menu, as plain data the toolkit hooks turn into a menu bar.

A :class:`MenuItem` does one of three things: run a Python callable (on a worker thread, never
the GUI thread, so it may block or open a dialog), navigate the window it was chosen in to a
route of the app, or perform a standard editing command (``role``) in the focused page. The
standard Edit menu (:func:`edit_menu`) is added by :func:`build_menus`, so copy, paste and
select all are in the menu with their shortcuts on every platform.

Shortcuts are written portably, ``"Ctrl+Shift+E"`` (``"CmdOrCtrl+E"`` is Cmd on macOS, Ctrl
elsewhere); :func:`gtk_accelerator` and :func:`qt_shortcut` translate them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = [
    "EDIT_ROLES",
    "Menu",
    "MenuItem",
    "Separator",
    "build_menus",
    "edit_menu",
    "gtk_accelerator",
    "parse_shortcut",
    "qt_shortcut",
]

#: Editing commands a :class:`MenuItem` can perform on the focused page, with their shortcuts.
EDIT_ROLES = {
    "undo": ("Undo", "CmdOrCtrl+Z"),
    "redo": ("Redo", "CmdOrCtrl+Shift+Z"),
    "cut": ("Cut", "CmdOrCtrl+X"),
    "copy": ("Copy", "CmdOrCtrl+C"),
    "paste": ("Paste", "CmdOrCtrl+V"),
    "select_all": ("Select All", "CmdOrCtrl+A"),
}

_MODIFIERS = {
    "ctrl": "Ctrl",
    "control": "Ctrl",
    "shift": "Shift",
    "alt": "Alt",
    "option": "Alt",
    "meta": "Meta",
    "super": "Meta",
    "cmd": "Meta",
    "command": "Meta",
    "cmdorctrl": "CmdOrCtrl",
    "commandorcontrol": "CmdOrCtrl",
}
_KEY = re.compile(
    r"^(?:[A-Za-z0-9+]|F(?:[1-9]|1[0-9]|2[0-4])|[-=,./;'\[\]`\\]|Plus|Space|Tab|Enter|Return|Escape|"
    r"Esc|Backspace|Delete|Insert|Home|End|PageUp|PageDown|Up|Down|Left|Right)$",
    re.IGNORECASE,
)
_GTK_KEYS = {
    "-": "minus",
    "=": "equal",
    ",": "comma",
    ".": "period",
    "/": "slash",
    ";": "semicolon",
    "'": "apostrophe",
    "+": "plus",
    "[": "bracketleft",
    "]": "bracketright",
    "`": "grave",
    "\\": "backslash",
    "plus": "plus",
    "space": "space",
    "tab": "Tab",
    "enter": "Return",
    "return": "Return",
    "escape": "Escape",
    "esc": "Escape",
    "backspace": "BackSpace",
    "delete": "Delete",
    "insert": "Insert",
    "home": "Home",
    "end": "End",
    "pageup": "Page_Up",
    "pagedown": "Page_Down",
    "up": "Up",
    "down": "Down",
    "left": "Left",
    "right": "Right",
}


@dataclass(frozen=True)
class MenuItem:
    """One entry: exactly one of ``action``, ``route`` or ``role``."""

    label: str
    action: Callable[[], object] | None = None
    route: str | None = None
    role: str | None = None
    shortcut: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label.strip():
            raise ValueError("a menu item needs a label")
        given = [x for x in (self.action, self.route, self.role) if x is not None]
        if len(given) != 1:
            raise ValueError(f"menu item {self.label!r}: give exactly one of action, route or role")
        if self.action is not None and not callable(self.action):
            raise TypeError(f"menu item {self.label!r}: action must be callable")
        if self.route is not None and (
            not self.route.startswith("/") or self.route.startswith("//") or "\\" in self.route
        ):
            raise ValueError(f"menu item {self.label!r}: route must be a path of the app such as '/settings'")
        if self.role is not None and self.role not in EDIT_ROLES:
            raise ValueError(f"menu item {self.label!r}: role must be one of {', '.join(EDIT_ROLES)}")
        if self.shortcut is not None:
            parse_shortcut(self.shortcut)


@dataclass(frozen=True)
class Separator:
    """A line between groups of items."""


@dataclass(frozen=True)
class Menu:
    """A top-level menu of the menu bar."""

    title: str
    items: tuple[MenuItem | Separator, ...] = ()


def edit_menu() -> Menu:
    """The standard Edit menu: Undo, Redo, Cut, Copy, Paste, Select All, acting on the focused page."""
    items: list[MenuItem | Separator] = []
    for role, (label, shortcut) in EDIT_ROLES.items():
        items.append(MenuItem(label, role=role, shortcut=shortcut))
        if role == "redo":
            items.append(Separator())
    return Menu("Edit", tuple(items))


def build_menus(app_menus: Sequence[Menu], *, edit: bool = True) -> tuple[Menu, ...]:
    """The menu bar: the app's menus with the standard Edit menu after the first one ("File" by convention).

    An app menu titled "Edit" gets the standard items first, then its own.
    """
    menus = list(app_menus)
    if not edit:
        return tuple(menus)
    standard = edit_menu()
    for index, menu in enumerate(menus):
        if menu.title.replace("&", "").strip().lower() == "edit":
            extra: tuple[MenuItem | Separator, ...] = (Separator(), *menu.items) if menu.items else ()
            menus[index] = Menu(menu.title, standard.items + extra)
            return tuple(menus)
    position = 1 if menus and menus[0].title.replace("&", "").strip().lower() == "file" else 0
    menus.insert(position, standard)
    return tuple(menus)


def parse_shortcut(shortcut: str) -> tuple[tuple[str, ...], str]:
    """``"Ctrl+Shift+E"`` → ``(("Ctrl", "Shift"), "E")``; ``ValueError`` if it is not a shortcut."""
    text = shortcut.strip() if isinstance(shortcut, str) else ""
    if text.endswith("++") or text == "+":
        mods, key = ([p.strip() for p in text[:-2].split("+")] if len(text) > 1 else []), "+"
    else:
        *mods, key = [p.strip() for p in text.split("+")]
    if not key:
        raise ValueError(f"{shortcut!r} is not a keyboard shortcut like 'Ctrl+Shift+E'")
    modifiers = []
    for mod in mods:
        name = _MODIFIERS.get(mod.lower())
        if name is None:
            raise ValueError(
                f"{shortcut!r}: unknown modifier {mod!r} (use Ctrl, Shift, Alt, Meta or CmdOrCtrl)"
            )
        modifiers.append(name)
    if not _KEY.match(key):
        raise ValueError(f"{shortcut!r}: unknown key {key!r}")
    return tuple(modifiers), key.upper() if len(key) == 1 else key


def qt_shortcut(shortcut: str, *, mac: bool = False) -> str:
    """The portable shortcut as Qt's ``QKeySequence`` text (Qt maps ``Ctrl`` to Cmd on macOS itself)."""
    modifiers, key = parse_shortcut(shortcut)
    names = ["Ctrl" if m == "CmdOrCtrl" else m for m in modifiers]
    return "+".join([*names, key])


def gtk_accelerator(shortcut: str) -> str:
    """The portable shortcut as a GTK accelerator (``"<Control><Shift>e"``)."""
    modifiers, key = parse_shortcut(shortcut)
    gtk_mods = {
        "Ctrl": "<Control>",
        "CmdOrCtrl": "<Control>",
        "Shift": "<Shift>",
        "Alt": "<Alt>",
        "Meta": "<Super>",
    }
    name = _GTK_KEYS.get(key.lower(), key.lower() if len(key) == 1 else key)
    return "".join(gtk_mods[m] for m in modifiers) + name
