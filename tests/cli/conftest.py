"""Helpers for CLI tests that run the app in a child process (real windows must own a main thread)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FLASKDESK = [sys.executable, "-c", "from flaskdesk.cli import main; main()"]


@pytest.fixture
def dev_project(tmp_path: Path) -> Path:
    """A private copy of ``tests/fixtures/devloop_app`` (the tests edit its files)."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "devloop_app", root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture
def child_env(tmp_path: Path) -> dict[str, str]:
    """The environment for an app child: per-user dirs and the page beacon inside ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "FLASKDESK_", "PYTEST_"))}
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        path = tmp_path / "xdg" / var.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    env["DEVLOOP_BEACON"] = str(tmp_path / "beacon.log")
    return env


class Child:
    """An app process, its output in a file, and the beacon lines its page sent."""

    def __init__(self, command: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.beacon = Path(env["DEVLOOP_BEACON"])
        self._out = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=self._out, stderr=subprocess.STDOUT)

    def beacons(self) -> list[tuple[float, str, str]]:
        if not self.beacon.exists():
            return []
        lines = []
        for line in self.beacon.read_text().splitlines():
            stamp, version, py = [*line.split(" "), "", ""][:3]
            lines.append((float(stamp), version, py))
        return lines

    def wait_for_beacon(
        self, version: str, py: str | None = None, *, after: int = 0, timeout: float = 30.0
    ) -> float:
        """Wait until the page reports ``version`` (and ``py``); return the time it did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for stamp, seen_version, seen_py in self.beacons()[after:]:
                if seen_version == version and (py is None or seen_py == py):
                    return stamp
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(
            f"the page never reported {version!r}/{py!r} (exit status {self.proc.poll()}); beacons: "
            f"{self.beacons()}\n--- output ---\n{self.output()[-4000:]}"
        )

    def output(self) -> str:
        if not self._out.closed:
            self._out.flush()
        return self.log.read_text(errors="replace")

    def terminate(self, timeout: float = 30.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._out.close()


@pytest.fixture
def start_child(tmp_path: Path) -> Iterator[object]:
    children: list[Child] = []

    def start(command: list[str], *, cwd: Path, env: dict[str, str]) -> Child:
        child = Child(command, cwd=cwd, env=env, log=tmp_path / f"child-{len(children)}.log")
        children.append(child)
        return child

    yield start
    for child in children:
        child.stop()


def window_of(display: str, pid: int, timeout: float = 10.0) -> str:
    """The X window id of the visible window process ``pid`` owns (``_NET_WM_PID``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--pid", str(pid)],
            env={**os.environ, "DISPLAY": display},
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"process {pid} shows no window on {display}")


def screenshot_colours(display: str, path: Path, pid: int) -> dict[str, int]:
    """Grab the window of process ``pid`` and count its pure red, pure blue and white pixels."""
    from PIL import Image

    window = window_of(display, pid)
    subprocess.run(["import", "-display", display, "-window", window, str(path)], check=True, timeout=30)
    with Image.open(path) as image:
        counts = dict.fromkeys(("red", "blue", "white"), 0)
        for count, colour in image.convert("RGB").getcolors(maxcolors=1 << 24) or []:
            if colour == (255, 0, 0):
                counts["red"] += count
            elif colour == (0, 0, 255):
                counts["blue"] += count
            elif colour == (255, 255, 255):
                counts["white"] += count
    return counts
