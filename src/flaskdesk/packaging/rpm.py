"""``.rpm`` via ``rpmbuild``: the ``.deb``'s installed tree, from a spec rendered from ``templates/rpm.spec``.

``Requires`` use RPM's soname capabilities (``libEGL.so.1()(64bit)``, ``libc.so.6(GLIBC_2.36)(64bit)``),
which every RPM distribution provides automatically, so one package fits Fedora, RHEL and openSUSE
without a per-distribution name table. rpm's own dependency scan, stripping and byte-compiling
are off: the payload is a finished PyInstaller build.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

from ..host import Host
from . import freedesktop, signing
from .base import (
    AppInfo,
    Job,
    PackagingError,
    Progress,
    Tool,
    architecture,
    fresh_dir,
    package_version,
    render,
    require_tools,
    run_checked,
)
from .elf import SystemLibraries, scan_bundle

RPMBUILD = Tool("rpmbuild", "builds .rpm packages", debian="rpm", homebrew="rpm")
RELEASE = "1"
#: rpm ``_binary_payload`` per ``--compression`` (zstd level 3 like dpkg's default: seconds, not minutes).
PAYLOADS: Mapping[str, str] = MappingProxyType({"zstd": "w3.zstdio", "xz": "w6.xzdio", "gzip": "w9.gzdio"})
#: Run-time needs no ELF link shows (rich dependencies cover Fedora and openSUSE names).
BACKEND_REQUIRES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "gtk": ("(webkit2gtk4.1 or typelib-1_0-WebKit2-4_1)",),
        "qt": ("fontconfig", "xkeyboard-config"),
    }
)
_64BIT = frozenset({"x86_64", "aarch64", "ppc64le", "s390x", "riscv64"})


def rpm_name(name: str) -> str:
    """A valid RPM package name (no spaces; ``[A-Za-z0-9._+-]``)."""
    text = re.sub(r"[^A-Za-z0-9._+-]+", "-", name).strip("-.")
    if not text:
        raise PackagingError(f"Cannot make an RPM package name from {name!r}: set [tool.flaskdesk] name.")
    return text


def requires(libs: SystemLibraries, backend: str, arch: str) -> list[str]:
    """``Requires`` lines for a build (pure)."""
    suffix = "(64bit)" if arch in _64BIT else ""
    found: list[str] = []
    if libs.glibc is not None:
        found.append(f"libc.so.6(GLIBC_{libs.glibc}){suffix}")
    found += [f"{soname}(){suffix}" for soname in libs.others]
    found += BACKEND_REQUIRES.get(backend, ())
    return found


def package_file_name(app: AppInfo, arch: str) -> str:
    """``NAME-VERSION-RELEASE.ARCH.rpm`` (rpm's convention)."""
    return f"{rpm_name(app.name)}-{package_version(app.version)}-{RELEASE}.{arch}.rpm"


def spec_text(
    app: AppInfo,
    *,
    arch: str,
    requires: Sequence[str],
    staged: Path,
    files: Sequence[str],
    compression: str = "zstd",
) -> str:
    """The ``.spec`` file (``staged`` is the tree ``%install`` copies; ``files`` what the package owns)."""
    if compression not in PAYLOADS:
        raise PackagingError(f"Unknown compression {compression!r}: choose {', '.join(PAYLOADS)}.")
    summary = " ".join(app.title.split())
    return render(
        "rpm.spec",
        name=rpm_name(app.name),
        version=package_version(app.version),
        release=RELEASE,
        summary=summary,
        license=app.license or "LicenseRef-Unspecified",
        url=app.homepage,
        arch=arch,
        requires=list(requires),
        description=" ".join(app.description.split()) or summary,
        staged=str(staged),
        files=["%defattr(-,root,root,-)", *files],
        payload=PAYLOADS[compression],
        mime=bool(app.file_types),
        prefix=freedesktop.install_prefix(app),
    )


def rpmbuild_argv(spec: Path, *, topdir: Path, out_dir: Path) -> list[str]:
    """The exact ``rpmbuild`` command: binary package only, written straight into ``out_dir``."""
    return [
        "rpmbuild",
        "-bb",
        "--define",
        f"_topdir {topdir}",
        "--define",
        f"_rpmdir {out_dir}",
        "--define",
        "_rpmfilename %{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm",
        str(spec),
    ]


class RpmPackager:
    """Builds ``dist/NAME-VERSION-1.ARCH.rpm`` with ``rpmbuild``."""

    name = "rpm"
    title = ".rpm (Fedora, RHEL, openSUSE)"
    platforms = ("linux",)
    hosts = ("linux",)

    def tools(self, job: Job) -> tuple[Tool, ...]:
        """rpmbuild."""
        return (RPMBUILD,)

    def package(self, job: Job, host: Host, progress: Progress) -> tuple[Path, ...]:
        """Stage, write the spec, ``rpmbuild -bb``, sign."""
        require_tools(host, ".rpm", self.tools(job))
        app = job.app
        arch = architecture(job.machine, "rpm")
        work = fresh_dir(host, job.work_dir)
        tree = freedesktop.stage_tree(job, host, work / "root", progress)
        progress("computing Requires from the build's shared libraries")
        spec = work / f"{rpm_name(app.name)}.spec"
        spec.write_text(
            spec_text(
                app,
                arch=arch,
                requires=requires(scan_bundle(job.bundle), app.backend, arch),
                staged=tree.root,
                files=tree.owned,
                compression=job.compression,
            ),
            encoding="utf-8",
        )
        job.out_dir.mkdir(parents=True, exist_ok=True)
        output = job.out_dir / package_file_name(app, arch)
        progress(f"building {output.name} with rpmbuild ({job.compression})")
        run_checked(
            host,
            rpmbuild_argv(spec, topdir=work / "rpmbuild", out_dir=job.out_dir),
            what="rpmbuild",
            log_file=work / "rpmbuild.log",
        )
        if not output.is_file():
            raise PackagingError(f"rpmbuild finished but {output} is missing; see {work / 'rpmbuild.log'}.")
        extra = signing.sign(host, "rpm", output, job.env, progress)
        return (output, *extra)


PACKAGER = RpmPackager()
