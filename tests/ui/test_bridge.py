"""The JS bridge: allow-listed dispatch, argument checks, clean errors, its HTTP endpoint behind the guard.

The endpoint tests serve the bridge the way ``launch.py`` does (mounted in a real guard on a real
waitress server) and prove that a refused call ran no Python code: every exposed function here bumps
a counter.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Optional, Union
from urllib.parse import urlsplit

import pytest
from flask import Flask, current_app
from werkzeug.test import Client

from fixtures.guarded_app import Reply, create_app, send, serve
from flaskdesk.app.guard import Guard
from flaskdesk.errors import BridgeError
from flaskdesk.ui.bridge import Bridge, script_wsgi_app

JSON = ("Content-Type", "application/json")


class Custom(Exception):
    """An app-defined exception: JavaScript sees its class name."""


@dataclass
class Api:
    bridge: Bridge
    calls: Counter[str]


def make_api() -> Api:
    bridge = Bridge()
    calls: Counter[str] = Counter()

    @bridge.expose
    def add(a: int, b: int) -> int:
        calls["add"] += 1
        return a + b

    @bridge.expose(name="greet")
    def say_hello(name: str, punctuation: str = ".") -> str:
        calls["greet"] += 1
        return f"Hello, {name}{punctuation}"

    @bridge.expose
    def typed(
        f: float,
        flag: bool,
        items: list[int],
        mapping: dict[str, Any],
        maybe: Optional[int] = None,  # noqa: UP045 - the old spelling must be understood too
        either: Union[int, str] = 0,  # noqa: UP007
        new_union: int | None = None,
    ) -> str:
        calls["typed"] += 1
        return "ok"

    @bridge.expose
    def anything(x, *rest, **named):  # type: ignore[no-untyped-def]
        calls["anything"] += 1
        return [x, list(rest), named]

    @bridge.expose
    def numbers(*values: int, **labels: str) -> int:
        calls["numbers"] += 1
        return sum(values)

    @bridge.expose
    def fail(message: str) -> None:
        calls["fail"] += 1
        raise ValueError(message)

    @bridge.expose
    def fail_custom() -> None:
        calls["fail_custom"] += 1
        raise Custom("custom failure")

    @bridge.expose
    def fail_chosen() -> None:
        calls["fail_chosen"] += 1
        raise BridgeError("NotAllowed", "you may not")

    @bridge.expose
    def unjsonable() -> object:
        calls["unjsonable"] += 1
        return {1, 2}

    @bridge.expose
    def not_a_number() -> float:
        calls["not_a_number"] += 1
        return float("nan")

    @bridge.expose
    def echo(value: Any) -> Any:
        calls["echo"] += 1
        return value

    return Api(bridge, calls)


def _private() -> None:
    raise AssertionError("never callable")


# -- registration -----------------------------------------------------------------------------


def test_expose_bare_and_named_return_the_function() -> None:
    bridge = Bridge()

    def first() -> int:
        return 1

    def second() -> int:
        return 2

    assert bridge.expose(first) is first
    assert bridge.expose(name="two")(second) is second
    assert bridge.expose(first) is first  # the same function again is fine
    assert bridge.names() == ["first", "two"]


@pytest.mark.parametrize(
    "name",
    ["_private", "__class__", "a.b", "then", "toJSON", "constructor", "1abc", "a-b", "", "x" * 101, "ünï"],
)
def test_expose_refuses_names_js_cannot_or_must_not_reach(name: str) -> None:
    with pytest.raises(ValueError, match="cannot expose"):
        Bridge().expose(name=name)(lambda: None)


def test_expose_refuses_lambdas_without_a_name_non_callables_and_duplicates() -> None:
    bridge = Bridge()
    with pytest.raises(ValueError, match="name="):
        bridge.expose(lambda: None)
    with pytest.raises(TypeError):
        bridge.expose(42)  # type: ignore[call-overload]
    bridge.expose(name="x")(lambda: 1)
    with pytest.raises(ValueError, match="already exposed"):
        bridge.expose(name="x")(lambda: 2)


# -- dispatch ---------------------------------------------------------------------------------


def test_call_runs_the_exposed_function() -> None:
    api = make_api()
    assert api.bridge.call("add", [1, 2], {}) == 3
    assert api.bridge.call("greet", ["Ada"], {"punctuation": "!"}) == "Hello, Ada!"
    assert api.bridge.call("anything", [1, 2, 3], {"k": "v"}) == [1, [2, 3], {"k": "v"}]


@pytest.mark.parametrize(
    "name",
    [
        "_private",
        "__class__",
        "__init__",
        "__globals__",
        "add.__globals__",
        "add.__code__",
        "add.__class__",
        "greet.__call__",
        "say_hello",  # the Python name of a function exposed under another name
        "constructor",
        "then",
        "unknown",
        "",
        " add",
        "add ",
        "ADD",
        "add\x00",
        "x" * 10_000,
        1,
        None,
        ["add"],
        {"name": "add"},
        True,
    ],
)
def test_refused_names_run_no_code(name: Any) -> None:
    api = make_api()
    with pytest.raises(BridgeError) as info:
        api.bridge.call(name, [1, 2], {})
    assert info.value.name in ("LookupError", "TypeError")
    assert len(info.value.message) < 200  # a long name is not echoed in full
    assert sum(api.calls.values()) == 0


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("add", [1], {}),
        ("add", [1, 2, 3], {}),
        ("add", [1], {"c": 2}),
        ("add", [1], {"a": 2}),
        ("add", ["1", 2], {}),
        ("add", [True, 2], {}),
        ("add", [1.5, 2], {}),
        ("add", [None, 2], {}),
        ("greet", [3], {}),
        ("greet", ["x"], {"punctuation": 1}),
        ("typed", ["1.0", True, [], {}], {}),
        ("typed", [1.0, 1, [], {}], {}),
        ("typed", [1.0, True, {}, {}], {}),
        ("typed", [1.0, True, [], []], {}),
        ("typed", [1.0, True, [], {}], {"maybe": "x"}),
        ("typed", [1.0, True, [], {}], {"either": 1.5}),
        ("typed", [1.0, True, [], {}], {"new_union": "x"}),
        ("numbers", [1, "2"], {}),
        ("numbers", [1], {"label": 3}),
        ("add", {"a": 1}, {}),
        ("add", [1, 2], ["b"]),
    ],
)
def test_wrong_arguments_are_a_clean_type_error_before_the_call(name: str, args: Any, kwargs: Any) -> None:
    api = make_api()
    with pytest.raises(BridgeError) as info:
        api.bridge.call(name, args, kwargs)
    assert info.value.name == "TypeError"
    assert sum(api.calls.values()) == 0


def test_accepted_argument_shapes() -> None:
    api = make_api()
    assert (
        api.bridge.call("typed", [1, False, ["not checked deeply"], {}], {"maybe": None, "either": "s"})
        == "ok"
    )
    assert api.bridge.call("typed", [2.5, True, [], {"a": [1]}], {"new_union": 3, "either": 4}) == "ok"
    assert api.bridge.call("numbers", [1, 2, 3], {"a": "x"}) == 6
    assert api.bridge.call("anything", [None], {}) == [None, [], {}]


def test_type_error_message_speaks_json() -> None:
    with pytest.raises(BridgeError) as info:
        make_api().bridge.call("add", ["1", 2], {})
    assert info.value.message == "add(): argument 'a' must be number (int), not string"


def test_unresolvable_annotations_skip_the_checks_not_the_call() -> None:
    bridge = Bridge()

    def later(x: NotDefinedAnywhere) -> str:  # type: ignore[name-defined]  # noqa: F821
        return "ran"

    bridge.expose(later)
    assert bridge.call("later", ["whatever"], {}) == "ran"
    with pytest.raises(BridgeError, match="TypeError"):
        bridge.call("later", [], {})  # the arity is still checked


@pytest.mark.parametrize(
    ("name", "args", "error_name", "message"),
    [
        ("fail", ["it broke"], "ValueError", "it broke"),
        ("fail_custom", [], "Custom", "custom failure"),
        ("fail_chosen", [], "NotAllowed", "you may not"),
    ],
)
def test_exceptions_map_to_name_and_message_with_traceback_in_the_log(
    caplog: pytest.LogCaptureFixture, name: str, args: list[Any], error_name: str, message: str
) -> None:
    with pytest.raises(BridgeError) as info:
        make_api().bridge.call(name, args, {})
    assert (info.value.name, info.value.message) == (error_name, message)
    records = [r for r in caplog.records if r.name == "flaskdesk.bridge"]
    assert records and records[-1].exc_info is not None and name in records[-1].getMessage()


def test_calls_run_inside_the_context() -> None:
    app = Flask("bridge_context_test")
    bridge = Bridge()
    bridge.context = app.app_context

    @bridge.expose
    def app_name() -> str:
        return current_app.name

    assert bridge.call("app_name", [], {}) == "bridge_context_test"


def test_context_is_left_on_error() -> None:
    events: list[str] = []

    @contextmanager
    def context() -> Iterator[None]:
        events.append("enter")
        try:
            yield
        finally:
            events.append("exit")

    api = make_api()
    api.bridge.context = context
    with pytest.raises(BridgeError):
        api.bridge.call("fail", ["x"], {})
    assert events == ["enter", "exit"]


# -- the WSGI endpoint on its own -------------------------------------------------------------


def _post(bridge: Bridge, body: bytes, content_type: str = "application/json", method: str = "POST") -> Any:
    response = Client(bridge.wsgi_app).open("/", method=method, data=body, content_type=content_type)
    return response.status_code, response.headers, response.get_json(silent=True)


def test_endpoint_success_envelope() -> None:
    status, headers, reply = _post(make_api().bridge, b'{"name": "add", "args": [2, 3]}')
    assert (status, reply) == (200, {"ok": True, "result": 5})
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "no-store"


def test_endpoint_kwargs_and_defaults() -> None:
    body = json.dumps({"name": "greet", "args": [], "kwargs": {"name": "Bo"}}).encode()
    assert _post(make_api().bridge, body)[2] == {"ok": True, "result": "Hello, Bo."}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"name": "add", "args": [1, 2]}', "text/plain"),
        (b'{"name": "add", "args": [1, 2]}', "application/x-www-form-urlencoded"),
        (b'{"name": "add", "args": [1, 2]}', "multipart/form-data; boundary=x"),
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b'{"name": "add", "args": [NaN, 1]}', "application/json"),
        (b'{"name": "add", "args": [Infinity, 1]}', "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b'["add", 1, 2]', "application/json"),
        (b'"add"', "application/json"),
        (b'{"args": [1, 2]}', "application/json"),
        (b'{"name": "add", "args": [1, 2], "extra": 1}', "application/json"),
        (b'{"name": "add", "args": [1, 2]}\xff', "application/json"),
        ('{"name": "add", "args": ["\udcff"]}'.encode("utf-8", "surrogatepass"), "application/json"),
    ],
)
def test_malformed_requests_are_400_and_run_nothing(body: bytes, content_type: str) -> None:
    api = make_api()
    status, _, reply = _post(api.bridge, body, content_type)
    assert status == 400
    assert reply["ok"] is False and reply["error"]["name"] == "BadRequest"
    assert "Traceback" not in json.dumps(reply)
    assert sum(api.calls.values()) == 0


def test_only_post_is_accepted() -> None:
    status, headers, reply = _post(make_api().bridge, b"", method="GET")
    assert status == 405 and headers["Allow"] == "POST" and reply["ok"] is False


def test_body_over_the_cap_is_refused_unread() -> None:
    api = make_api()
    api.bridge.max_body_bytes = 64
    body = json.dumps({"name": "echo", "args": ["x" * 100]}).encode()
    status, _, reply = _post(api.bridge, body)
    assert status == 400 and "larger than 64 bytes" in reply["error"]["message"]
    assert sum(api.calls.values()) == 0


@pytest.mark.parametrize("name", ["unjsonable", "not_a_number"])
def test_return_values_json_cannot_carry_are_a_clean_error(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    status, _, reply = _post(make_api().bridge, json.dumps({"name": name}).encode())
    assert status == 200
    assert reply["ok"] is False and reply["error"]["name"] == "TypeError"
    assert name in reply["error"]["message"]
    assert any(name in r.getMessage() for r in caplog.records if r.name == "flaskdesk.bridge")


def test_function_errors_are_200_envelopes_without_traceback() -> None:
    status, _, reply = _post(make_api().bridge, b'{"name": "fail", "args": ["nope"]}')
    assert status == 200
    assert reply == {"ok": False, "error": {"name": "ValueError", "message": "nope"}}


def test_script_app_serves_the_shim_uncached() -> None:
    client = Client(script_wsgi_app)
    response = client.get("/")
    expected = resources.files("flaskdesk.ui").joinpath("js/flaskdesk.js").read_bytes()
    assert response.status_code == 200 and response.data == expected
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert client.head("/").data == b""
    assert client.post("/").status_code == 405


# -- behind a real guard on a real server -----------------------------------------------------


@dataclass
class Served:
    port: int
    guard: Guard
    api: Api
    cookie: str

    def post(
        self, payload: object, headers: list[tuple[str, str]] | None = None, *, raw: bytes | None = None
    ) -> Reply:
        body = raw if raw is not None else json.dumps(payload).encode()
        sent = [("Cookie", self.cookie), *(headers if headers is not None else [JSON])]
        return send(self.port, "POST", "/__flaskdesk__/bridge", sent, body)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    api = make_api()
    app = create_app()
    api.bridge.context = app.app_context
    guards: list[Guard] = []

    def make(port: int) -> Guard:
        internal = {"bridge": api.bridge.wsgi_app, "flaskdesk.js": script_wsgi_app}
        guards.append(Guard(app, port=port, token=Guard.new_token(), internal=internal))
        return guards[0]

    with serve(make) as port:
        parts = urlsplit(guards[0].launch_url())
        cookie = send(port, "GET", f"{parts.path}?{parts.query}").header("Set-Cookie")
        assert cookie
        yield Served(port, guards[0], api, cookie.split(";", 1)[0])


@pytest.mark.parametrize(
    "headers",
    [
        [("Sec-Fetch-Site", "same-origin"), ("Origin", "http://127.0.0.1:{port}")],
        [("Sec-Fetch-Site", "same-origin")],
        [("Origin", "http://127.0.0.1:{port}")],
        [],
    ],
)
def test_same_origin_call_goes_through(served: Served, headers: list[tuple[str, str]]) -> None:
    sent = [(k, v.format(port=served.port)) for k, v in headers]
    reply = served.post({"name": "add", "args": [40, 2]}, [JSON, *sent])
    assert reply.status == 200
    assert json.loads(reply.body) == {"ok": True, "result": 42}
    assert reply.header("Access-Control-Allow-Origin") is None


@pytest.mark.parametrize(
    "headers",
    [
        [("Origin", "http://evil.example")],
        [("Origin", "null")],  # e.g. a data: or sandboxed page
        [("Origin", "null"), ("Sec-Fetch-Site", "cross-site")],
        [("Origin", "http://127.0.0.1:{other}")],
        [("Origin", "http://localhost:{port}")],
        [("Sec-Fetch-Site", "cross-site")],
        [("Sec-Fetch-Site", "same-site"), ("Origin", "http://127.0.0.1:{other}")],
    ],
)
def test_cross_origin_call_is_refused_before_dispatch(served: Served, headers: list[tuple[str, str]]) -> None:
    before = sum(served.api.calls.values())
    sent = [(k, v.format(port=served.port, other=served.port + 1)) for k, v in headers]
    reply = served.post({"name": "add", "args": [1, 2]}, [JSON, *sent])
    assert reply.status == 403
    assert sum(served.api.calls.values()) == before


def test_call_without_cookie_or_from_a_bad_host_is_refused(served: Served) -> None:
    before = sum(served.api.calls.values())
    body = b'{"name": "add", "args": [1, 2]}'
    assert send(served.port, "POST", "/__flaskdesk__/bridge", [JSON], body).status == 403
    sent = [JSON, ("Cookie", served.cookie)]
    assert (
        send(served.port, "POST", "/__flaskdesk__/bridge", sent, body, host="evil.example:{port}").status
        == 403
    )
    assert sum(served.api.calls.values()) == before


def test_preflight_for_the_bridge_is_refused(served: Served) -> None:
    headers = [
        ("Cookie", served.cookie),
        ("Origin", "http://evil.example"),
        ("Access-Control-Request-Method", "POST"),
        ("Access-Control-Request-Headers", "content-type"),
    ]
    reply = send(served.port, "OPTIONS", "/__flaskdesk__/bridge", headers)
    assert reply.status == 403 and reply.header("Access-Control-Allow-Origin") is None


def test_errors_over_http(served: Served) -> None:
    reply = served.post({"name": "fail", "args": ["broken"]})
    assert json.loads(reply.body) == {"ok": False, "error": {"name": "ValueError", "message": "broken"}}
    assert "Traceback" not in reply.text
    assert served.post({"name": "add"}, [("Content-Type", "text/plain")]).status == 400
    assert served.post(None, raw=b"{nope").status == 400


def test_the_real_size_cap_over_http(served: Served) -> None:
    before = sum(served.api.calls.values())
    payload = b'{"name": "echo", "args": ["' + b"x" * (16 * 1024 * 1024) + b'"]}'
    reply = served.post(None, raw=payload)
    assert reply.status == 400
    assert sum(served.api.calls.values()) == before
    small = served.post({"name": "echo", "args": ["x" * 1_000_000]})
    assert small.status == 200 and len(json.loads(small.body)["result"]) == 1_000_000


def test_calls_run_in_the_app_context(served: Served) -> None:
    @served.api.bridge.expose
    def where() -> str:
        return current_app.import_name

    assert json.loads(served.post({"name": "where"}).body)["result"] == "fixtures.guarded_app"


def test_page_gets_the_shim_and_the_shim_is_served(served: Served) -> None:
    page = send(served.port, "GET", "/", [("Cookie", served.cookie)])
    assert '<script src="/__flaskdesk__/flaskdesk.js" nonce="' in page.text
    script = send(served.port, "GET", "/__flaskdesk__/flaskdesk.js", [("Cookie", served.cookie)])
    assert script.status == 200 and b"window.flaskdesk" in script.body
    assert script.header("X-Content-Type-Options") == "nosniff"


# -- the JS shim, run by Node against the real server -----------------------------------------

NODE_HARNESS = textwrap.dedent(
    """
    const fs = require("fs");
    const [shimPath, base, cookie] = process.argv.slice(2);
    const realFetch = globalThis.fetch;
    const sent = [];
    // Play the browser: it adds the cookie and the fetch metadata a same-origin fetch() carries.
    globalThis.fetch = (url, init) => {
      sent.push({url: String(url), init});
      const headers = Object.assign({}, init.headers, {
        Cookie: cookie, "Sec-Fetch-Site": "same-origin", Origin: new URL(base).origin,
      });
      return realFetch(url, Object.assign({}, init, {headers}));
    };
    globalThis.window = globalThis;
    globalThis.document = {currentScript: {src: base + "/__flaskdesk__/flaskdesk.js"}};
    eval(fs.readFileSync(shimPath, "utf8"));
    const first = window.flaskdesk;
    eval(fs.readFileSync(shimPath, "utf8"));  // included twice: no harm
    const settle = (p) => p.then(
      (value) => ({ok: true, value}),
      (error) => ({ok: false, name: error.name, message: error.message, isError: error instanceof Error}),
    );
    (async () => {
      const out = {};
      out.sameObject = window.flaskdesk === first;
      out.add = await settle(flaskdesk.api.add(2, 3));
      out.greet = await settle(flaskdesk.call("greet", ["Ada"], {punctuation: "!"}));
      out.fail = await settle(flaskdesk.api.fail("it broke"));
      out.custom = await settle(flaskdesk.api.fail_custom());
      out.unknown = await settle(flaskdesk.api.nope());
      out.badArgs = await settle(flaskdesk.api.add("x", 1));
      out.bigint = await settle(flaskdesk.api.echo(1n));
      out.thenIsUndefined = flaskdesk.api.then === undefined;
      out.awaitApi = (await flaskdesk.api) === flaskdesk.api;
      out.symbol = flaskdesk.api[Symbol.iterator] === undefined;
      out.request = sent[0];
      console.log(JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(1); });
    """
)


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_js_shim_end_to_end_with_node(served: Served, tmp_path: Path) -> None:
    harness = tmp_path / "harness.js"
    harness.write_text(NODE_HARNESS)
    shim = resources.files("flaskdesk.ui").joinpath("js/flaskdesk.js")
    with resources.as_file(shim) as shim_path:
        run = subprocess.run(
            ["node", str(harness), str(shim_path), f"http://127.0.0.1:{served.port}", served.cookie],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["sameObject"] is True
    assert out["add"] == {"ok": True, "value": 5}
    assert out["greet"] == {"ok": True, "value": "Hello, Ada!"}
    assert out["fail"] == {"ok": False, "name": "ValueError", "message": "it broke", "isError": True}
    assert out["custom"]["name"] == "Custom" and out["custom"]["message"] == "custom failure"
    assert out["unknown"]["name"] == "LookupError"
    assert out["badArgs"]["name"] == "TypeError"
    assert out["bigint"]["name"] == "TypeError" and out["bigint"]["isError"] is True
    assert out["thenIsUndefined"] and out["awaitApi"] and out["symbol"]
    request = out["request"]
    assert request["url"] == f"http://127.0.0.1:{served.port}/__flaskdesk__/bridge"
    assert request["init"]["method"] == "POST"
    assert request["init"]["credentials"] == "same-origin"
    assert request["init"]["headers"] == {"Content-Type": "application/json"}
    assert json.loads(request["init"]["body"]) == {"name": "add", "args": [2, 3], "kwargs": {}}
