"""``flaskdesk build``: freeze the project into a standalone executable, showing progress by stage."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..freeze.builder import Builder, BuildOptions, BuildResult


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _report(result: BuildResult) -> None:
    size = f"{result.size / 1e6:,.0f} MB"
    if result.mode == "up-to-date":
        click.secho(f"Up to date: {_relative(result.executable)} ({size}).", fg="green")
    elif result.mode == "fast":
        click.secho(
            f"Updated {_relative(result.executable)} in place in {result.seconds:.1f} s "
            f"({len(result.updated)} file(s), no PyInstaller run).",
            fg="green",
        )
    else:
        click.secho(f"Built {_relative(result.executable)} in {result.seconds:.1f} s ({size}).", fg="green")
    click.echo(f"Size report: {_relative(result.reports[1])} (text: {_relative(result.reports[0])})")
    if result.log_file is not None:
        click.echo(f"PyInstaller log: {_relative(result.log_file)}")
    for warning in result.warnings:
        click.secho(f"Warning: {warning}", fg="yellow", err=True)
    gpl = [n for n in result.notices if n.gpl]
    if gpl:
        names = ", ".join(f"{n.distribution} {n.version} ({n.license})" for n in gpl)
        click.secho(
            f"Warning: this build ships GPL-licensed components: {names}. Distributing it means offering "
            "your app under GPL-compatible terms. For an LGPL Qt, install flaskdesk[pyside] (PySide6) "
            "and build with QT_API=pyside6. Licence notices are in the bundle's licenses/ folder.",
            fg="yellow",
            err=True,
        )


@click.command("build")
@click.option(
    "--app",
    "target",
    metavar="TARGET",
    help="module:app or module:create_app(); default: [tool.flaskdesk] app.",
)
@click.option(
    "--onefile/--onedir", default=None, help="One self-extracting file instead of a folder (default: onedir)."
)
@click.option(
    "--backend", type=click.Choice(["qt", "gtk"]), default=None, help="Window backend to ship (Linux)."
)
@click.option(
    "--check", is_flag=True, help="Then start the built app and load every page in its window (smoke test)."
)
@click.option("--clean", is_flag=True, help="Remove previous build output and PyInstaller's cache first.")
@click.option("--no-slim", "no_slim", is_flag=True, help="Keep every Qt library, plugin and translation.")
@click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Project folder (default: the current folder).",
)
def build_command(
    target: str | None,
    onefile: bool | None,
    backend: str | None,
    check: bool,
    clean: bool,
    no_slim: bool,
    project: Path,
) -> None:
    """Freeze the Flask app into a standalone desktop executable under dist/."""
    started = time.monotonic()

    def progress(stage: str, detail: str) -> None:
        suffix = f"  {detail}" if detail else ""
        click.echo(f"  [{time.monotonic() - started:6.1f}s] {stage}{suffix}")

    builder = Builder(project, progress=progress)
    options = BuildOptions(app=target, onefile=onefile, backend=backend, clean=clean, slim=not no_slim)
    click.echo(f"flaskdesk build: {builder.root}")
    result = builder.build(options)
    _report(result)
    if check:
        from ..freeze.check import check_executable, render_table

        click.echo(f"Checking {_relative(result.executable)}: every page, in its real window...")
        report = check_executable(
            result.executable, artifacts_dir=builder.root / "build" / "flaskdesk" / "check"
        )
        click.echo(render_table(report))
        if not report.ok:
            click.secho("Check failed.", fg="red", err=True)
            raise click.exceptions.Exit(1)
        click.secho(f"Check passed: {len(report.pages)} page(s).", fg="green")
