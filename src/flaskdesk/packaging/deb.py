"""``.deb``: the build in ``/opt/NAME``, ``/usr/bin/NAME``, menu entry, hicolor icons, computed ``Depends``.

``Depends`` comes from the build itself: every shared library its ELF files need that it does not
bundle (:mod:`.elf`), mapped to the Debian package that ships it on the build machine
(``dpkg-query -S``) or, failing that, by :data:`SONAME_PACKAGES`; glibc becomes
``libc6 (>= x.y)`` from the highest ``GLIBC_x.y`` symbol version used. :data:`BACKEND_DEPENDS`
adds what is loaded at run time without a link (GTK's WebKit typelib, data files of bundled libs).

Compression: zstd by default. Measured on a 387 MB Qt bundle and the 550 MB one of
``shared/README.md``: zstd takes seconds where xz takes minutes, for a package about 15-25 % bigger.
dpkg has read zstd since 1.21.18 (Debian 12, Ubuntu 21.10+); ``--compression xz`` for older systems.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
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
    tree_size,
    walk_files,
    write_text,
)
from .elf import SystemLibraries, scan_bundle

DPKG_DEB = Tool("dpkg-deb", "builds .deb packages", debian="dpkg", homebrew="dpkg")
COMPRESSORS = ("zstd", "xz", "gzip")

#: Debian package of a soname, for sonames the build machine's dpkg database does not know.
SONAME_PACKAGES: Mapping[str, str] = MappingProxyType(
    {
        "libEGL.so.1": "libegl1",
        "libGL.so.1": "libgl1",
        "libGLX.so.0": "libglx0",
        "libOpenGL.so.0": "libopengl0",
        "libdrm.so.2": "libdrm2",
        "libgbm.so.1": "libgbm1",
        "libwayland-client.so.0": "libwayland-client0",
        "libwayland-cursor.so.0": "libwayland-cursor0",
        "libwayland-egl.so.1": "libwayland-egl1",
        "libwayland-server.so.0": "libwayland-server0",
        "libxcb.so.1": "libxcb1",
        "libxcb-dri3.so.0": "libxcb-dri3-0",
        "libxcb-cursor.so.0": "libxcb-cursor0",
        "libxcb-icccm.so.4": "libxcb-icccm4",
        "libxcb-keysyms.so.1": "libxcb-keysyms1",
        "libxcb-image.so.0": "libxcb-image0",
        "libxcb-render-util.so.0": "libxcb-render-util0",
        "libxcb-xinerama.so.0": "libxcb-xinerama0",
        "libxcb-xkb.so.1": "libxcb-xkb1",
        "libxcb-randr.so.0": "libxcb-randr0",
        "libxcb-shape.so.0": "libxcb-shape0",
        "libxkbcommon.so.0": "libxkbcommon0",
        "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
        "libX11.so.6": "libx11-6",
        "libX11-xcb.so.1": "libx11-xcb1",
        "libXext.so.6": "libxext6",
        "libXrender.so.1": "libxrender1",
        "libXcomposite.so.1": "libxcomposite1",
        "libXdamage.so.1": "libxdamage1",
        "libXfixes.so.3": "libxfixes3",
        "libXrandr.so.2": "libxrandr2",
        "libXtst.so.6": "libxtst6",
        "libxkbfile.so.1": "libxkbfile1",
        "libxshmfence.so.1": "libxshmfence1",
        "libnss3.so": "libnss3",
        "libnssutil3.so": "libnss3",
        "libsmime3.so": "libnss3",
        "libnspr4.so": "libnspr4",
        "libasound.so.2": "libasound2t64 | libasound2",
        "libfontconfig.so.1": "libfontconfig1",
        "libfreetype.so.6": "libfreetype6",
        "libdbus-1.so.3": "libdbus-1-3",
        "libglib-2.0.so.0": "libglib2.0-0t64 | libglib2.0-0",
        "libgobject-2.0.so.0": "libglib2.0-0t64 | libglib2.0-0",
        "libgio-2.0.so.0": "libglib2.0-0t64 | libglib2.0-0",
        "libgtk-3.so.0": "libgtk-3-0t64 | libgtk-3-0",
        "libwebkit2gtk-4.1.so.0": "libwebkit2gtk-4.1-0",
        "libcups.so.2": "libcups2t64 | libcups2",
        "libz.so.1": "zlib1g",
        "libexpat.so.1": "libexpat1",
        "libstdc++.so.6": "libstdc++6",
        "libgcc_s.so.1": "libgcc-s1",
    }
)
#: Run-time needs no ELF link shows, per window backend.
BACKEND_DEPENDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        # pywebview's GTK backend loads WebKit2GTK 4.1 through GObject introspection at run time.
        "gtk": ("gir1.2-webkit2-4.1", "gir1.2-gtk-3.0"),
        # The bundled fontconfig and xkbcommon read the system's configuration and keymaps.
        "qt": ("fontconfig-config", "xkb-data"),
    }
)


def debian_name(name: str) -> str:
    """A valid Debian package name from the app name (lower case, ``[a-z0-9.+-]``, 2+ chars)."""
    text = re.sub(r"[^a-z0-9.+-]+", "-", name.lower()).strip("-.+")
    if len(text) < 2 or not text[0].isalnum():
        raise PackagingError(
            f"Cannot make a Debian package name from {name!r}: set [tool.flaskdesk] name to "
            "letters, digits and dashes (such as my-app)."
        )
    return text


def debian_version(version: str) -> str:
    """The project version in Debian's ordering (see :func:`~.base.package_version`)."""
    return package_version(version)


def package_file_name(app: AppInfo, arch: str) -> str:
    """``NAME_VERSION_ARCH.deb`` (Debian's convention)."""
    return f"{debian_name(app.name)}_{debian_version(app.version)}_{arch}.deb"


def dpkg_query_argv(sonames: Iterable[str]) -> list[str]:
    """Ask the build machine's dpkg which packages own these libraries (exact file-name globs)."""
    return ["dpkg-query", "--search", *(f"*/{soname}" for soname in sonames)]


def parse_dpkg_query(output: str) -> dict[str, str]:
    """``{soname: package}`` from ``dpkg-query --search`` lines (``pkg:arch: /path``)."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        if line.startswith(("diversion ", "dpkg-query:")) or ": " not in line:
            continue
        owners, path = line.split(": ", 1)
        package = owners.split(",")[0].strip().split(":")[0]
        found.setdefault(Path(path.strip()).name, package)
    return found


def depends(libs: SystemLibraries, owners: Mapping[str, str], backend: str) -> tuple[list[str], list[str]]:
    """``(Depends entries, sonames nobody provides)`` for a build (pure)."""
    entries: list[str] = []
    unknown: list[str] = []
    if libs.glibc is not None:
        entries.append(f"libc6 (>= {libs.glibc})")
    for soname in libs.others:
        package = owners.get(soname) or SONAME_PACKAGES.get(soname)
        if package is None:
            unknown.append(soname)
        elif package not in entries:
            entries.append(package)
    for package in BACKEND_DEPENDS.get(backend, ()):
        if package not in entries:
            entries.append(package)
    return sorted(entries), unknown


def control_text(app: AppInfo, *, arch: str, depends: Sequence[str], installed_kib: int) -> str:
    """``DEBIAN/control``."""
    summary = " ".join(app.title.split())
    description = " ".join(app.description.split())
    long_lines = [description] if description and description != summary else []
    long_lines.append(f"{app.title} is a desktop app built with flaskdesk.")
    return render(
        "deb-control",
        package=debian_name(app.name),
        version=debian_version(app.version),
        arch=arch,
        maintainer=app.maintainer,
        installed_size=installed_kib,
        depends=list(depends),
        section="misc",
        homepage=app.homepage,
        summary=summary,
        long_description=long_lines,
    )


def postinst_text(app: AppInfo) -> str:
    """``DEBIAN/postinst``: refresh menu/icon/MIME caches on configure."""
    return render("deb-postinst.sh", package=debian_name(app.name), mime=bool(app.file_types))


def postrm_text(app: AppInfo) -> str:
    """``DEBIAN/postrm``: on remove/purge, delete what the app wrote into ``/opt/NAME`` at run time
    (a Qt WebEngine build run as root creates folders there) and refresh the caches.

    The user's data (``~/.local/share/NAME``) is never touched, as with any apt ``remove``.
    """
    return render(
        "deb-postrm.sh",
        package=debian_name(app.name),
        mime=bool(app.file_types),
        prefix=freedesktop.install_prefix(app),
    )


def dpkg_deb_argv(root: Path, output: Path, compression: str = "zstd") -> list[str]:
    """The exact ``dpkg-deb`` command: root-owned files, chosen compressor."""
    if compression not in COMPRESSORS:
        raise PackagingError(f"Unknown compression {compression!r}: choose {', '.join(COMPRESSORS)}.")
    return ["dpkg-deb", "--root-owner-group", f"-Z{compression}", "--build", str(root), str(output)]


def md5sums_text(root: Path) -> str:
    """``DEBIAN/md5sums`` for every regular file of the staged tree (lets ``dpkg --verify`` work)."""
    lines = []
    for rel in walk_files(root):
        path = root / rel
        if rel.parts[0] == "DEBIAN" or path.is_symlink():
            continue
        digest = hashlib.md5(usedforsecurity=False)
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        lines.append(f"{digest.hexdigest()}  {rel.as_posix()}\n")
    return "".join(lines)


class DebPackager:
    """Builds ``dist/NAME_VERSION_ARCH.deb`` with ``dpkg-deb``."""

    name = "deb"
    title = ".deb (Debian, Ubuntu)"
    platforms = ("linux",)
    hosts = ("linux",)

    def tools(self, job: Job) -> tuple[Tool, ...]:
        """dpkg-deb (dpkg-query is used when present, for exact dependency names)."""
        return (DPKG_DEB,)

    def resolve_depends(self, job: Job, host: Host, progress: Progress) -> list[str]:
        """Scan the build's ELF files and name the packages that provide what it does not bundle."""
        libs = scan_bundle(job.bundle)
        owners: dict[str, str] = {}
        if libs.others and host.which("dpkg-query") is not None:
            result = host.run(dpkg_query_argv(libs.others))
            owners = parse_dpkg_query(result.stdout or "")  # exit 1 just means "some not found"
        entries, unknown = depends(libs, owners, job.app.backend)
        if unknown:
            progress(f"warning: no Debian package known for {', '.join(unknown)}; not in Depends")
        return entries

    def package(self, job: Job, host: Host, progress: Progress) -> tuple[Path, ...]:
        """Stage, describe, ``dpkg-deb --build``, sign."""
        require_tools(host, ".deb", self.tools(job))
        app = job.app
        arch = architecture(job.machine, "deb")
        root = fresh_dir(host, job.work_dir / "root")
        tree = freedesktop.stage_tree(job, host, root, progress)
        progress("computing Depends from the build's shared libraries")
        depends_list = self.resolve_depends(job, host, progress)
        installed_kib = (tree_size(root) + 1023) // 1024
        control = root / "DEBIAN"
        write_text(
            control / "control",
            control_text(app, arch=arch, depends=depends_list, installed_kib=installed_kib),
        )
        write_text(control / "postinst", postinst_text(app), mode=0o755)
        write_text(control / "postrm", postrm_text(app), mode=0o755)
        write_text(control / "md5sums", md5sums_text(tree.root))
        job.out_dir.mkdir(parents=True, exist_ok=True)
        output = job.out_dir / package_file_name(app, arch)
        progress(f"building {output.name} with dpkg-deb ({job.compression})")
        run_checked(host, dpkg_deb_argv(root, output, job.compression), what="dpkg-deb")
        extra = signing.sign(host, "deb", output, job.env, progress)
        return (output, *extra)


PACKAGER = DebPackager()
