"""The security rules, attacked through a real window and the real server (issue 3).

Raw-HTTP attacks on every route live in tests/app/test_guard.py; here the engine itself makes
the requests, so what is proven is what a page, a frame or a navigation can really do. The
page-side rules are attacked over both transports (``app://`` has its own guard, ``SchemeGuard``;
its forged-request table is in tests/transport/test_inprocess.py).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flaskdesk.testing.driver import AppDriver

FIXTURE = Path(__file__).parent / "fixtures" / "lifecycle"
TARGET = "lifecycle_app:create_app()"

pytestmark = pytest.mark.window
TRANSPORTS = ["loopback", "scheme"]


@pytest.fixture
def launch(x_display: str, tmp_path: Path) -> Iterator[Callable[..., AppDriver]]:
    drivers: list[AppDriver] = []

    def start(backend: str = "qt", *, dev: bool = False, transport: str = "loopback") -> AppDriver:
        env = {
            **os.environ,
            "DISPLAY": x_display,
            "FLASKDESK_GUI": backend,
            "FLASKDESK_TRANSPORT": transport,
            "LIFECYCLE_BRIDGE_CALLS": str(tmp_path / "bridge-calls.txt"),
        }
        command = [sys.executable, "-m", "flaskdesk", "run", "--dev" if dev else "--no-dev", "--app", TARGET]
        driver = AppDriver(command, cwd=FIXTURE, env=env, artifacts_dir=tmp_path / "artifacts").start()
        drivers.append(driver)
        return driver

    yield start
    for driver in drivers:
        driver.stop()


def bridge_calls(tmp_path: Path) -> list[str]:
    record = tmp_path / "bridge-calls.txt"
    return record.read_text().splitlines() if record.exists() else []


def listening_sockets(pid: int) -> list[str]:
    """``host:port`` of every TCP socket in LISTEN state that process ``pid`` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table, width in (("tcp", 8), ("tcp6", 32)):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:
                continue
            address, port = local.split(":")
            if width == 8:
                host = ".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0))
            else:
                host = "ipv6:" + address
            found.append(f"{host}:{int(port, 16)}")
    return found


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("backend", ["qt", "gtk"])
def test_evaluate_js_and_the_bridge_work_under_the_csp(
    launch: Callable[..., AppDriver], tmp_path: Path, backend: str, transport: str
) -> None:
    app = launch(backend, transport=transport)
    assert app.evaluate("document.title") == "Lifecycle"
    assert app.evaluate("typeof window.pywebview") == "object"  # pywebview's own injected code ran
    assert app.bridge_available()
    assert app.evaluate("flaskdesk.api.add(2, 3)") == 5
    assert bridge_calls(tmp_path) == ["2+3"]
    # the CSP really is on: an inline script without the nonce does not run
    app.evaluate(
        "(() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1';"
        " document.head.appendChild(s); return true; })()"
    )
    assert app.evaluate("window.__inline === undefined") is True
    assert app.close() == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("backend", ["qt", "gtk"])
def test_a_frame_with_another_origin_cannot_call_the_bridge(
    launch: Callable[..., AppDriver], tmp_path: Path, backend: str, transport: str
) -> None:
    app = launch(backend, transport=transport)
    app.goto("/sandboxed")
    deadline = time.monotonic() + 15
    while app.text("#result") == "pending" and time.monotonic() < deadline:
        time.sleep(0.1)
    result = app.text("#result")
    assert result != "pending", "the frame's request never settled"
    assert bridge_calls(tmp_path) == [], "Python code ran for a call from another origin"
    # Qt sends the request and the guard refuses it; WebKitGTK refuses to send it at all.
    sent_and_refused = "refused POST '/__flaskdesk__/bridge'" in app.log_text()
    assert sent_and_refused or result.startswith("refused"), (result, app.log_text())
    assert result != "status 200"
    assert app.close() == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("backend", ["qt", "gtk"])
@pytest.mark.parametrize(
    "target",
    [
        "data:text/html,<script>fetch('/__flaskdesk__/bridge',{method:'POST'})</script>",
        "file:///etc/passwd",
        "javascript:alert(1)",
    ],
)
def test_the_window_refuses_to_leave_for_unsafe_schemes(
    launch: Callable[..., AppDriver], tmp_path: Path, backend: str, target: str, transport: str
) -> None:
    app = launch(backend, transport=transport)
    start_url = app.url
    app.evaluate(f"(() => {{ window.location.href = {target!r}; return true; }})()")
    time.sleep(1.0)
    assert app.url == start_url
    assert app.evaluate("document.title") == "Lifecycle"
    assert bridge_calls(tmp_path) == []
    assert app.close() == 0


def test_the_server_listens_on_loopback_only(launch: Callable[..., AppDriver]) -> None:
    app = launch("qt")
    assert app.pid is not None
    sockets = listening_sockets(app.pid)
    assert len(sockets) == 1, sockets  # no remote-debugging port, no second server
    assert sockets[0].startswith("127.0.0.1:")
    assert app.close() == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_errors_show_a_generic_page_with_a_request_id(
    launch: Callable[..., AppDriver], transport: str
) -> None:
    app = launch("qt", transport=transport)
    app.goto("/boom")
    page = app.evaluate("document.body.innerText")
    assert "ValueError" not in page and "Traceback" not in page
    request_id = app.evaluate("(document.body.innerText.match(/[0-9a-f]{12}/) || [''])[0]")
    assert request_id, page
    log = app.log_text()
    assert request_id in log and "the view failed on purpose" in log
    assert app.close() == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_dev_mode_debugger_runs_under_the_relaxed_csp(
    launch: Callable[..., AppDriver], transport: str
) -> None:
    app = launch("qt", dev=True, transport=transport)
    app.goto("/boom")
    app.wait_for("div.debugger")
    assert "ValueError" in app.text("div.debugger")
    # debugger.js ran: it adds a console icon to every frame
    deadline = time.monotonic() + 5
    while not app.evaluate("document.querySelectorAll('img[src*=\"console.png\"]').length"):
        assert time.monotonic() < deadline, "the Werkzeug debugger's script did not run"
        time.sleep(0.1)
    assert app.close() == 0
