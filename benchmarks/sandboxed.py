"""``python -m benchmarks.sandboxed``: Qt start-up and idle memory with Chromium's sandbox on.

Everything else in ``benchmarks/`` runs as root here, so Chromium runs without its sandbox, and
flaskdesk then drops the zygote processes that only serve it (``--no-zygote``). A desktop user
runs with the sandbox on, where flaskdesk keeps the sandboxed zygote and leaves out the
unsandboxed one (``--no-unsandboxed-zygote``). This runs the floor, the plain recipe and
flaskdesk from source as an unprivileged user (``setpriv``, uid/gid 65534 by default) through
the same window runs as :mod:`benchmarks.startup` (interleaved, one warm-up round, each contender
keeping its own XDG folders across its runs) and reports start → page shown and idle PSS over
the process tree, 2 s after the page showed.

Needs root (to switch user and read the tree's ``/proc`` files) and unprivileged user namespaces
(Chromium's sandbox); see :func:`benchmarks.harness.as_user` for how the user reads the venv.

    .venv/bin/python -m benchmarks.sandboxed [--runs 7] [--uid 65534]

Writes ``benchmarks/results/sandboxed-qt.md``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks import startup
from benchmarks.contenders import contenders, prerender
from benchmarks.harness import RESULTS, PrivateDisplay, as_user, machine
from benchmarks.memory import IDLE_SECONDS
from benchmarks.report import import_cost_lines, machine_line, per_run_table

KEYS = ("floor", "plain", "flaskdesk")


def check(uid: int) -> str | None:
    """Why this machine cannot run the measurement, or ``None``."""
    if os.geteuid() != 0:
        return "run it as root (it switches to an unprivileged user for the contenders)"
    if shutil.which("setpriv") is None:
        return "setpriv is missing (util-linux)"
    probe = subprocess.run([*as_user(uid), sys.executable, "-c", "pass"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"user {uid} cannot run {sys.executable} ({probe.stderr.strip()[-200:]})"
    userns = subprocess.run([*as_user(uid), "unshare", "-Ur", "true"], capture_output=True)
    if userns.returncode != 0:
        return "unprivileged user namespaces are off: Chromium's sandbox cannot start"
    return None


def measure(runs: int, uid: int) -> dict[str, list[startup.WindowRun]]:
    """The floor, the plain recipe and flaskdesk, ``runs`` times each (plus a warm-up) as ``uid``."""
    every = {c.key: c for c in contenders()}
    work = Path(tempfile.mkdtemp(prefix="flaskdesk-sandboxed-"))
    work.chmod(0o755)  # the contenders' user works inside
    try:
        page = prerender(work)
        with PrivateDisplay(work) as display:
            return startup.measure(
                [every[key] for key in KEYS],
                "qt",
                display,
                work,
                page=page,
                runs=runs,
                memory=True,
                user=uid,
                progress=lambda line: print(line, file=sys.stderr),
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def results(got: Mapping[str, Sequence[startup.WindowRun]]) -> dict[str, Any]:
    """The runs in the shape :func:`benchmarks.report.per_run_table` reads (as ``latest.json``)."""
    lineup = [c for c in contenders() if c.key in got]
    return {
        "contenders": [{"key": c.key, "label": c.label, "short": c.short} for c in lineup],
        "startup": {key: startup.startup_record(window_runs) for key, window_runs in got.items()},
        "memory": {key: startup.memory_record(window_runs) for key, window_runs in got.items()},
    }


def report(run: Mapping[str, Any], runs: int, uid: int, machine_text: str) -> str:
    counts = {key: [len(tree) for tree in value["processes"] if tree] for key, value in run["memory"].items()}
    processes = ", ".join(f"{key} {statistics.median(n):.0f}" for key, n in counts.items() if n)
    return "\n".join(
        [
            "# Qt start-up and idle memory with the Chromium sandbox on",
            "",
            f"Run {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}: "
            f"`python -m benchmarks.sandboxed --runs {runs} --uid {uid}`.",
            "",
            machine_text,
            "",
            f"Contenders run as uid {uid} without `--no-sandbox`, {runs} interleaved runs after a warm-up, "
            "each keeping its own XDG folders across runs.",
            "",
            "## Start → page shown (s)",
            "",
            *per_run_table(run, "startup", "s", 3),
            "",
            *import_cost_lines(run),
            f"## Idle memory: PSS summed over the process tree, page shown + {IDLE_SECONDS:.0f} s (MB)",
            "",
            *per_run_table(run, "memory", "MB", 0),
            "",
            f"Processes in the tree (median): {processes}.",
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sandboxed", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--uid", type=int, default=65534, help="the unprivileged user (default: nobody)")
    args = parser.parse_args(argv)
    problem = check(args.uid)
    if problem is not None:
        raise SystemExit(f"cannot measure with the sandbox on: {problem}")
    run = results(measure(args.runs, args.uid))
    run["import_cost"] = startup.import_cost(args.runs)
    text = report(run, args.runs, args.uid, machine_line(machine("qt")))
    (RESULTS / "sandboxed-qt.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
