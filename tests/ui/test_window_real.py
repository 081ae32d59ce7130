"""Real windows, both toolkits, under Xvfb: look, storage, navigation, signals, error page, devtools.

Each test runs ``window_child.py`` in a fresh interpreter (pywebview owns the main thread and
starts once per process) and asserts on the JSON it writes. Screenshots land in the test's tmp
dir; ``window_child.py`` says what is in each.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

import pytest
from PIL import Image

from conftest import Unprivileged

pytestmark = [pytest.mark.window, pytest.mark.timeout(90)]

CHILD = Path(__file__).with_name("window_child.py")
BACKENDS = ["qt", "gtk"]
PAGE_COLOUR = "#3a7bd5"  # window_site/static/site.css


@pytest.fixture
def browser_log(tmp_path: Path) -> Path:
    """Where the fake $BROWSER writes the URLs it was given, one per line."""
    return tmp_path / "browser.log"


@pytest.fixture
def child_env(x_display: str, tmp_path: Path, browser_log: Path) -> dict[str, str]:
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\necho "$1" >> {browser_log}\n')
    script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QTWEBENGINE_", "FLASKDESK_"))}
    env.update(
        DISPLAY=x_display,
        BROWSER=str(script),
        XDG_CACHE_HOME=str(tmp_path / "xdg-cache"),  # Qt's shader cache etc. stay out of $HOME
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
    )
    return env


def start_child(
    env: dict[str, str], tmp_path: Path, name: str, **config: Any
) -> tuple[subprocess.Popen[str], Path]:
    out = tmp_path / f"{name}.json"
    shots = tmp_path / f"{name}-shots"
    shots.mkdir()
    config = {"out": str(out), "shot_dir": str(shots), "storage_dir": str(tmp_path / "storage"), **config}
    config_file = tmp_path / f"{name}-config.json"
    config_file.write_text(json.dumps(config))
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(config_file)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proc, out


def run_child(env: dict[str, str], tmp_path: Path, name: str, **config: Any) -> dict[str, Any]:
    proc, out = start_child(env, tmp_path, name, **config)
    output, _ = proc.communicate(timeout=40)
    assert proc.returncode == 0, output
    result: dict[str, Any] = json.loads(out.read_text())
    assert "error" not in result, (result, output)
    return result


def shot(tmp_path: Path, name: str, file: str) -> Path:
    return tmp_path / f"{name}-shots" / file


def colour_share(path: Path, colour: str, tolerance: int = 3) -> float:
    """Share of the screenshot's pixels within ``tolerance`` of ``colour`` (``#rrggbb``)."""
    want = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        counts = cast("list[tuple[int, tuple[int, int, int]]]", rgb.getcolors(maxcolors=1 << 24) or [])
        hits = sum(
            count
            for count, pixel in counts
            if all(abs(a - b) <= tolerance for a, b in zip(pixel, want, strict=True))
        )
        return hits / (rgb.width * rgb.height)


@pytest.mark.parametrize("backend", BACKENDS)
def test_page_background_title_min_size_and_icon(
    backend: str, child_env: dict[str, str], tmp_path: Path
) -> None:
    icon = tmp_path / "icon.png"
    Image.new("RGBA", (64, 64), (200, 30, 30, 255)).save(icon)
    title = f"look {backend}"
    result = run_child(
        child_env,
        tmp_path,
        "look",
        backend=backend,
        scenario="look",
        delay=2.0,  # "/" answers after 2 s: the first screenshot is taken before any page exists
        options={
            "title": title,
            "width": 640,
            "height": 480,
            "min_size": [420, 300],
            "background_color": "#203040",
            "icon": str(icon),
        },
    )
    window_share = 640 * 480 / (1280 * 800)
    # Before the page: the window is background_color, not white.
    assert result["before"] >= 0.9 * window_share
    assert result["before_white"] < 0.01
    # The template + static CSS page: its background colour fills the window.
    assert result["after"] >= 0.8 * window_share
    assert colour_share(shot(tmp_path, "look", "after.png"), PAGE_COLOUR) >= 0.8 * window_share
    assert result["url"] == f"http://127.0.0.1:{result['port']}/"
    assert result["iframe"] == "inside"  # <iframe srcdoc> (about:srcdoc) is allowed in subframes
    props = result["x"]["props"]
    assert f'_NET_WM_NAME(UTF8_STRING) = "{title}"' in props
    assert "program specified minimum size: 420 by 300" in props
    assert "Icon (64 x 64)" in result["x"]["icon"]
    assert result["events"] == ["closed"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_fixed_size_window(backend: str, child_env: dict[str, str], tmp_path: Path) -> None:
    title = f"fixed {backend}"
    result = run_child(
        child_env,
        tmp_path,
        "fixed",
        backend=backend,
        scenario="look",
        options={
            "title": title,
            "width": 500,
            "height": 400,
            "resizable": False,
            "background_color": "#203040",
        },
    )
    props = result["x"]["props"]
    assert "minimum size: 500 by 400" in props
    assert "maximum size: 500 by 400" in props


@pytest.mark.parametrize("backend", BACKENDS)
def test_web_storage_persists_per_app(backend: str, child_env: dict[str, str], tmp_path: Path) -> None:
    app_store, other_store = tmp_path / "app-store", tmp_path / "other-store"
    options = {"title": f"storage {backend}", "width": 400, "height": 300}
    common = {"backend": backend, "scenario": "storage", "value": "v42", "options": options}
    first = run_child(child_env, tmp_path, "write", storage_dir=str(app_store), mode="write", **common)
    assert first["local"] == "v42"
    # localStorage is per origin and the origin includes the port: reuse it for the next runs.
    port = first["port"]
    again = run_child(
        child_env, tmp_path, "read", storage_dir=str(app_store), mode="read", port=port, **common
    )
    assert again["local"] == "v42"
    assert "flaskdesk_test=v42" in again["cookie"]
    other = run_child(
        child_env, tmp_path, "other", storage_dir=str(other_store), mode="read", port=port, **common
    )
    assert other["local"] is None
    assert "flaskdesk_test" not in other["cookie"]
    # The HTTP cache lives with the app's web data, not in a cache dir shared by every app.
    assert (app_store / "cache").is_dir()
    assert not [p for p in (tmp_path / "xdg-cache").rglob("*") if p.is_file() and "QtWebEngine" in p.parts]


@pytest.mark.parametrize("backend", BACKENDS)
def test_navigation_policy(
    backend: str, child_env: dict[str, str], tmp_path: Path, browser_log: Path
) -> None:
    result = run_child(
        child_env,
        tmp_path,
        "navigate",
        backend=backend,
        scenario="navigate",
        browser_log=str(browser_log),
        options={"title": f"navigate {backend}", "width": 640, "height": 480},
    )
    app = f"http://127.0.0.1:{result['port']}/"
    # Other sites and mailto: go to $BROWSER; the window stays on the app.
    for step in ("click", "assign", "blank", "window.open", "mailto"):
        assert result[f"{step}.handed"], step
        assert result[f"{step}.url"] == app, step
    # data:, file: and custom schemes are refused outright, and never reach the browser either.
    for step in ("data", "file", "custom"):
        assert result[f"{step}.url"] == app, step
    assert result["browser_log"] == [
        "https://example.org/x",
        "https://example.org/assigned",
        "https://example.org/blank",
        "https://example.org/opened",
        "mailto:someone@example.org",
        "https://example.org/later",
    ]
    # A same-origin target=_blank link opens in the window itself.
    assert result["same-blank.url"] == app + "other"
    # A page that leaves without a user gesture: handed over too, and the window stays.
    # (The <iframe src="https://example.org/framed"> on the first page was never handed over.)
    assert result["later.handed"]
    assert result["later.url_after"] == app + "later"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_signal_closes_the_window_gracefully(
    backend: str, signum: signal.Signals, child_env: dict[str, str], tmp_path: Path
) -> None:
    ready = tmp_path / "ready"
    proc, out = start_child(
        child_env,
        tmp_path,
        "signal",
        backend=backend,
        scenario="signal",
        ready=str(ready),
        options={"title": f"signal {backend}", "width": 400, "height": 300},
    )
    deadline = time.monotonic() + 20
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[0]
        time.sleep(0.05)
    sent = time.monotonic()
    proc.send_signal(signum)
    output, _ = proc.communicate(timeout=10)
    took = time.monotonic() - sent
    assert proc.returncode == 0, output
    assert took < 4, took
    result = json.loads(out.read_text())
    assert result["events"] == ["closed"]  # on_closed ran: run() returned normally
    assert f"{signum.name} received: closing the window" in output


@pytest.mark.parametrize("backend", BACKENDS)
def test_show_error(backend: str, child_env: dict[str, str], tmp_path: Path, browser_log: Path) -> None:
    html = (
        "<!doctype html><html><body style='background:#7a1f5c;color:#fff;font:20px sans-serif'>"
        "<h1>Demo could not start</h1><p>port 8000 is in use</p>"
        "<a href='https://example.org/help' style='position:fixed;inset:0'></a></body></html>"
    )
    result = run_child(
        child_env,
        tmp_path,
        "error",
        backend=backend,
        scenario="error",
        error_title="Demo could not start",
        error_colour="#7a1f5c",
        html=html,
        browser_log=str(browser_log),
        options={"title": "Demo", "width": 1000, "height": 700},
    )
    assert '_NET_WM_NAME(UTF8_STRING) = "Demo could not start"' in result["x"]["props"]
    # Not blank: the page's colour covers the (760x520) window.
    assert result["share"] >= 0.9 * 760 * 520 / (1280 * 800)
    # A link on the error page goes to the browser; the page stays.
    assert result["handed"] == ["https://example.org/help"]
    assert result["share_after_click"] >= 0.9 * 760 * 520 / (1280 * 800)


@pytest.mark.parametrize("backend", BACKENDS)
def test_dev_mode_devtools_open_without_a_debugging_port(
    backend: str, child_env: dict[str, str], tmp_path: Path
) -> None:
    result = run_child(
        child_env,
        tmp_path,
        "dev",
        backend=backend,
        scenario="dev",
        dev=True,
        options={"title": f"dev {backend}", "width": 640, "height": 480},
    )
    assert result["devtools"], "F12 did not open developer tools"
    assert result["listening"] == [str(result["port"])]  # only the app's own server
    assert result["remote_debugging_env"] is None


# -- Qt with Chromium's sandbox on, as a desktop user runs it -------------------------------------

SANDBOXED_APP = """
from flask import Flask, render_template
from flaskdesk import Desktop

app = Flask(__name__)
desktop = Desktop(app, title="sandboxed", width=640, height=480, background_color="#203040")

@app.route("/")
def index():
    return render_template("index.html")

if __name__ == "__main__":
    desktop.run()
"""
SANDBOXED_PAGE = """<!doctype html><html><head>
<link rel="stylesheet" href="{{ url_for('static', filename='page.css') }}">
<script src="{{ url_for('static', filename='page.js') }}" defer></script>
</head><body></body></html>"""
# The script turns the page purple once the stylesheet made it blue (both ran) and it listens for
# clicks. A click (a user gesture, as browsers want before sound) starts Web Audio, whose service
# is one a left-out unsandboxed zygote could have started; the page turns green once it plays.
SANDBOXED_SCRIPT = """if (getComputedStyle(document.body).backgroundColor === "rgb(58, 123, 213)") {
  document.body.style.background = "#6a2a9d";
}
document.addEventListener("click", () => {
  document.body.style.background = "#c0701a";
  const audio = new AudioContext();
  const tone = audio.createOscillator();
  tone.connect(audio.destination);
  tone.start();
  const check = () => {
    if (audio.state === "running") {
      document.body.style.background = "#2a9d5c";
    } else {
      setTimeout(check, 100);
    }
  };
  check();
});"""
SANDBOXED_READY = "#6a2a9d"
SANDBOXED_CLICKED = "#c0701a"
SANDBOXED_COLOUR = "#2a9d5c"


@pytest.mark.slow
@pytest.mark.parametrize("transport", ["loopback", "scheme"])
def test_qt_with_the_sandbox_on_shows_the_page_with_one_zygote(
    transport: str, x_display: str, tmp_path: Path, unprivileged: Unprivileged
) -> None:
    """Every other Qt test here runs as root, where Chromium's sandbox is off. This one runs the
    app as a normal user: the renderer must be sandboxed and the unsandboxed zygote left out
    (:meth:`Unprivileged.assert_chromium_sandboxed`), and the page (template, stylesheet, script,
    Web Audio) must still work."""
    work = unprivileged.home
    (work / "templates").mkdir()
    (work / "static").mkdir()
    (work / "app.py").write_text(SANDBOXED_APP)
    (work / "templates" / "index.html").write_text(SANDBOXED_PAGE)
    (work / "static" / "page.css").write_text(f"body {{ background: {PAGE_COLOUR}; margin: 0; }}")
    (work / "static" / "page.js").write_text(SANDBOXED_SCRIPT)
    unprivileged.hand_over(work)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QTWEBENGINE_", "FLASKDESK_", "XDG_"))}
    env.update(DISPLAY=x_display, HOME=str(work), FLASKDESK_GUI="qt", FLASKDESK_TRANSPORT=transport)
    proc = subprocess.Popen(
        [*unprivileged.prefix, sys.executable, str(work / "app.py")],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        window_share = 640 * 480 / (1280 * 800)

        def wait_for_page(colour: str, what: str, seconds: float = 40) -> None:
            deadline = time.monotonic() + seconds
            share = 0.0
            while share < 0.8 * window_share and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.3)
                shot_path = tmp_path / "sandboxed.png"
                subprocess.run(["import", "-window", "root", str(shot_path)], check=True, capture_output=True)
                share = colour_share(shot_path, colour)
            assert share >= 0.8 * window_share, f"{what} (share of {colour}: {share:.3f})"

        wait_for_page(SANDBOXED_READY, "the page (template, stylesheet, script) did not show")
        found = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", "^sandboxed$"], capture_output=True, text=True
        )
        window_id = found.stdout.split()[0]
        for _attempt in range(3):  # as a user would click again; one click is usually enough
            subprocess.run(
                ["xdotool", "mousemove", "--window", window_id, "320", "240", "click", "1"], check=True
            )
            with contextlib.suppress(AssertionError):
                wait_for_page(SANDBOXED_COLOUR, "", seconds=8)
                break
        else:
            wait_for_page(SANDBOXED_CLICKED, "three clicks: the page saw none", seconds=1)
            pytest.fail("the page saw the click, but Web Audio did not start")
        unprivileged.assert_chromium_sandboxed(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert "No usable sandbox" not in output, output
    assert ("serving on http://127.0.0.1:" in output) == (transport == "loopback"), output
