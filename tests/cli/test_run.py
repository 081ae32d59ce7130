"""``flaskdesk run``: no display, ``--browser`` (token hand-over), and ``--dev`` live reload in the window."""

from __future__ import annotations

import inspect
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import flaskdesk.launch
from flaskdesk.cli.run import BrowserLaunch, redirect_file, redirect_page

from .conftest import FIXTURES, FLASKDESK, Child, screenshot_colours

TOKEN = "t" * 43
PORT = 5123
LAUNCH = f"http://127.0.0.1:{PORT}/__flaskdesk__/launch?token={TOKEN}&next=%2F"


class FakeGuard:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def launch_url(self, next_path: str = "/") -> str:
        return f"http://127.0.0.1:{PORT}/__flaskdesk__/launch?token={TOKEN}&next={next_path}"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.calls.append(environ)
        start_response("403 Forbidden", [])
        return [b"guard"]


def _call(app: BrowserLaunch, **environ: str) -> tuple[str, dict[str, str], bytes]:
    base = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/__flaskdesk__/launch",
        "QUERY_STRING": f"token={TOKEN}&next=%2Fnotes",
        "HTTP_HOST": f"127.0.0.1:{PORT}",
        "HTTP_SEC_FETCH_SITE": "cross-site",
        "HTTP_SEC_FETCH_MODE": "navigate",
        "HTTP_SEC_FETCH_DEST": "document",
    }
    base.update(environ)
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app(base, start_response))  # type: ignore[arg-type]
    return seen["status"], seen["headers"], body


def test_browser_launch_bounces_a_cross_site_launch_with_the_right_token() -> None:
    guard = FakeGuard()
    status, headers, body = _call(BrowserLaunch(guard, token=TOKEN, port=PORT))
    assert status == "200 OK"
    assert headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    assert (
        f"content='0;url=http://127.0.0.1:{PORT}/__flaskdesk__/launch?token={TOKEN}&amp;next=/notes'"
        in body.decode()
    )
    assert guard.calls == []


@pytest.mark.parametrize(
    "change",
    [
        {"QUERY_STRING": "token=wrong&next=%2F"},
        {"QUERY_STRING": f"token={TOKEN}&token={TOKEN}"},
        {"HTTP_SEC_FETCH_SITE": "same-origin"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},
        {"HTTP_SEC_FETCH_MODE": "no-cors"},
        {"HTTP_SEC_FETCH_DEST": "iframe"},
        {"REQUEST_METHOD": "POST"},
        {"HTTP_HOST": "evil.example"},
        {"PATH_INFO": "/"},
    ],
)
def test_everything_else_goes_to_the_guard(change: dict[str, str]) -> None:
    guard = FakeGuard()
    status, _, body = _call(BrowserLaunch(guard, token=TOKEN, port=PORT), **change)
    assert (status, body) == ("403 Forbidden", b"guard")
    assert len(guard.calls) == 1


def test_a_bad_next_becomes_the_root() -> None:
    _, _, body = _call(
        BrowserLaunch(FakeGuard(), token=TOKEN, port=PORT), QUERY_STRING=f"token={TOKEN}&next=//evil"
    )
    assert "&amp;next=/'" in body.decode()


def test_redirect_file_is_private_and_removed() -> None:
    with redirect_file(LAUNCH, "Notes <&>") as page:
        assert stat.S_IMODE(page.stat().st_mode) == 0o600
        assert stat.S_IMODE(page.parent.stat().st_mode) == 0o700
        text = page.read_text()
        assert f"url={LAUNCH.replace('&', '&amp;')}" in text
        assert "Opening Notes &lt;&amp;&gt;" in text
        assert TOKEN not in page.as_uri()
    assert not page.exists() and not page.parent.exists()


def test_redirect_page_escapes_quotes() -> None:
    assert "&#x27;" in redirect_page("http://127.0.0.1:1/?a='", "x")


def test_no_display_says_what_to_do(dev_project: Path, child_env: dict[str, str]) -> None:
    env = {k: v for k, v in child_env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run(
        [*FLASKDESK, "run"], cwd=dev_project, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert "no display to open a window on (no DISPLAY or WAYLAND_DISPLAY)" in result.stderr
    assert "xvfb-run -a flaskdesk run" in result.stderr and "flaskdesk run --browser" in result.stderr


# --- real processes -------------------------------------------------------------------------------


@pytest.mark.window
def test_browser_mode_hands_the_token_over_through_a_private_file(
    dev_project: Path, child_env: dict[str, str], x_display: str, start_child: Any, tmp_path: Path
) -> None:
    report = tmp_path / "browser.json"
    fake_browser = FIXTURES / "devloop_app" / "fake_browser.py"
    env = {
        **child_env,
        "DISPLAY": x_display,
        # webbrowser runs $BROWSER with the URL in place of %s.
        "BROWSER": f"{sys.executable} {fake_browser} %s",
        "FAKE_BROWSER_REPORT": str(report),
        "FAKE_BROWSER_EXPECT": "TEMPLATE-ONE",
    }
    child: Child = start_child([*FLASKDESK, "run", "--browser"], cwd=dev_project, env=env)
    deadline = time.monotonic() + 60
    while not report.exists() and time.monotonic() < deadline and child.proc.poll() is None:
        time.sleep(0.1)
    assert report.exists(), child.output()
    seen = json.loads(report.read_text())
    assert "TEMPLATE-ONE" in seen["text"]
    assert seen["url"].startswith("http://127.0.0.1:") and "token" not in seen["url"]
    argv = seen["argv"]  # what every local user could read in /proc: no token
    assert argv[-1].startswith("file:///") and "token" not in " ".join(argv)
    redirect = Path(argv[-1][len("file://") :])
    assert child.terminate() == 0, child.output()
    assert "Stopped." in child.output()
    assert not redirect.exists() and not redirect.parent.exists()


def _poll_colours(
    display: str, path: Path, pid: int, *, until: Callable[[dict[str, int]], bool], timeout: float = 5.0
) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        colours = screenshot_colours(display, path, pid)
        if until(colours) or time.monotonic() > deadline:
            return colours
        time.sleep(0.05)


def _devloop_wired() -> bool:
    return "LiveApp" in inspect.getsource(flaskdesk.launch)


def _edit(path: Path, old: str, new: str) -> float:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    started = time.time()
    path.write_text(text.replace(old, new))
    return started


@pytest.mark.window
@pytest.mark.skipif(not _devloop_wired(), reason="launch.py does not wire flaskdesk.devloop.LiveApp in yet")
def test_dev_mode_shows_edits_in_the_window(
    dev_project: Path, child_env: dict[str, str], x_display: str, start_child: Any, tmp_path: Path
) -> None:
    child: Child = start_child(
        [*FLASKDESK, "run", "--dev"], cwd=dev_project, env={**child_env, "DISPLAY": x_display}
    )
    child.wait_for_beacon("one", "py-one", timeout=60)
    colours = _poll_colours(
        x_display, tmp_path / "red.png", child.proc.pid, until=lambda c: c["red"] > 200_000
    )
    assert colours["red"] > 200_000, colours  # the 640x480 page is red
    seen = len(child.beacons())

    # A template edit: the page re-renders in the same window, well within 300 ms.
    template = dev_project / "devapp" / "templates" / "index.html"
    started = _edit(template, 'class="red" data-version="one"', 'class="blue" data-version="two"')
    shown = child.wait_for_beacon("two", after=seen, timeout=10)
    assert shown - started < 0.3, f"template edit took {shown - started:.3f} s to show"
    # The beacon runs two animation frames after the new page; the X window may show it a frame later.
    colours = _poll_colours(x_display, tmp_path / "blue.png", child.proc.pid, until=lambda c: c["red"] == 0)
    assert colours["blue"] > 200_000 and colours["red"] == 0, colours

    # A view (Python) edit: the app is re-imported and the page shows the new response.
    seen = len(child.beacons())
    started = _edit(dev_project / "devapp" / "views.py", 'VERSION = "py-one"', 'VERSION = "py-two"')
    shown = child.wait_for_beacon("two", "py-two", after=seen, timeout=10)
    assert shown - started < 1.0

    # A syntax error shows the error page in the window; the next good save recovers.
    views = dev_project / "devapp" / "views.py"
    good = views.read_text()
    views.write_text("VERSION = 'broken'\ndef message( ->\n")
    colours = _poll_colours(
        x_display,
        tmp_path / "error.png",
        child.proc.pid,
        until=lambda c: c["blue"] == 0 and c["white"] > 50_000,
    )
    assert colours["blue"] == 0 and colours["white"] > 50_000, colours
    assert "reloading the app failed" in child.output()
    seen = len(child.beacons())
    views.write_text(good.replace("py-two", "py-three"))
    child.wait_for_beacon("two", "py-three", after=seen, timeout=10)

    assert child.terminate() == 0, child.output()
    assert os.path.getsize(child.log) > 0
