"""The flaskdesk pytest plugin (registered through the ``pytest11`` entry point).

Fixtures, from the fastest to the most real (their names are a public interface):

``desktop_app``
    The project's Flask app configured for testing (``TESTING=True``, data and instance folders
    in the test's temp dir), found the way ``flaskdesk run`` finds it: ``--flaskdesk-app``, the
    ``flaskdesk_app`` ini option, ``$FLASK_APP``, then ``[tool.flaskdesk] app``. Override it in
    ``conftest.py`` to build the app your own way; the in-process fixtures follow.
``desktop_client``
    A Flask test client whose requests pass through the same guard the window's requests do
    (Host allow-list, session cookie, origin checks, CSP, script injection), carrying the
    window's credentials.
``desktop_bridge``
    ``desktop_bridge.add(2, 3)`` is ``await flaskdesk.api.add(2, 3)``: a POST to the bridge
    endpoint through ``desktop_client``, returning the result or raising
    :class:`flaskdesk.BridgeError` with the ``name`` and ``message`` the page would see.
``desktop_window``
    The app from source in a real window (a private Xvfb when there is no display), driven by
    :class:`~flaskdesk.testing.driver.AppDriver`.
``frozen_app``
    The same driver against the executable ``flaskdesk build`` produced (``--flaskdesk-frozen``,
    ``$FLASKDESK_FROZEN``, else ``dist/NAME/NAME``); skipped when there is none.

Tests using the last two get the ``window`` marker, so ``-m "not window"`` leaves them out. When
such a test fails, the app's log, its JavaScript errors and a screenshot are added to the report.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient

    from ..app.guard import Guard
    from ..desktop import Desktop
    from .display import VirtualDisplay
    from .driver import AppDriver

__all__ = ["DESKTOP_TEST_PORT", "DesktopBridge"]

#: The port the in-process guard believes it serves on (nothing listens: requests never leave the process).
DESKTOP_TEST_PORT = 47_213
FROZEN_VARIABLE = "FLASKDESK_FROZEN"
WINDOW_FIXTURES = frozenset({"desktop_window", "frozen_app"})

_drivers_key = pytest.StashKey[list["AppDriver"]]()
_log_shown_key = pytest.StashKey[list["AppDriver"]]()
_LOG_TAIL_LINES = 60


# -- options and markers -------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flaskdesk", "flaskdesk desktop apps")
    group.addoption(
        "--flaskdesk-app",
        dest="flaskdesk_app",
        metavar="TARGET",
        help="the app to test (module:app or module:create_app()); default: the flaskdesk_app ini "
        "option, FLASK_APP, then [tool.flaskdesk] app",
    )
    group.addoption(
        "--flaskdesk-frozen",
        dest="flaskdesk_frozen",
        metavar="PATH",
        help=f"the built executable frozen_app runs (default: ${FROZEN_VARIABLE}, then dist/NAME/NAME)",
    )
    parser.addini("flaskdesk_app", "the app target the flaskdesk fixtures load", default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "window: opens a real desktop window (flaskdesk desktop_window/frozen_app)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if WINDOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.window)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On failure, add what the app's window was doing: its log, its JS errors, a screenshot."""
    report = yield
    drivers = item.stash.get(_drivers_key, [])
    if report.failed and drivers:
        from .driver import WaitTimeout

        # A WaitTimeout already names the screenshot it took; one more would show the same thing.
        screenshot = report.when == "call" and not (call.excinfo and call.excinfo.errisinstance(WaitTimeout))
        for driver in drivers:
            with_log = driver not in item.stash.get(_log_shown_key, [])  # a start failure showed it already
            for title, content in _failure_sections(driver, screenshot=screenshot, log=with_log):
                report.sections.append((title, content))
    return report


def _failure_sections(driver: AppDriver, *, screenshot: bool, log: bool) -> list[tuple[str, str]]:
    from .driver import DriverError

    name = driver.app_name or "app"
    sections = []
    text = driver.log_text().strip() if log else ""
    if text:
        lines = text.splitlines()
        shown = "\n".join(lines[-_LOG_TAIL_LINES:])
        if len(lines) > _LOG_TAIL_LINES:
            shown = f"(the last {_LOG_TAIL_LINES} lines of {driver.log_file})\n{shown}"
        sections.append((f"flaskdesk {name} log", shown))
    try:
        errors = driver.js_errors()
    except DriverError:
        errors = []
    if errors:
        sections.append(
            (f"flaskdesk {name} JavaScript errors", "\n".join(_format_js_error(e) for e in errors))
        )
    if screenshot and driver.running:
        try:
            sections.append((f"flaskdesk {name} screenshot", str(driver.screenshot())))
        except DriverError as error:
            sections.append((f"flaskdesk {name} screenshot", f"none: {error}"))
    return sections


def _format_js_error(error: dict[str, Any]) -> str:
    where = error.get("source") or ""
    if where and error.get("line"):
        where += f":{error['line']}"
    text = f"[{error.get('type')}] {error.get('message')} on {error.get('url')}"
    return f"{text} ({where})" if where else text


# -- in-process fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def flaskdesk_app_target(pytestconfig: pytest.Config) -> str | None:
    """The app target from ``--flaskdesk-app`` or the ``flaskdesk_app`` ini option (``None``: let
    flaskdesk look at ``FLASK_APP`` and ``[tool.flaskdesk] app``, as ``flaskdesk run`` does)."""
    option = pytestconfig.getoption("flaskdesk_app", None)
    ini = pytestconfig.getini("flaskdesk_app")
    return str(option or ini) if (option or ini) else None


@pytest.fixture
def desktop_app(
    flaskdesk_app_target: str | None,
    pytestconfig: pytest.Config,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Flask:
    """The project's app with ``TESTING=True`` and its data and instance folders in ``tmp_path``."""
    from ..config import ENV_VARS
    from ..errors import FlaskdeskError
    from ..launcher import load_app

    data_dir = tmp_path / "flaskdesk-data"
    data_dir.mkdir(exist_ok=True)
    # Set for the whole test: factories and extensions may read the environment later too.
    monkeypatch.setenv(ENV_VARS["data_dir"], str(data_dir))
    try:
        app, _ = load_app(flaskdesk_app_target, start=pytestconfig.rootpath)
    except FlaskdeskError as error:
        pytest.fail(f"desktop_app: {error}", pytrace=False)
    instance = Path(app.instance_path)
    if tmp_path not in instance.parents:
        app.instance_path = str(tmp_path / "instance")
        Path(app.instance_path).mkdir(exist_ok=True)
    app.config.update(TESTING=True)
    return app


@pytest.fixture
def desktop_guard(desktop_app: Flask) -> Guard:
    """The guard ``desktop_client`` sends requests through (its ``port`` is a stand-in: nothing listens)."""
    return build_guard(desktop_app)


@pytest.fixture
def desktop_client(desktop_app: Flask, desktop_guard: Guard) -> FlaskClient:
    """A test client whose requests go through the window's guarded WSGI stack, as the window."""
    return make_client(desktop_app, desktop_guard)


@pytest.fixture
def desktop_bridge(desktop_client: FlaskClient) -> DesktopBridge:
    """Call ``@desktop.expose`` functions exactly as page script does: ``desktop_bridge.add(2, 3)``."""
    return DesktopBridge(desktop_client)


def desktop_of(app: Flask) -> Desktop:
    """The app's ``Desktop`` (a bare one for a Flask app that never created its own)."""
    from ..desktop import Desktop

    desktop = app.extensions.get("flaskdesk")
    return desktop if isinstance(desktop, Desktop) else Desktop(app)


def build_guard(app: Flask, *, port: int = DESKTOP_TEST_PORT, dev: bool = False) -> Guard:
    """The guard and internal mounts a launch builds around ``app`` (see ``flaskdesk.launch``)."""
    from ..app.guard import Guard
    from ..launch import build_guard as build_launch_guard

    desktop = desktop_of(app)
    settings = desktop.launch_settings(app)
    return build_launch_guard(desktop, app, port=port, token=Guard.new_token(), csp=settings.csp, dev=dev)


def make_client(app: Flask, guard: Guard) -> FlaskClient:
    """A :class:`~flask.testing.FlaskClient` for ``app`` whose requests pass through ``guard``."""
    from flask.testing import FlaskClient
    from werkzeug.test import run_wsgi_app

    probe: dict[str, Any] = {}
    guard.authenticate_environ(probe)
    host = str(probe["HTTP_HOST"])

    class DesktopClient(FlaskClient):
        """Sends every request as the window would: to ``127.0.0.1:PORT``, with its session cookie."""

        def run_wsgi_app(self, environ: dict[str, Any], buffered: bool = False) -> Any:
            environ["HTTP_HOST"] = host  # before the cookie jar looks, so its cookies match this host
            self._add_cookies_to_wsgi(environ)
            guard.authenticate_environ(environ)
            result = run_wsgi_app(guard, environ, buffered=buffered)
            path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
            self._update_cookies_from_response(
                host.rsplit(":", 1)[0], path or "/", result[2].getlist("Set-Cookie")
            )
            return result

        def session_transaction(self, *args: Any, **kwargs: Any) -> Any:
            """Flask's, on the window's host, so the cookies it reads and writes are the window's."""
            kwargs.setdefault("base_url", f"http://{host}")
            return super().session_transaction(*args, **kwargs)

    client = DesktopClient(app, app.response_class, use_cookies=True)
    #: The origin the window's pages have; handy for Origin headers in tests of the guard.
    client.origin = f"http://{host}"  # type: ignore[attr-defined]
    return client


class DesktopBridge:
    """Calls exposed functions through the bridge's HTTP endpoint, as ``flaskdesk.js`` does.

    ``bridge.NAME(*args)`` mirrors ``flaskdesk.api.NAME(...args)``; ``bridge.call(name, args,
    kwargs)`` mirrors ``flaskdesk.call(name, args, kwargs)``. Results are the decoded JSON the page
    would get; failures raise :class:`flaskdesk.BridgeError` with the page's ``name``/``message``.
    """

    def __init__(self, client: FlaskClient, path: str = "/__flaskdesk__/bridge") -> None:
        self._client = client
        self._path = path

    def __getattr__(self, name: str) -> Callable[..., Any]:
        from ..ui.bridge import RESERVED_NAMES

        if name.startswith("_") or name in RESERVED_NAMES:
            raise AttributeError(name)  # dunder lookups by pytest/copy/pickle are not bridge calls

        def call(*args: Any, **kwargs: Any) -> Any:
            return self.call(name, list(args), kwargs)

        call.__name__ = name
        return call

    def call(self, name: str, args: list[Any] | None = None, kwargs: dict[str, Any] | None = None) -> Any:
        from ..errors import BridgeError

        try:
            body = json.dumps({"name": name, "args": list(args or []), "kwargs": dict(kwargs or {})})
        except (TypeError, ValueError) as unsendable:
            raise BridgeError("TypeError", f"arguments cannot be sent as JSON: {unsendable}") from None
        response = self._client.post(self._path, data=body, content_type="application/json")
        if not (response.content_type or "").startswith("application/json"):
            raise BridgeError("BridgeError", f"the bridge answered HTTP {response.status_code}")
        reply = response.get_json(silent=True)
        if isinstance(reply, dict) and reply.get("ok") is True:
            return reply.get("result")
        found = reply.get("error") if isinstance(reply, dict) else None
        error: dict[str, Any] = found if isinstance(found, dict) else {}
        raise BridgeError(
            str(error.get("name") or "BridgeError"), str(error.get("message") or "the call failed")
        )

    def __repr__(self) -> str:
        return f"<DesktopBridge {self._path}>"


# -- real windows --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def flaskdesk_display() -> Iterator[VirtualDisplay]:
    """One X display for every window in the session (the current one, or a private Xvfb)."""
    from ..errors import BackendError
    from .display import VirtualDisplay

    display = VirtualDisplay()
    try:
        display.start()
    except BackendError as error:
        pytest.skip(f"no display for real windows: {error}")
    try:
        yield display
    finally:
        display.stop()


@pytest.fixture
def desktop_window_command(flaskdesk_app_target: str | None, pytestconfig: pytest.Config) -> list[str]:
    """How ``desktop_window`` starts the app: ``flaskdesk run --app TARGET`` with this Python.

    Override it to start the app your own way (``[sys.executable, "-m", "myapp"]``); the command
    runs in the rootdir and must end up in ``Desktop.run()`` / ``flaskdesk.launcher``.
    """
    from .driver import source_command

    return source_command(_resolve_target(flaskdesk_app_target, pytestconfig.rootpath))


@pytest.fixture
def desktop_window(
    request: pytest.FixtureRequest,
    desktop_window_command: list[str],
    flaskdesk_display: VirtualDisplay,
    pytestconfig: pytest.Config,
    tmp_path: Path,
) -> Iterator[AppDriver]:
    """The app from source in a real window; ``close()`` it to check it exits cleanly (status 0)."""
    from .driver import AppDriver

    driver = AppDriver(
        desktop_window_command,
        cwd=pytestconfig.rootpath,
        data_dir=tmp_path / "flaskdesk-data",
        artifacts_dir=tmp_path / "flaskdesk-artifacts",
        display=flaskdesk_display,
    )
    yield from _drive(request, driver)


@pytest.fixture
def frozen_app(
    request: pytest.FixtureRequest,
    flaskdesk_display: VirtualDisplay,
    pytestconfig: pytest.Config,
    tmp_path: Path,
) -> Iterator[AppDriver]:
    """The built executable in a real window (skipped, saying how to build it, when there is none)."""
    from .driver import AppDriver

    executable = _frozen_executable(pytestconfig)
    driver = AppDriver.frozen(
        executable,
        cwd=tmp_path,
        data_dir=tmp_path / "flaskdesk-data",
        artifacts_dir=tmp_path / "flaskdesk-artifacts",
        display=flaskdesk_display,
    )
    yield from _drive(request, driver)


def _drive(request: pytest.FixtureRequest, driver: AppDriver) -> Iterator[AppDriver]:
    from .driver import LOG_HEADING, DriverError

    request.node.stash.setdefault(_drivers_key, []).append(driver)
    problem = None
    try:
        driver.start()
    except DriverError as error:
        problem = str(error)
    if problem is not None:
        driver.stop()
        if LOG_HEADING in problem:
            request.node.stash.setdefault(_log_shown_key, []).append(driver)
        pytest.fail(problem, pytrace=False)
    try:
        yield driver
    finally:
        was_running = driver.running
        problem = None
        status: int | None = None
        try:
            status = driver.close()
        except DriverError as error:
            problem = f"closing the window: {error}"
        finally:
            driver.stop()
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    if was_running and status != 0:
        pytest.fail(
            f"the app exited with status {status} after its window closed; the end of its log:\n"
            + "\n".join(driver.log_text().splitlines()[-_LOG_TAIL_LINES:]),
            pytrace=False,
        )


def _resolve_target(target: str | None, root: Path) -> str:
    """The target the child will run, resolved here so a missing one fails before a window opens."""
    from ..errors import FlaskdeskError
    from ..launcher import find_project, resolve_target

    try:
        project, _ = find_project(root)
        return resolve_target(target, project, os.environ)
    except FlaskdeskError as error:
        pytest.fail(f"desktop_window: {error} (or pass --flaskdesk-app TARGET)", pytrace=False)


def _frozen_executable(config: pytest.Config) -> Path:
    """``--flaskdesk-frozen``, ``$FLASKDESK_FROZEN``, else ``dist/NAME/NAME``: an explicit path must exist."""
    from ..errors import FlaskdeskError
    from ..launcher import find_project

    explicit = config.getoption("flaskdesk_frozen", None) or os.environ.get(FROZEN_VARIABLE)
    if explicit:
        path = Path(explicit)
        if not path.is_absolute():
            path = config.rootpath / path
        if not path.is_file():
            pytest.fail(
                f"frozen_app: {path} (from --flaskdesk-frozen/${FROZEN_VARIABLE}) does not exist",
                pytrace=False,
            )
        return path
    try:
        project, root = find_project(config.rootpath)
    except FlaskdeskError as error:
        pytest.skip(f"frozen_app: no project to find a build of ({error})")
    name = project.name if project is not None and project.name else None
    if name is None:
        pytest.skip(
            "frozen_app: [tool.flaskdesk] has no name, so there is no dist/NAME to look in; "
            "pass --flaskdesk-frozen PATH"
        )
    suffix = ".exe" if sys.platform == "win32" else ""
    candidates = [root / "dist" / name / f"{name}{suffix}", root / "dist" / f"{name}{suffix}"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    pytest.skip(
        f"frozen_app: no build at {candidates[0]}; run `flaskdesk build` first "
        f"(or pass --flaskdesk-frozen PATH / set {FROZEN_VARIABLE})"
    )
