"""Idle memory: PSS summed over a contender's whole process tree.

PSS (proportional set size) charges each shared page to the processes sharing it in equal parts,
so summing it over the tree (the Python process, and the engine's helpers: Chromium's zygote,
renderer and GPU processes for Qt; ``WebKitWebProcess`` and ``WebKitNetworkProcess`` for GTK)
counts every page once. RSS would count the shared engine libraries once per process. Read from
``/proc/PID/smaps_rollup`` (Linux 4.14+) after the page was shown and then left idle for 2 s.

PSS has one weakness on a shared machine: a library page that an *unrelated* process also maps
(another Qt app, say) is charged only half to us, so the number drifts with whatever else runs.
:func:`tree_resident_once` is the steady companion: every physical page the tree has resident,
counted once (page frame numbers from ``/proc/PID/pagemap``, which needs root), whoever else maps
it: what the tree would occupy on an otherwise empty machine. Both are reported.
"""

from __future__ import annotations

import struct
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


_PAGE = 4096
_PRESENT = 1 << 63
_PFN_MASK = (1 << 55) - 1


def _resident_ranges(pid: int) -> list[tuple[int, int]]:
    """Address ranges of ``pid``'s mappings that have any resident page (from ``smaps``)."""
    ranges: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            head = line.split(None, 1)[0]
            if "-" in head and not head.endswith(":"):
                low, high = head.split("-")
                current = (int(low, 16), int(high, 16))
            elif head == "Rss:" and current is not None and int(line.split()[1]) > 0:
                ranges.append(current)
    return ranges


def _page_frames(pid: int) -> set[int]:
    frames: set[int] = set()
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for low, high in _resident_ranges(pid):
            pagemap.seek(low // _PAGE * 8)
            for (entry,) in struct.iter_unpack("<Q", pagemap.read((high - low) // _PAGE * 8)):
                if entry & _PRESENT:
                    frames.add(entry & _PFN_MASK)
    return frames


def tree_resident_once(root: int) -> float | None:
    """MB of physical pages resident in ``root``'s tree, each counted once; ``None`` without root
    (the kernel hides page frame numbers from other users)."""
    frames: set[int] = set()
    for pid in process_tree(root):
        try:
            mine = _page_frames(pid)
        except (OSError, ValueError):
            continue
        if mine == {0}:
            return None  # page frame numbers are zeroed: not allowed to see them
        frames |= mine
    frames.discard(0)
    return len(frames) * _PAGE / 1e6 if frames else None
