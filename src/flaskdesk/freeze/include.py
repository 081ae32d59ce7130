"""``[tool.flaskdesk] include``: more of the project's files in the bundle, at the same relative path.

Each pattern names a file, a folder (taken whole) or a glob (``*``, ``?``, ``[...]``, and ``**``
for any depth), relative to the project folder: the one holding ``pyproject.toml``. Every match
keeps its path relative to that folder inside the bundle, so ``data/rates.csv`` is found by
:func:`flaskdesk.resources.project_path` as ``project_path("data/rates.csv")`` both from source
and frozen.

Mistakes stop the build instead of shipping a smaller (or much larger) app than intended: a
pattern that matches nothing, a path that leaves the project folder, and a pattern that would
bundle the build's own output (``build/``, ``dist/``), a virtual environment, or the whole project
folder. A wildcard's matches that merely fall inside those folders are skipped, not errors:
``**/*.csv`` also finds the previous build's copies under ``dist/``, which must not stop the next.
As in the shell, wildcards do not match hidden names (``.git``, ``.env``): a pattern reaches them
only by spelling the dot (``.well-known/**``). Matches that would land on the bundle's own
``flaskdesk/`` or ``licenses/`` folders (baked configuration, licence notices) are refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..errors import ConfigError
from .spec import DataEntry

#: Folders of the project that are the build's own output, never app files.
OUTPUT_FOLDERS = ("build", "dist")
_WILDCARDS = frozenset("*?[")
_SKIP_DIRS = frozenset({"__pycache__"})
#: Top-level bundle folders flaskdesk fills itself: an included file there would replace its own.
RESERVED_FOLDERS = ("flaskdesk", "licenses")


def _quoted(pattern: str) -> str:
    return f'[tool.flaskdesk] include: "{pattern}"'


def _pattern_parts(pattern: str, project_root: Path) -> tuple[str, ...]:
    """The path segments of ``pattern`` (``/`` or ``\\`` separated); absolute or ``..`` is an error."""
    text = pattern.strip()
    if PurePosixPath(text).is_absolute() or PureWindowsPath(text).drive or PureWindowsPath(text).root:
        raise ConfigError(
            f"{_quoted(pattern)} is an absolute path. Patterns are relative to the project folder "
            f"({project_root}) and each match keeps that relative path inside the app: copy the file "
            "into the project and name it relative to that folder."
        )
    parts = tuple(part for part in text.replace("\\", "/").split("/") if part not in ("", "."))
    if ".." in parts:
        raise ConfigError(
            f"{_quoted(pattern)} leaves the project folder ({project_root}). Only files inside it can "
            "be bundled, at the same relative path: move or copy what the app needs into the project."
        )
    return parts


def _is_inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _venv_holding(path: Path, project_root: Path) -> Path | None:
    """The virtual environment (a folder with ``pyvenv.cfg``) that ``path`` is in, below the project."""
    for folder in (path, *path.parents):
        if folder == project_root or project_root not in folder.parents:
            return None
        if (folder / "pyvenv.cfg").is_file():
            return folder
    return None


def _forbidden(match: Path, project_root: Path) -> str | None:
    """Why ``match`` must not be bundled (it is, or is in, build output or a venv), else ``None``."""
    for name in OUTPUT_FOLDERS:
        if _is_inside(match, project_root / name):
            return f"{name}/, the build's own output"
    venv = _venv_holding(match, project_root)
    if venv is not None:
        return f"the virtual environment {venv.relative_to(project_root).as_posix()}/"
    return None


def _holds_forbidden(folder: Path, project_root: Path) -> str | None:
    """Why taking all of ``folder`` is wrong: it holds the project's build output or a venv."""
    if folder == project_root:  # the only folder holding build/ and dist/
        return "the whole project folder, build output and virtual environments included"
    venv = next(folder.rglob("pyvenv.cfg"), None)
    if venv is not None:
        return f"the virtual environment {venv.parent.relative_to(project_root).as_posix()}/"
    return None


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """``paths`` without those inside another of them (a folder is taken whole), in order."""
    unique = list(dict.fromkeys(paths))
    folders = [path for path in unique if path.is_dir()]
    return [path for path in unique if not any(f != path and f in path.parents for f in folders)]


def _matches(pattern: str, parts: tuple[str, ...], project_root: Path) -> list[Path]:
    """What one pattern names: the path itself, or a glob's matches minus skipped ones (sorted)."""
    wild = [i for i, part in enumerate(parts) if _WILDCARDS.intersection(part)]
    if wild:
        fixed = project_root.joinpath(*parts[: wild[0]])  # the part before the first wildcard
        reason = _forbidden(fixed, project_root)
        if reason is not None:
            raise ConfigError(_refusal(pattern, reason))
        dotted = _hidden(parts)
        found = [
            path
            for path in sorted(project_root.glob("/".join(parts)))
            if _forbidden(path, project_root) is None
            and not _SKIP_DIRS.intersection(path.relative_to(project_root).parts)
            and (dotted or not _hidden(path.relative_to(project_root).parts))
        ]
    else:
        path = project_root.joinpath(*parts)
        found = [path] if path.exists() else []
        reason = _forbidden(path, project_root) if found else None
        if reason is not None:
            raise ConfigError(_refusal(pattern, reason))
    matches = _outermost(found)
    for path in matches:
        reason = _holds_forbidden(path, project_root) if path.is_dir() else None
        if reason is not None:
            raise ConfigError(_refusal(pattern, reason))
        relative_path = path.relative_to(project_root)
        top = relative_path.parts[0]
        if top in RESERVED_FOLDERS:
            raise ConfigError(
                f"{_quoted(pattern)} would put {relative_path.as_posix()} into the app's "
                f"{top}/ folder, which flaskdesk fills itself (its configuration and licence notices). "
                f"Rename the project's {top}/ folder (for example to {top}-data/) and read it from there."
            )
    return matches


def _hidden(parts: Iterable[str]) -> bool:
    """Whether any of these path segments is a hidden name (a pattern's, or a match's)."""
    return any(part.startswith(".") for part in parts)


def _refusal(pattern: str, reason: str) -> str:
    return (
        f"{_quoted(pattern)} would bundle {reason}. Name the files and folders the app reads instead "
        '(for example "data/*.csv" or "content/").'
    )


def resolve_includes(patterns: Iterable[str], project_root: Path) -> tuple[DataEntry, ...]:
    """The ``datas`` entries for ``patterns``, each match at its path relative to ``project_root``.

    A file goes into its folder (``data/a.csv`` → ``("…/data/a.csv", "data")``, a file at the top
    into ``"."``); a folder is taken whole. A match inside another match is dropped, so
    ``["content/", "content/**/*.md"]`` bundles ``content/`` once. Raises :class:`ConfigError`
    naming the pattern for the mistakes listed in the module docstring.
    """
    root = project_root.absolute()
    found: list[Path] = []
    for pattern in patterns:
        matched = _matches(pattern, _pattern_parts(pattern, root), root)
        if not matched:
            raise ConfigError(
                f"{_quoted(pattern)} matches nothing in {root}. Patterns are relative to the folder "
                "holding pyproject.toml (globs may use * and **): fix the pattern, or remove it."
            )
        found.extend(matched)
    entries = []
    for path in sorted(_outermost(found)):
        relative = path.relative_to(root)
        entries.append(DataEntry(path, (relative if path.is_dir() else relative.parent).as_posix()))
    return tuple(entries)
