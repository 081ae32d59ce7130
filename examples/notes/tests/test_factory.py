"""The app factory. Tests that build the app themselves (instance folder, secret key, a restart)
call ``create_app``/``make_app`` and use Flask's own test client; the others use the plugin's app
and the window's client.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect

from notes import create_app
from notes.extensions import db
from support import Auth, dispose, make_app


def test_instance_folder_and_default_database(tmp_path: Path) -> None:
    app = create_app({"TESTING": True}, instance_path=str(tmp_path / "inst"))
    try:
        assert (tmp_path / "inst").is_dir()
        assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + str(tmp_path / "inst" / "notes.sqlite")
    finally:
        dispose(app)


def test_secret_key_is_generated_private_and_kept(tmp_path: Path) -> None:
    first = make_app(tmp_path)
    key_file = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 64
    second = make_app(tmp_path)
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert [p.name for p in (tmp_path / "instance").iterdir()] == ["secret_key"]  # no temp files left
    dispose(first)
    dispose(second)


def test_secret_key_from_config_wins(tmp_path: Path) -> None:
    app = make_app(tmp_path, SECRET_KEY="from-config")
    assert app.config["SECRET_KEY"] == "from-config"
    assert not (tmp_path / "instance" / "secret_key").exists()
    dispose(app)


def test_empty_secret_key_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "secret_key").write_text("")
    with pytest.raises(RuntimeError, match="empty"):
        make_app(tmp_path)


def test_login_survives_a_restart(tmp_path: Path) -> None:
    """Same instance folder → same key → the session cookie of the last run still works."""
    first = make_app(tmp_path)
    client = first.test_client()
    Auth(client).register()
    cookie = client.get_cookie("session")
    assert cookie is not None
    dispose(first)

    second = make_app(tmp_path)
    again = second.test_client()
    again.set_cookie("session", cookie.value)
    assert again.get("/notes/").status_code == 200
    dispose(second)


def test_tables_are_created_on_first_request(desktop_app: Flask, desktop_client: FlaskClient) -> None:
    with desktop_app.app_context():
        assert inspect(db.engine).get_table_names() == []
    assert desktop_client.get("/api/health").json == {"ok": True}
    with desktop_app.app_context():
        assert set(inspect(db.engine).get_table_names()) == {"users", "notes"}


def test_root_sends_to_login_when_logged_out(desktop_client: FlaskClient) -> None:
    response = desktop_client.get("/", follow_redirects=True)
    assert response.request.path == "/auth/login"


def test_pages_have_no_inline_scripts(desktop_client: FlaskClient) -> None:
    """flaskdesk's CSP blocks inline scripts, styles and handlers; the app keeps all JS in static/app.js."""
    pages = [desktop_client.get("/auth/login"), desktop_client.get("/auth/register")]
    Auth(desktop_client).register()
    desktop_client.post("/notes/new", data={"title": "t", "body": "b"})
    pages += [desktop_client.get(path) for path in ("/notes/", "/notes/new", "/notes/1/edit")]
    for page in pages:
        assert page.status_code == 200
        path, html = page.request.path, page.get_data(as_text=True)
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert scripts, path
        assert all(" src=" in tag for tag in scripts), (path, scripts)
        assert " style=" not in html and "<style" not in html, path
        assert not re.search(r"<[^>]+\son[a-z]+=", html), path
