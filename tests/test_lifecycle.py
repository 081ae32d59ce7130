"""End to end through the real stack: ``flaskdesk run`` → server → guard → a real window under Xvfb.

Each test runs the app in a child process (pywebview owns the main thread), looks at real
screenshots, and checks the lifecycle promises: the page with its static CSS shows, an in-flight
write survives closing, a failed start shows an error window and exits non-zero.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

FIXTURE = Path(__file__).parent / "fixtures" / "lifecycle"
FLASKDESK = str(Path(sys.executable).with_name("flaskdesk"))
APP_NAME = "lifecycle-fixture"
CSS_GREEN = (0x2E, 0x8B, 0x57)
ERROR_RED = (0xB0, 0x00, 0x20)
TRANSPORTS = ["loopback", "scheme"]

pytestmark = pytest.mark.window


class RunningApp:
    def __init__(self, proc: subprocess.Popen[bytes], data_root: Path, shots: Path) -> None:
        self.proc = proc
        self.data_root = data_root
        self.shots = shots

    @property
    def log_file(self) -> Path:
        return self.data_root / APP_NAME / "log" / f"{APP_NAME}.log"

    def log_text(self) -> str:
        return self.log_file.read_text() if self.log_file.exists() else ""

    def screenshot(self, name: str) -> Image.Image:
        path = self.shots / f"{name}.png"
        subprocess.run(["import", "-window", "root", str(path)], check=True, capture_output=True)
        return Image.open(path).convert("RGB")

    def wait_for_colour(
        self, colour: tuple[int, int, int], *, minimum: int = 20000, timeout: float = 30
    ) -> int:
        deadline = time.monotonic() + timeout
        count = 0
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (
                f"the app exited early ({self.proc.returncode}):\n{self.log_text()}"
            )
            count = count_colour(self.screenshot("latest"), colour)
            if count >= minimum:
                return count
            time.sleep(0.3)
        pytest.fail(f"colour {colour} never covered {minimum} px (last {count}); log:\n{self.log_text()}")

    def terminate(self, timeout: float = 20) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)


def count_colour(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 6) -> int:
    return sum(
        n
        for n, pixel in image.getcolors(maxcolors=1 << 20) or []
        if all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))
    )


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def start_app(x_display: str, tmp_path: Path) -> Iterator[Callable[..., RunningApp]]:
    started: list[RunningApp] = []

    def start(backend: str, **env: str) -> RunningApp:
        data_root = tmp_path / "data"
        full_env = {**os.environ, "DISPLAY": x_display, "FLASKDESK_DATA_DIR": str(data_root), **env}
        proc = subprocess.Popen(
            [FLASKDESK, "run", "--no-dev", "--backend", backend], cwd=FIXTURE, env=full_env
        )
        app = RunningApp(proc, data_root, tmp_path)
        started.append(app)
        return app

    yield start
    for app in started:
        if app.proc.poll() is None:
            app.proc.kill()
            app.proc.wait()


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("backend", ["qt", "gtk"])
def test_template_page_with_static_css_shows_and_closes_cleanly(
    start_app: Callable[..., RunningApp], tmp_path: Path, backend: str, transport: str
) -> None:
    report = tmp_path / "instance-path.txt"
    app = start_app(backend, LIFECYCLE_REPORT=str(report), FLASKDESK_TRANSPORT=transport)
    app.wait_for_colour(CSS_GREEN)
    assert app.terminate() == 0
    log = app.log_text()
    assert "closed cleanly" in log
    assert ("serving on app://flaskdesk" in log) is (transport == "scheme")
    # the instance folder was placed in the per-user data dir before the factory ran
    assert Path(report.read_text()) == app.data_root / APP_NAME / "data" / "instance"


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("backend", ["qt", "gtk"])
def test_in_flight_write_survives_closing(
    start_app: Callable[..., RunningApp], tmp_path: Path, backend: str, transport: str
) -> None:
    writes = tmp_path / "writes"
    writes.mkdir()
    app = start_app(backend, LIFECYCLE_SLOW_WRITE=str(writes), FLASKDESK_TRANSPORT=transport)
    wait_until(lambda: (writes / "started").exists(), 30, "the page's POST to reach the view")
    closed_at = time.monotonic()
    assert app.terminate() == 0
    assert time.monotonic() - closed_at > 1.0, "the process did not wait for the running request"
    assert (writes / "finished").read_text() == "written while the window closed"


def test_crashing_factory_shows_an_error_window_and_exits_non_zero(
    start_app: Callable[..., RunningApp],
) -> None:
    app = start_app("qt", LIFECYCLE_CRASH="1")
    wait_until(lambda: "could not start" in app.log_text(), 30, "the failure to be logged")
    app.wait_for_colour(ERROR_RED, minimum=150)
    status = app.terminate()
    assert status != 0
    log = app.log_text()
    assert "RuntimeError" in log and "Traceback" in log
    assert "unreachable" in log


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("backend", ["qt", "gtk"])
def test_data_and_web_storage_survive_a_restart(
    x_display: str, tmp_path: Path, backend: str, transport: str
) -> None:
    """Files in the instance folder, localStorage and cookies all come back on the next run.

    Over the scheme the engines keep no cookies, so ``document.cookie`` has none to give back: the
    one thing here that differs, and one reason loopback stays the default (docs/guide/transport.rst).
    Cookies the server sets do come back over both (``tests/transport/test_window_transports.py``).
    """
    from flaskdesk.testing.driver import AppDriver

    data_dir = tmp_path / "data"
    env = {**os.environ, "DISPLAY": x_display, "FLASKDESK_GUI": backend, "FLASKDESK_TRANSPORT": transport}

    def launch() -> AppDriver:
        return AppDriver.from_source(
            "lifecycle_app:create_app()", cwd=FIXTURE, env=env, data_dir=data_dir, artifacts_dir=tmp_path
        )

    with launch() as first:
        first.goto("/visits")
        assert first.text("#visits") == "1"
        first.evaluate(
            "(() => { localStorage.setItem('remembered', 'yes');"
            " document.cookie = 'c=1; max-age=3600'; return true; })()"
        )
        assert first.close() == 0
    with launch() as second:
        second.goto("/visits")
        assert second.text("#visits") == "2"
        assert second.evaluate("localStorage.getItem('remembered')") == "yes"
        if transport == "scheme":
            assert second.evaluate("document.cookie") == ""
        else:
            assert "c=1" in second.evaluate("document.cookie")
        assert second.close() == 0
    assert (data_dir / APP_NAME / "data" / "instance" / "visits.txt").read_text() == "2"
