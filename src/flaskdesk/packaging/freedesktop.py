"""The freedesktop pieces .deb, .rpm and AppImage share: ``.desktop`` entry, MIME types, icons, launcher.

Plans are pure functions returning text; :func:`stage_tree` lays out the installed file tree
(``/opt/NAME`` + ``/usr/bin`` + ``/usr/share``) in a staging folder for a package builder to wrap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..host import Host
from . import icons
from .base import AppInfo, Job, Progress, mime_type_for, normalize_modes, render, write_text

#: Menu category when the project does not say (a Flask app is most often a utility or office tool).
DEFAULT_CATEGORIES = "Utility;"


def install_prefix(app: AppInfo) -> str:
    """Where the build folder is installed: ``/opt/NAME``."""
    return f"/opt/{app.name}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def mime_types(app: AppInfo) -> list[str]:
    """The desktop entry's ``MimeType`` values: file types, then ``x-scheme-handler/SCHEME``."""
    found = [mime_type_for(app, ft) for ft in app.file_types]
    found += [f"x-scheme-handler/{scheme}" for scheme in app.url_schemes]
    return list(dict.fromkeys(found))


def exec_line(app: AppInfo, command: str) -> str:
    """``Exec=`` value: ``%U`` when URLs can arrive, ``%F`` for files only, nothing otherwise."""
    if app.url_schemes:
        return f"{command} %U"
    if app.file_types:
        return f"{command} %F"
    return command


def desktop_entry(app: AppInfo, *, command: str | None = None) -> str:
    """The ``.desktop`` file (passes ``desktop-file-validate``)."""
    comment = _one_line(app.description)
    return render(
        "app.desktop",
        name=_one_line(app.title),
        comment=comment if comment and comment != _one_line(app.title) else "",
        exec=exec_line(app, command or app.name),
        icon=app.icon_name,
        categories=DEFAULT_CATEGORIES,
        mime_types=mime_types(app),
    )


def desktop_file_name(app: AppInfo) -> str:
    """``org.example.App.desktop``: the reverse-DNS desktop-file id the spec recommends."""
    return f"{app.identifier}.desktop"


def mime_xml(app: AppInfo) -> str | None:
    """shared-mime-info definitions of the file types (``None`` without file types)."""
    if not app.file_types:
        return None
    entries = [
        {
            "mime": mime_type_for(app, ft),
            "comment": ft.name or f"{app.title} document (.{ft.extensions[0]})",
            "globs": [f"*.{ext}" for ext in ft.extensions],
        }
        for ft in app.file_types
    ]
    return render("mime.xml", app_name=app.title, entries=entries)


def launcher_script(app: AppInfo, prefix: str) -> str:
    """``/usr/bin/NAME``: a two-line sh script that execs the installed program."""
    return render("launcher.sh", name=app.name, prefix=prefix, executable=app.executable)


def refresh_caches(app: AppInfo) -> str:
    """Shell lines that refresh the menu, icon and MIME caches if the tools exist."""
    return render("refresh-caches.sh", mime=bool(app.file_types))


@dataclass(frozen=True)
class StagedTree:
    """A staged install tree: its root and the paths a package owns (absolute, as installed)."""

    root: Path
    prefix: str
    owned: tuple[str, ...]
    """The install folder and every file outside it the package creates (rpm ``%files``)."""


def share_files(app: AppInfo) -> list[str]:
    """Files the package installs under ``/usr/share`` (plan: pure)."""
    files = [f"/usr/share/applications/{desktop_file_name(app)}"]
    files += [f"/{icons.hicolor_path(size, app.icon_name)}" for size in icons.HICOLOR_SIZES]
    if app.file_types:
        files.append(f"/usr/share/mime/packages/{app.identifier}.xml")
    return files


def stage_tree(job: Job, host: Host, root: Path, progress: Progress) -> StagedTree:
    """Lay out ``/opt/NAME``, ``/usr/bin/NAME`` and ``/usr/share`` entries under ``root``."""
    app = job.app
    prefix = install_prefix(app)
    progress(f"copying the build into {PurePosixPath(prefix)}")
    host.copytree(job.bundle, root / prefix.lstrip("/"))
    launcher = f"/usr/bin/{app.name}"
    write_text(root / launcher.lstrip("/"), launcher_script(app, prefix), mode=0o755)
    write_text(root / f"usr/share/applications/{desktop_file_name(app)}", desktop_entry(app))
    if app.icon is not None:
        progress("rendering hicolor icons")
        icons.write_pngs(app.icon, root, app.icon_name)
    mime = mime_xml(app)
    if mime is not None:
        write_text(root / f"usr/share/mime/packages/{app.identifier}.xml", mime)
    normalize_modes(root)
    owned = [prefix, launcher, *(f for f in share_files(app) if (root / f.lstrip("/")).exists())]
    return StagedTree(root=root, prefix=prefix, owned=tuple(owned))
