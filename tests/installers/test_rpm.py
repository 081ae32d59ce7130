"""The .rpm: spec, exact rpmbuild command, soname Requires, a real build installed into a test root."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from flaskdesk.host import Host, RecordingHost
from flaskdesk.packaging import rpm
from flaskdesk.packaging.base import AppInfo, Job
from flaskdesk.packaging.elf import SystemLibraries


def test_requires_use_soname_capabilities() -> None:
    libs = SystemLibraries({"libc.so.6": frozenset({"GLIBC_2.28"}), "libEGL.so.1": frozenset()})
    assert rpm.requires(libs, "qt", "x86_64") == [
        "libc.so.6(GLIBC_2.28)(64bit)",
        "libEGL.so.1()(64bit)",
        "fontconfig",
        "xkeyboard-config",
    ]
    assert rpm.requires(libs, "gtk", "i686")[-1] == "(webkit2gtk4.1 or typelib-1_0-WebKit2-4_1)"
    assert rpm.requires(libs, "gtk", "i686")[0] == "libc.so.6(GLIBC_2.28)"


def test_spec_text(app: AppInfo, tmp_path: Path) -> None:
    text = rpm.spec_text(
        app, arch="x86_64", requires=["libEGL.so.1()(64bit)"], staged=tmp_path, files=["/opt/x", "/usr/bin/x"]
    )
    assert f"Name:           {app.name}\nVersion:        1.2.3\nRelease:        1\n" in text
    assert "AutoReqProv:    no\nRequires:       libEGL.so.1()(64bit)\n" in text
    assert "%define _binary_payload w3.zstdio\n" in text
    assert "%global __os_install_post %{nil}\n" in text
    assert f"cp -a {tmp_path}/. %{{buildroot}}/\n" in text
    assert text.endswith("%files\n%defattr(-,root,root,-)\n/opt/x\n/usr/bin/x\n")
    assert "update-mime-database" in text.split("%post\n")[1]


def test_rpmbuild_command(tmp_path: Path) -> None:
    assert rpm.rpmbuild_argv(tmp_path / "a.spec", topdir=tmp_path / "top", out_dir=tmp_path / "dist") == [
        "rpmbuild", "-bb",
        "--define", f"_topdir {tmp_path / 'top'}",
        "--define", f"_rpmdir {tmp_path / 'dist'}",
        "--define", "_rpmfilename %{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm",
        str(tmp_path / "a.spec"),
    ]  # fmt: skip


def test_package_plans_exact_commands(job: Job, tmp_path: Path) -> None:
    host = RecordingHost(
        programs={"rpmbuild": "/usr/bin/rpmbuild"}, allowed_roots=[tmp_path], perform_file_ops=True
    )
    with pytest.raises(Exception, match="rpmbuild finished but"):
        rpm.PACKAGER.package(job, host, lambda line: None)
    spec = job.work_dir / f"{job.app.name}.spec"
    assert host.runs() == [rpm.rpmbuild_argv(spec, topdir=job.work_dir / "rpmbuild", out_dir=job.out_dir)]
    assert f"/usr/share/applications/{job.app.identifier}.desktop\n" in spec.read_text()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("rpmbuild") is None, reason="rpm is not installed")
def test_builds_and_installs_into_a_test_root(job: Job, tmp_path: Path) -> None:
    (package,) = rpm.PACKAGER.package(job, Host(allowed_roots=[tmp_path]), lambda line: None)
    assert package.name == f"{job.app.name}-1.2.3-1.x86_64.rpm"
    requires = subprocess.run(["rpm", "-qp", "--requires", str(package)], capture_output=True, text=True)
    assert "libc.so.6(GLIBC_2." in requires.stdout
    root = tmp_path / "rpmroot"
    subprocess.run(
        ["rpm", "-i", "--nodeps", "--noscripts", "--root", str(root), str(package)],
        check=True,
        capture_output=True,
    )
    name, ident = job.app.name, job.app.identifier
    assert (root / f"opt/{name}/{name}").stat().st_mode & 0o777 == 0o755
    assert (root / f"opt/{name}/_internal/data/link.html").is_symlink()
    assert (root / f"usr/bin/{name}").is_file()
    assert (root / f"usr/share/applications/{ident}.desktop").is_file()
    assert (root / f"usr/share/icons/hicolor/256x256/apps/{ident}.png").is_file()
    listed = subprocess.run(
        ["rpm", "-ql", "--root", str(root), name], capture_output=True, text=True, check=True
    )
    assert f"/opt/{name}/_internal/helper" in listed.stdout.splitlines()
    subprocess.run(["rpm", "-e", "--noscripts", "--root", str(root), name], check=True, capture_output=True)
    assert not (root / f"opt/{name}").exists()
