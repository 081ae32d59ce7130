"""``AppDriver`` and ``VirtualDisplay`` without a browser engine: a child process that claims the
real automation channel but answers from a fake page, so the client's failure messages are
checked quickly and exactly."""

from __future__ import annotations

import os
import socket
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flaskdesk._automation_os import PosixOS, pair_problem
from flaskdesk.errors import FlaskdeskError
from flaskdesk.testing.display import VirtualDisplay, display_is_up
from flaskdesk.testing.driver import AppDriver, DriverError, JavaScriptError, WaitTimeout, source_command

FAKE_APP = """
import json, os, sys, threading, time
from flask import Flask
from flaskdesk import automation

mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
channel = automation.claim(os.environ, platform="win32" if mode == "windows-socket" else sys.platform)
closed = threading.Event()

class Page:
    url = "http://127.0.0.1:5000/"
    def evaluate_js(self, script):
        if mode == "crash" and "p.selector" in script:
            os._exit(3)
        if "__flaskdeskErrors" in script:
            value = [{"type": "error", "message": "boom", "url": "/"}]
        elif "innerText)||''" in script:
            value = {"text": "Welcome back\\nYou have 3 notes", "title": "Notes"}
        elif "document.readyState" in script:
            value = {"ready": "complete", "title": "Notes", "api": True}
        elif "p.selector" in script:
            value = False
        elif "throwIt" in script:
            return json.dumps({"ok": False, "name": "TypeError", "message": "throwIt is not a function"})
        else:
            value = {"value": 42}
        return json.dumps({"ok": True, "value": value})
    def load_url(self, url):
        self.url = url
    def get_current_url(self):
        return self.url
    def destroy(self):
        closed.set()

print("fake app up", flush=True)
if mode == "fail":
    channel.fail(RuntimeError("the database is locked"))
    time.sleep(30)
    sys.exit(1)
channel.start(Page(), app=Flask("fake"), origin="http://127.0.0.1:5000")
closed.wait(30)
channel.close()
sys.exit(0)
"""


@pytest.fixture(scope="module")
def display() -> Iterator[VirtualDisplay]:
    # Always a private one: the fake app has no window, so screenshots must be able to use the root.
    with VirtualDisplay(reuse=False) as display:
        yield display


@pytest.fixture
def fake_app(tmp_path: Path) -> Path:
    path = tmp_path / "fake_app.py"
    path.write_text(textwrap.dedent(FAKE_APP))
    return path


def driver_for(
    fake_app: Path, tmp_path: Path, display: VirtualDisplay, mode: str = "ok", **options: Any
) -> AppDriver:
    return AppDriver(
        [sys.executable, str(fake_app), mode],
        data_dir=tmp_path / "data",
        artifacts_dir=tmp_path / "artifacts",
        display=display,
        start_timeout=20,
        **options,
    )


def test_drives_and_closes(fake_app: Path, tmp_path: Path, display: VirtualDisplay) -> None:
    with driver_for(fake_app, tmp_path, display) as driver:
        assert driver.url == "http://127.0.0.1:5000/"
        assert driver.evaluate("6 * 7") == 42
        assert driver.app_name == "fake"
        assert driver.js_errors() == [{"type": "error", "message": "boom", "url": "/"}]
        assert driver.close() == 0
    assert "fake app up" in driver.output_text()


class WindowsSocketOverPassFds(PosixOS):
    """All of the Windows way that Linux can run: the socket Windows makes (a loopback TCP pair,
    checked like ``WindowsOS.socketpair`` checks it), which the app checks the Windows way
    (``claim(platform="win32")``); only the handing over is POSIX's ``pass_fds``."""

    def socketpair(self) -> tuple[socket.socket, socket.socket]:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            ours = socket.create_connection(listener.getsockname())
            theirs, _ = listener.accept()
        assert pair_problem(ours, theirs) is None
        return ours, theirs


def test_drives_over_the_windows_socket(fake_app: Path, tmp_path: Path, display: VirtualDisplay) -> None:
    channel_os = WindowsSocketOverPassFds()
    with driver_for(fake_app, tmp_path, display, mode="windows-socket", channel_os=channel_os) as driver:
        assert driver._sock is not None and driver._sock.family == socket.AF_INET
        assert driver.evaluate("6 * 7") == 42
        assert driver.close() == 0


class HijackedPair(PosixOS):
    def socketpair(self) -> tuple[socket.socket, socket.socket]:
        raise ConnectionError("the automation socket pair is not connected to itself")


def test_a_pair_that_is_not_ours_stops_the_start(tmp_path: Path, display: VirtualDisplay) -> None:
    driver = AppDriver(
        [sys.executable, "-c", "raise SystemExit(9)"],
        data_dir=tmp_path / "data",
        artifacts_dir=tmp_path / "artifacts",
        display=display,
        channel_os=HijackedPair(),
    )
    with pytest.raises(DriverError, match="Could not open the automation channel: the automation socket"):
        driver.start()
    assert driver.pid is None  # nothing was started


def test_a_js_error_keeps_its_name_and_message(
    fake_app: Path, tmp_path: Path, display: VirtualDisplay
) -> None:
    with driver_for(fake_app, tmp_path, display) as driver:
        with pytest.raises(JavaScriptError) as caught:
            driver.evaluate("throwIt()")
        assert (caught.value.name, caught.value.message) == ("TypeError", "throwIt is not a function")


def test_wait_for_timeout_says_where_the_page_was(
    fake_app: Path, tmp_path: Path, display: VirtualDisplay
) -> None:
    with driver_for(fake_app, tmp_path, display) as driver, pytest.raises(WaitTimeout) as caught:
        driver.wait_for(".note", timeout=0.3)
    message = str(caught.value)
    shot = tmp_path / "artifacts" / "screenshot-1.png"
    assert message == (
        "wait_for('.note') timed out after 0.3 s: no element matches that selector.\n"
        "  url:        http://127.0.0.1:5000/\n"
        "  title:      'Notes'\n"
        f"  screenshot: {shot}\n"
        "  page text:\n"
        "    Welcome back\n"
        "    You have 3 notes\n"
        "  JavaScript errors on the page:\n"
        "    error: boom (/)"
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert isinstance(caught.value, AssertionError) and isinstance(caught.value, FlaskdeskError)


def test_a_crash_reports_the_exit_status_and_output(
    fake_app: Path, tmp_path: Path, display: VirtualDisplay
) -> None:
    with (
        driver_for(fake_app, tmp_path, display, mode="crash") as driver,
        pytest.raises(DriverError) as caught,
    ):
        driver.click("#save")
    assert str(caught.value).startswith("The app exited with status 3 while 'click' was pending.")
    assert "fake app up" in str(caught.value)


def test_a_startup_failure_is_reported_without_waiting(
    fake_app: Path, tmp_path: Path, display: VirtualDisplay
) -> None:
    driver = driver_for(fake_app, tmp_path, display, mode="fail")
    with pytest.raises(DriverError, match="The app could not start: the database is locked"):
        driver.start()
    assert driver.returncode is not None  # stopped (SIGTERM), not left running


def test_an_app_without_automation_is_named(tmp_path: Path, display: VirtualDisplay) -> None:
    driver = AppDriver(
        [sys.executable, "-c", "import time; print('plain app'); time.sleep(30)"],
        data_dir=tmp_path / "data",
        artifacts_dir=tmp_path / "artifacts",
        display=display,
        start_timeout=0.5,
    )
    with pytest.raises(DriverError) as caught:
        driver.start()
    assert "The app did not answer 'hello' in time. Does this build support automation?" in str(caught.value)
    assert "plain app" in str(caught.value)


def test_frozen_needs_an_executable(tmp_path: Path) -> None:
    with pytest.raises(DriverError, match="is not an executable file; build it first"):
        AppDriver.frozen(tmp_path / "dist" / "app")


def test_source_command_runs_the_cli() -> None:
    assert source_command("notes:create_app()") == [
        sys.executable,
        "-m",
        "flaskdesk",
        "run",
        "--no-dev",
        "--app",
        "notes:create_app()",
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 only")
def test_virtual_display_starts_and_stops_a_private_xvfb() -> None:
    display = VirtualDisplay(env={})
    name = display.start()
    assert name is not None and display.owned and display_is_up(name)
    assert display.env() == {"DISPLAY": name}
    display.stop()
    assert display.display is None and not display_is_up(name)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 only")
def test_virtual_display_reuses_a_working_display(display: VirtualDisplay) -> None:
    assert display.display is not None
    reused = VirtualDisplay(env={"DISPLAY": display.display})
    assert reused.start() == display.display and not reused.owned
    reused.stop()
    assert display_is_up(display.display)


def test_virtual_display_says_how_to_install_xvfb(monkeypatch: pytest.MonkeyPatch) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("X11 only")
    monkeypatch.setenv("PATH", os.devnull)
    with pytest.raises(FlaskdeskError, match="apt install xvfb"):
        VirtualDisplay(env={}).start()
