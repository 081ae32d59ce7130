"""Shared fixtures: a virtual display for real-window tests, a private D-Bus session bus, and leak detection
for server threads."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir={tmp}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def _display_is_up(display: str) -> bool:
    probe = subprocess.run(
        ["xdpyinfo", "-display", display], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return probe.returncode == 0


@pytest.fixture(scope="session")
def x_display() -> Iterator[str]:
    """A running X display: the one in ``$DISPLAY`` if it answers, else a private Xvfb started here."""
    existing = os.environ.get("DISPLAY")
    if existing and shutil.which("xdpyinfo") and _display_is_up(existing):
        yield existing
        return
    if not shutil.which("Xvfb"):
        pytest.fail("Xvfb is missing: run scripts/system-deps.sh (it installs xvfb and the window libraries)")
    number = 90 + (os.getpid() % 500)
    display = f":{number}"
    proc = subprocess.Popen(
        # -noreset: no server reset when the last client leaves (a client connecting meanwhile is
        # refused: one such "could not connect to display" failed a CI run).
        ["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not _display_is_up(display):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"Xvfb did not start on {display}")
        time.sleep(0.05)
    os.environ["DISPLAY"] = display
    try:
        yield display
    finally:
        proc.terminate()
        proc.wait(5)
        if existing is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = existing


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves flaskdesk server threads running (an orphaned server is a defect)."""
    before = {t.ident for t in threading.enumerate()}
    yield
    deadline = time.monotonic() + 2
    while True:
        leaked = [
            t
            for t in threading.enumerate()
            if t.ident not in before and t.is_alive() and t.name.startswith("flaskdesk")
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not leaked, f"threads left running: {[t.name for t in leaked]}"


@pytest.fixture
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every per-user directory (XDG data/config/state/cache) into the test's temp dir."""
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        path = tmp_path / var.lower()
        path.mkdir()
        monkeypatch.setenv(var, str(path))
    return tmp_path


@pytest.fixture
def private_bus(tmp_path: Path) -> Iterator[str]:
    """The address of a private D-Bus session bus (``dbus-daemon --nofork``) that activates no services."""
    config = tmp_path / "session-bus.conf"
    config.write_text(_BUS_CONFIG.format(tmp=tmp_path))
    process = subprocess.Popen(
        ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    try:
        address = process.stdout.readline().strip()  # printed once it listens
        assert address.startswith("unix:"), "dbus-daemon did not start (scripts/system-deps.sh)"
        yield address
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()
