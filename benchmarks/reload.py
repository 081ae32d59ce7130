"""Dev-mode reload latency: from a file write to the window showing the change.

    .venv/bin/python benchmarks/reload.py [--runs 10] [--json results.json]

Two parts:

1. **Watcher**: file write → :class:`flaskdesk.devloop.DevReloader` callback, for inotify and for
   the 50 ms stat poll (no window).
2. **Window**: ``flaskdesk run --dev`` on ``tests/fixtures/devloop_app`` under Xvfb (started here
   when there is no display). The page calls ``/beacon`` after two animation frames, i.e. once the
   new content has been painted; the time from the write to that request is the latency. Measured
   for a template edit, a CSS edit and a Python (view) edit.

Wall-clock times come from one machine's clock (the writer and the app are both local processes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "devloop_app"


def summarize(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p90_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def bench_watcher(runs: int, polling: bool) -> list[float]:
    from flaskdesk.devloop import DevReloader

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "pkg"
        (root / "templates").mkdir(parents=True)
        page = root / "templates" / "index.html"
        page.write_text("0")
        fired = threading.Event()
        stamps: list[float] = []

        def on_change() -> None:
            stamps.append(time.perf_counter())
            fired.set()

        samples = []
        with DevReloader(roots=[root], on_templates=on_change, on_python=on_change, polling=polling):
            time.sleep(0.1)
            for i in range(runs):
                fired.clear()
                start = time.perf_counter()
                page.write_text(str(i + 1))
                if not fired.wait(5):
                    raise RuntimeError("the watcher missed a change")
                samples.append(stamps[-1] - start)
                time.sleep(0.08)
    return samples


class App:
    def __init__(self, project: Path, beacon: Path, display: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "FLASKDESK_"))}
        for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            env[var] = str(project.parent / "xdg" / var.lower())
        env.update(DEVLOOP_BEACON=str(beacon), DISPLAY=display)
        self.beacon = beacon
        self.log = open(project.parent / "app.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from flaskdesk.cli import main; main()", "run", "--dev"],
            cwd=project,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def lines(self) -> list[tuple[float, str, str]]:
        if not self.beacon.exists():
            return []
        out = []
        for line in self.beacon.read_text().splitlines():
            stamp, version, py = [*line.split(" "), "", ""][:3]
            out.append((float(stamp), version, py))
        return out

    def wait_new(self, seen: int, timeout: float = 10.0) -> tuple[float, str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.lines()
            if len(lines) > seen:
                return lines[seen]
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited ({self.proc.returncode}); see {self.log.name}")
            time.sleep(0.005)
        raise RuntimeError(f"no page load within {timeout} s; see {self.log.name}")

    def close(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        finally:
            self.log.close()


def bench_window(runs: int, display: str) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"template": [], "css": [], "python": []}
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        shutil.copytree(FIXTURE, project, ignore=shutil.ignore_patterns("__pycache__"))
        app = App(project, Path(tmp) / "beacon.log", display)
        try:
            app.wait_new(0, timeout=60)
            time.sleep(0.5)
            template = project / "devapp" / "templates" / "index.html"
            css = project / "devapp" / "static" / "style.css"
            views = project / "devapp" / "views.py"
            for i in range(runs):
                for kind, path, old, new in (
                    ("template", template, f"<h1>TEMPLATE-{i}", f"<h1>TEMPLATE-{i + 1}"),
                    ("css", css, f"font-size: {10 + i}px", f"font-size: {11 + i}px"),
                    ("python", views, f'"py-{i}"', f'"py-{i + 1}"'),
                ):
                    text = path.read_text()
                    if i == 0:  # normalise the fixture's first values to the numbered scheme
                        text = text.replace("<h1>TEMPLATE-ONE", "<h1>TEMPLATE-0")
                        text = text.replace('"py-one"', '"py-0"')
                    seen = len(app.lines())
                    start = time.time()
                    path.write_text(text.replace(old, new))
                    stamp, _, _ = app.wait_new(seen)
                    results[kind].append(stamp - start)
                    time.sleep(0.25)  # let the window settle before the next edit
        finally:
            status = app.close()
        if status != 0:
            raise RuntimeError(f"the app exited with status {status}")
    return results


def start_xvfb() -> tuple[str, subprocess.Popen[bytes] | None]:
    display = os.environ.get("DISPLAY")
    if display:
        return display, None
    display = f":{200 + os.getpid() % 300}"
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
    for _ in range(100):
        if (
            subprocess.run(["xdpyinfo", "-display", display], capture_output=True, check=False).returncode
            == 0
        ):
            break
        time.sleep(0.05)
    return display, proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--no-window", action="store_true", help="only the watcher part")
    args = parser.parse_args()

    table: dict[str, dict[str, float]] = {}
    table["watcher inotify: write -> callback"] = summarize(bench_watcher(args.runs * 2, polling=False))
    table["watcher polling: write -> callback"] = summarize(bench_watcher(args.runs * 2, polling=True))
    if not args.no_window:
        display, xvfb = start_xvfb()
        try:
            window = bench_window(args.runs, display)
        finally:
            if xvfb is not None:
                xvfb.terminate()
                xvfb.wait(10)
        table["window: template edit -> painted"] = summarize(window["template"])
        table["window: CSS edit -> painted"] = summarize(window["css"])
        table["window: Python edit -> painted"] = summarize(window["python"])

    width = max(len(name) for name in table)
    print(f"{'':{width}}  {'n':>3} {'median':>9} {'p90':>9} {'max':>9}")
    for name, row in table.items():
        print(
            f"{name:{width}}  {int(row['n']):>3} {row['median_ms']:>7.1f}ms "
            f"{row['p90_ms']:>7.1f}ms {row['max_ms']:>7.1f}ms"
        )
    if args.json:
        args.json.write_text(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
