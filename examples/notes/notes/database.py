"""Creating the tables: ``flask init-db`` (run by flaskdesk on first launch), else on first request.

Both only ever create what is missing (``create_all``); nothing here drops or empties a table.
"""

from __future__ import annotations

import threading

import click
from flask.cli import with_appcontext

from .extensions import db


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database tables that do not exist yet (safe to run again: keeps all data)."""
    db.create_all()
    click.echo("Database ready.")


class TablesOnFirstRequest:
    """A ``before_request`` hook that creates missing tables once, so the app works without ``init-db``.

    The app is served by several threads, so the first requests may arrive together: a lock makes
    exactly one of them run ``create_all``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = False

    def __call__(self) -> None:
        if self._done:
            return
        with self._lock:
            if not self._done:
                db.create_all()
                self._done = True
