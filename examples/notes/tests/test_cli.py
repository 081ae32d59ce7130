from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, inspect, select

from notes.extensions import db
from notes.models import Note
from support import Auth


def test_init_db_creates_the_tables(desktop_app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Database ready." in result.output
    with desktop_app.app_context():
        assert set(inspect(db.engine).get_table_names()) == {"users", "notes"}


def test_init_db_twice_keeps_the_data(desktop_app: Flask, runner: FlaskCliRunner, alice: Auth) -> None:
    alice.client.post("/notes/new", data={"title": "keep me"})
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
    with desktop_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Note)) == 1
    assert alice.client.get("/notes/1/edit").status_code == 200  # the user is still there too
