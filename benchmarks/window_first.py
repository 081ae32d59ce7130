"""``python -m benchmarks.window_first``: would opening the window before importing Flask help?

In ``Desktop(app).run()`` the user's module has imported Flask (0.13 s here, a quarter of the
floor's whole start) before flaskdesk runs, so only a launcher (frozen app, ``flaskdesk run``)
could reorder the start: window first, app imported while the engine starts. This measures that
idea on the plain recipe, where nothing else differs: the floor, the plain recipe, and the plain
recipe window-first (the import on a thread at once, or once the window is shown), interleaved,
with the same outside-in clock as ``latest.md`` (:mod:`benchmarks.startup`).

    .venv/bin/python -m benchmarks.window_first [--backend qt|gtk] [--runs 7] [--quick] [--uid UID]

Writes ``benchmarks/results/window-first-BACKEND.md`` (``--quick``: prints only). With ``--uid``
(as root) every contender runs as that unprivileged user, so Chromium's sandbox and its zygote
start are on as for a desktop user (see :mod:`benchmarks.sandboxed`); the file is then
``window-first-BACKEND-sandboxed.md``.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks import startup
from benchmarks.contenders import Contender, contenders, prerender
from benchmarks.harness import RESULTS, PrivateDisplay, machine
from benchmarks.report import machine_line, per_run_table

EXPERIMENTS = (
    Contender(
        "window_first",
        "plain recipe, window first: Flask imported on a thread at once",
        "window first",
        "window_first.py",
    ),
    Contender(
        "window_first_after_shown",
        "plain recipe, window first: Flask imported once the window is shown",
        "window first (after shown)",
        "window_first_after_shown.py",
    ),
)


def lineup() -> list[Contender]:
    """The floor and the plain recipe (from the main line-up), then the two experiments."""
    by_key = {c.key: c for c in contenders()}
    return [by_key["floor"], by_key["plain"], *EXPERIMENTS]


def results(got: Mapping[str, Sequence[startup.WindowRun]]) -> dict[str, Any]:
    """The runs in the shape :func:`benchmarks.report.per_run_table` reads (as ``latest.json``)."""
    return {
        "contenders": [{"key": c.key, "label": c.label, "short": c.short} for c in lineup()],
        "startup": {key: startup.startup_record(window_runs) for key, window_runs in got.items()},
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.window_first", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--backend", choices=("qt", "gtk"), default="qt")
    parser.add_argument("--runs", type=int, default=None, help="measured runs per contender (default 7)")
    parser.add_argument("--quick", action="store_true", help="2 runs, print only (CI smoke run)")
    parser.add_argument("--uid", type=int, default=None, help="run the contenders as this unprivileged user")
    args = parser.parse_args(argv)
    runs = args.runs or (2 if args.quick else 7)
    everyone = lineup()
    with tempfile.TemporaryDirectory(prefix="flaskdesk-window-first-") as folder:
        work = Path(folder)
        work.chmod(0o755)  # with --uid, the contenders' user works inside
        page = prerender(work)
        with PrivateDisplay(work) as display:
            got = startup.measure(
                everyone,
                args.backend,
                display,
                work,
                page=page,
                runs=runs,
                memory=False,
                progress=lambda line: print(line, file=sys.stderr),
                user=args.uid,
            )
    run = results(got)
    when = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    sandboxed = args.uid is not None
    command = f"python -m benchmarks.window_first --backend {args.backend} --runs {runs}"
    lines = [
        f"# Window first? ({args.backend}{', sandbox on' if sandboxed else ''})",
        "",
        f"Run {when}: `{command}{f' --uid {args.uid}' if sandboxed else ''}`"
        f"{f' (contenders as uid {args.uid}, so Chromium runs sandboxed)' if sandboxed else ''}.",
        "Method and question: `benchmarks/window_first.py`. Start → page shown, seconds, interleaved runs.",
        "",
        f"Machine: {machine_line(machine(args.backend))}",
        "",
        *per_run_table(run, "startup", "s", 3),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        (RESULTS / f"window-first-{args.backend}{'-sandboxed' if sandboxed else ''}.md").write_text(text)
    failed = [key for key, record in run["startup"].items() if not record["samples"]]
    if failed:
        raise SystemExit(f"never showed the page: {', '.join(failed)} (the table above says why)")


if __name__ == "__main__":
    main()
