from __future__ import annotations

from flask import Flask

from notes.extensions import db
from notes.models import Note
from support import Auth, flashes


def add(alice: Auth, title: str = "Groceries", body: str = "milk eggs") -> None:
    response = alice.client.post("/notes/new", data={"title": title, "body": body})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_create_and_list(alice: Auth) -> None:
    page = alice.client.get("/notes/new")
    assert page.status_code == 200
    assert 'data-word-count="word-count"' in page.get_data(as_text=True)
    add(alice)
    page = alice.client.get("/notes/")
    html = page.get_data(as_text=True)
    assert "Groceries" in html
    assert "milk eggs" in html
    assert "Created “Groceries”." in flashes(page)


def test_create_shows_validation_errors(alice: Auth) -> None:
    response = alice.client.post("/notes/new", data={"title": "", "body": "x"})
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)
    response = alice.client.post("/notes/new", data={"title": "x" * 201})
    assert "cannot be longer than 200 characters" in response.get_data(as_text=True)


def test_edit(desktop_app: Flask, alice: Auth) -> None:
    add(alice)
    page = alice.client.get("/notes/1/edit")
    assert page.status_code == 200
    assert 'value="Groceries"' in page.get_data(as_text=True)
    response = alice.client.post("/notes/1/edit", data={"title": "Shopping", "body": "bread"})
    assert response.status_code == 302
    with desktop_app.app_context():
        note = db.session.get(Note, 1)
        assert note is not None
        assert (note.title, note.body) == ("Shopping", "bread")
        assert note.updated >= note.created


def test_delete(desktop_app: Flask, alice: Auth) -> None:
    add(alice)
    assert alice.client.get("/notes/1/delete").status_code == 405
    response = alice.client.post("/notes/1/delete")
    assert response.status_code == 302
    with desktop_app.app_context():
        assert db.session.get(Note, 1) is None
    assert alice.client.post("/notes/1/delete").status_code == 404


def test_other_users_notes_are_not_found(alice: Auth) -> None:
    add(alice)
    alice.logout()
    alice.register("bob")
    assert alice.client.get("/api/notes").json == {"notes": []}
    assert alice.client.get("/notes/1/edit").status_code == 404
    assert alice.client.post("/notes/1/edit", data={"title": "mine now"}).status_code == 404
    assert alice.client.post("/notes/1/delete").status_code == 404
