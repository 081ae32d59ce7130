from __future__ import annotations

import io
import json
from datetime import datetime

import pytest
from flask import Flask

from notes.transfer import ImportFileError, parse_import
from support import Auth, flashes


def add(alice: Auth, title: str, body: str = "") -> None:
    response = alice.client.post("/notes/new", data={"title": title, "body": body}, follow_redirects=True)
    assert response.request.path == "/notes/"  # shown, so its flash is consumed


def upload(alice: Auth, content: bytes, filename: str = "notes.json") -> list[str]:
    response = alice.client.post(
        "/notes/import",
        data={"file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert response.request.path == "/notes/"
    return flashes(response)


def titles(alice: Auth) -> list[str]:
    return sorted(note["title"] for note in alice.client.get("/api/notes").json["notes"])  # type: ignore[index]


def test_export_is_a_json_download(alice: Auth) -> None:
    add(alice, "One", "first body")
    add(alice, "Two")
    response = alice.client.get("/notes/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == "attachment; filename=notes.json"
    document = json.loads(response.data)
    assert document["format"] == "flaskdesk-notes"
    assert document["version"] == 1
    assert sorted(n["title"] for n in document["notes"]) == ["One", "Two"]
    assert all(set(n) == {"title", "body", "created", "updated"} for n in document["notes"])


def test_export_then_import_round_trips(alice: Auth) -> None:
    add(alice, "One", "first body")
    exported = alice.client.get("/notes/export").data
    assert upload(alice, exported) == ["Imported 1 note."]
    notes = alice.client.get("/api/notes").json["notes"]  # type: ignore[index]
    assert [(n["title"], n["body"]) for n in notes] == [("One", "first body")] * 2
    assert notes[0]["created"] == notes[1]["created"]


def test_import_into_another_account(alice: Auth) -> None:
    add(alice, "One")
    exported = alice.client.get("/notes/export").data
    alice.logout()
    alice.client.get(alice.register("bob").headers["Location"])
    assert upload(alice, exported) == ["Imported 1 note."]
    assert titles(alice) == ["One"]


BAD_FILES = [
    (b"", "The file is empty."),
    (b"\xff\xfe\x00garbage", "not a text file"),
    (b"{not json", "not valid JSON (Expecting property name enclosed in double quotes at line 1, column 2)"),
    (b"[]", 'needs a "notes" list'),
    (b'{"notes": {}}', 'needs a "notes" list'),
    (b'{"format": "something-else", "notes": []}', "'something-else' file, not a notes export"),
    (b'{"version": 99, "notes": []}', "newer version of Notes"),
    (b'{"notes": [{"title": "ok"}, {"body": "no title"}]}', "note 2: it has no title"),
    (b'{"notes": ["a string"]}', "note 1: it is not an object"),
    (b'{"notes": [{"title": "ok", "body": 3}]}', "note 1: the body is not text"),
    (b'{"notes": [{"title": "ok", "created": "yesterday"}]}', 'note 1: "created" is not an ISO 8601 date'),
    ('{"notes": [{"title": "%s"}]}' % ("x" * 201), "longer than 200 characters"),
]


@pytest.mark.parametrize(("content", "message"), BAD_FILES)
def test_a_bad_file_is_refused_and_nothing_changes(alice: Auth, content: bytes | str, message: str) -> None:
    add(alice, "Existing", "precious")
    raw = content.encode() if isinstance(content, str) else content
    shown = upload(alice, raw)
    assert len(shown) == 1
    assert shown[0].startswith("Import failed:")
    assert message in shown[0]
    assert shown[0].endswith("Your notes were not changed.")
    assert titles(alice) == ["Existing"]


def test_import_form_errors(alice: Auth) -> None:
    add(alice, "Existing")
    response = alice.client.post("/notes/import", data={}, follow_redirects=True)
    assert flashes(response) == ["Import failed: Choose a file to import."]
    assert upload(alice, b'{"notes": []}', filename="notes.txt") == ["Import failed: Choose a .json file."]
    assert titles(alice) == ["Existing"]


def test_a_file_over_the_size_limit_is_refused(desktop_app: Flask, alice: Auth) -> None:
    desktop_app.config["MAX_CONTENT_LENGTH"] = 1000
    response = alice.client.post(
        "/notes/import",
        data={"file": (io.BytesIO(b" " * 2000), "notes.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413


def test_parse_import_accepts_partial_notes() -> None:
    notes = parse_import(
        '\ufeff{"notes": [{"title": " Hi ", "body": null, "created": "2024-05-01T10:00:00Z",'
        ' "updated": "2024-05-01T12:00:00+02:00"}]}'.encode()
    )
    assert len(notes) == 1
    assert notes[0].title == "Hi"
    assert notes[0].body == ""
    assert notes[0].created == datetime(2024, 5, 1, 10, 0)
    assert notes[0].updated == datetime(2024, 5, 1, 10, 0)


def test_parse_import_reports_several_problems_at_once() -> None:
    raw = json.dumps({"notes": [{"body": ""}] * 8}).encode()
    with pytest.raises(ImportFileError) as caught:
        parse_import(raw)
    message = str(caught.value)
    assert message.count("it has no title") == 5
    assert message.endswith("and 3 more.")
