"""Run PyInstaller on a generated spec: the argv and environment (pure), progress, and failure reports.

PyInstaller runs as a subprocess (``python -m PyInstaller``) through the host, never imported:
its import has global side effects (logging, ``sys.setrecursionlimit``) and its run can crash
the interpreter. Its whole log is kept in ``build/flaskdesk/pyinstaller.log``; the user sees one
line per stage (Analysis, PYZ, PKG, EXE, COLLECT, BUNDLE), and on failure the log lines that
matter with a hint.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..host import Host
from .errors import BuildError

#: Stages in the order PyInstaller runs them, with what each does (shown as progress).
STAGES = {
    "Analysis": "finding modules, hooks and libraries",
    "PYZ": "compressing Python modules",
    "PKG": "packing the archive",
    "EXE": "writing the executable",
    "COLLECT": "assembling the bundle folder",
    "BUNDLE": "making the .app bundle",
}
_STAGE = re.compile(r"INFO: Building (Analysis|PYZ|PKG|EXE|COLLECT|BUNDLE)\b(?! .* completed successfully)")
_SUBSTEPS = (
    ("Analyzing modules for base_library.zip", "Analysis: standard library"),
    ("Analyzing ", "Analysis: your app and its imports"),
    ("Processing module hooks (post-graph stage)", "Analysis: running hooks"),
    ("Looking for dynamic libraries", "Analysis: collecting shared libraries"),
)
_ERROR = re.compile(
    r"\b(ERROR|CRITICAL)\b|Error:|^\S*(Error|Exception)\b|Traceback \(most recent call last\)"
)

#: (pattern in the log, hint for the user). The first match wins.
HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"Unable to find ['\"]?(?P<what>[^'\"]+)['\"]? when adding binary and data files"),
        "A file or folder to bundle is missing: {what}. Check `include` in [tool.flaskdesk], "
        "or run with --clean.",
    ),
    (
        re.compile(r"No module named ['\"]?(?P<what>[\w.]+)"),
        "The module {what!s} is not installed in this environment: install it, or add it to `exclude`.",
    ),
    (
        re.compile(r"(?P<what>Permission denied|Read-only file system)"),
        "{what}: the build or dist folder is not writable, or the app is still running. Close it and retry.",
    ),
    (
        re.compile(r"(?P<what>No space left on device)"),
        "{what}: free some disk space (a Qt build needs ~1 GB).",
    ),
    (
        re.compile(r"ModuleNotFoundError: No module named 'flaskdesk"),
        "flaskdesk must be installed in the environment that runs the build (pip install flaskdesk).",
    ),
)


def pyinstaller_argv(python: str, spec: Path, *, dist_dir: Path, work_dir: Path, clean: bool) -> list[str]:
    """The exact command line: ``python -m PyInstaller SPEC --distpath D --workpath W --noconfirm``."""
    argv = [
        python,
        "-m",
        "PyInstaller",
        str(spec),
        "--distpath",
        str(dist_dir),
        "--workpath",
        str(work_dir),
        "--noconfirm",
        "--log-level",
        "INFO",
    ]
    if clean:
        argv.append("--clean")
    return argv


def pyinstaller_env(base: Mapping[str, str], *, source_date_epoch: int) -> dict[str, str]:
    """``base`` plus what makes the output reproducible.

    ``SOURCE_DATE_EPOCH`` fixes the timestamps PyInstaller writes; ``PYTHONHASHSEED=0`` fixes
    the iteration order of sets while it analyses (which otherwise reorders archive entries).
    """
    env = dict(base)
    env["SOURCE_DATE_EPOCH"] = str(source_date_epoch)
    env["PYTHONHASHSEED"] = "0"
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


class StageTracker:
    """Turns PyInstaller's log lines into "stage started" events (one per stage and sub-step)."""

    def __init__(self, on_stage: Callable[[str, str], None]) -> None:
        self.on_stage = on_stage
        self.seen: list[str] = []

    def feed(self, line: str) -> None:
        """Look at one log line; call ``on_stage(stage, description)`` the first time a stage starts."""
        match = _STAGE.search(line)
        if match is not None:
            self._enter(match.group(1), STAGES[match.group(1)])
            return
        if "INFO: " not in line:
            return
        message = line.split("INFO: ", 1)[1]
        for prefix, stage in _SUBSTEPS:
            if message.startswith(prefix):
                self._enter(stage, "")
                return

    def _enter(self, stage: str, description: str) -> None:
        if stage not in self.seen:
            self.seen.append(stage)
            self.on_stage(stage, description)


@dataclass(frozen=True)
class Failure:
    """What went wrong in a failed PyInstaller run, for the error message."""

    lines: tuple[str, ...]
    hint: str


def explain_failure(log_lines: Sequence[str], *, context: int = 25) -> Failure:
    """The relevant lines of a failed run's log (errors and the final traceback) and a hint."""
    picked: list[str] = []
    traceback_at = max((i for i, line in enumerate(log_lines) if line.startswith("Traceback")), default=None)
    if traceback_at is not None:
        picked = list(log_lines[traceback_at:])[-context:]
    else:
        errors = [line for line in log_lines if _ERROR.search(line)]
        picked = errors[-context:] or list(log_lines[-context:])
    text = "\n".join(log_lines)
    hint = "Run `flaskdesk build --clean` to rule out a stale cache; the full log names every step."
    for pattern, template in HINTS:
        match = pattern.search(text)
        if match is not None:
            hint = template.format(**match.groupdict())
            break
    return Failure(tuple(picked), hint)


def run_pyinstaller(
    host: Host,
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log_file: Path,
    on_stage: Callable[[str, str], None] | None = None,
) -> None:
    """Run PyInstaller, reporting stages; raise :class:`BuildError` with the relevant lines on failure."""
    tracker = StageTracker(on_stage or (lambda stage, description: None))
    result = host.run(argv, cwd=cwd, env=env, log_file=log_file, on_line=tracker.feed)
    if result.returncode != 0:
        failure = explain_failure(result.stdout.splitlines())
        excerpt = "\n".join(f"  {line}" for line in failure.lines)
        raise BuildError(
            f"PyInstaller failed (exit status {result.returncode}) during "
            f"{tracker.seen[-1] if tracker.seen else 'start-up'}:\n{excerpt}\n{failure.hint}\n"
            f"Full log: {log_file}"
        )
