"""``flaskdesk ci``: write ``.github/workflows/release.yml``, which builds and packages on every OS."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..config import find_pyproject, load_project_config
from ..errors import ConfigError
from ..host import Host, HostError
from ..packaging.workflow import WORKFLOW_PATH, plan_workflow, render_workflow


def _repository_root(start: Path) -> Path:
    """The git work tree holding ``start`` (the workflow must sit at its top), else ``start``."""
    host = Host()
    if host.which("git") is None:
        return start
    try:
        result = host.run(["git", "-C", str(start), "rev-parse", "--show-toplevel"])
    except HostError:
        return start
    lines = (result.stdout or "").strip().splitlines()
    top = lines[-1] if lines else ""
    return Path(top) if result.returncode == 0 and top else start


@click.command("ci")
@click.option(
    "--flaskdesk-source",
    metavar="REQUIREMENT",
    default=None,
    help="What the runners pip-install as flaskdesk (default: flaskdesk==THIS_VERSION from PyPI; "
    "or e.g. 'flaskdesk @ git+https://github.com/OWNER/flaskdesk@main').",
)
@click.option(
    "--python",
    "python_version",
    default=f"{sys.version_info.major}.{sys.version_info.minor}",
    show_default=True,
    help="Python version on the runners.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing workflow file.")
@click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Project folder (default: the current folder).",
)
def ci_command(flaskdesk_source: str | None, python_version: str, force: bool, project: Path) -> None:
    """Write .github/workflows/release.yml: build, check and package on Linux, Windows and macOS runners."""
    pyproject = find_pyproject(project.absolute())
    if pyproject is None:
        raise ConfigError(f"No pyproject.toml in {project.absolute()} or above: run this in your project.")
    root = pyproject.parent.resolve()
    config = load_project_config(pyproject)
    repo = _repository_root(root).resolve()
    project_dir = root.relative_to(repo).as_posix() if root.is_relative_to(repo) else "."
    plan = plan_workflow(
        name=config.name or root.name,
        backend=config.backend,
        python_version=python_version,
        flaskdesk_source=flaskdesk_source,
        project_dir=project_dir or ".",
    )
    target = repo / WORKFLOW_PATH
    if target.exists() and not force:
        raise ConfigError(
            f"{target} already exists: pass --force to overwrite it (your edits would be lost)."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_workflow(plan), encoding="utf-8")
    click.secho(f"Wrote {target}", fg="green")
    click.echo(
        "Push a tag such as v1.0.0 (or run the workflow by hand) to build "
        + ", ".join(f"{row.formats} on {row.os}" for row in plan.matrix)
        + "."
    )
