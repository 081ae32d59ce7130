"""Fixtures on top of flaskdesk's pytest plugin (installed with flaskdesk: no import needed here).

The plugin finds the app the way ``flaskdesk run`` does, from ``[tool.flaskdesk] app`` in
pyproject.toml, and gives every test a fresh data dir in its ``tmp_path``: the app's instance
folder, and so its SQLite database and secret key, live there. ``desktop_client`` sends requests
through the guard the window's requests pass (CSP, Host allow-list, origin checks), and
``desktop_bridge`` calls ``word_count`` as the page's script does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from support import Auth, dispose


@pytest.fixture
def desktop_app(desktop_app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """The plugin's app (``notes:create_app()``), with CSRF tokens off for the form tests.

    tests/test_csrf.py turns them back on; the database must be in the test's temp dir.
    """
    database = desktop_app.config["SQLALCHEMY_DATABASE_URI"]
    assert database.startswith("sqlite:///" + str(tmp_path)), database
    desktop_app.config["WTF_CSRF_ENABLED"] = False
    yield desktop_app
    dispose(desktop_app)


@pytest.fixture
def runner(desktop_app: Flask) -> FlaskCliRunner:
    return desktop_app.test_cli_runner()


@pytest.fixture
def auth(desktop_client: FlaskClient) -> Auth:
    return Auth(desktop_client)


@pytest.fixture
def alice(auth: Auth) -> Auth:
    """The window's client, logged in as a freshly registered user ``alice``."""
    response = auth.register()
    assert response.status_code == 302, response.get_data(as_text=True)
    auth.client.get(response.headers["Location"])  # show (and so clear) the welcome message
    return auth
