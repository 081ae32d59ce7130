"""``flaskdesk package``: turn the onedir build in ``dist/NAME`` into installers in ``dist/``."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from ..app.paths import safe_app_dir_name
from ..config import ProjectConfig, find_pyproject, load_project_config
from ..host import Host
from ..packaging.base import (
    AppInfo,
    Job,
    PackagingError,
    check_build,
    check_can_build,
    choose_formats,
    describe_app,
    executable_in,
    get_packager,
    read_baked,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


def _project_table(pyproject: Path) -> dict[str, Any]:
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    project = data.get("project", {})
    return project if isinstance(project, dict) else {}


def _source_changes(root: Path, executable: Path) -> list[str]:
    """What changed in the app's code and assets since the last onedir build (its manifest)."""
    from ..freeze.collect import asset_files
    from ..freeze.manifest import Manifest, hash_assets, hash_sources
    from ..freeze.spec import DataEntry

    manifest = Manifest.load(root / "build" / "flaskdesk" / "manifest.json")
    if manifest is None or manifest.executable != str(executable):
        return []
    reasons = []
    if hash_sources(manifest.source_roots) != dict(manifest.sources):
        reasons.append("Python sources changed")
    entries = [DataEntry(Path(source), dest) for source, dest in manifest.asset_roots]
    now = {dest: info["sha256"] for dest, info in hash_assets(asset_files(entries)).items()}
    if now != {dest: info["sha256"] for dest, info in manifest.assets.items()}:
        reasons.append("templates or static files changed")
    return reasons


def resolve_app(
    root: Path, config: ProjectConfig, project: Mapping[str, Any], platform: str
) -> tuple[AppInfo, Path]:
    """The app description and its checked onedir build folder."""
    from ..freeze.builder import BuildLayout
    from ..freeze.spec import executable_name

    app_target = config.app or ""
    module = app_target.split(":")[0].split(".")[0]
    name = executable_name(str(config.name or project.get("name") or module or root.name))
    bundle = BuildLayout(root, name, onefile=False).bundle
    executable = executable_in(bundle, name, platform)
    check_build(bundle, executable, config, extra=_source_changes(root, executable))
    baked = read_baked(bundle) or {}
    backend = str(baked.get("tool", {}).get("backend") or "native")
    icon = config.icon
    work = root / "build" / "flaskdesk" / "package"
    if icon is None or not icon.is_file():
        from ..scaffold.icon import app_icon

        if icon is not None:
            raise PackagingError(f"The icon {icon} ([tool.flaskdesk] icon) does not exist.")
        click.secho(
            'Warning: no [tool.flaskdesk] icon; installers get a placeholder. Set icon = "a 512 px PNG".',
            fg="yellow",
            err=True,
        )
        work.mkdir(parents=True, exist_ok=True)
        icon = work / "placeholder-icon.png"
        icon.write_bytes(app_icon(name, 512))
    app = describe_app(
        config,
        project,
        name=name,
        executable=executable.name,
        backend=backend,
        data_dir_name=safe_app_dir_name(config.name or module or name),
        icon=icon,
    )
    return app, bundle


@click.command("package")
@click.option(
    "--format",
    "-f",
    "formats",
    multiple=True,
    metavar="FORMAT[,FORMAT]",
    help="deb, rpm, targz, appimage, nsis, msi, app, dmg (repeat or comma-separate). "
    "Default: this OS's formats (Linux: deb,rpm,targz; Windows: nsis; macOS: dmg).",
)
@click.option(
    "--compression",
    type=click.Choice(["zstd", "xz", "gzip"]),
    default="zstd",
    show_default=True,
    help=".deb/.rpm payload compression (zstd: seconds; xz: minutes, ~20% smaller, for dpkg < 1.21.18).",
)
@click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Project folder (default: the current folder).",
)
def package_command(formats: tuple[str, ...], compression: str, project: Path) -> None:
    """Make installers from the build in dist/ (run `flaskdesk build` first)."""
    pyproject = find_pyproject(project.absolute())
    if pyproject is None:
        raise PackagingError(f"No pyproject.toml in {project.absolute()} or above: run this in your project.")
    root = pyproject.parent
    config = load_project_config(pyproject)
    app, bundle = resolve_app(root, config, _project_table(pyproject), sys.platform)
    out_dir = root / "dist"
    work_root = root / "build" / "flaskdesk" / "package"
    host = Host(allowed_roots=[work_root, out_dir])

    def job_for(fmt: str) -> Job:
        return Job(app=app, bundle=bundle, out_dir=out_dir, work_dir=work_root / fmt, compression=compression)

    chosen, notes = choose_formats(formats, platform=sys.platform, host=host, job_for=job_for)
    for note in notes:
        click.secho(f"Note: {note}", fg="yellow", err=True)
    for fmt in chosen:  # refuse before making anything
        check_can_build(get_packager(fmt), job_for(fmt))
    for fmt in chosen:
        packager = get_packager(fmt)
        job = job_for(fmt)
        started = time.monotonic()
        click.echo(f"{packager.title}:")

        def progress(line: str, started: float = started) -> None:
            click.echo(f"  [{time.monotonic() - started:6.1f}s] {line}")

        outputs = packager.package(job, host, progress)
        for output in outputs:
            size = output.stat().st_size if output.is_file() else 0
            shown = output.relative_to(root) if output.is_relative_to(root) else output
            click.secho(f"  {shown} ({size / 1e6:,.1f} MB, {time.monotonic() - started:.1f} s)", fg="green")
