"""Native dialogs: open / save / folder pickers, confirm and message boxes.

:class:`Dialogs` is what ``desktop.dialogs`` is: callable from any thread (views, bridge functions,
menu actions), it asks the running window's :class:`DialogHost` (the window backend), which shows
the dialog on the GUI thread and blocks the caller until the user answers. Results are paths
(``str``) or ``None`` when the user cancels. Page script reaches the same dialogs through the
bridge as ``flaskdesk.dialogs.openFile(...)`` and so on (:meth:`Dialogs.bridge_functions`).

Pure logic here (argument checks, file-type parsing); the toolkits' dialogs are in ``_qt.py`` and
``_gtk.py``. A test can hand :class:`Dialogs` a fake host: that is the backend boundary.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, overload

from ..errors import WindowError

__all__ = [
    "DialogHost",
    "DialogKind",
    "Dialogs",
    "FileDialogRequest",
    "FileTypes",
    "MessageKind",
    "parse_file_types",
]

#: ``[("Images", ["*.png", "*.jpg"]), ...]``, ``["Images (*.png;*.jpg)", ...]`` or ``{"Images": [...]}``.
FileTypes = Sequence["str | tuple[str, Sequence[str]] | Sequence[Any]"] | Mapping[str, Sequence[str]]

_PYWEBVIEW_STYLE = re.compile(r"^\s*(?P<name>[^()]*?)\s*\((?P<patterns>[^()]*)\)\s*$")
_PATTERN = re.compile(r"^[^\x00-\x1f/\\]{1,100}$")


class DialogKind(enum.Enum):
    OPEN = "open"
    SAVE = "save"
    FOLDER = "folder"


class MessageKind(enum.Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    QUESTION = "question"


@dataclass(frozen=True)
class FileDialogRequest:
    """One file dialog, fully checked: what the backend shows."""

    kind: DialogKind
    title: str
    directory: str | None = None
    filename: str | None = None
    multiple: bool = False
    file_types: tuple[tuple[str, tuple[str, ...]], ...] = field(default_factory=tuple)


class DialogHost(Protocol):
    """Shows dialogs over the app's window (the backend implements it; thread-safe, blocking)."""

    def file_dialog(self, request: FileDialogRequest) -> list[str] | None:
        """The chosen paths, or ``None`` if the user cancelled (or the window closed meanwhile)."""

    def message_dialog(self, kind: MessageKind, title: str, message: str) -> bool:
        """Show a message; for :attr:`MessageKind.QUESTION` True means OK, anything else is True."""


def parse_file_types(file_types: FileTypes | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Normalise the accepted spellings to ``(("Images", ("*.png", "*.jpg")), ...)``.

    Accepts ``("Images", ["*.png", "*.jpg"])`` pairs, pywebview's ``"Images (*.png;*.jpg)"``
    strings and ``{"Images": ["*.png"]}``. A bare extension such as ``"png"`` or ``".png"`` means
    ``"*.png"``. Raises ``ValueError`` for anything else.
    """
    if file_types is None:
        return ()
    entries: list[tuple[str, Sequence[Any]]] = []
    if isinstance(file_types, Mapping):
        entries = [(str(name), patterns) for name, patterns in file_types.items()]
    elif isinstance(file_types, str):
        raise ValueError("file_types is a list of (name, patterns) pairs, not a single string")
    else:
        for entry in file_types:
            if isinstance(entry, str):
                match = _PYWEBVIEW_STYLE.match(entry)
                if match is None:
                    raise ValueError(f"file type {entry!r} is not like 'Images (*.png;*.jpg)'")
                entries.append((match.group("name"), re.split(r"[;\s]+", match.group("patterns").strip())))
            elif isinstance(entry, Sequence) and len(entry) == 2 and isinstance(entry[0], str):
                entries.append((entry[0], entry[1]))
            else:
                raise ValueError(f"file type {entry!r} is not a (name, patterns) pair")
    parsed = []
    for name, patterns in entries:
        if isinstance(patterns, str):
            patterns = patterns.replace(";", " ").split()
        cleaned = tuple(_pattern(p) for p in patterns)
        if not cleaned:
            raise ValueError(f"file type {name!r} has no patterns")
        parsed.append((name.strip() or ", ".join(cleaned), cleaned))
    return tuple(parsed)


def _pattern(value: object) -> str:
    if not isinstance(value, str) or not _PATTERN.match(value.strip()):
        raise ValueError(f"file pattern {value!r} is not like '*.png'")
    text = value.strip()
    if "*" not in text and "?" not in text:
        text = "*." + text.lstrip(".")
    return text


def _directory(directory: str | os.PathLike[str] | None) -> str | None:
    if directory is None:
        return None
    text = os.fspath(directory)
    return text if text and os.path.isdir(text) else None


class Dialogs:
    """``desktop.dialogs``: native dialogs over the app's window, from any thread.

    Each method blocks until the user answers. With no window open (before ``run()``, after the
    window closed, or on a backend without dialogs) a :class:`~flaskdesk.errors.WindowError` is
    raised.
    """

    def __init__(self, host: Callable[[], DialogHost | None]) -> None:
        self._host = host

    def _require(self) -> DialogHost:
        host = self._host()
        if host is None:
            raise WindowError(
                "No window is open to show a dialog over: dialogs work while the app runs in its window "
                "(from views, bridge functions and menu actions), not before desktop.run() or after it."
            )
        return host

    @overload
    def open_file(
        self,
        *,
        title: str = ...,
        directory: str | os.PathLike[str] | None = ...,
        file_types: FileTypes | None = ...,
        multiple: Literal[False] = ...,
    ) -> str | None: ...
    @overload
    def open_file(
        self,
        *,
        title: str = ...,
        directory: str | os.PathLike[str] | None = ...,
        file_types: FileTypes | None = ...,
        multiple: Literal[True],
    ) -> list[str] | None: ...
    @overload
    def open_file(
        self,
        *,
        title: str = ...,
        directory: str | os.PathLike[str] | None = ...,
        file_types: FileTypes | None = ...,
        multiple: bool,
    ) -> str | list[str] | None: ...
    def open_file(
        self,
        *,
        title: str = "Open",
        directory: str | os.PathLike[str] | None = None,
        file_types: FileTypes | None = None,
        multiple: bool = False,
    ) -> str | list[str] | None:
        """Ask for a file to open: its path (a list with ``multiple=True``), or ``None`` if cancelled."""
        request = FileDialogRequest(
            DialogKind.OPEN, title, _directory(directory), None, bool(multiple), parse_file_types(file_types)
        )
        chosen = self._require().file_dialog(request)
        if not chosen:
            return None
        return list(chosen) if multiple else chosen[0]

    def save_file(
        self,
        *,
        title: str = "Save",
        filename: str | None = None,
        directory: str | os.PathLike[str] | None = None,
        file_types: FileTypes | None = None,
    ) -> str | None:
        """Ask where to save (``filename`` is suggested): the path, or ``None`` if cancelled.

        The dialog asks before replacing an existing file; the file itself is the caller's to write.
        """
        if filename is not None and (os.sep in filename or (os.altsep and os.altsep in filename)):
            raise ValueError("filename is a file name; pass the folder as directory=")
        request = FileDialogRequest(
            DialogKind.SAVE,
            title,
            _directory(directory),
            filename or None,
            False,
            parse_file_types(file_types),
        )
        chosen = self._require().file_dialog(request)
        return chosen[0] if chosen else None

    def choose_folder(
        self, *, title: str = "Choose a folder", directory: str | os.PathLike[str] | None = None
    ) -> str | None:
        """Ask for a folder: its path, or ``None`` if cancelled."""
        request = FileDialogRequest(DialogKind.FOLDER, title, _directory(directory))
        chosen = self._require().file_dialog(request)
        return chosen[0] if chosen else None

    def confirm(self, message: str, *, title: str = "Confirm") -> bool:
        """Ask an OK/Cancel question: True for OK."""
        return bool(self._require().message_dialog(MessageKind.QUESTION, str(title), str(message)))

    def message(self, message: str, *, title: str = "", kind: str = "info") -> None:
        """Show a message with an OK button (``kind``: ``"info"``, ``"warning"`` or ``"error"``)."""
        try:
            level = MessageKind(kind)
        except ValueError:
            raise ValueError("kind must be 'info', 'warning' or 'error'") from None
        if level is MessageKind.QUESTION:
            raise ValueError("kind must be 'info', 'warning' or 'error' (use confirm() to ask)")
        self._require().message_dialog(level, str(title), str(message))

    # -- the page's side ---------------------------------------------------------------------------

    def bridge_functions(self) -> dict[str, Callable[..., Any]]:
        """``flaskdesk.dialogs.*`` for the JS shim: name → function taking the page's (camelCase) options."""

        def open_file(
            title: str = "Open",
            directory: str | None = None,
            fileTypes: list[Any] | None = None,
            multiple: bool = False,
        ) -> str | list[str] | None:
            result: str | list[str] | None = self.open_file(
                title=title, directory=directory, file_types=fileTypes, multiple=multiple
            )
            return result

        def save_file(
            title: str = "Save",
            filename: str | None = None,
            directory: str | None = None,
            fileTypes: list[Any] | None = None,
        ) -> str | None:
            return self.save_file(title=title, filename=filename, directory=directory, file_types=fileTypes)

        def choose_folder(title: str = "Choose a folder", directory: str | None = None) -> str | None:
            return self.choose_folder(title=title, directory=directory)

        def confirm(message: str, title: str = "Confirm") -> bool:
            return self.confirm(message, title=title)

        def message(message: str, title: str = "", kind: str = "info") -> None:
            self.message(message, title=title, kind=kind)

        return {
            "openFile": open_file,
            "saveFile": save_file,
            "chooseFolder": choose_folder,
            "confirm": confirm,
            "message": message,
        }
