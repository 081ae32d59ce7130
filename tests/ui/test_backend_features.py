"""The backend's feature logic with a fake toolkit: remembered geometry (Wayland too), dialogs.

The real toolkits are exercised in ``tests/test_desktop_features.py``; these pin down the
decisions around them without a display.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from flaskdesk.ui.backend import WebviewBackend, _BackendDialogs
from flaskdesk.ui.dialogs import DialogKind, FileDialogRequest
from flaskdesk.ui.window import WindowManager, WindowOptions
from flaskdesk.ui.window_state import Rect, WindowState, WindowStateFile


class FakeHooks:
    """A toolkit whose GUI thread is a thread of ours, with one 1280x800 screen."""

    name = "fake"

    def __init__(self, *, can_position: bool = True) -> None:
        self.applied: list[WindowState] = []
        self._can_position = can_position
        self.jobs: list[Callable[[], None]] = []
        self.shown: list[Any] = []
        self.cancelled = 0

    def screens(self) -> list[Rect]:
        return [Rect(0, 0, 1280, 800)]

    def can_position(self) -> bool:
        return self._can_position

    def apply_state(self, window: Any, state: WindowState) -> None:
        self.applied.append(state)

    def call_soon(self, fn: Callable[[], None]) -> None:
        self.jobs.append(fn)

    def file_dialog(self, window: Any, request: FileDialogRequest) -> list[str] | None:
        self.shown.append((window, request.title))
        return ["/picked"]

    def cancel_dialogs(self) -> None:
        self.cancelled += 1

    @contextmanager
    def sharing_profile(self, main_window: Any) -> Iterator[None]:
        yield


def backend_with(hooks: FakeHooks) -> WebviewBackend:
    return WebviewBackend("fake", hooks)  # type: ignore[arg-type]


def test_remembered_geometry_is_clamped_then_applied(tmp_path: Path) -> None:
    hooks = FakeHooks()
    states = WindowStateFile(tmp_path / "window-state.json")
    states.save("main", WindowState(5000, 600, 4000, 10))
    backend_with(hooks)._restore_state(hooks, object(), states, "main", WindowOptions())  # type: ignore[arg-type]
    assert hooks.applied == [WindowState(1280, 600, 0, 100)]


def test_on_wayland_only_the_size_comes_back_and_the_log_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hooks = FakeHooks(can_position=False)
    states = WindowStateFile(tmp_path / "window-state.json")
    states.save("main", WindowState(700, 500, 100, 100, True))
    with caplog.at_level(logging.INFO, logger="flaskdesk.ui"):
        backend_with(hooks)._restore_state(hooks, object(), states, "main", WindowOptions())  # type: ignore[arg-type]
    assert hooks.applied == [WindowState(700, 500, None, None, True)]
    assert "restoring the main window's size only" in caplog.text


def test_a_fixed_size_window_keeps_its_size(tmp_path: Path) -> None:
    hooks = FakeHooks()
    states = WindowStateFile(tmp_path / "window-state.json")
    states.save("main", WindowState(300, 200, 10, 20, True))
    options = WindowOptions(width=640, height=480, resizable=False)
    backend_with(hooks)._restore_state(hooks, object(), states, "main", options)  # type: ignore[arg-type]
    assert hooks.applied == [WindowState(640, 480, 10, 20, False)]


def test_a_dialog_runs_on_the_gui_thread_and_returns_there(tmp_path: Path) -> None:
    hooks = FakeHooks()
    backend = backend_with(hooks)
    assert isinstance(backend, WindowManager)
    window = object()
    backend._live.append(window)
    backend._main = window
    backend._gui_running = True
    host = backend.dialog_host()
    assert isinstance(host, _BackendDialogs)
    answer: list[Any] = []
    caller = threading.Thread(
        target=lambda: answer.append(host.file_dialog(FileDialogRequest(DialogKind.OPEN, "Pick")))
    )
    caller.start()
    deadline = time.monotonic() + 5
    while not hooks.jobs and time.monotonic() < deadline:
        time.sleep(0.01)
    hooks.jobs.pop()()  # the "GUI thread" runs it
    caller.join(5)
    assert answer == [["/picked"]]
    assert hooks.shown == [(window, "Pick")]


def test_a_caller_waiting_when_the_gui_ends_gets_none() -> None:
    hooks = FakeHooks()
    backend = backend_with(hooks)
    window = object()
    backend._live.append(window)
    backend._main = window
    backend._gui_running = True
    host = backend.dialog_host()
    assert host is not None
    answer: list[Any] = []
    caller = threading.Thread(
        target=lambda: answer.append(host.file_dialog(FileDialogRequest(DialogKind.OPEN, "Never shown")))
    )
    caller.start()
    time.sleep(0.3)
    backend._gui_running = False  # the window closed before the GUI thread got to the dialog
    caller.join(5)
    assert answer == [None]
    assert hooks.shown == []


def test_no_window_no_dialog_host() -> None:
    backend = backend_with(FakeHooks())
    assert backend.dialog_host() is None
    with pytest.raises(Exception, match="no window open"):
        backend.open_window("/x", WindowOptions())
