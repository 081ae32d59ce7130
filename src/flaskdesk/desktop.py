"""``Desktop``: the runtime's front door.

It is a Flask extension in the usual shape (``Desktop(app)`` or ``Desktop()`` then ``init_app``):
it records the window settings and the exposed bridge functions on ``app.extensions["flaskdesk"]``,
so every tool that loads an app by target finds them, and ``run()`` hands over to the launcher.
Nothing here changes how the app behaves when it is deployed as a website: the guard wraps only
the WSGI callable flaskdesk serves, and the template helpers render nothing outside flaskdesk.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

from flask import Flask, got_request_exception, has_request_context, request
from markupsafe import Markup

from . import resources
from .app.guard import SCRIPT_PATH, log_request_exception
from .app.paths import relocate_instance_path
from .automation import AutomationChannel
from .errors import ConfigError
from .settings import DesktopArgs, LaunchSettings, project_config_for, resolve_settings
from .ui.bridge import Bridge

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("flaskdesk")


class Desktop:
    """Runs a Flask app as a desktop application.

    ``title``, ``width``, ``height``, ``min_size``, ``resizable``, ``icon`` and ``background_color``
    shape the window; ``name`` names the app's data directories (default: ``[tool.flaskdesk] name``,
    else the title); ``backend`` picks ``"qt"`` or ``"gtk"`` on Linux; ``shutdown_timeout`` is how
    long in-flight requests may take to finish once the window closes; ``csp`` replaces the default
    Content-Security-Policy. Each can also come from ``[tool.flaskdesk]`` or the environment.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        title: str | None = None,
        width: int | None = None,
        height: int | None = None,
        min_size: tuple[int, int] | None = None,
        resizable: bool | None = None,
        icon: str | os.PathLike[str] | None = None,
        background_color: str | None = None,
        backend: str | None = None,
        name: str | None = None,
        shutdown_timeout: float | None = None,
        csp: str | None = None,
    ) -> None:
        self.args = DesktopArgs(
            title=title,
            width=width,
            height=height,
            min_size=min_size,
            resizable=resizable,
            icon=icon,
            background_color=background_color,
            backend=backend,
            name=name,
            shutdown_timeout=shutdown_timeout,
            csp=csp,
        )
        self.bridge = Bridge()
        self.app: Flask | None = None
        self._teardown: list[Callable[[], None]] = []
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Register on ``app`` (``app.extensions["flaskdesk"]``) and add the template helpers."""
        if not isinstance(app, Flask):
            raise ConfigError(
                f"Desktop() needs a Flask application, but it was given a {type(app).__name__} "
                f"({app!r:.80}). "
                "Pass the object you created with Flask(__name__), or call desktop.init_app(app) inside your "
                "app factory."
            )
        app.extensions["flaskdesk"] = self
        self.app = app
        app.jinja_env.globals.setdefault("flaskdesk_script", _flaskdesk_script)
        app.jinja_env.globals.setdefault("csp_nonce", _csp_nonce)
        got_request_exception.connect(log_request_exception, app, weak=False)
        if _runs_as_main(app) or resources.is_frozen():
            # Run as a script or frozen: this process is the desktop app, so its instance folder
            # belongs in the user's data dir before other extensions read it.
            self.relocate_instance_path(app)

    def relocate_instance_path(self, app: Flask) -> bool:
        """Point ``app.instance_path`` into the per-user data dir unless the app chose one."""
        from .app.paths import AppPaths

        settings = self.settings(app)
        paths = AppPaths.for_app(settings.name, data_root=settings.data_dir)
        moved = relocate_instance_path(app, paths.instance_dir)
        if moved:
            already = sorted(set(app.extensions) - {"flaskdesk"})
            if already:
                log.warning(
                    "Moved %s's instance folder to %s after the extensions %s were set up; if they "
                    "stored paths under the old instance folder, create Desktop(app) before them.",
                    app.name,
                    paths.instance_dir,
                    ", ".join(already),
                )
        return moved

    @overload
    def expose(self, fn: F) -> F: ...
    @overload
    def expose(self, fn: None = None, *, name: str | None = None) -> Callable[[F], F]: ...
    def expose(self, fn: F | None = None, *, name: str | None = None) -> F | Callable[[F], F]:
        """Make ``fn`` callable from the app's pages as ``await flaskdesk.api.NAME(...)``.

        Only functions registered here can be called, by exact name.
        """
        if fn is None:
            return lambda f: self.bridge.expose(f, name=name)
        return self.bridge.expose(fn, name=name)

    def teardown(self, fn: Callable[[], None]) -> Callable[[], None]:
        """Register ``fn`` to run (inside an app context) after the window closed and requests drained."""
        self._teardown.append(fn)
        return fn

    def run_teardown(self) -> None:
        """Run app teardown: the registered callbacks, then Flask's app-context teardown functions."""
        app = self._require_app()
        with app.app_context():
            for fn in self._teardown:
                try:
                    fn()
                except Exception:
                    log.exception("teardown function %r failed", fn)

    def settings(self, app: Flask | None = None, cli: Mapping[str, Any] | None = None) -> LaunchSettings:
        """Resolve this launch's settings.

        Precedence: command line, environment, pyproject, ``Desktop(...)`` arguments, defaults.
        """
        app = app or self._require_app()
        return resolve_settings(
            self.args,
            default_name=app.name if app.name != "__main__" else _script_name(),
            project=project_config_for(app.root_path),
            cli=cli,
        )

    def run(self, *, dev: bool = False, automation: AutomationChannel | None = None, **cli: Any) -> None:
        """Show the app in a native window; block until the last window closes.

        Raises a :class:`~flaskdesk.FlaskdeskError` after the error window closes when the app
        could not start, so launchers can exit non-zero.
        """
        from .launch import launch

        launch(self, dev=dev, cli=cli, automation=automation)

    def _require_app(self) -> Flask:
        if self.app is None:
            raise ConfigError(
                "This Desktop has no Flask app yet: create it as Desktop(app), or call desktop.init_app(app) "
                "(for example inside your app factory) before running it."
            )
        return self.app


def _runs_as_main(app: Flask) -> bool:
    """Is this process the app itself (``python app.py`` or ``python -m package``), not a web server?"""
    if app.import_name == "__main__":
        return True
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    main_name = getattr(spec, "name", None)
    return main_name in {app.import_name, f"{app.import_name}.__main__"}


def _script_name() -> str:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None) or "app"
    return os.path.splitext(os.path.basename(path))[0]


def _flaskdesk_script() -> Markup:
    """The ``<script>`` tag that defines ``flaskdesk.api``; empty when not served by flaskdesk."""
    nonce = request.environ.get("flaskdesk.csp_nonce") if has_request_context() else None
    if nonce is None:
        return Markup("")
    return Markup('<script src="{}" nonce="{}" data-flaskdesk></script>').format(SCRIPT_PATH, nonce)


def _csp_nonce() -> str:
    """This response's CSP nonce for ``<script nonce="{{ csp_nonce() }}">``; empty outside flaskdesk."""
    return str(request.environ.get("flaskdesk.csp_nonce", "")) if has_request_context() else ""
