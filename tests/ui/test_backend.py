"""Backend selection, engine flags, signal handling and run()'s checks, without opening a window."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from flaskdesk.errors import BackendError, ConfigError, DataDirError
from flaskdesk.ui import backend as backend_module
from flaskdesk.ui._qt import FLAGS_VAR, REMOTE_DEBUGGING_VAR, QtHooks, chromium_environment
from flaskdesk.ui.backend import (
    WebviewBackend,
    _SignalWatcher,
    platform_family,
    requested_name,
    select_backend,
)
from flaskdesk.ui.window import WindowOptions, WindowSession

# -- engine flags ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "is_root", "flags"),
    [
        ({}, True, "--no-sandbox --no-zygote"),
        ({FLAGS_VAR: "--enable-logging --v=1"}, True, "--enable-logging --v=1 --no-sandbox --no-zygote"),
        ({FLAGS_VAR: "  --lang=de  "}, True, "--lang=de --no-sandbox --no-zygote"),
        ({FLAGS_VAR: "--no-sandbox --lang=de"}, True, "--no-sandbox --lang=de --no-zygote"),  # extended
        ({"QTWEBENGINE_DISABLE_SANDBOX": "1"}, True, "--no-zygote"),
        ({"QTWEBENGINE_DISABLE_SANDBOX": "1"}, False, "--no-zygote"),  # sandbox off by choice
        ({FLAGS_VAR: "--no-sandbox --no-zygote"}, True, None),  # already there: untouched
        ({FLAGS_VAR: "--single-process"}, True, "--single-process --no-sandbox"),  # their process model
        ({}, False, "--no-unsandboxed-zygote"),  # the sandbox needs only the sandboxed zygote
        ({FLAGS_VAR: "--lang=de"}, False, "--lang=de --no-unsandboxed-zygote"),
        ({FLAGS_VAR: "--no-unsandboxed-zygote"}, False, None),  # already there: untouched
        ({FLAGS_VAR: "--zygote-cmd-prefix=gdb"}, False, None),  # their process model
    ],
)
def test_root_gets_no_sandbox_appended_to_the_users_flags(
    environ: dict[str, str], is_root: bool, flags: str | None
) -> None:
    before = dict(environ)
    plan = chromium_environment(environ, is_root=is_root)
    assert plan.env.get(FLAGS_VAR) == flags
    assert environ == before  # pure: computes, never sets
    assert REMOTE_DEBUGGING_VAR not in plan.env
    assert plan.warnings == ()


@pytest.mark.parametrize(("environ", "is_root", "flags"), [({}, False, None), ({}, True, "--no-sandbox")])
def test_no_zygote_flags_off_linux(environ: dict[str, str], is_root: bool, flags: str | None) -> None:
    assert chromium_environment(environ, is_root=is_root, zygotes=False).env.get(FLAGS_VAR) == flags


@pytest.mark.parametrize(
    "environ",
    [
        {REMOTE_DEBUGGING_VAR: "9222"},
        {FLAGS_VAR: "--remote-debugging-port=9222"},
    ],
)
def test_remote_debugging_is_left_alone_but_warned_about(environ: dict[str, str]) -> None:
    plan = chromium_environment(environ, is_root=False, zygotes=False)
    assert plan.env == {}
    assert len(plan.warnings) == 1
    assert "any local process" in plan.warnings[0]


def test_prepare_applies_the_plan(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(FLAGS_VAR, "--lang=de")
    monkeypatch.setenv(REMOTE_DEBUGGING_VAR, "9222")
    monkeypatch.setattr("flaskdesk.ui._qt._is_root", lambda: True)
    QtHooks().prepare()
    assert os.environ[FLAGS_VAR] == "--lang=de --no-sandbox --no-zygote"
    assert os.environ[REMOTE_DEBUGGING_VAR] == "9222"
    assert REMOTE_DEBUGGING_VAR in caplog.text


# -- choosing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "family"),
    [("linux", "linux"), ("freebsd14", "linux"), ("win32", "win32"), ("darwin", "darwin")],
)
def test_platform_family(platform: str, family: str) -> None:
    assert platform_family(platform) == family


@pytest.mark.parametrize(
    ("requested", "environ", "name"),
    [
        (None, {}, None),
        ("qt", {"FLASKDESK_GUI": "gtk"}, "qt"),  # the argument wins
        (None, {"FLASKDESK_GUI": " GTK "}, "gtk"),
        ("", {"FLASKDESK_GUI": "qt"}, "qt"),
        ("auto", {"FLASKDESK_GUI": "gtk"}, None),
        (None, {"FLASKDESK_GUI": ""}, None),
    ],
)
def test_requested_name(requested: str | None, environ: dict[str, str], name: str | None) -> None:
    assert requested_name(requested, environ, "linux") == name


def test_unknown_backend_names_the_source_and_the_choices() -> None:
    with pytest.raises(BackendError, match=r"'cocoa' \(from \$FLASKDESK_GUI\).*qt, gtk"):
        requested_name(None, {"FLASKDESK_GUI": "cocoa"}, "linux")
    with pytest.raises(BackendError, match="edgechromium, qt"):
        requested_name("gtk", {}, "win32")


@pytest.fixture
def toolkits(monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    """What the toolkit probes report (None: usable); the display is faked too."""
    problems: dict[str, str | None] = {"qt": None, "gtk": None}
    monkeypatch.setattr(backend_module, "_qt_problem", lambda environ: problems["qt"])
    monkeypatch.setattr(backend_module, "_gtk_problem", lambda: problems["gtk"])
    monkeypatch.setattr(backend_module, "_x_server_answers", lambda number: number == 42)
    monkeypatch.setattr("sys.platform", "linux")
    for var in ("FLASKDESK_GUI", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DISPLAY", ":42")
    return problems


def test_linux_default_is_qt_then_gtk(toolkits: dict[str, str | None]) -> None:
    assert select_backend().name == "qt"
    toolkits["qt"] = "No module named 'PyQt6'; pip install 'flaskdesk[qt]'"
    assert select_backend().name == "gtk"


def test_no_toolkit_at_all_explains_both(toolkits: dict[str, str | None]) -> None:
    toolkits["qt"] = "No module named 'qtpy'; pip install 'flaskdesk[qt]'"
    toolkits["gtk"] = "Namespace WebKit2 not available; apt-get install gir1.2-webkit2-4.1"
    with pytest.raises(BackendError) as raised:
        select_backend()
    assert "flaskdesk[qt]" in str(raised.value)
    assert "apt-get install gir1.2-webkit2-4.1" in str(raised.value)


def test_a_requested_toolkit_that_is_missing_is_an_error_not_a_fallback(
    toolkits: dict[str, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    toolkits["gtk"] = "Namespace WebKit2 not available; apt-get install gir1.2-webkit2-4.1"
    monkeypatch.setenv("FLASKDESK_GUI", "gtk")
    with pytest.raises(BackendError, match=r"the gtk window backend cannot be used: .*gir1\.2-webkit2-4\.1"):
        select_backend()


def test_no_display(toolkits: dict[str, str | None], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY")
    with pytest.raises(BackendError, match="xvfb-run -a"):
        select_backend("gtk")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # Qt can do without one
    assert select_backend("qt").name == "qt"
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert select_backend("gtk").name == "gtk"


def test_dead_x_display(toolkits: dict[str, str | None], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":7.0")
    with pytest.raises(BackendError, match=r"no X server answers on DISPLAY=:7\.0.*xvfb-run"):
        select_backend("qt")
    monkeypatch.setenv("DISPLAY", "remotehost:10.0")  # cannot tell: let the toolkit try
    assert select_backend("qt").name == "qt"


def test_x_server_probe(x_display: str) -> None:
    assert backend_module._x_server_answers(int(x_display.lstrip(":").split(".")[0]))
    assert not backend_module._x_server_answers(4321)


@pytest.mark.parametrize(
    ("message", "advice"),
    [
        ("libxcb-cursor.so.0: cannot open shared object file", "apt-get install libxcb-cursor0"),
        ("libnss3.so: cannot open shared object file", "apt-get install libnss3"),
        ("libdbus-1.so.3: cannot open shared object file", "apt-get install libdbus-1-3"),
        ("libweird.so.9: cannot open shared object file", "the package that provides libweird.so.9"),
        ("No module named 'PyQt6'", None),
    ],
)
def test_missing_library_advice(message: str, advice: str | None) -> None:
    found = backend_module._missing_library(message)
    assert found == advice if advice is None else advice in (found or "")


@pytest.mark.window
@pytest.mark.parametrize("name", ["qt", "gtk"])
def test_real_toolkits_are_found(name: str, x_display: str) -> None:
    """The probes import the real toolkits (both are installed for the test suite).

    In a fresh interpreter: the toolkits are heavy, and pytest's own sys.path holds tests/installers,
    which would shadow the ``packaging`` distribution qtpy imports.
    """
    code = "from flaskdesk.ui.backend import select_backend; print(select_backend().name)"
    env = {**os.environ, "FLASKDESK_GUI": name, "DISPLAY": x_display}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == name


# -- signals --------------------------------------------------------------------------------------


def _wait(event: threading.Event) -> bool:
    return event.wait(5)


def test_signal_watcher_calls_back_promptly_and_restores_everything() -> None:
    fired = threading.Event()
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with _SignalWatcher(fired.set):
        os.kill(os.getpid(), signal.SIGTERM)
        assert _wait(fired)
        fired.clear()
        os.kill(os.getpid(), signal.SIGINT)  # no KeyboardInterrupt: the window closes instead
        assert _wait(fired)
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
    assert signal.set_wakeup_fd(-1) == -1  # restored to "none"
    assert not [t for t in threading.enumerate() if t.name == "flaskdesk-signal-watcher"]


def test_signal_watcher_works_when_a_toolkit_swaps_the_wakeup_fd() -> None:
    """PyGObject installs its own wakeup fd while GTK's loop runs; the Python handler covers it."""
    fired = threading.Event()
    with _SignalWatcher(fired.set):
        ours = signal.set_wakeup_fd(-1)
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.01)  # the main thread runs the Python-level handler here
            assert _wait(fired)
        finally:
            signal.set_wakeup_fd(ours)


# -- run()'s own checks ---------------------------------------------------------------------------


def session(tmp_path: Path, **changes: object) -> WindowSession:
    values: dict[str, object] = {
        "url": "http://127.0.0.1:5123/launch?token=x",
        "options": WindowOptions(),
        "app_origin": "http://127.0.0.1:5123",
        "storage_dir": tmp_path / "storage",
    }
    values.update(changes)
    return WindowSession(**values)  # type: ignore[arg-type]


@pytest.fixture
def no_webview(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("webview must not be imported")

    monkeypatch.setattr(backend_module, "_import_webview", refuse)


@pytest.mark.usefixtures("no_webview")
def test_close_all_before_run_returns_at_once(tmp_path: Path) -> None:
    closed: list[bool] = []
    backend = WebviewBackend("gtk", None)
    backend.close_all()
    backend.run(session(tmp_path, on_closed=lambda: closed.append(True)))
    backend.show_error("x could not start", "<p>x</p>", WindowOptions())
    assert closed == [True]


@pytest.mark.usefixtures("no_webview")
def test_run_checks_before_opening_anything(tmp_path: Path) -> None:
    backend = WebviewBackend("gtk", None)
    with pytest.raises(ValueError, match="url must be on"):
        backend.run(session(tmp_path, url="http://127.0.0.1:9999/"))
    with pytest.raises(ConfigError, match="background_color"):
        backend.run(session(tmp_path, options=WindowOptions(background_color="navy")))
    (tmp_path / "file").write_text("in the way")
    with pytest.raises(DataDirError, match="cannot create the web storage directory"):
        backend.run(session(tmp_path, storage_dir=tmp_path / "file" / "storage"))

    errors: list[BaseException] = []

    def off_main() -> None:
        try:
            backend.run(session(tmp_path))
        except BaseException as error:
            errors.append(error)

    worker = threading.Thread(target=off_main)
    worker.start()
    worker.join()
    assert isinstance(errors[0], BackendError)
    assert "main thread" in str(errors[0])


def test_missing_icon_is_dropped_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    assert backend_module._icon_path(tmp_path / "nope.png") is None
    assert "does not exist" in caplog.text
    icon = tmp_path / "icon.png"
    icon.write_bytes(b"png")
    assert backend_module._icon_path(icon) == str(icon.resolve())
