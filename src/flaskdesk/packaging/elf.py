"""Which shared libraries a Linux build needs from the system: read from its ELF files, not guessed.

PyInstaller copies most libraries into the bundle but deliberately leaves out the ones that must
match the user's machine (glibc, libGL/libEGL, libdrm, libxcb, Wayland...). Every ``DT_NEEDED``
entry of every ELF file in the bundle that no bundled file satisfies is a run-time dependency of
the package; the ``GLIBC_x.y`` symbol versions they require give the minimum glibc. The parser
reads the dynamic section directly (no ``readelf`` per file: a Qt bundle has ~230 ELF files).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .base import walk_files

_PT_LOAD, _PT_DYNAMIC = 1, 2
_DT_NULL, _DT_NEEDED, _DT_STRTAB, _DT_STRSZ = 0, 1, 5, 10
_DT_VERNEED, _DT_VERNEEDNUM = 0x6FFFFFFE, 0x6FFFFFFF
#: glibc's own libraries: satisfied by ``libc6`` / ``glibc`` at the required symbol version.
GLIBC_SONAMES = frozenset(
    {
        "libc.so.6",
        "libm.so.6",
        "libdl.so.2",
        "libpthread.so.0",
        "librt.so.1",
        "libresolv.so.2",
        "libutil.so.1",
        "ld-linux-x86-64.so.2",
        "ld-linux-aarch64.so.1",
        "ld-linux-armhf.so.3",
        "ld-linux.so.2",
    }
)


@dataclass(frozen=True)
class ElfInfo:
    """One ELF file's ``DT_NEEDED`` sonames and, per soname, the symbol versions it requires."""

    needed: tuple[str, ...]
    versions: Mapping[str, frozenset[str]] = field(default_factory=dict)


def parse_elf(data: bytes) -> ElfInfo | None:
    """The dynamic dependencies of an ELF image (``None``: not ELF, or no dynamic section)."""
    if len(data) < 64 or data[:4] != b"\x7fELF":
        return None
    is64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    try:
        if is64:
            (phoff,) = struct.unpack_from(end + "Q", data, 0x20)
            phentsize, phnum = struct.unpack_from(end + "HH", data, 0x36)
        else:
            (phoff,) = struct.unpack_from(end + "I", data, 0x1C)
            phentsize, phnum = struct.unpack_from(end + "HH", data, 0x2A)
        loads: list[tuple[int, int, int]] = []  # (vaddr, offset, filesz)
        dynamic: tuple[int, int] | None = None
        for index in range(phnum):
            at = phoff + index * phentsize
            if is64:
                p_type, _flags, offset, vaddr, _paddr, filesz = struct.unpack_from(end + "IIQQQQ", data, at)
            else:
                p_type, offset, vaddr, _paddr, filesz = struct.unpack_from(end + "IIIII", data, at)
            if p_type == _PT_LOAD:
                loads.append((vaddr, offset, filesz))
            elif p_type == _PT_DYNAMIC:
                dynamic = (offset, filesz)
        if dynamic is None:
            return None

        def to_offset(address: int) -> int:
            for vaddr, offset, filesz in loads:
                if vaddr <= address < vaddr + filesz:
                    return address - vaddr + offset
            return address

        entry = struct.Struct(end + ("qQ" if is64 else "iI"))
        tags: list[tuple[int, int]] = []
        for at in range(dynamic[0], dynamic[0] + dynamic[1], entry.size):
            tag, value = entry.unpack_from(data, at)
            if tag == _DT_NULL:
                break
            tags.append((tag, value))
        values = dict(tags)
        if _DT_STRTAB not in values:
            return None
        strtab = to_offset(values[_DT_STRTAB])

        def string(offset: int) -> str:
            stop = data.index(b"\0", strtab + offset)
            return data[strtab + offset : stop].decode("utf-8", "replace")

        needed = tuple(string(value) for tag, value in tags if tag == _DT_NEEDED)
        versions: dict[str, set[str]] = {}
        if _DT_VERNEED in values:
            at = to_offset(values[_DT_VERNEED])
            for _ in range(values.get(_DT_VERNEEDNUM, 0)):
                _version, count, file_name, aux, next_need = struct.unpack_from(end + "HHIII", data, at)
                names = versions.setdefault(string(file_name), set())
                aux_at = at + aux
                for _ in range(count):
                    _hash, _flags, _other, name, next_aux = struct.unpack_from(end + "IHHII", data, aux_at)
                    names.add(string(name))
                    if not next_aux:
                        break
                    aux_at += next_aux
                if not next_need:
                    break
                at += next_need
        return ElfInfo(needed=needed, versions={k: frozenset(v) for k, v in versions.items()})
    except (struct.error, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class SystemLibraries:
    """What a bundle needs from the system: sonames with the symbol versions they must provide."""

    sonames: Mapping[str, frozenset[str]]

    @property
    def glibc(self) -> str | None:
        """The highest ``GLIBC_x.y`` version required, as ``x.y`` (``None`` if none)."""
        found: list[tuple[int, ...]] = []
        for soname, versions in self.sonames.items():
            if soname in GLIBC_SONAMES:
                for version in versions:
                    match = re.fullmatch(r"GLIBC_(\d+(?:\.\d+)+)", version)
                    if match:
                        found.append(tuple(int(p) for p in match.group(1).split(".")))
        return ".".join(map(str, max(found))) if found else None

    @property
    def others(self) -> tuple[str, ...]:
        """The non-glibc sonames, sorted."""
        return tuple(sorted(s for s in self.sonames if s not in GLIBC_SONAMES))


def system_libraries(infos: Iterable[ElfInfo], bundled: Iterable[str]) -> SystemLibraries:
    """The sonames the ELF files need that no bundled file name satisfies (pure)."""
    have = set(bundled)
    wanted: dict[str, set[str]] = {}
    for info in infos:
        for soname in info.needed:
            if soname not in have:
                wanted.setdefault(soname, set()).update(info.versions.get(soname, ()))
    return SystemLibraries({k: frozenset(v) for k, v in sorted(wanted.items())})


def scan_bundle(bundle: Path) -> SystemLibraries:
    """Read every ELF file in ``bundle`` and return what it needs from the system."""
    infos: list[ElfInfo] = []
    names: set[str] = set()
    for rel in walk_files(bundle):
        path = bundle / rel
        names.add(path.name)
        if path.is_symlink() or not path.is_file():
            continue
        with path.open("rb") as handle:
            if handle.read(4) != b"\x7fELF":
                continue
        info = parse_elf(path.read_bytes())
        if info is not None:
            infos.append(info)
    return system_libraries(infos, names)
