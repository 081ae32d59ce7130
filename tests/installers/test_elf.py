"""Reading a build's system library needs from its ELF files."""

from __future__ import annotations

from pathlib import Path

from flaskdesk.packaging.elf import ElfInfo, parse_elf, scan_bundle, system_libraries

from .conftest import make_bundle


def test_parse_a_real_program() -> None:
    info = parse_elf(Path("/bin/true").read_bytes())
    assert info is not None
    assert "libc.so.6" in info.needed
    assert any(v.startswith("GLIBC_2.") for v in info.versions["libc.so.6"])


def test_not_elf_is_none() -> None:
    assert parse_elf(b"#!/bin/sh\necho hi\n" * 10) is None
    assert parse_elf(b"\x7fELF" + b"\0" * 10) is None


def test_bundled_libraries_are_not_system_needs() -> None:
    infos = [
        ElfInfo(("libc.so.6", "libQt6Core.so.6", "libEGL.so.1"), {"libc.so.6": frozenset({"GLIBC_2.17"})}),
        ElfInfo(("libc.so.6", "libxcb.so.1"), {"libc.so.6": frozenset({"GLIBC_2.34", "GLIBC_2.2.5"})}),
    ]
    libs = system_libraries(infos, bundled=["libQt6Core.so.6"])
    assert libs.glibc == "2.34"
    assert libs.others == ("libEGL.so.1", "libxcb.so.1")


def test_scan_a_bundle(tmp_path: Path) -> None:
    libs = scan_bundle(make_bundle(tmp_path, "demo"))
    assert libs.others == ()
    assert libs.glibc is not None and libs.glibc.startswith("2.")
