"""With CSRF protection on (as in the real app), every form POST needs the token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from support import PASSWORD, csrf_token, dispose, make_app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    yield app
    dispose(app)


def register(client: FlaskClient) -> None:
    token = csrf_token(client.get("/auth/register").get_data(as_text=True))
    response = client.post(
        "/auth/register",
        data={"username": "alice", "password": PASSWORD, "confirm": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register"])
def test_auth_forms_need_the_token(client: FlaskClient, path: str) -> None:
    response = client.post(path, data={"username": "alice", "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_note_forms_need_the_token(client: FlaskClient) -> None:
    register(client)
    client.post("/api/notes", json={"title": "exists"})
    for path, data in [
        ("/notes/new", {"title": "x"}),
        ("/notes/1/edit", {"title": "x"}),
        ("/notes/1/delete", {}),
        ("/notes/import", {}),
        ("/auth/logout", {}),
    ]:
        assert client.post(path, data=data).status_code == 400, path
        assert client.post(path, data={**data, "csrf_token": "forged"}).status_code == 400, path
    assert client.get("/api/notes").json["notes"][0]["title"] == "exists"  # type: ignore[index]


def test_forms_work_with_the_token(client: FlaskClient) -> None:
    register(client)
    token = csrf_token(client.get("/notes/new").get_data(as_text=True))
    assert client.post("/notes/new", data={"title": "x", "csrf_token": token}).status_code == 302
    index = client.get("/notes/").get_data(as_text=True)
    assert client.post("/notes/1/delete", data={"csrf_token": csrf_token(index)}).status_code == 302


def test_the_json_api_is_exempt_but_still_needs_the_session(client: FlaskClient) -> None:
    assert client.post("/api/notes", json={"title": "x"}).status_code == 401
    register(client)
    assert client.post("/api/notes", json={"title": "x"}).status_code == 201
