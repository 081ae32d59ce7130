"""Where one app keeps its per-user files, and moving Flask's instance folder there.

A desktop app cannot write next to its code: a frozen build unpacks into a temporary or
read-only folder, and an installed app lives in a system directory. So the app's data, config,
logs, cache, web storage and Flask instance folder go in the user's platform directories
(platformdirs, honouring ``XDG_*`` on Linux), named after the app so the source run and the
frozen build of the same app find the same files.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from flask import Flask

from ..errors import ConfigError, DataDirError

#: Attribute flaskdesk sets on its temporary ``auto_find_instance_path`` replacement, so the
#: original method can still be found (see :func:`default_instance_path`).
INSTANCE_OVERRIDE_MARKER = "__flaskdesk_instance_override__"

_UNSAFE = re.compile(r"[^\w .+-]+")
_DASHES = re.compile(r"-{2,}")
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"COM{n}" for n in range(1, 10)} | {f"LPT{n}" for n in range(1, 10)}
)
_MAX_NAME = 64


@dataclass(frozen=True)
class AppPaths:
    """The per-user folders of one app (nothing is created until :meth:`ensure`)."""

    name: str
    data_dir: Path
    config_dir: Path
    log_dir: Path
    cache_dir: Path

    @property
    def instance_dir(self) -> Path:
        """Flask's ``instance_path`` for the desktop app (SQLite files, uploads, secrets)."""
        return self.data_dir / "instance"

    @property
    def web_storage_dir(self) -> Path:
        """The window's localStorage, IndexedDB and cookies, kept apart from other apps'."""
        return self.data_dir / "webview"

    @classmethod
    def for_app(cls, name: str, *, data_root: Path | None = None) -> AppPaths:
        """The platform's user folders for the app ``name``.

        ``data_root`` (``FLASKDESK_DATA_DIR``) puts all four folders under
        ``data_root/<name>/{data,config,log,cache}`` instead, so a test run or ``build --check``
        starts from a fresh, disposable place and never touches the real user's files.
        """
        folder = safe_app_dir_name(name)
        if data_root is not None:
            base = Path(data_root).expanduser().absolute() / folder
            return cls(
                name=name,
                data_dir=base / "data",
                config_dir=base / "config",
                log_dir=base / "log",
                cache_dir=base / "cache",
            )
        dirs = platformdirs.PlatformDirs(appname=folder, appauthor=False)
        return cls(
            name=name,
            data_dir=Path(dirs.user_data_dir),
            config_dir=Path(dirs.user_config_dir),
            log_dir=Path(dirs.user_log_dir),
            cache_dir=Path(dirs.user_cache_dir),
        )

    def ensure(self) -> bool:
        """Create the folders (private to the user) and check they are writable.

        Returns True when the data folder did not exist before, which is how the launcher knows
        this is the app's first run. Existing folders and files are left as they are.
        """
        first_run = not self.data_dir.exists()
        for folder in (
            self.data_dir,
            self.config_dir,
            self.log_dir,
            self.cache_dir,
            self.instance_dir,
            self.web_storage_dir,
        ):
            _make_writable_dir(folder)
        return first_run


def _make_writable_dir(folder: Path) -> None:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
        # os.access() says yes to root and knows nothing of read-only mounts: really write.
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise DataDirError(
            f"Cannot use the folder {folder} for the app's files: {error.strerror or error}. "
            "Make sure that path (and each folder above it) is a folder you can write to, free some "
            "disk space if it is full, or set FLASKDESK_DATA_DIR to a writable folder."
        ) from error


def safe_app_dir_name(name: str) -> str:
    """A folder name for the app ``name`` that is valid on every platform and never changes.

    Letters (any script), digits, spaces and ``. + - _`` are kept; runs of anything else become
    one ``-``; leading dots and trailing dots or spaces (hidden or invalid on some systems) go.
    The result depends only on ``name``, so source and frozen runs agree.
    """
    text = unicodedata.normalize("NFKC", name)
    text = _DASHES.sub("-", _UNSAFE.sub("-", text)).strip(" .-")[:_MAX_NAME].rstrip(" .")
    if not text:
        raise ConfigError(
            f"The app name {name!r} has no letters or digits to name its data folder with. Set "
            '`name = "My App"` under [tool.flaskdesk] in pyproject.toml, or pass Desktop(app, name="My App").'
        )
    if text.split(".")[0].upper() in _WINDOWS_RESERVED:
        text = f"_{text}"
    return text


def default_instance_path(app: Flask) -> str:
    """The instance folder Flask would pick for ``app`` without flaskdesk's override."""
    for klass in type(app).__mro__:
        method = klass.__dict__.get("auto_find_instance_path")
        if method is not None and not getattr(method, INSTANCE_OVERRIDE_MARKER, False):
            return str(method(app))
    return app.auto_find_instance_path()  # pragma: no cover - Flask always defines it


def relocate_instance_path(app: Flask, instance_dir: Path) -> bool:
    """Point ``app.instance_path`` at ``instance_dir`` unless the app chose its own; True if moved.

    An app chose its own when its instance path differs from Flask's default for it (it passed
    ``instance_path=``). Prefer :func:`~flaskdesk.app.loader.instance_path_override` while
    importing: extensions that read the path in ``init_app`` never see a later move.
    """
    target = os.path.abspath(instance_dir)
    current = app.instance_path
    if _same_path(current, target) or not _same_path(current, default_instance_path(app)):
        return False
    app.instance_path = target
    # instance_relative_config=True made the config's root the old instance folder.
    if _same_path(app.config.root_path, current) and not _same_path(app.root_path, current):
        app.config.root_path = target
    return True


def _same_path(left: str | os.PathLike[str], right: str | os.PathLike[str]) -> bool:
    return os.path.normcase(os.path.abspath(left)) == os.path.normcase(os.path.abspath(right))
