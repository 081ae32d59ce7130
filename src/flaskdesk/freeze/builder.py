"""``flaskdesk build`` as a sequence of small steps: plan, ask the app, write, run PyInstaller, report.

Every side effect goes through the :class:`~flaskdesk.host.Host` (subprocesses, copies,
removals) or writes inside ``build/flaskdesk/``; decisions are made by the pure functions of
:mod:`.spec`, :mod:`.collect`, :mod:`.manifest` and :mod:`.pyinstaller`. Output lands in
``dist/NAME/NAME`` (onedir) or ``dist/onefile/NAME`` (onefile); the full PyInstaller log, the
spec, the size reports and the fast-rebuild manifest stay in ``build/flaskdesk/``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from .. import __version__
from ..config import ProjectConfig, find_pyproject, load_project_config
from ..errors import ConfigError
from ..host import Host
from ..resources import BAKED_CONFIG
from . import collect as collect_mod
from .errors import BuildError
from .include import resolve_includes
from .licenses import Notice, read_summary
from .manifest import (
    AssetUpdate,
    Manifest,
    build_key,
    environment_fingerprint,
    hash_assets,
    hash_sources,
    plan_update,
)
from .pyinstaller import pyinstaller_argv, pyinstaller_env, run_pyinstaller
from .size_report import write_reports
from .spec import (
    BUNDLED_ICON,
    ENTRY_SCRIPT,
    BuildTarget,
    DataEntry,
    SpecPlan,
    choose_backend,
    executable_name,
    plan_spec,
    render_spec,
    version_info,
)

#: Used when neither ``SOURCE_DATE_EPOCH`` nor a git commit gives a date (1980-01-01, zip's epoch).
DEFAULT_EPOCH = 315532800
#: Receives progress: (stage, detail). Stages are PyInstaller's plus flaskdesk's own steps.
Progress = Callable[[str, str], None]


@dataclass(frozen=True)
class BuildOptions:
    """Command-line overrides; ``None`` means "as configured"."""

    app: str | None = None
    onefile: bool | None = None
    backend: str | None = None
    clean: bool = False
    slim: bool = True


@dataclass(frozen=True)
class BuildLayout:
    """Where one build reads and writes (all under the project root)."""

    root: Path
    name: str
    onefile: bool

    @property
    def work(self) -> Path:
        """``build/flaskdesk``: spec, logs, reports, manifest."""
        return self.root / "build" / "flaskdesk"

    @property
    def pyinstaller_work(self) -> Path:
        """PyInstaller's own cache, one per mode so switching modes does not invalidate it."""
        return self.work / ("pyinstaller-onefile" if self.onefile else "pyinstaller-onedir")

    @property
    def dist(self) -> Path:
        """The ``--distpath`` given to PyInstaller."""
        return self.root / "dist" / "onefile" if self.onefile else self.root / "dist"

    @property
    def bundle(self) -> Path:
        """The onedir folder, or the onefile executable."""
        return self.dist / self.name

    @property
    def executable(self) -> Path:
        """The program users start."""
        return self.bundle if self.onefile else self.bundle / self.name

    @property
    def bundle_data(self) -> Path:
        """Where a onedir build keeps its data files (PyInstaller's contents directory)."""
        return self.bundle / "_internal"


@dataclass(frozen=True)
class BuildResult:
    """What a build produced, for the CLI's summary."""

    executable: Path
    bundle: Path
    mode: str
    seconds: float
    size: int
    reports: tuple[Path, ...]
    log_file: Path | None
    notices: tuple[Notice, ...] = ()
    warnings: tuple[str, ...] = ()
    updated: tuple[str, ...] = field(default=())


def installed_backends(env: Mapping[str, str]) -> list[str]:
    """Importable toolkits among PyQt6, PySide6 and gi; ``QT_API`` (qtpy's variable) narrows Qt."""
    found = [name for name in ("PyQt6", "PySide6", "gi") if importlib.util.find_spec(name) is not None]
    api = env.get("QT_API", "").lower()
    if api in ("pyqt6", "pyside6"):
        wanted = "PyQt6" if api == "pyqt6" else "PySide6"
        found = [name for name in found if name == "gi" or name == wanted]
    return found


def baked_config(config: ProjectConfig, *, target: BuildTarget, project: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration a frozen app reads instead of pyproject.toml (see :mod:`flaskdesk.resources`).

    The ``[tool.flaskdesk]`` table as written, plus what the build resolved: the app target and
    the backend that actually ships. Paths into the developer's tree make no sense inside the
    bundle: the icon is rewritten to its bundled copy (relative to the bundle folder).
    """
    table = config.to_table()
    table["app"] = target.app
    if target.backend in ("qt", "gtk"):
        table["backend"] = target.backend
    if target.icon is not None:
        table["icon"] = f"{BUNDLED_ICON}{target.icon.suffix}"
    for key in ("include", "exclude", "onefile"):
        table.pop(key, None)
    return {"tool": table, "project": {k: project[k] for k in ("name", "version") if k in project}}


def source_date_epoch(host: Host, root: Path, env: Mapping[str, str]) -> int:
    """``SOURCE_DATE_EPOCH`` if set, else the last git commit's time, else 1980-01-01."""
    text = env.get("SOURCE_DATE_EPOCH", "").strip()
    if text.isdigit():
        return int(text)
    if host.which("git") is not None:
        result = host.run(["git", "-C", str(root), "log", "-1", "--format=%ct"])
        last = result.stdout.strip().splitlines()[-1:] if result.returncode == 0 else []
        if last and last[0].isdigit():
            return int(last[0])
    return DEFAULT_EPOCH


def _project_table(pyproject: Path | None) -> dict[str, Any]:
    if pyproject is None:
        return {}
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    project = data.get("project", {})
    return project if isinstance(project, dict) else {}


class Builder:
    """Builds one project; ``progress`` hears each stage, ``host`` performs every side effect."""

    def __init__(
        self,
        project_root: Path,
        *,
        host: Host | None = None,
        progress: Progress | None = None,
        python: str = sys.executable,
        env: Mapping[str, str] | None = None,
        platform: str = sys.platform,
    ) -> None:
        self.start = Path(project_root).absolute()
        self.pyproject = find_pyproject(self.start)
        self.root = self.pyproject.parent if self.pyproject is not None else self.start
        self.host = host or Host(allowed_roots=[self.root / "build", self.root / "dist"])
        self.progress = progress or (lambda stage, detail: None)
        self.python = python
        self.env = dict(os.environ if env is None else env)
        self.platform = platform

    # -- planning ----------------------------------------------------------------------------

    def config(self) -> ProjectConfig:
        """``[tool.flaskdesk]`` of the project (all unset when there is no pyproject.toml)."""
        return load_project_config(self.pyproject) if self.pyproject is not None else ProjectConfig()

    def resolve(self, options: BuildOptions, config: ProjectConfig) -> BuildTarget:
        """Command line over ``[tool.flaskdesk]`` over defaults, validated."""
        app = options.app or self.env.get("FLASK_APP") or config.app
        if not app:
            raise ConfigError(
                "No app to build: pass --app module:app (or module:create_app()), or add "
                '`app = "module:create_app()"` under [tool.flaskdesk] in pyproject.toml.'
            )
        try:
            backend, binding = choose_backend(
                options.backend or config.backend,
                platform=self.platform,
                installed=installed_backends(self.env),
            )
        except ValueError as error:
            raise BuildError(
                f"Cannot build: {error}. Install flaskdesk[qt] (PyQt6), flaskdesk[pyside] or flaskdesk[gtk] "
                "into the environment that runs the build."
            ) from error
        project = _project_table(self.pyproject)
        name = config.name or project.get("name") or app.split(":")[0].split(".")[0]
        return BuildTarget(
            name=executable_name(str(name)),
            app=app,
            backend=backend,
            qt_binding=binding,
            onefile=bool(options.onefile if options.onefile is not None else config.onefile),
            version=config.version,
            identifier=config.identifier,
            icon=config.icon,
            locales=tuple(config.locales or ()),
            excludes=tuple(config.exclude or ()),
            slim=options.slim,
            platform=self.platform,
        )

    def includes(self, config: ProjectConfig) -> tuple[DataEntry, ...]:
        """``[tool.flaskdesk] include`` resolved in the project folder (see :mod:`.include`)."""
        return resolve_includes(config.include or (), self.root)

    def key(self, target: BuildTarget) -> dict[str, str]:
        """What must be unchanged for a fast rebuild: config text, target, Python, packages, flaskdesk.

        Of flaskdesk itself, what ships (the runtime) and what shapes the bundle (``freeze/``)
        count; the other tooling (CLI, packaging, testing) never reaches the executable.
        """
        flaskdesk_dir = Path(__file__).resolve().parents[1]
        shipped = [
            str(path)
            for path in sorted(flaskdesk_dir.iterdir())
            if path.name not in ("cli", "packaging", "testing", "scaffold", "__pycache__")
        ]
        return build_key(
            {
                "pyproject": self.pyproject.read_text(encoding="utf-8") if self.pyproject else "",
                "target": repr(target),
                "python": [self.python, sys.version],
                "packages": environment_fingerprint(),
                "flaskdesk": [__version__, hash_sources(shipped)],
            }
        )

    # -- the build ---------------------------------------------------------------------------

    def build(self, options: BuildOptions) -> BuildResult:
        """Build (or fast-update) the executable; raises :class:`BuildError` or ``ConfigError``."""
        started = time.monotonic()
        config = self.config()
        target = self.resolve(options, config)
        includes = self.includes(config)  # before anything slow: a bad pattern fails at once
        layout = BuildLayout(self.root, target.name, target.onefile)
        if options.clean:
            self.progress("clean", f"removing {layout.work} and {layout.bundle}")
            self.host.rmtree(layout.work)
            self.host.rmtree(layout.bundle)
        layout.work.mkdir(parents=True, exist_ok=True)
        key = self.key(target)
        if not target.onefile and not options.clean:
            fast = self._try_fast(layout, key, started, includes)
            if fast is not None:
                return fast

        manifest_path = layout.work / "manifest.json"
        manifest_path.unlink(missing_ok=True)  # an interrupted build must never look up to date
        self.progress("collect", "importing the app to find its templates, static files and modules")
        assets = collect_mod.collect(self.host, target.app, self.root, layout.work, python=self.python)
        plan = plan_spec(
            target,
            project_root=self.root,
            work_dir=layout.work,
            app_datas=(*assets.datas, *includes),
            app_modules=assets.modules,
            pathex=assets.pathex,
        )
        manifest = None if target.onefile else self._manifest(layout, key, assets, includes)
        spec_file = self._write_inputs(config, target, plan, layout)
        epoch = source_date_epoch(self.host, self.root, self.env)
        log_file = layout.work / "pyinstaller.log"
        run_pyinstaller(
            self.host,
            pyinstaller_argv(
                self.python,
                spec_file,
                dist_dir=layout.dist,
                work_dir=layout.pyinstaller_work,
                clean=options.clean,
            ),
            cwd=self.root,
            env=pyinstaller_env(self.env, source_date_epoch=epoch),
            log_file=log_file,
            on_stage=self.progress,
        )
        if not layout.executable.is_file():
            raise BuildError(
                f"PyInstaller finished but {layout.executable} is missing. See the full log: {log_file}"
            )
        self.progress("report", "writing the size report")
        reports = self._reports(layout, target)
        notices = tuple(read_summary(layout.work / "licenses.json"))
        if manifest is not None:
            manifest_path.write_text(manifest.to_json(), encoding="utf-8")
        return BuildResult(
            executable=layout.executable,
            bundle=layout.bundle,
            mode="full",
            seconds=time.monotonic() - started,
            size=reports[2],
            reports=reports[:2],
            log_file=log_file,
            notices=notices,
            warnings=assets.warnings,
        )

    def _write_inputs(
        self, config: ProjectConfig, target: BuildTarget, plan: SpecPlan, layout: BuildLayout
    ) -> Path:
        """Everything the spec refers to: entry script, baked configuration, icon, version resource."""
        work = layout.work
        self.host.copyfile(Path(__file__).with_name("entry_template.py"), work / ENTRY_SCRIPT)
        baked = baked_config(config, target=target, project=_project_table(self.pyproject))
        (work / Path(BAKED_CONFIG).name).write_text(
            json.dumps(baked, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
        if target.icon is not None:
            if not target.icon.is_file():
                raise ConfigError(f"The icon {target.icon} ([tool.flaskdesk] icon) does not exist.")
            self.host.copyfile(target.icon, work / f"icon{target.icon.suffix}")
        if plan.version_file is not None:
            plan.version_file.write_text(version_info(target), encoding="utf-8")
        spec_file = work / f"{target.name}.spec"
        spec_file.write_text(render_spec(plan), encoding="utf-8")
        return spec_file

    def _reports(self, layout: BuildLayout, target: BuildTarget) -> tuple[Path, Path, int]:
        return write_reports(
            layout.bundle,
            executable=target.name,
            out_dir=layout.work,
            slim_report=layout.work / "slim-report.json" if target.backend == "qt" and target.slim else None,
            title=f"{target.name}: {'onefile' if target.onefile else 'onedir'} {target.backend} build",
        )

    def _manifest(
        self,
        layout: BuildLayout,
        key: Mapping[str, str],
        assets: collect_mod.AppAssets,
        includes: tuple[DataEntry, ...],
    ) -> Manifest:
        """The fast-rebuild record of this build, hashed before PyInstaller runs (edits during it count).

        ``asset_roots`` are the app's folders only: the ``include`` patterns are resolved afresh by
        every build, so a file a glob newly matches (or no longer matches) is copied (or removed).
        """
        roots = [str(folder) for _name, folder in assets.packages] + [
            str(p) for p in assets.source_files if p.name != "__init__.py"
        ]
        source_roots = tuple(dict.fromkeys(r for r in roots if Path(r).is_relative_to(self.root)))
        asset_roots = tuple((str(e.source), e.dest) for e in assets.datas)
        return Manifest(
            key=key,
            sources=hash_sources(source_roots),
            source_roots=source_roots,
            assets=hash_assets(collect_mod.asset_files((*assets.datas, *includes))),
            asset_roots=asset_roots,
            bundle_data=str(layout.bundle_data),
            executable=str(layout.executable),
        )

    def _try_fast(
        self, layout: BuildLayout, key: Mapping[str, str], started: float, includes: tuple[DataEntry, ...]
    ) -> BuildResult | None:
        """Update a onedir bundle in place when only assets changed; ``None`` when a full build is needed.

        Assets are the app's template, static and package-data files and the ``include`` matches.
        """
        manifest_path = layout.work / "manifest.json"
        old = Manifest.load(manifest_path)
        if old is None or not layout.executable.is_file() or old.bundle_data != str(layout.bundle_data):
            return None
        entries = [*(DataEntry(Path(source), dest) for source, dest in old.asset_roots), *includes]
        assets = hash_assets(collect_mod.asset_files(entries))
        update = plan_update(old, key=key, sources=hash_sources(old.source_roots), assets=assets)
        if not isinstance(update, AssetUpdate):
            self.progress("full build", update)
            return None
        self._apply(update, layout)
        manifest = Manifest(
            key=key,
            sources=old.sources,
            source_roots=old.source_roots,
            assets=assets,
            asset_roots=old.asset_roots,
            bundle_data=old.bundle_data,
            executable=old.executable,
        )
        manifest_path.write_text(manifest.to_json(), encoding="utf-8")
        target_name = layout.name
        reports = write_reports(
            layout.bundle,
            executable=target_name,
            out_dir=layout.work,
            slim_report=layout.work / "slim-report.json",
            title=f"{target_name}: onedir build (fast update)",
        )
        return BuildResult(
            executable=layout.executable,
            bundle=layout.bundle,
            mode="up-to-date" if update.empty else "fast",
            seconds=time.monotonic() - started,
            size=reports[2],
            reports=reports[:2],
            log_file=None,
            notices=tuple(read_summary(layout.work / "licenses.json")),
            updated=tuple(dest for _src, dest in update.copy) + tuple(f"-{dest}" for dest in update.delete),
        )

    def _apply(self, update: AssetUpdate, layout: BuildLayout) -> None:
        if update.empty:
            self.progress(
                "up to date", "no template, static, included or code file changed since the last build"
            )
            return
        self.progress(
            "fast update",
            f"only templates, static or included files changed: copying {len(update.copy)} and removing "
            f"{len(update.delete)} file(s) without re-running PyInstaller",
        )
        data = layout.bundle_data
        for source, dest in update.copy:
            self.host.copyfile(source, data / dest)
        for dest in update.delete:
            self.host.rmtree(data / dest)
