"""The desktop features of one launch, joined to the app and the window: ``launch.py``'s helpers.

* :func:`claim_instance`: the single-instance lock (``flaskdesk.instance``), taken before the
  server binds, so a second launch hands its argv over and exits without opening anything;
* :func:`session_options`: what the window session needs for menus, the tray icon, the splash,
  remembered window sizes, downloads and new windows;
* :func:`running`: while the window runs, ``desktop.dialogs``, ``desktop.open_window`` and later
  launches reach it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from flask import Flask

from .instance import SingleInstance, claim
from .ui.window import WindowManager

if TYPE_CHECKING:
    from .app.guard import Guard
    from .app.paths import AppPaths
    from .automation import AutomationChannel
    from .desktop import Desktop
    from .settings import LaunchSettings
    from .ui.backend import Backend

log = logging.getLogger("flaskdesk")

#: :func:`claim_instance`'s answer when another instance took this launch's arguments.
HANDED_OVER = "handed over"


def single_instance_applies(settings: LaunchSettings, channel: AutomationChannel | None) -> bool:
    """On by default for window launches; never under a test tool or ``build --check`` (automation)."""
    return bool(settings.single_instance) and channel is None


def claim_instance(
    desktop: Desktop,
    settings: LaunchSettings,
    paths: AppPaths,
    channel: AutomationChannel | None,
    *,
    argv: list[str] | None = None,
) -> SingleInstance | str | None:
    """Take this data dir's instance lock, or hand ``argv`` to the instance that has it.

    Returns the held lock (kept on ``desktop`` until :func:`release`), :data:`HANDED_OVER` when
    this launch should now end (exit 0), or ``None`` when single instance does not apply.
    """
    if not single_instance_applies(settings, channel):
        return None
    argv = list(sys.argv if argv is None else argv)
    held = claim(paths.data_dir, argv, os.getcwd())
    if held is None:
        log.info(
            "%s is already running (data in %s): it took this launch's arguments and came to the front. "
            "To run several copies, set single-instance = false in [tool.flaskdesk] or use another "
            "FLASKDESK_DATA_DIR.",
            settings.name,
            paths.data_dir,
        )
        return HANDED_OVER
    desktop._instance = held
    return held


def release(desktop: Desktop) -> None:
    """Give up the instance lock (the process is about to end, or the launch failed)."""
    held, desktop._instance = desktop._instance, None
    if held is not None:
        held.close()


def session_options(
    desktop: Desktop, app: Flask, settings: LaunchSettings, paths: AppPaths, guard: Guard
) -> dict[str, Any]:
    """The :class:`~flaskdesk.ui.window.WindowSession` fields for the desktop features."""
    return {
        "menus": desktop._menu_bar(),
        "run_action": _in_app_context(app),
        "splash_html": desktop._splash_html(app),
        "state_file": paths.config_dir / "window-state.json",
        "tray": desktop._tray(app, settings),
        "window_url": guard.launch_url,
    }


@contextlib.contextmanager
def running(desktop: Desktop, backend: Backend, app: Flask) -> Iterator[None]:
    """While the window runs: the desktop's window features reach ``backend``; later launches are heard."""
    windows = backend if isinstance(backend, WindowManager) else None
    desktop._windows = windows
    held = desktop._instance
    if held is not None:
        held.listen(lambda argv, cwd: desktop._second_instance(app, argv, cwd))
    try:
        yield
    finally:
        desktop._windows = None


def _in_app_context(app: Flask) -> Callable[[Callable[[], object]], None]:
    def run(action: Callable[[], object]) -> None:
        with app.app_context():
            action()

    return run
