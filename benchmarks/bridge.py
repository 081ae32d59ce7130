"""Bridge round trip, measured inside the real window: flaskdesk's bridge against pywebview's ``js_api``.

The fixture page loads ``static/bridge.js``, which awaits ``echo(i)`` one call at a time and times
each with ``performance.now()`` (after unmeasured warm-up calls):

* flaskdesk: ``flaskdesk.api.echo(i)``, a ``fetch`` POST to ``/__flaskdesk__/bridge`` through the
  guard (Host allow-list, session cookie, Origin / Sec-Fetch-Site checks, CSP) and the bridge's
  allow-list and argument binding, served by waitress;
* pywebview: ``pywebview.api.echo(i)`` in the plain recipe's window (``js_api=``);
* for reference, each page also times a plain ``fetch`` POST to the app's own ``/echo`` route
  (through the guard and waitress for flaskdesk; straight to werkzeug for the plain recipe).

The page sends its samples back through the same bridge (``report(...)``), which writes them to a
file the harness waits for. No ``evaluate_js`` (flaskdesk's CSP forbids the ``eval`` it wraps).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.contenders import Contender
from benchmarks.harness import PrivateDisplay, child_env, latency, spawn, stop

TIMEOUT_SECONDS = 120.0


def bridge_run(
    contender: Contender,
    backend: str,
    display: PrivateDisplay,
    work: Path,
    *,
    number: int,
    calls: int,
    warmup: int,
) -> dict[str, Any]:
    result = work / "bridge" / f"{contender.key}-{number}.json"
    result.parent.mkdir(parents=True, exist_ok=True)
    result.unlink(missing_ok=True)
    env = child_env(display.name, work / "homes" / f"{contender.key}-bridge", contender.env(backend))
    display.wait_until_clear()
    with (work / "logs" / f"bridge-{contender.key}-{number}.log").open("wb") as log:
        proc = spawn(contender.argv(backend, bridge=(result, calls, warmup)), env, log, cwd=work)
        try:
            deadline = time.monotonic() + TIMEOUT_SECONDS
            while time.monotonic() < deadline and proc.poll() is None:
                if result.exists():
                    try:
                        return dict(json.loads(result.read_text()))
                    except json.JSONDecodeError:
                        pass  # still being written
                time.sleep(0.05)
            code = proc.poll()
            why = (
                f"exited with status {code}" if code is not None else f"no result in {TIMEOUT_SECONDS:.0f} s"
            )
            return {"error": f"{why} (log: {log.name})"}
        finally:
            stop(proc)


def measure(
    contenders: Sequence[Contender],
    backend: str,
    display: PrivateDisplay,
    work: Path,
    *,
    runs: int,
    calls: int,
    warmup: int,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, dict[str, Any]]:
    """``runs`` windows per contender (interleaved), ``calls`` timed calls each; samples pooled."""
    (work / "logs").mkdir(parents=True, exist_ok=True)
    pooled: dict[str, dict[str, Any]] = {
        c.key: {
            "bridge_ms": [],
            "fetch_ms": [],
            "errors": [],
            "user_agent": None,
            "resolution": None,
            "batch": 1,
        }
        for c in contenders
    }
    for number in range(1, runs + 1):
        for contender in contenders:
            got = bridge_run(contender, backend, display, work, number=number, calls=calls, warmup=warmup)
            mine = pooled[contender.key]
            if got.get("error"):
                mine["errors"].append(str(got["error"])[:500])
            mine["bridge_ms"] += [float(x) for x in got.get("bridge_ms", [])]
            mine["fetch_ms"] += [float(x) for x in got.get("fetch_ms", [])]
            mine["user_agent"] = got.get("userAgent", mine["user_agent"])
            mine["resolution"] = got.get("timerResolutionMs", mine["resolution"])
            mine["batch"] = got.get("batch", mine["batch"])
            summary = latency(got.get("bridge_ms", []))
            shown = f"p50 {summary['p50']:.2f} ms" if summary else f"FAILED: {got.get('error')}"
            progress(f"{backend} bridge {number}/{runs} {contender.key:9} {shown}")
    return {
        key: {
            "bridge": latency(value["bridge_ms"]),
            "fetch": latency(value["fetch_ms"]),
            "errors": value["errors"],
            "user_agent": value["user_agent"],
            "timer_resolution_ms": value["resolution"],
            "batch": value["batch"],
            "samples": {"bridge_ms": value["bridge_ms"], "fetch_ms": value["fetch_ms"]},
        }
        for key, value in pooled.items()
    }
