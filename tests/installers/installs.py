"""Helpers for tests that install real packages on this machine (root only; CI runs as root)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

#: Where a package built by flaskdesk may put files.
WATCHED = (
    Path("/opt"),
    Path("/usr/bin"),
    Path("/usr/share/applications"),
    Path("/usr/share/icons"),
    Path("/usr/share/mime/packages"),
)
#: System caches that postinst/postrm regenerate (they are the system's, not the package's files).
CACHES = frozenset({"icon-theme.cache", "mimeinfo.cache"})

needs_root_dpkg = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("dpkg") is None, reason="installs a real .deb: needs root and dpkg"
)


def snapshot(roots: Iterable[Path] = WATCHED) -> set[str]:
    """Every path under ``roots`` except regenerated caches."""
    found: set[str] = set()
    for root in roots:
        for folder, dirs, files in os.walk(root):
            for entry in dirs + files:
                if entry not in CACHES:
                    found.add(os.path.join(folder, entry))
    return found
