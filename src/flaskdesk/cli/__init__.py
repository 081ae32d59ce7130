"""The ``flaskdesk`` command line: the only place that prints or exits.

Library code raises :class:`~flaskdesk.FlaskdeskError`; :func:`main` turns it into a message on
stderr and the error's exit status.
"""

from __future__ import annotations

import sys

import click

from ..errors import FlaskdeskError
from .build import build_command
from .ci import ci_command
from .doctor import doctor_command
from .new import new_command
from .package import package_command
from .run import run_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="flaskdesk")
def cli() -> None:
    """Turn a Flask app into a desktop application."""


cli.add_command(new_command)
cli.add_command(run_command)
cli.add_command(doctor_command)
cli.add_command(build_command)
cli.add_command(package_command)
cli.add_command(ci_command)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI, mapping flaskdesk errors to exit codes."""
    try:
        status = cli.main(args=argv, prog_name="flaskdesk", standalone_mode=False)
    except click.exceptions.Exit as exit_:
        sys.exit(exit_.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except FlaskdeskError as error:
        click.secho(f"Error: {error}", err=True, fg="red")
        sys.exit(error.exit_code)
    sys.exit(status if isinstance(status, int) else 0)
