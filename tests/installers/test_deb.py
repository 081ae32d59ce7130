"""The .deb: control file, exact dpkg-deb command, computed Depends, and a real install/run/remove."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from flaskdesk.host import Host, RecordingHost
from flaskdesk.packaging import deb
from flaskdesk.packaging.base import AppInfo, Job, PackagingError
from flaskdesk.packaging.elf import SystemLibraries
from flaskdesk.packaging.icons import HICOLOR_SIZES

from .installs import needs_root_dpkg, snapshot


def test_control_file(app: AppInfo) -> None:
    text = deb.control_text(app, arch="amd64", depends=["libc6 (>= 2.36)", "libegl1"], installed_kib=1234)
    assert text == (
        f"Package: {app.name}\n"
        "Version: 1.2.3\n"
        "Architecture: amd64\n"
        "Maintainer: Jane Doe <jane@example.org>\n"
        "Installed-Size: 1234\n"
        "Depends: libc6 (>= 2.36), libegl1\n"
        "Section: misc\n"
        "Priority: optional\n"
        "Homepage: https://example.org/notes\n"
        "Description: Test Notes\n"
        " Notes for testing flaskdesk packages.\n"
        " Test Notes is a desktop app built with flaskdesk.\n"
    )


@pytest.mark.parametrize("compression", ["zstd", "xz", "gzip"])
def test_dpkg_deb_command(tmp_path: Path, compression: str) -> None:
    assert deb.dpkg_deb_argv(tmp_path / "root", tmp_path / "a.deb", compression) == [
        "dpkg-deb", "--root-owner-group", f"-Z{compression}", "--build",
        str(tmp_path / "root"), str(tmp_path / "a.deb"),
    ]  # fmt: skip
    with pytest.raises(PackagingError, match="Unknown compression"):
        deb.dpkg_deb_argv(tmp_path, tmp_path / "a.deb", "lzma")


def test_depends_from_libraries_owners_and_backend() -> None:
    libs = SystemLibraries(
        {
            "libc.so.6": frozenset({"GLIBC_2.34", "GLIBC_2.17"}),
            "libEGL.so.1": frozenset(),
            "libxcb.so.1": frozenset(),
            "libmystery.so.3": frozenset(),
        }
    )
    depends, unknown = deb.depends(libs, {"libEGL.so.1": "libegl1"}, "gtk")
    assert depends == ["gir1.2-gtk-3.0", "gir1.2-webkit2-4.1", "libc6 (>= 2.34)", "libegl1", "libxcb1"]
    assert unknown == ["libmystery.so.3"]


def test_parse_dpkg_query_output() -> None:
    output = (
        "libegl1:amd64: /usr/lib/x86_64-linux-gnu/libEGL.so.1\n"
        "diversion by foo from: /usr/lib/libGL.so.1\n"
        "libgl1:amd64, libgl1:i386: /usr/lib/x86_64-linux-gnu/libGL.so.1\n"
        "dpkg-query: no path found matching pattern */libnope.so.1\n"
    )
    assert deb.parse_dpkg_query(output) == {"libEGL.so.1": "libegl1", "libGL.so.1": "libgl1"}


@pytest.mark.parametrize(("name", "expected"), [("My_App", "my-app"), ("notes", "notes"), ("A+B.c", "a+b.c")])
def test_debian_names(name: str, expected: str) -> None:
    assert deb.debian_name(name) == expected


def test_package_plans_exact_commands(job: Job, tmp_path: Path) -> None:
    host = RecordingHost(
        programs={"dpkg-deb": "/usr/bin/dpkg-deb"}, allowed_roots=[tmp_path], perform_file_ops=True
    )
    (output,) = deb.PACKAGER.package(job, host, lambda line: None)
    root = job.work_dir / "root"
    assert output == job.out_dir / f"{job.app.name}_1.2.3_amd64.deb"
    assert host.runs() == [
        ["dpkg-deb", "--root-owner-group", "-Zzstd", "--build", str(root), str(output)],
    ]
    control = (root / "DEBIAN" / "control").read_text(encoding="utf-8")
    assert "Depends: fontconfig-config, libc6 (>= 2." in control
    prefix = root / "opt" / job.app.name
    assert (prefix / job.app.name).stat().st_mode & 0o777 == 0o755
    assert (prefix / "_internal" / "data" / "link.html").is_symlink()
    assert (
        (root / "usr/bin" / job.app.name)
        .read_text()
        .endswith(f'exec /opt/{job.app.name}/{job.app.name} "$@"\n')
    )
    for size in HICOLOR_SIZES:
        assert (root / f"usr/share/icons/hicolor/{size}x{size}/apps/{job.app.identifier}.png").is_file()
    md5sums = (root / "DEBIAN" / "md5sums").read_text(encoding="utf-8")
    assert f"  opt/{job.app.name}/_internal/helper\n" in md5sums
    assert "DEBIAN" not in md5sums and "link.html" not in md5sums


@pytest.mark.slow
@needs_root_dpkg
def test_installs_runs_and_removes_without_leftovers(job: Job, tmp_path: Path) -> None:
    """dpkg -i, every file in place, launcher runs, dpkg -r leaves nothing but the user's data."""
    name, ident = job.app.name, job.app.identifier
    (package,) = deb.PACKAGER.package(job, Host(allowed_roots=[tmp_path]), lambda line: None)
    before = snapshot()
    try:
        subprocess.run(["dpkg", "-i", str(package)], check=True, capture_output=True)
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True)
        assert status.stdout == "install ok installed"
        assert Path(f"/opt/{name}/{name}").is_file()
        assert Path(f"/opt/{name}/_internal/data/link.html").is_symlink()
        desktop = Path(f"/usr/share/applications/{ident}.desktop")
        subprocess.run(["desktop-file-validate", str(desktop)], check=True)
        assert Path(f"/usr/share/icons/hicolor/512x512/apps/{ident}.png").is_file()
        assert Path(f"/usr/share/mime/packages/{ident}.xml").is_file()
        registered = Path(f"/usr/share/mime/application/x-{name}-fdnote.xml")
        assert registered.is_file(), "postinst ran update-mime-database"

        home = tmp_path / "home"
        home.mkdir()
        env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
        subprocess.run([name, str(tmp_path / "doc.fdnote")], check=True, env=env)
        data = home / ".local/share" / name
        assert (data / "launches.txt").read_text() == f"started with: {tmp_path / 'doc.fdnote'}\n"

        subprocess.run(["dpkg", "-r", name], check=True, capture_output=True)
        assert snapshot() == before, "dpkg -r left files behind"
        assert not registered.exists(), "postrm refreshed the MIME database"
        assert data.is_dir(), "the user's data dir is kept"
        subprocess.run(["dpkg", "-P", name], check=True, capture_output=True)
        assert subprocess.run(["dpkg-query", "-W", name], capture_output=True).returncode != 0
    finally:
        subprocess.run(["dpkg", "-P", name], capture_output=True, check=False)
    assert os.path.exists(data)


def test_maintainer_scripts(app: AppInfo) -> None:
    postinst = deb.postinst_text(app)
    assert postinst.startswith("#!/bin/sh\n") and 'if [ "$1" = "configure" ]; then' in postinst
    assert "command -v update-desktop-database >/dev/null 2>&1" in postinst
    postrm = deb.postrm_text(app)
    assert f'    if [ -d "/opt/{app.name}" ]; then\n        rm -rf -- "/opt/{app.name}"\n' in postrm
    assert 'if [ "$1" = "remove" ] || [ "$1" = "purge" ]; then' in postrm  # never on "upgrade"
    assert "$HOME" not in postrm and "/home" not in postrm
