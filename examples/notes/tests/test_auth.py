from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from notes.extensions import db
from notes.models import User
from support import PASSWORD, Auth, flashes


def test_register_logs_in_and_hashes_the_password(desktop_app: Flask, auth: Auth) -> None:
    response = auth.register()
    assert response.status_code == 302
    assert response.headers["Location"] == "/notes/"
    page = auth.client.get("/notes/")
    assert page.status_code == 200
    assert "Welcome, alice!" in flashes(page)
    with desktop_app.app_context():
        user = db.session.scalar(select(User).where(User.username == "alice"))
        assert user is not None
        assert user.password_hash != PASSWORD
        assert user.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "al", "password": PASSWORD, "confirm": PASSWORD}, "between 3 and 40 characters"),
        ({"username": "a b c", "password": PASSWORD, "confirm": PASSWORD}, "letters, digits"),
        ({"username": "alice", "password": "short", "confirm": "short"}, "between 8 and 200 characters"),
        ({"username": "alice", "password": PASSWORD, "confirm": "something else"}, "The passwords differ."),
        ({"username": "", "password": PASSWORD, "confirm": PASSWORD}, "This field is required."),
    ],
)
def test_register_shows_validation_errors_in_the_form(
    desktop_client: FlaskClient, data: dict[str, str], message: str
) -> None:
    response = desktop_client.post("/auth/register", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<p class="error">' in html
    assert message in html


def test_register_refuses_a_taken_username(alice: Auth) -> None:
    alice.logout()
    response = alice.register()
    assert response.status_code == 200
    assert "That username is taken." in response.get_data(as_text=True)


def test_login_and_logout(alice: Auth) -> None:
    response = alice.logout()
    assert response.headers["Location"] == "/auth/login"
    assert alice.client.get("/notes/").status_code == 302
    response = alice.login()
    assert response.status_code == 302
    assert response.headers["Location"] == "/notes/"
    assert alice.client.get("/notes/").status_code == 200


def test_login_with_a_wrong_password(alice: Auth) -> None:
    alice.logout()
    response = alice.login(password="not the password")
    assert response.status_code == 200
    assert "Wrong username or password." in response.get_data(as_text=True)
    assert alice.client.get("/notes/").status_code == 302


def test_logout_needs_post(alice: Auth) -> None:
    assert alice.client.get("/auth/logout").status_code == 405


def test_notes_require_login(desktop_client: FlaskClient) -> None:
    for path in ("/notes/", "/notes/new", "/notes/1/edit", "/notes/export"):
        response = desktop_client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/auth/login?next="), path
    assert desktop_client.post("/notes/1/delete").status_code == 302


@pytest.mark.parametrize(
    ("next_", "expected"),
    [
        ("/notes/new", "/notes/new"),
        ("https://evil.example/", "/notes/"),
        ("//evil.example/", "/notes/"),
        ("/\\evil.example/", "/notes/"),
        ("notes", "/notes/"),
    ],
)
def test_login_redirects_only_within_the_app(alice: Auth, next_: str, expected: str) -> None:
    alice.logout()
    response = alice.client.post(
        "/auth/login", query_string={"next": next_}, data={"username": "alice", "password": PASSWORD}
    )
    assert response.headers["Location"] == expected
