"""The navigation policy as a table: every kind of URL, in the window, an iframe and a new window."""

from __future__ import annotations

import logging

import pytest

from flaskdesk.ui.navigation import NavigationPolicy, Verdict, carry_out, describe, origin_of

APP = "http://127.0.0.1:5123"
ALLOW, EXTERNAL, BLOCK = Verdict.ALLOW, Verdict.EXTERNAL, Verdict.BLOCK


@pytest.fixture
def policy() -> NavigationPolicy:
    return NavigationPolicy(APP)


@pytest.mark.parametrize(
    ("url", "window", "iframe", "new_window"),
    [
        # the app itself: everywhere (a same-origin new window opens in the existing one)
        (f"{APP}/", ALLOW, ALLOW, ALLOW),
        (f"{APP}/page?q=1#frag", ALLOW, ALLOW, ALLOW),
        ("HTTP://127.0.0.1:5123/upper", ALLOW, ALLOW, ALLOW),
        # other origins, even one part off: the browser for windows, refused in iframes
        ("https://example.org/x", EXTERNAL, BLOCK, EXTERNAL),
        ("http://127.0.0.1:5124/", EXTERNAL, BLOCK, EXTERNAL),
        ("https://127.0.0.1:5123/", EXTERNAL, BLOCK, EXTERNAL),
        ("http://localhost:5123/", EXTERNAL, BLOCK, EXTERNAL),
        ("http://127.0.0.1:5123@evil.example/", EXTERNAL, BLOCK, EXTERNAL),
        ("mailto:someone@example.org", EXTERNAL, BLOCK, EXTERNAL),
        ("MAILTO:someone@example.org", EXTERNAL, BLOCK, EXTERNAL),
        # iframe bootstrapping documents: only in iframes
        ("about:blank", BLOCK, ALLOW, BLOCK),
        ("about:srcdoc", BLOCK, ALLOW, BLOCK),
        ("about:config", BLOCK, BLOCK, BLOCK),
        # blob: URLs carry their creator's origin
        (f"blob:{APP}/0b4f-11", ALLOW, ALLOW, ALLOW),
        ("blob:https://example.org/0b4f-11", BLOCK, BLOCK, BLOCK),
        # refused outright, and never handed to the browser
        ("file:///etc/passwd", BLOCK, BLOCK, BLOCK),
        ("data:text/html,<h1>hi</h1>", BLOCK, BLOCK, BLOCK),
        ("javascript:alert(1)", BLOCK, BLOCK, BLOCK),
        ("ftp://example.org/file", BLOCK, BLOCK, BLOCK),
        ("ws://127.0.0.1:5123/socket", BLOCK, BLOCK, BLOCK),
        ("myapp://open?x=1", BLOCK, BLOCK, BLOCK),
        ("view-source:http://127.0.0.1:5123/", BLOCK, BLOCK, BLOCK),
        ("", BLOCK, BLOCK, BLOCK),
        ("/relative", BLOCK, BLOCK, BLOCK),
        ("http://127.0.0.1:99999/", BLOCK, BLOCK, BLOCK),  # malformed port
        ("http://[::1/", BLOCK, BLOCK, BLOCK),  # malformed IPv6 literal
    ],
)
def test_verdicts(
    policy: NavigationPolicy, url: str, window: Verdict, iframe: Verdict, new_window: Verdict
) -> None:
    assert policy.decide(url, main_frame=True) is window
    assert policy.decide(url, main_frame=False) is iframe
    assert policy.decide(url, main_frame=False, new_window=True) is new_window


def test_a_window_without_an_app_only_hands_links_to_the_browser() -> None:
    policy = NavigationPolicy(None)
    assert policy.decide(f"{APP}/", main_frame=True) is EXTERNAL
    assert policy.decide("https://example.org/help", main_frame=True) is EXTERNAL
    assert policy.decide("data:text/html,x", main_frame=True) is BLOCK


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("http://127.0.0.1:5123", "http://127.0.0.1:5123"),
        ("http://127.0.0.1:5123/", "http://127.0.0.1:5123"),
        ("HTTP://LocalHost:80", "http://localhost"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_app_origin_is_normalised(given: str, normalised: str) -> None:
    assert NavigationPolicy(given).app_origin == normalised


@pytest.mark.parametrize(
    "bad",
    [
        "127.0.0.1:5123",
        "file:///tmp",
        "http://127.0.0.1:5123/app",
        "http://127.0.0.1:5123/?token=x",
        "http://",
    ],
)
def test_app_origin_must_be_an_origin(bad: str) -> None:
    with pytest.raises(ValueError, match="app_origin must be an http"):
        NavigationPolicy(bad)


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Example.org:443/a", "https://example.org"),
        ("http://example.org:8080", "http://example.org:8080"),
        ("mailto:x@example.org", None),
        ("http://:80/", None),
    ],
)
def test_origin_of(url: str, origin: str | None) -> None:
    assert origin_of(url) == origin


def test_describe_never_shows_paths_or_queries() -> None:
    assert describe(f"{APP}/launch?token=s3cret") == "http://127.0.0.1/..."
    assert describe("data:text/html,secret") == "data: URL"
    assert "s3cret" not in describe("mailto:a@b.c?body=s3cret")


def test_carry_out(caplog: pytest.LogCaptureFixture) -> None:
    opened: list[str] = []
    caplog.set_level(logging.INFO, logger="flaskdesk.ui")
    assert carry_out(ALLOW, f"{APP}/", opener=opened.append) is True
    assert carry_out(EXTERNAL, "https://example.org/x?token=s3cret", opener=opened.append) is False
    assert carry_out(BLOCK, "file:///etc/passwd", opener=opened.append) is False
    assert opened == ["https://example.org/x?token=s3cret"]
    assert "s3cret" not in caplog.text
    assert "refused to navigate the window to file: URL" in caplog.text
