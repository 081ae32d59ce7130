"""The documentation is true: every sample runs, every error message is real, the tables match the code.

* Python, HTML, CSS, JavaScript and TOML samples live in ``docs/samples/`` and are shown with
  ``literalinclude``. Each is exercised here (its app served through flaskdesk's guard, its
  bridge functions called, its page scripts run by Node against a live server, its TOML read
  by flaskdesk's own loader); a test fails when a sample is not shown or not exercised.
* Shell commands in the pages are either run here or listed in ``NOT_RUN`` with the reason.
* The troubleshooting page quotes error messages; each is produced here by the real code and
  compared, or (for a few) checked against the source, or marked as another program's.
* The configuration reference is generated from ``flaskdesk.config``; the words for it must
  cover exactly the keys the code accepts, and "coming" keys must really be unused.
* Code blocks in the Markdown pages written elsewhere (``docs/testing.md``, ``SECURITY.md``,
  ``docs/architecture.md``) are run here too, or listed with the reason they are not.
* Sphinx builds the whole site with warnings as errors (``slow``).
"""

from __future__ import annotations

import ast
import contextlib
import http.client
import importlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SAMPLES = DOCS / "samples"
ELLIPSIS = "\u2026"  # what the pages write for "the part that depends on your machine"
FLASKDESK = [sys.executable, "-m", "flaskdesk"]

sys.path.insert(0, str(DOCS / "_ext"))
import config_keys  # noqa: E402  (docs/_ext, the words of the configuration reference)
import config_reference  # noqa: E402  (docs/_ext, the generated text of that reference)

sys.path.remove(str(DOCS / "_ext"))


def exercises(*paths: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Mark a test as the one that runs these files of ``docs/samples`` (paths relative to it)."""

    def mark(test: Callable[..., None]) -> Callable[..., None]:
        test.samples = paths  # type: ignore[attr-defined]
        return test

    return mark


def pages() -> list[Path]:
    """The reStructuredText pages (the Markdown ones come from elsewhere and are checked below)."""
    return sorted(p for p in DOCS.rglob("*.rst") if "_build" not in p.parts)


def sample_files() -> set[str]:
    return {
        p.relative_to(SAMPLES).as_posix()
        for p in SAMPLES.rglob("*")
        if p.is_file() and not {"__pycache__", ".pytest_cache"} & set(p.parts)
    }


def flaskdesk_env(**extra: str) -> dict[str, str]:
    """The environment for a ``flaskdesk`` subprocess: no display unless given, no inherited app."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK", "QT_QPA"))}
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(name, None)
    env.update(PYTHONDONTWRITEBYTECODE="1", NO_COLOR="1", **extra)
    return env


@pytest.fixture
def sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Path]]:
    """``sample("quickstart")``: a copy of that ``docs/samples`` folder, importable; forgotten afterwards."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)

    def copy(name: str) -> Path:
        target = tmp_path / "samples" / name
        shutil.copytree(SAMPLES / name, target, ignore=shutil.ignore_patterns("__pycache__"))
        sys.path.insert(0, str(target))
        importlib.invalidate_caches()
        return target

    yield copy
    for name in set(sys.modules) - before:
        if (getattr(sys.modules.get(name), "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


def guarded_client(app: Flask) -> Any:
    """A test client whose requests pass through the guard the window's requests pass through."""
    from flaskdesk.testing.plugin import build_guard, make_client

    return make_client(app, build_guard(app))


def page_nonce(response: Any) -> str:
    match = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert match, response.headers["Content-Security-Policy"]
    return match.group(1)


def inline_scripts(html: str) -> list[tuple[str, str]]:
    """``(nonce, code)`` of each inline ``<script>`` of a page."""
    return [
        (nonce, code)
        for nonce, code in re.findall(r'<script nonce="([^"]*)">(.*?)</script>', html, flags=re.S)
        if code.strip()
    ]


# -- Node: page scripts against a live, guarded server -------------------------------------------

NODE_HARNESS = """
const fs = require("fs");
const [shimPath, base, cookie, ...scripts] = process.argv.slice(2);
const realFetch = globalThis.fetch;
// Play the browser: the window's cookie and the fetch metadata of a same-origin fetch().
globalThis.fetch = (url, init) => realFetch(url, Object.assign({}, init, {
  headers: Object.assign({}, init.headers, {
    Cookie: cookie, "Sec-Fetch-Site": "same-origin", Origin: new URL(base).origin,
  }),
}));
const elements = {};
globalThis.elements = elements;
globalThis.window = globalThis;
globalThis.reloaded = 0;
globalThis.location = { reload: () => { globalThis.reloaded += 1; } };
globalThis.document = {
  currentScript: { src: base + "/__flaskdesk__/flaskdesk.js" },
  readyState: "complete",
  body: { dataset: {} },
  getElementById: (id) => elements[id] || (elements[id] = {
    id, textContent: "", listeners: {},
    addEventListener(type, fn) { this.listeners[type] = fn; },
  }),
};
(0, eval)(fs.readFileSync(shimPath, "utf8"));
for (const script of scripts) (0, eval)(fs.readFileSync(script, "utf8"));
"""

#: Appended last: waits until ``done()`` is true, then prints what the page shows.
NODE_REPORT = """
const deadline = Date.now() + 10000;
(function report() {
  if (!done() && Date.now() < deadline) return setTimeout(report, 20);
  const shown = {};
  for (const [id, el] of Object.entries(elements)) shown[id] = String(el.textContent);
  console.log(JSON.stringify({ shown, ready: document.body.dataset.ready || null, reloaded }));
})();
"""


@contextlib.contextmanager
def live_server(app: Flask) -> Iterator[tuple[str, str]]:
    """Serve ``app`` as a launch does (server, guard, bridge); yield its URL and the window's cookie."""
    from flaskdesk.app.guard import Guard, GuardPolicy
    from flaskdesk.app.server import Server
    from flaskdesk.ui.bridge import script_wsgi_app

    desktop = app.extensions["flaskdesk"]
    server = Server(app, name="docs")
    guard = Guard(
        app,
        port=server.port,
        token=Guard.new_token(),
        policy=GuardPolicy(),
        internal={"bridge": desktop.bridge.wsgi_app, "flaskdesk.js": script_wsgi_app},
    )
    desktop.bridge.context = app.app_context
    server.swap_app(guard)
    server.start()
    try:
        launch = urlsplit(guard.launch_url("/"))
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            connection.request("GET", f"{launch.path}?{launch.query}")
            reply = connection.getresponse()
            reply.read()
            cookie = (reply.getheader("Set-Cookie") or "").split(";", 1)[0]
        finally:
            connection.close()
        assert cookie, "the launch link gave no cookie"
        yield server.url, cookie
    finally:
        assert server.shutdown(5)


def run_node(app: Flask, tmp_path: Path, scripts: list[Path | str], done: str) -> dict[str, Any]:
    """Run page ``scripts`` (files, or code) in Node with the real flaskdesk.js against ``app``."""
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    from importlib import resources

    files = []
    for index, script in enumerate([NODE_HARNESS, *scripts, f"function done() {{ return {done}; }}"]):
        if isinstance(script, Path):
            files.append(script)
            continue
        path = tmp_path / f"node-{index}.js"
        path.write_text(script, encoding="utf-8")
        files.append(path)
    report = tmp_path / "node-report.js"
    report.write_text(NODE_REPORT, encoding="utf-8")
    shim = resources.files("flaskdesk.ui").joinpath("js/flaskdesk.js")
    with live_server(app) as (base, cookie), resources.as_file(shim) as shim_path:
        run = subprocess.run(
            ["node", str(files[0]), str(shim_path), base, cookie, *map(str, files[1:]), str(report)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert run.returncode == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


# -- inventory: every sample shown, every sample run, no pasted code ------------------------------


def test_every_sample_is_shown_and_exercised() -> None:
    shown: set[str] = set()
    for page in pages():
        for target in re.findall(r"^\s*\.\. literalinclude:: (\S+)", page.read_text(), flags=re.M):
            path = (page.parent / target).resolve()
            assert path.is_file(), f"{page.relative_to(DOCS)} includes {target}, which does not exist"
            shown.add(path.relative_to(SAMPLES).as_posix())
    tested = {path for test in globals().values() for path in getattr(test, "samples", ())}
    assert shown == sample_files(), "every file in docs/samples is shown on a page, and nothing else"
    assert tested == sample_files(), "every file in docs/samples is exercised by a test here"


def test_pages_include_code_instead_of_pasting_it() -> None:
    """Code in a page is a ``literalinclude`` of a tested sample; only shell and messages are inline."""
    for page in pages():
        for language in re.findall(r"^\s*\.\. code-block:: (\S+)", page.read_text(), flags=re.M):
            assert language in {"console", "text"}, f"{page.relative_to(DOCS)}: inline {language} code"


#: Commands on the pages that tests here run: command → the test that runs it.
RUN = {
    "flaskdesk doctor": "test_flaskdesk_doctor",
    "flaskdesk new my-app": "test_flaskdesk_new_makes_a_project_whose_tests_pass",
    "cd my-app": "test_flaskdesk_new_makes_a_project_whose_tests_pass",
    "pytest": "test_flaskdesk_new_makes_a_project_whose_tests_pass",
    "flaskdesk ci": "test_flaskdesk_ci_writes_the_workflow",
}

#: Commands on the pages that are not run here, and why.
NOT_RUN = {
    "pip install 'flaskdesk[qt]'": "installs from PyPI; this environment has the same packages installed",
    "pip install 'pyinstaller>=6.10'": "installs from PyPI; the dev extra already has PyInstaller",
    'pip install -e ".[dev]"': "installs the new project; its tests run here, in this environment",
    "python -m venv .venv && . .venv/bin/activate": "creates a virtual environment; the tests use this one",
    "python app.py": "opens a window until it is closed; tests/test_lifecycle.py runs real windows",
    "flaskdesk run --app app:app": "opens a window; tests/cli/test_run.py and test_lifecycle.py cover it",
    "flaskdesk run --dev": "opens a window in dev mode; tests/cli/test_run.py covers the command",
    "flaskdesk run --dev --browser": "serves until Ctrl+C, opens a browser; tests/cli/test_run.py drives it",
    "xvfb-run -a flaskdesk run": "opens a window under Xvfb until it is closed",
    "flask --app notes desktop": "opens a window; tests/cli/test_flask_command.py covers the command",
    "FLASKDESK_DATA_DIR=/tmp/journal-try flaskdesk run": "opens a window; FLASKDESK_DATA_DIR is run in "
    "test_data_journal_keeps_its_database_in_the_user_data_folder",
    "flaskdesk build": "runs PyInstaller for minutes; tests/freeze/test_real_build.py builds for real",
    "flaskdesk build --check": "builds and drives a window for minutes; tests/freeze/ build and check",
    "dist/Inventory/Inventory flask init-db": "needs a build; the same runtime code is run in "
    "test_building_runs_the_apps_commands_once",
    "dist/Inventory/Inventory flask routes": "needs a build; tests/freeze/test_frozen_entry.py runs "
    "flaskdesk.frozen.main(['flask', ...])",
    "sudo apt-get install xvfb xauth": "changes the system; scripts/system-deps.sh installs these packages",
    "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 libxcb-xinerama0 "
    "libnss3 libegl1 libgl1": "changes the system; the same list is checked against flaskdesk/ui/backend.py "
    "in test_the_qt_library_list_is_flaskdesks",
    "flaskdesk package": "needs a build of minutes; tests/installers/ package real builds",
    "flaskdesk package --format deb,rpm": "needs a build of minutes; tests/installers/ make .deb and .rpm",
    "python -m benchmarks.servers": "a benchmark of minutes; its output is benchmarks/results/servers.md",
}


def shell_commands() -> list[tuple[Path, str]]:
    found = []
    for page in pages():
        text = page.read_text()
        for block in re.findall(r"^\.\. code-block:: console\n\n((?:(?:   .*)?\n)+)", text, flags=re.M):
            for line in textwrap.dedent(block).splitlines():
                if line.startswith("$ "):
                    found.append((page, line[2:].strip()))
    return found


def test_shell_commands_are_run_or_explained() -> None:
    commands = {command for _page, command in shell_commands()}
    assert commands, "no console blocks found: the parser is broken"
    unexplained = commands - set(RUN) - set(NOT_RUN)
    assert not unexplained, f"run these in a test or list them in NOT_RUN with a reason: {unexplained}"
    stale = (set(RUN) | set(NOT_RUN)) - commands
    assert not stale, f"no longer on any page: {stale}"
    for test in RUN.values():
        assert test in globals(), test


def test_the_qt_library_list_is_flaskdesks() -> None:
    from flaskdesk.ui import backend

    (command,) = [c for _p, c in shell_commands() if c.startswith("sudo apt-get install libxcb-cursor0")]
    assert command.removeprefix("sudo ") == backend._QT_SYSTEM_ALL


# -- quickstart -----------------------------------------------------------------------------------


@exercises(
    "quickstart/app.py",
    "quickstart/templates/index.html",
    "quickstart/static/style.css",
    "quickstart/pyproject.toml",
)
def test_quickstart_app(sample: Callable[[str], Path], tmp_path: Path) -> None:
    from flaskdesk.config import load_project_config
    from flaskdesk.launcher import load_app
    from flaskdesk.testing.plugin import DesktopBridge

    folder = sample("quickstart")
    config = load_project_config(folder / "pyproject.toml")
    assert (config.app, config.name, config.title, config.version) == ("app:app", "hello", "Hello", "0.1.0")

    # `flaskdesk run` finds it through [tool.flaskdesk] app, as the page says.
    app, _ = load_app(None, start=folder, env={"FLASKDESK_DATA_DIR": str(tmp_path / "data")})
    desktop = app.extensions["flaskdesk"]
    client = guarded_client(app)
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Hello, desktop!</h1>" in html
    assert html.count("data-flaskdesk") == 1
    ((nonce, code),) = inline_scripts(html)
    assert nonce == page_nonce(page)

    css = client.get("/static/style.css")
    assert css.status_code == 200
    background = re.search(r"html, body \{ background: (#[0-9a-f]{6}); \}", css.get_data(as_text=True))
    assert background and background.group(1) == desktop.args.background_color == "#f6f5f0"

    assert DesktopBridge(client).add(2, 3) == 5
    script = tmp_path / "inline.js"
    script.write_text(code, encoding="utf-8")
    shown = run_node(app, tmp_path, [script], done='elements.sum && elements.sum.textContent !== ""')
    assert shown["shown"]["sum"] == "5"


def test_flaskdesk_new_makes_a_project_whose_tests_pass(tmp_path: Path) -> None:
    made = subprocess.run(
        [*FLASKDESK, "new", "my-app"], cwd=tmp_path, env=flaskdesk_env(), capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    project = tmp_path / "my-app"
    assert (project / "my_app" / "__init__.py").is_file()
    assert (project / "packaging" / "icon.png").is_file()
    assert "[tool.flaskdesk]" in (project / "pyproject.toml").read_text()
    # `pytest` inside the new project, with this environment standing in for its own venv.
    plugin_registered = any(
        ep.value == "flaskdesk.testing.plugin" for ep in importlib.metadata.entry_points(group="pytest11")
    )
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        + ([] if plugin_registered else ["-p", "flaskdesk.testing.plugin"]),
        cwd=project,
        env=flaskdesk_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert " passed" in tested.stdout


def test_flaskdesk_doctor() -> None:
    doctor = subprocess.run(
        [*FLASKDESK, "doctor"], env=flaskdesk_env(), capture_output=True, text=True, timeout=120
    )
    assert doctor.returncode in (0, 1), doctor.stderr
    assert "Qt backend" in doctor.stdout
    assert "display" in doctor.stdout
    if doctor.returncode == 1:  # no display here: the documented fix is offered
        assert "xvfb-run -a flaskdesk run" in doctor.stdout


# -- templates and static files -------------------------------------------------------------------


@exercises(
    "templates/catalog/__init__.py",
    "templates/catalog/templates/base.html",
    "templates/catalog/templates/index.html",
    "templates/catalog/templates/about.html",
    "templates/catalog/static/catalog.js",
    "templates/catalog/static/style.css",
)
def test_templates_catalog(sample: Callable[[str], Path], tmp_path: Path) -> None:
    folder = sample("templates")
    catalog = importlib.import_module("catalog")
    app = catalog.create_app()
    client = guarded_client(app)

    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<title>Products · Catalog</title>" in html
    assert html.count("data-flaskdesk") == 1
    head = html[: html.index("</head>")]
    assert "data-flaskdesk" in head  # added before </head>
    ((nonce, ready_code),) = inline_scripts(html)
    assert nonce == page_nonce(page)
    for asset in ("catalog.js", "style.css"):
        assert client.get(f"/static/{asset}").status_code == 200

    about = client.get("/about").get_data(as_text=True)
    assert about.count("data-flaskdesk") == 1
    assert about.index("data-flaskdesk") > about.index("Made with Flask")  # where the template put it

    plain = app.test_client()  # the same app as a website: the helpers render nothing
    website = plain.get("/").get_data(as_text=True)
    assert '<script nonce="">' in website and "data-flaskdesk" not in website
    assert "<script" not in plain.get("/about").get_data(as_text=True)

    ready = tmp_path / "ready.js"
    ready.write_text(ready_code, encoding="utf-8")
    result = run_node(
        app,
        tmp_path,
        [folder / "catalog" / "static" / "catalog.js", ready, "elements.refresh.listeners.click();"],
        done="reloaded > 0",
    )
    assert result["reloaded"] == 1 and result["ready"] == "yes"


# -- data -------------------------------------------------------------------------------------------


@exercises("data/journal/__init__.py", "data/pyproject.toml")
def test_data_journal_keeps_its_database_in_the_user_data_folder(
    sample: Callable[[str], Path], tmp_path: Path
) -> None:
    pytest.importorskip("flask_sqlalchemy")
    from flaskdesk.launcher import load_app

    folder = sample("data")
    user_data = tmp_path / "journal-try"
    app, _ = load_app(None, start=folder, env={"FLASKDESK_DATA_DIR": str(user_data)})
    instance = user_data / "Journal" / "data" / "instance"
    assert Path(app.instance_path) == instance
    try:
        client = app.test_client()
        assert client.post("/entries", data={"text": "Dear diary"}).get_json() == {"entries": 1}
        assert client.post("/entries", data={"text": "Again"}).get_json() == {"entries": 2}
    finally:
        with app.app_context():
            sys.modules["journal"].db.engine.dispose()
    assert (instance / "journal.sqlite").stat().st_size > 0


def test_the_data_folders_are_where_the_page_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flaskdesk.app import logs
    from flaskdesk.app.paths import AppPaths
    from flaskdesk.frozen import STATE_FILE

    if not sys.platform.startswith("linux"):
        pytest.skip("the Linux column")
    monkeypatch.setenv("HOME", str(tmp_path))
    for variable in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(variable, raising=False)
    paths = AppPaths.for_app("Journal")
    assert paths.data_dir == tmp_path / ".local/share/Journal"
    assert paths.config_dir == tmp_path / ".config/Journal"
    assert paths.log_dir == tmp_path / ".local/state/Journal/log"
    assert (paths.instance_dir.name, paths.web_storage_dir.name, STATE_FILE) == (
        "instance",
        "webview",
        "flaskdesk-state.json",
    )
    assert (logs.MAX_BYTES, logs.BACKUP_COUNT) == (1024 * 1024, 3)
    import platformdirs.macos

    mac = platformdirs.macos.MacOS(appname="Journal", appauthor=False)
    assert mac.user_data_dir.endswith("/Library/Application Support/Journal")
    assert mac.user_log_dir.endswith("/Library/Logs/Journal")


# -- desktop features -------------------------------------------------------------------------------


class FakeDialogs:
    """The backend boundary of ``desktop.dialogs``: answers from a list, records what was asked."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.asked: list[Any] = []

    def file_dialog(self, request: Any) -> list[str] | None:
        self.asked.append(request)
        answer: list[str] | None = self.answers.pop(0)
        return answer

    def message_dialog(self, kind: Any, title: str, message: str) -> bool:
        self.asked.append((kind.value, title, message))
        return bool(self.answers.pop(0))


class FakeNotifications:
    """The boundary of ``desktop.notify``: records what would be shown, or refuses like a bare machine."""

    def __init__(self, refuse: str | None = None) -> None:
        self.shown: list[tuple[str, str, float | None]] = []
        self.refuse = refuse

    def show(self, title: str, body: str = "", *, icon: Any = None, timeout: float | None = None) -> None:
        from flaskdesk import NotificationError

        if self.refuse is not None:
            raise NotificationError(self.refuse)
        self.shown.append((title, body, timeout))


class FakeWindows:
    """The backend boundary of ``open_window`` and the dialogs (a :class:`WindowManager`)."""

    def __init__(self, dialogs: FakeDialogs) -> None:
        self.dialogs = dialogs
        self.opened: list[tuple[str, Any, str | None]] = []

    def open_window(self, path: str, options: Any, *, key: str | None = None) -> None:
        self.opened.append((path, options, key))

    def bring_to_front(self) -> None:
        self.opened.append(("front", None, None))

    def dialog_host(self) -> FakeDialogs:
        return self.dialogs

    def close_all(self) -> None:
        self.opened.append(("closed", None, None))


@exercises(
    "desktop/editor.py",
    "desktop/templates/editor.html",
    "desktop/templates/splash.html",
    "desktop/pyproject.toml",
)
def test_desktop_features_editor(
    sample: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flaskdesk.config import load_project_config
    from flaskdesk.testing.plugin import DesktopBridge
    from flaskdesk.ui.window import WindowManager

    monkeypatch.setenv("FLASKDESK_DATA_DIR", str(tmp_path / "data"))
    folder = sample("desktop")
    config = load_project_config(folder / "pyproject.toml")
    assert (config.app, config.name, config.single_instance) == ("editor:app", "Editor", True)
    editor = importlib.import_module("editor")
    app, desktop = editor.app, editor.desktop
    document = tmp_path / "notes.txt"
    document.write_text("hello", encoding="utf-8")
    copy = tmp_path / "copy.txt"
    dialogs = FakeDialogs([str(document)], None, [str(copy)], True)
    windows = FakeWindows(dialogs)
    assert isinstance(windows, WindowManager)
    desktop._windows = windows
    notifications = desktop._notifications = FakeNotifications()
    client = guarded_client(app)

    # A dialog from an exposed function; the choice lands in the settings file.
    bridge = DesktopBridge(client)
    assert bridge.open_document() == {"path": str(document), "text": "hello"}
    assert bridge.open_document() is None  # cancelled
    assert dialogs.asked[0].file_types == (("Text", ("*.txt", "*.md")),)
    settings_file = tmp_path / "data" / "Editor" / "config" / "settings.json"
    assert json.loads(settings_file.read_text()) == {"recent": [str(document)]}

    # The menu bar: File (the app's), the standard Edit, Help; actions run in the app context.
    menus = desktop._menu_bar()
    assert [menu.title for menu in menus] == ["File", "Edit", "Help"]
    file_menu = {item.label: item for item in menus[0].items}
    assert file_menu["Save a copy…"].shortcut == "CmdOrCtrl+Shift+S"
    assert file_menu["Recent files"].route == "/recent"
    with app.app_context():
        file_menu["Save a copy…"].action()
        {item.label: item for item in menus[2].items}["About Editor"].action()
    assert copy.read_text() == str(document)
    assert notifications.shown == [("Copy saved", str(copy), None)]
    assert dialogs.asked[-1] == ("info", "About", "Editor 1.0, made with Flask")

    # The tray icon: the same action, and a link; the window's title as its tooltip.
    tray = desktop._tray(app, desktop.launch_settings(app))
    assert tray is not None and tray.tooltip == "Editor"
    assert [(item.label, item.action, item.route) for item in tray.items] == [
        ("Save a copy…", file_menu["Save a copy…"].action, None),
        ("Recent files", None, "/recent"),
    ]

    # A second launch with a file: remembered (and the window came to the front).
    desktop._second_instance(app, ["editor", "/home/me/todo.md"], "/home/me")
    assert client.get("/recent").get_json() == {"recent": ["/home/me/todo.md", str(document)]}
    assert ("front", None, None) in windows.opened

    # A download, a new window from a view, the splash page.
    export = client.get("/recent.csv")
    assert export.headers["Content-Disposition"] == "attachment; filename=recent.csv"
    assert client.post("/settings/open", headers={"Sec-Fetch-Site": "same-origin"}).get_json() == {
        "opened": True
    }
    path, options, key = windows.opened[-1]
    assert (path, options.title, options.width, options.height, key) == (
        "/recent",
        "Recent files",
        480,
        360,
        "window:/recent",
    )
    assert "Opening Editor…" in (desktop._splash_html(app) or "")
    assert 'src="/static/editor.js"' in client.get("/").get_data(as_text=True)


STATUS_SHOWN = 'elements.status !== undefined && elements.status.textContent !== ""'


@exercises("desktop/static/editor.js")
def test_desktop_features_from_javascript(
    sample: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setenv("FLASKDESK_DATA_DIR", str(tmp_path / "data"))
    folder = sample("desktop")
    editor = importlib.import_module("editor")
    dialogs = FakeDialogs(["/home/me/a.md"], None, True)
    windows = FakeWindows(dialogs)
    editor.desktop._windows = windows
    script = folder / "static" / "editor.js"

    picked = run_node(
        editor.app,
        tmp_path,
        [script, "elements.open.listeners.click();"],
        done=STATUS_SHOWN,
    )
    assert picked["shown"]["status"] == "Picked /home/me/a.md"
    cancelled = run_node(
        editor.app,
        tmp_path,
        [script, "elements.open.listeners.click();"],
        done=STATUS_SHOWN,
    )
    assert cancelled["shown"]["status"] == "Cancelled"
    forgotten = run_node(
        editor.app,
        tmp_path,
        [script, "elements.clear.listeners.click();"],
        done=STATUS_SHOWN,
    )
    assert forgotten["shown"]["status"] == "Forgotten"
    assert dialogs.asked[-1] == ("question", "Editor", "Forget the recent files?")
    editor.desktop._notifications = notifications = FakeNotifications()
    reminded = run_node(
        editor.app, tmp_path, [script, "elements.remind.listeners.click();"], done=STATUS_SHOWN
    )
    assert reminded["shown"]["status"] == "Reminder shown"
    assert notifications.shown == [("Editor", "Remember to save your notes", 10)]
    editor.desktop._notifications = FakeNotifications(refuse="no notification server is running")
    refused = run_node(
        editor.app, tmp_path, [script, "elements.remind.listeners.click();"], done=STATUS_SHOWN
    )
    assert refused["shown"]["status"] == "no notification server is running"
    run_node(editor.app, tmp_path, [script, "elements.recent.listeners.click();"], done="true")
    deadline = time.monotonic() + 10
    while not windows.opened and time.monotonic() < deadline:
        time.sleep(0.05)
    ((path, options, _key),) = windows.opened
    assert (path, options.title, options.width, options.height) == ("/recent", "Recent files", 480, 360)


# -- the bridge -------------------------------------------------------------------------------------


@exercises("bridge/files.py", "bridge/test_files.py")
def test_bridge_functions(sample: Callable[[str], Path], tmp_path: Path) -> None:
    from flaskdesk import BridgeError
    from flaskdesk.testing.plugin import DesktopBridge

    folder = sample("bridge")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    run = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
            *("-c", str(tmp_path / "pytest.ini"), "--rootdir", str(folder), str(folder / "test_files.py")),
        ],
        cwd=folder,
        env=flaskdesk_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0 and "3 passed" in run.stdout, run.stdout + run.stderr

    app = importlib.import_module("files").app
    assert app.extensions["flaskdesk"].bridge.names() == ["add", "findNote", "rename"]
    bridge = DesktopBridge(guarded_client(app))  # through the HTTP endpoint, in the app context
    assert bridge.findNote(1) == {"id": 1, "title": "Shopping"}
    assert bridge.call("rename", ["draft.txt", "final.txt"]) == "draft.txt → final.txt in files"
    with pytest.raises(BridgeError) as caught:
        bridge.call("rename", ["a.txt", "final.txt"])
    assert (caught.value.name, caught.value.message) == ("FileExistsError", "final.txt exists")
    assert bridge.call("rename", ["a.txt", "final.txt"], {"overwrite": True}).startswith("a.txt")


@exercises("bridge/static/files.js")
def test_bridge_from_javascript(sample: Callable[[str], Path], tmp_path: Path) -> None:
    folder = sample("bridge")
    app = importlib.import_module("files").app
    calls = "\n".join(
        [
            "showTotal();",
            "publish();",
            "showNote(1).then(() => showNote(99)).then(() => { globalThis.noted = true; });",
        ]
    )
    result = run_node(
        app,
        tmp_path,
        [folder / "static" / "files.js", calls],
        done='globalThis.noted === true && elements.total.textContent !== "" '
        '&& elements.status.textContent !== ""',
    )
    assert result["shown"] == {
        "total": "5",
        "note": "NotFound: there is no note 99",
        "status": "draft.txt → final.txt in files",
    }


# -- security ---------------------------------------------------------------------------------------


@exercises("security/pyproject.toml", "security/maps.py")
def test_security_policy_can_be_changed(sample: Callable[[str], Path]) -> None:
    from flaskdesk.config import load_project_config

    folder = sample("security")
    config = load_project_config(folder / "pyproject.toml")
    assert config.csp and "'nonce-{nonce}'" in config.csp
    app = importlib.import_module("maps").app
    client = guarded_client(app)  # reads [tool.flaskdesk] next to maps.py, as a launch does

    elsewhere = client.get("/nothing-here")
    nonce = page_nonce(elsewhere)
    assert elsewhere.headers["Content-Security-Policy"] == config.csp.replace("{nonce}", nonce)

    tiles = client.get("/tiles")
    assert tiles.status_code == 200
    assert tiles.headers["Content-Security-Policy"] == (
        "default-src 'self'; img-src 'self' https://tile.openstreetmap.org; object-src 'none'"
    )
    assert tiles.headers["X-Frame-Options"] == "DENY"  # the guard's other headers stay


def test_the_default_policy_on_the_page_is_what_the_guard_sends() -> None:
    from flaskdesk import Desktop
    from flaskdesk.app.csp import NONCE_PLACEHOLDER, default_policy

    app = Flask("policy_check")
    Desktop(app)
    app.add_url_rule("/", "index", lambda: "<!doctype html><title>x</title>")
    response = guarded_client(app).get("/")
    nonce = page_nonce(response)
    assert response.headers["Content-Security-Policy"] == default_policy(NONCE_PLACEHOLDER).replace(
        NONCE_PLACEHOLDER, nonce
    )
    assert "script-src 'self' 'unsafe-inline'" in default_policy("x", dev=True)


# -- building ---------------------------------------------------------------------------------------


@exercises("building/inventory.py", "building/pyproject.toml", "building/data/starter-items.csv")
def test_building_runs_the_apps_commands_once(
    sample: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    from flaskdesk.config import load_project_config
    from flaskdesk.freeze.include import resolve_includes
    from flaskdesk.freeze.spec import DataEntry, executable_name
    from flaskdesk.frozen import Step, run_flask_command, run_startup_steps
    from flaskdesk.launcher import load_app

    folder = sample("building")
    config = load_project_config(folder / "pyproject.toml")
    assert (config.first_run, config.on_upgrade, config.version) == (("init-db",), ("upgrade-db",), "1.1.0")
    assert (config.exclude, config.locales) == (("tkinter",), ("en", "de"))
    assert executable_name(config.name or "") == "Inventory"  # dist/Inventory/Inventory
    starter = folder / "data" / "starter-items.csv"  # include: bundled at data/starter-items.csv
    assert resolve_includes(config.include or (), folder) == (DataEntry(starter, "data"),)

    user_data = tmp_path / "users"
    app, project = load_app(None, start=folder, env={"FLASKDESK_DATA_DIR": str(user_data)})
    data_dir = user_data / "Inventory" / "data"
    data_dir.mkdir(parents=True)
    database = Path(app.instance_path) / "inventory.sqlite"

    assert run_startup_steps(app, project, data_dir, created=True, version="1.1.0") == [
        Step("first-run", "init-db")
    ]
    assert run_startup_steps(app, project, data_dir, created=False, version="1.1.0") == []
    assert run_startup_steps(app, project, data_dir, created=False, version="1.2.0") == [
        Step("on-upgrade", "upgrade-db")
    ]
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert [row[1] for row in db.execute("PRAGMA table_info(item)")] == ["id", "name", "quantity"]
        # seeded from the included CSV, found through resources.project_path from source
        assert [row[0] for row in db.execute("SELECT name FROM item")] == ["Paper (A4)", "Pens", "Staples"]

    capsys.readouterr()
    assert run_flask_command(["init-db"], app=app) == 0  # what `NAME flask init-db` runs
    assert capsys.readouterr().out == "Database ready.\n"


# -- packaging --------------------------------------------------------------------------------------


def test_flaskdesk_ci_writes_the_workflow(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "hello"\nversion = "1.0.0"\n\n[tool.flaskdesk]\napp = "app:app"\nname = "hello"\n'
    )
    run = subprocess.run(
        [*FLASKDESK, "ci"], cwd=tmp_path, env=flaskdesk_env(), capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    workflow = (tmp_path / ".github" / "workflows" / "release.yml").read_text()
    for step in ("tags:", "flaskdesk build --check", "flaskdesk package", "upload-artifact"):
        assert step in workflow, step


def test_every_signing_variable_is_on_the_page() -> None:
    source = (ROOT / "src" / "flaskdesk" / "packaging" / "signing.py").read_text()
    read = set(re.findall(r"[\"'](FLASKDESK_[A-Z0-9_]+)[\"']", source))
    shown = {variable for variable, _effect in config_reference.signing_variables()}
    assert read and read <= shown | {"FLASKDESK_SIGNTOOL_PASSWORD"}, read - shown


# -- troubleshooting: the quoted messages are the real ones --------------------------------------


def documented_errors() -> dict[str, str]:
    text = (DOCS / "guide" / "troubleshooting.rst").read_text()
    found = re.findall(
        r"^\.\. flaskdesk-error: (\S+)\n\n\.\. code-block:: text\n\n((?:(?:   .*)?\n)+)", text, flags=re.M
    )
    errors = {name: textwrap.dedent(block).strip() for name, block in found}
    assert len(errors) == len(found) == text.count(".. flaskdesk-error:"), "a malformed error block"
    return errors


def matches(documented: str, actual: str) -> bool:
    """Whether ``actual`` is the documented message, where ``…`` stands for any text."""

    def words(text: str) -> str:
        return " ".join(text.split())

    pattern = ".+?".join(re.escape(part) for part in words(documented).split(ELLIPSIS))
    return re.fullmatch(pattern, words(actual), flags=re.S) is not None


def cli_error(args: list[str], cwd: Path) -> str:
    run = subprocess.run(
        [*FLASKDESK, *args], cwd=cwd, env=flaskdesk_env(), capture_output=True, text=True, timeout=120
    )
    assert run.returncode != 0
    return run.stderr.strip()


def load_error(tmp_path: Path, target: str | None, module: str | None = None) -> str:
    from flaskdesk.errors import FlaskdeskError
    from flaskdesk.launcher import load_app

    if module is not None:
        (tmp_path / "journal").mkdir()
        (tmp_path / "journal" / "__init__.py").write_text(module, encoding="utf-8")
    with pytest.raises(FlaskdeskError) as caught:
        load_app(target, start=tmp_path, env={})
    return str(caught.value)


def error_run_no_display(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return cli_error(["run"], tmp_path)


def error_backend_no_display(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    pytest.importorskip("qtpy.QtWebEngineWidgets")
    from flaskdesk.errors import BackendError
    from flaskdesk.ui.backend import select_backend

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(BackendError) as caught:
        select_backend("qt")
    return str(caught.value)


def error_qt_xcb_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    pytest.importorskip("qtpy.QtWebEngineWidgets")
    from flaskdesk.errors import BackendError
    from flaskdesk.ui import backend

    def missing(path: str, *args: Any, **kwargs: Any) -> Any:
        raise OSError("libxcb-cursor.so.0: cannot open shared object file: No such file or directory")

    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setattr(backend.ctypes, "CDLL", missing)
    with pytest.raises(BackendError) as caught:
        backend.select_backend("qt")
    return str(caught.value)


def error_gtk_typelib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    gi = pytest.importorskip("gi")
    from flaskdesk.errors import BackendError
    from flaskdesk.ui.backend import select_backend

    try:
        gi.require_version("Gtk", "3.0")
    except ValueError:
        pytest.skip("GTK 3 itself is missing here")
    real = gi.require_version

    def require_version(namespace: str, version: str) -> None:
        if namespace == "WebKit2":  # what gi says when no WebKit2 typelib is installed
            raise ValueError(f"Namespace {namespace} not available")
        real(namespace, version)

    monkeypatch.setattr(gi, "require_version", require_version)
    with pytest.raises(BackendError) as caught:
        select_backend("gtk")
    return str(caught.value)


def error_unknown_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from flaskdesk.errors import BackendError
    from flaskdesk.ui.backend import select_backend

    if not sys.platform.startswith("linux"):
        pytest.skip("the message lists Linux's backends")
    monkeypatch.setenv("FLASKDESK_GUI", "qtt")
    with pytest.raises(BackendError) as caught:
        select_backend(None)
    return str(caught.value)


def error_no_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return load_error(tmp_path, None)


def error_no_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return load_error(tmp_path, "journal:create_app()")


def error_module_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    if importlib.util.find_spec("flask_babel") is not None:
        pytest.skip("flask_babel is installed here")
    return load_error(tmp_path, "journal:create_app()", "import flask_babel\n")


def error_factory_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    factory = "def create_app():\n    raise KeyError('SECRET_KEY')\n"
    return load_error(tmp_path, "journal:create_app()", factory)


def error_config_unknown_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "pyproject.toml").write_text('[tool.flaskdesk]\nbackground_color = "#000"\n')
    return cli_error(["build"], tmp_path)


def error_config_bad_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "pyproject.toml").write_text('[tool.flaskdesk]\nwidth = "1000"\n')
    return cli_error(["build"], tmp_path)


def error_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from flaskdesk.app.paths import AppPaths
    from flaskdesk.errors import DataDirError

    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with pytest.raises(DataDirError) as caught:
        AppPaths.for_app("Journal", data_root=blocked).ensure()
    return str(caught.value)


def error_instance_moved_late(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    flask_sqlalchemy = pytest.importorskip("flask_sqlalchemy")
    from flaskdesk import Desktop

    app = Flask("journal", root_path=str(tmp_path))
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    flask_sqlalchemy.SQLAlchemy().init_app(app)
    desktop = Desktop(app)
    monkeypatch.setenv("FLASKDESK_DATA_DIR", str(tmp_path / "data"))
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("flaskdesk").addHandler(handler)
    try:
        assert desktop.relocate_instance_path(app)
    finally:
        logging.getLogger("flaskdesk").removeHandler(handler)
    return "\n".join(record.getMessage() for record in records)


def error_forbidden_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from werkzeug.test import Client

    from flaskdesk.app.guard import Guard

    app = Flask("forbidden_check")
    app.add_url_rule("/", "index", lambda: "secret")
    guard = Guard(app, port=4242, token=Guard.new_token())
    response = Client(guard).get("/", headers={"Host": "127.0.0.1:4242"})
    assert response.status_code == 403
    return "\n\n".join(re.findall(r"<(?:h1|p)>(.*?)</(?:h1|p)>", response.get_data(as_text=True)))


def bridge_error(name: str, args: list[Any]) -> str:
    from flaskdesk import BridgeError, Desktop

    desktop = Desktop()

    @desktop.expose
    def add(a: int, b: int) -> int:
        return a + b

    with pytest.raises(BridgeError) as caught:
        desktop.bridge.call(name, args, {})
    return f"{caught.value.name}: {caught.value.message}"


def error_bridge_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return bridge_error("sav", [])


def error_bridge_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return bridge_error("add", ["2", 3])


def error_notification_no_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from flaskdesk import Desktop, NotificationError

    if not sys.platform.startswith("linux"):
        pytest.skip("notifications go through D-Bus on Linux")
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    desktop = Desktop(Flask("journal", root_path=str(tmp_path)), title="Journal")
    with pytest.raises(NotificationError) as caught:
        desktop.notify("Saved")
    return str(caught.value)


def error_notification_no_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The reply of a bus without one (tests/ui/test_notifications.py asks a real ``dbus-daemon``)."""
    from flaskdesk.ui.notifications import dbus_failure

    detail = "The name org.freedesktop.Notifications was not provided by any .service files"
    return dbus_failure("org.freedesktop.DBus.Error.ServiceUnknown", detail, "unix:path=/run/user/1000/bus")


def error_no_app_to_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return cli_error(["build"], tmp_path)


def error_folder_outside_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from flaskdesk.freeze.collect import assets_from_report

    report = {
        "sys_path": ["/home/me/notes"],
        "stdlib": [],
        "owners": {},
        "modules": [],
        "import_name": "notes",
        "folders": [{"kind": "templates", "owner": "notes", "path": "/home/me/shared/templates"}],
    }
    (warning,) = assets_from_report(report, Path("/home/me/notes")).warnings
    return f"Warning: {warning}"  # as `flaskdesk build` prints it (flaskdesk/cli/build.py)


def error_template_folder_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from flaskdesk.errors import ConfigError
    from flaskdesk.launch import check_template_folder

    app = Flask("notes", template_folder="views", root_path=str(tmp_path / "notes"))
    with pytest.raises(ConfigError) as caught:
        check_template_folder(app)
    return str(caught.value)


#: Messages checked against the text of the module that prints them (they need a real build).
FROM_SOURCE = {"gpl-warning": "src/flaskdesk/cli/build.py"}

#: Messages another program prints, quoted so that users can search for them.
OTHER_PROGRAMS = {
    "chromium-root": "Chromium's, inside Qt WebEngine; test_flaskdesk_prevents_the_root_sandbox_error "
    "checks flaskdesk's side",
    "csp-inline-script": "the web engine's console",
    "evaluate-js": "the web engine's, through pywebview (measured in SECURITY.md)",
    "template-not-found": "Jinja's exception",
}


def producers() -> dict[str, Callable[[Path, pytest.MonkeyPatch], str]]:
    return {
        name.removeprefix("error_").replace("_", "-"): value
        for name, value in globals().items()
        if name.startswith("error_") and callable(value)
    }


def test_every_quoted_message_is_checked() -> None:
    documented = set(documented_errors())
    checked = set(producers()) | set(FROM_SOURCE) | set(OTHER_PROGRAMS)
    assert documented == checked
    assert not (set(producers()) & (set(FROM_SOURCE) | set(OTHER_PROGRAMS)))


@pytest.mark.parametrize("name", sorted(producers()))
def test_quoted_message_is_what_flaskdesk_says(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    try:
        actual = producers()[name](tmp_path, monkeypatch)
    finally:
        for module in set(sys.modules) - before:
            if (getattr(sys.modules.get(module), "__file__", None) or "").startswith(str(tmp_path)):
                del sys.modules[module]
    documented = documented_errors()[name]
    assert matches(documented, actual), f"\nthe page says:\n{documented}\nflaskdesk says:\n{actual}"


def string_templates(path: Path) -> list[str]:
    """Every string literal of a module; an f-string's fields become ``\\0``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            found.append(
                "".join(v.value if isinstance(v, ast.Constant) else "\0" for v in node.values)  # type: ignore[misc]
            )
    return found


@pytest.mark.parametrize("name", sorted(FROM_SOURCE))
def test_quoted_message_is_in_the_source(name: str) -> None:
    templates = string_templates(ROOT / FROM_SOURCE[name])
    for part in " ".join(documented_errors()[name].split()).split(ELLIPSIS):
        assert any(part in template for template in templates), f"{part!r} is not in {FROM_SOURCE[name]}"


def test_flaskdesk_prevents_the_root_sandbox_error() -> None:
    from flaskdesk.ui._qt import chromium_environment

    plan = chromium_environment({"QTWEBENGINE_CHROMIUM_FLAGS": "--lang=de"}, is_root=True)
    assert plan.env == {"QTWEBENGINE_CHROMIUM_FLAGS": "--lang=de --no-sandbox --no-zygote"}
    sandbox_off_by_user = chromium_environment({"QTWEBENGINE_DISABLE_SANDBOX": "1"}, is_root=True)
    assert "--no-sandbox" not in str(sandbox_off_by_user.env)
    assert "--no-sandbox" not in str(chromium_environment({}, is_root=False).env)


# -- the configuration reference ------------------------------------------------------------------


def test_the_configuration_reference_covers_exactly_the_keys() -> None:
    from flaskdesk import config

    config_reference.check_key_docs()  # raises on a key without words, or words without a key
    for key, doc in config_keys.KEY_DOCS.items():
        table = tomllib.loads(doc.example)
        assert list(table) == [key], f"the example for {key} sets {list(table)}"
        parsed = config.project_config_from_dict(table, source=f"the example for {key}")
        assert getattr(parsed, config._KEYS[key].attr) is not None


def test_coming_keys_are_unused_and_the_others_are_used() -> None:
    from flaskdesk import config

    sources = [
        path.read_text(encoding="utf-8")
        for path in (ROOT / "src" / "flaskdesk").rglob("*.py")
        if path.name != "config.py"
    ]
    for key, doc in config_keys.KEY_DOCS.items():
        attr = config._KEYS[key].attr
        # an attribute read (settings.transport), not a string that happens to contain ".transport"
        used = any(re.search(rf"(?<![\"'])\b\w+\.{attr}\b", text) for text in sources)
        if doc.status == "coming":
            assert not used, f"[tool.flaskdesk] {key} is used now: update docs/_ext/config_keys.py"
        else:
            assert used, f"nothing reads [tool.flaskdesk] {key} any more: update docs/_ext/config_keys.py"


def test_other_environment_variables_on_the_page_are_read_by_flaskdesk() -> None:
    text = (DOCS / "reference" / "config.rst").read_text()
    listed = re.findall(r"^``([A-Z][A-Z0-9_]+)``$", text, flags=re.M)
    assert listed
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src" / "flaskdesk").rglob("*.py"))
    for variable in listed:
        assert variable in sources, variable


def test_the_generated_reference_renders() -> None:
    lines = config_reference.config_key_lines()
    for key in config_keys.KEY_DOCS:
        assert f".. confval:: {key}" in lines
    assert any("FLASKDESK_DATA_DIR" in line for line in config_reference.env_var_lines())


# -- Markdown pages written elsewhere --------------------------------------------------------------


def fenced_blocks(path: Path) -> list[tuple[str, str]]:
    """``(language, code)`` of each fenced code block."""
    return [
        (language, code)
        for language, code in re.findall(r"^```(\w*)\n(.*?)^```", path.read_text(), flags=re.M | re.S)
    ]


MARKDOWN_PAGES = {"SECURITY.md": ROOT / "SECURITY.md", **{p.name: p for p in DOCS.glob("*.md")}}

#: (page, first line of the block) → the test here that runs it.
MARKDOWN_RUN = {
    ("testing.md", "[tool.flaskdesk]"): "test_testing_page_in_process_samples",
    ("testing.md", "import pytest"): "test_testing_page_in_process_samples",
    ("testing.md", "def test_home_page(desktop_client):"): "test_testing_page_in_process_samples",
}

#: (page, first line of the block) → why it is not run here.
MARKDOWN_NOT_RUN = {
    (
        "architecture.md",
        'server = Server(wsgi_app, host="127.0.0.1", port=0, threads=8)   # binds NOW, '
        "in the caller's thread; ServerError on failure",
    ): "a contract sketch for contributors; tests/app/test_server.py tests that contract",
    ("testing.md", "import json"): "drives a real window; tests/testing/test_window.py runs desktop_window",
    (
        "testing.md",
        "E   flaskdesk.testing.driver.WaitTimeout: wait_for('.flash') timed out after 10 s: no "
        "element matches that selector.",
    ): "sample output, not code",
    (
        "testing.md",
        "import sys",
    ): "a fixture override for window tests; tests/testing/ covers the command fixture",
    (
        "testing.md",
        "def test_the_build_starts(frozen_app):",
    ): "needs a build; tests/freeze/ drives built apps",
    ("testing.md", "$ flaskdesk build && pytest -m window --flaskdesk-frozen dist/notes/notes"): "builds "
    "for minutes",
    ("testing.md", "from flaskdesk.testing.driver import AppDriver"): "needs a build; tests/testing/"
    "test_driver.py drives AppDriver",
    ("testing.md", '→ {"id": 1, "cmd": "hello", "args": {"secret": "..."}}'): "a protocol "
    "transcript; tests/test_automation.py speaks it",
    (
        "testing.md",
        "channel = automation.claim(os.environ)        # first thing, before the app is imported",
    ): "a wiring sketch for launcher authors; flaskdesk's launchers are tested in tests/",
}


def first_line(code: str) -> str:
    """A block's first line, with runs of spaces made one (so reformatting a comment changes nothing)."""
    return " ".join(code.strip().splitlines()[0].split()) if code.strip() else ""


def markdown_blocks() -> list[tuple[str, str, str]]:
    return [
        (name, language, first_line(code))
        for name, path in sorted(MARKDOWN_PAGES.items())
        for language, code in fenced_blocks(path)
    ]


def test_markdown_code_blocks_are_run_or_explained() -> None:
    blocks = {(name, first) for name, _language, first in markdown_blocks()}
    run = {(name, " ".join(first.split())) for name, first in MARKDOWN_RUN}
    not_run = {(name, " ".join(first.split())) for name, first in MARKDOWN_NOT_RUN}
    unexplained = blocks - run - not_run
    assert not unexplained, f"run these in a test or list them in MARKDOWN_NOT_RUN: {sorted(unexplained)}"
    stale = (run | not_run) - blocks
    assert not stale, f"no longer in the Markdown pages: {sorted(stale)}"


def block_of_testing_page(first: str, *, containing: str = "") -> str:
    for _language, code in fenced_blocks(DOCS / "testing.md"):
        if first_line(code) == first and containing in code:
            return code
    raise AssertionError(f"docs/testing.md has no block starting with {first!r}")


def test_testing_page_in_process_samples(tmp_path: Path) -> None:
    """docs/testing.md's conftest override, desktop_client and desktop_bridge samples, on the notes app."""
    from flaskdesk.config import project_config_from_dict

    pytest.importorskip("notes")
    toml = tomllib.loads(block_of_testing_page("[tool.flaskdesk]"))
    assert project_config_from_dict(toml["tool"]["flaskdesk"], source="docs/testing.md").app
    assert toml["tool"]["pytest"]["ini_options"]["flaskdesk_app"]

    (tmp_path / "conftest.py").write_text(
        block_of_testing_page("import pytest", containing="def desktop_app")
    )
    (tmp_path / "test_client.py").write_text(block_of_testing_page("def test_home_page(desktop_client):"))
    (tmp_path / "test_bridge.py").write_text(
        block_of_testing_page("import pytest", containing="desktop_bridge")
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    plugin_registered = any(
        ep.value == "flaskdesk.testing.plugin" for ep in importlib.metadata.entry_points(group="pytest11")
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        + ([] if plugin_registered else ["-p", "flaskdesk.testing.plugin"]),
        cwd=tmp_path,
        env=flaskdesk_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout, run.stdout


# -- the site ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_sphinx_builds_the_site_without_warnings(tmp_path: Path) -> None:
    missing = [
        m for m in ("sphinx", "myst_parser", "furo", "sphinx_click") if importlib.util.find_spec(m) is None
    ]
    if missing:  # Sphinx runs in a child process: it is only looked for here, not imported
        pytest.skip(f"{', '.join(missing)} not installed: pip install -e '.[docs]'")
    out = tmp_path / "html"
    build = subprocess.run(
        [
            *(sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"),
            *("-d", str(tmp_path / "doctrees"), str(DOCS), str(out)),
        ],
        env=flaskdesk_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    config_page = (out / "reference" / "config.html").read_text()
    for key in config_keys.KEY_DOCS:
        assert f'id="confval-{key}"' in config_page, key
    assert "Run the Flask app in a native desktop window" in (out / "reference" / "cli.html").read_text()
    for results in (ROOT / "benchmarks" / "results").glob("*.md"):
        title = results.read_text().splitlines()[0].lstrip("# ").strip()
        assert title in (out / "benchmarks.html").read_text(), title
    assert "Reporting a vulnerability" in (out / "security-policy.html").read_text()
