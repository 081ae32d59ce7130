"""Start → page shown, and idle memory, from one set of window runs.

One run = one fresh process: spawn the contender on the private display, time until the page's
colour is on the screen (:meth:`benchmarks.harness.PrivateDisplay.wait_for_colour`), then (for the
memory metric) let it idle 2 s and sum PSS over its process tree, then stop it (SIGTERM to its
session, SIGKILL after 10 s). Rounds interleave the contenders (floor, plain, ..., floor, plain,
...) after one unmeasured warm-up round, so a busy moment on the machine hits them all alike. Each
contender keeps its own XDG folders across its runs, as a user's second start would find them.

The contenders run with ``PYTHONDONTWRITEBYTECODE=1`` (they must not write into the checkout), so
:func:`measure` first byte-compiles the from-source code that no installer compiled: flaskdesk's
editable ``src/`` and the fixture app. Without it every run of a fresh checkout recompiles dozens
of flaskdesk modules (~60 ms a start, measured), a cost no installed package has (pip compiles).
"""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.contenders import Contender
from benchmarks.harness import FIXTURE, ROOT, PrivateDisplay, as_user, child_env, spawn, stop
from benchmarks.memory import IDLE_SECONDS, tree_pss, tree_resident_once

TIMEOUT_SECONDS = 60.0


@dataclass
class WindowRun:
    contender: str
    round: int  # 0 = warm-up
    seconds: float | None = None  # spawn → page colour on screen
    pss_mb: float | None = None
    resident_once_mb: float | None = None
    processes: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def window_run(
    contender: Contender,
    backend: str,
    display: PrivateDisplay,
    work: Path,
    *,
    number: int,
    page: Path,
    memory: bool,
    timeout: float = TIMEOUT_SECONDS,
    user: int | None = None,
) -> WindowRun:
    """One run of ``contender``; with ``user``, as that unprivileged uid (so Chromium's sandbox runs)."""
    run = WindowRun(contender.key, number)
    home = work / "homes" / contender.key
    env = child_env(display.name, home, contender.env(backend))
    argv = contender.argv(backend, page=page)
    if user is not None:
        env.pop("QTWEBENGINE_CHROMIUM_FLAGS", None)  # no --no-sandbox: the sandbox runs
        subprocess.run(["chown", "-R", f"{user}:{user}", str(home)], check=True)
        argv = [*as_user(user), *argv]
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    if not display.wait_until_clear():
        run.error = "an earlier window was still on the screen"
        return run
    with (logs / f"{contender.key}-{number}.log").open("wb") as log:
        started = time.monotonic()
        proc = spawn(argv, env, log, cwd=work)
        try:
            shown = display.wait_for_colour(started + timeout, proc)
            if shown is None:
                code = proc.poll()
                run.error = (
                    f"exited with status {code} before the page showed"
                    if code is not None
                    else f"page not shown within {timeout:.0f} s"
                )
                run.error += f" (log: {log.name})"
            else:
                run.seconds = shown - started
                if memory:
                    time.sleep(IDLE_SECONDS)
                    run.pss_mb, run.processes = tree_pss(proc.pid)
                    run.resident_once_mb = tree_resident_once(proc.pid)
        finally:
            stop(proc)
    return run


def startup_record(window_runs: Sequence[WindowRun]) -> dict[str, Any]:
    """One contender's start-up as saved in ``latest.json``: measured samples, the warm-up, errors."""
    measured = [r for r in window_runs if r.round > 0]
    warm = window_runs[0]
    return {
        "samples": [round(r.seconds, 4) for r in measured if r.seconds is not None],
        "warmup": None if warm.seconds is None else round(warm.seconds, 4),
        "errors": [r.error for r in measured if r.error],
    }


def memory_record(window_runs: Sequence[WindowRun]) -> dict[str, Any]:
    """One contender's idle memory as saved in ``latest.json``: PSS, pages resident once, errors, trees."""
    measured = [r for r in window_runs if r.round > 0]
    return {
        "samples": [round(r.pss_mb, 1) for r in measured if r.pss_mb is not None],
        "resident_once": [round(r.resident_once_mb, 1) for r in measured if r.resident_once_mb is not None],
        "errors": [r.error for r in measured if r.error],
        "processes": [r.processes for r in measured],
    }


def compile_sources() -> None:
    """Byte-compile what a pip install would have: flaskdesk from the checkout and the fixture app."""
    for folder in (ROOT / "src" / "flaskdesk", FIXTURE):
        compileall.compile_dir(folder, quiet=1)


def import_cost(runs: int, module: str = "flask") -> dict[str, float] | None:
    """Median seconds of ``python -c "import MODULE"`` minus ``python -c pass`` (interleaved).

    The part of every Flask-serving contender's start that no launcher can skip when the app's own
    module imports Flask first: the reference line under the start-up table.
    """
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    bare: list[float] = []
    loaded: list[float] = []
    for _ in range(max(runs, 3) + 1):
        for code, into in (("pass", bare), (f"import {module}", loaded)):
            started = time.monotonic()
            done = subprocess.run([sys.executable, "-c", code], env=env, check=False, capture_output=True)
            if done.returncode != 0:
                return None
            into.append(time.monotonic() - started)
    return {
        "python_s": round(statistics.median(bare[1:]), 4),
        f"import_{module}_s": round(statistics.median(loaded[1:]) - statistics.median(bare[1:]), 4),
    }


def measure(
    contenders: Sequence[Contender],
    backend: str,
    display: PrivateDisplay,
    work: Path,
    *,
    page: Path,
    runs: int,
    memory: bool,
    progress: Callable[[str], None] = lambda _: None,
    user: int | None = None,
) -> dict[str, list[WindowRun]]:
    """Every contender ``runs`` times (plus one warm-up each), interleaved; warm-ups kept as round 0.

    With ``user``, every contender runs as that unprivileged uid (see :func:`window_run`)."""
    compile_sources()
    results: dict[str, list[WindowRun]] = {c.key: [] for c in contenders}
    for number in range(runs + 1):
        for contender in contenders:
            run = window_run(
                contender, backend, display, work, number=number, page=page, memory=memory, user=user
            )
            results[contender.key].append(run)
            what = "warm-up" if number == 0 else f"run {number}/{runs}"
            shown = f"{run.seconds:.3f} s" if run.seconds is not None else f"FAILED: {run.error}"
            pss = f", {run.pss_mb:.0f} MB PSS" if run.pss_mb is not None else ""
            progress(f"{backend} {what:9} {contender.key:9} {shown}{pss}")
    return results
