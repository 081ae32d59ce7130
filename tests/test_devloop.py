"""The dev loop: classifying changes, watching files, and swapping the app in place."""

from __future__ import annotations

import shutil
import sys
import textwrap
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import Client

from flaskdesk.devloop import (
    DevReloader,
    ErrorApp,
    LiveApp,
    PollingSource,
    WatchPlan,
    batch_kind,
    default_classifier,
    is_ignored_dir,
    is_noise,
    loader_for,
    plan_for_app,
    project_modules,
    purge_modules,
    refresh_url,
    reload_error_page,
)

FIXTURE = Path(__file__).parent / "fixtures" / "devloop_app"


# --- classifying ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "noise"),
    [
        ("index.html", False),
        (".index.html.swp", True),
        ("index.html~", True),
        ("#index.html#", True),
        (".#index.html", True),
        ("4913", True),
        ("views.cpython-311.pyc", True),
        ("views.py___jb_tmp___", True),
        ("views.py", False),
    ],
)
def test_editor_noise(name: str, noise: bool) -> None:
    assert is_noise(Path("/p/pkg") / name) is noise


def test_ignored_dirs(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("")
    for name in (".git", ".venv", "__pycache__", "node_modules", "build", "dist", "x.egg-info"):
        assert is_ignored_dir(tmp_path / name)
    assert is_ignored_dir(venv)
    assert not is_ignored_dir(tmp_path / "templates")


def test_watch_plan_classifies_by_folder() -> None:
    root = Path("/p/pkg")
    plan = WatchPlan(
        roots=(root,),
        source_dirs=(root,),
        template_dirs=(root / "templates",),
        static_dirs=(root / "static",),
        extra=(Path("/p/data/config.json"),),
    )
    assert plan.classify(root / "views.py") == "python"
    assert plan.classify(root / "sub" / "models.py") == "python"
    assert plan.classify(root / "templates" / "index.html") == "template"
    assert plan.classify(root / "templates" / "email.txt") == "template"
    assert plan.classify(root / "static" / "app.css") == "style"
    assert plan.classify(root / "static" / "app.js") == "template"
    assert plan.classify(root / "static" / "logo.png") == "template"
    assert plan.classify(root / "notes.db") is None
    assert plan.classify(root / "templates" / ".index.html.swp") is None
    assert plan.classify(Path("/p/data/config.json")) == "python"
    assert plan.classify(Path("/elsewhere/x.py")) is None


def test_default_classifier_looks_at_folder_names_below_the_root() -> None:
    classify = default_classifier([Path("/home/u/static/proj")])  # "static" above the root is ignored
    assert classify(Path("/home/u/static/proj/app.py")) == "python"
    assert classify(Path("/home/u/static/proj/pkg/templates/a.txt")) == "template"
    assert classify(Path("/home/u/static/proj/pkg/static/a.css")) == "style"
    assert classify(Path("/home/u/static/proj/pkg/page.html")) == "template"
    assert classify(Path("/home/u/static/proj/data.db")) is None
    assert classify(Path("/other/app.py")) is None


def test_batch_kind_prefers_the_biggest_reload() -> None:
    assert batch_kind(["style", "template", "python"]) == "python"
    assert batch_kind(["style", "template"]) == "template"
    assert batch_kind(["style"]) == "style"
    assert batch_kind([]) is None


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ("http://127.0.0.1:5000/notes?page=2#top", "http://127.0.0.1:5000/notes?page=2"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000/"),
        (
            "http://127.0.0.1:5000/__flaskdesk__/launch?token=abc&next=%2Fedit%3Fid%3D3",
            "http://127.0.0.1:5000/edit?id=3",
        ),
        (
            "http://127.0.0.1:5000/__flaskdesk__/launch?token=abc&next=//evil.example",
            "http://127.0.0.1:5000/",
        ),
        ("http://127.0.0.1:5000/__flaskdesk__/bridge", "http://127.0.0.1:5000/"),
        ("http://other.example/", None),
        ("about:blank", None),
        (None, None),
    ],
)
def test_refresh_url(current: str | None, expected: str | None) -> None:
    assert refresh_url(current, "http://127.0.0.1:5000") == expected


# --- watching -------------------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for folder in ("pkg/templates", "pkg/static", "pkg/.git", "pkg/__pycache__"):
        (tmp_path / folder).mkdir(parents=True)
    return tmp_path / "pkg"


class Calls:
    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.event = threading.Event()

    def recorder(self, kind: str):  # type: ignore[no-untyped-def]
        def record() -> None:
            self.kinds.append(kind)
            self.event.set()

        return record

    def wait(self, timeout: float = 3.0) -> list[str]:
        self.event.wait(timeout)
        time.sleep(0.15)  # anything else that would (wrongly) arrive
        self.event.clear()
        kinds, self.kinds = self.kinds, []
        return kinds


@pytest.mark.parametrize("polling", [False, True], ids=["inotify", "polling"])
def test_reloader_calls_back_per_kind(tree: Path, polling: bool) -> None:
    if not polling and not sys.platform.startswith("linux"):
        pytest.skip("inotify is Linux only")
    calls = Calls()
    reloader = DevReloader(
        roots=[tree],
        on_templates=calls.recorder("template"),
        on_python=calls.recorder("python"),
        on_styles=calls.recorder("style"),
        polling=polling,
    )
    with reloader:
        (tree / "templates" / "index.html").write_text("x")
        assert calls.wait() == ["template"]
        (tree / "views.py").write_text("x = 1")
        assert calls.wait() == ["python"]
        (tree / "static" / "app.css").write_text("a{}")
        assert calls.wait() == ["style"]
        # noise and ignored folders: nothing
        (tree / "templates" / ".index.html.swp").write_text("x")
        (tree / ".git" / "HEAD.py").write_text("x")
        (tree / "__pycache__" / "views.py").write_text("x")
        (tree / "data.db").write_text("x")
        assert calls.wait(0.5) == []
        # a folder created while watching is watched, and its first file counts
        (tree / "templates" / "partials").mkdir()
        time.sleep(0.1)
        (tree / "templates" / "partials" / "row.html").write_text("x")
        assert calls.wait() == ["template"]
        # an atomic save (write elsewhere, rename into place) counts once
        (tree / "tmp-save").write_text("y")
        (tree / "tmp-save").replace(tree / "templates" / "index.html")
        assert calls.wait() == ["template"]
    assert not any(t.name == "flaskdesk-devreload" for t in threading.enumerate())


def test_a_burst_of_edits_is_one_reload(tree: Path) -> None:
    calls = Calls()
    with DevReloader(
        roots=[tree], on_templates=calls.recorder("template"), on_python=calls.recorder("python")
    ):
        for i in range(10):
            (tree / "templates" / f"page{i}.html").write_text("x")
        (tree / "views.py").write_text("x = 1")
        assert calls.wait() == ["python"]


def test_a_failing_callback_does_not_stop_the_watching(tree: Path) -> None:
    calls = Calls()
    attempts: list[int] = []

    def boom() -> None:
        attempts.append(1)
        raise RuntimeError("boom")

    with DevReloader(roots=[tree], on_templates=boom, on_python=calls.recorder("python")):
        (tree / "templates" / "a.html").write_text("x")
        time.sleep(0.3)
        (tree / "views.py").write_text("x")
        assert calls.wait() == ["python"]
    assert attempts == [1]


def test_inotify_reacts_within_50_ms(tree: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("inotify is Linux only")
    seen: list[float] = []
    done = threading.Event()
    reloader = DevReloader(
        roots=[tree], on_templates=lambda: (seen.append(time.perf_counter()), done.set()), on_python=done.set
    )
    with reloader:
        latencies = []
        for i in range(5):
            done.clear()
            start = time.perf_counter()
            (tree / "templates" / "index.html").write_text(str(i))
            assert done.wait(2)
            latencies.append(seen[-1] - start)
            time.sleep(0.05)
    assert sorted(latencies)[2] < 0.05, latencies


def test_polling_source_sees_changes_and_deletions(tree: Path) -> None:
    page = tree / "templates" / "a.html"
    page.write_text("1")
    source = PollingSource([tree], interval=0.01)
    assert source.read(0.01) == set()
    page.write_text("22")
    assert source.read(0.01) == {page}
    page.unlink()
    assert source.read(0.01) == {page}
    source.wake()
    assert source.read(5) == set()  # returns at once when woken
    source.close()


def test_stop_without_start_and_twice_is_fine(tree: Path) -> None:
    reloader = DevReloader(roots=[tree], on_templates=lambda: None, on_python=lambda: None)
    reloader.stop()
    reloader.start()
    reloader.stop()
    reloader.stop()
    with pytest.raises(RuntimeError):
        reloader.start()


# --- re-importing ---------------------------------------------------------------------------------


def test_project_modules_only_lists_the_projects_own(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    venv_site = project / ".venv" / "lib" / "python3.11" / "site-packages"

    def module(name: str, file: Path | None) -> types.ModuleType:
        mod = types.ModuleType(name)
        if file is not None:
            mod.__file__ = str(file)
        return mod

    modules = {
        "pkg": module("pkg", project / "pkg" / "__init__.py"),
        "pkg.views": module("pkg.views", project / "pkg" / "views.py"),
        "dep": module("dep", venv_site / "dep" / "__init__.py"),
        "flask": sys.modules["flask"],
        "flaskdesk.devloop": sys.modules["flaskdesk.devloop"],
        "builtin": module("builtin", None),
        "__main__": module("__main__", project / "run.py"),
    }
    assert project_modules([project], modules) == ["pkg", "pkg.views"]


def test_purge_modules_removes_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "purgeme.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import purgeme  # type: ignore[import-not-found]

    assert purgeme.VALUE == 1
    (tmp_path / "purgeme.py").write_text("VALUE = 2\n")
    assert purge_modules([tmp_path]) == ["purgeme"]
    import purgeme as fresh  # type: ignore[import-not-found]

    assert fresh.VALUE == 2
    sys.modules.pop("purgeme", None)


def test_loader_for_a_script_reruns_it_without_its_main_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "app.py"
    script.write_text(
        textwrap.dedent(
            """
            from flask import Flask
            app = Flask(__name__)
            VERSION = 1
            if __name__ == "__main__":
                raise SystemExit("the main block must not run on reload")
            """
        )
    )
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    app = Flask("__main__")
    main.app = app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "__main__", main)
    load = loader_for(app)
    assert load is not None
    fresh = load()
    assert isinstance(fresh, Flask) and fresh is not app


def test_loader_for_a_module_without_app_or_factory_is_none() -> None:
    assert loader_for(Flask("not_a_loaded_module_name")) is None


# --- the live app, in process ---------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_dirs: Path) -> Iterator[Path]:
    """A copy of the devloop fixture project, importable as ``devapp``; forgotten afterwards."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.chdir(root)
    yield root
    for name in [n for n in sys.modules if n == "devapp" or n.startswith("devapp.")]:
        del sys.modules[name]


class FakeWindow:
    def __init__(self, url: str) -> None:
        self.url = url
        self.loaded: list[str] = []

    def load_url(self, url: str) -> None:
        self.loaded.append(url)

    def get_current_url(self) -> str | None:
        return self.url


def _live(project: Path) -> tuple[LiveApp, Client]:
    import devapp  # type: ignore[import-not-found]

    app = devapp.create_app()
    live = LiveApp(app, desktop=app.extensions["flaskdesk"])  # the loader is derived: devapp.create_app()
    return live, Client(live)


def test_live_app_serves_template_and_python_edits(project: Path) -> None:
    live, client = _live(project)
    window = FakeWindow("http://127.0.0.1:5000/view")
    live.attach_window(window, "http://127.0.0.1:5000")
    assert "TEMPLATE-ONE" in client.get("/").text
    assert client.get("/view").text.count("py-one") == 1

    (project / "devapp" / "templates" / "index.html").write_text(
        (project / "devapp" / "templates" / "index.html").read_text().replace("TEMPLATE-ONE", "TEMPLATE-TWO")
    )
    live.reload_templates()
    assert "TEMPLATE-TWO" in client.get("/").text
    assert window.loaded == ["http://127.0.0.1:5000/view"]

    views = project / "devapp" / "views.py"
    views.write_text(views.read_text().replace("py-one", "py-two"))
    old_app = live.app
    live.reload_python()
    assert live.app is not old_app and live.reloads == 1
    assert "py-two" in client.get("/view").text
    assert live.error is None
    assert len(window.loaded) == 2


def test_a_syntax_error_shows_then_the_next_good_save_recovers(project: Path) -> None:
    live, client = _live(project)
    views = project / "devapp" / "views.py"
    good = views.read_text()
    views.write_text("VERSION = 'x'\ndef message( ->\n")
    live.reload_python()
    page = client.get("/view")
    assert page.status_code == 500
    assert "SyntaxError: invalid syntax" in page.text or "SyntaxError: " in page.text
    assert f"{views}, line 2" in page.text
    assert isinstance(live.error, BaseException)
    views.write_text(good.replace("py-one", "py-three"))
    live.reload_python()
    assert live.error is None
    assert "py-three" in client.get("/view").text


def test_a_factory_that_raises_is_shown_too(project: Path) -> None:
    live, client = _live(project)
    init = project / "devapp" / "__init__.py"
    init.write_text(init.read_text().replace("app = Flask(__name__)", "raise RuntimeError('factory broke')"))
    live.reload_python()
    page = client.get("/")
    assert page.status_code == 500
    assert "RuntimeError: factory broke" in page.text


def test_bridge_calls_go_to_the_current_apps_desktop(project: Path) -> None:
    live, _ = _live(project)
    first = live.desktop
    (project / "devapp" / "views.py").write_text((project / "devapp" / "views.py").read_text() + "\n")
    live.reload_python()
    assert live.desktop is not first
    assert live.desktop is live.app.extensions["flaskdesk"]
    seen: list[object] = []
    live.desktop.bridge.wsgi_app = lambda environ, start_response: seen.append(environ) or []
    list(live.bridge_wsgi_app({"PATH_INFO": ""}, lambda *a: None))  # type: ignore[arg-type]
    assert len(seen) == 1


def test_watch_plan_for_the_fixture_app(project: Path) -> None:
    import devapp  # type: ignore[import-not-found]

    app = devapp.create_app()
    package = project / "devapp"
    assert plan_for_app(app).roots == (package,)
    plan = plan_for_app(app, ["pyproject.toml"], base=project)
    assert plan.roots == (project,)  # the extra file's folder holds the package: one root
    assert plan.template_dirs == (package / "templates",)
    assert plan.static_dirs == (package / "static",)
    assert plan.classify(project / "pyproject.toml") == "python"


def test_live_app_end_to_end_with_the_watcher(project: Path) -> None:
    live, client = _live(project)
    window = FakeWindow("http://127.0.0.1:5000/")
    live.attach_window(window, "http://127.0.0.1:5000")
    live.start()
    try:
        page = project / "devapp" / "templates" / "index.html"
        page.write_text(page.read_text().replace("TEMPLATE-ONE", "TEMPLATE-WATCHED"))
        deadline = time.monotonic() + 3
        while not window.loaded and time.monotonic() < deadline:
            time.sleep(0.01)
        assert window.loaded == ["http://127.0.0.1:5000/"]
        assert "TEMPLATE-WATCHED" in client.get("/").text
    finally:
        live.stop()


def test_error_page_escapes_and_uses_the_nonce() -> None:
    error = ValueError("<b>bad</b>")
    page = reload_error_page(error, "Traceback <x>", nonce="abc")
    assert '<style nonce="abc">' in page
    assert "&lt;b&gt;bad&lt;/b&gt;" in page and "<b>bad</b>" not in page
    assert "Traceback &lt;x&gt;" in page


def test_error_app_answers_500_for_everything() -> None:
    try:
        compile("def f(:\n", "broken.py", "exec")
    except SyntaxError as error:
        wrapped = RuntimeError("import failed")
        wrapped.__cause__ = error
        app = ErrorApp(wrapped)
    response = Client(app).get("/anything")
    assert response.status_code == 500
    assert response.headers["Cache-Control"] == "no-store"
    assert "broken.py, line 1" in response.text  # the SyntaxError is found through the chain
