"""The app's log file, and standard streams that are safe to write to.

A windowed build has no console: ``sys.stdout`` and ``sys.stderr`` are ``None``, so a stray
``print()`` or a library writing to stderr would raise, and nothing anyone logs is seen. The log
file is where a user's "it does not start" report comes from, so it is set up before the app is
imported, and the streams are made harmless.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import IO

from flask.logging import default_handler

from ..errors import DataDirError
from .paths import safe_app_dir_name

#: Loggers that always get the handlers: ours, and the server's (its queue warnings matter).
BASE_LOGGERS = ("flaskdesk", "waitress")
MAX_BYTES = 1024 * 1024
BACKUP_COUNT = 3
FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"

# Set on every handler flaskdesk adds, so a second call finds them instead of adding more.
_MARKER = "_flaskdesk_handler"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (test capture, a devnull stand-in)."""

    def __init__(self) -> None:
        super().__init__()
        setattr(self, _MARKER, "stderr")

    @property
    def stream(self) -> IO[str] | None:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        """Ignore ``StreamHandler``'s own assignment: the stream is always the current stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        if sys.stderr is not None:
            super().emit(record)


def ensure_std_streams() -> None:
    """Replace a missing (``None``) ``sys.stdin``/``stdout``/``stderr`` with ``os.devnull``.

    Windowed builds start without them; after this, ``print()`` and libraries that write to
    stderr work (their output goes nowhere, what matters is in the log file).
    """
    for name, mode in (("stdin", "r"), ("stdout", "w"), ("stderr", "w")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, mode, encoding="utf-8"))  # noqa: SIM115 - lives as long as sys


def configure_logging(log_dir: Path, *, name: str, dev: bool, app_logger: str | None = None) -> Path:
    """Log to ``log_dir/<name>.log`` (1 MiB, 3 backups) and to stderr when there is one.

    The handlers go on the ``flaskdesk`` and ``waitress`` loggers and, given ``app_logger``
    (``app.logger.name``), on the Flask app's logger, at INFO (DEBUG when ``dev``). Calling again,
    for instance once the app is loaded to add its logger, adds no duplicate handlers. Returns the
    log file's path, which the startup-error window shows.
    """
    folder = Path(log_dir)
    path = (folder / f"{safe_app_dir_name(name)}.log").absolute()
    level = logging.DEBUG if dev else logging.INFO
    loggers = [logging.getLogger(logger_name) for logger_name in BASE_LOGGERS]
    if app_logger is not None:
        loggers.append(logging.getLogger(app_logger))

    file_handler = _existing_file_handler(loggers, path) or _new_file_handler(folder, path)
    console = _has_console()
    stderr_handler = next(
        (h for logger in loggers for h in logger.handlers if getattr(h, _MARKER, None) == "stderr"),
        None,
    )
    if console and stderr_handler is None:
        stderr_handler = _StderrHandler()
        stderr_handler.setFormatter(logging.Formatter(FORMAT))

    for logger in loggers:
        for handler in list(logger.handlers):
            stale_file = isinstance(handler, logging.FileHandler) and handler is not file_handler
            if getattr(handler, _MARKER, None) is not None and stale_file:
                logger.removeHandler(handler)
                handler.close()
        if file_handler not in logger.handlers:
            logger.addHandler(file_handler)
        if console and stderr_handler is not None and stderr_handler not in logger.handlers:
            logger.addHandler(stderr_handler)
        if logger.name == app_logger:
            # Flask's own stderr handler would print every app message a second time.
            logger.removeHandler(default_handler)
            if logger.level == logging.NOTSET:
                logger.setLevel(level)
        else:
            logger.setLevel(level)
    return path


def unconfigure_logging() -> None:
    """Remove and close every handler :func:`configure_logging` added (tests, re-launch in-process)."""
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    closed: list[logging.Handler] = []
    for logger in loggers:
        for handler in list(logger.handlers):
            if getattr(handler, _MARKER, None) is not None:
                logger.removeHandler(handler)
                if handler not in closed:
                    handler.close()
                    closed.append(handler)


def _has_console() -> bool:
    stream = sys.stderr
    return stream is not None and getattr(stream, "name", None) != os.devnull


def _existing_file_handler(
    loggers: list[logging.Logger], path: Path
) -> logging.handlers.RotatingFileHandler | None:
    for logger in loggers:
        for handler in logger.handlers:
            if (
                isinstance(handler, logging.handlers.RotatingFileHandler)
                and getattr(handler, _MARKER, None) == "file"
                and handler.baseFilename == str(path)
            ):
                return handler
    return None


def _new_file_handler(folder: Path, path: Path) -> logging.handlers.RotatingFileHandler:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
        )
    except OSError as error:
        raise DataDirError(
            f"Cannot write the log file {path}: {error.strerror or error}. Make sure {folder} is a "
            "folder you can write to (free some disk space if it is full), or set FLASKDESK_DATA_DIR "
            "to a writable folder."
        ) from error
    setattr(handler, _MARKER, "file")
    handler.setFormatter(logging.Formatter(FORMAT))
    return handler
