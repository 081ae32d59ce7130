"""``python -m benchmarks.sandboxed``: Qt idle memory with Chromium's sandbox on (run as a normal user).

Everything else in ``benchmarks/`` runs as root here, so Chromium runs without its sandbox, and
flaskdesk then drops the zygote processes that only serve it (``--no-zygote``, ~18 MB). A desktop
user runs with the sandbox on. This runs the plain recipe and flaskdesk from source as an
unprivileged user (``setpriv``, uid/gid 65534 by default), sandbox on, interleaved, and reports
idle PSS over the process tree (2 s after the page showed), as :mod:`benchmarks.memory` does.

Needs root (to switch user and read the tree's ``/proc`` files) and unprivileged user namespaces
(Chromium's sandbox). The contenders keep one capability, ``CAP_DAC_READ_SEARCH`` (read any
file), so an interpreter and venv under ``/root`` work without loosening its permissions;
Chromium's sandboxed processes drop it with every other capability.

    .venv/bin/python -m benchmarks.sandboxed [--runs 5] [--uid 65534]

Writes ``benchmarks/results/sandboxed-memory-qt.md``.
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
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.contenders import contenders
from benchmarks.harness import RESULTS, PrivateDisplay, child_env, machine, spawn, stop
from benchmarks.memory import IDLE_SECONDS, tree_pss
from benchmarks.report import machine_line
from benchmarks.startup import TIMEOUT_SECONDS, compile_sources

KEYS = ("plain", "flaskdesk")


def as_user(uid: int) -> list[str]:
    """The command prefix that runs a program as ``uid``, able to read (not write) root's files."""
    return [
        "setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=+dac_read_search",
        "--ambient-caps=+dac_read_search",
    ]


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


def measure(runs: int, uid: int) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Idle PSS (MB) per contender, and how many zygote processes each tree had."""
    compile_sources()
    every = {c.key: c for c in contenders()}
    pss: dict[str, list[float]] = {key: [] for key in KEYS}
    zygotes: dict[str, int] = {}
    work = Path(tempfile.mkdtemp(prefix="flaskdesk-sandboxed-"))
    work.chmod(0o755)  # the contenders' user reaches its home inside
    try:
        with PrivateDisplay(work) as display:
            for number in range(runs + 1):  # round 0 warms the caches
                for key in KEYS:
                    contender = every[key]
                    home = work / "homes" / f"{key}-{number}"
                    home.mkdir(parents=True)
                    home.parent.chmod(0o755)
                    env = child_env(display.name, home, contender.env("qt"))
                    env.pop("QTWEBENGINE_CHROMIUM_FLAGS", None)  # no --no-sandbox: the sandbox runs
                    subprocess.run(["chown", "-R", f"{uid}:{uid}", str(home)], check=True)
                    display.wait_until_clear()
                    with (work / f"{key}-{number}.log").open("wb") as log:
                        started = time.monotonic()
                        proc = spawn([*as_user(uid), *contender.argv("qt")], env, log, cwd=home)
                        try:
                            if display.wait_for_colour(started + TIMEOUT_SECONDS, proc) is None:
                                raise SystemExit(f"{key} showed no page; log: {log.name}")
                            time.sleep(IDLE_SECONDS)
                            total, processes = tree_pss(proc.pid)
                            zygotes[key] = sum("zygote" in _cmdline(p["pid"]) for p in processes)
                            if number:
                                pss[key].append(total)
                        finally:
                            stop(proc)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return pss, zygotes


def _cmdline(pid: object) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def report(pss: dict[str, list[float]], zygotes: dict[str, int], runs: int, uid: int) -> str:
    plain = statistics.median(pss["plain"])
    rows = [
        f"| {key} | **{statistics.median(values):.0f}** | {min(values):.0f} to {max(values):.0f} | "
        f"{statistics.median(values) / plain:.2f}x | {zygotes.get(key, 0)} |"
        for key, values in pss.items()
    ]
    return "\n".join(
        [
            "# Qt idle memory with the Chromium sandbox on",
            "",
            f"Run {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}: "
            f"`python -m benchmarks.sandboxed --runs {runs} --uid {uid}`.",
            "",
            machine_line(machine("qt")),
            "",
            f"PSS summed over the process tree, page shown + {IDLE_SECONDS:.0f} s, {runs} interleaved runs, "
            f"contenders run as uid {uid} without `--no-sandbox`.",
            "",
            "| contender | median MB | min-max | vs plain recipe | zygote processes |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sandboxed", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--uid", type=int, default=65534, help="the unprivileged user (default: nobody)")
    args = parser.parse_args(argv)
    problem = check(args.uid)
    if problem is not None:
        raise SystemExit(f"cannot measure with the sandbox on: {problem}")
    pss, zygotes = measure(args.runs, args.uid)
    text = report(pss, zygotes, args.runs, args.uid)
    (RESULTS / "sandboxed-memory-qt.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
