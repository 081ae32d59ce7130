"""Export and import of notes as JSON: pure functions, so the rules are tested without HTTP.

The file format::

    {"format": "flaskdesk-notes", "version": 1, "exported": "<ISO 8601>",
     "notes": [{"title": "...", "body": "...", "created": "<ISO 8601>", "updated": "<ISO 8601>"}]}

On import only ``notes`` and each note's ``title`` are required; ``body``, ``created`` and
``updated`` are optional. A file is accepted whole or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .models import TITLE_MAX, Note, utcnow

FORMAT = "flaskdesk-notes"
VERSION = 1
MAX_ERRORS_SHOWN = 5


class ImportFileError(ValueError):
    """The uploaded file is not a notes export; the message says why, for the user."""


@dataclass(frozen=True)
class ImportedNote:
    title: str
    body: str
    created: datetime | None
    updated: datetime | None


def export_document(notes: Iterable[Note], *, now: datetime | None = None) -> dict[str, Any]:
    """The export file's content for ``notes``."""
    exported = (now or utcnow()).replace(tzinfo=timezone.utc).isoformat()
    items = []
    for note in notes:
        data = note.to_dict()
        del data["id"]  # ids belong to this database; an import creates new ones
        items.append(data)
    return {"format": FORMAT, "version": VERSION, "exported": exported, "notes": items}


def export_bytes(notes: Iterable[Note], *, now: datetime | None = None) -> bytes:
    return json.dumps(export_document(notes, now=now), ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def parse_import(raw: bytes) -> list[ImportedNote]:
    """Validate an uploaded export and return its notes; raise :class:`ImportFileError` on any problem."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError("The file is not a text file (it is not UTF-8).") from None
    if not text.strip():
        raise ImportFileError("The file is empty.")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportFileError(
            f"The file is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})."
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("notes"), list):
        raise ImportFileError('The file is not a notes export: it needs a "notes" list.')
    if "format" in document and document["format"] != FORMAT:
        raise ImportFileError(f"The file is a {document['format']!r} file, not a notes export.")
    version = document.get("version", VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version > VERSION:
        raise ImportFileError(f"The file is from a newer version of Notes (format version {version}).")

    notes: list[ImportedNote] = []
    errors: list[str] = []
    for number, item in enumerate(document["notes"], start=1):
        try:
            notes.append(_parse_note(item))
        except ValueError as error:
            errors.append(f"note {number}: {error}")
    if errors:
        shown = "; ".join(errors[:MAX_ERRORS_SHOWN])
        more = len(errors) - MAX_ERRORS_SHOWN
        raise ImportFileError(
            "Nothing was imported, because of problems in the file: "
            + shown
            + (f"; and {more} more." if more > 0 else ".")
        )
    return notes


def _parse_note(item: Any) -> ImportedNote:
    if not isinstance(item, dict):
        raise ValueError("it is not an object")
    title = item.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ValueError("it has no title")
    if len(title) > TITLE_MAX:
        raise ValueError(f"the title is longer than {TITLE_MAX} characters")
    body = item.get("body", "")
    if body is None:
        body = ""
    if not isinstance(body, str):
        raise ValueError("the body is not text")
    return ImportedNote(
        title=title.strip(),
        body=body,
        created=_parse_time(item, "created"),
        updated=_parse_time(item, "updated"),
    )


def _parse_time(item: dict[str, Any], key: str) -> datetime | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f'"{key}" is not a date')
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f'"{key}" is not an ISO 8601 date: {value[:40]!r}') from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment
