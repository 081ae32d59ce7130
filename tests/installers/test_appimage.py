"""AppImage: the AppDir layout, the exact appimagetool command, and the error when the tool is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flaskdesk.host import RecordingHost
from flaskdesk.packaging import appimage
from flaskdesk.packaging.base import Job, PackagingError


def test_missing_appimagetool_says_where_to_get_it(job: Job) -> None:
    with pytest.raises(PackagingError) as error:
        appimage.PACKAGER.package(job, RecordingHost(), lambda line: None)
    message = str(error.value)
    assert "appimagetool" in message and "github.com/AppImage/appimagetool/releases" in message
    assert "`flaskdesk ci`" in message


def test_appdir_and_command(job: Job, tmp_path: Path) -> None:
    host = RecordingHost(
        programs={"appimagetool": "/x/appimagetool"}, allowed_roots=[tmp_path], perform_file_ops=True
    )
    (output,) = appimage.PACKAGER.package(job, host, lambda line: None)
    appdir = job.work_dir / f"{job.app.name}.AppDir"
    assert output == job.out_dir / f"{job.app.name}-1.2.3-x86_64.AppImage"
    run = [c for c in host.calls if c.method == "run"]
    assert run[0].args[0] == ["appimagetool", "--no-appstream", str(appdir), str(output)]
    assert run[0].kwargs["env"]["ARCH"] == "x86_64"
    assert (appdir / "AppRun").stat().st_mode & 0o111
    assert (
        (appdir / "AppRun").read_text().endswith(f'exec "$HERE/usr/lib/{job.app.name}/{job.app.name}" "$@"\n')
    )
    assert (appdir / f"{job.app.identifier}.desktop").is_file()
    assert os.readlink(appdir / ".DirIcon") == f"{job.app.identifier}.png"
    assert (appdir / f"usr/lib/{job.app.name}/_internal/helper").is_file()
