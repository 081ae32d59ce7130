"""Licence notices of everything that ships, collected into the bundle's ``licenses/`` folder.

Most licences of the packages a frozen app contains (BSD, MIT, LGPL, GPL) require their notice
to travel with binary copies. The generated spec calls :func:`license_notices` right after
PyInstaller's analysis, so the list is exactly the distributions whose modules or files made it
into the bundle (onefile builds included), and writes a summary the CLI reads to warn when a GPL
component ships (PyQt6: the whole app must then be GPL-compatible; the ``pyside`` extra is LGPL).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from email.message import Message
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import cast

#: A PyInstaller TOC entry: (name or destination, source path, type code).
TocEntry = tuple[str, str, str]

_NOTICE_FILE = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|COPYRIGHT|AUTHORS)", re.IGNORECASE)
_GPL = re.compile(r"\bA?GPL|General Public License", re.IGNORECASE)
#: Licences whose metadata is incomplete. PyInstaller declares only "GPLv2", but its bootloader
#: (the part that ships) carries an exception allowing any licence for the frozen program.
LICENSE_OVERRIDES = {"pyinstaller": "GPL-2.0-or-later WITH Bootloader-exception"}
_WEAK = re.compile(r"\bLGPL|Lesser General Public|Library General Public|exception", re.IGNORECASE)


@dataclass(frozen=True)
class Notice:
    """One shipped distribution: its licence as declared, whether it is GPL, and where its notice went."""

    distribution: str
    version: str
    license: str
    gpl: bool
    files: tuple[str, ...]


def declared_license(meta: Message) -> str:
    """A distribution's declared licence: ``License-Expression``, else a short ``License``, else classifiers.

    Some distributions paste their whole licence text into ``License``; the first line is kept
    only when nothing better is declared.
    """
    expression = meta.get("License-Expression")
    if expression:
        return str(expression).strip()
    text = str(meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) < 120:
        return text
    classifiers = [
        c.split("::")[-1].strip() for c in (meta.get_all("Classifier") or []) if c.startswith("License ::")
    ]
    if classifiers:
        return "; ".join(classifiers)
    return text.splitlines()[0] if text else "UNKNOWN"


def is_gpl(license_text: str) -> bool:
    """Strong copyleft (GPL/AGPL), not LGPL and not GPL-with-exception (PyInstaller's bootloader)."""
    return bool(_GPL.search(license_text)) and not _WEAK.search(license_text)


def top_level_names(pure: Iterable[TocEntry], *others: Iterable[TocEntry]) -> set[str]:
    """Top-level import names of the bundled modules and of the folders binaries and data went to."""
    names = {entry[0].split(".")[0] for entry in pure}
    for toc in others:
        for entry in toc:
            parts = PurePosixPath(entry[0].replace("\\", "/")).parts
            if len(parts) > 1:
                names.add(parts[0])
    return names


def distributions_for(names: Iterable[str], mapping: Mapping[str, Sequence[str]]) -> list[str]:
    """Distribution names providing any of the import ``names`` (sorted, no repeats)."""
    found = {dist for name in names for dist in mapping.get(name, ())}
    return sorted(found, key=str.lower)


def top_level_map(distributions: Iterable[metadata.Distribution] | None = None) -> dict[str, list[str]]:
    """Import name → distributions installing files under it.

    Unlike :func:`importlib.metadata.packages_distributions` (which, before Python 3.12, infers
    names from ``.py`` files only), every recorded file counts: ``PyQt6-WebEngine`` and
    ``PyQt6-Qt6`` ship only compiled modules and Qt itself under ``PyQt6/``.
    """
    mapping: dict[str, list[str]] = {}
    for dist in metadata.distributions() if distributions is None else distributions:
        name = dist.metadata["Name"]
        if not name:
            continue
        tops: set[str] = set()
        declared = dist.read_text("top_level.txt")
        if declared:
            tops.update(line.strip() for line in declared.splitlines() if line.strip())
        for file in dist.files or ():
            parts = PurePosixPath(str(file)).parts
            if (
                len(parts) > 1
                and parts[0] != ".."
                and not parts[0].endswith((".dist-info", ".egg-info", ".data"))
            ):
                tops.add(parts[0])
            elif len(parts) == 1 and parts[0].endswith((".py", ".so", ".pyd")):
                tops.add(parts[0].split(".")[0])
        for top in tops:
            if name not in mapping.setdefault(top, []):
                mapping[top].append(name)
    return mapping


def _copy_notices(dist: metadata.Distribution, out_dir: Path) -> list[Path]:
    written: list[Path] = []
    for file in dist.files or ():
        name = PurePosixPath(str(file)).name
        in_metadata = ".dist-info/" in str(file) or ".egg-info/" in str(file)
        if not in_metadata or not _NOTICE_FILE.match(name):
            continue
        source = Path(str(file.locate()))
        if not source.is_file():
            continue
        target = out_dir / name
        if target.exists():
            target = out_dir / f"{PurePosixPath(str(file)).parent.name}-{name}"
        target.write_bytes(source.read_bytes())
        written.append(target)
    return written


def write_notices(
    distributions: Iterable[str], out_dir: Path, *, overrides: Mapping[str, str] | None = None
) -> list[Notice]:
    """Copy each distribution's licence files to ``out_dir/<dist>-<version>/`` and write the index.

    ``overrides`` replaces the declared licence of a distribution (lower-case name) whose metadata
    says less than its licence does.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    notices: list[Notice] = []
    for name in distributions:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        version = dist.version
        folder = out_dir / f"{dist.metadata['Name']}-{version}"
        folder.mkdir(exist_ok=True)
        files = _copy_notices(dist, folder)
        if not files:
            folder.rmdir()
        declared = declared_license(cast(Message, dist.metadata))
        license_text = (overrides or {}).get(str(dist.metadata["Name"]).lower()) or declared
        notices.append(
            Notice(
                distribution=str(dist.metadata["Name"]),
                version=version,
                license=license_text,
                gpl=is_gpl(license_text),
                files=tuple(sorted(p.relative_to(out_dir).as_posix() for p in files)),
            )
        )
    python_license = (
        Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "LICENSE.txt"
    )
    if python_license.is_file():
        folder = out_dir / f"Python-{sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}"
        folder.mkdir(exist_ok=True)
        (folder / "LICENSE.txt").write_bytes(python_license.read_bytes())
        notices.append(
            Notice(
                "Python",
                ".".join(map(str, sys.version_info[:3])),
                "PSF-2.0",
                False,
                (f"{folder.name}/LICENSE.txt",),
            )
        )
    index = ["Third-party software in this application, and the licences it is distributed under.", ""]
    index += [
        f"{n.distribution} {n.version}: {n.license}" + (f"  (see {', '.join(n.files)})" if n.files else "")
        for n in notices
    ]
    (out_dir / "THIRD-PARTY-NOTICES.txt").write_text("\n".join(index) + "\n", encoding="utf-8")
    return notices


def license_notices(
    pure: Sequence[TocEntry],
    binaries: Sequence[TocEntry],
    datas: Sequence[TocEntry],
    *,
    out_dir: str,
    summary: str,
) -> list[TocEntry]:
    """Called by the generated spec: notices for what ships, as ``datas`` entries under ``licenses/``.

    Also lists the bootloader (PyInstaller: GPL with an exception that allows any licence for
    the app) and writes ``summary`` (JSON) for the build's GPL warning.
    """
    folder = Path(out_dir)
    if folder.exists():
        for path in sorted(folder.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
    names = top_level_names(pure, binaries, datas)
    dists = distributions_for(names, top_level_map())
    notices = write_notices([*dists, "pyinstaller"], folder, overrides=LICENSE_OVERRIDES)
    Path(summary).write_text(json.dumps([asdict(n) for n in notices], indent=1) + "\n", encoding="utf-8")
    return [
        (f"licenses/{path.relative_to(folder).as_posix()}", str(path), "DATA")
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]


def read_summary(path: Path) -> list[Notice]:
    """The notices a build recorded (empty if the build did not get that far)."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [
        Notice(r["distribution"], r["version"], r["license"], bool(r["gpl"]), tuple(r["files"])) for r in rows
    ]
