"""The harness's shared parts: statistics, a private X server whose screen we can read, child processes.

Pure pieces (:func:`summarize`, :func:`latency`, :func:`ratio`, :func:`parse_xwd_header`,
:func:`count_colour`) are unit-tested; the rest starts and stops processes.

**How "page loaded" is seen.** Every window contender runs on a private ``Xvfb`` started with
``-fbdir``: the X server keeps its screen in a memory-mapped XWD file, which the harness reads
directly (no X round trips, no screenshots). A run's clock starts just before the child process is
spawned and stops at the first look (every 5 ms) that finds the page's stylesheet background
colour over at least a third of the window's area. That colour exists only once the Jinja page and
its static CSS both arrived and were painted, so the one method works the same from the outside
for every contender, frozen executables included, with no hook inside any of them.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import platform
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

from benchmarks.servers import percentile

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
CONTENDERS = BENCH / "contenders"
FIXTURE = CONTENDERS / "fixture"
RESULTS = BENCH / "results"

SCREEN = (1280, 800)
WINDOW = (800, 600)  # every contender's window size (the fixture's [tool.flaskdesk] width/height)
#: The page's background colour (``fixture/benchpage/static/style.css``).
PAGE_RGB = (0x23, 0x6E, 0xA0)
#: Share of the window's area that must show the page colour for "the page is shown".
SHOWN_SHARE = 1 / 3
POLL_SECONDS = 0.005
ROW_STEP = 16  # rows between the ones looked at: 37 rows cross an 800x600 window

__all__ = [
    "PAGE_RGB",
    "PrivateDisplay",
    "Summary",
    "XwdLayout",
    "count_colour",
    "latency",
    "machine",
    "parse_xwd_header",
    "percentile",
    "ratio",
    "summarize",
]


# ---------------------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Summary:
    """Median and range of one metric's samples (one sample per run)."""

    n: int
    median: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def summarize(samples: Sequence[float]) -> Summary | None:
    """The median, min and max of ``samples``; ``None`` when there are none."""
    if not samples:
        return None
    return Summary(len(samples), statistics.median(samples), min(samples), max(samples))


def latency(samples_ms: Sequence[float]) -> dict[str, float] | None:
    """p50 / p99 / mean of per-call latencies (nearest-rank, as ``benchmarks/servers.py``)."""
    if not samples_ms:
        return None
    return {
        "n": len(samples_ms),
        "p50": percentile(samples_ms, 0.50),
        "p99": percentile(samples_ms, 0.99),
        "mean": statistics.fmean(samples_ms),
    }


def ratio(value: float | None, base: float | None) -> float | None:
    """``value / base``, or ``None`` when either is missing or ``base`` is zero."""
    if value is None or base is None or base == 0:
        return None
    return value / base


# ------------------------------------------------------------------------------- the screen (XWD)


@dataclass(frozen=True)
class XwdLayout:
    """Where the pixels are in an XWD image (Xvfb's ``-fbdir`` screen file)."""

    offset: int
    width: int
    height: int
    bytes_per_line: int
    bits_per_pixel: int
    lsb_first: bool


def parse_xwd_header(data: bytes) -> XwdLayout:
    """Read an XWD (X11 window dump, version 7) header: 25 big-endian 32-bit fields, then colours."""
    if len(data) < 100:
        raise ValueError("too short for an XWD header")
    fields = struct.unpack(">25I", data[:100])
    header_size, file_version = fields[0], fields[1]
    if file_version != 7:
        raise ValueError(f"not an XWD version 7 file (version field {file_version})")
    width, height = fields[4], fields[5]
    byte_order, bits_per_pixel, bytes_per_line, ncolors = fields[7], fields[11], fields[12], fields[19]
    if bits_per_pixel not in (24, 32):
        raise ValueError(f"unsupported {bits_per_pixel} bits per pixel (start Xvfb with depth 24)")
    return XwdLayout(
        offset=header_size + 12 * ncolors,
        width=width,
        height=height,
        bytes_per_line=bytes_per_line,
        bits_per_pixel=bits_per_pixel,
        lsb_first=byte_order == 0,
    )


def count_colour(
    buffer: bytes | mmap.mmap, layout: XwdLayout, rgb: tuple[int, int, int], row_step: int = ROW_STEP
) -> int:
    """About how many screen pixels are exactly ``rgb``: every ``row_step``-th row is counted in full.

    Counting a 3-byte pattern with ``bytes.count`` runs in C. The look must stay cheap because it
    runs every 5 ms on the contender's cores: on a 1280x800 screen it takes ~0.15 ms at
    ``row_step=16`` (3 % of a core) but 2 ms at ``row_step=4`` (40 %, enough to slow the contender).
    """
    red, green, blue = rgb
    # 32 bpp is B,G,R,x in memory on little-endian X servers and x,R,G,B on big-endian ones.
    pattern = bytes((blue, green, red)) if layout.lsb_first else bytes((red, green, blue))
    rows = [
        buffer[start : start + layout.width * layout.bits_per_pixel // 8]
        for start in range(
            layout.offset,
            layout.offset + layout.height * layout.bytes_per_line,
            layout.bytes_per_line * row_step,
        )
    ]
    return b"".join(rows).count(pattern) * row_step


class PrivateDisplay:
    """An ``Xvfb`` of our own (display number chosen by Xvfb) whose screen we read from memory."""

    def __init__(self, work: Path, size: tuple[int, int] = SCREEN) -> None:
        if shutil.which("Xvfb") is None:
            raise SystemExit("Xvfb is missing: apt-get install -y --no-install-recommends xvfb x11-utils")
        self._dir = Path(tempfile.mkdtemp(prefix="fb-", dir=work))
        read_end, write_end = os.pipe()
        self.proc = subprocess.Popen(
            [
                "Xvfb",
                "-displayfd",
                str(write_end),
                "-screen",
                "0",
                f"{size[0]}x{size[1]}x24",
                "-nolisten",
                "tcp",
                "-fbdir",
                str(self._dir),
            ],
            pass_fds=(write_end,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        os.close(write_end)
        try:
            number = _read_line(read_end, timeout=15)
        finally:
            os.close(read_end)
        if not number.strip().isdigit():
            self.close()
            raise SystemExit("Xvfb did not start (no display number within 15 s)")
        self.name = f":{number.strip()}"
        screen = self._dir / "Xvfb_screen0"
        with screen.open("rb") as stream:
            self._map = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
        self.layout = parse_xwd_header(self._map[:100])

    def colour_count(self, rgb: tuple[int, int, int] = PAGE_RGB) -> int:
        return count_colour(self._map, self.layout, rgb)

    def wait_for_colour(
        self,
        deadline: float,
        proc: subprocess.Popen[bytes] | None = None,
        rgb: tuple[int, int, int] = PAGE_RGB,
    ) -> float | None:
        """``time.monotonic()`` when the colour first covers :data:`SHOWN_SHARE` of a window, or ``None``
        at ``deadline`` (or when ``proc`` exited)."""
        needed = int(WINDOW[0] * WINDOW[1] * SHOWN_SHARE)
        while time.monotonic() < deadline:
            if self.colour_count(rgb) >= needed:
                return time.monotonic()
            if proc is not None and proc.poll() is not None:
                return None
            time.sleep(POLL_SECONDS)
        return None

    def wait_until_clear(self, timeout: float = 10.0, rgb: tuple[int, int, int] = PAGE_RGB) -> bool:
        """Wait (bounded) until no page from an earlier run is still on the screen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.colour_count(rgb) == 0:
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        if getattr(self, "_map", None) is not None:
            self._map.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> PrivateDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_line(fd: int, timeout: float) -> str:
    import select

    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 64)
        if not chunk:
            break
        data += chunk
    return data.decode("ascii", "replace")


# ------------------------------------------------------------------------------------ processes


def child_env(display: str, home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a contender: the private display, its own XDG dirs, no inherited app settings."""
    drop = ("FLASK_", "FLASKDESK_", "QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "QTWEBENGINE_", "XDG_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(drop)}
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
        path = home / var.lower()
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        env[var] = str(path)
    env["DISPLAY"] = display
    env["NO_AT_BRIDGE"] = "1"  # no accessibility bus in a headless session (GTK waits for it otherwise)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


def as_user(uid: int) -> list[str]:
    """The command prefix that runs a program as ``uid``, able to read (not write) root's files.

    ``CAP_DAC_READ_SEARCH`` lets an interpreter and venv under ``/root`` run without loosening its
    permissions; Chromium's sandboxed processes drop it with every other capability.
    """
    return [
        "setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=+dac_read_search",
        "--ambient-caps=+dac_read_search",
    ]


def spawn(
    argv: Sequence[str], env: Mapping[str, str], log: IO[bytes], cwd: Path = ROOT
) -> subprocess.Popen[bytes]:
    """Start a contender in its own session (so it and every process it starts can be stopped)."""
    return subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def process_tree(root: int) -> list[int]:
    """``root`` and every live process descended from it or in its session (Chromium's zygote and
    WebKit's helpers included, even if they were re-parented)."""
    parents: dict[int, int] = {}
    sessions: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        sessions[pid] = int(fields[3])
    if root not in parents:
        return []
    found = {root}
    found.update(pid for pid, sid in sessions.items() if sid == root)
    grew = True
    while grew:
        before = len(found)
        found.update(pid for pid, ppid in parents.items() if ppid in found)
        grew = len(found) > before
    return sorted(found)


def stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> int | None:
    """SIGTERM the contender's session, wait up to ``grace`` s, then SIGKILL whatever is left."""
    members = process_tree(proc.pid)
    with _suppress_lookup():
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        code: int | None = proc.wait(grace)
    except subprocess.TimeoutExpired:
        code = None
    for pid in [*members, *process_tree(proc.pid)]:
        with _suppress_lookup():
            os.kill(pid, signal.SIGKILL)
    with _suppress_lookup():
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.wait(10)
    return code


def _suppress_lookup() -> contextlib.suppress:
    return contextlib.suppress(ProcessLookupError, PermissionError)


# ------------------------------------------------------------------------------------ the machine


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def _engine_versions(backend: str) -> str:
    """Qt / WebKitGTK versions, asked in a subprocess so the harness never loads a toolkit."""
    if backend == "qt":
        code = (
            "from PyQt6.QtCore import QT_VERSION_STR; from PyQt6 import QtWebEngineCore as w; "
            "chromium = getattr(w, 'qWebEngineChromiumVersion', lambda: '?')(); "
            "print('Qt', QT_VERSION_STR, '/ Chromium', chromium)"
        )
    else:
        code = (
            "import gi; gi.require_version('WebKit2', '4.1'); from gi.repository import WebKit2 as w; "
            "print('WebKit2GTK %d.%d.%d' % "
            "(w.get_major_version(), w.get_minor_version(), w.get_micro_version()))"
        )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
    except subprocess.TimeoutExpired:
        return "?"
    return done.stdout.strip() or "?"


def machine(backend: str) -> dict[str, Any]:
    """What the numbers were measured on."""
    packages = ["pywebview", "flask", "werkzeug", "waitress"]
    packages += ["PyQt6", "PyQt6-WebEngine"] if backend == "qt" else ["PyGObject"]
    memory = _memory_gib()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1) if memory else None,
        "os": f"{platform.system()} {platform.release()}",
        "distro": _distro(),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "backend": backend,
        "engine": _engine_versions(backend),
        "packages": {name: _version(name) for name in packages},
        "flaskdesk": _version("flaskdesk"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _distro() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return "?"


def directory_size(path: Path) -> int:
    """Bytes in a file, or in every regular file under a folder (symlinks not followed)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
