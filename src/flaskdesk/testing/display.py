"""A display for real windows in tests: the user's own if it answers, else a private Xvfb.

Only X11 needs this: on Windows and macOS windows always have somewhere to go, so
:class:`VirtualDisplay` is a no-op there (``display`` stays ``None``).
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from types import TracebackType
from typing import IO

from ..errors import BackendError

__all__ = ["VirtualDisplay", "display_is_up"]


def display_is_up(display: str) -> bool:
    """True if an X server answers on ``display`` (``xdpyinfo`` is the cheapest honest probe)."""
    if not shutil.which("xdpyinfo"):
        return False
    probe = subprocess.run(
        ["xdpyinfo", "-display", display],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        timeout=10,
    )
    return probe.returncode == 0


class VirtualDisplay:
    """Context manager giving an X display for child processes.

    ``reuse=True`` keeps ``$DISPLAY`` when a server answers there (a developer watching the test);
    otherwise it starts ``Xvfb -displayfd``, which picks a free display number itself and reports
    it once it accepts connections, so there is no guess-a-number race and no sleep-and-hope.
    ``owned`` says whether this object started the server (and so may screenshot the whole screen).
    """

    def __init__(
        self,
        *,
        size: tuple[int, int] = (1280, 800),
        reuse: bool = True,
        env: Mapping[str, str] | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.size = size
        self.reuse = reuse
        self.timeout = timeout
        self._env = os.environ if env is None else env
        self.display: str | None = None
        self.owned = False
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    def __enter__(self) -> VirtualDisplay:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """The variables a child needs to show its windows here (empty off X11)."""
        return {"DISPLAY": self.display} if self.display else {}

    def start(self) -> str | None:
        """Find or start the display; returns its name (``":99"``), or ``None`` where X11 is not used."""
        if self.display is not None or not sys.platform.startswith(("linux", "freebsd", "openbsd")):
            return self.display
        existing = self._env.get("DISPLAY")
        if self.reuse and existing and display_is_up(existing):
            self.display = existing
            return existing
        self.display = self._start_xvfb()
        self.owned = True
        return self.display

    def stop(self) -> None:
        """Stop the Xvfb this object started (a reused display is left alone)."""
        process, self._process = self._process, None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if process is not None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        if self.owned:
            self.display = None
            self.owned = False

    def _start_xvfb(self) -> str:
        xvfb = shutil.which("Xvfb")
        if xvfb is None:
            raise BackendError(
                "No X display answers and Xvfb is not installed, so the window has nowhere to open. "
                "Install it (Debian/Ubuntu: apt install xvfb; Fedora: dnf install xorg-x11-server-Xvfb) "
                "or run the tests inside a desktop session."
            )
        read_end, write_end = os.pipe()
        width, height = self.size
        # Xvfb's warnings go to a file, not a pipe nobody reads (a full pipe would block it).
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as Xvfb; closed in stop())
        try:
            self._process = subprocess.Popen(
                [
                    xvfb,
                    "-displayfd",
                    str(write_end),
                    "-screen",
                    "0",
                    f"{width}x{height}x24",
                    "-nolisten",
                    "tcp",
                    # Without it Xvfb resets whenever its last client leaves, and a client that
                    # connects during the reset is refused ("could not connect to display").
                    "-noreset",
                ],
                pass_fds=(write_end,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
            )
        finally:
            os.close(write_end)
        try:
            number = self._read_display_number(read_end)
        finally:
            os.close(read_end)
        return f":{number}"

    def _read_display_number(self, fd: int) -> str:
        assert self._process is not None
        deadline = time.monotonic() + self.timeout
        text = b""
        while not text.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            readable, _, _ = select.select([fd], [], [], max(0.0, remaining))
            chunk = os.read(fd, 64) if readable else b""
            if not chunk:
                stderr = b""
                if self._stderr is not None:
                    self._stderr.seek(0)
                    stderr = self._stderr.read()
                self.stop()
                reason = stderr.decode(errors="replace").strip()[-500:] or "no output"
                raise BackendError(f"Xvfb did not start within {self.timeout:g} s: {reason}")
            text += chunk
        return text.decode().strip()
