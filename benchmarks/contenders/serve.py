"""Page throughput: each contender's HTTP server, serving the fixture page, under the load
generator of :mod:`benchmarks.servers` (keep-alive ``http.client`` connections on loopback).

The server runs headless in its own process, composed exactly as the contender composes it:

* ``plain``: werkzeug ``make_server(threaded=True)`` (its per-request log line switched off, as
  in ``servers.md``: that is werkzeug's best case, which makes the ratios conservative);
* ``builtin``: pywebview's own ``BottleServer.start_server([app])`` (bottle + ``wsgiref`` +
  ``ThreadingMixIn``), the server ``create_window(url=app)`` starts;
* ``flaskdesk``: :class:`flaskdesk.app.server.Server` (waitress, 8 threads) around the
  :class:`~flaskdesk.app.guard.Guard` with the bridge and the JS shim mounted, as ``launch.py``
  builds it. Every request goes through the guard's full path (Host allow-list, session-cookie
  check, CSP nonce, script injection into the HTML); the load generator cannot log in through the
  launch URL, so a two-line WSGI shim in front adds the session cookie with the guard's own
  test-client hook (``Guard.authenticate_environ``), the way a window's cookie jar would;
* ``waitress`` (a reference, not a contender): the same :class:`~flaskdesk.app.server.Server`
  serving the app without the guard, to show what the guard itself costs.

    python -m benchmarks.contenders.serve KIND      # child: print the port, serve until stdin closes
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from benchmarks.contenders import FIXTURE
from benchmarks.harness import ROOT, percentile

KINDS = ("plain", "builtin", "flaskdesk", "waitress")


# ----------------------------------------------------------------------------------- child: serve


def _wait_accepting(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"nothing accepts on port {port}")


def serve(kind: str) -> None:
    from benchpage import create_app

    app = create_app()
    stop: Callable[[], Any] = lambda: None  # noqa: E731
    if kind == "plain":
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                """No access log line per request (as in benchmarks/servers.py)."""

        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
        port = server.server_port
        threading.Thread(target=server.serve_forever, daemon=True).start()
        stop = server.shutdown
    elif kind == "builtin":
        from webview.http import BottleServer

        _, _, bottle = BottleServer.start_server([app], None)
        port = int(bottle.port)  # type: ignore[attr-defined]  # set by start_server
        _wait_accepting(port)
    elif kind == "flaskdesk":
        from flaskdesk import Desktop
        from flaskdesk.app.guard import Guard, GuardPolicy
        from flaskdesk.app.server import Server
        from flaskdesk.ui.bridge import script_wsgi_app

        desktop = Desktop(app)
        ours = Server(_not_ready, name="flaskdesk-bench")
        guard = Guard(
            app,
            port=ours.port,
            token=Guard.new_token(),
            policy=GuardPolicy(),
            internal={"bridge": desktop.bridge.wsgi_app, "flaskdesk.js": script_wsgi_app},
        )
        desktop.bridge.context = app.app_context

        def window_cookie_jar(environ: Any, start_response: Any) -> Iterable[bytes]:
            guard.authenticate_environ(environ)
            return guard(environ, start_response)

        ours.swap_app(window_cookie_jar)
        ours.start()
        port = ours.port
        stop = ours.shutdown
    elif kind == "waitress":
        from flaskdesk.app.server import Server

        bare = Server(app, name="flaskdesk-bench")
        bare.start()
        port = bare.port
        stop = bare.shutdown
    else:
        raise SystemExit(f"unknown server {kind!r}; choose from {', '.join(KINDS)}")
    print(port, flush=True)
    sys.stdin.read()  # the parent closes our stdin when it is done
    stop()


def _not_ready(environ: Any, start_response: Any) -> Iterable[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


# ---------------------------------------------------------------------------------- parent: load


def _round(kind: str, connections: int, requests: int, warmup: int) -> dict[str, Any]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "FLASKDESK_"))},
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(FIXTURE)]),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.contenders.serve", kind],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"{kind}: the server did not start (said {line!r})")
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.servers",
                "--load",
                line.strip(),
                f"--connections={connections}",
                f"--requests={requests}",
                f"--warmup={warmup}",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
    finally:
        assert server.stdin is not None
        server.stdin.close()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
    result: dict[str, Any] = json.loads(done.stdout)
    if result["error_count"] or result["requests"] != requests or len(result["body_sizes"]) != 1:
        raise RuntimeError(f"{kind}: {result['error_count']} errors, e.g. {result['errors']}")
    result["rps"] = result["requests"] / result["seconds"]
    return result


def measure(
    *,
    rounds: int,
    connections: int,
    requests: int,
    warmup: int,
    kinds: Sequence[str] = KINDS,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, dict[str, Any]]:
    """Interleaved rounds; per server: requests/s per round, latency percentiles over all rounds."""
    got: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for number in range(1, rounds + 1):
        for kind in kinds:
            try:
                result = _round(kind, connections, requests, warmup)
            except (RuntimeError, subprocess.SubprocessError) as error:
                progress(f"throughput round {number}/{rounds} {kind:9} FAILED: {error}")
                got[kind].append({"error": str(error)})
                continue
            got[kind].append(result)
            progress(f"throughput round {number}/{rounds} {kind:9} {result['rps']:8.0f} req/s")
    out: dict[str, dict[str, Any]] = {}
    for kind, results in got.items():
        good = [r for r in results if "error" not in r]
        latencies = [ms for r in good for ms in r["latencies_ms"]]
        out[kind] = {
            "rps": [r["rps"] for r in good],
            "rps_median": statistics.median(r["rps"] for r in good) if good else None,
            "p50_ms": percentile(latencies, 0.50) if latencies else None,
            "p99_ms": percentile(latencies, 0.99) if latencies else None,
            "body_bytes": good[0]["body_sizes"][0] if good else None,
            "keep_alive": (
                sum(r["closed_connections"] for r in good) / max(1, sum(r["requests"] for r in good))
            )
            < 0.5
            if good
            else None,
            "errors": [r["error"] for r in results if "error" in r],
            "connections": connections,
            "requests_per_round": requests,
        }
    return out


if __name__ == "__main__":
    serve(sys.argv[1])
