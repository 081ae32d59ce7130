"""The guard, attacked for real: raw HTTP against a waitress server, over every route of the fixture app.

Each refusal test also proves that nothing ran behind the guard: the fixture app counts every request
that reaches Flask, and the count must not move.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask, got_request_exception
from werkzeug.test import EnvironBuilder, run_wsgi_app

from fixtures import guarded_app
from fixtures.guarded_app import CALLS, SAMPLE_VALUES, SECRET_DETAIL, Reply, create_app, send, serve
from flaskdesk.app.guard import CSP_NONCE_KEY, REQUEST_ID_KEY, Guard, GuardPolicy, log_request_exception

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

SCRIPT_JS = b"/* test shim */"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
FORBIDDEN_TEXT = "only serves its own application window"


# -- the served fixture -----------------------------------------------------------------------


def script_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/javascript"), ("Content-Length", str(len(SCRIPT_JS)))])
    return [SCRIPT_JS]


def where_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    body = f"{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def crash_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    raise RuntimeError(SECRET_DETAIL)


@dataclass
class Site:
    port: int
    guard: Guard
    app: Flask
    token: str
    cookie: str

    @property
    def calls(self) -> Counter[str]:
        calls: Counter[str] = self.app.extensions[CALLS]
        return calls

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def get(
        self, method: str, path: str | bytes, headers: list[tuple[str, str]] | None = None, **kw: Any
    ) -> Reply:
        """A request from the app's own window (cookie included) unless told otherwise."""
        return send(self.port, method, path, [("Cookie", self.cookie), *(headers or [])], **kw)


def launch(port: int, url: str, headers: list[tuple[str, str]] | None = None) -> Reply:
    parts = urlsplit(url)
    return send(port, "GET", f"{parts.path}?{parts.query}", headers)


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    app = create_app()
    token = Guard.new_token()
    guards: list[Guard] = []

    def make(port: int) -> Guard:
        internal = {"flaskdesk.js": script_app, "where": where_app, "crash": crash_app}
        guards.append(Guard(app, port=port, token=token, internal=internal))
        return guards[0]

    with serve(make) as port:
        reply = launch(port, guards[0].launch_url())
        cookie = reply.header("Set-Cookie")
        assert reply.status == 303 and cookie
        yield Site(port, guards[0], app, token, cookie.split(";", 1)[0])


# -- every route of the fixture app -----------------------------------------------------------


def _route_cases() -> list[Any]:
    app = create_app()
    adapter = app.url_map.bind("127.0.0.1")
    cases = []
    for rule in app.url_map.iter_rules():
        values = {name: SAMPLE_VALUES[name] for name in rule.arguments}
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            path = adapter.build(rule.endpoint, values, method=method)
            cases.append(pytest.param(method, path, id=f"{method} {path}"))
    cases.append(pytest.param("GET", "/no-such-page", id="GET 404"))
    return cases


ROUTES = _route_cases()
UNSAFE_ROUTES = [case for case in ROUTES if case.values[0] not in ("GET", "HEAD")]


def test_fixture_covers_every_kind_of_route() -> None:
    paths = {case.values[1] for case in ROUTES}
    assert {
        "/",
        "/static/guarded_app.py",
        "/api/data",
        "/form",
        "/redirect",
        "/boom",
        "/no-such-page",
    } <= paths
    assert {case.values[0] for case in UNSAFE_ROUTES} == {"POST", "PUT", "PATCH", "DELETE"}


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_window_request_reaches_route_with_security_headers(site: Site, method: str, path: str) -> None:
    before = site.calls["total"]
    reply = site.get(method, path, body=b"x=1" if method != "GET" else b"")
    assert reply.status not in (401, 403)
    assert site.calls["total"] == before + 1
    for name, value in SECURITY_HEADERS.items():
        assert reply.all(name) == [value], name
    assert not [name for name, _ in reply.headers if name.lower().startswith("access-control-")]
    assert reply.header("Content-Security-Policy")
    if not path.startswith("/static/"):  # the static file is this fixture's source, secret and all
        assert "Traceback" not in reply.text and SECRET_DETAIL not in reply.text


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(
    "cookie",
    [None, "flaskdesk-{port}=wrong", "flaskdesk-1={session}", "{session}", "flaskdesk-{port}="],
    ids=["none", "wrong-value", "other-port-name", "no-name", "empty"],
)
def test_request_without_session_cookie_is_refused(
    site: Site, method: str, path: str, cookie: str | None
) -> None:
    session = site.cookie.split("=", 1)[1]
    headers = [] if cookie is None else [("Cookie", cookie.format(port=site.port, session=session))]
    before = site.calls["total"]
    reply = send(site.port, method, path, headers)
    assert reply.status == 403
    assert FORBIDDEN_TEXT in reply.text
    assert reply.header("Referrer-Policy") == "no-referrer"
    assert site.calls["total"] == before


BAD_HOSTS = [
    "evil.example:{port}",
    "127.0.0.1.evil.example:{port}",
    "0.0.0.0:{port}",
    "127.0.0.1:{other}",
    "localhost:{other}",
    "127.0.0.1",
    "localhost",
    "[::1]:{port}",
    "127.0.0.1:{port}.evil.example",
    "127.0.0.1:{port}@evil.example",
    "",
    None,
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("host", BAD_HOSTS, ids=[str(h) for h in BAD_HOSTS])
def test_bad_host_is_refused_even_with_cookie(site: Site, method: str, path: str, host: str | None) -> None:
    value = None if host is None else host.format(port=site.port, other=site.port + 1)
    before = site.calls["total"]
    reply = site.get(method, path, host=value)
    assert reply.status == 403
    assert site.calls["total"] == before


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}"])
def test_allowed_hosts(site: Site, host: str) -> None:
    reply = site.get("GET", "/api/data", host=host.format(port=site.port))
    assert reply.status == 200


CROSS_ORIGIN = [
    [("Origin", "http://evil.example")],
    [("Origin", "http://127.0.0.1:{other}")],
    [("Origin", "null")],
    [("Origin", "http://localhost:{port}")],
    [("Origin", "https://127.0.0.1:{port}")],
    [("Sec-Fetch-Site", "cross-site")],
    [("Sec-Fetch-Site", "same-site")],
    [("Sec-Fetch-Site", "cross-site"), ("Origin", "http://127.0.0.1:{port}")],
    [("Sec-Fetch-Site", "same-site"), ("Origin", "null")],
    [("Sec-Fetch-Site", "same-origin"), ("Origin", "http://evil.example")],
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("headers", CROSS_ORIGIN, ids=[repr(h) for h in CROSS_ORIGIN])
def test_cross_origin_request_is_refused(
    site: Site, method: str, path: str, headers: list[tuple[str, str]]
) -> None:
    sent = [(name, value.format(port=site.port, other=site.port + 1)) for name, value in headers]
    before = site.calls["total"]
    reply = site.get(method, path, sent, body=b"x=1" if method != "GET" else b"")
    assert reply.status == 403
    assert site.calls["total"] == before
    assert reply.header("Access-Control-Allow-Origin") is None


SAME_ORIGIN = [
    [("Sec-Fetch-Site", "same-origin")],
    [("Sec-Fetch-Site", "none")],
    [("Origin", "http://127.0.0.1:{port}")],
    [("Sec-Fetch-Site", "same-origin"), ("Origin", "http://127.0.0.1:{port}")],
    # A same-origin form POST from a page with Referrer-Policy: no-referrer (what the guard sends).
    [("Sec-Fetch-Site", "same-origin"), ("Origin", "null")],
    # A non-browser client that holds the cookie (Jupyter Server lets these through too).
    [],
]


@pytest.mark.parametrize(("method", "path"), UNSAFE_ROUTES)
@pytest.mark.parametrize("headers", SAME_ORIGIN, ids=[repr(h) for h in SAME_ORIGIN])
def test_same_origin_write_is_allowed(
    site: Site, method: str, path: str, headers: list[tuple[str, str]]
) -> None:
    sent = [(name, value.format(port=site.port)) for name, value in headers]
    before = site.calls["total"]
    reply = site.get(
        method, path, [*sent, ("Content-Type", "application/x-www-form-urlencoded")], body=b"x=1"
    )
    assert reply.status not in (401, 403)
    assert site.calls["total"] == before + 1


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:{port}"])
def test_cors_preflight_is_refused(site: Site, method: str, path: str, origin: str) -> None:
    before = site.calls["total"]
    headers = [
        ("Origin", origin.format(port=site.port)),
        ("Access-Control-Request-Method", method),
        ("Access-Control-Request-Headers", "content-type"),
    ]
    reply = site.get("OPTIONS", path, headers)
    assert reply.status == 403
    assert not [name for name, _ in reply.headers if name.lower().startswith("access-control-")]
    assert site.calls["total"] == before


def test_app_cors_headers_are_stripped_and_owned_headers_replaced(site: Site) -> None:
    reply = site.get("GET", "/cors")
    assert reply.status == 200
    assert reply.header("Access-Control-Allow-Origin") is None
    assert reply.header("Access-Control-Allow-Credentials") is None
    assert reply.all("X-Frame-Options") == ["DENY"]


# -- launch token and cookie ------------------------------------------------------------------


def test_new_token_is_random_and_at_least_256_bits() -> None:
    tokens = {Guard.new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(token) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", token) for token in tokens)


def test_launch_sets_strict_cookie_and_redirects(site: Site) -> None:
    url = site.guard.launch_url("/form?x=1")
    assert url.startswith(f"http://127.0.0.1:{site.port}/__flaskdesk__/launch?")
    assert parse_qs(urlsplit(url).query) == {"token": [site.token], "next": ["/form?x=1"]}
    reply = launch(site.port, url, [("Sec-Fetch-Site", "none")])
    assert reply.status == 303
    assert reply.header("Location") == "/form?x=1"
    assert reply.header("Referrer-Policy") == "no-referrer"
    assert reply.header("Cache-Control") == "no-store"
    cookie = reply.header("Set-Cookie")
    assert cookie is not None
    name_value, *attributes = [part.strip() for part in cookie.split(";")]
    assert name_value.startswith(f"flaskdesk-{site.port}=")
    assert site.token not in cookie
    assert {attr.lower() for attr in attributes} == {"path=/", "httponly", "samesite=strict"}
    assert send(site.port, "GET", "/api/data", [("Cookie", name_value)]).status == 200


@pytest.mark.parametrize(
    "next_path",
    [
        "//evil.example/",
        "///evil.example/",
        "http://evil.example/",
        "https:evil.example",
        "javascript:alert(1)",
        "\\\\evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        " /x",
        "evil.example",
        "",
    ],
)
def test_launch_refuses_open_redirects(site: Site, next_path: str) -> None:
    with pytest.raises(ValueError):
        site.guard.launch_url(next_path)
    query = urlencode({"token": site.token, "next": next_path})
    reply = send(site.port, "GET", f"/__flaskdesk__/launch?{query}")
    assert reply.status == 400
    assert reply.header("Set-Cookie") is None
    assert reply.header("Location") is None


@pytest.mark.parametrize(
    "query",
    [
        "",
        "token=",
        "token=nope&next=/",
        "token={wrong}&next=/",
        "token={token}x&next=/",
        "token={token}&token={token}&next=/",
        "TOKEN={token}",
        "token=%zz%&next=%%%",
        "&".join(["a=1"] * 50),
    ],
)
def test_wrong_token_is_refused_and_never_echoed(site: Site, query: str) -> None:
    wrong = Guard.new_token()
    reply = send(site.port, "GET", f"/__flaskdesk__/launch?{query.format(token=site.token, wrong=wrong)}")
    assert reply.status == 403
    assert reply.header("Set-Cookie") is None
    everything = reply.text + repr(reply.headers)
    assert site.token not in everything and wrong not in everything
    assert FORBIDDEN_TEXT in reply.text


def test_launch_only_answers_get(site: Site) -> None:
    reply = send(
        site.port, "POST", f"/__flaskdesk__/launch?token={site.token}", [("Sec-Fetch-Site", "same-origin")]
    )
    assert reply.status == 405
    assert reply.header("Set-Cookie") is None


def test_launch_still_needs_the_right_host(site: Site) -> None:
    reply = launch(site.port, site.guard.launch_url())
    assert reply.status == 303
    parts = urlsplit(site.guard.launch_url())
    reply = send(site.port, "GET", f"{parts.path}?{parts.query}", host=f"evil.example:{site.port}")
    assert reply.status == 403 and reply.header("Set-Cookie") is None


def test_token_is_compared_in_constant_time(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert launch(site.port, site.guard.launch_url()).status == 303
    assert (site.token.encode(), site.token.encode()) in seen


def test_token_and_cookie_never_reach_the_log(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    session = site.cookie.split("=", 1)[1]
    caplog.set_level(logging.DEBUG)
    with got_request_exception.connected_to(log_request_exception, site.app):
        launch(site.port, site.guard.launch_url("/"))
        send(site.port, "GET", f"/__flaskdesk__/launch?token={site.token}x")
        send(site.port, "GET", f"/__flaskdesk__/launch?token={site.token}&next=//evil")
        send(site.port, "GET", f"/?token={site.token}", host="evil.example")
        site.get("GET", "/boom")
        site.get("GET", "/__flaskdesk__/crash")
    assert caplog.records
    for record in caplog.records:
        text = caplog.text + record.getMessage() + repr(record.args) + (record.exc_text or "")
        assert site.token not in text and session not in text
    assert site.token not in repr(site.guard) and session not in repr(site.guard)


def test_guard_refuses_bad_arguments() -> None:
    app = create_app()
    token = Guard.new_token()
    with pytest.raises(ValueError, match="port"):
        Guard(app, port=0, token=token)
    with pytest.raises(ValueError, match="token"):
        Guard(app, port=8000, token="short")
    with pytest.raises(ValueError, match="mount"):
        Guard(app, port=8000, token=token, internal={"launch": script_app})
    with pytest.raises(ValueError, match="mount"):
        Guard(app, port=8000, token=token, internal={"a/b": script_app})
    with pytest.raises(ValueError, match="csp"):
        GuardPolicy(csp="default-src 'self'\r\nX-Evil: 1")


# -- headers and CSP --------------------------------------------------------------------------


def _nonce(csp: str) -> str:
    match = re.search(r"'nonce-([^']+)'", csp)
    assert match, csp
    return match.group(1)


def test_default_csp(site: Site) -> None:
    csp = site.get("GET", "/api/data").header("Content-Security-Policy")
    assert csp is not None
    directives = {part.split()[0]: part.split()[1:] for part in csp.split("; ")}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"][0] == "'self'" and len(directives["script-src"]) == 2
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]
    assert directives["img-src"][:2] == ["'self'", "data:"]
    assert "'unsafe-eval'" not in csp
    assert "'unsafe-inline'" not in directives["script-src"]


def test_nonce_is_fresh_per_response_and_reaches_the_template(site: Site) -> None:
    first, second = site.get("GET", "/"), site.get("GET", "/")
    nonces = []
    for reply in (first, second):
        nonce = _nonce(reply.header("Content-Security-Policy") or "")
        assert len(nonce) >= 22
        assert f'data-nonce="{nonce}"' in reply.text  # environ["flaskdesk.csp_nonce"] in the view
        assert f'nonce="{nonce}" data-flaskdesk' in reply.text  # and on the injected tag
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_app_own_csp_is_kept(site: Site) -> None:
    reply = site.get("GET", "/own-csp")
    assert reply.all("Content-Security-Policy") == ["default-src 'none'"]
    assert reply.header("X-Frame-Options") == "DENY"


def _call(guard: Guard, path: str = "/", **kw: Any) -> tuple[str, dict[str, str], bytes]:
    environ = EnvironBuilder(path=path, **kw).get_environ()
    guard.authenticate_environ(environ)
    body, status, headers = run_wsgi_app(guard, environ, buffered=True)
    return status, dict(headers), b"".join(body)


def test_policy_csp_template_gets_the_nonce() -> None:
    policy = GuardPolicy(csp="default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'")
    guard = Guard(create_app(), port=8123, token=Guard.new_token(), policy=policy)
    _, headers, body = _call(guard)
    csp = headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'self'; script-src 'self' 'nonce-") and "{nonce}" not in csp
    assert _nonce(csp).encode() in body


def test_dev_policy_relaxes_script_src_only() -> None:
    strict = Guard(create_app(), port=8123, token=Guard.new_token())
    dev = Guard(create_app(), port=8123, token=Guard.new_token(), policy=GuardPolicy(dev=True))
    strict_csp = dict(part.split(" ", 1) for part in _call(strict)[1]["Content-Security-Policy"].split("; "))
    dev_csp = dict(part.split(" ", 1) for part in _call(dev)[1]["Content-Security-Policy"].split("; "))
    assert dev_csp["script-src"] == "'self' 'unsafe-inline'"
    assert {k: v for k, v in dev_csp.items() if k != "script-src"} == {
        k: v for k, v in strict_csp.items() if k != "script-src"
    }
    # and the access checks are all still on
    environ = EnvironBuilder(path="/api/data").get_environ()
    environ["HTTP_HOST"] = "127.0.0.1:8123"
    _, status, _ = run_wsgi_app(dev, environ, buffered=True)
    assert status.startswith("403")


def test_ipv6_loopback_host_only_when_listed() -> None:
    without = Guard(create_app(), port=8123, token=Guard.new_token())
    with_v6 = Guard(create_app(), port=8123, token=Guard.new_token(), hosts=("127.0.0.1", "localhost", "::1"))
    for guard, expected in ((without, "403"), (with_v6, "200")):
        environ = EnvironBuilder(path="/api/data").get_environ()
        guard.authenticate_environ(environ)
        environ["HTTP_HOST"] = "[::1]:8123"
        _, status, _ = run_wsgi_app(guard, environ, buffered=True)
        assert status.startswith(expected)


def test_authenticate_environ_keeps_other_cookies() -> None:
    guard = Guard(create_app(), port=8123, token=Guard.new_token())
    environ = EnvironBuilder(path="/api/data", headers=[("Cookie", "theme=dark")]).get_environ()
    guard.authenticate_environ(environ)
    assert environ["HTTP_COOKIE"].startswith("theme=dark; flaskdesk-8123=")
    assert environ["HTTP_HOST"] == "127.0.0.1:8123"
    _, status, _ = run_wsgi_app(guard, environ, buffered=True)
    assert status.startswith("200")


def test_guard_sets_environ_keys_for_the_app() -> None:
    seen: dict[str, str] = {}

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        seen.update(nonce=environ[CSP_NONCE_KEY], request_id=environ[REQUEST_ID_KEY])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    guard = Guard(app, port=8123, token=Guard.new_token())
    _, headers, _ = _call(guard)
    assert _nonce(headers["Content-Security-Policy"]) == seen["nonce"]
    assert re.fullmatch(r"[0-9a-f]{12}", seen["request_id"])


def test_wrapped_app_can_be_swapped() -> None:
    def other(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"new app"]

    guard = Guard(create_app(), port=8123, token=Guard.new_token())
    guard.app = other
    assert _call(guard)[2] == b"new app"


# -- script injection -------------------------------------------------------------------------


def _script_tags(html: str) -> list[str]:
    return re.findall(r"<script[^>]*data-flaskdesk[^>]*>", html)


def test_script_is_injected_before_head_end_with_fixed_length(site: Site) -> None:
    reply = site.get("GET", "/")
    nonce = _nonce(reply.header("Content-Security-Policy") or "")
    tag = f'<script src="/__flaskdesk__/flaskdesk.js" nonce="{nonce}" data-flaskdesk></script>'
    assert f"{tag}</head>" in reply.text
    assert int(reply.header("Content-Length") or -1) == len(reply.body)


def test_script_goes_after_body_when_there_is_no_head(site: Site) -> None:
    reply = site.get("GET", "/bodyonly")
    assert reply.text.startswith('<!DOCTYPE html>\n<body class="x"><script src="/__flaskdesk__/flaskdesk.js"')
    assert int(reply.header("Content-Length") or -1) == len(reply.body)


def test_script_goes_first_in_a_bare_fragment(site: Site) -> None:
    reply = site.get("GET", "/nohead")
    assert reply.text.startswith('<script src="/__flaskdesk__/flaskdesk.js"')
    assert reply.text.endswith("<p>no head, no body, no doctype</p>")


def test_script_is_not_injected_twice(site: Site) -> None:
    reply = site.get("GET", "/already")
    assert len(_script_tags(reply.text)) == 1


@pytest.mark.parametrize("path", ["/stream", "/api/data", "/redirect"])
def test_non_html_and_streamed_responses_are_untouched(site: Site, path: str) -> None:
    reply = site.get("GET", path)
    assert not _script_tags(reply.text)
    if path == "/stream":
        assert reply.header("Content-Length") is None
        assert reply.text.endswith("<body>streamed</body></html>")


def test_static_file_is_byte_identical(site: Site) -> None:
    reply = site.get("GET", "/static/guarded_app.py")
    assert reply.status == 200
    assert reply.body == Path(guarded_app.__file__).read_bytes()


def test_head_request_is_not_rewritten(site: Site) -> None:
    reply = site.get("HEAD", "/")
    assert reply.status == 200 and reply.body == b""


def test_no_injection_without_a_script_mount() -> None:
    guard = Guard(create_app(), port=8123, token=Guard.new_token())
    _, _, body = _call(guard)
    assert b"data-flaskdesk" not in body


def test_injected_script_is_served_to_the_window_only(site: Site) -> None:
    reply = site.get("GET", "/__flaskdesk__/flaskdesk.js")
    assert reply.status == 200 and reply.body == SCRIPT_JS
    assert send(site.port, "GET", "/__flaskdesk__/flaskdesk.js").status == 403


@pytest.mark.parametrize(
    "path", ["/__flaskdesk__/", "/__flaskdesk__/nope", "/__flaskdesk__/where/x", "/__flaskdesk__"]
)
def test_unknown_internal_paths_are_404(site: Site, path: str) -> None:
    before = site.calls["total"]
    reply = site.get("GET", path)
    assert reply.status == 404
    # "/__flaskdesk__" (no slash) is an ordinary app path; everything under the prefix is the guard's.
    assert site.calls["total"] == before + (1 if path == "/__flaskdesk__" else 0)


def test_internal_mount_sees_its_own_script_name(site: Site) -> None:
    assert site.get("GET", "/__flaskdesk__/where").text == "/__flaskdesk__/where|"


# -- errors -----------------------------------------------------------------------------------


def test_view_error_is_a_generic_page_with_request_id(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with got_request_exception.connected_to(log_request_exception, site.app):
        reply = site.get("GET", "/boom")
    assert reply.status == 500
    match = re.search(r"<code>([0-9a-f]{12})</code>", reply.text)
    assert match, reply.text
    request_id = match.group(1)
    assert (
        SECRET_DETAIL not in reply.text and "Traceback" not in reply.text and "RuntimeError" not in reply.text
    )
    guard_records = [
        r for r in caplog.records if r.name == "flaskdesk.guard" and request_id in r.getMessage()
    ]
    assert any("/boom" in r.getMessage() for r in guard_records)
    with_traceback = [r for r in guard_records if r.exc_info]
    assert with_traceback and SECRET_DETAIL in caplog.text


def test_crash_outside_flask_is_a_generic_500(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    reply = site.get("GET", "/__flaskdesk__/crash")
    assert reply.status == 500
    assert SECRET_DETAIL not in reply.text and "Traceback" not in reply.text
    assert reply.header("Content-Security-Policy")
    assert any(r.exc_info and "/__flaskdesk__/crash" in r.getMessage() for r in caplog.records)


def test_app_500_page_showing_the_request_id_is_kept() -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = f"<p>Sorry! Quote {environ[REQUEST_ID_KEY]}</p>".encode()
        start_response(
            "500 INTERNAL SERVER ERROR", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))]
        )
        return [body]

    guard = Guard(app, port=8123, token=Guard.new_token())
    status, _, body = _call(guard)
    assert status.startswith("500") and body.startswith(b"<p>Sorry! Quote ")


def test_dev_mode_keeps_the_app_500_page() -> None:
    app = create_app()
    guard = Guard(app, port=8123, token=Guard.new_token(), policy=GuardPolicy(dev=True))
    status, _, body = _call(guard, "/boom")
    assert status.startswith("500") and b"Internal Server Error" in body and b"request id" not in body


def test_streaming_iterable_is_closed() -> None:
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b"a"
            yield b"b"

        def close(self) -> None:
            closed.append(True)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return Body()

    guard = Guard(app, port=8123, token=Guard.new_token())
    assert _call(guard)[2] == b"ab"
    assert closed == [True]


def test_lazy_start_response_generator_app() -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"lazy"

    guard = Guard(app, port=8123, token=Guard.new_token())
    status, headers, body = _call(guard)
    assert status.startswith("200") and body == b"lazy" and headers["X-Frame-Options"] == "DENY"


# -- malformed requests -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/%zz%", {404}),
        ("/%", {404}),
        (b"/\xff\xfe", {400, 404}),  # waitress refuses a non-ASCII request target itself
        ("/api/data?a=%zz&b=%%", {200}),
        ("/static/..%2f..%2fpyproject.toml", {404}),
        ("/static/../../pyproject.toml", {404}),
    ],
)
def test_malformed_paths_get_clean_answers(site: Site, path: str | bytes, expected: set[int]) -> None:
    reply = site.get("GET", path)
    assert reply.status in expected
    assert "Traceback" not in reply.text


def test_huge_header_is_a_clean_4xx(site: Site) -> None:
    reply = site.get("GET", "/", [("X-Huge", "a" * 400_000)])
    assert 400 <= reply.status < 500
    assert "Traceback" not in reply.text


def test_large_but_allowed_header_still_needs_the_cookie(site: Site) -> None:
    reply = send(site.port, "GET", "/", [("Cookie", "x=" + "a" * 100_000)])
    assert reply.status == 403


@pytest.mark.parametrize("cookie", ["=;;;==", '"', "flaskdesk-1", "a" * 5000, "\x7f\x80"])
def test_garbage_cookie_is_refused_cleanly(site: Site, cookie: str) -> None:
    before = site.calls["total"]
    reply = send(site.port, "GET", "/", [("Cookie", cookie)])
    assert reply.status in (400, 403)  # waitress itself refuses control characters in a header
    assert site.calls["total"] == before


def test_bad_request_line_is_a_clean_400(site: Site) -> None:
    reply = send(site.port, "GET", b"/ x y z")
    assert 400 <= reply.status < 500


# -- helpers ----------------------------------------------------------------------------------


def test_log_request_exception_outside_a_request(caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise ValueError("x")
    except ValueError as exc:
        log_request_exception(None, exc)
    assert caplog.records[-1].exc_info is not None
