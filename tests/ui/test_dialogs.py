"""``desktop.dialogs`` at the backend boundary: a fake host records what would be shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flaskdesk import BridgeError, Desktop, WindowError
from flaskdesk.ui.bridge import INTERNAL_PREFIX
from flaskdesk.ui.dialogs import DialogKind, Dialogs, FileDialogRequest, MessageKind, parse_file_types


class FakeHost:
    """Answers every dialog from a list, and records the requests."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.requests: list[Any] = []

    def file_dialog(self, request: FileDialogRequest) -> list[str] | None:
        self.requests.append(request)
        answer: list[str] | None = self.answers.pop(0)
        return answer

    def message_dialog(self, kind: MessageKind, title: str, message: str) -> bool:
        self.requests.append((kind, title, message))
        return bool(self.answers.pop(0))


def test_open_file_returns_a_path_or_none(tmp_path: Path) -> None:
    host = FakeHost(["/home/u/a.txt"], None, ["/x/1.png", "/x/2.png"])
    dialogs = Dialogs(lambda: host)
    assert dialogs.open_file(directory=tmp_path, file_types=[("Text", ["*.txt", "md"])]) == "/home/u/a.txt"
    assert dialogs.open_file() is None
    assert dialogs.open_file(multiple=True, directory=tmp_path / "missing") == ["/x/1.png", "/x/2.png"]
    first, _, third = host.requests
    assert first == FileDialogRequest(
        DialogKind.OPEN, "Open", str(tmp_path), None, False, (("Text", ("*.txt", "*.md")),)
    )
    assert third.multiple and third.directory is None  # a folder that does not exist is not passed on


def test_save_folder_confirm_and_message() -> None:
    host = FakeHost(["/out/report.csv"], ["/out"], True, False, True)
    dialogs = Dialogs(lambda: host)
    assert dialogs.save_file(filename="report.csv", file_types=["CSV (*.csv)"]) == "/out/report.csv"
    assert dialogs.choose_folder() == "/out"
    assert dialogs.confirm("Delete it?") is True
    assert dialogs.confirm("Really?", title="Sure") is False
    assert dialogs.message("Saved", kind="warning") is None
    save, folder, *messages = host.requests
    assert (save.kind, save.filename, save.file_types) == (
        DialogKind.SAVE,
        "report.csv",
        (("CSV", ("*.csv",)),),
    )
    assert folder.kind is DialogKind.FOLDER
    assert messages == [
        (MessageKind.QUESTION, "Confirm", "Delete it?"),
        (MessageKind.QUESTION, "Sure", "Really?"),
        (MessageKind.WARNING, "", "Saved"),
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda d: d.save_file(filename="../etc/passwd"), "filename is a file name"),
        (lambda d: d.message("x", kind="shout"), "kind must be"),
        (lambda d: d.message("x", kind="question"), "use confirm"),
        (lambda d: d.open_file(file_types="*.txt"), "not a single string"),
        (lambda d: d.open_file(file_types=[("Bad", ["a/b"])]), "is not like"),
        (lambda d: d.open_file(file_types=["no patterns here"]), "is not like"),
    ],
)
def test_bad_arguments(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(Dialogs(lambda: FakeHost([], True)))


def test_file_type_spellings() -> None:
    assert parse_file_types({"Images": ["png", ".jpg"]}) == (("Images", ("*.png", "*.jpg")),)
    assert parse_file_types(["Web (*.html;*.htm)"]) == (("Web", ("*.html", "*.htm")),)
    assert parse_file_types(None) == ()


def test_without_a_window_dialogs_say_so() -> None:
    with pytest.raises(WindowError, match="No window is open to show a dialog"):
        Dialogs(lambda: None).confirm("?")
    desktop = Desktop(Flask("no_window"))
    with pytest.raises(WindowError):
        desktop.dialogs.open_file()
    with pytest.raises(WindowError, match="open_window\\(\\) works while the app runs"):
        desktop.open_window("/x")


def test_the_page_reaches_the_dialogs_through_reserved_bridge_names() -> None:
    desktop = Desktop(Flask("bridge_dialogs"))
    host = FakeHost(["/a.txt"], True)
    desktop.dialogs = Dialogs(lambda: host)
    for name, fn in desktop.dialogs.bridge_functions().items():
        desktop.bridge.expose_internal(f"dialogs.{name}", fn)
    call = desktop.bridge.call
    assert call(INTERNAL_PREFIX + "dialogs.openFile", [], {"fileTypes": [["Text", ["*.txt"]]]}) == "/a.txt"
    assert call(INTERNAL_PREFIX + "dialogs.confirm", ["Go?"], {"title": "Q"}) is True
    assert host.requests[0].file_types == (("Text", ("*.txt",)),)
    assert desktop.bridge.names() == []  # flaskdesk's own functions are not the app's
    with pytest.raises(BridgeError) as caught:
        call(INTERNAL_PREFIX + "dialogs.confirm", [3], {})
    assert caught.value.name == "TypeError"
    with pytest.raises(ValueError, match="cannot expose"):
        desktop.expose(lambda: None, name="_flaskdesk.dialogs.openFile")
