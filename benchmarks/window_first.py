"""``python -m benchmarks.window_first``: would opening the window before importing Flask help?

In ``Desktop(app).run()`` the user's module has imported Flask (0.13 s here, a quarter of the
floor's whole start) before flaskdesk runs, so only a launcher (frozen app, ``flaskdesk run``)
could reorder the start: window first, app imported while the engine starts. This measures that
idea on the plain recipe, where nothing else differs: the floor, the plain recipe, and the plain
recipe window-first (the import on a thread at once, or once the window is shown), interleaved,
with the same outside-in clock as ``latest.md`` (:mod:`benchmarks.startup`).

    .venv/bin/python -m benchmarks.window_first [--backend qt|gtk] [--runs 7] [--quick]

Writes ``benchmarks/results/window-first-BACKEND.md`` (``--quick``: prints only).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from benchmarks import startup
from benchmarks.contenders import Contender, contenders, prerender
from benchmarks.harness import RESULTS, PrivateDisplay, machine, ratio, summarize
from benchmarks.report import machine_line

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


def table(samples: Mapping[str, Sequence[float]], labels: Mapping[str, str]) -> list[str]:
    """Median, range and ratios to the floor and to the plain recipe, one row per contender."""
    medians = {key: (s.median if (s := summarize(values)) else None) for key, values in samples.items()}
    rows = [
        "| contender | median s | min-max | runs | vs floor | vs plain recipe |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, values in samples.items():
        summary = summarize(values)
        if summary is None:
            rows.append(f"| {labels[key]} | failed |  | 0 |  |  |")
            continue
        vs_floor = ratio(summary.median, medians.get("floor"))
        vs_plain = ratio(summary.median, medians.get("plain"))
        rows.append(
            f"| {labels[key]} | **{summary.median:.3f}** | {summary.low:.3f} to {summary.high:.3f} | "
            f"{summary.n} | {_x(vs_floor)} | {_x(vs_plain)} |"
        )
    return rows


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.window_first", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--backend", choices=("qt", "gtk"), default="qt")
    parser.add_argument("--runs", type=int, default=None, help="measured runs per contender (default 7)")
    parser.add_argument("--quick", action="store_true", help="2 runs, print only (CI smoke run)")
    args = parser.parse_args(argv)
    runs = args.runs or (2 if args.quick else 7)
    everyone = lineup()
    with tempfile.TemporaryDirectory(prefix="flaskdesk-window-first-") as folder:
        work = Path(folder)
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
            )
    samples = {
        key: [r.seconds for r in window_runs if r.round > 0 and r.seconds is not None]
        for key, window_runs in got.items()
    }
    errors = [r.error for window_runs in got.values() for r in window_runs if r.error]
    when = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    lines = [
        f"# Window first? ({args.backend})",
        "",
        f"Run {when}: `python -m benchmarks.window_first --backend {args.backend} --runs {runs}`.",
        "Method and question: `benchmarks/window_first.py`. Start → page shown, seconds, interleaved runs.",
        "",
        f"Machine: {machine_line(machine(args.backend))}",
        "",
        *table(samples, {c.key: c.label for c in everyone}),
        "",
        *([f"Errors: {'; '.join(errors)}", ""] if errors else []),
    ]
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        (RESULTS / f"window-first-{args.backend}.md").write_text(text)
    if any(not values for values in samples.values()):
        raise SystemExit("a contender never showed the page: " + "; ".join(errors))


if __name__ == "__main__":
    main()
