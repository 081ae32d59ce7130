"""The portable .tar.gz: reproducible bytes, sorted root-owned entries."""

from __future__ import annotations

import hashlib
import os
import tarfile
from pathlib import Path

from flaskdesk.host import Host
from flaskdesk.packaging import targz
from flaskdesk.packaging.base import Job


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_archive_is_reproducible_and_normalized(job: Job, tmp_path: Path) -> None:
    host = Host(allowed_roots=[tmp_path])
    (first,) = targz.PACKAGER.package(job, host, lambda line: None)
    digest = _sha(first)
    for path in job.bundle.rglob("*"):  # new mtimes and a stricter mode must not change the bytes
        if not path.is_symlink():
            os.utime(path, (2_000_000_000, 2_000_000_000))
    (job.bundle / "_internal" / "data" / "page.html").chmod(0o600)
    (second,) = targz.PACKAGER.package(job, host, lambda line: None)
    assert second == first and _sha(second) == digest
    assert first.name == f"{job.app.name}-1.2.3-linux-x86_64.tar.gz"
    with tarfile.open(first) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    top = f"{job.app.name}-1.2.3"
    assert names == sorted(names) and names[0] == top
    assert f"{top}/{job.app.name}" in names and f"{top}/{job.app.name}.png" in names
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {(0, 0, "", "", 1700000000)}
    modes = {m.name: m.mode for m in members}
    assert modes[f"{top}/{job.app.name}"] == 0o755
    assert modes[f"{top}/_internal/data/page.html"] == 0o644
    link = next(m for m in members if m.name.endswith("link.html"))
    assert link.issym() and link.linkname == "page.html"
