"""``python -m benchmarks``: flaskdesk against the plain recipes, every contender in one run.

    .venv/bin/python -m benchmarks                        # everything, Qt; writes benchmarks/results/latest.*
    .venv/bin/python -m benchmarks --backend gtk          # the GTK section of the same files
    .venv/bin/python -m benchmarks --build-frozen         # also freeze the fixture (onedir + onefile) first
    .venv/bin/python -m benchmarks --frozen-onedir dist/flaskdesk-bench/flaskdesk-bench --frozen-onefile ...
    .venv/bin/python -m benchmarks --quick --only startup # CI smoke run (writes to a temp dir or --out)
    .venv/bin/python -m benchmarks.transport              # loopback against scheme, Qt and GTK side by side

The method is in ``benchmarks/README.md``; the output is ``latest.md`` (tables), ``latest.json``
(raw numbers) and ``latest.png`` (chart) in ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import bridge, report, startup
from benchmarks.contenders import Contender, build_frozen, contenders, prerender
from benchmarks.contenders import serve as throughput
from benchmarks.harness import BENCH, RESULTS, ROOT, PrivateDisplay, directory_size, machine

METRICS = ("startup", "memory", "size", "throughput", "bridge", "build", "reload")
SLOW_METRICS = ("reload", "build")  # other engineers' scripts; minutes each, not in --quick unless named


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__.split("\n")[0],
        epilog="The transports side by side (start-up and request round trip of the flaskdesk contender over "
        "loopback and over app://, Qt and GTK): python -m benchmarks.transport [--quick]. Server choice: "
        "python -m benchmarks.servers.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 runs per contender, short loads (CI smoke run)"
    )
    parser.add_argument("--backend", choices=("qt", "gtk"), default="qt")
    parser.add_argument("--only", default=None, help=f"comma-separated subset of: {','.join(METRICS)}")
    parser.add_argument("--frozen-onedir", type=Path, help="a frozen onedir executable of the fixture app")
    parser.add_argument("--frozen-onefile", type=Path, help="a frozen onefile executable of the fixture app")
    parser.add_argument(
        "--build-frozen",
        action="store_true",
        help="freeze benchmarks/contenders/fixture with `flaskdesk build` (onedir and onefile) first",
    )
    parser.add_argument(
        "--frozen-dir", type=Path, help="where --build-frozen builds (default: a folder in /tmp)"
    )
    parser.add_argument("--runs", type=int, help="measured window runs per contender (default 7, --quick 2)")
    parser.add_argument(
        "--out", type=Path, help="results folder (default benchmarks/results; --quick: a temp dir)"
    )
    parser.add_argument("--keep-work", action="store_true", help="keep the work folder (logs of every run)")
    args = parser.parse_args(argv)
    if args.only:
        chosen = [m.strip() for m in args.only.split(",") if m.strip()]
        unknown = sorted(set(chosen) - set(METRICS))
        if unknown:
            parser.error(f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(METRICS)}")
        args.metrics = [m for m in METRICS if m in chosen]
    else:
        args.metrics = [m for m in METRICS if not (args.quick and m in SLOW_METRICS)]
    for option in ("frozen_onedir", "frozen_onefile"):
        path = getattr(args, option)
        if path is not None:
            path = path.resolve()
            if not (path.is_file() and os.access(path, os.X_OK)):
                parser.error(f"--{option.replace('_', '-')} {path}: not an executable file")
            setattr(args, option, path)
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _raise_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: children and Xvfb get stopped


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, _raise_exit)
    quick = args.quick
    runs = args.runs or (2 if quick else 7)
    out = args.out or (Path(tempfile.mkdtemp(prefix="flaskdesk-bench-quick-")) if quick else RESULTS)
    work = Path(tempfile.mkdtemp(prefix="flaskdesk-bench-"))
    (work / "logs").mkdir()
    backend = args.backend
    ok = False
    try:
        if args.build_frozen:
            folder = args.frozen_dir or Path(tempfile.gettempdir()) / f"flaskdesk-bench-frozen-{backend}"
            folder.mkdir(parents=True, exist_ok=True)
            for onefile in (False, True):
                kind = "onefile" if onefile else "onedir"
                log(f"building the fixture with flaskdesk build ({kind}, {backend}) ...")
                began = time.monotonic()
                built = build_frozen(folder, backend, onefile=onefile)
                log(f"  {built} ({time.monotonic() - began:.0f} s)")
                setattr(args, "frozen_onefile" if onefile else "frozen_onedir", built)
        everyone = contenders(args.frozen_onedir, args.frozen_onefile)
        new: dict[str, Any] = {
            "backend": backend,
            "when": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "quick": quick,
            "command": "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:]),
            "machine": machine(backend),
            "contenders": [_describe(c) for c in everyone],
            "settings": {},
        }
        new["measured_at"] = {metric: new["when"] for metric in args.metrics}
        with PrivateDisplay(work) as display:
            log(f"private display {display.name}; work folder {work}")
            if "startup" in args.metrics or "memory" in args.metrics:
                new.update(_windows(args, everyone, backend, display, work, runs, new["settings"]))
            if "size" in args.metrics:
                new["size"] = _sizes(args)
            if "throughput" in args.metrics:
                new.update(_throughput(quick, new["settings"]))
            if "bridge" in args.metrics:
                new.update(_bridge(quick, everyone, backend, display, work, new["settings"]))
            if "build" in args.metrics:
                new["build"] = _build(quick, backend, display, work)
            if "reload" in args.metrics:
                new["reload"] = _reload(quick, backend, display, work)
        page, problem = report.write(out, backend, new)
        log(
            f"written: {page}, {page.with_suffix('.json').name}"
            + (f" (no chart: {problem})" if problem else ", latest.png")
        )
        print(page.read_text())
        ok = True
        return 0
    finally:
        if ok and not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"work folder kept: {work}")


def _describe(contender: Contender) -> dict[str, Any]:
    info: dict[str, Any] = {"key": contender.key, "label": contender.label, "short": contender.short}
    if contender.frozen:
        info["executable"] = str(contender.executable) if contender.executable else None
        if not contender.measurable:
            info["not_measured"] = "not measured (no build)"
    return info


def _windows(
    args: argparse.Namespace,
    everyone: list[Contender],
    backend: str,
    display: PrivateDisplay,
    work: Path,
    runs: int,
    settings: dict[str, Any],
) -> dict[str, Any]:
    page = prerender(work)
    measurable = [c for c in everyone if c.measurable]
    got = startup.measure(
        measurable,
        backend,
        display,
        work,
        page=page,
        runs=runs,
        memory="memory" in args.metrics,
        progress=log,
    )
    settings["runs"] = runs
    startup_out: dict[str, Any] = {}
    memory_out: dict[str, Any] = {}
    for key, window_runs in got.items():
        startup_out[key] = startup.startup_record(window_runs)
        if "memory" in args.metrics:
            memory_out[key] = startup.memory_record(window_runs)
    out: dict[str, Any] = {}
    if "startup" in args.metrics:
        out["startup"] = startup_out
        out["import_cost"] = startup.import_cost(runs)
    if "memory" in args.metrics:
        out["memory"] = memory_out
    return out


def _sizes(args: argparse.Namespace) -> dict[str, Any]:
    sizes: dict[str, Any] = {}
    for key, exe in (("onedir", args.frozen_onedir), ("onefile", args.frozen_onefile)):
        if exe is None:
            sizes[key] = None
            continue
        target = exe.parent if key == "onedir" else exe
        sizes[key] = round(directory_size(target) / 1e6, 1)
        sizes[f"{key}_path"] = f"`{target.name}{'/' if key == 'onedir' else ''}`"
    return sizes


def _throughput(quick: bool, settings: dict[str, Any]) -> dict[str, Any]:
    rounds, requests, warmup, connections = (1, 600, 10, 4) if quick else (5, 5000, 50, 4)
    settings["throughput"] = (
        f"{connections} connections, {requests:,} requests per round after {warmup} warm-up requests each, "
        f"{rounds} round(s) per server, interleaved"
    )
    return {
        "throughput": throughput.measure(
            rounds=rounds, connections=connections, requests=requests, warmup=warmup, progress=log
        )
    }


def _bridge(
    quick: bool,
    everyone: list[Contender],
    backend: str,
    display: PrivateDisplay,
    work: Path,
    settings: dict[str, Any],
) -> dict[str, Any]:
    runs, calls, warmup = (1, 50, 10) if quick else (3, 300, 30)  # calls per window
    settings["bridge"] = f"{runs} window(s) per side x {calls} sequential calls after {warmup} warm-up calls"
    got = bridge.measure(
        [c for c in everyone if c.bridge],
        backend,
        display,
        work,
        runs=runs,
        calls=calls,
        warmup=warmup,
        progress=log,
    )
    for value in got.values():
        value["samples"] = {k: [round(x, 3) for x in v] for k, v in value["samples"].items()}
    return {"bridge": got}


def _other_script(
    name: str,
    args: list[str],
    display: PrivateDisplay,
    work: Path,
    timeout: float,
    env_extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run another engineer's ``benchmarks/NAME.py --json`` and fold its numbers in (never edited here)."""
    script = BENCH / f"{name}.py"
    if not script.exists():
        return {"not_measured": f"not measured (benchmarks/{name}.py does not exist yet)"}
    result = work / f"{name}.json"
    env = {**os.environ, "DISPLAY": display.name, **(env_extra or {})}
    log(f"running benchmarks/{name}.py {' '.join(args)} (minutes) ...")
    with (work / "logs" / f"{name}.log").open("wb") as output:
        try:
            done = subprocess.run(
                [sys.executable, "-m", f"benchmarks.{name}", *args, "--json", str(result)],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {"not_measured": f"not measured (benchmarks/{name}.py took over {timeout:.0f} s)"}
    if done.returncode != 0 or not result.exists():
        return {
            "not_measured": f"not measured (benchmarks/{name}.py failed with status {done.returncode}; "
            f"log: {output.name})"
        }
    data: dict[str, Any] = json.loads(result.read_text())
    return data


def _reload(quick: bool, backend: str, display: PrivateDisplay, work: Path) -> dict[str, Any]:
    if backend != "qt":
        return {
            "not_measured": "not measured for GTK (benchmarks/reload.py runs flaskdesk's default backend, Qt)"
        }
    return _other_script("reload", ["--runs", "3" if quick else "10"], display, work, timeout=900)


def _build(quick: bool, backend: str, display: PrivateDisplay, work: Path) -> dict[str, Any]:
    got = _other_script(
        "build", ["--backend", backend, "--runs", "1" if quick else "3"], display, work, timeout=3600
    )
    if not got.get("not_measured"):
        return got
    log(f"{got['not_measured']}; trying once more")  # minutes of work lost to one flaky step
    return _other_script(
        "build", ["--backend", backend, "--runs", "1" if quick else "3"], display, work, timeout=3600
    )


if __name__ == "__main__":
    raise SystemExit(main())
