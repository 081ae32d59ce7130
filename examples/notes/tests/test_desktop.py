"""The desktop half: the window settings, and ``word_count`` through the real flaskdesk bridge."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from flask import Flask

from notes.desktop import desktop, word_count

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
needs_flaskdesk = pytest.mark.skipif(
    getattr(desktop, "is_stand_in", False), reason="flaskdesk does not import yet (test stand-in in use)"
)


def test_the_app_registers_its_desktop(app: Flask) -> None:
    assert app.extensions["flaskdesk"] is desktop


@pytest.mark.parametrize(
    ("text", "count"), [("", 0), ("a b c", 3), ("  one\ttwo\nthree  ", 3), ("naïve café", 2)]
)
def test_word_count(text: str, count: int) -> None:
    assert word_count(text) == count


def test_word_count_refuses_non_text() -> None:
    with pytest.raises(TypeError):
        word_count(3)  # type: ignore[arg-type]


@needs_flaskdesk
def test_word_count_through_the_bridge(app: Flask) -> None:
    assert app.extensions["flaskdesk"].bridge.call("word_count", ["a b c"], {}) == 3


@needs_flaskdesk
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
