"""The frozen app's entry point: the app's own Flask commands, first-run and upgrade steps, then the window.

``flaskdesk build`` makes this the executable's ``main`` (its script only imports this module), so
everything a built app does at start-up is runtime code, tested from source:

* ``NAME flask COMMAND ...`` runs the app's own Flask CLI commands (``init-db``, ``db upgrade``,
  ``routes``...) with the app loaded exactly as the window would load it, and exits with their
  status.
* Otherwise, before the window opens: ``first-run`` commands run once, when the user's data dir
  is created (never again, so no data is wiped on the next start); ``on-upgrade`` commands run
  once whenever a new app version first starts. Both are recorded in
  ``<data dir>/flaskdesk-state.json`` *after* they succeed, so a failed step is retried on the
  next start instead of being skipped for good.
* Then the app runs in its window; a :class:`~flaskdesk.FlaskdeskError` becomes its exit status.

Like the CLI, this is an entry point and so one of the two places allowed to print and exit.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shlex
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from flask import Flask

from . import automation, resources
from .app.logs import configure_logging, ensure_std_streams
from .app.paths import AppPaths
from .config import ENV_VARS, ProjectConfig
from .desktop import Desktop
from .errors import AppLoadError, FlaskdeskError
from .launch import report_startup_error, window_options
from .launcher import find_project, load_app, run_target
from .ui.backend import select_backend

log = logging.getLogger("flaskdesk")

#: Records, in the user's data dir, which start-up steps already ran (and for which version).
STATE_FILE = "flaskdesk-state.json"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the frozen app (or, with ``flask ...``, one of its commands); return the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    ensure_std_streams()
    try:
        if args[:1] == ["flask"]:
            return run_flask_command(args[1:])
        start()
    except FlaskdeskError as error:
        print(f"Error: {error}", file=sys.stderr)  # noqa: T201 - an entry point reports its own failure
        return error.exit_code
    return 0


def run_flask_command(args: Sequence[str], *, app: Flask | None = None) -> int:
    """Run ``flask ARGS`` against the app (loaded as the window loads it, or ``app``); return its status."""
    from flask.cli import FlaskGroup

    def create_app() -> Flask:
        return app if app is not None else load_app()[0]

    group = FlaskGroup(create_app=create_app, load_dotenv=False, set_debug_flag=False)
    prog = f"{Path(sys.executable).name} flask"
    try:
        result = group.main(args=list(args), prog_name=prog, standalone_mode=False)
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        return 1
    except SystemExit as exit_:  # a command that calls sys.exit(): its status, not the end of the app
        if exit_.code is None or isinstance(exit_.code, int):
            return exit_.code or 0
        click.echo(str(exit_.code), err=True)
        return 1
    return result if isinstance(result, int) else 0


@dataclass(frozen=True)
class Step:
    """One start-up command: which list it came from (``first-run`` / ``on-upgrade``) and its text."""

    kind: str
    command: str


def plan_steps(
    state: Mapping[str, Any],
    *,
    created: bool,
    version: str | None,
    first_run: Sequence[str],
    on_upgrade: Sequence[str],
) -> list[Step]:
    """The commands this start must run, given the recorded ``state`` (pure).

    First run (data dir just created, or a previous first run did not finish): ``first-run``
    only — a fresh install's data is created at the current version, so ``on-upgrade`` is not
    run on top. Otherwise ``on-upgrade`` when ``version`` differs from the recorded one (no
    record counts as different: a build that predates the record is older).
    """
    if created or state.get("first-run") == "pending":
        return [Step("first-run", command) for command in first_run]
    if version is not None and state.get("version") != version:
        return [Step("on-upgrade", command) for command in on_upgrade]
    return []


def read_state(data_dir: Path) -> dict[str, Any]:
    """The recorded start-up state (empty when missing or unreadable)."""
    try:
        state = json.loads((data_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def write_state(data_dir: Path, state: Mapping[str, Any]) -> None:
    """Record ``state`` atomically (a crash never leaves a half-written file)."""
    path = data_dir / STATE_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(dict(state), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)


@contextlib.contextmanager
def _in_bundle_dir() -> Iterator[None]:
    """Start-up commands run from the bundle folder, where a collected ``migrations/`` lives."""
    previous = os.getcwd()
    os.chdir(resources.bundle_dir())
    try:
        yield
    finally:
        os.chdir(previous)


def run_startup_steps(
    app: Flask, project: ProjectConfig | None, data_dir: Path, *, created: bool, version: str | None
) -> list[Step]:
    """Run the due ``first-run``/``on-upgrade`` commands and record them; raise on the first failure."""
    state = read_state(data_dir)
    steps = plan_steps(
        state,
        created=created,
        version=version,
        first_run=(project.first_run or ()) if project else (),
        on_upgrade=(project.on_upgrade or ()) if project else (),
    )
    first = bool(steps) and steps[0].kind == "first-run"
    if first:
        write_state(data_dir, {**state, "first-run": "pending"})
    for step in steps:
        log.info("running %s command: flask %s", step.kind, step.command)
        with _in_bundle_dir():
            status = run_flask_command(shlex.split(step.command), app=app)
        if status != 0:
            raise AppLoadError(
                f"The {step.kind} command `flask {step.command}` failed with exit status {status}, "
                "so the app did not start. It will run again next time. Details are in the log; run "
                f"`{Path(sys.executable).name} flask {step.command}` in a terminal to see its output."
            )
    if created or steps or state.get("version") != version:
        write_state(data_dir, {**state, "first-run": "done", "version": version})
    return steps


def start() -> None:
    """Load the app, run the due start-up commands, then show it (blocks until the window closes).

    Everything but the start-up commands is :func:`~flaskdesk.launcher.run_target`'s, so a frozen
    app claims the automation channel, loads and fails exactly like ``flaskdesk run``.
    """
    # Is this the first run? Decide before the app loads: its factory may create folders in the
    # data dir (os.makedirs(app.instance_path)), which would hide that it was new.
    fresh = _data_dir_is_new()
    run_target(
        None,
        before_run=lambda app, project, desktop, channel: _run_due_steps(
            app, project, desktop, channel, fresh=fresh
        ),
    )


def _data_dir_is_new() -> bool | None:
    """Whether the app's data dir does not exist yet (``None``: the name is only known later)."""
    project, _ = find_project()
    name = os.environ.get(ENV_VARS["name"]) or (project.name if project else None)
    if not name:
        return None
    data_root = os.environ.get(ENV_VARS["data_dir"])
    paths = AppPaths.for_app(name, data_root=Path(data_root) if data_root else None)
    return not paths.data_dir.exists()


def _run_due_steps(
    app: Flask,
    project: ProjectConfig | None,
    desktop: Desktop,
    channel: automation.AutomationChannel | None,
    *,
    fresh: bool | None,
) -> None:
    settings = desktop.launch_settings(app)
    paths = AppPaths.for_app(settings.name, data_root=settings.data_dir)
    created = paths.ensure()
    if fresh is not None:
        created = fresh
    log_file = configure_logging(paths.log_dir, name=settings.name, dev=False, app_logger=app.logger.name)
    try:
        run_startup_steps(app, project, paths.data_dir, created=created, version=settings.version)
    except FlaskdeskError as error:
        backend = None if channel is not None else select_backend(settings.backend)
        report_startup_error(backend, window_options(settings), error, log_file, channel)
        raise


if __name__ == "__main__":  # pragma: no cover - the frozen entry script calls main() itself
    sys.exit(main())
