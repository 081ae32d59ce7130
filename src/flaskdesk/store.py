"""``desktop.settings``: a small JSON-backed mapping in the user's config dir.

For the handful of things a desktop app remembers between runs (the last folder, a theme, a
window layout), not for app data (that belongs in the database in the instance folder). Every
change rewrites the whole file atomically: a temporary file in the same folder is written,
flushed and ``fsync``-ed, then ``os.replace``-d over the old one and the folder is ``fsync``-ed,
so a crash or a ``kill -9`` at any moment leaves either the old file or the new one, never half of
one. A file that is not a JSON object (edited by hand, or damaged by the disk) is moved aside as
``settings.json.corrupt-<timestamp>`` with a warning in the log, and the defaults are used.

One process should own the file (flaskdesk's single-instance lock makes that the norm); within it
the store is thread-safe, so views and bridge functions on several server threads can use it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from .errors import DataDirError

log = logging.getLogger("flaskdesk")

_TEMP_SUFFIX = ".tmp"
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")


class SettingsStore(MutableMapping[str, Any]):
    """A ``MutableMapping`` of JSON values, saved to ``path`` on every change.

    ``path`` may be a callable that returns the path: it is called on first use, so a store can
    be created (and handed around) before the app knows where its config dir is. Keys not in the
    file fall back to :attr:`defaults`, which are never written unless set.
    """

    def __init__(self, path: Path | Callable[[], Path], *, defaults: Mapping[str, Any] | None = None) -> None:
        self._where = path
        self._path: Path | None = None
        self._data: dict[str, Any] | None = None
        self._lock = threading.RLock()
        #: Values a key has while the file does not set it (not saved).
        self.defaults: dict[str, Any] = dict(defaults or {})

    @property
    def path(self) -> Path:
        """The JSON file (resolved on first use)."""
        with self._lock:
            if self._path is None:
                self._path = Path(self._where() if callable(self._where) else self._where)
            return self._path

    # -- the mapping -------------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        with self._lock:
            data = self._loaded()
            if key in data:
                return data[key]
            return self.defaults[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        with self._lock:
            data = self._loaded()
            if key not in data:
                raise KeyError(key)
            changed = dict(data)
            del changed[key]
            self._save(changed)

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list({**self.defaults, **self._loaded()}))

    def __len__(self) -> int:
        with self._lock:
            return len({**self.defaults, **self._loaded()})

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._loaded() or key in self.defaults

    def update(self, *args: Any, **kwargs: Any) -> None:  # one write, not one per key
        """Set several keys with a single write."""
        changes = dict(*args, **kwargs)
        for key, value in changes.items():
            _check(key, value)
        with self._lock:
            self._save({**self._loaded(), **changes})

    def clear(self) -> None:
        """Remove every saved key (with one write); the defaults stay."""
        with self._lock:
            self._save({})

    def reload(self) -> None:
        """Forget what was read; the next access reads the file again."""
        with self._lock:
            self._data = None

    def __repr__(self) -> str:
        return f"<SettingsStore {self._path or '(not opened yet)'}>"

    # -- the file ----------------------------------------------------------------------------------

    def _loaded(self) -> dict[str, Any]:
        if self._data is None:
            self._data = self._read()
        return self._data

    def _read(self) -> dict[str, Any]:
        path = self.path
        _remove_stale_temp_files(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise DataDirError(
                f"Cannot read the settings file {path}: {error.strerror or error}. Check its permissions."
            ) from error
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            self._set_aside(path, f"it is not valid JSON ({error})")
            return {}
        if not isinstance(data, dict):
            self._set_aside(path, f"it holds a JSON {type(data).__name__}, not an object")
            return {}
        return data

    def _set_aside(self, path: Path, why: str) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        target = path.with_name(f"{path.name}.corrupt-{stamp}")
        counter = 1
        while target.exists():
            counter += 1
            target = path.with_name(f"{path.name}.corrupt-{stamp}-{counter}")
        try:
            os.replace(path, target)
        except OSError as error:
            log.warning(
                "settings file %s is unreadable (%s) and could not be moved aside: %s", path, why, error
            )
            return
        log.warning(
            "settings file %s was unreadable (%s); moved it to %s and using defaults", path, why, target
        )

    def _save(self, data: dict[str, Any]) -> None:
        text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, allow_nan=False) + "\n"
        path = self.path
        try:
            atomic_write(path, text.encode("utf-8"))
        except OSError as error:
            raise DataDirError(
                f"Cannot save the settings file {path}: {error.strerror or error}. Check that the folder "
                "is writable and the disk is not full."
            ) from error
        self._data = data


def atomic_write(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` so that readers (and crashes) see the old or the new file.

    Temporary file in the same folder (``os.replace`` is atomic only within one file system),
    written and ``fsync``-ed, renamed over ``path``, then the folder ``fsync``-ed so the rename
    itself survives a power cut. The temporary name carries the writer's pid, so leftovers of a
    killed writer can be recognised and removed later.
    """
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.{os.getpid()}.", suffix=_TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; Windows cannot open folders and needs nothing)."""
    flags = getattr(os, "O_DIRECTORY", None)
    if flags is None:
        return
    try:
        fd = os.open(folder, os.O_RDONLY | flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_temp_files(path: Path) -> None:
    """Remove temporary files left by writers of ``path`` that were killed mid-write."""
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or match.group("name") != path.name:
            continue
        pid = int(match.group("pid"))
        if pid != os.getpid() and _alive(pid):
            continue  # another process is writing it right now
        with contextlib.suppress(OSError):
            entry.unlink()


def _alive(pid: int) -> bool:
    if os.name == "nt":
        return True  # os.kill(pid, 0) sends CTRL_C_EVENT there: never probe, never delete
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's), or we cannot tell: leave its file alone
    return True


def _check(key: object, value: object) -> None:
    if not isinstance(key, str):
        raise TypeError(f"settings keys are strings, not {type(key).__name__}")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"settings[{key!r}] must be JSON data (str, int, float, bool, None, and lists and dicts "
            f"of them): {error}"
        ) from None
