"""Idle memory: PSS summed over a contender's whole process tree.

PSS (proportional set size) charges each shared page to the processes sharing it in equal parts,
so summing it over the tree (the Python process, and the engine's helpers: Chromium's zygote,
renderer and GPU processes for Qt; ``WebKitWebProcess`` and ``WebKitNetworkProcess`` for GTK)
counts every page once. RSS would count the shared engine libraries once per process. Read from
``/proc/PID/smaps_rollup`` (Linux 4.14+) after the page was shown and then left idle for 2 s.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.harness import process_tree

IDLE_SECONDS = 2.0


def parse_pss_kib(smaps_rollup: str) -> int:
    """The ``Pss:`` line of a ``smaps_rollup`` file, in KiB (0 when absent: a kernel thread, a zombie)."""
    for line in smaps_rollup.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def process_pss_kib(pid: int) -> int | None:
    try:
        return parse_pss_kib(Path(f"/proc/{pid}/smaps_rollup").read_text())
    except (OSError, ValueError):
        return None  # it exited meanwhile


def tree_pss(root: int) -> tuple[float, list[dict[str, object]]]:
    """Total PSS in MB (10^6 bytes) of ``root``'s tree, and the per-process breakdown."""
    total_kib = 0
    parts: list[dict[str, object]] = []
    for pid in process_tree(root):
        kib = process_pss_kib(pid)
        if kib is None:
            continue
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            name = "?"
        total_kib += kib
        parts.append({"pid": pid, "name": name, "pss_mb": round(kib * 1024 / 1e6, 1)})
    return total_kib * 1024 / 1e6, parts
