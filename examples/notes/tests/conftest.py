"""Fixtures: a fresh app per test, with its instance folder and database in the test's temp dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

try:
    import flaskdesk  # noqa: F401

    FLASKDESK_ERROR: ImportError | None = None
except ImportError as error:  # flaskdesk is mid-development in this repository
    from _flaskdesk_stand_in import install

    FLASKDESK_ERROR = error
    install(error)

from support import Auth, dispose, make_app


def pytest_report_header() -> str | None:
    if FLASKDESK_ERROR is None:
        return None
    return f"flaskdesk does not import ({FLASKDESK_ERROR}); using the test stand-in, bridge tests skipped"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(tmp_path)
    yield app
    dispose(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


@pytest.fixture
def alice(auth: Auth) -> Auth:
    """A client logged in as a freshly registered user ``alice``."""
    response = auth.register()
    assert response.status_code == 302, response.get_data(as_text=True)
    auth.client.get(response.headers["Location"])  # show (and so clear) the welcome message
    return auth
