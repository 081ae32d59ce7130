"""The one seam between flaskdesk's tooling and the machine: subprocesses, ``which``, copying, removing.

Every external program the build and packaging steps call, and every tree they copy or delete,
goes through a :class:`Host`. Tests hand the code a :class:`RecordingHost` instead and assert the
exact calls (as Briefcase's ``integrations/subprocess.py`` allows); real runs log each call, so a
failed build's log shows exactly what ran. Runtime code never uses this module.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import FlaskdeskError

log = logging.getLogger("flaskdesk.host")

#: Receives each line of a subprocess's output (without the newline) while it runs.
LineHandler = Callable[[str], None]


class HostError(FlaskdeskError):
    """A program is missing, or a copy or removal was refused or failed."""


class Host:
    """Runs programs and touches trees on behalf of the tooling.

    ``allowed_roots`` bounds :meth:`rmtree`: a path is removed only when it lies strictly inside
    one of them, so a wrong ``dist`` path computed from a bad setting cannot delete a home folder.
    """

    def __init__(self, *, allowed_roots: Iterable[str | os.PathLike[str]] = ()) -> None:
        self.allowed_roots = tuple(Path(root).resolve() for root in allowed_roots)

    def run(
        self,
        argv: Sequence[str | os.PathLike[str]],
        *,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        log_file: str | os.PathLike[str] | None = None,
        on_line: LineHandler | None = None,
        timeout: float | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` (no shell) and return its exit status and its output.

        stdout and stderr are merged, read line by line as they come, written to ``log_file``
        (replaced) and passed to ``on_line`` — a long PyInstaller run can so show progress while
        its whole log is kept. A non-zero exit is not an error here; the caller decides what it
        means. ``env`` replaces the environment when given (pass ``{**os.environ, ...}`` to extend).
        """
        args = [os.fspath(arg) for arg in argv]
        log.debug("run %s (cwd=%s)", subprocess.list2cmdline(args), cwd or ".")
        lines: list[str] = []
        try:
            proc = subprocess.Popen(
                args,
                cwd=cwd,
                env=dict(env) if env is not None else None,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
            )
        except FileNotFoundError as error:
            raise HostError(
                f"Cannot run {args[0]!r}: the program was not found. Install it or check your PATH."
            ) from error
        # A timer, not wait(timeout): a hung child keeps the pipe open and blocks the read loop.
        killer = threading.Timer(timeout, proc.kill) if timeout is not None else None
        with contextlib.ExitStack() as stack:
            stack.enter_context(proc)
            sink = (
                stack.enter_context(open(log_file, "w", encoding="utf-8")) if log_file is not None else None
            )
            if killer is not None:
                killer.start()
                stack.callback(killer.cancel)
            try:
                assert proc.stdout is not None
                for raw in proc.stdout:
                    line = raw.rstrip("\r\n")
                    lines.append(line)
                    if sink is not None:
                        sink.write(line + "\n")
                        sink.flush()
                    if on_line is not None:
                        on_line(line)
                returncode = proc.wait()
            except BaseException:
                proc.kill()
                raise
        log.debug("exit %s: %s", returncode, args[0])
        return subprocess.CompletedProcess(args, returncode, stdout="\n".join(lines), stderr=None)

    def which(self, name: str) -> str | None:
        """The full path of program ``name`` on ``PATH``, or ``None``."""
        return shutil.which(name)

    def copytree(self, src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        """Copy the folder ``src`` to ``dst``, merging into ``dst`` if it exists (symlinks kept as links)."""
        log.debug("copytree %s -> %s", src, dst)
        try:
            shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
        except (OSError, shutil.Error) as error:
            raise HostError(f"Cannot copy {src} to {dst}: {error}") from error

    def copyfile(self, src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        """Copy one file with its mode bits, creating ``dst``'s folder when needed."""
        log.debug("copy %s -> %s", src, dst)
        try:
            Path(dst).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        except OSError as error:
            raise HostError(f"Cannot copy {src} to {dst}: {error}") from error

    def check_removable(self, path: str | os.PathLike[str]) -> Path:
        """``path`` made absolute, if it lies strictly inside an allowed root; else :class:`HostError`."""
        target = Path(path).absolute()
        resolved = target.resolve()
        if not any(root in resolved.parents for root in self.allowed_roots):
            roots = ", ".join(map(str, self.allowed_roots)) or "none configured"
            raise HostError(
                f"Refusing to delete {target}: it is not inside a folder flaskdesk manages ({roots})."
            )
        return target

    def rmtree(self, path: str | os.PathLike[str]) -> None:
        """Remove the tree (or file) at ``path`` if it exists; refuse anything outside the allowed roots."""
        target = self.check_removable(path)
        log.debug("rmtree %s", target)
        try:
            if target.is_symlink() or target.is_file():
                target.unlink()
            elif target.exists():
                shutil.rmtree(target)
        except OSError as error:
            raise HostError(f"Cannot delete {target}: {error}. Close programs using it and retry.") from error


@dataclass(frozen=True)
class Call:
    """One recorded :class:`RecordingHost` call: the method name and its arguments."""

    method: str
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)


#: Decides what a recorded ``run`` returns: (argv, kwargs) -> (returncode, output lines).
Responder = Callable[[list[str], Mapping[str, Any]], "tuple[int, list[str]]"]


class RecordingHost(Host):
    """A test double: records every call and touches nothing outside the allowed roots.

    ``run`` returns what ``responder`` says (default: exit 0, no output), replaying the output
    lines to ``on_line`` and ``log_file`` exactly as a real run would. ``programs`` maps names to
    the paths :meth:`which` reports. Copies and removals are recorded and not performed unless
    ``perform_file_ops`` is true (then they run for real, still bounded by ``allowed_roots``).
    """

    def __init__(
        self,
        *,
        responder: Responder | None = None,
        programs: Mapping[str, str] | None = None,
        allowed_roots: Iterable[str | os.PathLike[str]] = (),
        perform_file_ops: bool = False,
    ) -> None:
        super().__init__(allowed_roots=allowed_roots)
        self.calls: list[Call] = []
        self.responder = responder
        self.programs = dict(programs or {})
        self.perform_file_ops = perform_file_ops

    def run(
        self,
        argv: Sequence[str | os.PathLike[str]],
        *,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        log_file: str | os.PathLike[str] | None = None,
        on_line: LineHandler | None = None,
        timeout: float | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Record the call and answer it from ``responder``."""
        args = [os.fspath(arg) for arg in argv]
        kwargs: dict[str, Any] = {"cwd": cwd, "env": env, "log_file": log_file}
        self.calls.append(Call("run", (args,), kwargs))
        returncode, lines = self.responder(args, kwargs) if self.responder else (0, [])
        if log_file is not None:
            Path(log_file).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        if on_line is not None:
            for line in lines:
                on_line(line)
        return subprocess.CompletedProcess(args, returncode, stdout="\n".join(lines), stderr=None)

    def which(self, name: str) -> str | None:
        """Record the lookup and answer from ``programs``."""
        self.calls.append(Call("which", (name,)))
        return self.programs.get(name)

    def copytree(self, src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        """Record the copy (and perform it when asked)."""
        self.calls.append(Call("copytree", (Path(src), Path(dst))))
        if self.perform_file_ops:
            super().copytree(src, dst)

    def copyfile(self, src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        """Record the copy (and perform it when asked)."""
        self.calls.append(Call("copyfile", (Path(src), Path(dst))))
        if self.perform_file_ops:
            super().copyfile(src, dst)

    def rmtree(self, path: str | os.PathLike[str]) -> None:
        """Record the removal; the allowed-roots check still applies (and removal when asked)."""
        self.calls.append(Call("rmtree", (Path(path),)))
        self.check_removable(path)
        if self.perform_file_ops:
            super().rmtree(path)

    def runs(self) -> list[list[str]]:
        """The argv of every recorded ``run``, in order (the common assertion)."""
        return [call.args[0] for call in self.calls if call.method == "run"]
