"""The log file, idempotent set-up, and running without stdout/stderr (windowed builds)."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.logging import default_handler

from flaskdesk.app.logs import (
    BACKUP_COUNT,
    BASE_LOGGERS,
    MAX_BYTES,
    configure_logging,
    ensure_std_streams,
    unconfigure_logging,
)
from flaskdesk.errors import DataDirError


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Leave the loggers' handlers and levels as they were before the test."""
    names = [*BASE_LOGGERS, "logs_test_app"]
    saved = {name: (logging.getLogger(name).level, list(logging.getLogger(name).handlers)) for name in names}
    yield
    unconfigure_logging()
    for name, (level, handlers) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers


def _ours(logger: logging.Logger) -> list[logging.Handler]:
    return [h for h in logger.handlers if getattr(h, "_flaskdesk_handler", None)]


def _flush(path: Path) -> str:
    for handler in logging.getLogger("flaskdesk").handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_writes_the_log_file(tmp_path: Path) -> None:
    path = configure_logging(tmp_path / "log", name="My Notes", dev=False)
    assert path == tmp_path / "log" / "My Notes.log"
    logging.getLogger("flaskdesk").info("server started on %s", "127.0.0.1")
    logging.getLogger("flaskdesk.server").debug("not in production logs")
    logging.getLogger("waitress").warning("task queue depth is 5")
    text = _flush(path)
    assert "INFO    flaskdesk [MainThread] server started on 127.0.0.1" in text
    assert "task queue depth is 5" in text
    assert "not in production logs" not in text


def test_rotates_at_one_mebibyte_with_three_backups(tmp_path: Path) -> None:
    configure_logging(tmp_path, name="rotating", dev=False)
    (handler,) = [h for h in _ours(logging.getLogger("flaskdesk")) if isinstance(h, logging.FileHandler)]
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    assert (handler.maxBytes, handler.backupCount) == (MAX_BYTES, BACKUP_COUNT) == (1024 * 1024, 3)


def test_dev_logs_debug(tmp_path: Path) -> None:
    path = configure_logging(tmp_path, name="dev", dev=True)
    logging.getLogger("flaskdesk.reload").debug("reloading after a change")
    assert "reloading after a change" in _flush(path)


def test_calling_twice_adds_no_handlers(tmp_path: Path) -> None:
    first = configure_logging(tmp_path, name="twice", dev=False)
    before = {name: list(logging.getLogger(name).handlers) for name in BASE_LOGGERS}
    second = configure_logging(tmp_path, name="twice", dev=False)
    assert first == second
    assert {name: list(logging.getLogger(name).handlers) for name in BASE_LOGGERS} == before


def test_one_file_handler_is_shared_by_all_loggers(tmp_path: Path) -> None:
    configure_logging(tmp_path, name="shared", dev=False)
    configure_logging(tmp_path, name="shared", dev=False, app_logger="logs_test_app")
    files = {
        id(h)
        for name in [*BASE_LOGGERS, "logs_test_app"]
        for h in logging.getLogger(name).handlers
        if isinstance(h, logging.FileHandler)
    }
    assert len(files) == 1


def test_a_new_name_replaces_the_old_file(tmp_path: Path) -> None:
    configure_logging(tmp_path, name="old", dev=False)
    new = configure_logging(tmp_path, name="new", dev=False)
    files = [h for h in logging.getLogger("flaskdesk").handlers if isinstance(h, logging.FileHandler)]
    assert [h.baseFilename for h in files] == [str(new)]


def test_the_flask_app_logger_goes_to_the_file_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = Flask("logs_test_app")
    # Outside pytest (whose capture handler sits on the root logger) Flask adds this itself.
    app.logger.addHandler(default_handler)
    path = configure_logging(tmp_path, name="app", dev=False, app_logger=app.logger.name)
    app.logger.info("request handled")
    assert default_handler not in app.logger.handlers
    assert "logs_test_app [MainThread] request handled" in _flush(path)
    assert capsys.readouterr().err.count("request handled") == 1


def test_stderr_gets_the_messages_when_there_is_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(tmp_path, name="console", dev=False)
    logging.getLogger("flaskdesk").warning("visible in the terminal")
    assert "visible in the terminal" in capsys.readouterr().err


def test_works_without_stdout_and_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A windowed build: no console at all, yet logging, print() and stderr writes must not fail."""
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    path = configure_logging(tmp_path, name="windowed", dev=False)
    assert not [h for h in _ours(logging.getLogger("flaskdesk")) if not isinstance(h, logging.FileHandler)]
    logging.getLogger("flaskdesk").error("still recorded")
    assert "still recorded" in _flush(path)

    ensure_std_streams()
    try:
        assert sys.stdout is not None and sys.stderr is not None
        print("goes nowhere, and does not raise")
        sys.stderr.write("neither does this\n")
        assert sys.stdout.name == os.devnull
        # devnull stand-ins are not a console: no stderr handler on a second call either
        configure_logging(tmp_path, name="windowed", dev=False)
        assert len(_ours(logging.getLogger("flaskdesk"))) == 1
    finally:
        sys.stdout.close()
        sys.stderr.close()


def test_ensure_std_streams_keeps_real_streams() -> None:
    stdout, stderr, stdin = sys.stdout, sys.stderr, sys.stdin
    ensure_std_streams()
    assert (sys.stdout, sys.stderr, sys.stdin) == (stdout, stderr, stdin)


def test_unwritable_log_dir_is_a_data_dir_error(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    with pytest.raises(DataDirError, match=r"Cannot write the log file .*blocker"):
        configure_logging(blocker / "log", name="blocked", dev=False)


def test_unconfigure_removes_every_handler(tmp_path: Path) -> None:
    configure_logging(tmp_path, name="removed", dev=False, app_logger="logs_test_app")
    unconfigure_logging()
    for name in [*BASE_LOGGERS, "logs_test_app"]:
        assert _ours(logging.getLogger(name)) == []
