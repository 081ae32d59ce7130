"""Joins the two runtime rooms for one launch: bind → guard → serve → window → drain → teardown.

``app/`` serves HTTP and ``ui/`` shows windows; neither knows the other. This module is where a
launch is put together, and where a failure to start becomes a window with a readable message
instead of a blank page or a hang.

The ``transport`` setting picks how the window reaches the app: ``"loopback"`` (the default) binds
a :class:`~flaskdesk.app.server.Server` on ``127.0.0.1`` behind the :class:`Guard`; ``"scheme"``
opens no socket at all: an :class:`~flaskdesk.app.inprocess.InProcessApp` behind the
:class:`~flaskdesk.app.inprocess.SchemeGuard` answers the window engine's ``app://`` requests
(:mod:`flaskdesk.ui.scheme`), with the same start, drain and teardown.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

from . import automation as automation_channel
from . import features
from .app.guard import Guard, GuardPolicy
from .app.logs import configure_logging, ensure_std_streams
from .app.paths import AppPaths
from .app.server import Server
from .errors import ConfigError, FlaskdeskError, ServerError
from .ui.backend import Backend, select_backend
from .ui.bridge import script_wsgi_app
from .ui.scheme import HOST as SCHEME_HOST
from .ui.window import WindowHandle, WindowOptions, WindowSession

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from .app.inprocess import InProcessApp, SchemeGuard
    from .desktop import Desktop
    from .devloop import LiveApp
    from .settings import LaunchSettings
    from .ui.scheme import SchemeTransport

log = logging.getLogger("flaskdesk")

#: ``transport="scheme"``: the cookie jar's file in the app's web storage dir (mode 0600).
SCHEME_COOKIE_FILE = "scheme-cookies.lwp"


def launch(
    desktop: Desktop,
    *,
    dev: bool = False,
    cli: Mapping[str, Any] | None = None,
    automation: automation_channel.AutomationChannel | None = None,
    reload: Callable[[], Flask] | None = None,
) -> None:
    """Run ``desktop``'s app in a window until the last window closes; raise if it could not start.

    ``automation`` is the test tool's channel when a launcher already claimed it; otherwise it is
    claimed here (``python app.py`` run by a test driver).
    """
    ensure_std_streams()
    channel = automation if automation is not None else automation_channel.claim(os.environ)
    try:
        _launch(desktop, dev=dev, cli=cli, channel=channel, reload=reload)
    finally:
        features.release(desktop)  # the single-instance lock, if this launch held it
        if channel is not None:
            channel.close()


def _launch(
    desktop: Desktop,
    *,
    dev: bool,
    cli: Mapping[str, Any] | None,
    channel: automation_channel.AutomationChannel | None,
    reload: Callable[[], Flask] | None = None,
) -> None:
    app = desktop._require_app()
    settings = desktop.launch_settings(app, cli)
    paths = AppPaths.for_app(settings.name, data_root=settings.data_dir)
    paths.ensure()
    log_file = configure_logging(paths.log_dir, name=settings.name, dev=dev, app_logger=app.logger.name)
    try:
        instance = features.claim_instance(desktop, settings, paths, channel)
    except FlaskdeskError as error:
        options = window_options(settings)
        report_startup_error(select_backend(settings.backend), options, error, log_file, channel)
        raise
    if instance == features.HANDED_OVER:
        return  # the running instance has this launch's arguments and comes to the front
    backend = select_backend(settings.backend)
    options = window_options(settings)
    try:
        desktop.relocate_instance_path(app)
        check_template_folder(app)
        server: Server | InProcessApp = (
            in_process_app(app, paths, settings.name)
            if settings.transport == "scheme"
            else bind_server(paths, settings.name)
        )
    except FlaskdeskError as error:
        report_startup_error(backend, options, error, log_file, channel)
        raise
    live = live_app(app, desktop, reload) if dev else None
    try:
        if isinstance(server, Server):
            guard: Guard = build_guard(
                desktop, app, port=server.port, token=Guard.new_token(), csp=settings.csp, dev=dev, live=live
            )
            scheme = None
        else:
            guard = build_scheme_guard(
                desktop, app, origin=server.origin, csp=settings.csp, dev=dev, live=live
            )
            scheme = _scheme_transport(server)
        server.swap_app(guard)
        server.start()
        if live is not None:
            live.start()
        log.info("%s serving on %s (pid %d)", settings.name, server.url, os.getpid())

        def on_shown(handle: WindowHandle) -> None:
            if live is not None:
                live.attach_window(handle, server.url)
            if channel is not None:
                channel.start(handle, app=app, origin=server.url, log_file=log_file)

        session = WindowSession(
            url=guard.launch_url("/"),
            options=options,
            app_origin=server.url,
            storage_dir=paths.web_storage_dir,
            dev=dev,
            on_shown=on_shown,
            scheme=scheme,
            **features.session_options(desktop, app, settings, paths, guard),
        )
        with features.running(desktop, backend, app):
            backend.run(session)
    except FlaskdeskError as error:
        report_startup_error(backend, options, error, log_file, channel)
        raise
    finally:
        if live is not None:
            live.stop()
        server.shutdown(settings.shutdown_timeout)  # logs the requests it had to cut off, if any
    (live.desktop if live is not None else desktop).run_teardown()
    log.info("%s closed cleanly", settings.name)


def build_guard(
    desktop: Desktop,
    app: Flask,
    *,
    port: int,
    token: str,
    csp: str | None,
    dev: bool,
    live: LiveApp | None = None,
) -> Guard:
    """The guard and its internal mounts around what is served: the one way every launch builds it.

    ``live`` (dev mode) is served instead of ``app`` and answers bridge calls for the current app.
    Bridge calls run inside ``app``'s application context.
    """
    desktop.bridge.context = app.app_context
    return Guard(
        live if live is not None else app,
        port=port,
        token=token,
        policy=GuardPolicy(csp=csp, dev=dev),
        internal=_internal_mounts(desktop, live),
    )


def build_scheme_guard(
    desktop: Desktop,
    app: Flask,
    *,
    origin: str,
    csp: str | None,
    dev: bool,
    live: LiveApp | None = None,
) -> SchemeGuard:
    """:func:`build_guard` for ``transport="scheme"``: the same mounts, checks against ``origin``."""
    from .app.inprocess import SchemeGuard  # the scheme's modules load only when it is used

    desktop.bridge.context = app.app_context
    return SchemeGuard(
        live if live is not None else app,
        origin=origin,
        policy=GuardPolicy(csp=csp, dev=dev),
        internal=_internal_mounts(desktop, live),
    )


def _internal_mounts(desktop: Desktop, live: LiveApp | None) -> dict[str, WSGIApplication]:
    return {
        "bridge": live.bridge_wsgi_app if live is not None else desktop.bridge.wsgi_app,
        "flaskdesk.js": script_wsgi_app,
    }


def in_process_app(app: Flask, paths: AppPaths, name: str) -> InProcessApp:
    """``transport="scheme"``: the app served to the window's engine in-process; no socket is opened.

    Neither engine keeps cookies for a custom scheme, so the transport keeps them: persistent ones
    (Flask-Login's "remember me", permanent sessions) in the app's web storage dir, where the
    engine keeps its own for the loopback transport. What the app uses that a scheme cannot carry
    (WebSockets) is logged now; the page's console says it again when it tries.
    """
    from .app.inprocess import InProcessApp, scheme_problems
    from .ui.scheme import ORIGIN

    for problem in scheme_problems(app):
        log.warning("%s", problem)
    return InProcessApp(
        not_ready, origin=ORIGIN, name=name, cookie_file=paths.web_storage_dir / SCHEME_COOKIE_FILE
    )


def _scheme_transport(server: InProcessApp) -> SchemeTransport:
    from .ui.scheme import SchemeTransport

    return SchemeTransport(server.handle, server.origin)


def bind_server(paths: AppPaths, name: str) -> Server:
    """Bind the port this app had last time, else any free one.

    Browsers key localStorage and IndexedDB by origin, port included: keeping the port keeps the
    pages' stored data across runs. The socket is bound for real (never probed), so a port that
    another program took just means a new port, and a note in the log.
    """
    port_file = paths.data_dir / "last-port"
    remembered = _read_port(port_file)
    if remembered:
        try:
            return Server(not_ready, port=remembered, name=name)
        except ServerError as error:
            log.warning(
                "could not reuse port %d (%s); the window's local storage starts empty this run",
                remembered,
                error.__cause__ or error,
            )
    server = Server(not_ready, name=name)
    try:
        port_file.write_text(str(server.port))
    except OSError as error:
        log.warning("could not remember the port in %s: %s", port_file, error)
    return server


def _read_port(path: Path) -> int | None:
    try:
        port = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return port if 1024 <= port <= 65535 else None


def window_options(settings: LaunchSettings) -> WindowOptions:
    """The window's look, from the resolved settings."""
    return WindowOptions(
        title=settings.title,
        width=settings.width,
        height=settings.height,
        min_size=settings.min_size,
        resizable=settings.resizable,
        icon=settings.icon,
        background_color=settings.background_color,
    )


def check_template_folder(app: Flask) -> None:
    """Refuse to start when the app names a template folder that is not there.

    Flask's default ``templates`` may legitimately be absent (an app without templates), so only
    a folder the app set explicitly is an error; a missing default is logged.
    """
    if app.template_folder is None:
        return
    folder = Path(app.root_path, app.template_folder)
    if folder.is_dir():
        return
    if str(app.template_folder) != "templates":
        raise ConfigError(
            f"The app {app.name!r} uses the template folder {folder}, which does not exist. Create it, fix "
            "template_folder= in Flask(...), or, in a frozen build, rebuild with `flaskdesk build` so the "
            "templates are collected."
        )
    log.info("no templates folder at %s; render_template() will only find blueprint templates", folder)


def report_startup_error(
    backend: Backend | None,
    options: WindowOptions,
    error: BaseException,
    log_file: Path | None,
    channel: automation_channel.AutomationChannel | None,
) -> None:
    """A test tool driving this launch hears of the failure at once; a person sees a window."""
    if channel is not None:
        log.error("%s could not start: %s", options.title, error, exc_info=error)
        channel.fail(error, log_file)
    elif backend is not None:
        show_startup_error(backend, options, error, log_file)


def show_startup_error(
    backend: Backend, options: WindowOptions, error: BaseException, log_file: Path | None
) -> None:
    """Log the traceback and show the user what went wrong (blocks until that window closes)."""
    log.error("%s could not start: %s", options.title, error, exc_info=error)
    try:
        backend.show_error(
            f"{options.title} could not start", error_page(options.title, error, log_file), options
        )
    except Exception:
        log.exception("could not show the error window")


def error_page(title: str, error: BaseException, log_file: Path | None) -> str:
    """The startup-failure page: what happened, and where the details are."""
    where = (
        f"<p>The full details are in the log file:<br><code>{html.escape(str(log_file))}</code></p>"
        if log_file
        else ""
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>"
        f"{html.escape(title)} could not start</title><style>"
        "body{font:15px/1.5 system-ui,sans-serif;margin:2.5em;color:#222;background:#fff}"
        "h1{font-size:1.4em;color:#b00020}code{background:#f3f3f3;padding:.1em .3em;word-break:break-all}"
        "pre{white-space:pre-wrap;background:#f7f7f7;padding:1em;border-left:4px solid #b00020}"
        "</style></head><body>"
        f"<h1>{html.escape(title)} could not start</h1>"
        f"<pre>{html.escape(str(error))}</pre>{where}"
        "<p>Close this window to exit.</p></body></html>"
    )


def live_app(app: Flask, desktop: Desktop, reload: Callable[[], Flask] | None) -> LiveApp:
    """Dev mode's reloading app (imported here: a shipped app never loads the dev loop)."""
    from .devloop import LiveApp

    return LiveApp(app, desktop=desktop, wrap=_debugged, load=reload)


def _debugged(app: Flask) -> Any:
    """The Werkzeug debugger around the app, for dev mode only (the guard still protects it)."""
    from werkzeug.debug import DebuggedApplication

    app.debug = True
    debugged = DebuggedApplication(app, evalex=True, pin_security=False)
    # Its console trusts only localhost names; the scheme's host is reachable from the window's own
    # engine alone (over loopback the guard's Host allow-list refuses that Host before it gets here).
    debugged.trusted_hosts.append(SCHEME_HOST)
    return debugged


def not_ready(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """What the server answers between binding and the guard being in place."""
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]
