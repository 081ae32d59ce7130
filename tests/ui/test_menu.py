"""The menu bar as data: the standard Edit menu, where it goes, and portable shortcuts."""

from __future__ import annotations

import pytest

from flaskdesk.ui.menu import Menu, MenuItem, Separator, build_menus, edit_menu, gtk_accelerator, qt_shortcut


def titles(menus: tuple[Menu, ...]) -> list[str]:
    return [menu.title for menu in menus]


def test_the_edit_menu_has_the_standard_commands_with_shortcuts() -> None:
    items = [item for item in edit_menu().items if isinstance(item, MenuItem)]
    assert [(i.label, i.role, i.shortcut) for i in items] == [
        ("Undo", "undo", "CmdOrCtrl+Z"),
        ("Redo", "redo", "CmdOrCtrl+Shift+Z"),
        ("Cut", "cut", "CmdOrCtrl+X"),
        ("Copy", "copy", "CmdOrCtrl+C"),
        ("Paste", "paste", "CmdOrCtrl+V"),
        ("Select All", "select_all", "CmdOrCtrl+A"),
    ]


def test_edit_goes_after_file_or_first() -> None:
    file_menu = Menu("File", (MenuItem("Export", action=lambda: None),))
    help_menu = Menu("Help", (MenuItem("About", route="/about"),))
    assert titles(build_menus([])) == ["Edit"]
    assert titles(build_menus([file_menu, help_menu])) == ["File", "Edit", "Help"]
    assert titles(build_menus([help_menu])) == ["Edit", "Help"]
    assert titles(build_menus([file_menu], edit=False)) == ["File"]


def test_an_app_edit_menu_gets_the_standard_items_first() -> None:
    mine = Menu("Edit", (MenuItem("Find", action=lambda: None, shortcut="Ctrl+F"),))
    (edit,) = build_menus([mine])
    labels = [getattr(item, "label", "---") for item in edit.items]
    assert labels == ["Undo", "Redo", "---", "Cut", "Copy", "Paste", "Select All", "---", "Find"]
    assert isinstance(edit.items[-2], Separator)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of action, route or role"),
        ({"action": lambda: None, "route": "/x"}, "exactly one of"),
        ({"route": "https://example.org"}, "route must be a path of the app"),
        ({"route": "//evil"}, "route must be a path of the app"),
        ({"role": "explode"}, "role must be one of"),
        ({"action": lambda: None, "shortcut": "Hyper+X"}, "unknown modifier"),
        ({"action": lambda: None, "shortcut": "Ctrl+Nope"}, "unknown key"),
    ],
)
def test_bad_items_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        MenuItem("Item", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("portable", "qt", "gtk"),
    [
        ("Ctrl+E", "Ctrl+E", "<Control>e"),
        ("CmdOrCtrl+Shift+s", "Ctrl+Shift+S", "<Control><Shift>s"),
        ("Alt+F4", "Alt+F4", "<Alt>F4"),
        ("Ctrl+-", "Ctrl+-", "<Control>minus"),
        ("Ctrl++", "Ctrl++", "<Control>plus"),
        ("Meta+PageDown", "Meta+PageDown", "<Super>Page_Down"),
    ],
)
def test_shortcuts_translate(portable: str, qt: str, gtk: str) -> None:
    assert qt_shortcut(portable) == qt
    assert gtk_accelerator(portable) == gtk
