"""Window state across runs: size, position and maximized, per window, clamped to today's screens.

The toolkit hooks read the geometry when a window closes and apply it before a window is first
shown; this module is the pure part: the file (``window-state.json`` in the app's config dir,
written atomically), and :func:`clamp`, which makes a remembered geometry fit the screens that
exist *now* (a monitor may have been unplugged since: a window must never open off-screen).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from ..store import atomic_write

log = logging.getLogger("flaskdesk.ui")

#: How much of a window's title bar must stay on a screen for it to count as reachable.
_VISIBLE_MARGIN = 48


@dataclass(frozen=True)
class Rect:
    """A screen's area, in the toolkit's logical pixels."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class WindowState:
    """What is remembered of one window. ``x``/``y`` are ``None`` where positions are not known."""

    width: int
    height: int
    x: int | None = None
    y: int | None = None
    maximized: bool = False


def clamp(
    state: WindowState, screens: Sequence[Rect], *, min_size: tuple[int, int] = (200, 100)
) -> WindowState:
    """``state`` made to fit ``screens``: no bigger than the largest, and on one of them.

    A size is shrunk to the largest screen and grown to ``min_size``. A position whose window
    would not show at least a title bar's worth on any screen (a monitor that is gone) is
    replaced by the window centred on the first screen; one that hangs over a screen's edge is
    moved onto it. With no screen information the state is only kept within ``min_size``.
    """
    width = max(state.width, min_size[0])
    height = max(state.height, min_size[1])
    if not screens:
        return WindowState(width, height, state.x, state.y, state.maximized)
    biggest = max(screens, key=lambda s: s.width * s.height)
    width = min(width, biggest.width)
    height = min(height, biggest.height)
    x, y = state.x, state.y
    home = _screen_showing(x, y, width, screens) if x is not None and y is not None else None
    if home is None:
        home = screens[0]
        x = home.x + (home.width - width) // 2
        y = home.y + (home.height - height) // 2
    assert x is not None and y is not None
    # Entirely on that screen where it fits.
    x = min(max(x, home.x), home.x + max(home.width - width, 0))
    y = min(max(y, home.y), home.y + max(home.height - height, 0))
    return WindowState(width, height, x, y, state.maximized)


def _screen_showing(x: int, y: int, width: int, screens: Sequence[Rect]) -> Rect | None:
    """The screen on which the window's top strip (its title bar) would be visible enough."""
    for screen in screens:
        visible = min(x + width, screen.x + screen.width) - max(x, screen.x)
        if (
            visible >= min(_VISIBLE_MARGIN, width)
            and screen.y <= y < screen.y + screen.height - _VISIBLE_MARGIN // 2
        ):
            return screen
    return None


class WindowStateFile:
    """``{window key: WindowState}`` in one JSON file; thread-safe, tolerant of a damaged file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def load(self, key: str) -> WindowState | None:
        """The remembered state of window ``key``, or ``None`` (never raises for a bad file)."""
        with self._lock:
            entry = self._read().get(key)
        if not isinstance(entry, dict):
            return None
        try:
            state = WindowState(
                width=_int(entry["width"]),
                height=_int(entry["height"]),
                x=None if entry.get("x") is None else _int(entry["x"]),
                y=None if entry.get("y") is None else _int(entry["y"]),
                maximized=bool(entry.get("maximized", False)),
            )
        except (KeyError, TypeError, ValueError):
            log.warning("ignoring the remembered state of window %r in %s: it is malformed", key, self.path)
            return None
        if state.width <= 0 or state.height <= 0:
            return None
        return state

    def save(self, key: str, state: WindowState) -> None:
        """Remember ``state`` for ``key`` (logs, never raises: closing must not fail over this)."""
        with self._lock:
            data = self._read()
            data[key] = asdict(state)
            try:
                atomic_write(self.path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))
            except OSError as error:
                log.warning("could not remember the window's size in %s: %s", self.path, error)

    def _read(self) -> dict[str, object]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, UnicodeDecodeError) as error:
            log.warning("ignoring the window state file %s: %s", self.path, error)
            return {}
        return data if isinstance(data, dict) else {}


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return value
