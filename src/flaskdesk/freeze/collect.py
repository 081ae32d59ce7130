"""Find what the frozen app needs by asking the app, then map it into the bundle.

The app is imported in a child interpreter through the host (:mod:`flaskdesk.freeze.probe`),
which reports the template and static folders of the app and of every blueprint (blueprints from
installed packages included: extensions that ship templates), the Jinja loaders' search paths,
a ``migrations/`` folder, and every module the import loaded. This module turns those facts into
PyInstaller ``datas`` entries and hidden imports (:func:`assets_from_report` is pure).

Where a folder goes in the bundle: PyInstaller gives every bundled module a ``__file__`` under
the bundle root as if the bundle root were the ``sys.path`` entry it was imported from, and
Flask derives ``root_path`` (hence template and static folders) from ``__file__``. So a folder's
destination is its path relative to the deepest ``sys.path`` entry that contains it:
``<project>/notes/templates`` → ``notes/templates``,
``site-packages/extension/templates`` → ``extension/templates``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..host import Host
from .errors import BuildError
from .spec import DataEntry

_PROBE = "import sys; from flaskdesk.freeze.probe import main; main(sys.argv[1:])"
_SKIP_DIRS = frozenset({"__pycache__"})
_CODE_SUFFIXES = frozenset({".py", ".pyc", ".pyo"})


@dataclass(frozen=True)
class Folder:
    """A folder the app reads at run time: ``kind`` is templates, static, jinja-loader or migrations."""

    kind: str
    owner: str
    path: Path
    dest: str | None


@dataclass(frozen=True)
class AppAssets:
    """What the app needs in its bundle, as found by asking it."""

    import_name: str
    folders: tuple[Folder, ...]
    packages: tuple[tuple[str, Path], ...]
    datas: tuple[DataEntry, ...]
    modules: tuple[str, ...]
    pathex: tuple[Path, ...]
    source_files: tuple[Path, ...]
    warnings: tuple[str, ...]


def probe_app(
    host: Host,
    target: str | None,
    project_root: Path,
    work_dir: Path,
    *,
    python: str = sys.executable,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Import the app in a child ``python`` and return its report (raises :class:`BuildError`)."""
    out = work_dir / "probe.json"
    data_dir = work_dir / "probe-data"
    work_dir.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    child_env = {**(os.environ if env is None else env), "FLASKDESK_DATA_DIR": str(data_dir)}
    result = host.run(
        [python, "-c", _PROBE, target or "", str(project_root), str(out)],
        cwd=project_root,
        env=child_env,
        log_file=work_dir / "probe.log",
    )
    if result.returncode != 0 or not out.is_file():
        tail = "\n".join(result.stdout.splitlines()[-25:])
        raise BuildError(
            f"Could not load the app {target or '(from [tool.flaskdesk] app)'} to find what it needs "
            f"(exit status {result.returncode}):\n{tail}\n"
            "Fix the error above: `flaskdesk run` from the same folder shows the same failure. "
            f"Full output: {work_dir / 'probe.log'}"
        )
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return report


def bundle_dest(path: Path, bases: Sequence[Path]) -> str | None:
    """``path`` relative to the deepest ``bases`` entry containing it (POSIX form), or ``None``."""
    best: Path | None = None
    for base in bases:
        if path != base and base in path.parents and (best is None or len(base.parts) > len(best.parts)):
            best = base
    return None if best is None else path.relative_to(best).as_posix()


def _is_inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def package_data(package_dir: Path, dest: str) -> Iterator[DataEntry]:
    """A package's non-code files: whole folders when they hold no Python, else file by file."""
    for child in sorted(package_dir.iterdir()):
        if child.name in _SKIP_DIRS:
            continue
        target = f"{dest}/{child.name}"
        if child.is_dir():
            if any(p.suffix in _CODE_SUFFIXES for p in child.rglob("*")):
                yield from package_data(child, target)
            else:
                yield DataEntry(child, target)
        elif child.suffix not in _CODE_SUFFIXES:
            yield DataEntry(child, dest)


def _source_files(package_dir: Path) -> Iterator[Path]:
    for path in sorted(package_dir.rglob("*.py")):
        if not _SKIP_DIRS.intersection(path.parts):
            yield path


def assets_from_report(report: Mapping[str, Any], project_root: Path) -> AppAssets:
    """Map the probe's report into bundle entries (pure apart from listing package folders)."""
    bases = [Path(p) for p in report["sys_path"]]
    stdlib = set(report["stdlib"])
    warnings: list[str] = []
    owners: Mapping[str, str | None] = report["owners"]

    packages: dict[str, Path] = {}
    pathex: list[Path] = []
    sources: list[Path] = []
    for module_name, file in sorted(owners.items()):
        if not file:
            continue
        top = module_name.split(".")[0]
        top_file = next((m["file"] for m in report["modules"] if m["name"] == top), None) or (
            file if module_name == top else None
        )
        if top_file is None:
            continue
        path = Path(top_file)
        if path.name == "__init__.py":
            packages.setdefault(top, path.parent)
            base = path.parent.parent
        else:
            base = path.parent
            if _is_inside(path, project_root):
                sources.append(path)
        if _is_inside(path, project_root) and base not in pathex:
            pathex.append(base)

    datas: list[DataEntry] = []
    for package, folder in sorted(packages.items()):
        dest = bundle_dest(folder, bases) or package
        datas.extend(package_data(folder, dest))
        if _is_inside(folder, project_root):
            sources.extend(_source_files(folder))

    folders: list[Folder] = []
    covered = list(packages.values())
    for row in report["folders"]:
        path = Path(row["path"])
        folder_dest = bundle_dest(path, bases)
        folders.append(Folder(row["kind"], row["owner"], path, folder_dest))
        if any(_is_inside(path, c) for c in covered):
            continue
        if folder_dest is None:
            warnings.append(
                f"The {row['kind']} folder {path} ({row['owner']}) is outside every importable package, "
                "so the frozen app cannot find it at the same place: move it inside your package, or "
                "build its path from your module's __file__ / app.root_path."
            )
            continue
        datas.append(DataEntry(path, folder_dest))
        covered.append(path)

    modules = []
    for row in report["modules"]:
        name: str = row["name"]
        top = name.split(".")[0]
        if not row["file"] or top in stdlib or top == "flaskdesk" or name == "__main__":
            continue
        modules.append(name)
    modules.extend(name for name in owners if name not in modules)
    return AppAssets(
        import_name=report["import_name"],
        folders=tuple(folders),
        packages=tuple(sorted(packages.items())),
        datas=tuple(datas),
        modules=tuple(sorted(set(modules))),
        pathex=tuple(pathex),
        source_files=tuple(dict.fromkeys(sources)),
        warnings=tuple(warnings),
    )


def asset_files(datas: Iterable[DataEntry]) -> Iterator[tuple[Path, str]]:
    """Every file the ``datas`` entries copy, with its destination path in the bundle."""
    for entry in datas:
        prefix = "" if entry.dest in ("", ".") else f"{entry.dest}/"  # "." is the bundle folder itself
        if entry.source.is_dir():
            for path in sorted(entry.source.rglob("*")):
                if path.is_file() and not _SKIP_DIRS.intersection(path.relative_to(entry.source).parts):
                    yield path, f"{prefix}{path.relative_to(entry.source).as_posix()}"
        elif entry.source.is_file():
            yield entry.source, f"{prefix}{entry.source.name}"


def collect(
    host: Host,
    target: str | None,
    project_root: Path,
    work_dir: Path,
    *,
    python: str = sys.executable,
) -> AppAssets:
    """Ask the app (in a child process) what it needs, and map the answer into the bundle."""
    return assets_from_report(probe_app(host, target, project_root, work_dir, python=python), project_root)
