"""Real windows, both toolkits, both transports, under Xvfb: the same page tests for loopback and scheme.

Each test runs ``scheme_child.py`` in a fresh interpreter (pywebview owns the main thread and
starts once per process) and asserts on the JSON it writes; screenshots land in the test's tmp dir.
The scheme runs are wired the way ``ui/scheme.py`` ("Wiring") tells ``WebviewBackend.run`` to be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest
from PIL import Image

pytestmark = [pytest.mark.window, pytest.mark.timeout(120)]

CHILD = Path(__file__).with_name("scheme_child.py")
BACKENDS = ["qt", "gtk"]
TRANSPORTS = ["loopback", "scheme"]
PAGE_COLOUR = "#c2185b"  # transport_site/static/site.css
WIDTH, HEIGHT = 800, 600
WINDOW_SHARE = WIDTH * HEIGHT / (1280 * 800)


@pytest.fixture
def child_env(x_display: str, tmp_path: Path) -> dict[str, str]:
    log = tmp_path / "browser.log"
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\necho "$1" >> {log}\n')
    script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QTWEBENGINE_", "FLASKDESK_"))}
    env.update(
        DISPLAY=x_display,
        BROWSER=str(script),
        XDG_CACHE_HOME=str(tmp_path / "xdg-cache"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
    )
    return env


def run_child(env: dict[str, str], tmp_path: Path, **config: Any) -> dict[str, Any]:
    name = f"{config['backend']}-{config['transport']}-{config['scenario']}"
    out = tmp_path / f"{name}.json"
    shots = tmp_path / f"{name}-shots"
    shots.mkdir()
    config = {
        "out": str(out),
        "shot_dir": str(shots),
        "storage_dir": str(tmp_path / "storage"),
        "data_dir": str(tmp_path / "data"),
        "browser_log": str(tmp_path / "browser.log"),
        "options": {
            "title": f"transport {name}",
            "width": WIDTH,
            "height": HEIGHT,
            "background_color": "#203040",
        },
        **config,
    }
    config_file = tmp_path / f"{name}.config.json"
    config_file.write_text(json.dumps(config))
    proc = subprocess.run(
        [sys.executable, str(CHILD), str(config_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result: dict[str, Any] = json.loads(out.read_text())
    assert "error" not in result, (result, proc.stderr[-3000:])
    result["_shots"] = str(shots)
    return result


def colour_share(path: Path, colour: str, tolerance: int = 3) -> float:
    want = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        counts = cast("list[tuple[int, tuple[int, int, int]]]", rgb.getcolors(maxcolors=1 << 24) or [])
        hits = sum(
            n for n, pixel in counts if all(abs(a - b) <= tolerance for a, b in zip(pixel, want, strict=True))
        )
        return hits / (rgb.width * rgb.height)


def ok(result: dict[str, Any], key: str) -> Any:
    outcome = result[key]
    assert "err" not in outcome, (key, outcome)
    return outcome["ok"]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_everything_a_page_does(
    backend: str, transport: str, child_env: dict[str, str], tmp_path: Path
) -> None:
    result = run_child(child_env, tmp_path, backend=backend, transport=transport, scenario="full")
    origin = result["origin"]
    if transport == "scheme":
        assert origin == "app://flaskdesk"
        assert result["url"] == "app://flaskdesk/"
    else:
        assert origin.startswith("http://127.0.0.1:")
    assert result["secure_context"] is True  # app:// is registered secure; loopback is trustworthy

    # Template page + static CSS: the stylesheet's colour covers the window (look at page.png).
    shots = Path(result["_shots"])
    assert colour_share(shots / "page.png", PAGE_COLOUR) >= 0.8 * WINDOW_SHARE
    assert result["hello_colour"] >= 0.8 * WINDOW_SHARE

    # JSON fetch POST, headers, and real status codes for fetch and XHR (Qt: restored by scheme.js).
    echoed = ok(result, "json")
    assert echoed["status"] == 200 and echoed["ok"] and echoed["echo"] == "yes"
    assert echoed["body"]["received"] == {"a": [1, "\u00fc"]}
    assert echoed["body"]["scheme"] == ("app" if transport == "scheme" else "http")
    assert ok(result, "status_fetch") == [[404, False], [500, False], [201, True]]
    assert ok(result, "status_xhr") == [404, "NOT FOUND"]
    # Header values keep their case (Qt lower-cases them; scheme.js restores them for scripts).
    assert echoed["case"] == "MiXeD Case"
    assert ok(result, "case_xhr") == ["MiXeD Case", True]
    # CSP nonces work (inline script with the nonce runs, without it does not).
    assert result["inline_scripts"] == [True, False]

    # send_file: headers as over HTTP; a 9 MiB file streams through whole.
    download = ok(result, "download")
    assert download["text"] == "a,b\n1,2\n"
    assert download["disposition"] == "attachment; filename=report.csv"
    assert download["type"] == "text/csv; charset=utf-8" and download["length"] == "8"
    assert ok(result, "big") == {"length": 9 * 1024 * 1024, "first": [0, 1, 2], "last": 255}

    # Streaming: chunks arrive as the view yields them (0.4 s apart), and an event stream works.
    stream = ok(result, "stream")
    assert [text for _, text in stream["chunks"]] == ["chunk0;", "chunk1;", "chunk2;"]
    assert stream["chunks"][0][0] < 300 and stream["total"] > 700
    assert ok(result, "sse") == ["event0", "event1", "event2"]

    # The bridge works over the transport, errors included.
    assert ok(result, "bridge") == [5, "LookupError", "no function named 'nope' is exposed"]

    # Uploads: multipart by fetch, by XHR, a Blob body, and a form navigation with a file.
    assert ok(result, "upload_fetch")["sha256"] == result["upload_expected"]
    assert ok(result, "upload_fetch")["note"] == "via fetch"
    assert ok(result, "upload_xhr")["size"] == 1000 and ok(result, "upload_xhr")["note"] == "via xhr"
    assert ok(result, "upload_blob_body") == {"blob": True}
    assert result["upload_form_url"] == f"{origin}/uploaded"
    assert result["upload_form"]["sha256"] == result["upload_expected"]
    assert result["upload_form"]["filename"] == "form.bin" and result["upload_form"]["note"] == "a note"

    # Form POST → redirect → page, with the session cookie and a flash message; Flask-Login.
    assert result["form_url"] == f"{origin}/hello"
    assert result["form_text"] == ["Hello ada", ["saved ada"]]
    assert result["login_url"] == f"{origin}/me" and result["login_text"] == "ada"

    # Encodings and error pages look as they do over HTTP.
    assert result["unicode"] == ["\u00fc", "gr\u00fc\u00dfe \u2713"]
    assert result["error_page"].startswith("Something went wrong")
    assert "request id" in result["error_page"]
    assert result["missing_page"] == "404 Not Found"

    # The navigation policy holds on both transports.
    assert result["external_handed"] is True
    assert result["external_url"] == f"{origin}/plain"
    assert result["file_url"] == f"{origin}/plain"

    # document.cookie: the engines keep no cookies for a custom scheme (server cookies are in the jar).
    assert result["cookie_js"] == ("" if transport == "scheme" else "js_cookie=1")
    # ... and what the scheme cannot do is said, not silent.
    said = " | ".join(result["console_said"])
    if transport == "scheme":
        assert "document.cookie does not work over app://" in said
        assert "WebSockets cannot reach the app over app://" in said
    else:
        assert "flaskdesk:" not in said
    assert result["drained"] is True


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_slow_view_never_freezes_the_window(
    backend: str, transport: str, child_env: dict[str, str], tmp_path: Path
) -> None:
    result = run_child(child_env, tmp_path, backend=backend, transport=transport, scenario="freeze")
    assert "slow done" in ok(result, "slow")
    assert result["js_calls"] >= 10
    assert result["js_latency_max"] < 0.5  # the GUI thread answered all along the 3 s request
    assert result["nav_latency_max"] < 0.5
    assert result["slow_nav_url"].endswith("/slow?seconds=2")


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_in_flight_write_survives_closing(
    backend: str, transport: str, child_env: dict[str, str], tmp_path: Path
) -> None:
    result = run_child(
        child_env, tmp_path, backend=backend, transport=transport, scenario="close_during_write"
    )
    assert result["started"] is True
    assert result["drained"] is True
    assert (tmp_path / "data" / "finished").read_text() == "written while the window closed"
    if transport == "scheme":
        assert result["drain_seconds"] > 0.5  # shutdown waited for the view


@pytest.mark.parametrize("backend", BACKENDS)
def test_scheme_mode_opens_no_tcp_socket(backend: str, child_env: dict[str, str], tmp_path: Path) -> None:
    scheme = run_child(child_env, tmp_path, backend=backend, transport="scheme", scenario="sockets")
    assert scheme["url"] == "app://flaskdesk/"
    assert scheme["bridge"] == {"ok": 2}
    assert len(scheme["tree"]) > 1  # the engine's helper processes are looked at too
    assert scheme["tcp"] == {"listening": [], "other": []}
    assert scheme["ss_mine"] == []
    # The same probe sees the loopback server, so an empty answer above means something.
    loopback = run_child(child_env, tmp_path, backend=backend, transport="loopback", scenario="sockets")
    assert len(loopback["tcp"]["listening"]) == 1
    assert len(loopback["ss_mine"]) == 1 and "127.0.0.1:" in loopback["ss_mine"][0]
