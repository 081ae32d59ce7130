"""``flaskdesk run``: open the app in its window."""

from __future__ import annotations

import click

from ..launcher import run_target


@click.command("run")
@click.option("--app", "target", metavar="TARGET", help="module:app or module:create_app(); default: FLASK_APP, then [tool.flaskdesk] app.")
@click.option("--backend", type=click.Choice(["qt", "gtk"]), default=None, help="Window backend (also FLASKDESK_GUI).")
@click.option("--dev/--no-dev", default=False, help="Dev mode: Werkzeug debugger and devtools.")
def run_command(target: str | None, backend: str | None, dev: bool) -> None:
    """Run the Flask app in a native desktop window."""
    cli = {"backend": backend} if backend else {}
    run_target(target, dev=dev, cli=cli)
