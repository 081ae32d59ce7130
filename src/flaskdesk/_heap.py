"""Hand memory freed during start-up back to the operating system, once the app's page is up.

Starting a window allocates and frees a lot: module imports, the toolkit's and the engine's set-up,
Jinja compiling the first template, Qt's enum names added after the first load. CPython returns its
own free arenas, but glibc's ``malloc`` keeps the pages freed inside its heaps (and every worker
thread's arena) mapped, so they stay in the process's resident set for as long as it runs: ~3 MB
of PSS on this project's benchmark fixture (``python -m benchmarks --only memory``). glibc's
``malloc_trim(0)`` once the first page has settled gives them back; it costs a few milliseconds on
a worker thread, off the start-up path, and is thread-safe (it takes each arena's lock). No forced
garbage collection: that would run the finalizers of whatever toolkit objects are garbage on this
thread instead of the GUI thread. Elsewhere (macOS, Windows, musl) there is no ``malloc_trim``.
"""

from __future__ import annotations

import ctypes
import logging
import os
from collections.abc import Callable

log = logging.getLogger(__name__)


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or ``None`` where the C library has none."""
    try:
        libc = ctypes.CDLL(None)
    except (OSError, TypeError):  # Windows: no "current process" handle by None
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


def resident_bytes() -> int | None:
    """This process's resident set size (Linux ``/proc``; ``None`` elsewhere)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def release_freed_memory() -> bool:
    """Return free heap pages to the OS; ``True`` if glibc trimmed."""
    trim = _malloc_trim()
    if trim is None:
        return False
    before = resident_bytes()
    try:
        trimmed = bool(trim(0))
    except Exception:  # never fatal: only the resident set is at stake
        log.debug("malloc_trim failed", exc_info=True)
        return False
    after = resident_bytes()
    if before is not None and after is not None:
        log.info("start-up done: %.1f MB of freed memory handed back to the OS", (before - after) / 2**20)
    return trimmed
