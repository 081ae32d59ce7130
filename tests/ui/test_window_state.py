"""Remembered window geometry: the file, and clamping to the screens there are now."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from flaskdesk.ui.window_state import Rect, WindowState, WindowStateFile, clamp

ONE = [Rect(0, 0, 1280, 800)]
TWO = [Rect(0, 0, 1920, 1080), Rect(1920, 0, 1280, 1024)]


@pytest.mark.parametrize(
    ("saved", "screens", "expected"),
    [
        # fits: kept as it was
        (WindowState(800, 600, 100, 50), ONE, WindowState(800, 600, 100, 50)),
        # on the second monitor, which is still there
        (WindowState(800, 600, 2000, 100), TWO, WindowState(800, 600, 2000, 100)),
        # the second monitor was unplugged: centred on the first screen
        (WindowState(800, 600, 2000, 100), ONE, WindowState(800, 600, 240, 100)),
        # never placed (Wayland): centred too
        (WindowState(800, 600, None, None), ONE, WindowState(800, 600, 240, 100)),
        # bigger than any screen: shrunk to the largest, and moved fully onto it
        (WindowState(3000, 2000, 10, 10, True), ONE, WindowState(1280, 800, 0, 0, True)),
        # hanging off the right edge but reachable: pulled in
        (WindowState(800, 600, 1000, 700), ONE, WindowState(800, 600, 480, 200)),
        # title bar above the screen: not reachable, so centred
        (WindowState(800, 600, 100, -700), ONE, WindowState(800, 600, 240, 100)),
        # tiny: grown to the minimum size
        (WindowState(10, 10, 0, 0), ONE, WindowState(200, 100, 0, 0)),
        # no screen information: size kept, position kept
        (WindowState(800, 600, 5, 5), [], WindowState(800, 600, 5, 5)),
    ],
)
def test_clamp(saved: WindowState, screens: list[Rect], expected: WindowState) -> None:
    assert clamp(saved, screens) == expected


def test_the_file_keeps_each_window_apart(tmp_path: Path) -> None:
    states = WindowStateFile(tmp_path / "config" / "window-state.json")
    assert states.load("main") is None
    states.save("main", WindowState(900, 650, 10, 20, False))
    states.save("window:/settings", WindowState(400, 300, None, None, True))
    again = WindowStateFile(tmp_path / "config" / "window-state.json")
    assert again.load("main") == WindowState(900, 650, 10, 20, False)
    assert again.load("window:/settings") == WindowState(400, 300, None, None, True)


@pytest.mark.parametrize(
    "content",
    [
        "{broken",
        "[]",
        json.dumps({"main": {"width": "wide", "height": 3}}),
        json.dumps({"main": {"width": 0, "height": 3}}),
    ],
)
def test_a_bad_file_means_defaults(tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "window-state.json"
    path.write_text(content)
    states = WindowStateFile(path)
    with caplog.at_level(logging.WARNING):
        assert states.load("main") is None
    states.save("main", WindowState(500, 400))  # and the next save repairs it
    assert WindowStateFile(path).load("main") == WindowState(500, 400)
