"""The ``transport`` setting, from where a user sets it to what the launch builds (no window).

``Desktop(transport=...)``, ``FLASKDESK_TRANSPORT`` and ``[tool.flaskdesk] transport`` resolve like
every other setting; ``launch`` then builds an ``InProcessApp`` behind a ``SchemeGuard`` (no socket)
or a loopback ``Server`` behind a ``Guard``, and hands the window backend a session that says which.
The backend here is a stand-in that talks to the app through the session, as the engine would.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from flaskdesk import Desktop, launch
from flaskdesk.app.logs import BASE_LOGGERS
from flaskdesk.config import project_config_from_dict
from flaskdesk.devloop import refresh_url
from flaskdesk.errors import ConfigError
from flaskdesk.settings import DesktopArgs, resolve_settings
from flaskdesk.ui.scheme import ORIGIN, SchemeTransport
from flaskdesk.ui.window import WindowOptions, WindowSession


def test_transport_resolves_like_every_setting() -> None:
    def transport(args: DesktopArgs, env: dict[str, str], table: dict[str, Any] | None = None) -> str:
        project = project_config_from_dict(table, source="test") if table is not None else None
        return resolve_settings(args, default_name="m", project=project, env=env).transport

    assert transport(DesktopArgs(), {}) == "loopback"  # the default
    assert transport(DesktopArgs(transport="scheme"), {}) == "scheme"
    assert transport(DesktopArgs(transport="loopback"), {}, {"transport": "scheme"}) == "scheme"
    assert transport(DesktopArgs(transport="scheme"), {"FLASKDESK_TRANSPORT": "loopback"}) == "loopback"
    with pytest.raises(ConfigError, match="FLASKDESK_TRANSPORT"):
        transport(DesktopArgs(), {"FLASKDESK_TRANSPORT": "tcp"})


def test_desktop_checks_the_transport_it_is_given() -> None:
    assert Desktop(transport="Scheme").args.transport == "scheme"
    assert Desktop().args.transport is None
    with pytest.raises(ConfigError, match="'loopback', 'scheme'"):
        Desktop(transport="http")


class StandInBackend:
    """A window backend without a window: ``visit`` runs on the session (the main thread)."""

    name = "qt"

    def __init__(self, visit: Callable[[WindowSession], None]) -> None:
        self.visit = visit
        self.sessions: list[WindowSession] = []

    def run(self, session: WindowSession) -> None:
        self.sessions.append(session)
        self.visit(session)

    def show_error(self, title: str, html: str, options: WindowOptions) -> None:
        raise AssertionError(f"the launch failed: {html}")

    def close_all(self) -> None:
        pass


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Desktop]:
    monkeypatch.setenv("FLASKDESK_DATA_DIR", str(tmp_path / "data"))
    for variable in ("FLASKDESK_TRANSPORT", "FLASKDESK_GUI", "FLASKDESK_NAME"):
        monkeypatch.delenv(variable, raising=False)
    app = Flask("launched")
    app.secret_key = "test"
    desktop = Desktop(app, title="Launched", single_instance=False)

    @desktop.expose
    def add(a: int, b: int) -> int:
        return a + b

    @app.route("/")
    def index() -> str:
        return "<!doctype html><html><head><title>home</title></head><body>home</body></html>"

    @app.route("/remember")
    def remember() -> Any:
        from flask import make_response

        response = make_response("remembered")
        response.set_cookie("remember_token", "ada", max_age=3600, httponly=True)
        return response

    yield desktop
    for logger in (*map(logging.getLogger, BASE_LOGGERS), app.logger):  # the launch's log file
        for handler in list(logger.handlers):
            path = getattr(handler, "baseFilename", None)
            if path is not None and Path(path).is_relative_to(tmp_path):
                logger.removeHandler(handler)
                handler.close()


def engine_request(session: WindowSession, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    """What the window's engine does for one ``app://`` request."""
    assert session.scheme is not None
    headers = [("Accept", "text/html"), ("Content-Type", "application/json")] if body else []
    response = session.scheme.handle(method, f"{ORIGIN}{path}", headers, body, initiator=ORIGIN)
    head = threading.Event()
    response.on_head(lambda _: head.set())
    assert head.wait(10)
    assert response.body is not None
    return response.status, response.body


def test_scheme_launch_serves_in_process_and_binds_nothing(
    launched: Desktop, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, Any] = {}

    def visit(session: WindowSession) -> None:
        seen["page"] = engine_request(session, "GET", "/")
        call = json.dumps({"name": "add", "args": [2, 3], "kwargs": {}}).encode()
        seen["bridge"] = engine_request(session, "POST", "/__flaskdesk__/bridge", call)
        seen["launch"] = engine_request(session, "GET", "/__flaskdesk__/launch?token=x")
        seen["cookie"] = engine_request(session, "GET", "/remember")

    backend = StandInBackend(visit)
    monkeypatch.setattr(launch, "select_backend", lambda name=None: backend)

    def no_socket(*args: object) -> None:
        raise AssertionError("transport='scheme' must not bind a socket")

    monkeypatch.setattr(launch, "bind_server", no_socket)
    monkeypatch.setenv("FLASKDESK_TRANSPORT", "scheme")
    launched.run()

    (session,) = backend.sessions
    assert isinstance(session.scheme, SchemeTransport)
    assert (session.url, session.app_origin) == (f"{ORIGIN}/", ORIGIN)
    assert session.window_url is not None and session.window_url("/second") == f"{ORIGIN}/second"
    status, page = seen["page"]
    assert status == 200 and b"/__flaskdesk__/flaskdesk.js" in page  # the guard's script tag
    assert json.loads(seen["bridge"][1]) == {"ok": True, "result": 5}
    assert seen["launch"][0] == 404  # no launch token to trade over the scheme
    jar = tmp_path / "data" / "Launched" / "data" / "webview" / launch.SCHEME_COOKIE_FILE
    assert "remember_token" in jar.read_text()  # persistent cookies survive the run
    log_text = (tmp_path / "data" / "Launched" / "log" / "Launched.log").read_text()
    assert "serving on app://flaskdesk" in log_text and "closed cleanly" in log_text


def test_loopback_stays_the_default(launched: Desktop, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = StandInBackend(lambda session: None)
    monkeypatch.setattr(launch, "select_backend", lambda name=None: backend)
    launched.run()
    (session,) = backend.sessions
    assert session.scheme is None
    assert session.app_origin.startswith("http://127.0.0.1:")
    assert session.url.startswith(f"{session.app_origin}/__flaskdesk__/launch?")


def test_what_a_scheme_cannot_carry_is_logged_at_launch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from flaskdesk.app.paths import AppPaths

    app = Flask("sockets")
    app.url_map.add(Rule("/ws", endpoint="ws", websocket=True))
    caplog.set_level(logging.WARNING, logger="flaskdesk")
    transport = launch.in_process_app(app, AppPaths.for_app("sockets", data_root=tmp_path), "sockets")
    assert transport.origin == ORIGIN
    assert "WebSocket routes /ws cannot be served over the app:// scheme" in caplog.text
    assert 'use transport = "loopback"' in caplog.text


def test_dev_mode_refreshes_app_urls_too() -> None:
    assert refresh_url(f"{ORIGIN}/notes?x=1", ORIGIN) == f"{ORIGIN}/notes?x=1"
    assert refresh_url(f"{ORIGIN}/__flaskdesk__/bridge", ORIGIN) == f"{ORIGIN}/"
    assert refresh_url("app://other/notes", ORIGIN) is None
    assert refresh_url(f"{ORIGIN}/notes") is None  # without the origin, only http(s) pages
