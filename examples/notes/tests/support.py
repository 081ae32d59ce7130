"""Helpers shared by the tests (fixtures that use them are in conftest.py)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from notes import create_app
from notes.extensions import db

PASSWORD = "correct horse battery"


def make_app(tmp_path: Path, **config: object) -> Flask:
    """A test app whose instance folder and database live in ``tmp_path``."""
    settings = {
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "notes.sqlite"),
        **config,
    }
    return create_app(settings, instance_path=str(tmp_path / "instance"))


def dispose(app: Flask) -> None:
    """Close the app's database connections (an open SQLite file is a ResourceWarning later)."""
    with app.app_context():
        db.engine.dispose()


@dataclass
class Auth:
    client: FlaskClient

    def register(self, username: str = "alice", password: str = PASSWORD) -> TestResponse:
        return self.client.post(
            "/auth/register", data={"username": username, "password": password, "confirm": password}
        )

    def login(self, username: str = "alice", password: str = PASSWORD) -> TestResponse:
        return self.client.post("/auth/login", data={"username": username, "password": password})

    def logout(self) -> TestResponse:
        return self.client.post("/auth/logout")


def csrf_token(html: str) -> str:
    """The CSRF token in a rendered form."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def flashes(response: TestResponse) -> list[str]:
    """The flashed messages shown on a page."""
    return [
        html.unescape(re.sub(r"\s+", " ", m).strip())
        for m in re.findall(r'<li class="flash[^"]*">(.*?)</li>', response.get_data(as_text=True), re.S)
    ]
