"""Dev mode's edit → look loop: watch the project's files and refresh the running app and its window.

Two pieces, usable apart:

* :class:`DevReloader` watches folders (inotify through ``ctypes`` on Linux, a 50 ms stat poll
  elsewhere), sorts each batch of changes into *python* (re-import the app), *template* or
  *style* (clear Jinja's cache, reload the page), and calls back.
* :class:`LiveApp` is the stable WSGI callable the guard wraps in dev mode. It forwards to the
  current app, and on a Python change purges the project's modules from :data:`sys.modules`,
  loads the app again and swaps it in; when that fails, it serves a page with the error until the
  next good save. The window is never recreated, so it keeps its size and position.

The window is refreshed by navigating it to the URL it shows (``load_url``), not with
``evaluate_js``: pywebview runs scripts through ``eval``, which the guard's Content-Security-Policy
(no ``'unsafe-eval'``) rightly refuses.

Runtime module: it imports neither ``app/`` nor ``ui/`` (launch.py joins them) and no tooling.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import html
import importlib
import logging
import os
import runpy
import select
import struct
import sys
import sysconfig
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import parse_qs, urlsplit, urlunsplit

from flask import Flask

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("flaskdesk")

Kind = Literal["python", "template", "style"]
Classifier = Callable[[Path], "Kind | None"]

#: Folders never watched: VCS data, caches, virtual environments, build output.
IGNORED_DIRS = frozenset(
    {
        "__pycache__",
        "node_modules",
        "build",
        "dist",
        "htmlcov",
        "site-packages",
    }
)
#: Files editors write next to the one being saved; a change to them alone means nothing.
_NOISE_SUFFIXES = (".swp", ".swx", ".swo", ".tmp", ".pyc", ".pyo", "~", "___jb_tmp___", "___jb_old___")
_NOISE_PREFIXES = (".#", "#")
#: Suffixes that count as templates anywhere in a watched tree (outside templates/ and static/).
TEMPLATE_SUFFIXES = frozenset({".html", ".htm", ".jinja", ".jinja2", ".j2", ".xml", ".svg"})

#: The guard's reserved prefix and its launch endpoint (a refresh never reuses the launch URL).
_INTERNAL_PREFIX = "/__flaskdesk__/"
_LAUNCH_PATH = _INTERNAL_PREFIX + "launch"


def is_noise(path: Path) -> bool:
    """Editor swap/backup files, byte code, vim's ``4913`` probe: changes that mean nothing."""
    name = path.name
    return (
        name == "4913"
        or name.endswith(_NOISE_SUFFIXES)
        or name.startswith(_NOISE_PREFIXES)
        or "__pycache__" in path.parts
    )


def is_ignored_dir(path: Path) -> bool:
    """Folders the watcher skips: hidden ones (``.git``, ``.venv``, caches), build output, venvs."""
    name = path.name
    return (
        name.startswith(".")
        or name in IGNORED_DIRS
        or name.endswith(".egg-info")
        or (path / "pyvenv.cfg").exists()
    )


@dataclass(frozen=True)
class WatchPlan:
    """What to watch for one app, and what a change to each file means.

    ``roots`` are watched recursively. A ``.py`` file under ``source_dirs`` (or an ``extra`` path)
    is a Python change; anything under ``template_dirs`` is a template change; under
    ``static_dirs`` a ``.css`` file is a style change and anything else a template change (the
    page is reloaded).
    """

    roots: tuple[Path, ...]
    source_dirs: tuple[Path, ...] = ()
    template_dirs: tuple[Path, ...] = ()
    static_dirs: tuple[Path, ...] = ()
    extra: tuple[Path, ...] = ()

    def classify(self, path: Path) -> Kind | None:
        """The kind of change a write to ``path`` is, or ``None`` to ignore it."""
        path = Path(os.path.abspath(path))
        if is_noise(path):
            return None
        if any(_within(path, root) for root in self.extra):
            return "python"
        if any(_within(path, root) for root in self.static_dirs):
            return "style" if path.suffix == ".css" else "template"
        if any(_within(path, root) for root in self.template_dirs):
            return "template"
        if path.suffix == ".py" and any(_within(path, root) for root in self.source_dirs):
            return "python"
        if path.suffix in TEMPLATE_SUFFIXES and any(_within(path, root) for root in self.source_dirs):
            return "template"
        return None


def default_classifier(roots: Iterable[Path]) -> Classifier:
    """Without an app to ask: ``.py`` is Python; files under a ``templates``/``static`` folder (or with
    a template suffix) are templates, ``.css`` under ``static`` a style change."""
    roots = _unique(roots)

    def classify(path: Path) -> Kind | None:
        path = Path(os.path.abspath(path))
        root = next((r for r in roots if _within(path, r)), None)
        if root is None or is_noise(path):
            return None
        parts = path.relative_to(root).parts[:-1]
        if "static" in parts:
            return "style" if path.suffix == ".css" else "template"
        if "templates" in parts or path.suffix in TEMPLATE_SUFFIXES:
            return "template"
        if path.suffix == ".py":
            return "python"
        return None

    return classify


def plan_for_app(
    app: Flask, extra: Iterable[str | os.PathLike[str]] = (), *, base: Path | None = None
) -> WatchPlan:
    """The watch plan for ``app``: its package (or script folder), blueprints, templates, static files.

    ``extra`` (``[tool.flaskdesk] dev-reload-extra``) adds files, folders or glob patterns, relative
    to ``base`` (the project folder), whose change reloads the app.
    """
    sources: list[Path] = [_package_dir(app.import_name, app.root_path)]
    templates: list[Path] = []
    statics: list[Path] = []
    scaffolds = [app, *app.blueprints.values()]
    for scaffold in scaffolds:
        root = Path(scaffold.root_path)
        if scaffold is not app:
            sources.append(_package_dir(scaffold.import_name, scaffold.root_path))
        if scaffold.template_folder:
            templates.append(root / scaffold.template_folder)
        if scaffold.static_folder:
            statics.append(Path(scaffold.static_folder))
    extra_paths = _expand(extra, base or Path.cwd())
    every = [*sources, *templates, *statics, *(p if p.is_dir() else p.parent for p in extra_paths)]
    return WatchPlan(
        roots=_outermost(p for p in every if p.is_dir()),
        source_dirs=_unique(sources),
        template_dirs=_unique(templates),
        static_dirs=_unique(statics),
        extra=_unique(extra_paths),
    )


def _package_dir(import_name: str, root_path: str) -> Path:
    """The folder of the top-level package that ``import_name`` belongs to (else ``root_path``)."""
    top = import_name.split(".")[0]
    module = sys.modules.get(top)
    file = getattr(module, "__file__", None) if module is not None else None
    if file and top != "__main__" and os.path.basename(file) == "__init__.py":
        return Path(file).resolve().parent
    return Path(root_path).resolve()


def _expand(patterns: Iterable[str | os.PathLike[str]], base: Path) -> list[Path]:
    found: list[Path] = []
    for pattern in patterns:
        text = os.fspath(pattern)
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = base / path
        if any(char in text for char in "*?["):
            anchor = Path(path.anchor)
            found.extend(anchor.glob(str(path.relative_to(anchor))))
        else:
            found.append(path)
    return [Path(os.path.abspath(p)) for p in found]


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _unique(paths: Iterable[Path]) -> tuple[Path, ...]:
    return tuple(dict.fromkeys(Path(os.path.abspath(p)) for p in paths))


def _outermost(paths: Iterable[Path]) -> tuple[Path, ...]:
    unique = sorted(_unique(paths), key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in unique:
        if not any(_within(path, root) for root in kept):
            kept.append(path)
    return tuple(kept)


# --- file watching ------------------------------------------------------------------------------


class ChangeSource(Protocol):
    """Where file changes come from: :class:`InotifySource` or :class:`PollingSource`."""

    def read(self, timeout: float) -> set[Path]:
        """Block up to ``timeout`` seconds; return the paths that changed (empty on timeout or wake)."""

    def wake(self) -> None:
        """Make a blocked :meth:`read` return now (from another thread)."""

    def close(self) -> None:
        """Release the OS resources."""


def iter_tree(root: Path) -> Iterator[tuple[Path, list[str]]]:
    """``(folder, file names)`` for every watched folder under ``root`` (ignored folders pruned)."""
    for folder, dirnames, filenames in os.walk(root):
        here = Path(folder)
        dirnames[:] = sorted(d for d in dirnames if not is_ignored_dir(here / d))
        yield here, filenames


class PollingSource:
    """Portable watcher: stat every file every ``interval`` seconds and report what differs."""

    def __init__(self, roots: Iterable[Path], interval: float = 0.05) -> None:
        self.roots = tuple(roots)
        self.interval = interval
        self._woken = threading.Event()
        self._snapshot = self._scan()

    def _scan(self) -> dict[Path, tuple[int, int, int]]:
        seen: dict[Path, tuple[int, int, int]] = {}
        for root in self.roots:
            for folder, names in iter_tree(root):
                for name in names:
                    path = folder / name
                    with contextlib.suppress(OSError):
                        st = path.stat()
                        seen[path] = (st.st_mtime_ns, st.st_size, st.st_ino)
        return seen

    def read(self, timeout: float) -> set[Path]:
        if self._woken.wait(min(timeout, self.interval)):
            self._woken.clear()
            return set()
        now = self._scan()
        before = self._snapshot
        self._snapshot = now
        return {p for p in now.keys() | before.keys() if now.get(p) != before.get(p)}

    def wake(self) -> None:
        self._woken.set()

    def close(self) -> None:
        self._woken.set()


# inotify(7) constants
_IN_MODIFY = 0x2
_IN_ATTRIB = 0x4
_IN_CLOSE_WRITE = 0x8
_IN_MOVED_FROM = 0x40
_IN_MOVED_TO = 0x80
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_DELETE_SELF = 0x400
_IN_MOVE_SELF = 0x800
_IN_Q_OVERFLOW = 0x4000
_IN_IGNORED = 0x8000
_IN_ONLYDIR = 0x01000000
_IN_ISDIR = 0x40000000
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = getattr(os, "O_CLOEXEC", 0o2000000)
_WATCH_MASK = (
    _IN_CLOSE_WRITE
    | _IN_MOVED_FROM
    | _IN_MOVED_TO
    | _IN_CREATE
    | _IN_DELETE
    | _IN_DELETE_SELF
    | _IN_MOVE_SELF
)
_EVENT = struct.Struct("iIII")


class InotifySource:
    """Linux watcher on inotify(7) through ``ctypes``: a change is seen the moment the file is closed.

    Only "written and closed", "moved in/out", "created" and "deleted" are watched, so a file is
    reported once its writer closed it (an editor's in-place save) or renamed it into place (an
    atomic save), never half-written. New folders are watched as they appear.
    """

    def __init__(self, roots: Iterable[Path]) -> None:
        libc_name = ctypes.util.find_library("c") or "libc.so.6"
        self._libc = ctypes.CDLL(libc_name, use_errno=True)
        self._libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self._libc.inotify_add_watch.restype = ctypes.c_int
        self._libc.inotify_rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]
        fd = self._libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed: " + os.strerror(ctypes.get_errno()))
        self._fd: int = fd
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._dirs: dict[int, Path] = {}
        self._closed = False
        self._poller = select.poll()
        self._poller.register(self._fd, select.POLLIN)
        self._poller.register(self._wake_r, select.POLLIN)
        for root in roots:
            self._watch_tree(Path(root))

    def _watch_tree(self, root: Path) -> list[Path]:
        """Watch ``root`` and its sub-folders; return the files already in them."""
        files: list[Path] = []
        for folder, names in iter_tree(root):
            self._watch_dir(folder)
            files.extend(folder / name for name in names)
        return files

    def _watch_dir(self, folder: Path) -> None:
        wd = self._libc.inotify_add_watch(self._fd, os.fsencode(folder), _WATCH_MASK | _IN_ONLYDIR)
        if wd < 0:
            err = ctypes.get_errno()
            if err == errno.ENOSPC:
                log.warning(
                    "cannot watch %s: the inotify watch limit is reached (raise "
                    "fs.inotify.max_user_watches with sysctl)",
                    folder,
                )
            elif err not in (errno.ENOENT, errno.ENOTDIR):
                log.warning("cannot watch %s: %s", folder, os.strerror(err))
            return
        self._dirs[wd] = folder

    def read(self, timeout: float) -> set[Path]:
        if self._closed:
            return set()
        try:
            ready = self._poller.poll(max(0, int(timeout * 1000)))
        except InterruptedError:  # pragma: no cover - PEP 475 retries, kept for safety
            return set()
        changed: set[Path] = set()
        for fd, _event in ready:
            if fd == self._wake_r:
                with contextlib.suppress(BlockingIOError):
                    os.read(self._wake_r, 4096)
            elif fd == self._fd:
                changed |= self._drain()
        return changed

    def _drain(self) -> set[Path]:
        changed: set[Path] = set()
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return changed
            if not data:
                return changed
            changed |= self._parse(data)

    def _parse(self, data: bytes) -> set[Path]:
        changed: set[Path] = set()
        offset = 0
        while offset + _EVENT.size <= len(data):
            wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
            raw = data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0")
            offset += _EVENT.size + length
            if mask & _IN_Q_OVERFLOW:
                # Events were lost: report every watched folder so the caller reloads everything.
                changed |= {folder / "__overflow__.py" for folder in self._dirs.values()}
                continue
            folder = self._dirs.get(wd)
            if folder is None:
                continue
            if mask & _IN_IGNORED:
                self._dirs.pop(wd, None)
                continue
            if mask & (_IN_DELETE_SELF | _IN_MOVE_SELF):
                changed.add(folder)
                continue
            path = folder / os.fsdecode(raw)
            if mask & _IN_ISDIR:
                if mask & (_IN_CREATE | _IN_MOVED_TO) and not is_ignored_dir(path):
                    changed.update(self._watch_tree(path))
                continue
            if mask & _IN_CREATE:
                continue  # the CLOSE_WRITE that follows is the change
            changed.add(path)
        return changed

    def wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for fd in (self._fd, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)


def open_source(
    roots: Iterable[Path], *, interval: float = 0.05, polling: bool | None = None
) -> ChangeSource:
    """inotify on Linux (unless ``polling``), else the stat poller; also falls back when inotify fails."""
    roots = tuple(roots)
    if polling is None:
        polling = os.environ.get("FLASKDESK_RELOAD_POLL", "") not in ("", "0") or not sys.platform.startswith(
            "linux"
        )
    if not polling:
        try:
            return InotifySource(roots)
        except (OSError, AttributeError) as error:
            log.info("inotify unavailable (%s); polling for changes every %.0f ms", error, interval * 1000)
    return PollingSource(roots, interval)


# --- the reloader -------------------------------------------------------------------------------


def batch_kind(kinds: Iterable[Kind]) -> Kind | None:
    """One action for a batch: Python beats template beats style."""
    found = set(kinds)
    for kind in ("python", "template", "style"):
        if kind in found:
            return kind
    return None


class DevReloader:
    """Watches ``roots`` on a background thread and calls back once per batch of changes.

    ``on_python`` runs for a Python change (and for a batch that mixes kinds), ``on_templates``
    for a template or static-file change, ``on_styles`` (when given) for a batch of ``.css``
    changes only, else ``on_templates``. Callbacks run on the watcher thread, one at a time; an
    exception in one is logged and the watching goes on. Changes are collected until
    ``debounce`` seconds pass without another (at most ``max_batch`` seconds), so a
    ``git checkout`` of ten files reloads once.
    """

    def __init__(
        self,
        *,
        roots: list[Path],
        on_templates: Callable[[], None],
        on_python: Callable[[], None],
        on_styles: Callable[[], None] | None = None,
        classify: Classifier | None = None,
        debounce: float = 0.015,
        max_batch: float = 0.25,
        interval: float = 0.05,
        polling: bool | None = None,
    ) -> None:
        self.roots = [Path(os.path.abspath(root)) for root in roots]
        self.on_templates = on_templates
        self.on_python = on_python
        self.on_styles = on_styles
        self.classify: Classifier = classify or default_classifier(self.roots)
        self.debounce = debounce
        self.max_batch = max_batch
        self.interval = interval
        self.polling = polling
        self._source: ChangeSource | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        #: Called with (kind, paths, seconds from first event to callback return); for benchmarks and logs.
        self.on_batch: Callable[[Kind, frozenset[Path], float], None] | None = None

    def start(self) -> None:
        """Begin watching; returns once every root is watched (edits after this call are seen)."""
        if self._thread is not None:
            raise RuntimeError("DevReloader.start() called twice")
        self._source = open_source(self.roots, interval=self.interval, polling=self.polling)
        self._thread = threading.Thread(target=self._run, name="flaskdesk-devreload", daemon=True)
        self._thread.start()
        log.info("dev mode: watching %s", ", ".join(str(root) for root in self.roots))

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching and join the thread (safe to call twice, or without start)."""
        self._stopping.set()
        if self._source is not None:
            self._source.wake()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self._source is not None:
            self._source.close()

    def __enter__(self) -> DevReloader:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        source = self._source
        assert source is not None
        while not self._stopping.is_set():
            changed = source.read(0.5)
            kinds = self._kinds(changed)
            if not kinds:
                continue
            first = last = time.perf_counter()
            # Collect until `debounce` passes with no further relevant change (or max_batch).
            while self.debounce > 0 and not self._stopping.is_set():
                now = time.perf_counter()
                quiet_left = self.debounce - (now - last)
                if quiet_left <= 0 or now - first >= self.max_batch:
                    break
                more = self._kinds(source.read(min(quiet_left, self.max_batch - (now - first))))
                if more:
                    kinds.update(more)
                    last = time.perf_counter()
            if self._stopping.is_set():
                return
            self._dispatch(batch_kind(kinds.values()), frozenset(kinds), first)

    def _kinds(self, changed: set[Path]) -> dict[Path, Kind]:
        kinds: dict[Path, Kind] = {}
        for path in changed:
            kind = self.classify(path)
            if kind is not None:
                kinds[path] = kind
        return kinds

    def _dispatch(self, kind: Kind | None, paths: frozenset[Path], first: float) -> None:
        if kind is None:
            return
        callback = {
            "python": self.on_python,
            "template": self.on_templates,
            "style": self.on_styles or self.on_templates,
        }[kind]
        log.info("dev mode: %s change in %s", kind, ", ".join(sorted(str(p) for p in paths)[:5]))
        try:
            callback()
        except Exception:
            log.exception("dev mode: reloading after a %s change failed", kind)
        if self.on_batch is not None:
            with contextlib.suppress(Exception):
                self.on_batch(kind, paths, time.perf_counter() - first)


# --- re-importing the app -----------------------------------------------------------------------


def _library_dirs() -> tuple[Path, ...]:
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            dirs.add(sysconfig.get_paths()[key])
    return tuple(Path(os.path.abspath(d)) for d in dirs)


def project_modules(roots: Iterable[Path], modules: dict[str, Any] | None = None) -> list[str]:
    """Names of the loaded modules whose file lies under ``roots``: the ones a Python change re-imports.

    Never ``__main__``, flaskdesk itself, anything in ``site-packages``, or a library folder that
    lies inside a root (a virtual environment inside the project folder).
    """
    modules = sys.modules if modules is None else modules
    roots = tuple(Path(os.path.abspath(r)) for r in roots)
    own = Path(os.path.abspath(__file__)).parent
    nested_libraries = [lib for lib in _library_dirs() if any(_within(lib, root) for root in roots)]
    found: list[str] = []
    for name, module in list(modules.items()):
        file = getattr(module, "__file__", None)
        if not file or name == "__main__":
            continue
        path = Path(os.path.abspath(file))
        if (
            "site-packages" in path.parts
            or "dist-packages" in path.parts
            or _within(path, own)
            or any(_within(path, lib) for lib in nested_libraries)
        ):
            continue
        if any(_within(path, root) for root in roots):
            found.append(name)
    return sorted(found)


def purge_modules(roots: Iterable[Path]) -> list[str]:
    """Remove the project's modules from :data:`sys.modules` so the next import runs them afresh."""
    names = project_modules(roots)
    for name in names:
        sys.modules.pop(name, None)
    importlib.invalidate_caches()
    return names


def find_app_in(namespace: dict[str, Any], previous_name: str | None = None) -> Flask:
    """The Flask app defined in a script's namespace, as ``flask`` finds it (``app``, ``application``,
    the only Flask instance, or a ``create_app``/``make_app`` factory)."""
    if previous_name and isinstance(namespace.get(previous_name), Flask):
        return namespace[previous_name]  # type: ignore[no-any-return]
    for name in ("app", "application"):
        if isinstance(namespace.get(name), Flask):
            return namespace[name]  # type: ignore[no-any-return]
    apps = [value for value in namespace.values() if isinstance(value, Flask)]
    if len(apps) == 1:
        return apps[0]
    for name in ("create_app", "make_app"):
        factory = namespace.get(name)
        if callable(factory):
            app = factory()
            if isinstance(app, Flask):
                return app
    raise LookupError("no Flask app found after reloading: define `app = Flask(__name__)` or create_app()")


def loader_for(app: Flask) -> Callable[[], Flask] | None:
    """A function that loads ``app`` afresh, when one can be derived from how it was loaded.

    A script run as ``python app.py`` is re-run with :func:`runpy.run_path` under another
    ``__name__`` (so its ``if __name__ == "__main__"`` block does not open a second window); an
    app in an importable module is found again by the attribute or factory that made it. Callers
    that know the original target (``module:create_app()``) should pass their own loader instead.
    """
    if app.import_name == "__main__":
        main = sys.modules.get("__main__")
        file = getattr(main, "__file__", None)
        if not file:
            return None
        attr = next((k for k, v in vars(main).items() if v is app), None)

        def rerun_script() -> Flask:
            namespace = runpy.run_path(file, run_name="__flaskdesk_reload__")
            return find_app_in(namespace, attr)

        return rerun_script
    module_name = app.import_name
    module = sys.modules.get(module_name)
    if module is None:
        return None
    attr = next((k for k, v in vars(module).items() if v is app), None)
    factory = next((k for k in ("create_app", "make_app") if callable(getattr(module, k, None))), None)
    if attr is None and factory is None:
        return None

    def reimport() -> Flask:
        fresh = importlib.import_module(module_name)
        return find_app_in(vars(fresh), attr)

    return reimport


def _configured_extra(app: Flask, base: Path | None) -> tuple[tuple[str, ...], Path | None]:
    """``[tool.flaskdesk] dev-reload-extra`` of the app's project, and the folder it is relative to."""
    from .settings import project_config_for

    try:
        project = project_config_for(app.root_path)
    except Exception:  # a broken pyproject.toml is reported by the launch, not here
        log.debug("dev mode: could not read dev-reload-extra", exc_info=True)
        return (), base
    if project is None:
        return (), base
    return tuple(project.dev_reload_extra or ()), base or project.root


def _served_as_is(app: Flask) -> WSGIApplication:
    return app


class WindowLike(Protocol):
    """What the dev loop needs from a window (``ui.window.WindowHandle`` satisfies it)."""

    def load_url(self, url: str) -> None: ...

    def get_current_url(self) -> str | None: ...


def refresh_url(current: str | None, origin: str | None = None) -> str | None:
    """The URL to load to show a fresh copy of the page at ``current``.

    The launch URL (``/__flaskdesk__/launch?token=...&next=/path``) becomes its ``next`` page, any
    other internal URL becomes ``/``; a URL on another origin (or none) gives ``None``.
    """
    if not current:
        return None
    parts = urlsplit(current)
    schemes = {"http", "https"} | ({urlsplit(origin).scheme} if origin else set())  # app:// too
    if parts.scheme not in schemes or not parts.netloc:
        return None
    here = f"{parts.scheme}://{parts.netloc}"
    if origin is not None and here != origin.rstrip("/"):
        return None
    if parts.path == _LAUNCH_PATH:
        nexts = parse_qs(parts.query).get("next", ["/"])
        target = (
            nexts[0]
            if len(nexts) == 1 and nexts[0].startswith("/") and not nexts[0].startswith("//")
            else "/"
        )
        return here + target
    if parts.path.startswith(_INTERNAL_PREFIX):
        return here + "/"
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


@dataclass
class _State:
    app: Flask
    wsgi: WSGIApplication
    desktop: Any
    error: BaseException | None = None


class LiveApp:
    """The WSGI callable the guard wraps in dev mode; it forwards to the current app.

    ``wrap`` turns a Flask app into what is served (the Werkzeug debugger around it);
    ``load`` loads the app afresh (default: :func:`loader_for`; pass your own when you know the
    target, e.g. ``module:create_app("arg")``); ``desktop`` is the Desktop the launch started
    with, used when the reloaded app has none of its own. ``extra`` adds paths (relative to
    ``base``) whose change reloads the app; by default ``[tool.flaskdesk] dev-reload-extra``.

    :meth:`start` watches the files, :meth:`attach_window` (the ``on_shown`` callback) gives it
    the window to refresh, :meth:`stop` ends both. Swapping is a single attribute assignment, so
    requests in flight finish on the app they started on.
    """

    def __init__(
        self,
        app: Flask,
        *,
        desktop: Any,
        wrap: Callable[[Flask], WSGIApplication] | None = None,
        load: Callable[[], Flask] | None = None,
        roots: Iterable[Path] = (),
        extra: Iterable[str | os.PathLike[str]] | None = None,
        base: Path | None = None,
    ) -> None:
        self.wrap: Callable[[Flask], WSGIApplication] = wrap or _served_as_is
        self.load = load or loader_for(app)
        if extra is None:
            extra, base = _configured_extra(app, base)
        self.extra = tuple(extra)
        self.base = base
        self._state = _State(app=app, wsgi=self._serve(app), desktop=desktop)
        self._good = self._state
        self._lock = threading.Lock()
        self._window: WindowLike | None = None
        self._origin: str | None = None
        self.plan = plan_for_app(app, self.extra, base=base)
        self._purge_roots = _unique([*self.plan.source_dirs, *roots])
        self._reloader: DevReloader | None = None
        self.reloads = 0

    def _serve(self, app: Flask) -> WSGIApplication:
        # Dev mode always serves fresh files: templates checked on every render, static files
        # revalidated (an app's long SEND_FILE_MAX_AGE_DEFAULT would hide CSS edits).
        app.config["TEMPLATES_AUTO_RELOAD"] = True
        app.jinja_env.auto_reload = True
        app.config["SEND_FILE_MAX_AGE_DEFAULT"] = None
        return self.wrap(app)

    def start(self, **options: Any) -> None:
        """Start watching the app's files (``options`` go to :class:`DevReloader`)."""
        if self._reloader is None:
            self._reloader = self.reloader(**options)
            self._reloader.start()

    def stop(self) -> None:
        """Stop watching and forget the window (safe to call twice)."""
        self._window = None
        reloader, self._reloader = self._reloader, None
        if reloader is not None:
            reloader.stop()

    # WSGI ---------------------------------------------------------------------------------------
    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self._state.wsgi(environ, start_response)

    def bridge_wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The bridge endpoint of the current app's Desktop (mount this at ``bridge`` in dev mode)."""
        desktop = self._good.desktop
        return desktop.bridge.wsgi_app(environ, start_response)  # type: ignore[no-any-return]

    @property
    def app(self) -> Flask:
        """The app being served (the last one that loaded)."""
        return self._good.app

    @property
    def desktop(self) -> Any:
        """The Desktop of the app being served (run its teardown when the window closes)."""
        return self._good.desktop

    @property
    def error(self) -> BaseException | None:
        """Why the last reload failed, or ``None`` when the current code loaded."""
        return self._state.error

    # window ---------------------------------------------------------------------------------------
    def attach_window(self, window: WindowLike | None, origin: str | None = None) -> None:
        """The window to refresh after a change (``on_shown``'s handle); ``None`` detaches it.

        ``origin`` (the server's URL) keeps a refresh from ever reloading a page of another origin.
        """
        self._window = window
        if origin is not None:
            self._origin = origin

    def refresh_window(self) -> None:
        """Show the current page afresh: navigate the window to the URL it shows."""
        window = self._window
        if window is None:
            return
        try:
            url = refresh_url(window.get_current_url(), self._origin)
            if url is not None:
                window.load_url(url)
        except Exception:
            log.exception("dev mode: could not refresh the window")

    # reloading ------------------------------------------------------------------------------------
    def reload_templates(self) -> None:
        """A template or static file changed: drop Jinja's compiled templates, reload the page."""
        self._clear_template_cache(self._good.app)
        self.refresh_window()

    def reload_python(self) -> None:
        """Python changed: re-import the app and serve the new one (or its error), reload the page."""
        with self._lock:
            self._reload_python()
        self.refresh_window()

    def _reload_python(self) -> None:
        if self.load is None:
            log.warning("dev mode: Python changed, but this app cannot be re-imported; restart it to apply")
            return
        started = time.perf_counter()
        purged = purge_modules(self._purge_roots)
        try:
            app = self.load()
            if not isinstance(app, Flask):
                raise TypeError(f"reloading gave {type(app).__name__}, not a Flask app")
            desktop = app.extensions.get("flaskdesk")
            if desktop is None:
                # A plain Flask app (`flask desktop`): give it the launch's Desktop, as the launcher did.
                desktop = self._good.desktop
                init_app = getattr(desktop, "init_app", None)
                if callable(init_app):
                    init_app(app)
            relocate = getattr(desktop, "relocate_instance_path", None)
            if callable(relocate):
                relocate(app)
            adopt = getattr(desktop, "_adopt_window", None)
            if callable(adopt) and desktop is not self._good.desktop:
                adopt(self._good.desktop)  # desktop.dialogs / open_window reach the running window
            bridge = getattr(desktop, "bridge", None)
            if bridge is not None:
                bridge.context = app.app_context
            state = _State(app=app, wsgi=self._serve(app), desktop=desktop)
        except BaseException as error:  # a SyntaxError, the factory raising, even SystemExit
            if isinstance(error, KeyboardInterrupt):
                raise
            log.error("dev mode: reloading the app failed", exc_info=error)
            self._state = _State(
                app=self._good.app, wsgi=ErrorApp(error), desktop=self._good.desktop, error=error
            )
            return
        self._state = self._good = state
        self.reloads += 1
        log.info(
            "dev mode: app reloaded in %.0f ms (%d modules dropped, %d imported)",
            (time.perf_counter() - started) * 1000,
            len(purged),
            len(project_modules(self._purge_roots)),
        )

    @staticmethod
    def _clear_template_cache(app: Flask) -> None:
        cache = app.jinja_env.cache
        if cache is not None:
            cache.clear()

    def reloader(self, **options: Any) -> DevReloader:
        """A :class:`DevReloader` wired to this app's watch plan and reload methods."""
        return DevReloader(
            roots=list(self.plan.roots),
            on_templates=self.reload_templates,
            on_python=self.reload_python,
            classify=self.plan.classify,
            **options,
        )


# --- the error page -----------------------------------------------------------------------------


@dataclass
class ErrorApp:
    """Serves the reload error (HTTP 500) for every request until the next good save."""

    error: BaseException
    text: str = field(init=False)

    def __post_init__(self) -> None:
        self.text = "".join(traceback.format_exception(self.error))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        nonce = str(environ.get("flaskdesk.csp_nonce", ""))
        body = reload_error_page(self.error, self.text, nonce=nonce).encode()
        start_response(
            "500 Internal Server Error",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]


def reload_error_page(error: BaseException, text: str, *, nonce: str = "") -> str:
    """The page shown while the code does not load: where, what, and the whole traceback.

    A :class:`SyntaxError` anywhere in the chain (the loader wraps import errors) is shown with
    its file, line and a caret under the offending spot.
    """
    shown = _find_syntax_error(error) or error
    where = ""
    if isinstance(shown, SyntaxError) and shown.filename:
        raw = (shown.text or "").rstrip("\n")
        line = raw.lstrip()
        caret = ""
        if shown.offset and line:
            caret = "\n" + " " * max(shown.offset - 1 - (len(raw) - len(line)), 0) + "^"
        where = (
            f"<p class=where>{html.escape(shown.filename)}, line {shown.lineno}</p>"
            f"<pre class=code>{html.escape(line)}{html.escape(caret)}</pre>"
        )
    message = shown.msg if isinstance(shown, SyntaxError) else str(shown)
    title = f"{type(shown).__name__}: {message}"
    nonce_attr = f' nonce="{html.escape(nonce)}"' if nonce else ""
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>Reload failed</title>"
        f"<style{nonce_attr}>body{{font:15px/1.5 system-ui,sans-serif;margin:2em;color:#222;background:#fff}}"
        "h1{font-size:1.3em;color:#b00020}.where{font-weight:600}"
        "pre{white-space:pre-wrap;background:#f7f7f7;padding:1em;border-left:4px solid #b00020;"
        "font:13px/1.4 ui-monospace,monospace}.hint{color:#555}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{where}"
        "<p class=hint>The app could not be reloaded. Fix the code and save: this page reloads by itself.</p>"
        f"<pre class=tb>{html.escape(text)}</pre></body></html>"
    )


def _find_syntax_error(error: BaseException) -> SyntaxError | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, SyntaxError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
