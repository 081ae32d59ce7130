"""The desktop features end to end: the real app, server, guard and window under Xvfb, driven by xdotool.

Dialogs are real (a ``QFileDialog`` / ``GtkFileChooserDialog`` answered by typing a path and
pressing Enter), so are downloads, uploads through ``<input type=file>``, menus (clicked and
keyboard shortcuts), second windows, remembered window sizes, the splash, single instance
(two real processes and a ``kill -9``), the tray icon (docked in trayer, clicked) and
notifications (received by dunst on a private session bus). The fixture app
(``tests/fixtures/features``) writes what happened to ``events.jsonl``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from flaskdesk.instance import SingleInstance
from flaskdesk.testing.driver import AppDriver

pytestmark = [pytest.mark.window, pytest.mark.timeout(150)]

FIXTURE = Path(__file__).parent / "fixtures" / "features"
APP_NAME = "features-fixture"
TARGET = "features_app:create_app()"
BACKENDS = ["qt", "gtk"]
#: The dialogs, downloads, uploads, menus, windows and the splash hold over both (docs/guide/transport.rst).
TRANSPORTS = ["loopback", "scheme"]
PAGE_GREEN = (0x2E, 0x8B, 0x57)
SPLASH_PURPLE = (0x8E, 0x44, 0xAD)


class X:
    """xdotool and ImageMagick on the test display."""

    def __init__(self, display: str) -> None:
        self.env = {**os.environ, "DISPLAY": display}
        self.last_error = ""  # xdotool's last complaint, for the failure message

    def run(self, *args: str) -> str:
        done = subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=20)
        if done.stderr.strip():
            self.last_error = f"xdotool {' '.join(args)}: {done.stderr.strip()[-500:]}"
        return done.stdout

    def find(self, name: str) -> list[str]:
        return self.run("search", "--onlyvisible", "--name", name).split()

    def wait_window(self, name: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.find(name)
            if found:
                return found[-1]
            time.sleep(0.1)
        pytest.fail(f"no window named {name!r} appeared within {timeout} s; {self.describe()}")

    def describe(self) -> str:
        """Every named top-level window, mapped or not, and xdotool's last error (for failures)."""
        names = []
        for window_id in self.run("search", "--name", ".").split():
            name = self.run("getwindowname", window_id).strip()
            if name:
                names.append(f"{window_id} {name!r}")
        return f"windows now: {', '.join(names) or 'none'}; last xdotool error: {self.last_error or 'none'}"

    def wait_gone(self, window_id: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if window_id not in self.run("search", "--onlyvisible", "--name", ".").split():
                return
            time.sleep(0.1)
        pytest.fail(f"window {window_id} is still there after {timeout} s")

    def focus(self, window_id: str) -> None:
        self.run("windowfocus", "--sync", window_id)

    def answer(self, dialog: str, text: str) -> str:
        """Type ``text`` into the dialog named ``dialog`` (replacing what is there) and press Enter.

        Ctrl+L opens GTK's location field (and selects it); Qt's file name field has the focus
        already, and Ctrl+A selects its text. If the dialog is still open (a completion popup
        took the first Enter), Enter is pressed again.
        """
        window_id = self.wait_window(dialog)
        time.sleep(0.6)  # the dialog lays itself out and puts the focus in its name field
        self.focus(window_id)
        self.run("key", "ctrl+l")
        time.sleep(0.2)
        self.run("key", "ctrl+a")
        self.run("type", "--delay", "15", text)
        time.sleep(0.5)  # GTK's location field completes as it goes
        for _attempt in range(4):
            self.focus(window_id)
            self.run("key", "Return")
            # A dialog can take a moment to close: an Enter sent meanwhile would reach the page.
            deadline = time.monotonic() + 1.5
            while window_id in self.find(dialog) and time.monotonic() < deadline:
                time.sleep(0.1)
            if window_id not in self.find(dialog):
                break
        return window_id

    def key(self, window_id: str, *keys: str) -> None:
        self.focus(window_id)
        for key in keys:
            self.run("key", key)
            time.sleep(0.15)

    def click(self, window_id: str, x: int, y: int) -> None:
        self.run("mousemove", "--window", window_id, str(x), str(y), "click", "1")

    def geometry(self, window_id: str) -> dict[str, int]:
        out = self.run("getwindowgeometry", "--shell", window_id)
        return {k: int(v) for k, v in (line.split("=") for line in out.split()) if k in "XYWIDTHHEIGHT"}

    def screenshot(self, path: Path) -> Image.Image:
        subprocess.run(
            ["import", "-window", "root", str(path)], env=self.env, check=True, capture_output=True
        )
        return Image.open(path).convert("RGB")


def colour_count(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 6) -> int:
    return sum(
        n
        for n, pixel in image.getcolors(maxcolors=1 << 20) or []
        if all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))
    )


def label_contrast(strip: Image.Image) -> int:
    """How far the most distant pixel's lightness is from the strip's commonest (background) colour."""
    grey = strip.convert("L")
    counts = grey.getcolors() or []
    background = max(counts)[1]
    return max(abs(value - background) for _count, value in counts)


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


@contextlib.contextmanager
def another_window_covering(
    x: X, folder: Path, hidden: tuple[int, int, int], size: tuple[int, int]
) -> Iterator[None]:
    """Another program's window over the app's (until no ``hidden`` pixel shows); closed on exit."""
    cover_image = folder / "cover.png"
    Image.new("RGB", size, (0, 0, 255)).save(cover_image)
    cover = subprocess.Popen(["display", "-geometry", "+0+0", "-title", "cover", str(cover_image)], env=x.env)
    try:
        x.wait_window("^cover$")
        wait_until(lambda: colour_count(x.screenshot(folder / "covered.png"), hidden) == 0, 10, "the cover")
        yield
    finally:
        cover.terminate()
        cover.wait(10)


def wait_in_front(x: X, folder: Path, colour: tuple[int, int, int]) -> None:
    """Until the app's window shows over the cover again (its page colour fills most of it)."""
    wait_until(
        lambda: colour_count(x.screenshot(folder / "front.png"), colour) > 200_000,
        10,
        "the window to come to the front",
    )


class Features:
    """Launches the fixture app; reads what it recorded."""

    def __init__(self, display: str, tmp_path: Path) -> None:
        self.display = display
        self.x = X(display)
        self.out = tmp_path / "out"
        self.out.mkdir()
        self.data_dir = tmp_path / "data"
        self.artifacts = tmp_path / "artifacts"
        self.drivers: list[AppDriver] = []
        self.processes: list[subprocess.Popen[bytes]] = []

    def env(self, backend: str, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASKDESK_", "FEATURES_"))}
        return {
            **env,
            "DISPLAY": self.display,
            "FLASKDESK_GUI": backend,
            "FLASKDESK_DATA_DIR": str(self.data_dir),
            "FEATURES_OUT": str(self.out),
            **extra,
        }

    def driver(self, backend: str, **extra: str) -> AppDriver:
        """The app under the automation channel (single instance is off there, as in any test run)."""
        driver = AppDriver.from_source(
            TARGET,
            cwd=FIXTURE,
            env=self.env(backend, **extra),
            data_dir=self.data_dir,
            artifacts_dir=self.artifacts,
        )
        self.drivers.append(driver)
        return driver.start()

    def launch(self, backend: str, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        """The app as a user starts it: ``python run_features.py ARGS`` (no test tool attached)."""
        process = subprocess.Popen(
            [sys.executable, "run_features.py", *args],
            cwd=FIXTURE,
            env=self.env(backend, **extra),
            start_new_session=True,  # its web engine helpers can be killed with it, as a group
        )
        self.processes.append(process)
        return process

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        path = self.out / "events.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        found = [json.loads(line) for line in lines]
        return [e for e in found if kind is None or e["event"] == kind]

    @property
    def log_file(self) -> Path:
        return self.data_dir / APP_NAME / "log" / f"{APP_NAME}.log"

    def log_text(self) -> str:
        return self.log_file.read_text() if self.log_file.exists() else ""

    def close(self) -> None:
        for driver in self.drivers:
            driver.stop()
        for process in self.processes:
            if process.poll() is None:
                with_group_killed(process)


def with_group_killed(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


@pytest.fixture
def features(x_display: str, tmp_path: Path) -> Iterator[Features]:
    launched = Features(x_display, tmp_path)
    try:
        yield launched
    finally:
        launched.close()


def page_offset(features: Features, driver: AppDriver, window_id: str) -> int:
    """Pixels between the window's top and the page's (the menu bar)."""
    height = features.x.geometry(window_id)["HEIGHT"]
    return int(height - driver.evaluate("window.innerHeight"))


def element_centre(driver: AppDriver, selector: str) -> tuple[int, int]:
    x, y = driver.evaluate(
        f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
        " return [r.left + Math.min(40, r.width / 2), r.top + r.height / 2]; })()"
    )
    return int(x), int(y)


# -- dialogs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_real_file_dialog_answers_the_page(
    features: Features, backend: str, transport: str, tmp_path: Path
) -> None:
    chosen = tmp_path / "notes.txt"
    chosen.write_text("hello")
    with features.driver(backend, FLASKDESK_TRANSPORT=transport) as app:
        # JS → bridge → desktop.dialogs → the GUI thread; the promise settles when the user answers.
        app.evaluate(
            "(window.__picked = 'pending', flaskdesk.dialogs.openFile({title: 'Pick a file', "
            "fileTypes: [['Text', ['*.txt']]]}).then(v => { window.__picked = v; }), 1)"
        )
        features.x.answer("^Pick a file$", str(chosen))
        assert wait_until(lambda: app.evaluate("window.__picked") != "pending", 15, "the answer") is True
        assert app.evaluate("window.__picked") == str(chosen)

        # Python's side (a bridge function calling desktop.dialogs), cancelled with Escape.
        app.evaluate(
            "(window.__confirmed = 'pending', "
            "flaskdesk.api.ask('confirm').then(v => { window.__confirmed = v; }), 1)"
        )
        dialog = features.x.wait_window("^Question$")
        time.sleep(0.5)
        features.x.key(dialog, "Escape")
        wait_until(lambda: app.evaluate("window.__confirmed") != "pending", 15, "the confirm answer")
        assert app.evaluate("window.__confirmed") is False
        features.x.wait_gone(dialog)
        assert app.close() == 0


def test_closing_the_app_cancels_an_open_dialog(features: Features) -> None:
    with features.driver("qt") as app:
        app.evaluate("(flaskdesk.dialogs.openFile({title: 'Left open'}), 1)")
        dialog = features.x.wait_window("^Left open$")
        started = time.monotonic()
        assert app.close(timeout=30) == 0  # the bridge call waiting for the dialog gets None and ends
        assert time.monotonic() - started < 15
        features.x.wait_gone(dialog)


# -- downloads and uploads -------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("theirs", [False, True], ids=["flaskdesk", "with-pywebview-ALLOW_DOWNLOADS"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_an_attachment_is_saved_where_the_save_dialog_says(
    features: Features, backend: str, theirs: bool, transport: str, tmp_path: Path
) -> None:
    target = tmp_path / "saved" / "apples.csv"
    target.parent.mkdir()
    extra = {"FEATURES_PYWEBVIEW_DOWNLOADS": "1"} if theirs else {}
    with features.driver(backend, FLASKDESK_TRANSPORT=transport, **extra) as app:
        app.click("#export")  # a link to send_file(..., as_attachment=True)
        dialog = features.x.answer("^Save$", str(target))
        wait_until(lambda: target.exists() and target.read_text() == "name,count\napples,3\n", 15, "the file")
        time.sleep(1.0)
        assert [w for w in features.x.find("Save") if w != dialog] == []  # one dialog, not pywebview's too
        assert app.url.endswith("/")  # the page stayed where it was
        assert app.close() == 0
    assert "download saved to" in features.log_text() or backend == "gtk"


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_file_input_uploads_through_a_real_file_chooser(
    features: Features, backend: str, transport: str, tmp_path: Path
) -> None:
    upload = tmp_path / "upload.txt"
    upload.write_text("uploaded content")
    with features.driver(backend, FLASKDESK_TRANSPORT=transport) as app:
        window = features.x.wait_window("^Features$")
        x, y = element_centre(app, "#document")
        features.x.click(window, x, y + page_offset(features, app, window))  # a real click: a user gesture
        features.x.answer("^(Open|Upload|Select|Choose)", str(upload))
        wait_until(
            lambda: app.evaluate("document.getElementById('document').files.length") == 1, 15, "the file"
        )
        app.click("#send")
        assert app.text("#uploaded") == "upload.txt: 16 bytes"
        assert app.close() == 0
    (event,) = features.events("upload")
    assert event == {"event": "upload", "filename": "upload.txt", "size": 16, "text": "uploaded content"}


# -- menus -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_menus_run_python_navigate_and_edit(
    features: Features, backend: str, transport: str, tmp_path: Path
) -> None:
    with features.driver(backend, FLASKDESK_TRANSPORT=transport) as app:
        window = features.x.wait_window("^Features$")
        # The labels stand out from the bar, whose colour is the app's dark background on Qt.
        geometry = features.x.geometry(window)
        shot = features.x.screenshot(tmp_path / "menu-bar.png")
        bar = shot.crop((geometry["X"], geometry["Y"], geometry["X"] + 120, geometry["Y"] + 18))
        assert label_contrast(bar) > 100, "menu labels barely differ from the menu bar"
        # A shortcut runs the Python action (in the app context, off the GUI thread).
        features.x.key(window, "ctrl+e")
        wait_until(lambda: features.events("menu"), 10, "the menu action")
        assert features.events("menu") == [{"event": "menu", "item": "export"}]

        # Edit > Select All, then Edit > Copy, then (in the text area) Edit > Paste, all by mouse.
        def edit_menu(downs: int) -> None:
            features.x.click(window, 58, 8)  # "Edit", the second menu of the bar
            time.sleep(0.5)
            features.x.key(window, *(["Down"] * downs), "Return")
            time.sleep(0.5)

        edit_menu(6)  # Undo, Redo, Cut, Copy, Paste, Select All
        assert "Some words to select and copy." in app.evaluate("window.getSelection().toString()")
        edit_menu(4)  # Copy
        app.evaluate("(document.getElementById('editor').focus(), 1)")
        edit_menu(5)  # Paste
        wait_until(
            lambda: "Some words" in app.evaluate("document.getElementById('editor').value"), 10, "paste"
        )

        # A menu link navigates the window it was chosen in: File > (Export, Second page).
        features.x.click(window, 15, 8)
        time.sleep(0.5)
        features.x.key(window, "Down", "Down", "Return")
        wait_until(lambda: app.url.endswith("/second"), 10, "the menu link")
        assert app.close() == 0


def test_menu_false_means_no_menu_bar(features: Features) -> None:
    with features.driver("qt", FEATURES_NO_MENU="1") as app:
        window = features.x.wait_window("^Features$")
        assert page_offset(features, app, window) == 0
        assert app.close() == 0


# -- windows ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_second_window_shares_the_server_and_the_sign_in(
    features: Features, backend: str, transport: str
) -> None:
    with features.driver(backend, FLASKDESK_TRANSPORT=transport) as app:
        main = features.x.wait_window("^Features$")
        app.evaluate("(flaskdesk.windows.open('/second', {title: 'Second', width: 420, height: 320}), 1)")
        second = features.x.wait_window("^Second$")
        # Its page ran its script and called the bridge: it is signed in like the main window.
        wait_until(lambda: features.events("mark"), 15, "the second window's page to call Python")
        assert features.events("mark") == [{"event": "mark", "name": "second::Second"}]
        size = features.x.geometry(second)
        assert (size["WIDTH"], size["HEIGHT"]) == (420, 320)
        # Paths that are not the app's are refused before any window opens.
        with pytest.raises(Exception, match="path of the app"):
            app.evaluate("flaskdesk.windows.open('https://example.org/')")
        assert app.close() == 0  # closing the main window takes the second one along
        features.x.wait_gone(second)
        features.x.wait_gone(main)


# -- window state ------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_size_and_position_come_back_and_fit_the_screen(features: Features, backend: str) -> None:
    with features.driver(backend) as app:
        window = features.x.wait_window("^Features$")
        features.x.run("windowsize", "--sync", window, "640", "480")
        features.x.run("windowmove", "--sync", window, "100", "60")
        time.sleep(0.5)
        assert app.close() == 0
    state_file = features.data_dir / APP_NAME / "config" / "window-state.json"
    saved = json.loads(state_file.read_text())["main"]
    assert (saved["width"], saved["height"], saved["x"], saved["y"]) == (640, 480, 100, 60)

    with features.driver(backend) as app:
        geometry = features.x.geometry(features.x.wait_window("^Features$"))
        assert (geometry["WIDTH"], geometry["HEIGHT"], geometry["X"], geometry["Y"]) == (640, 480, 100, 60)
        assert app.close() == 0

    # A monitor that is gone (x = 3000 on a 1280 px screen) and a size bigger than any screen.
    state_file.write_text(json.dumps({"main": {"width": 5000, "height": 700, "x": 3000, "y": 50}}))
    with features.driver(backend) as app:
        geometry = features.x.geometry(features.x.wait_window("^Features$"))
        assert geometry["WIDTH"] <= 1280 and geometry["HEIGHT"] == 700
        assert geometry["X"] >= 0 and geometry["X"] + geometry["WIDTH"] <= 1280
        assert app.close() == 0


# -- start-up --------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_the_splash_shows_until_the_first_page_arrives(
    features: Features, backend: str, transport: str, tmp_path: Path
) -> None:
    # the first page takes 4 s
    process = features.launch(backend, FEATURES_SPLASH="1", FLASKDESK_TRANSPORT=transport)
    shots = iter(range(1000))

    def colour_on_screen(colour: tuple[int, int, int]) -> bool:
        image = features.x.screenshot(tmp_path / f"splash-{next(shots)}.png")
        return colour_count(image, colour) > 200_000  # most of the 800 x 600 window

    wait_until(lambda: colour_on_screen(SPLASH_PURPLE), 20, "the splash")
    wait_until(lambda: colour_on_screen(PAGE_GREEN), 20, "the first page")
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0


# -- single instance ---------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_second_launch_hands_over_and_a_killed_instance_frees_the_lock(
    features: Features, backend: str, tmp_path: Path
) -> None:
    first = features.launch(backend)
    main = features.x.wait_window("^Features$")
    wait_until(lambda: "serving on" in features.log_text(), 20, "the first instance to serve")

    # The user is in another program, whose window covers the app's.
    with another_window_covering(features.x, tmp_path, PAGE_GREEN, (1280, 800)):
        # A second launch, with a document to open: it hands over and exits 0, opening nothing.
        second = features.launch(backend, "report.txt")
        assert second.wait(20) == 0
        event = wait_until(lambda: features.events("second_instance"), 10, "the hand-over")[0]
        assert event["argv"] == ["run_features.py", "report.txt"]
        assert event["cwd"] == str(FIXTURE)
        assert features.x.find("^Features$") == [main]  # no second window
        assert "handed over its arguments" in features.log_text()
        # The running app's window came to the front, over the other program's.
        wait_in_front(features.x, tmp_path, PAGE_GREEN)
    assert first.poll() is None

    # kill -9: no clean-up runs at all. The OS drops the lock with the process.
    data = features.data_dir / APP_NAME / "data"
    with_group_killed(first)
    started = time.monotonic()
    lock = SingleInstance.try_lock(data)
    assert lock is not None, "the lock of a killed instance must be free at once"
    assert time.monotonic() - started < 1.0
    lock.close()

    # So the next launch is the instance again (not a hand-over to a dead socket), and works.
    third = features.launch(backend, "again.txt")
    features.x.wait_window("^Features$")
    wait_until(lambda: features.log_text().count("serving on") == 2, 20, "the relaunch to serve")
    time.sleep(0.5)
    assert third.poll() is None
    assert len(features.events("second_instance")) == 1
    third.send_signal(signal.SIGTERM)
    assert third.wait(30) == 0


def test_single_instance_can_be_turned_off(features: Features) -> None:
    first = features.launch("qt", FEATURES_MULTI="1")  # Desktop(single_instance=False)
    features.x.wait_window("^Features$")
    second = features.launch("qt", FEATURES_MULTI="1")
    wait_until(lambda: len(features.x.find("^Features$")) == 2, 30, "two windows")
    for process in (first, second):
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    assert features.events("second_instance") == []


# -- tray icon and notifications ---------------------------------------------------------------------
#
# A real XEmbed tray (trayer, docked at the bottom right of the screen) and a real notification
# server (dunst) on a private session bus: the bus starts no services on demand, so exactly what a
# test runs is there, and Qt finds no StatusNotifierItem watcher on it, so it docks into trayer.

TRAY_MAGENTA = (0xFF, 0x00, 0xFF)  # features_app/static/tray.png
SECOND_ORANGE = (0xD3, 0x54, 0x00)  # the /second page
DUNST_BLUE = (0x15, 0x65, 0xC0)  # the notification server's background (DUNSTRC)
PANEL_TOP = 740  # trayer's 32 px panel (and a menu popping up over it) is below this line
DUNSTRC = """[global]
    font = DejaVu Sans 10
    width = 320
    origin = top-right
    offset = 10x10
    frame_width = 0
    markup = full  # as desktop notification servers do: the body is read as markup
[urgency_normal]
    background = "#1565c0"
    foreground = "#ffffff"
    timeout = 0
"""


class SessionBus:
    """The private session bus (conftest's ``private_bus``), with the test display for dunst."""

    def __init__(self, address: str, display: str) -> None:
        self.address = address
        self.env = {**os.environ, "DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": address}


class NotificationServer:
    """dunst on the bus and the display; ``dunstctl`` reads what it received."""

    def __init__(self, bus: SessionBus, tmp_path: Path) -> None:
        rc = tmp_path / "dunstrc"
        rc.write_text(DUNSTRC)
        self.env = bus.env
        self.process = subprocess.Popen(
            ["dunst", "-config", str(rc)], env=bus.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until(lambda: self.ctl("count", "displayed") is not None, 10, "dunst on the bus")

    def ctl(self, *args: str) -> str | None:
        done = subprocess.run(["dunstctl", *args], env=self.env, capture_output=True, text=True, timeout=10)
        return done.stdout if done.returncode == 0 else None

    def displayed(self) -> int:
        return int(self.ctl("count", "displayed") or -1)

    def history(self) -> list[dict[str, Any]]:
        """Every notification received, oldest first (closing them moves them into the history)."""
        self.ctl("close-all")
        reply = json.loads(self.ctl("history") or "{}")
        entries = [{key: field["data"] for key, field in entry.items()} for entry in reply["data"][0]]
        return sorted(entries, key=lambda entry: entry["id"])

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class Trayer:
    """An XEmbed system tray docked at the bottom right of the screen.

    trayer exits at once when the display's tray selection is still owned (the previous test's
    trayer is just going away): it is started again until its panel shows. A trayer that never
    shows one is stopped before the test fails, so no process outlives the fixture.
    """

    ARGV = (
        *("trayer", "--edge", "bottom", "--align", "right", "--widthtype", "request"),
        *("--height", "32", "--SetDockType", "true", "--transparent", "false"),
    )

    def __init__(self, x: X, log: Path) -> None:
        self.x = x
        self.log = log
        self.process = self._start()
        deadline = time.monotonic() + 30
        try:
            while not x.run("search", "--name", "^panel$").split():
                if time.monotonic() > deadline:
                    output = log.read_text(errors="replace")[-2000:]
                    pytest.fail(f"timed out waiting for trayer's panel; its output: {output!r}")
                if self.process.poll() is not None:
                    self.process = self._start()
                time.sleep(0.1)
        except BaseException:
            self.close()
            raise

    def _start(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:
            return subprocess.Popen(self.ARGV, env=self.x.env, stdout=out, stderr=subprocess.STDOUT)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def session_bus(x_display: str, private_bus: str) -> SessionBus:
    return SessionBus(private_bus, x_display)


@pytest.fixture
def notification_server(session_bus: SessionBus, tmp_path: Path) -> Iterator[NotificationServer]:
    server = NotificationServer(session_bus, tmp_path)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def trayer(features: Features, tmp_path: Path) -> Iterator[Trayer]:
    tray = Trayer(features.x, tmp_path / "trayer.log")
    try:
        yield tray
    finally:
        tray.close()


def find_colour(image: Image.Image, colour: tuple[int, int, int]) -> tuple[int, int] | None:
    """The centre of the pixels of ``colour`` in ``image``, or ``None`` when there are none."""
    data = image.convert("RGB").tobytes()
    xs, ys = [], []
    for index in range(0, len(data), 3):
        if all(abs(data[index + i] - colour[i]) <= 6 for i in range(3)):
            xs.append(index // 3 % image.width)
            ys.append(index // 3 // image.width)
    if not xs:
        return None
    return (min(xs) + max(xs)) // 2, (min(ys) + max(ys)) // 2


_CHILD = re.compile(r"^\s+(0x[0-9a-f]+) .*\s(\d+)x(\d+)\+(-?\d+)\+(-?\d+)\s+\+", re.MULTILINE)


def shown_popups(x: X) -> list[tuple[int, int, int, int]]:
    """Geometry (x, y, width, height) of the menus on screen: mapped top-level windows above the panel."""
    listing = subprocess.run(
        ["xwininfo", "-root", "-children"], env=x.env, capture_output=True, text=True, check=True
    ).stdout
    found = []
    for window, width, height, left, top in _CHILD.findall(listing):
        geometry = int(left), int(top), int(width), int(height)
        if geometry[0] < 0 or geometry[1] < 300 or geometry[2] < 40 or geometry[3] < 30:
            continue  # not a menu near the tray: hidden helpers, the app's window, trayer's panel
        state = subprocess.run(["xwininfo", "-id", window], env=x.env, capture_output=True, text=True).stdout
        if "IsViewable" in state and geometry[1] + geometry[3] <= 800:
            found.append(geometry)
    return found


class TrayIcon:
    """The app's icon in trayer: found by its colour, clicked like a user would."""

    def __init__(self, features: Features, tmp_path: Path) -> None:
        self.features = features
        self.tmp_path = tmp_path
        self.shots = iter(range(1000))

    def locate(self) -> tuple[int, int] | None:
        image = self.features.x.screenshot(self.tmp_path / f"tray-{next(self.shots)}.png")
        found = find_colour(image.crop((0, PANEL_TOP, image.width, image.height)), TRAY_MAGENTA)
        return None if found is None else (found[0], found[1] + PANEL_TOP)

    def click(self, button: int) -> None:
        x, y = wait_until(self.locate, 20, "the tray icon")
        self.features.x.run("mousemove", str(x), str(y))
        time.sleep(0.2)
        self.features.x.run("click", str(button))

    def choose(self, position: float) -> None:
        """Right-click the icon and click its menu ``position`` of the way down.

        The fixture's menu is Ping, Second page, a separator, Quit: 0.18, 0.45 and 0.84 on both toolkits.
        """
        self.click(3)
        left, top, width, height = wait_until(lambda: shown_popups(self.features.x), 10, "the tray menu")[0]
        self.features.x.run("mousemove", str(left + width // 2), str(top + int(height * position)))
        time.sleep(0.3)  # the item under the pointer lights up
        self.features.x.run("click", "1")
        wait_until(lambda: not shown_popups(self.features.x), 10, "the tray menu to close")


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_tray_icon_runs_python_navigates_and_brings_the_window_back(
    features: Features, backend: str, tmp_path: Path, trayer: Trayer, session_bus: SessionBus
) -> None:
    with features.driver(backend, FEATURES_TRAY="1", DBUS_SESSION_BUS_ADDRESS=session_bus.address) as app:
        main = features.x.wait_window("^Features$")
        icon = TrayIcon(features, tmp_path)
        x, y = wait_until(icon.locate, 20, "the tray icon in trayer")
        assert x > 1200 and y > 760  # docked in the panel at the bottom right

        # Its menu: "Ping" runs Python (in the app, off the GUI thread)...
        icon.choose(0.18)
        wait_until(lambda: features.events("tray"), 10, "the tray action")
        assert features.events("tray") == [{"event": "tray", "item": "ping"}]
        # ...and "Second page" shows a route of the app in the main window.
        icon.choose(0.45)
        wait_until(lambda: app.url.endswith("/second"), 10, "the tray link")
        assert features.events("tray") == [{"event": "tray", "item": "ping"}]

        # Another program covers the window (not the panel); a click on the icon brings it back.
        with another_window_covering(features.x, tmp_path, SECOND_ORANGE, (1280, 720)):
            icon.click(1)
            wait_in_front(features.x, tmp_path, SECOND_ORANGE)
        assert features.x.find("^Features$") == [main]

        # "Quit" (desktop.quit() in a tray action) ends the app as closing its window does.
        icon.choose(0.84)
        wait_until(lambda: not app.running, 20, "the app to quit")
        assert app.close() == 0
        assert features.events("tray")[-1] == {"event": "tray", "item": "quit"}
        assert "closed cleanly" in app.log_text()
    wait_until(lambda: icon.locate() is None, 10, "the tray icon to go with the app")


@pytest.mark.parametrize("backend", BACKENDS)
def test_quit_from_a_bridge_call_closes_every_window_and_exits_0(features: Features, backend: str) -> None:
    with features.driver(backend) as app:
        features.x.wait_window("^Features$")
        app.evaluate("(flaskdesk.windows.open('/second', {title: 'Second', width: 420, height: 320}), 1)")
        features.x.wait_window("^Second$")
        app.evaluate("(flaskdesk.api.quit_app(), 1)")
        wait_until(lambda: not app.running, 20, "the app to quit")
        assert app.close() == 0
        assert features.events("quit") == [{"event": "quit"}]
        assert "closed cleanly" in app.log_text()
        assert features.x.find("^Features$") == features.x.find("^Second$") == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_notifications_reach_a_real_notification_server(
    features: Features,
    backend: str,
    tmp_path: Path,
    trayer: Trayer,
    notification_server: NotificationServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flask import Flask

    from flaskdesk import Desktop

    # Python, no window at all: one D-Bus call.
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", notification_server.env["DBUS_SESSION_BUS_ADDRESS"])
    Desktop(Flask("headless", root_path=str(tmp_path)), title="Headless").notify("From Python", "No window")
    assert notification_server.displayed() == 1

    bus = {"DBUS_SESSION_BUS_ADDRESS": notification_server.env["DBUS_SESSION_BUS_ADDRESS"]}
    with features.driver(backend, **bus) as app:
        # From the page (flaskdesk.notifications), its text shown as written, not as markup...
        assert app.evaluate("flaskdesk.notifications.show('From the page', 'Tom & Jerry <b>3</b>')") is None
        # ...and from Python in the app (a bridge function calling desktop.notify).
        app.evaluate("flaskdesk.api.announce('From the app', 'desktop.notify in a bridge call')")
        assert notification_server.displayed() == 3
        # On screen: dunst's popups (top right) over the app's window.
        screen = features.x.screenshot(tmp_path / "notifications.png")
        assert colour_count(screen.crop((900, 0, 1280, 400)), DUNST_BLUE) > 5_000
        # No tray icon: this app declares none (and notifications on Linux need none).
        assert TrayIcon(features, tmp_path).locate() is None
        assert app.close() == 0
    assert features.events("notified") == [{"event": "notified", "title": "From the app"}]
    received = [
        (entry["appname"], entry["summary"], entry["body"]) for entry in notification_server.history()
    ]
    assert received == [
        ("Headless", "From Python", "No window"),
        ("Features", "From the page", "Tom &amp; Jerry &lt;b&gt;3&lt;/b&gt;"),  # escaped: dunst reads markup
        ("Features", "From the app", "desktop.notify in a bridge call"),
    ]
