"""``flaskdesk new NAME``: scaffold a project that runs, tests and builds out of the box."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import click

from ..packaging.workflow import WORKFLOW_PATH, plan_workflow, render_workflow
from ..scaffold import plan_project, project_names, write_project


def _flaskdesk_version() -> str:
    try:
        return metadata.version("flaskdesk")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0.1.0"


@click.command("new")
@click.argument("name")
@click.option(
    "--directory",
    "-d",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to create the project in (new or empty). Default: ./NAME.",
)
@click.option("--title", help="Window title. Default: NAME in title case ('my-app' → 'My App').")
@click.option(
    "--identifier",
    help="Reverse-DNS app id for installers. Default: org.example.<Name>, e.g. com.acme.MyApp.",
)
def new_command(name: str, directory: Path | None, title: str | None, identifier: str | None) -> None:
    """Create a new flaskdesk project called NAME.

    The project has an app factory, a blueprint, templates with a base layout, static CSS and
    JavaScript, a form, a JSON endpoint, a Python function the page calls through the bridge,
    tests, an icon and a [tool.flaskdesk] table. Nothing existing is ever overwritten.
    """
    names = project_names(name, title=title, identifier=identifier)
    target = directory if directory is not None else Path(name)
    plan = plan_project(names, flaskdesk_version=_flaskdesk_version())
    written = write_project(plan, target)
    workflow = target / WORKFLOW_PATH
    if not workflow.exists():  # the build farm: build, check and package on every OS's runners
        release = plan_workflow(
            name=names.name, backend=None, python_version=f"{sys.version_info[0]}.{sys.version_info[1]}"
        )
        workflow.parent.mkdir(parents=True, exist_ok=True)
        workflow.write_text(render_workflow(release), encoding="utf-8")
        written.append(workflow)
    shown = click.format_filename(str(target))
    click.secho(f"Created {names.title} in {shown}/ ({len(written)} files).", fg="green")
    click.echo(
        "\nNext steps:\n"
        f"  cd {shown}\n"
        "  python -m venv .venv && . .venv/bin/activate\n"
        '  pip install -e ".[dev]"\n'
        "  flaskdesk run --dev      # the window; edits show at once\n"
        "  pytest                   # the project's tests"
    )
