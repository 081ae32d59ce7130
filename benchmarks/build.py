"""``flaskdesk build`` measured: build time, size against a naive PyInstaller build, start time, rebuilds.

    .venv/bin/python -m benchmarks.build [--runs 5] [--backend qt] [--json out.json] [--skip-naive]

On a copy of ``tests/fixtures/freeze_blueprint_pkg/app`` (templates in a blueprint and in an
installed package, static CSS in both):

1. **Naive**: what a user writes by hand after reading PyInstaller's docs: one
   ``pyinstaller --windowed --add-data ... --hidden-import demoapp`` run on a three-line script
   that calls :func:`flaskdesk.launcher.run_target` (the minimum that works: every template and
   static folder spelled out, the dynamically loaded app named).
2. **flaskdesk build** (slim by default), clean, timed; then the size of ``dist/NAME``.
3. **Fast rebuild**: one template edited, ``flaskdesk build`` again (no PyInstaller run).
4. **Start → visible**: the frozen app under Xvfb, time from exec until a screenshot shows the
   page's CSS colours (screenshots every ~0.1 s, so ±0.1 s), median of ``--runs``; then SIGTERM.
5. **Reproducibility**: a second clean build of the same tree; every file's SHA-256 compared,
   and the differing files listed.

Prints one line per measurement (and writes them as JSON with ``--json``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "freeze_blueprint_pkg"
NAME = "Freeze-Demo"
APP_GREEN = (0x3A, 0x7B, 0x5C)
EXT_RED = (0xC0, 0x39, 0x2B)
# A hand-written desktop entry imports pywebview itself (flaskdesk's runtime imports it by name).
ENTRY = "import webview\nfrom flaskdesk.launcher import run_target\n\nrun_target('demoapp:create_app()')\n"


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def tree_hashes(path: Path) -> dict[str, str]:
    return {
        p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def flaskdesk_build(project: Path, *args: str) -> tuple[float, str]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", "from flaskdesk.cli import main; main()", "build", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"flaskdesk build failed:\n{result.stdout}\n{result.stderr}")
    return seconds, result.stdout


def naive_build(project: Path, ext_src: Path) -> tuple[float, int]:
    """The hand-written equivalent: --add-data for every folder, --hidden-import for the app's modules."""
    (project / "naive_entry.py").write_text(ENTRY)
    adds = [
        f"{project / 'demoapp' / 'static'}:demoapp/static",
        f"{project / 'demoapp' / 'pages' / 'templates'}:demoapp/pages/templates",
        f"{ext_src / 'fdbp_ext' / 'templates'}:fdbp_ext/templates",
        f"{ext_src / 'fdbp_ext' / 'static'}:fdbp_ext/static",
    ]
    argv = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--windowed",
        "--name",
        "naive",
        "--distpath",
        str(project / "naive-dist"),
        "--workpath",
        str(project / "naive-build"),
        "--specpath",
        str(project / "naive-build"),
        "--hidden-import",
        "demoapp",
        "--hidden-import",
        "demoapp.pages",
        "--hidden-import",
        "demoapp.commands",
    ]
    for add in adds:
        argv += ["--add-data", add]
    argv.append(str(project / "naive_entry.py"))
    started = time.monotonic()
    subprocess.run(argv, cwd=project, check=True, capture_output=True)
    return time.monotonic() - started, tree_size(project / "naive-dist" / "naive")


def count_color(png: Path, color: tuple[int, int, int]) -> int:
    from PIL import Image

    with Image.open(png) as image:
        counts = image.convert("RGB").getcolors(maxcolors=1 << 24) or []
    return sum(count for count, pixel in counts if pixel == color)


def start_to_visible(executable: Path, display: str, work: Path) -> float:
    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    env = {**os.environ, "DISPLAY": display, "FLASKDESK_DATA_DIR": str(data)}
    shot = work / "shot.png"
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(executable)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while time.monotonic() - started < 60:
            taken = subprocess.run(
                ["import", "-display", display, "-window", "root", str(shot)],
                capture_output=True,
                check=False,
            )
            if (
                taken.returncode == 0
                and count_color(shot, APP_GREEN) > 50_000
                and count_color(shot, EXT_RED) > 20_000
            ):
                return time.monotonic() - started
            time.sleep(0.05)
        raise SystemExit("the frozen app never rendered")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def ensure_display() -> tuple[str, subprocess.Popen[bytes] | None]:
    display = os.environ.get("DISPLAY")
    if display and subprocess.run(["xdpyinfo", "-display", display], capture_output=True).returncode == 0:
        return display, None
    display = f":{200 + os.getpid() % 300}"
    proc = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        if subprocess.run(["xdpyinfo", "-display", display], capture_output=True).returncode == 0:
            return display, proc
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("Xvfb did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backend", choices=["qt", "gtk"], default="qt")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()

    ext_src = FIXTURE / "ext" / "src"
    results: dict[str, Any] = {"backend": args.backend}
    with tempfile.TemporaryDirectory(prefix="flaskdesk-bench-build-") as temp:
        project = Path(temp) / "demo"
        shutil.copytree(FIXTURE / "app", project)

        if not args.skip_naive:
            seconds, size = naive_build(project, ext_src)
            results["naive"] = {"seconds": round(seconds, 1), "mb": round(size / 1e6, 1)}
            print(f"naive pyinstaller --add-data: {seconds:.1f} s, {size / 1e6:.0f} MB", flush=True)

        seconds, _ = flaskdesk_build(project, "--backend", args.backend, "--clean")
        bundle = project / "dist" / NAME
        size = tree_size(bundle)
        results["slim"] = {"seconds": round(seconds, 1), "mb": round(size / 1e6, 1)}
        if "naive" in results:
            results["slim"]["ratio"] = round(size / (results["naive"]["mb"] * 1e6), 2)
        print(
            f"flaskdesk build (clean): {seconds:.1f} s, {size / 1e6:.0f} MB "
            f"({results['slim'].get('ratio', '?')}x naive)",
            flush=True,
        )
        first = tree_hashes(bundle)

        template = project / "demoapp" / "pages" / "templates" / "pages" / "index.html"
        original = template.read_text()
        template.write_text(original.replace("<h1>Freeze demo</h1>", "<h1>Edited</h1>"))
        fast, out = flaskdesk_build(project, "--backend", args.backend)
        for _attempt in range(3):  # flaskdesk or the venv changed meanwhile (shared dev checkout)
            if "flaskdesk itself" not in out and "installed packages" not in out:
                break
            template.write_text(original.replace("<h1>Freeze demo</h1>", f"<h1>Edited {_attempt}</h1>"))
            fast, out = flaskdesk_build(project, "--backend", args.backend)
        assert "without re-running PyInstaller" in out, out
        results["fast_rebuild_seconds"] = round(fast, 2)
        results["fast_ratio"] = round(fast / seconds, 3)
        print(f"fast rebuild (one template): {fast:.2f} s ({fast / seconds:.3f}x full)", flush=True)
        template.write_text(original)
        flaskdesk_build(project, "--backend", args.backend)

        display, xvfb = ensure_display()
        try:
            samples = [start_to_visible(bundle / NAME, display, Path(temp)) for _ in range(args.runs)]
        finally:
            if xvfb is not None:
                xvfb.terminate()
                xvfb.wait()
        results["start_to_visible_s"] = {
            "median": round(statistics.median(samples), 2),
            "samples": [round(s, 2) for s in samples],
        }
        print(f"frozen start -> visible: median {statistics.median(samples):.2f} s of {samples}", flush=True)

        seconds2, _ = flaskdesk_build(project, "--backend", args.backend, "--clean")
        second = tree_hashes(bundle)
        differ = sorted(name for name in set(first) | set(second) if first.get(name) != second.get(name))
        results["reproducible"] = {"files": len(second), "differ": differ}
        print(
            f"second clean build: {seconds2:.1f} s; {len(differ)} of {len(second)} files differ", flush=True
        )
        for name in differ:
            print(f"  differs: {name}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
