"""``.tar.gz``: the build as a portable archive, byte-for-byte reproducible.

Entries are sorted, owned by 0:0 with no names, modes normalized (0755 folders and programs, 0644
the rest), every time stamp is ``SOURCE_DATE_EPOCH`` (gzip header included), so the same build
gives the same archive on any machine. Written with :mod:`tarfile` (no external tool).
"""

from __future__ import annotations

import gzip
import tarfile
from pathlib import Path

from ..host import Host
from . import icons, signing
from .base import Job, Progress, Tool, package_version, platform_key, walk_dirs, walk_files

GZIP_LEVEL = 6  # 9 is ~3x slower on a 400 MB bundle for ~1 % less


def archive_name(job: Job) -> str:
    """``NAME-VERSION-OS-ARCH.tar.gz``."""
    system = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(
        platform_key(job.platform), job.platform
    )
    return f"{job.app.name}-{package_version(job.app.version)}-{system}-{job.machine.lower()}.tar.gz"


def top_folder(job: Job) -> str:
    """The single folder the archive unpacks to."""
    return f"{job.app.name}-{package_version(job.app.version)}"


def _info(name: str, *, kind: bytes, mode: int, epoch: int, size: int = 0, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = epoch
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.size = size
    info.linkname = link
    return info


def entries(root: Path, prefix: str) -> list[tuple[str, Path]]:
    """``(archive name, source)`` for every folder and file under ``root``, sorted by name (pure order)."""
    found = [(prefix, root)]
    found += [(f"{prefix}/{rel.as_posix()}", root / rel) for rel in walk_dirs(root)]
    found += [(f"{prefix}/{rel.as_posix()}", root / rel) for rel in walk_files(root)]
    return sorted(found)


def write_archive(output: Path, sources: list[tuple[str, Path]], epoch: int) -> None:
    """Write the deterministic ``.tar.gz``."""
    with (
        output.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=epoch, compresslevel=GZIP_LEVEL) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name, path in sources:
            if path.is_symlink():
                link = str(path.readlink())
                tar.addfile(_info(name, kind=tarfile.SYMTYPE, mode=0o777, epoch=epoch, link=link))
            elif path.is_dir():
                tar.addfile(_info(name, kind=tarfile.DIRTYPE, mode=0o755, epoch=epoch))
            else:
                mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
                info = _info(name, kind=tarfile.REGTYPE, mode=mode, epoch=epoch, size=path.stat().st_size)
                with path.open("rb") as handle:
                    tar.addfile(info, handle)


class TarGzPackager:
    """Writes ``dist/NAME-VERSION-linux-ARCH.tar.gz`` (the build folder plus a 256 px icon)."""

    name = "targz"
    title = ".tar.gz (portable archive)"
    platforms = ("linux",)
    hosts = ("linux", "darwin", "win32")

    def tools(self, job: Job) -> tuple[Tool, ...]:
        """None: Python writes the archive."""
        return ()

    def package(self, job: Job, host: Host, progress: Progress) -> tuple[Path, ...]:
        """Archive the build folder (and its icon) deterministically, then sign."""
        folder = top_folder(job)
        sources = entries(job.bundle, folder)
        if job.app.icon is not None:
            icon = icons.write_png(job.app.icon, job.work_dir / f"{job.app.name}.png", 256)
            sources = sorted([*sources, (f"{folder}/{icon.name}", icon)])
        job.out_dir.mkdir(parents=True, exist_ok=True)
        output = job.out_dir / archive_name(job)
        progress(f"writing {output.name} ({len(sources)} entries, mtime {job.epoch})")
        partial = output.with_name(output.name + ".partial")
        write_archive(partial, sources, job.epoch)
        partial.replace(output)
        extra = signing.sign(host, "targz", output, job.env, progress)
        return (output, *extra)


PACKAGER = TarGzPackager()
