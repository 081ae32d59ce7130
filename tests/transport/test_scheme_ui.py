"""The toolkit-neutral glue of ``transport="scheme"`` (no window): policy, page script, platform stubs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from flaskdesk.errors import BackendError
from flaskdesk.ui import _gtk_scheme
from flaskdesk.ui.navigation import NavigationPolicy, Verdict
from flaskdesk.ui.scheme import (
    ORIGIN,
    SchemeNavigationPolicy,
    SchemeTransport,
    install_scheme_transport,
    page_script,
    scheme_origin,
)

POLICY = SchemeNavigationPolicy(ORIGIN)


@pytest.mark.parametrize(
    ("url", "main_frame", "verdict"),
    [
        ("app://flaskdesk/", True, Verdict.ALLOW),
        ("APP://FlaskDesk/x?y#z", True, Verdict.ALLOW),
        ("app://flaskdesk/x", False, Verdict.ALLOW),
        ("app://other/", True, Verdict.BLOCK),  # another origin on the same scheme
        ("app://flaskdesk:8/", True, Verdict.BLOCK),
        ("blob:app://flaskdesk/1234", True, Verdict.ALLOW),
        ("blob:app://other/1234", True, Verdict.BLOCK),
        ("https://example.org/", True, Verdict.EXTERNAL),
        ("https://example.org/", False, Verdict.BLOCK),
        ("http://127.0.0.1:5000/", True, Verdict.EXTERNAL),  # the loopback origin is not this app's
        ("mailto:a@example.org", True, Verdict.EXTERNAL),
        ("file:///etc/passwd", True, Verdict.BLOCK),
        ("data:text/html,hi", True, Verdict.BLOCK),
        ("javascript:alert(1)", True, Verdict.BLOCK),
        ("about:srcdoc", False, Verdict.ALLOW),
        ("about:blank", True, Verdict.BLOCK),
        ("flaskdesk-test://x", True, Verdict.BLOCK),
    ],
)
def test_scheme_navigation_policy(url: str, main_frame: bool, verdict: Verdict) -> None:
    assert POLICY.decide(url, main_frame=main_frame) is verdict


def test_policy_is_a_navigation_policy_and_checks_its_origin() -> None:
    assert isinstance(POLICY, NavigationPolicy)
    assert POLICY.app_origin == ORIGIN
    assert SchemeNavigationPolicy("APP://FlaskDesk/").app_origin == ORIGIN
    for bad in ("http://127.0.0.1:5000", "app://flaskdesk/path", "app://", "other://flaskdesk"):
        with pytest.raises(ValueError):
            SchemeNavigationPolicy(bad)
    assert scheme_origin("app://x/y") == "app://x"
    assert scheme_origin("app://x:1/") is None


def test_transport_urls() -> None:
    transport = SchemeTransport(lambda *a, **k: None)  # type: ignore[arg-type,return-value]
    assert transport.url() == "app://flaskdesk/"
    assert transport.url("/a?b") == "app://flaskdesk/a?b"
    with pytest.raises(ValueError):
        transport.url("//evil/")
    assert transport.policy.app_origin == ORIGIN
    with pytest.raises(ValueError):
        SchemeTransport(lambda *a, **k: None, origin="http://127.0.0.1:1")  # type: ignore[arg-type,return-value]


def test_install_refuses_a_url_off_the_app() -> None:
    transport = SchemeTransport(lambda *a, **k: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError):
        install_scheme_transport(object(), "qt", transport, "https://example.org/")


@pytest.mark.parametrize(("toolkit", "platform"), [("edgechromium", "Windows"), ("cocoa", "macOS")])
def test_native_platforms_say_what_they_lack(toolkit: str, platform: str) -> None:
    transport = SchemeTransport(lambda *a, **k: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(BackendError, match=platform) as raised:
        transport.prepare(toolkit)
    assert "loopback" in str(raised.value)
    with pytest.raises(BackendError, match=platform):
        transport.attach(object(), toolkit)


@pytest.mark.parametrize(("toolkit", "restore", "uploads"), [("qt", True, True), ("gtk", False, True)])
def test_page_script_switches_per_engine(toolkit: str, restore: bool, uploads: bool) -> None:
    script = page_script(toolkit)
    config = json.loads(script[script.rindex("})(") + 3 : script.rindex(");")])
    assert config["restore"] is restore and config["uploads"] is uploads
    assert config["stash"] == "/__flaskdesk__/upload"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_page_script_is_valid_javascript(tmp_path: Path) -> None:
    """Parse both variants with Node (the engines would only log a SyntaxError in the page)."""
    for toolkit in ("qt", "gtk"):
        source = tmp_path / f"{toolkit}.js"
        source.write_text(page_script(toolkit))
        subprocess.run(["node", "--check", str(source)], check=True, capture_output=True)


@pytest.mark.parametrize(
    ("headers", "navigation"),
    [
        ([("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"), ("Upgrade-Insecure-Requests", "1")], True),
        ([("Accept", "text/html")], True),
        ([("Accept", "*/*")], False),
        ([("Accept", "text/css,*/*;q=0.1")], False),
        ([], False),
    ],
)
def test_gtk_tells_navigations_apart(headers: list[tuple[str, str]], navigation: bool) -> None:
    assert _gtk_scheme._is_navigation(headers) is navigation


def test_gtk_redirect_page_escapes_the_target() -> None:
    page = _gtk_scheme._refresh_page('app://flaskdesk/a?b=1&c="x"<')
    assert b'content="0;url=app://flaskdesk/a?b=1&amp;c=&quot;x&quot;&lt;"' in page
    assert b"<script" not in page


def test_transport_benchmark_runs_without_a_window() -> None:
    """The benchmark's Python-only part and its report, so ``benchmarks/transport.py`` cannot rot."""
    import sys

    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:
        sys.path.insert(0, root)
    from benchmarks import transport as bench

    python = bench.python_roundtrips(20)
    assert python["loopback"] is not None and python["scheme"] is not None
    assert python["scheme"]["n"] == python["loopback"]["n"] == 20
    summary = {"n": 1, "median": 0.5, "low": 0.5, "high": 0.5}
    lat = {"n": 1, "p50": 1.0, "p99": 1.0, "mean": 1.0}
    data = {
        "date": "today",
        "runs": 1,
        "calls": 1,
        "warmup": 0,
        "machine": {"cpu": "cpu", "cores": 1, "os": "os"},
        "startup": {"qt": {"loopback": summary, "scheme": summary}},
        "roundtrip": {"qt": {t: {"bridge_ms": lat, "fetch_ms": lat} for t in bench.TRANSPORTS}},
        "python": python,
        "notes": bench.NOTES,
    }
    text = bench.render(data)
    assert text.startswith("# Transport: loopback")
    assert "| qt | 0.500 (0.500 to 0.500) | 0.500 (0.500 to 0.500) | 1.00x |" in text
