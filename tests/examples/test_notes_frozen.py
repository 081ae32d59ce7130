"""examples/notes, really frozen with ``flaskdesk build`` and driven through its real window.

One build per session (a copy of the example in a temp dir, so examples/notes/dist is never
touched; Qt onedir, ~40 s here), shared by every test in this module:

* ``flaskdesk build --check`` loads every argument-less GET route in the built app's window;
* data survives quitting and restarting the frozen app (Flask-SQLAlchemy on SQLite in the
  user's data dir), and ``flaskdesk-notes flask init-db`` works in the frozen app and keeps it;
* ``first-run = ["init-db"]`` runs on the first start only;
* a screenshot shows the example's background colour (#1f2430), so its CSS was bundled.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from flaskdesk.testing.display import VirtualDisplay
from flaskdesk.testing.driver import AppDriver

pytestmark = [pytest.mark.slow, pytest.mark.window, pytest.mark.timeout(900)]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "notes"
FLASKDESK = str(Path(sys.executable).parent / "flaskdesk")
NAME = "flaskdesk-notes"
BACKGROUND = (0x1F, 0x24, 0x30)  # [tool.flaskdesk] background-color, and the page's own
SURFACE = (0x27, 0x2D, 0x3B)  # style.css --surface: the top bar and the login card
ACCENT = (0xFF, 0xCC, 0x66)  # style.css --accent: the "Log in" button
PASSWORD = "correct horse battery"
#: Every GET route of the example that takes no URL arguments.
ROUTES = {
    "/",
    "/api/health",
    "/api/notes",
    "/auth/login",
    "/auth/register",
    "/notes/",
    "/notes/export",
    "/notes/new",
}
#: The routes that answer with an HTML page (the others are the JSON API).
PAGES = ROUTES - {"/api/health", "/api/notes"}
FIRST_RUN_LINE = "running first-run command: flask init-db"


Launch = Callable[[Path], AppDriver]


@dataclass(frozen=True)
class Built:
    project: Path
    executable: Path
    output: str
    seconds: float
    env: dict[str, str]  # what `flaskdesk build` ran with


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without variables that would steer the build or the app elsewhere."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("FLASK_APP", "QT_API") and not k.startswith("FLASKDESK_")
    }
    return {**env, **extra}


@pytest.fixture(scope="module")
def notes_build(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """examples/notes copied to a temp dir and built there with the real ``flaskdesk build``."""
    project = tmp_path_factory.mktemp("notes-build") / "notes"
    shutil.copytree(
        EXAMPLE,
        project,
        ignore=shutil.ignore_patterns(
            "build", "dist", "instance", "*.egg-info", "__pycache__", ".*_cache", ".pytest_cache"
        ),
    )
    # PyInstaller's own cache (~/.cache/pyinstaller) is not safe for builds running at the same
    # time (another build's half-written libXrender.so.1 was "not a valid file"): use a private one.
    env = clean_env(PYINSTALLER_CONFIG_DIR=str(tmp_path_factory.mktemp("pyinstaller-cache")))
    started = time.monotonic()
    result = subprocess.run(
        [FLASKDESK, "build"], cwd=project, env=env, capture_output=True, text=True, timeout=840
    )
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    executable = project / "dist" / NAME / NAME
    assert executable.is_file(), result.stdout
    print(f"\nflaskdesk build of examples/notes: {seconds:.1f} s")
    return Built(project, executable, result.stdout + result.stderr, seconds, env)


@pytest.fixture(scope="module")
def notes_check(notes_build: Built, flaskdesk_display: VirtualDisplay) -> subprocess.CompletedProcess[str]:
    """``flaskdesk build --check`` on the built copy (up to date, so it only runs the check, unless
    flaskdesk's own source changed meanwhile, as it can in a shared checkout)."""
    return subprocess.run(
        [FLASKDESK, "build", "--check"],
        cwd=notes_build.project,
        env={**notes_build.env, **flaskdesk_display.env()},
        capture_output=True,
        text=True,
        timeout=600,
    )


def check_table(output: str) -> dict[str, list[str]]:
    """The rows of the check's table: route → [status, assets, bridge, result]."""
    lines = output.splitlines()
    start = next(
        i for i, line in enumerate(lines) if re.match(r"route\s+status\s+assets\s+bridge\s+result", line)
    )
    rows = {}
    for line in lines[start + 1 :]:
        if line.startswith("exit status"):
            break
        route, status, assets, bridge, result = re.split(r"\s{2,}", line.strip(), maxsplit=4)
        rows[route] = [status, assets, bridge, result]
    return rows


def test_check_loads_every_page_of_the_build(notes_check: subprocess.CompletedProcess[str]) -> None:
    out = notes_check.stdout
    assert notes_check.returncode == 0, out + notes_check.stderr
    assert "Checking dist/flaskdesk-notes/flaskdesk-notes: every page, in its real window..." in out
    rows = check_table(out)
    assert set(rows) == ROUTES, out
    for route in PAGES:
        assert rows[route] == ["200", "ok", "yes", "ok"], (route, out)
    assert rows["/api/health"] == ["200", "ok", "n/a", "ok"], out  # JSON: no page for the bridge
    assert rows["/api/notes"] == ["401", "ok", "n/a", "ok (needs login)"], out
    assert "exit status after closing the window: 0" in out
    assert f"Check passed: {len(ROUTES)} page(s)." in out


# -- data survives a restart ---------------------------------------------------------------------


@pytest.fixture
def launch(notes_build: Built, flaskdesk_display: VirtualDisplay, tmp_path: Path) -> Iterator[Launch]:
    """``launch(data_dir)`` starts the frozen app (stopped at the end of the test if still running)."""
    drivers: list[AppDriver] = []

    def start(data_dir: Path) -> AppDriver:
        driver = AppDriver.frozen(
            notes_build.executable,
            cwd=tmp_path,
            env=clean_env(),
            data_dir=data_dir,
            artifacts_dir=tmp_path / f"run-{len(drivers) + 1}",
            display=flaskdesk_display,
        )
        drivers.append(driver)
        return driver.start()

    yield start
    for driver in drivers:
        driver.stop()


def submit(app: AppDriver, fields: dict[str, str], *, then: str = ".flash") -> None:
    """Fill a form's fields, press its submit button, and wait for ``then`` on the next page.

    The page being left is marked first, so what it showed itself does not count.
    """
    for selector, value in fields.items():
        app.fill(selector, value)
    app.evaluate("document.documentElement.dataset.left = 'yes'")
    app.click("#submit")
    app.wait_for(f"html:not([data-left]) {then}")


def notes_in(database: Path) -> list[tuple[str, str, str]]:
    """(username, title, body) of every note, read from the SQLite file itself."""
    with closing(sqlite3.connect(database)) as db:
        query = (
            "SELECT users.username, notes.title, notes.body"
            " FROM notes JOIN users ON users.id = notes.owner_id"
        )
        return sorted(db.execute(query).fetchall())


def test_data_survives_quitting_and_restarting(notes_build: Built, launch: Launch, tmp_path: Path) -> None:
    data = tmp_path / "data"
    app_data = data / NAME / "data"
    database = app_data / "instance" / "notes.sqlite"

    # Run 1: a fresh data dir. Register, log out, log in, write a note, log out, quit.
    app = launch(data)
    assert "/auth/login" in app.url
    assert database.is_file()  # Flask-SQLAlchemy's file, in the instance folder in the data dir
    app.goto("/auth/register")
    submit(app, {"#username": "ada", "#password": PASSWORD, "#confirm": PASSWORD})
    assert app.text(".flash") == "Welcome, ada!"
    app.click(".topbar form button")  # Log out
    app.wait_for("form #username")
    assert app.text(".flash") == "You are logged out."
    submit(app, {"#username": "ada", "#password": PASSWORD}, then=".heading")
    assert app.url.endswith("/notes/")
    app.goto("/notes/new")
    submit(app, {"#title": "Survives restarts", "#body": "kept in the data dir"})
    assert app.text(".flash") == "Created “Survives restarts”."
    app.click(".topbar form button")
    app.wait_for("form #username")
    assert app.js_errors() == []
    assert app.close() == 0
    assert notes_in(database) == [("ada", "Survives restarts", "kept in the data dir")]

    # Run 2: the same data dir. The account and the note are still there.
    app = launch(data)
    assert "/auth/login" in app.url
    submit(app, {"#username": "ada", "#password": PASSWORD}, then=".heading")
    assert app.text(".notes .note h2") == "Survives restarts"
    assert app.text(".notes .note .body") == "kept in the data dir"
    assert app.js_errors() == []
    assert app.close() == 0

    # The frozen app runs the app's own Flask commands; init-db only creates what is missing.
    result = subprocess.run(
        [str(notes_build.executable), "flask", "init-db"],
        env=clean_env(FLASKDESK_DATA_DIR=str(data)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "Database ready."), result.stderr
    assert notes_in(database) == [("ada", "Survives restarts", "kept in the data dir")]
    assert sorted(p.name for p in data.iterdir()) == [NAME]  # nothing written outside the app's folder


def test_first_run_runs_init_db_once(launch: Launch, tmp_path: Path) -> None:
    """``first-run = ["init-db"]``: run before the window opens on the first start, never again."""
    data = tmp_path / "data"
    first = launch(data)
    assert first.close() == 0
    assert "Database ready." in first.output_text()  # init-db's own message
    second = launch(data)
    assert second.close() == 0
    assert "Database ready." not in second.output_text()
    log = second.log_text()
    assert log.count(FIRST_RUN_LINE) == 1, log  # both starts log to the same file
    state = json.loads((data / NAME / "data" / "flaskdesk-state.json").read_text())
    assert state == {"first-run": "done", "version": "0.1.0"}


def colour_shares(png: Path) -> dict[tuple[int, int, int], float]:
    """The share of the image's pixels each colour covers."""
    with Image.open(png) as image:
        rgb = image.convert("RGB")
        total = rgb.width * rgb.height
        counts = rgb.getcolors(maxcolors=total) or []
    return {pixel: count / total for count, pixel in counts}  # type: ignore[misc]


def test_screenshot_shows_the_example_background(launch: Launch, tmp_path: Path) -> None:
    """The page's background is #1f2430. The window's background-color is the same colour, so the
    page's card (#272d3b) and button (#ffcc66) must show too: the bundled style.css was applied."""
    app = launch(tmp_path / "data")
    app.wait_for("form #username")
    deadline = time.monotonic() + 10  # the web engine may paint a moment after the DOM is complete
    attempts = 0
    while True:
        attempts += 1
        shot = app.screenshot(tmp_path / "login.png")
        with Image.open(shot) as image:
            size = image.size
        shares = colour_shares(shot)
        rendered = shares.get(SURFACE, 0) > 0.1 and shares.get(ACCENT, 0) > 0.002
        if rendered or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert size[0] >= 900 and size[1] >= 600, size  # the 1000x700 window, not a stray one
    assert shares.get(BACKGROUND, 0) > 0.5, (shares.get(BACKGROUND), shot)
    assert rendered, f"the login page never painted in the window ({shot})"
    assert app.close() == 0
    print(f"\nscreenshot: {shot} (painted at attempt {attempts})")


def test_onefile_build_of_the_example_passes_its_check(
    notes_build: Built, flaskdesk_display: VirtualDisplay
) -> None:
    """``flaskdesk build --onefile --check``: one self-extracting file that still finds every template,
    static file and extension it needs. GTK keeps the file (and the build) small: ~55 MB, ~40 s."""
    result = subprocess.run(
        [FLASKDESK, "build", "--onefile", "--backend", "gtk", "--check"],
        cwd=notes_build.project,
        env={**notes_build.env, **flaskdesk_display.env()},
        capture_output=True,
        text=True,
        timeout=840,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    executable = notes_build.project / "dist" / "onefile" / NAME
    assert executable.is_file()
    assert (notes_build.project / "dist" / NAME / NAME).is_file(), "the onefile build replaced the onedir one"
    rows = check_table(result.stdout)
    assert rows and all(row[3].startswith("ok") for row in rows.values()), out
