"""The JS ↔ Python bridge: an allow-list of functions the page may call, and its HTTP endpoint.

Page script calls ``await flaskdesk.api.NAME(...args)`` (``ui/js/flaskdesk.js``), which POSTs
``{"name": ..., "args": [...], "kwargs": {...}}`` to ``/__flaskdesk__/bridge``. The guard mounts
:meth:`Bridge.wsgi_app` there, so a bridge call passes the same Host, cookie and Origin checks as
any route before this module sees it; what this module adds is that *only* what the app exposed
can run (Electron's checklist: validate IPC senders, expose narrow functions, never a generic
"call anything" door):

* dispatch is a dictionary lookup by the exact name given to :meth:`Bridge.expose` — no
  ``getattr``, no dotted paths, nothing starting with ``_``; anything else is refused before any
  Python code runs;
* arguments are bound with :func:`inspect.signature` and checked against simple annotations
  (``int``, ``float``, ``str``, ``bool``, ``list``, ``dict``, ``None`` and unions of them), so a
  wrong call is a clean ``TypeError`` rather than whatever the function does with a bad value;
* an exception becomes ``{"name": <class name>, "message": str(exc)}`` for JavaScript; the
  traceback goes to the ``flaskdesk.bridge`` log, never into the response.

Exposed functions run on the server's worker threads, several at once: they must be thread-safe.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import types
import typing
from collections.abc import Callable
from contextlib import AbstractContextManager
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ..errors import BridgeError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["INTERNAL_PREFIX", "RESERVED_NAMES", "Bridge", "script_wsgi_app"]

logger = logging.getLogger("flaskdesk.bridge")

F = TypeVar("F", bound=Callable[..., Any])

#: Names the JS ``Proxy`` never forwards (``then`` would make ``await flaskdesk.api`` call
#: Python; the others are looked up implicitly by JSON, string conversion and class checks).
RESERVED_NAMES = frozenset({"then", "toJSON", "toString", "valueOf", "constructor"})
#: flaskdesk's own functions (``flaskdesk.dialogs.*``, ``flaskdesk.windows.*`` in the JS shim) are
#: registered under this prefix. App names cannot start with ``_``, so they can never collide.
INTERNAL_PREFIX = "_flaskdesk."
_NAME_RE = re.compile(r"[A-Za-z$][A-Za-z0-9_$]{0,99}")
_INTERNAL_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*")
_MAX_NAME_ECHO = 80
_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "number"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


class Bridge:
    """Registry of exposed functions plus the WSGI endpoint that calls them.

    ``context`` is set by ``Desktop`` (to ``app.app_context``) so that calls run inside the
    Flask app context and can use ``current_app``, extensions and the database as views do.
    """

    #: Largest request body accepted, in bytes; bigger calls get a 400 without being parsed.
    max_body_bytes: int = 16 * 1024 * 1024

    def __init__(self) -> None:
        self._functions: dict[str, Callable[..., Any]] = {}
        self._internal: dict[str, Callable[..., Any]] = {}
        self.context: Callable[[], AbstractContextManager[object]] | None = None

    @overload
    def expose(self, fn: F, *, name: str | None = None) -> F: ...
    @overload
    def expose(self, fn: None = None, *, name: str | None = None) -> Callable[[F], F]: ...
    def expose(self, fn: F | None = None, *, name: str | None = None) -> F | Callable[[F], F]:
        """Allow page script to call ``fn`` as ``flaskdesk.api.<name>`` (default: ``fn.__name__``).

        Usable bare (``@bridge.expose``) or with a name (``@bridge.expose(name="save")``). Names
        must look like JS identifiers, must not start with ``_`` and must be unique, so that what
        JavaScript can reach is exactly the list in :meth:`names`. Returns ``fn`` unchanged.
        """

        def register(func: F) -> F:
            if not callable(func):
                raise TypeError(f"expose() needs a function, not {type(func).__name__}")
            public = name if name is not None else getattr(func, "__name__", "")
            if not isinstance(public, str) or not _NAME_RE.fullmatch(public) or public in RESERVED_NAMES:
                raise ValueError(
                    f"cannot expose {public!r}: a bridge name must start with a letter or '$', hold only "
                    f"letters, digits, '_' or '$' (at most 100), and not be one of {sorted(RESERVED_NAMES)}; "
                    "pass name=... to choose one"
                )
            existing = self._functions.get(public)
            if existing is not None and existing is not func:
                raise ValueError(f"a different function is already exposed as {public!r}")
            self._functions[public] = func
            return func

        if fn is None:
            return register
        return register(fn)

    def expose_internal(self, name: str, fn: Callable[..., Any]) -> None:
        """Register one of flaskdesk's own functions as ``INTERNAL_PREFIX + name``.

        Used for the JS shim's ``flaskdesk.dialogs`` and ``flaskdesk.windows`` namespaces; the
        same argument checks and error mapping apply. Not listed by :meth:`names`.
        """
        if not _INTERNAL_NAME_RE.fullmatch(name):
            raise ValueError(f"bad internal bridge name {name!r}")
        self._internal[INTERNAL_PREFIX + name] = fn

    def names(self) -> list[str]:
        """The names the app exposed, sorted (flaskdesk's own ``_flaskdesk.*`` functions are not listed)."""
        return sorted(self._functions)

    def call(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Call an exposed function as the page would; every failure is a :class:`BridgeError`.

        Refusals (unknown name, wrong arguments) happen before the function runs. A
        :class:`BridgeError` raised by the function itself passes through unchanged, so an app can
        choose the ``name`` JavaScript sees.
        """
        if not isinstance(name, str):
            raise BridgeError("TypeError", "the function name must be a string")
        func = self._functions.get(name) or self._internal.get(name)
        if func is None:
            raise BridgeError("LookupError", f"no function named {name[:_MAX_NAME_ECHO]!r} is exposed")
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise BridgeError("TypeError", "args must be an array and kwargs an object")
        _check_arguments(name, func, args, kwargs)
        try:
            if self.context is None:
                return func(*args, **kwargs)
            with self.context():
                return func(*args, **kwargs)
        except BridgeError:
            logger.exception("bridge function %s() raised", name)
            raise
        except Exception as exc:
            logger.exception("bridge function %s() raised", name)
            raise BridgeError(type(exc).__name__, str(exc)) from exc

    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        """The HTTP side of :meth:`call`; mounted by the guard at ``/__flaskdesk__/bridge``.

        Protocol problems (method, Content-Type, size, JSON) answer 4xx; a call that was made and
        failed answers 200 with ``{"ok": false, "error": {...}}`` (the HTTP exchange worked).
        Requiring ``application/json`` also means a cross-origin page cannot send a call without
        a CORS preflight, which the guard refuses.
        """
        if environ.get("REQUEST_METHOD") != "POST":
            return _reply(
                start_response,
                "405 Method Not Allowed",
                _failure("BadRequest", "use POST"),
                [("Allow", "POST")],
            )
        content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if content_type != "application/json":
            return _reply(
                start_response,
                "400 Bad Request",
                _failure("BadRequest", "Content-Type must be application/json"),
            )
        length_text = environ.get("CONTENT_LENGTH", "")
        if not length_text.isdigit():
            return _reply(
                start_response, "400 Bad Request", _failure("BadRequest", "Content-Length is required")
            )
        length = int(length_text)
        if length > self.max_body_bytes:
            return _reply(
                start_response,
                "400 Bad Request",
                _failure("BadRequest", f"the request body is larger than {self.max_body_bytes} bytes"),
            )
        try:
            request = _parse(_read(environ["wsgi.input"], length))
        except ValueError as exc:
            return _reply(start_response, "400 Bad Request", _failure("BadRequest", str(exc)))

        name = request["name"]
        try:
            result = self.call(name, request["args"], request["kwargs"])
        except BridgeError as exc:
            return _reply(start_response, "200 OK", _failure(exc.name, exc.message))
        try:
            body = json.dumps({"ok": True, "result": result}, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            logger.error("bridge function %s() returned a value JSON cannot carry: %s", name, exc)
            message = f"{name}() returned a value that JSON cannot carry ({type(result).__name__})"
            return _reply(start_response, "200 OK", _failure("TypeError", message))
        return _reply(start_response, "200 OK", body)


def script_wsgi_app(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    """Serve ``ui/js/flaskdesk.js`` (mounted by the guard at ``/__flaskdesk__/flaskdesk.js``).

    Read through :mod:`importlib.resources` on each request so it works from a wheel, a zip or a
    frozen build alike; ``no-cache`` so a new version is picked up after an upgrade.
    """
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return _reply(start_response, "405 Method Not Allowed", b"", [("Allow", "GET, HEAD")], "text/plain")
    body = resources.files("flaskdesk.ui").joinpath("js/flaskdesk.js").read_bytes()
    headers = [("Content-Type", "text/javascript; charset=utf-8"), ("Content-Length", str(len(body)))]
    start_response("200 OK", [*headers, ("Cache-Control", "no-cache")])
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


def _check_arguments(name: str, func: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> None:
    """Bind the arguments and check the simple annotations; raise a ``TypeError`` BridgeError if wrong.

    Checks are shallow on purpose (``list[int]`` checks for a list, not each item): deep checks
    belong to the function, which knows its data; this only stops obviously wrong calls early.
    """
    try:
        signature = inspect.signature(func)
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise BridgeError("TypeError", f"{name}(): {exc}") from None
    except ValueError:  # no signature (some builtins): let the call itself complain
        return
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # unresolvable forward references: skip the checks, not the call
        logger.debug("bridge function %s(): annotations cannot be resolved, not checked", name)
        return
    for param_name, value in bound.arguments.items():
        hint = hints.get(param_name)
        if hint is None:
            continue
        kind = signature.parameters[param_name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            values = list(value)
        elif kind is inspect.Parameter.VAR_KEYWORD:
            values = list(value.values())
        else:
            values = [value]
        for item in values:
            if _matches(item, hint) is False:
                raise BridgeError(
                    "TypeError",
                    f"{name}(): argument {param_name!r} must be {_describe(hint)}, not {_json_type(item)}",
                )


def _matches(value: object, hint: object) -> bool | None:
    """Whether ``value`` fits ``hint``; ``None`` when the hint is not one this module checks."""
    if hint is type(None) or hint is None:
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:  # JSON has one number type: 3 is a fine float
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str or hint is list or hint is dict:
        return isinstance(value, hint)
    origin = typing.get_origin(hint)
    if origin is list or origin is dict:
        return isinstance(value, origin)
    if origin is typing.Union or origin is types.UnionType:
        results = [_matches(value, arg) for arg in typing.get_args(hint)]
        if any(result is None for result in results):
            return None
        return any(results)
    return None


def _describe(hint: object) -> str:
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return " or ".join(_describe(arg) for arg in typing.get_args(hint))
    base = origin if origin is not None else hint
    if base is None or base is type(None):
        return "null"
    for python_type, json_name in _JSON_TYPES:
        if base is python_type:
            return f"{json_name} ({python_type.__name__})"
    return str(hint)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    for python_type, json_name in _JSON_TYPES:
        if type(value) is python_type:
            return json_name
    return type(value).__name__


def _read(stream: Any, length: int) -> bytes:
    """Read exactly ``length`` bytes (a WSGI input may return fewer per call)."""
    chunks = []
    remaining = length
    while remaining > 0:
        chunk = stream.read(min(remaining, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _reject_constant(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _parse(body: bytes) -> dict[str, Any]:
    """Decode a call; ``ValueError`` with a message fit for the page on anything malformed."""
    try:
        text = body.decode("utf-8")  # strict: JSON on the wire is UTF-8 (RFC 8259), nothing else
    except UnicodeDecodeError:
        raise ValueError("the request body is not UTF-8") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("the request body is nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("the request body must be a JSON object")
    unknown = set(data) - {"name", "args", "kwargs"}
    if unknown:
        raise ValueError(f"unknown keys in the request: {sorted(unknown)[:5]}")
    if "name" not in data:
        raise ValueError("the request has no 'name'")
    data.setdefault("args", [])
    data.setdefault("kwargs", {})
    return data


def _failure(name: str, message: str) -> bytes:
    return json.dumps({"ok": False, "error": {"name": name, "message": message}}).encode("utf-8")


def _reply(
    start_response: StartResponse,
    status: str,
    body: bytes,
    extra: list[tuple[str, str]] | None = None,
    content_type: str = "application/json",
) -> list[bytes]:
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        *(extra or []),
    ]
    start_response(status, headers)
    return [body]
