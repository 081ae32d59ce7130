"""macOS ``.dmg``: the ``.app`` (see :mod:`.macapp`) and an ``Applications`` link, made by ``hdiutil``.

``hdiutil`` exists only on macOS, so elsewhere this format says to use a macOS runner (the
workflow from ``flaskdesk ci`` has one). With ``FLASKDESK_CODESIGN_IDENTITY`` the app and the image
are signed, and with ``FLASKDESK_NOTARY_PROFILE`` the image is notarized and stapled.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..host import Host
from . import macapp, signing
from .base import AppInfo, Job, Progress, Tool, fresh_dir, require_tools, run_checked

HDIUTIL = Tool(
    "hdiutil", "creates macOS disk images", note="part of macOS: build on a macOS runner (macos-latest)"
)


def dmg_name(app: AppInfo) -> str:
    """``NAME-VERSION.dmg``."""
    return f"{app.name}-{app.version}.dmg"


def hdiutil_argv(volume: str, source: Path, output: Path) -> list[str]:
    """The exact ``hdiutil`` command: a compressed (UDZO) read-only image of ``source``."""
    return [
        "hdiutil", "create", "-volname", volume, "-srcfolder", str(source),
        "-ov", "-fs", "HFS+", "-format", "UDZO", str(output),
    ]  # fmt: skip


class DmgPackager:
    """Builds ``dist/NAME-VERSION.dmg`` with ``hdiutil``."""

    name = "dmg"
    title = "macOS disk image (.dmg)"
    platforms = ("darwin",)
    hosts = ("darwin",)

    def tools(self, job: Job) -> tuple[Tool, ...]:
        """hdiutil."""
        return (HDIUTIL,)

    def package(self, job: Job, host: Host, progress: Progress) -> tuple[Path, ...]:
        """Assemble and sign the app, lay out the image folder, ``hdiutil create``, sign and notarize."""
        require_tools(host, ".dmg", self.tools(job))
        app = job.app
        staging = fresh_dir(host, job.work_dir / "image")
        bundle = macapp.assemble(job, host, staging / macapp.bundle_name(app), progress)
        signing.sign(host, "app", bundle, job.env, progress)
        os.symlink("/Applications", staging / "Applications")
        job.out_dir.mkdir(parents=True, exist_ok=True)
        output = job.out_dir / dmg_name(app)
        progress(f"creating {output.name} with hdiutil")
        run_checked(host, hdiutil_argv(app.title, staging, output), what="hdiutil")
        signing.sign(host, "dmg", output, job.env, progress)
        return (output,)


PACKAGER = DmgPackager()
