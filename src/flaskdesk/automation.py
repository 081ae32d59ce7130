"""The automation channel: lets a test tool drive the app's real window from another process.

pywebview must own the main thread, so a test cannot drive the window in its own process; it
launches the app as a child and talks to it here. The channel is **off** unless the launching tool
hands the process an inherited socket (one end of a ``socket.socketpair()``) and a one-time
secret::

    FLASKDESK_AUTOMATION_FD=<fd or handle>  FLASKDESK_AUTOMATION_SECRET=<secret>

On POSIX the socket is ``AF_UNIX``, passed with ``subprocess.Popen(pass_fds=...)``. On Windows,
where Python has neither, it is the connected loopback TCP pair ``socket.socketpair()`` makes there
(its listener already closed), the child's end made inheritable and passed as the only extra
handle in ``subprocess.STARTUPINFO(lpAttributeList={"handle_list": [handle]})`` with
``close_fds=True``; :func:`claim` there accepts only a connected TCP socket whose two ends are both
loopback. All of that lives in :mod:`flaskdesk._automation_os`, the one place that asks the OS.

Only a process that already holds the socket can reach the channel: there is no listening socket
and no path on disk, so other users, other local processes and web pages have nothing to connect
to. The secret guards against a socket leaked to the wrong child. :func:`claim` removes both
variables from the environment before the user's app is imported and makes the socket
non-inheritable, so app code and its child processes never see either.

Protocol: newline-delimited JSON over the socket. The first request must be
``{"id": 1, "cmd": "hello", "args": {"secret": "..."}}``; anything else, or a wrong secret, gets an
error reply and the channel is closed. Then each request ``{"id", "cmd", "args"}`` gets exactly
one reply, ``{"id", "ok": true, "result"}`` or ``{"id", "ok": false, "error": {"name", "message",
...}}``. The app may also send one unsolicited ``{"event": "startup_error", ...}`` line when it
cannot start (see :meth:`AutomationChannel.fail`). Commands are in :data:`COMMANDS`; the client
is :mod:`flaskdesk.testing.driver`.

Wiring (the launchers' job; the channel object is passed down, never stored in a module)::

    channel = automation.claim(os.environ)   # entry point, before the user's app is imported
    ...                                      # ConfigError here = the launching tool is broken
    session = WindowSession(..., on_shown=(
        (lambda handle: channel.start(handle, app=app, origin=server.url, log_file=log_file))
        if channel else None))
    ...
    except FlaskdeskError as error:
        if channel: channel.fail(error, log_file)    # instead of the blocking error window
        else: show_startup_error(...)
    finally:
        if channel: channel.close()

The window must run scripts without ``eval()`` (the guard's CSP forbids it): every script sent
here is a complete program whose value is a JSON string, and it must come back unchanged.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import select
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Flask

from ._automation_os import for_platform
from .errors import ConfigError

log = logging.getLogger("flaskdesk.automation")

FD_VARIABLE = "FLASKDESK_AUTOMATION_FD"
SECRET_VARIABLE = "FLASKDESK_AUTOMATION_SECRET"
PROTOCOL_VERSION = 1

#: Longest request line accepted before the peer proved it knows the secret, and after.
_MAX_HELLO_LINE = 4096
_MAX_LINE = 16 * 1024 * 1024
#: A secret shorter than this cannot have come from ``secrets.token_urlsafe(32)``: refuse it.
_MIN_SECRET_LENGTH = 32
#: Query parameters never echoed back in a URL (the guard's launch token rides on the first load).
_HIDDEN_QUERY_KEYS = frozenset({"token", "flaskdesk_token", "_flaskdesk_token", "__flaskdesk_token"})
_POLL_INTERVAL = 0.05
_SWEEP_INTERVAL = 0.5


class WindowLike(Protocol):
    """What the channel needs from a window (``flaskdesk.ui.window.WindowHandle`` satisfies it)."""

    def load_url(self, url: str) -> None: ...
    def evaluate_js(self, script: str) -> Any: ...
    def get_current_url(self) -> str | None: ...
    def destroy(self) -> None: ...


class CommandError(Exception):
    """A command failed in a way the client should see as ``{"name", "message", **details}``.

    Internal to the channel: it never leaves this module, it becomes an error reply.
    """

    def __init__(self, name: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.details = details

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "message": self.message, **self.details}


def claim(env: MutableMapping[str, str], *, platform: str = sys.platform) -> AutomationChannel | None:
    """Take the automation variables out of ``env`` and the socket out of inheritance.

    Returns ``None`` (channel off) when the launching tool did not ask for automation. Call it
    before the user's app is imported so that neither the app nor its children see the variables.
    A socket of the wrong kind is refused (closed, with a ``ConfigError``): on POSIX anything but
    an ``AF_UNIX`` stream socket, so the channel never runs over TCP even if a confused tool hands
    it a TCP socket; on Windows anything but a connected TCP socket with both ends on loopback.
    ``platform`` is ``sys.platform``; tests pass the other one.
    """
    fd_text = env.pop(FD_VARIABLE, None)
    secret = env.pop(SECRET_VARIABLE, None)
    if fd_text is None:
        return None
    if not secret or len(secret) < _MIN_SECRET_LENGTH or not secret.isascii():
        raise ConfigError(
            f"{FD_VARIABLE} is set but {SECRET_VARIABLE} is missing or shorter than {_MIN_SECRET_LENGTH} "
            "characters; the tool that launched this app must pass both (see docs/testing.md)."
        )
    channel_os = for_platform(platform)
    try:
        sock = socket.socket(fileno=int(fd_text))
    except (ValueError, OSError) as error:
        raise ConfigError(
            f"{FD_VARIABLE}={fd_text!r} is not an open socket of this process ({error}); the "
            f"launching tool must pass it with {channel_os.passing}."
        ) from None
    problem = channel_os.refusal(sock)
    if problem is None:
        try:
            sock.set_inheritable(False)
        except OSError as error:
            problem = f"could not be made non-inheritable ({error})"
    if problem is not None:
        sock.close()
        raise ConfigError(f"{FD_VARIABLE} {problem}.")
    return AutomationChannel(sock, secret.encode("ascii"))


@dataclass
class _Peer:
    """The connection: a socket plus the bytes of a request line not yet complete."""

    sock: socket.socket
    buffer: bytes = b""

    def read_line(self, limit: int, stop: threading.Event) -> bytes | None:
        """The next line, or ``None`` at end of stream / when stopping; ``ValueError`` if too long."""
        while b"\n" not in self.buffer:
            if len(self.buffer) > limit:
                raise ValueError(f"request longer than {limit} bytes")
            if stop.is_set():
                return None
            try:
                readable, _, _ = select.select([self.sock], [], [], _SWEEP_INTERVAL)
                if not readable:
                    return b""  # idle tick: the caller sweeps JS errors and comes back
                chunk = self.sock.recv(65536)
            except (OSError, ValueError):
                return None
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        if len(line) > limit:
            raise ValueError(f"request longer than {limit} bytes")
        return line

    def send(self, message: Mapping[str, Any]) -> None:
        self.sock.sendall(json.dumps(message, separators=(",", ":"), default=str).encode() + b"\n")


class AutomationChannel:
    """The app side of one automation connection (created by :func:`claim`)."""

    def __init__(self, sock: socket.socket, secret: bytes) -> None:
        self._peer = _Peer(sock)
        self._secret = secret
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self, handle: WindowLike, *, app: Flask, origin: str, log_file: Path | None = None) -> None:
        """Serve requests against ``handle`` on a background thread (call once the window is shown).

        ``origin`` is the app's own origin (``http://127.0.0.1:PORT``, or ``app://flaskdesk`` for the
        scheme transport): ``goto`` only goes there. The
        thread is a daemon on purpose: a script the page never answers (the window was destroyed
        mid-call) must not keep the process alive after the launch has drained.
        """
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            session = _Session(handle, app=app, origin=origin.rstrip("/"), log_file=log_file)
            self._thread = threading.Thread(
                target=self._serve, args=(session,), name="flaskdesk-automation", daemon=True
            )
            self._thread.start()
        log.info("automation channel on (driven by the launching tool)")

    def fail(self, error: BaseException, log_file: Path | None = None) -> None:
        """Tell the client the app could not start, so a test fails now instead of timing out."""
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            with contextlib.suppress(OSError):
                self._peer.send(
                    {
                        "event": "startup_error",
                        "name": type(error).__name__,
                        "message": str(error),
                        "log_file": str(log_file) if log_file else None,
                    }
                )
        self.close()

    def close(self, timeout: float = 2.0) -> None:
        """Stop serving and close the socket (the client sees end of stream). Safe to call twice."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._peer.sock.shutdown(socket.SHUT_RDWR)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._peer.sock.close()

    def _serve(self, session: _Session) -> None:
        peer = self._peer
        try:
            if not self._authenticate():
                return
            while not self._stop.is_set():
                line = peer.read_line(_MAX_LINE, self._stop)
                if line is None:
                    return
                if not line:
                    session.sweep()
                    continue
                reply, after = session.respond(line)
                peer.send(reply)
                if after is not None:
                    after()
        except (OSError, ValueError) as error:
            log.warning("automation channel closed: %s", error)
        except Exception:
            log.exception("automation channel failed")
        finally:
            self._stop.set()
            with contextlib.suppress(OSError):
                peer.sock.shutdown(socket.SHUT_RDWR)

    def _authenticate(self) -> bool:
        """The first line must be ``hello`` with the secret; anything else closes the channel."""
        while True:
            try:
                line = self._peer.read_line(_MAX_HELLO_LINE, self._stop)
            except ValueError:
                line = b"{}"
            if line is None:
                return False
            if line:
                break
        request_id: Any = None
        try:
            request = json.loads(line)
            request_id = request.get("id")
            given = request.get("args", {}).get("secret", "") if request.get("cmd") == "hello" else None
        except (ValueError, AttributeError):
            given = None
        if isinstance(given, str) and given.isascii() and hmac.compare_digest(given.encode(), self._secret):
            self._peer.send(
                {"id": request_id, "ok": True, "result": {"protocol": PROTOCOL_VERSION, "pid": os.getpid()}}
            )
            return True
        log.warning("automation channel refused a peer that did not present the secret")
        self._peer.send(
            {
                "id": request_id,
                "ok": False,
                "error": {
                    "name": "Unauthorized",
                    "message": "the first request must be hello with the secret",
                },
            }
        )
        return False


class _Session:
    """Runs commands against one window. Every page interaction is a self-contained script."""

    def __init__(self, handle: WindowLike, *, app: Flask, origin: str, log_file: Path | None) -> None:
        self.window = handle
        self.app = app
        self.origin = origin
        self.log_file = log_file
        self.js_errors: list[dict[str, Any]] = []
        self._pending = 0

    def respond(self, line: bytes) -> tuple[dict[str, Any], Callable[[], None] | None]:
        """One request line → its reply, plus an action to run once the reply is sent (``close``)."""
        request_id: Any = None
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise CommandError("BadRequest", "a request is a JSON object")
            request_id = request.get("id")
            name = request.get("cmd")
            args = request.get("args") or {}
            method = COMMANDS.get(name) if isinstance(name, str) else None
            if method is None or not isinstance(args, dict):
                raise CommandError(
                    "BadRequest", f"unknown command {name!r}; known: {', '.join(sorted(COMMANDS))}"
                )
            if name == "close":
                return {"id": request_id, "ok": True, "result": None}, self._close
            try:
                result = getattr(self, method)(**args)
            except TypeError as error:
                raise CommandError("BadRequest", f"{name}: {error}") from None
            return {"id": request_id, "ok": True, "result": result}, None
        except CommandError as error:
            return {"id": request_id, "ok": False, "error": error.to_json()}, None
        except ValueError as error:
            return {
                "id": request_id,
                "ok": False,
                "error": {"name": "BadRequest", "message": str(error)},
            }, None
        except Exception as error:
            log.exception("automation command failed")
            return {
                "id": request_id,
                "ok": False,
                "error": {"name": type(error).__name__, "message": str(error)},
            }, None

    # -- page access ------------------------------------------------------------------------------

    def run(self, body: str, **params: Any) -> Any:
        """Run ``body`` as ``function(p) {...}`` in the page; its return value comes back as JSON.

        The envelope catches the page's exceptions and stringifies the result itself, so the answer
        does not depend on how the window backend maps JS errors or serialises values.
        """
        script = (
            "(function(){try{var r=(function(p){"
            + body
            + "})("
            + json.dumps(params)
            + ");return JSON.stringify({ok:true,value:r===undefined?null:r});}"
            "catch(e){return JSON.stringify({ok:false,name:String((e&&e.name)||'Error'),"
            "message:String((e&&e.message)||e),stack:e&&e.stack?String(e.stack):null});}})()"
        )
        try:
            raw = self.window.evaluate_js(script)
        except Exception as error:
            raise CommandError("ScriptNotRun", f"the page did not run the script: {error}") from None
        try:
            answer = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            # A script that does not parse (or that the page's CSP refused) runs nothing at all.
            raise CommandError("ScriptNotRun", f"unexpected answer from the page: {raw!r:.300}")
        if not answer.get("ok"):
            raise CommandError(
                str(answer.get("name") or "Error"), str(answer.get("message")), stack=answer.get("stack")
            )
        return answer.get("value")

    def sweep(self) -> None:
        """Install the error hook in the current page and move what it caught into ``js_errors``.

        Runs between commands too, so errors are collected before a navigation throws them away.
        """
        try:
            caught = self.run(_ERROR_HOOK)
        except CommandError:
            return
        if isinstance(caught, list):
            self.js_errors.extend(e for e in caught if isinstance(e, dict))
            del self.js_errors[:-200]

    def page_state(self) -> dict[str, Any]:
        """URL and visible text, for error messages that say where the page was."""
        try:
            state = self.run(
                "return {text:(document.body&&document.body.innerText)||'',title:document.title};"
            )
        except CommandError:
            state = {"text": "", "title": ""}
        return {
            "url": self.current_url(),
            "page_text": str(state.get("text", ""))[:500],
            "title": state.get("title"),
        }

    def current_url(self) -> str | None:
        try:
            url = self.window.get_current_url()
        except Exception:
            return None
        return hide_secrets(url) if url else None

    def wait_for_element(self, selector: str, timeout: float) -> None:
        deadline = time.monotonic() + max(0.0, float(timeout))
        while True:
            if self.run(_FIND + "return !!find(p.selector);", selector=selector):
                return
            if time.monotonic() >= deadline:
                raise CommandError(
                    "TimeoutError",
                    f"no element matched {selector!r} within {timeout:g} s",
                    selector=selector,
                    **self.page_state(),
                )
            time.sleep(_POLL_INTERVAL)

    # -- commands (names listed in COMMANDS) ------------------------------------------------------

    def cmd_status(self) -> dict[str, Any]:
        try:
            state = self.run(
                "return {ready:document.readyState,title:document.title,api:"
                "!!(window.flaskdesk&&window.flaskdesk.api)};"
            )
        except CommandError:
            state = {"ready": "unknown", "title": None, "api": False}
        return {
            "loaded": state.get("ready") == "complete",
            "url": self.current_url(),
            "title": state.get("title"),
            "pid": os.getpid(),
            "app": self.app.name,
            "log_file": str(self.log_file) if self.log_file else None,
        }

    def cmd_url(self) -> str | None:
        return self.current_url()

    def cmd_goto(self, path: str, timeout: float = 10.0) -> str | None:
        self.sweep()
        target = same_origin_url(self.origin, path)
        marker = f"flaskdesk-nav-{time.monotonic_ns()}"
        with contextlib.suppress(CommandError):
            self.run("window.__flaskdeskNavigation=p.m;", m=marker)
        self.window.load_url(target)
        deadline = time.monotonic() + timeout
        while True:
            try:
                state = self.run("return {m:window.__flaskdeskNavigation||null,ready:document.readyState};")
                if state.get("m") != marker and state.get("ready") == "complete":
                    break
            except CommandError:
                pass
            if time.monotonic() >= deadline:
                raise CommandError(
                    "TimeoutError", f"{path} did not finish loading within {timeout:g} s", **self.page_state()
                )
            time.sleep(_POLL_INTERVAL)
        self.sweep()
        return self.current_url()

    def cmd_eval(self, js: str, timeout: float = 10.0) -> Any:
        """Evaluate the expression ``js`` in the page; a promise is awaited up to ``timeout``.

        The expression is placed in the script itself, never passed to ``eval()``: the guard's CSP
        forbids ``unsafe-eval``, and a test must see the page exactly as the user does.
        """
        if not isinstance(js, str) or not js.strip():
            raise CommandError("BadRequest", "eval needs a JavaScript expression")
        self._pending += 1
        key = f"p{self._pending}"
        try:
            first = self.run(_EVAL_HEAD + js + _EVAL_TAIL, key=key)
        except CommandError as error:
            if error.name != "ScriptNotRun":
                raise
            raise CommandError(
                "SyntaxError",
                f"the page did not run the script ({error.message}); evaluate() takes one JavaScript "
                "expression: write statements as (() => { ...; return value; })()",
            ) from None
        if not (isinstance(first, dict) and first.get("pending")):
            return _unwrap(first)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(_POLL_INTERVAL)
            settled = self.run(_SETTLED, key=key)
            if settled is not None:
                return _unwrap(settled)
        self.run(_SETTLED, key=key, drop=True)
        raise CommandError("TimeoutError", f"the promise did not settle within {timeout:g} s")

    def cmd_wait_for(self, selector: str, timeout: float = 10.0) -> bool:
        self.wait_for_element(selector, timeout)
        return True

    def cmd_click(self, selector: str, timeout: float = 10.0) -> None:
        self.wait_for_element(selector, timeout)
        self.run(
            _FIND + "var el=find(p.selector);if(el.scrollIntoView)el.scrollIntoView({block:'center'});"
            "if(el.focus)el.focus();el.click();",
            selector=selector,
        )

    def cmd_fill(self, selector: str, value: Any, timeout: float = 10.0) -> None:
        self.wait_for_element(selector, timeout)
        self.run(_FIND + _FILL, selector=selector, value=value)

    def cmd_text(self, selector: str, timeout: float = 10.0) -> str:
        self.wait_for_element(selector, timeout)
        return str(
            self.run(
                _FIND + "var el=find(p.selector);"
                "return ('value' in el && el.tagName!=='BUTTON' && el.tagName!=='LI')?"
                "String(el.value):el.innerText;",
                selector=selector,
            )
        )

    def cmd_routes(self) -> list[str]:
        return get_routes(self.app)

    def cmd_bridge_check(self) -> bool:
        return bool(self.run("return !!(window.flaskdesk&&window.flaskdesk.api);"))

    def cmd_js_errors(self, clear: bool = False) -> list[dict[str, Any]]:
        self.sweep()
        errors = list(self.js_errors)
        if clear:
            self.js_errors.clear()
        return errors

    def _close(self) -> None:
        log.info("automation: closing the window on request")
        self.window.destroy()


#: Command name → method of :class:`_Session`; the allow-list of what a client may ask.
COMMANDS: Mapping[str, str] = MappingProxyType(
    {
        "status": "cmd_status",
        "url": "cmd_url",
        "goto": "cmd_goto",
        "eval": "cmd_eval",
        "wait_for": "cmd_wait_for",
        "click": "cmd_click",
        "fill": "cmd_fill",
        "text": "cmd_text",
        "routes": "cmd_routes",
        "bridge_check": "cmd_bridge_check",
        "js_errors": "cmd_js_errors",
        "close": "_close",
    }
)


def same_origin_url(origin: str, path: str) -> str:
    """``origin + path`` when ``path`` is a path on the app itself; ``CommandError`` otherwise.

    Refuses scheme-relative (``//host``), absolute (``http:``, ``file:``, ``javascript:``) and
    backslash tricks, so a test script cannot steer the window off the app.
    """
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//") or "\\" in path:
        raise CommandError("Refused", f"goto takes a path on the app such as '/notes', not {path!r}")
    if any(ord(c) < 0x20 for c in path):
        raise CommandError("Refused", "goto: control characters in the path")
    url = origin + path
    if urlsplit(url).netloc != urlsplit(origin).netloc:
        raise CommandError("Refused", f"goto: {path!r} leaves the app's origin")
    return url


def hide_secrets(url: str) -> str:
    """``url`` without the launch token, which may still be in it during the very first load."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in pairs if k.lower() not in _HIDDEN_QUERY_KEYS]
    return urlunsplit(parts._replace(query=urlencode(query)))


def get_routes(app: Flask) -> list[str]:
    """The app's GET routes that need no URL arguments: the pages ``build --check`` can open."""
    found = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        if set(rule.arguments) - set(rule.defaults or ()):
            continue
        found.add(rule.rule)
    return sorted(found)


def _unwrap(settled: Any) -> Any:
    if isinstance(settled, dict) and "error" in settled:
        error = settled["error"] or {}
        raise CommandError(
            str(error.get("name") or "Error"), str(error.get("message")), stack=error.get("stack")
        )
    return settled.get("value") if isinstance(settled, dict) else None


_FIND = "function find(s){return document.querySelector(s);}"

_FILL = (
    "var el=find(p.selector),v=p.value;if(el.focus)el.focus();"
    "if(el.type==='checkbox'||el.type==='radio'){el.checked=!!v;}"
    "else if(el.isContentEditable){el.textContent=String(v);}"
    "else{var proto=Object.getPrototypeOf(el),d=Object.getOwnPropertyDescriptor(proto,'value');"
    "if(d&&d.set){d.set.call(el,String(v));}else{el.value=String(v);}}"
    "el.dispatchEvent(new Event('input',{bubbles:true}));"
    "el.dispatchEvent(new Event('change',{bubbles:true}));"
)

# A value the page can serialise becomes {value}; a thrown error {error}; a promise {pending}.
# A value the page can serialise becomes {value}; a thrown error {error}; a promise {pending}.
# The user's expression goes between head and tail, on lines of its own (a trailing // comment
# cannot swallow the closing parenthesis).
_EVAL_HEAD = (
    "function ser(v){if(v===undefined)return null;try{return JSON.parse(JSON.stringify(v));}"
    "catch(e){return String(v);}}"
    "function err(e){return {name:String((e&&e.name)||'Error'),message:String((e&&e.message)||e),"
    "stack:e&&e.stack?String(e.stack):null};}"
    "var v;try{v=(function(){return (\n"
)
_EVAL_TAIL = (
    "\n);}).call(window);}catch(e){return {error:err(e)};}"
    "if(v&&typeof v.then==='function'){var s=window.__flaskdeskSettled||(window.__flaskdeskSettled={});"
    "v.then(function(x){s[p.key]={value:ser(x)};},function(e){s[p.key]={error:err(e)};});"
    "return {pending:true};}"
    "return {value:ser(v)};"
)

_SETTLED = (
    "var s=window.__flaskdeskSettled||{};var r=s[p.key];"
    "if(r!==undefined||p.drop){delete s[p.key];}return r===undefined?null:r;"
)

# Idempotent: installs error/unhandledrejection listeners once per page and hands over (and
# forgets) what they caught since the last sweep. A page whose flaskdesk.js keeps its own early
# record (``flaskdesk._errors``, filled from before the page's scripts run) is read from there
# instead, so errors thrown while the page loads are not missed.
_ERROR_HOOK = (
    "var early=window.flaskdesk&&Array.isArray(window.flaskdesk._errors)?window.flaskdesk._errors:null;"
    "if(early){return early.splice(0,early.length).map(function(x){"
    "if(!x.url)x.url=location.pathname+location.search;return x;});}"
    "var h=window.__flaskdeskErrors;"
    "if(!h){h=window.__flaskdeskErrors={caught:[]};"
    "var push=function(x){x.url=location.pathname+location.search;if(h.caught.length<200)h.caught.push(x);};"
    "window.addEventListener('error',function(e){push({type:'error',message:String(e.message),"
    "source:e.filename||null,line:e.lineno||null,column:e.colno||null,"
    "stack:e.error&&e.error.stack?String(e.error.stack):null});});"
    "window.addEventListener('unhandledrejection',function(e){var r=e.reason;push({type:'unhandledrejection',"
    "message:r&&r.message?String(r.message):String(r),stack:r&&r.stack?String(r.stack):null});});}"
    "var out=h.caught;h.caught=[];return out;"
)
