"""Dev-mode reload latency: from a file write to the window showing the change.

    .venv/bin/python benchmarks/reload.py [--runs 10] [--json results.json]

Two parts:

1. **Watcher**: file write → :class:`flaskdesk.devloop.DevReloader` callback, for inotify and for
   the 50 ms stat poll (no window).
2. **Window**: ``flaskdesk run --dev`` on ``tests/fixtures/devloop_app`` under Xvfb (started here
   when there is no display), for a template edit, a CSS edit and a Python (view) edit, two ways:

   * *page*: the page calls ``/beacon`` two animation frames after it loaded (the new content
     has been rendered); the time from the write to that request;
   * *screen*: the time from the write until the window's pixels on the X server change colour
     (the template edit swaps the page between red and blue, the CSS edit changes the shade),
     read with Qt's ``QScreen.grabWindow`` every millisecond or so.

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
    def __init__(self, project: Path, beacon: Path, display: str, backend: str | None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "FLASKDESK_"))}
        if backend:
            env["FLASKDESK_GUI"] = backend
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
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            print(f"the app ignored SIGTERM for 15 s; killed (see {self.log.name})", file=sys.stderr)
            self.proc.kill()
            return self.proc.wait(10)
        finally:
            self.log.close()


class Pixel:
    """Reads one pixel of another process's X window, fast (Qt's xcb grab)."""

    def __init__(self, display: str, pid: int) -> None:
        os.environ["DISPLAY"] = display
        os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
        from PyQt6.QtGui import QGuiApplication

        self._app = QGuiApplication.instance() or QGuiApplication(["reload-benchmark"])
        self._screen = self._app.primaryScreen()
        found: list[str] = []
        for _ in range(100):
            found = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--pid", str(pid)],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.split()
            if found:
                break
            time.sleep(0.1)
        if not found:
            raise RuntimeError("the app shows no window")
        self.window = int(found[-1])

    def colour(self) -> tuple[int, int, int]:
        image = self._screen.grabWindow(self.window, 320, 400, 1, 1).toImage()
        colour = image.pixelColor(0, 0)
        return colour.red(), colour.green(), colour.blue()

    def wait_change(self, before: tuple[int, int, int], timeout: float = 10.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.colour() != before:
                return time.time()
            time.sleep(0.001)
        raise RuntimeError(f"the window stayed {before} for {timeout} s")


def bench_window(runs: int, display: str, backend: str | None = None) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {
        "template page": [],
        "template screen": [],
        "css page": [],
        "css screen": [],
        "python page": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        shutil.copytree(FIXTURE, project, ignore=shutil.ignore_patterns("__pycache__"))
        app = App(project, Path(tmp) / "beacon.log", display, backend)
        try:
            app.wait_new(0, timeout=60)
            pixel = Pixel(display, app.proc.pid)
            time.sleep(0.5)
            template = project / "devapp" / "templates" / "index.html"
            css = project / "devapp" / "static" / "style.css"
            views = project / "devapp" / "views.py"
            views.write_text(views.read_text().replace('"py-one"', '"py-0"'))
            time.sleep(0.5)
            shades = [("#ff0000", "#ee0000"), ("#0000ff", "#0000ee")]
            for i in range(runs):
                colour_class = ("red", "blue") if i % 2 == 0 else ("blue", "red")
                edits = (
                    ("template", template, f'class="{colour_class[0]}"', f'class="{colour_class[1]}"'),
                    ("css", css, None, None),
                    ("python", views, f'"py-{i}"', f'"py-{i + 1}"'),
                )
                for kind, path, old, new in edits:
                    text = path.read_text()
                    if kind == "css":  # swap every shade: whichever colour is showing changes
                        for a, b in shades:
                            text = text.replace(a, "@").replace(b, a).replace("@", b)
                        new_text = text
                    else:
                        assert old is not None and new is not None and old in text, (old, path)
                        new_text = text.replace(old, new)
                    seen = len(app.lines())
                    before = pixel.colour()
                    start = time.time()
                    path.write_text(new_text)
                    if kind != "python":
                        results[f"{kind} screen"].append(pixel.wait_change(before) - start)
                    stamp, _, _ = app.wait_new(seen)
                    results[f"{kind} page"].append(stamp - start)
                    time.sleep(0.25)  # let the window settle before the next edit
        finally:
            status = app.close()
        if status != 0:
            print(f"the app exited with status {status}", file=sys.stderr)
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
    parser.add_argument(
        "--backend", choices=["qt", "gtk"], help="window backend (default: flaskdesk's choice)"
    )
    args = parser.parse_args()

    table: dict[str, dict[str, float]] = {}
    table["watcher inotify: write -> callback"] = summarize(bench_watcher(args.runs * 2, polling=False))
    table["watcher polling: write -> callback"] = summarize(bench_watcher(args.runs * 2, polling=True))
    if not args.no_window:
        display, xvfb = start_xvfb()
        try:
            window = bench_window(args.runs, display, args.backend)
        finally:
            if xvfb is not None:
                xvfb.terminate()
                xvfb.wait(10)
        table["window: template edit -> page rendered"] = summarize(window["template page"])
        table["window: template edit -> pixels on screen"] = summarize(window["template screen"])
        table["window: CSS edit -> page rendered"] = summarize(window["css page"])
        table["window: CSS edit -> pixels on screen"] = summarize(window["css screen"])
        table["window: Python edit -> page rendered"] = summarize(window["python page"])

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
