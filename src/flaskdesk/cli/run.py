"""``flaskdesk run``: open the app in its window, or (``--browser``) in the system's web browser.

``--browser`` serves the app exactly as the window would (same guard, same launch token) and
hands the token to the browser the way Jupyter does: through an HTML redirect file in a private
temporary folder (0700, file 0600) that only the user can read. The browser's command line (which
every local user can read in ``/proc``) only ever carries that file's path.
"""

from __future__ import annotations

import contextlib
import hmac
import html
import logging
import os
import signal
import sys
import tempfile
import threading
import webbrowser
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import click

from ..errors import BackendError
from ..launcher import load_app, run_target
from .doctor import SystemProbe, has_display

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("flaskdesk")

LAUNCH_PATH = "/__flaskdesk__/launch"


@click.command("run")
@click.option(
    "--app",
    "target",
    metavar="TARGET",
    help="module:app or module:create_app(); default: FLASK_APP, then [tool.flaskdesk] app.",
)
@click.option(
    "--backend", type=click.Choice(["qt", "gtk"]), default=None, help="Window backend (also FLASKDESK_GUI)."
)
@click.option(
    "--dev/--no-dev",
    default=True,
    show_default=True,
    help="Dev mode: live reload on template, static and Python edits; Werkzeug debugger and devtools.",
)
@click.option(
    "--browser",
    is_flag=True,
    help="Serve the app to the system web browser instead of a window (still token-guarded).",
)
def run_command(target: str | None, backend: str | None, dev: bool, browser: bool) -> None:
    """Run the Flask app in a native desktop window."""
    if browser:
        serve_in_browser(target, dev=dev)
        return
    displayed, why = has_display(SystemProbe())
    if not displayed:
        raise BackendError(
            f"no display to open a window on ({why}). Run it under a virtual display, "
            "`xvfb-run -a flaskdesk run ...`, or serve it to your web browser with "
            "`flaskdesk run --browser`."
        )
    cli = {"backend": backend} if backend else {}
    run_target(target, dev=dev, cli=cli)


# --- --browser ------------------------------------------------------------------------------------


def redirect_page(launch_url: str, title: str) -> str:
    """The redirect file's HTML: go to the launch URL at once (no script needed)."""
    url = html.escape(launch_url, quote=True)
    name = html.escape(title)
    return (
        "<!doctype html>\n<html><head><meta charset='utf-8'>"
        f"<meta http-equiv='refresh' content='0;url={url}'><title>Opening {name}</title></head>\n"
        f"<body><p>Opening {name}... If nothing happens, <a href='{url}'>click here</a>.</p></body></html>\n"
    )


@contextlib.contextmanager
def redirect_file(launch_url: str, title: str) -> Iterator[Path]:
    """A private redirect file for the browser: 0600 in a 0700 temporary folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="flaskdesk-"))  # mkdtemp makes it 0700
    path = folder / "open.html"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(redirect_page(launch_url, title))
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        with contextlib.suppress(OSError):
            folder.rmdir()


class BrowserLaunch:
    """WSGI middleware in front of the guard for ``--browser``.

    The browser's first request comes from the redirect file, a ``file://`` page, so it carries
    ``Sec-Fetch-Site: cross-site``, which the guard rightly refuses (and a ``SameSite=Strict``
    cookie set on that cross-site navigation would not be sent on its redirect either). A
    top-level navigation to the launch URL with the *right* token is therefore answered with a
    tiny page that repeats the same navigation from the app's own origin; the guard then sees a
    same-origin launch. Anything else, a wrong token included, goes to the guard untouched.
    """

    def __init__(self, guard: Any, *, token: str, port: int) -> None:
        self.guard = guard
        self._token = token.encode("ascii")
        self._hosts = frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self._is_cross_site_launch(environ):
            query = parse_qs(environ.get("QUERY_STRING", ""), max_num_fields=8)
            tokens = query.get("token", [])
            given = tokens[0].encode("utf-8", "replace") if len(tokens) == 1 else b""
            if hmac.compare_digest(given, self._token):
                nexts = query.get("next", ["/"])
                next_path = nexts[0] if len(nexts) == 1 and _is_local_path(nexts[0]) else "/"
                body = redirect_page(self.guard.launch_url(next_path), "the app").encode("utf-8")
                start_response(
                    "200 OK",
                    [
                        ("Content-Type", "text/html; charset=utf-8"),
                        ("Content-Length", str(len(body))),
                        ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
                        ("Cache-Control", "no-store"),
                        ("Referrer-Policy", "no-referrer"),
                        ("X-Content-Type-Options", "nosniff"),
                        ("X-Frame-Options", "DENY"),
                    ],
                )
                return [body]
        result: Iterable[bytes] = self.guard(environ, start_response)
        return result

    def _is_cross_site_launch(self, environ: WSGIEnvironment) -> bool:
        return (
            environ.get("PATH_INFO") == LAUNCH_PATH
            and environ.get("REQUEST_METHOD") == "GET"
            and environ.get("HTTP_HOST") in self._hosts
            and environ.get("HTTP_SEC_FETCH_SITE") == "cross-site"
            and environ.get("HTTP_SEC_FETCH_MODE") == "navigate"
            and environ.get("HTTP_SEC_FETCH_DEST", "document") == "document"
        )


def _is_local_path(value: str) -> bool:
    return value.startswith("/") and not value.startswith("//") and "\\" not in value


def serve_in_browser(
    target: str | None,
    *,
    dev: bool,
    open_browser: Callable[[str], object] = webbrowser.open,
    stop: threading.Event | None = None,
) -> None:
    """Serve the app on loopback behind the guard and open it in the system browser until stopped.

    Stops on Ctrl+C or SIGTERM (or when ``stop`` is set), after finishing in-flight requests.
    """
    from ..app.guard import Guard
    from ..app.logs import configure_logging
    from ..app.paths import AppPaths
    from ..app.server import Server
    from ..desktop import Desktop
    from ..launch import build_guard, live_app, not_ready

    app, _ = load_app(target)
    found = app.extensions.get("flaskdesk")
    desktop = found if isinstance(found, Desktop) else Desktop(app)
    settings = desktop.launch_settings(app)
    paths = AppPaths.for_app(settings.name, data_root=settings.data_dir)
    paths.ensure()
    configure_logging(paths.log_dir, name=settings.name, dev=dev, app_logger=app.logger.name)
    desktop.relocate_instance_path(app)
    live = live_app(app, desktop, lambda: load_app(target)[0]) if dev else None
    server = Server(not_ready, name=settings.name)
    token = Guard.new_token()
    guard = build_guard(desktop, app, port=server.port, token=token, csp=settings.csp, dev=dev, live=live)
    server.swap_app(BrowserLaunch(guard, token=token, port=server.port))
    stop = stop or threading.Event()
    try:
        server.start()
        if live is not None:
            live.start()
        with redirect_file(guard.launch_url("/"), settings.title) as page, _stop_on_signals(stop):
            click.secho(f"Serving {settings.title} on {server.url} (token-guarded).", fg="green")
            click.echo(
                f"Opening it in your web browser; if none opens, open this file in one:\n  {page.as_uri()}"
            )
            if live is not None:
                click.echo("Dev mode: edits reload the app; refresh the browser to see them.")
            click.echo("Press Ctrl+C to stop.")
            # Some browser commands ($BROWSER) only return when the browser exits: do not wait.
            threading.Thread(
                target=open_browser, args=(page.as_uri(),), name="open-browser", daemon=True
            ).start()
            while not stop.wait(0.5):
                pass
    finally:
        if live is not None:
            live.stop()
        drained = server.shutdown(settings.shutdown_timeout)
        if not drained:
            log.warning("requests still running after %.1f s were cut off", settings.shutdown_timeout)
    desktop.run_teardown()
    click.echo("Stopped.")


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stop`` (only from the main thread, where handlers can be installed)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = [signal.SIGINT, signal.SIGTERM] if sys.platform != "win32" else [signal.SIGINT]
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
