"""What makes the bundle big: a breakdown by package, largest first, as text and as an HTML chart.

Written after every build to ``build/flaskdesk/size-report.txt`` and ``size-report.html``, so
"why is my app 400 MB?" has an answer one click away, together with what the slim pass dropped.
Grouping (:func:`group_of`) is pure and tested; only :func:`scan` touches the disk.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

_PYTHON_GROUP = "Python runtime"
_SYSTEM_GROUP = "system libraries"


@dataclass(frozen=True)
class Row:
    """One group of the report: a package (or library family), its size and file count."""

    group: str
    size: int
    files: int
    largest: tuple[tuple[str, int], ...]


def group_of(relative: str, *, executable: str) -> str:
    """The report group of a bundle file given by its path relative to the bundle folder.

    ``PyQt6/Qt6/lib/libQt6WebEngineCore.so.6`` → ``PyQt6``; ``libssl.so.3`` → system libraries;
    ``python3.11/lib-dynload/...``, ``libpython3.11.so`` and ``base_library.zip`` → Python
    runtime; the executable itself holds the bootloader and every compiled Python module.
    """
    path = PurePosixPath(relative.replace("\\", "/"))
    parts = path.parts
    if parts and parts[0] == "_internal":
        parts = parts[1:]
        path = PurePosixPath(*parts) if parts else path
    if not parts:
        return relative
    if len(parts) == 1:
        name = parts[0]
        if name in (executable, f"{executable}.exe"):
            return f"{executable} (bootloader + Python modules)"
        if name.startswith(("libpython", "python3")) or name == "base_library.zip":
            return _PYTHON_GROUP
        if ".so" in name or name.endswith((".dll", ".dylib", ".pyd", ".chk")):
            return _SYSTEM_GROUP
        return name
    top = parts[0]
    if top.startswith("python3") or top == "lib-dynload":
        return _PYTHON_GROUP
    if top.endswith((".dist-info", ".egg-info")):
        return "package metadata"
    return top


def scan(bundle: Path, *, executable: str) -> list[Row]:
    """Sizes of the files under ``bundle`` (a onedir folder, or a onefile executable), by group."""
    files: list[tuple[str, int]] = []
    if bundle.is_file():
        files.append((bundle.name, bundle.stat().st_size))
    else:
        for path in bundle.rglob("*"):
            if path.is_file() and not path.is_symlink():
                files.append((path.relative_to(bundle).as_posix(), path.stat().st_size))
    return summarize(files, executable=executable)


def summarize(files: Iterable[tuple[str, int]], *, executable: str) -> list[Row]:
    """Group ``(relative path, size)`` pairs; largest group first, each with its 3 largest files."""
    groups: dict[str, list[tuple[str, int]]] = {}
    for relative, size in files:
        groups.setdefault(group_of(relative, executable=executable), []).append((relative, size))
    rows = [
        Row(
            group=name,
            size=sum(size for _, size in members),
            files=len(members),
            largest=tuple(sorted(members, key=lambda m: (-m[1], m[0]))[:3]),
        )
        for name, members in groups.items()
    ]
    return sorted(rows, key=lambda row: (-row.size, row.group))


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def dropped_summary(slim_report: Path) -> list[tuple[str, int, int]]:
    """``(reason, bytes, files)`` from the slim pass's report, largest first (empty if none)."""
    try:
        rows = json.loads(slim_report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    totals: dict[str, list[int]] = {}
    for row in rows:
        total = totals.setdefault(row["reason"], [0, 0])
        total[0] += int(row["bytes"])
        total[1] += 1
    return sorted(((r, t[0], t[1]) for r, t in totals.items()), key=lambda item: -item[1])


def render_text(title: str, rows: Sequence[Row], dropped: Sequence[tuple[str, int, int]] = ()) -> str:
    """The plain-text report."""
    total = sum(row.size for row in rows) or 1
    width = max([len(row.group) for row in rows] + [10])
    lines = [title, f"Total: {_mb(total)} in {sum(r.files for r in rows)} files", ""]
    lines.append(f"{'package'.ljust(width)}  {'size':>12}  {'share':>6}  files  largest file")
    for row in rows:
        largest = row.largest[0][0] if row.largest else ""
        lines.append(
            f"{row.group.ljust(width)}  {_mb(row.size):>12}  {row.size / total:>6.1%}  "
            f"{row.files:>5}  {largest}"
        )
    if dropped:
        lines += ["", f"Dropped by the slim pass ({_mb(sum(d[1] for d in dropped))}):"]
        lines += [f"  {_mb(size):>12}  {count:>5} files  {reason}" for reason, size, count in dropped]
    return "\n".join(lines) + "\n"


def render_html(title: str, rows: Sequence[Row], dropped: Sequence[tuple[str, int, int]] = ()) -> str:
    """A self-contained HTML page: one bar per package, largest first (no scripts, no network)."""
    total = sum(row.size for row in rows) or 1
    biggest = max((row.size for row in rows), default=1) or 1
    bars = []
    for row in rows:
        tip = html.escape("\n".join(f"{name}: {_mb(size)}" for name, size in row.largest))
        bars.append(
            f'<tr title="{tip}"><th>{html.escape(row.group)}</th><td class="n">{_mb(row.size)}</td>'
            f'<td class="n">{row.size / total:.1%}</td><td class="n">{row.files}</td>'
            f'<td class="bar"><div style="width:{100 * row.size / biggest:.1f}%"></div></td></tr>'
        )
    dropped_rows = "".join(
        f'<tr><td class="n">{_mb(size)}</td><td class="n">{count}</td><td>{html.escape(reason)}</td></tr>'
        for reason, size, count in dropped
    )
    dropped_html = (
        f"<h2>Dropped by the slim pass ({_mb(sum(d[1] for d in dropped))})</h2>"
        f"<table><tr><th>size</th><th>files</th><th>reason</th></tr>{dropped_rows}</table>"
        if dropped
        else ""
    )
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
        "th{text-align:left;padding:2px 12px 2px 0;font-weight:normal}td{padding:2px 8px}"
        ".n{text-align:right;white-space:nowrap}.bar{width:420px}"
        ".bar div{background:#4a7bd0;height:14px}"
        "</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1><p>Total: {_mb(total)} in {sum(r.files for r in rows)} files. "
        "Hover a row for its largest files.</p>\n"
        f"<table><tr><th>package</th><th>size</th><th>share</th><th>files</th><th></th></tr>{''.join(bars)}</table>\n"
        f"{dropped_html}\n</body></html>\n"
    )


def write_reports(
    bundle: Path, *, executable: str, out_dir: Path, slim_report: Path | None = None, title: str | None = None
) -> tuple[Path, Path, int]:
    """Scan ``bundle`` and write both reports to ``out_dir``; returns their paths and the total size."""
    rows = scan(bundle, executable=executable)
    dropped = dropped_summary(slim_report) if slim_report is not None else []
    heading = title or f"Size of {bundle}"
    text_path = out_dir / "size-report.txt"
    html_path = out_dir / "size-report.html"
    text_path.write_text(render_text(heading, rows, dropped), encoding="utf-8")
    html_path.write_text(render_html(heading, rows, dropped), encoding="utf-8")
    return text_path, html_path, sum(row.size for row in rows)


def bundle_size(root: Path) -> int:
    """Total bytes of the regular files under ``root`` (or of the file ``root``); symlinks not followed."""
    if root.is_file():
        return root.stat().st_size
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                total += os.path.getsize(path)
    return total
