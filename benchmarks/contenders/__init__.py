"""The contenders: six ways to show the same Jinja page (``fixture/benchpage``) in a desktop window.

Each one is started as its own process (pywebview starts once per process) by the scripts next to
this file, or, for the frozen builds, by running the executable; nothing inside them reports
timings: the harness watches the screen (see :mod:`benchmarks.harness`).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "fixture"


@dataclass(frozen=True)
class Contender:
    key: str
    label: str
    short: str  # for the chart
    script: str | None = None  # a script in this folder, or None for a frozen executable
    executable: Path | None = None  # a frozen build (contenders 5 and 6)
    flaskdesk: bool = False
    frozen: bool = False
    bridge: bool = False  # can show the bridge page
    notes: tuple[str, ...] = field(default=())

    @property
    def measurable(self) -> bool:
        return not self.frozen or self.executable is not None

    def argv(
        self, backend: str, *, page: Path | None = None, bridge: tuple[Path, int, int] | None = None
    ) -> list[str]:
        """The command that shows the page (or, with ``bridge=(result, calls, warmup)``, the bridge page)."""
        if self.frozen:
            if self.executable is None:
                raise ValueError(f"{self.key}: no executable given")
            return [str(self.executable)]
        assert self.script is not None
        argv = [sys.executable, str(HERE / self.script)]
        if not self.flaskdesk:
            argv.append(backend)
        if self.key == "floor":
            if page is None:
                raise ValueError("the floor needs the pre-rendered page")
            argv.append(str(page))
        if bridge is not None:
            result, calls, warmup = bridge
            argv += [str(result), str(calls), str(warmup)]
        return argv

    def env(self, backend: str) -> dict[str, str]:
        """What this contender adds to :func:`benchmarks.harness.child_env`."""
        env = {"PYTHONPATH": str(FIXTURE)} if not self.frozen else {}
        if self.flaskdesk:
            env["FLASKDESK_GUI"] = backend  # flaskdesk adds --no-sandbox for Qt as root itself
        elif backend == "qt" and os.geteuid() == 0:
            env["QTWEBENGINE_CHROMIUM_FLAGS"] = "--no-sandbox"  # Chromium refuses to run as root without it
        return env


def contenders(onedir: Path | None = None, onefile: Path | None = None) -> list[Contender]:
    """All six, in report order; the frozen ones carry their executable when one was given."""
    return [
        Contender("floor", "floor: bare pywebview, pre-rendered HTML file, no server", "floor", "floor.py"),
        Contender(
            "plain",
            "plain recipe: Flask on werkzeug `make_server` thread + pywebview",
            "plain recipe",
            "plain.py",
            bridge=True,
        ),
        Contender(
            "builtin", "pywebview given the Flask app (its built-in server)", "pywebview(app)", "builtin.py"
        ),
        Contender(
            "flaskdesk",
            "flaskdesk from source: `Desktop(app).run()`",
            "flaskdesk",
            "flaskdesk_source.py",
            flaskdesk=True,
            bridge=True,
        ),
        Contender(
            "onedir",
            "flaskdesk frozen, onedir",
            "frozen onedir",
            executable=onedir,
            flaskdesk=True,
            frozen=True,
        ),
        Contender(
            "onefile",
            "flaskdesk frozen, onefile",
            "frozen onefile",
            executable=onefile,
            flaskdesk=True,
            frozen=True,
        ),
    ]


def prerender(work: Path) -> Path:
    """Render the fixture page once (Flask's test client) into ``work/floor/index.html`` with its CSS
    beside it, for the floor to load as a ``file://`` URL. Same bytes as served, links made relative."""
    sys.path.insert(0, str(FIXTURE))
    try:
        from benchpage import create_app
    finally:
        sys.path.remove(str(FIXTURE))
    html = create_app().test_client().get("/").get_data(as_text=True)
    folder = work / "floor"
    (folder / "static").mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURE / "benchpage" / "static" / "style.css", folder / "static" / "style.css")
    page = folder / "index.html"
    page.write_text(html.replace('href="/static/', 'href="static/'))
    return page


def describe_env(env: Mapping[str, str]) -> str:
    return " ".join(f"{key}={value}" for key, value in sorted(env.items()) if key != "PYTHONPATH")


def build_frozen(folder: Path, backend: str, *, onefile: bool, timeout: float = 1800.0) -> Path:
    """Freeze the fixture with ``flaskdesk build`` in a copy under ``folder``; return the executable."""
    import subprocess

    project = folder / ("onefile" if onefile else "onedir")
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(FIXTURE, project, ignore=shutil.ignore_patterns("__pycache__"))
    argv = [
        sys.executable,
        "-c",
        "from flaskdesk.cli import main; main()",
        "build",
        "--backend",
        backend,
        "--clean",
    ]
    if onefile:
        argv.append("--onefile")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FLASK_", "FLASKDESK_"))}
    done = subprocess.run(
        argv, cwd=project, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    (project / "build.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"flaskdesk build failed (see {project / 'build.log'}):\n{done.stderr[-2000:]}")
    # The CLI says where it put the executable ("Built dist/.../NAME in 20.1 s (383 MB).").
    built = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("Built ")]
    executable = (project / built[-1]).resolve() if built else None
    if executable is None or not (executable.is_file() and os.access(executable, os.X_OK)):
        raise SystemExit(f"flaskdesk build did not report an executable (see {project / 'build.log'})")
    return executable
