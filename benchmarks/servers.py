"""Which HTTP server should serve the desktop app? The same Flask + Jinja page, three servers.

(a) Werkzeug's threaded ``make_server`` (what ``flask run`` uses), (b) waitress through flaskdesk's
own :class:`flaskdesk.app.server.Server` (what a desktop app actually runs), and (c) cheroot. Each
server runs in its own process and is hit, over keep-alive HTTP/1.1 on loopback, by a load
generator in another process: a few threads, one ``http.client`` connection each (a browser keeps
up to six per host), a fixed number of requests. Rounds alternate between the servers so a busy
moment on the machine does not favour one of them.

Run from the repository root::

    .venv/bin/python -m benchmarks.servers            # writes benchmarks/results/servers.md
    .venv/bin/python -m benchmarks.servers --quick    # a smoke run; prints, writes nothing

No external tool (``ab``, ``wrk``) is needed: they are not installed everywhere, and a Python
client on keep-alive connections is closer to what a webview does than ``ab``'s HTTP/1.0.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

SERVERS = ("werkzeug", "waitress", "cheroot")
RESULTS = Path(__file__).resolve().parent / "results" / "servers.md"
ROOT = Path(__file__).resolve().parents[1]
THREADS = 8  # worker threads for the pooled servers (flaskdesk's default)

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body>
  <h1>{{ title }}</h1>
  <ul>{% for item in items %}
    <li class="{{ loop.cycle('odd', 'even') }}">{{ item.name }}: {{ item.qty }}</li>{% endfor %}
  </ul>
  <p>{{ note }}</p>
</body></html>
"""


def make_app() -> Any:
    """A small Flask app whose one page renders a Jinja template with a loop and escaping."""
    from flask import Flask, render_template
    from jinja2 import DictLoader

    app = Flask("bench")
    app.jinja_env.loader = DictLoader({"page.html": PAGE})
    items = [{"name": f"item <{n}>", "qty": n * 3} for n in range(20)]

    @app.get("/")
    def page() -> str:
        return render_template("page.html", title="Inventory", items=items, note="Rendered & escaped")

    return app


# ---------------------------------------------------------------------------- child: a server


def serve(kind: str) -> None:
    """Serve the app with ``kind``, print the port, and stop when stdin closes (the parent is done)."""
    app = make_app()
    stopped = threading.Event()

    def announce(port: int) -> None:
        print(port, flush=True)

    def stop_on_eof(stop: Any) -> None:
        def watch() -> None:
            sys.stdin.read()
            stop()
            stopped.set()

        threading.Thread(target=watch, daemon=True).start()

    if kind == "werkzeug":
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                """No access log line per request: we compare servers, not logging."""

        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
        announce(server.server_port)
        stop_on_eof(server.shutdown)
        server.serve_forever()
    elif kind == "waitress":
        from flaskdesk.app.server import Server

        ours = Server(app, threads=THREADS)
        ours.start()
        announce(ours.port)
        stop_on_eof(ours.shutdown)
        stopped.wait()
    elif kind == "cheroot":
        from cheroot.wsgi import Server as CherootServer

        cheroot = CherootServer(("127.0.0.1", 0), app, numthreads=THREADS, request_queue_size=128)
        cheroot.prepare()
        announce(cheroot.bind_addr[1])
        stop_on_eof(cheroot.stop)
        cheroot.serve()
    else:
        raise SystemExit(f"unknown server {kind!r}; choose from {', '.join(SERVERS)}")


# ---------------------------------------------------------------------------- child: the load


def load(port: int, connections: int, requests: int, warmup: int) -> dict[str, Any]:
    """Send ``requests`` GETs over ``connections`` keep-alive connections; return latencies in ms."""
    import http.client

    counter = itertools.count()
    start = threading.Barrier(connections + 1)
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors: list[str] = []
    sizes: set[int] = set()
    closed: list[bool] = []  # one entry per response that ended its connection

    def client(mine: list[float]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def fetch() -> None:
            conn.request("GET", "/")
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                errors.append(f"status {response.status}")
            if response.will_close:
                closed.append(True)  # http.client reconnects on the next request
            sizes.add(len(body))

        try:
            for _ in range(warmup):
                fetch()
            start.wait()
            while next(counter) < requests:
                began = time.perf_counter()
                fetch()
                mine.append((time.perf_counter() - began) * 1000)
        except Exception as error:  # report, don't hang the barrier
            errors.append(repr(error))
            start.abort()
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(mine,)) for mine in latencies]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    flat = [ms for mine in latencies for ms in mine]
    return {
        "requests": len(flat),
        "seconds": seconds,
        "latencies_ms": flat,
        "errors": errors[:5],
        "error_count": len(errors),
        "body_sizes": sorted(sizes),
        "closed_connections": len(closed),
    }


# ---------------------------------------------------------------------------- parent


@dataclass
class Round:
    server: str
    requests: int
    seconds: float
    latencies_ms: list[float]
    closed_connections: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def run_round(kind: str, connections: int, requests: int, warmup: int) -> Round:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.servers", "--serve", kind],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.servers",
                "--load",
                str(port),
                f"--connections={connections}",
                f"--requests={requests}",
                f"--warmup={warmup}",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        assert server.stdin is not None
        server.stdin.close()  # the server shuts down when its stdin closes
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    result = json.loads(done.stdout)
    if result["error_count"] or result["requests"] != requests or len(result["body_sizes"]) != 1:
        raise SystemExit(f"{kind}: {result['error_count']} errors, e.g. {result['errors']}")
    return Round(
        kind, result["requests"], result["seconds"], result["latencies_ms"], result["closed_connections"]
    )


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = ", ".join(f"{name} {version(name)}" for name in ("flask", "werkzeug", "waitress", "cheroot"))
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()}); {versions}"
    )


def report(rounds: list[Round], connections: int, requests: int, count: int) -> str:
    rps = {kind: statistics.median(r.rps for r in rounds if r.server == kind) for kind in SERVERS}
    rows = []
    for kind in SERVERS:
        mine = [r for r in rounds if r.server == kind]
        latencies = [ms for r in mine for ms in r.latencies_ms]
        closed = sum(r.closed_connections for r in mine) / sum(r.requests for r in mine)
        low, high = min(r.rps for r in mine), max(r.rps for r in mine)
        rows.append(
            f"| {LABELS[kind]} | {rps[kind]:,.0f} ({low:,.0f} to {high:,.0f}) "
            f"| {percentile(latencies, 0.50):.2f} | {percentile(latencies, 0.99):.2f} "
            f"| {rps[kind] / rps['werkzeug']:.2f}x | {'no' if closed > 0.5 else 'yes'} |"
        )
    return "\n".join(
        [
            "# HTTP servers for the embedded app",
            "",
            "Generated by `python -m benchmarks.servers` (the method is in its docstring). The same Flask",
            "app renders a small Jinja page (a 20-item loop with autoescaping) behind each server, each in",
            f"its own process; a load generator in another process sends {requests:,} GETs per round over",
            f"{connections} HTTP/1.1 connections on loopback, after a warm-up; {count} round(s) per server,",
            "interleaved. Requests/s is the median round (range in brackets); latencies are over all rounds.",
            "",
            f"Machine: {machine()}.",
            "",
            "| server | requests/s | p50 ms | p99 ms | vs werkzeug | keep-alive |",
            "|---|---:|---:|---:|---:|---|",
            *rows,
            "",
            "Notes:",
            "",
            "- Werkzeug's server answers every request with `Connection: close` (by design: Python's",
            "  `http.server` cannot drain a request body before reading the next one), so its client",
            "  reconnects for every request; the other two keep connections open, as a webview expects.",
            "- Server and client share the machine's cores, so absolute numbers are a floor; the ratios",
            "  are the point. Werkzeug's per-request log line is switched off: this compares servers,",
            "  not logging.",
            "",
        ]
    )


LABELS = {
    "werkzeug": "werkzeug `make_server(threaded=True)`",
    "waitress": f"waitress via `flaskdesk.app.server.Server` ({THREADS} threads)",
    "cheroot": f"cheroot `wsgi.Server` ({THREADS} threads)",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.servers", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short round each; print, don't write")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--requests", type=int, default=None, help="requests per round")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=None, help="unmeasured requests per connection")
    parser.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    parser.add_argument("--load", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    requests = args.requests or (600 if args.quick else 5000)
    count = args.rounds or (1 if args.quick else 3)
    warmup = args.warmup if args.warmup is not None else (10 if args.quick else 50)

    if args.serve:
        serve(args.serve)
        return 0
    if args.load:
        print(json.dumps(load(args.load, args.connections, requests, warmup)))
        return 0

    rounds: list[Round] = []
    for number in range(count):
        for kind in SERVERS:
            result = run_round(kind, args.connections, requests, warmup)
            rounds.append(result)
            print(f"round {number + 1}/{count} {kind:9} {result.rps:8.0f} req/s", file=sys.stderr)
    table = report(rounds, args.connections, requests, count)
    if args.quick:
        print(table)
    else:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(table)
        print(table)
        print(f"written to {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
