"""``flask desktop``: open any Flask project in a window, through Flask's own CLI."""

from __future__ import annotations

import os

import click
from flask.cli import ScriptInfo

from .. import automation
from ..desktop import Desktop


@click.command("desktop")
@click.option(
    "--backend", type=click.Choice(["qt", "gtk"]), default=None, help="Window backend (also FLASKDESK_GUI)."
)
@click.option("--dev/--no-dev", default=False, help="Dev mode: Werkzeug debugger and devtools.")
@click.pass_obj
def desktop_command(info: ScriptInfo, backend: str | None, dev: bool) -> None:
    """Open this Flask app in a native desktop window (flaskdesk)."""
    channel = automation.claim(os.environ)  # a test driver's channel, scrubbed before the app loads
    app = info.load_app()
    desktop = app.extensions.get("flaskdesk")
    if not isinstance(desktop, Desktop):
        desktop = Desktop(app)
    desktop.run(dev=dev, automation=channel, **({"backend": backend} if backend else {}))
