"""Start an app named by a target (``module:app``, ``module:create_app()``): the runtime's entry point.

The CLI's ``flaskdesk run``, ``flask desktop`` and a frozen app's executable all come through here,
so an app that cannot be imported, or whose factory raises, is shown the same way everywhere: a
window with the message and the log file's path, then a non-zero exit.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from . import automation, resources
from .app.loader import instance_path_override, locate_app
from .app.logs import configure_logging, ensure_std_streams
from .app.paths import AppPaths
from .config import ENV_VARS, ProjectConfig, find_pyproject, load_project_config, project_config_from_dict
from .desktop import Desktop
from .errors import AppNotFoundError, FlaskdeskError
from .launch import launch, report_startup_error
from .ui.backend import select_backend
from .ui.window import WindowOptions

log = logging.getLogger("flaskdesk")

#: ``before_run(app, project, desktop, channel)``: see :func:`run_target`.
BeforeRun = Callable[[Flask, "ProjectConfig | None", Desktop, "automation.AutomationChannel | None"], None]


def find_project(start: Path | None = None) -> tuple[ProjectConfig | None, Path]:
    """The project's ``[tool.flaskdesk]`` (baked into a frozen build) and the folder to import from."""
    baked = resources.load_baked_config()
    if baked is not None:
        config = project_config_from_dict(
            baked.get("tool", {}),
            source="baked configuration",
            project=baked.get("project"),
            root=resources.bundle_dir(),
        )
        return config, resources.bundle_dir()
    start = (start or Path.cwd()).resolve()
    pyproject = find_pyproject(start)
    if pyproject is None:
        return None, start
    return load_project_config(pyproject), pyproject.parent


def resolve_target(target: str | None, project: ProjectConfig | None, env: Mapping[str, str]) -> str:
    """``--app``, then ``$FLASK_APP``, then ``[tool.flaskdesk] app``."""
    found = target or env.get("FLASK_APP") or (project.app if project else None)
    if not found:
        raise AppNotFoundError(
            "No app to run: pass --app module:app (or module:create_app()), set FLASK_APP, or add "
            '`app = "module:create_app()"` under [tool.flaskdesk] in pyproject.toml.'
        )
    return found


def load_app(
    target: str | None = None, *, start: Path | None = None, env: Mapping[str, str] | None = None
) -> tuple[Flask, ProjectConfig | None]:
    """Import the user's app, with its instance folder already in the user data dir when the name is known."""
    env = os.environ if env is None else env
    project, root = find_project(start)
    target = resolve_target(target, project, env)
    name = env.get(ENV_VARS["name"]) or (project.name if project else None)
    with _instance_override(name, env):
        app = locate_app(target, search_path=root)
    return app, project


def run_target(
    target: str | None = None,
    *,
    dev: bool = False,
    cli: Mapping[str, Any] | None = None,
    start: Path | None = None,
    before_run: BeforeRun | None = None,
) -> None:
    """Load the app named by ``target`` and run it in a window; failures are shown, then raised.

    ``before_run(app, project, desktop, channel)`` runs once the app is loaded and before its
    window opens (a frozen app runs its first-run commands there); what it raises is shown like
    any other failure to start.
    """
    ensure_std_streams()
    channel = automation.claim(os.environ)  # before the user's code can see the variables
    try:
        try:
            app, project = load_app(target, start=start)
        except FlaskdeskError as error:
            show_load_failure(target, error, cli or {}, channel)
            raise
        desktop = app.extensions.get("flaskdesk")
        if not isinstance(desktop, Desktop):
            desktop = Desktop(app)
        if before_run is not None:
            before_run(app, project, desktop, channel)
        launch(
            desktop,
            dev=dev,
            cli=cli,
            automation=channel,
            reload=(lambda: load_app(target, start=start)[0]) if dev else None,
        )
    finally:
        if channel is not None:
            channel.close()


def show_load_failure(
    target: str | None,
    error: FlaskdeskError,
    cli: Mapping[str, Any],
    channel: automation.AutomationChannel | None,
) -> None:
    """The app never came into being: show the error with what the project alone tells us."""
    try:
        project, _ = find_project()
    except FlaskdeskError:
        project = None
    name = (
        os.environ.get(ENV_VARS["name"])
        or (project.name if project else None)
        or (target or "flaskdesk").split(":")[0].replace("/", ".")
    )
    title = (project.title if project and project.title else None) or name
    data_root = os.environ.get(ENV_VARS["data_dir"])
    paths = AppPaths.for_app(name, data_root=Path(data_root) if data_root else None)
    log_file: Path | None = None
    try:
        paths.ensure()
        log_file = configure_logging(paths.log_dir, name=name, dev=False)
    except FlaskdeskError:
        log.exception("could not set up logging")
    options = WindowOptions(title=title)
    if channel is not None:
        report_startup_error(None, options, error, log_file, channel)
        return
    backend = select_backend(cli.get("backend") or (project.backend if project else None))
    report_startup_error(backend, options, error, log_file, None)


@contextlib.contextmanager
def _instance_override(name: str | None, env: Mapping[str, str]) -> Iterator[None]:
    if not name:
        yield
        return
    data_root = env.get(ENV_VARS["data_dir"])
    paths = AppPaths.for_app(name, data_root=Path(data_root) if data_root else None)
    with instance_path_override(paths.instance_dir):
        yield
