"""The desktop half: the window settings, ``word_count`` through the bridge, and the window's guard."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flaskdesk import BridgeError
from flaskdesk.testing.plugin import DesktopBridge

from notes.desktop import desktop, word_count
from support import Auth

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_the_app_registers_its_desktop(desktop_app: Flask) -> None:
    assert desktop_app.extensions["flaskdesk"] is desktop


WORD_COUNTS = [("", 0), ("a b c", 3), ("  one\ttwo\nthree  ", 3), ("naïve café", 2)]


@pytest.mark.parametrize(("text", "count"), WORD_COUNTS)
def test_word_count(text: str, count: int) -> None:
    assert word_count(text) == count


def test_word_count_refuses_non_text() -> None:
    with pytest.raises(TypeError):
        word_count(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "count"), WORD_COUNTS)
def test_word_count_through_the_bridge(desktop_bridge: DesktopBridge, text: str, count: int) -> None:
    """``desktop_bridge.word_count(text)`` is the page's ``await flaskdesk.api.word_count(text)``."""
    assert desktop_bridge.word_count(text) == count


@pytest.mark.parametrize(
    ("args", "kwargs", "name", "message"),
    [
        ([3], {}, "TypeError", "word_count(): argument 'text' must be string (str), not number"),
        ([], {}, "TypeError", "word_count(): missing a required argument: 'text'"),
        (["a", "b"], {}, "TypeError", "word_count(): too many positional arguments"),
        (
            [],
            {"text": "a", "words": "b"},
            "TypeError",
            "word_count(): got an unexpected keyword argument 'words'",
        ),
    ],
)
def test_the_bridge_refuses_wrong_arguments(
    desktop_bridge: DesktopBridge, args: list[Any], kwargs: dict[str, Any], name: str, message: str
) -> None:
    with pytest.raises(BridgeError) as caught:
        desktop_bridge.call("word_count", args, kwargs)
    assert (caught.value.name, caught.value.message) == (name, message)


def test_only_exposed_functions_can_be_called(desktop_bridge: DesktopBridge) -> None:
    for name in ("create_app", "load_or_create_secret_key", "__import__"):
        with pytest.raises(BridgeError) as caught:
            desktop_bridge.call(name, ["x"])
        assert caught.value.name == "LookupError", name


def test_pages_get_the_window_security_headers(desktop_client: FlaskClient) -> None:
    """Every page is served with a per-response CSP nonce, and base.html gives app.js that nonce."""
    nonces = set()
    for _ in range(2):
        page = desktop_client.get("/auth/login")
        assert page.status_code == 200
        policy = page.headers["Content-Security-Policy"]
        found = re.search(r"'nonce-([^']+)'", policy)
        assert found is not None, policy
        nonce = found.group(1)
        nonces.add(nonce)
        html = page.get_data(as_text=True)
        assert re.search(rf'<script src="/static/app\.js" nonce="{re.escape(nonce)}" defer>', html), html
        assert '<script src="/__flaskdesk__/flaskdesk.js"' in html
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"] == "no-referrer"
    assert len(nonces) == 2


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {"Origin": "http://evil.example"}],
)
def test_cross_site_writes_are_refused_before_the_app(alice: Auth, headers: dict[str, str]) -> None:
    """CSRF tokens are off in these tests, so only the guard stands between another site and the app."""
    client = alice.client
    assert client.post("/notes/new", data={"title": "forged"}, headers=headers).status_code == 403
    assert client.post("/api/notes", json={"title": "forged"}, headers=headers).status_code == 403
    assert client.get("/api/notes").json == {"notes": []}
    origin = client.origin  # type: ignore[attr-defined]
    response = client.post("/api/notes", json={"title": "mine"}, headers={"Origin": origin})
    assert response.status_code == 201


def test_window_settings() -> None:
    args = desktop.args
    assert (args.title, args.width, args.height, args.background_color) == ("Notes", 1000, 700, "#1f2430")


def test_page_background_matches_the_window() -> None:
    """The window's background-color and the page's must agree, or the window flashes while loading."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["flaskdesk"]
    css = (ROOT / "notes" / "static" / "style.css").read_text()
    rule = re.search(r"html, body \{ background: (#[0-9a-f]{6}); \}", css)
    assert rule is not None
    assert rule.group(1) == config["background-color"] == "#1f2430"


def test_icon_is_a_512_png() -> None:
    data = (ROOT / "packaging" / "icon.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (512, 512)
