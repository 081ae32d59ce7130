"""With CSRF protection on (as in the real app), every form POST needs the token.

Requests go through the window's guard (``desktop_client``): a same-origin request from the window
passes the guard, and it is then the app's own CSRF check that refuses a POST without the token.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from support import PASSWORD, csrf_token


@pytest.fixture
def desktop_app(desktop_app: Flask) -> Flask:
    desktop_app.config["WTF_CSRF_ENABLED"] = True  # as in the real app (conftest.py turns it off)
    return desktop_app


def register(client: FlaskClient) -> None:
    token = csrf_token(client.get("/auth/register").get_data(as_text=True))
    response = client.post(
        "/auth/register",
        data={"username": "alice", "password": PASSWORD, "confirm": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register"])
def test_auth_forms_need_the_token(desktop_client: FlaskClient, path: str) -> None:
    response = desktop_client.post(
        path, data={"username": "alice", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_note_forms_need_the_token(desktop_client: FlaskClient) -> None:
    register(desktop_client)
    desktop_client.post("/api/notes", json={"title": "exists"})
    for path, data in [
        ("/notes/new", {"title": "x"}),
        ("/notes/1/edit", {"title": "x"}),
        ("/notes/1/delete", {}),
        ("/notes/import", {}),
        ("/auth/logout", {}),
    ]:
        assert desktop_client.post(path, data=data).status_code == 400, path
        assert desktop_client.post(path, data={**data, "csrf_token": "forged"}).status_code == 400, path
    assert desktop_client.get("/api/notes").json["notes"][0]["title"] == "exists"  # type: ignore[index]


def test_forms_work_with_the_token(desktop_client: FlaskClient) -> None:
    register(desktop_client)
    token = csrf_token(desktop_client.get("/notes/new").get_data(as_text=True))
    assert desktop_client.post("/notes/new", data={"title": "x", "csrf_token": token}).status_code == 302
    index = desktop_client.get("/notes/").get_data(as_text=True)
    assert desktop_client.post("/notes/1/delete", data={"csrf_token": csrf_token(index)}).status_code == 302


def test_the_json_api_is_exempt_but_still_needs_the_session(desktop_client: FlaskClient) -> None:
    assert desktop_client.post("/api/notes", json={"title": "x"}).status_code == 401
    register(desktop_client)
    assert desktop_client.post("/api/notes", json={"title": "x"}).status_code == 201
