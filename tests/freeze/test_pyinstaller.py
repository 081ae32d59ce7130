"""Running PyInstaller: exact argv and environment, progress by stage, failures explained."""

from __future__ import annotations

from pathlib import Path

import pytest

from flaskdesk.freeze.errors import BuildError
from flaskdesk.freeze.pyinstaller import (
    StageTracker,
    explain_failure,
    pyinstaller_argv,
    pyinstaller_env,
    run_pyinstaller,
)
from flaskdesk.host import RecordingHost

# Trimmed from a real PyInstaller 6.22 run of the fixture app.
LOG = """\
169 INFO: PyInstaller: 6.22.3, contrib hooks: 2026.9
169 INFO: Building Analysis because Analysis-00.toc is non existent
183 INFO: Analyzing modules for base_library.zip ...
3057 INFO: Analyzing /proj/build/flaskdesk/flaskdesk_main.py
10164 INFO: Processing module hooks (post-graph stage)...
11890 INFO: Analyzing run-time hooks ...
11945 INFO: Looking for dynamic libraries
18259 INFO: Building PYZ because PYZ-00.toc is non existent
18259 INFO: Building PYZ (ZlibArchive) /proj/build/PYZ-00.pyz
18564 INFO: Building PYZ (ZlibArchive) /proj/build/PYZ-00.pyz completed successfully.
18583 INFO: Building PKG (CArchive) app.pkg
18593 INFO: Building EXE from EXE-00.toc
18606 INFO: Building COLLECT because COLLECT-00.toc is non existent
19182 INFO: Build complete! The results are available in: /proj/dist
""".splitlines()


def test_argv_is_exact() -> None:
    argv = pyinstaller_argv(
        "/py",
        Path("/p/build/flaskdesk/n.spec"),
        dist_dir=Path("/p/dist"),
        work_dir=Path("/p/build/flaskdesk/pyinstaller-onedir"),
        clean=True,
    )
    assert argv == [
        "/py",
        "-m",
        "PyInstaller",
        "/p/build/flaskdesk/n.spec",
        "--distpath",
        "/p/dist",
        "--workpath",
        "/p/build/flaskdesk/pyinstaller-onedir",
        "--noconfirm",
        "--log-level",
        "INFO",
        "--clean",
    ]


def test_env_is_reproducible_and_keeps_the_rest() -> None:
    env = pyinstaller_env(
        {"PATH": "/bin", "PYTHONHASHSEED": "random", "PYTHONDONTWRITEBYTECODE": "1"},
        source_date_epoch=1700000000,
    )
    assert env == {"PATH": "/bin", "PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": "1700000000"}


def test_stage_tracker_reports_each_stage_once() -> None:
    events: list[tuple[str, str]] = []
    tracker = StageTracker(lambda stage, detail: events.append((stage, detail)))
    for line in LOG:
        tracker.feed(line)
    assert [stage for stage, _ in events] == [
        "Analysis",
        "Analysis: standard library",
        "Analysis: your app and its imports",
        "Analysis: running hooks",
        "Analysis: collecting shared libraries",
        "PYZ",
        "PKG",
        "EXE",
        "COLLECT",
    ]
    assert events[0] == ("Analysis", "finding modules, hooks and libraries")


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        ("ERROR: Unable to find '/p/assets' when adding binary and data files.", "missing: /p/assets"),
        ("ModuleNotFoundError: No module named 'flask_babel'", "flask_babel is not installed"),
        ("OSError: [Errno 28] No space left on device", "free some disk space"),
        ("PermissionError: [Errno 13] Permission denied: '/p/dist/n/n'", "not writable"),
        ("something else entirely", "--clean"),
    ],
)
def test_failure_hints(line: str, hint: str) -> None:
    assert hint in explain_failure(["INFO: start", line]).hint


def test_failure_lines_are_the_traceback() -> None:
    lines = [*LOG[:5], "Traceback (most recent call last):", '  File "x", line 1', "ValueError: bad spec"]
    assert explain_failure(lines).lines == (
        "Traceback (most recent call last):",
        '  File "x", line 1',
        "ValueError: bad spec",
    )
    assert explain_failure([*LOG[:3], "123 ERROR: hook failed", "INFO: more"]).lines == (
        "123 ERROR: hook failed",
    )


def test_run_pyinstaller_failure_quotes_the_log(tmp_path: Path) -> None:
    host = RecordingHost(
        responder=lambda argv, kw: (
            1,
            [*LOG[:4], "4000 ERROR: Unable to find '/x' when adding binary and data files."],
        )
    )
    stages: list[str] = []
    with pytest.raises(BuildError) as info:
        run_pyinstaller(
            host,
            ["/py", "-m", "PyInstaller"],
            cwd=tmp_path,
            env={},
            log_file=tmp_path / "log",
            on_stage=lambda stage, detail: stages.append(stage),
        )
    message = str(info.value)
    assert "exit status 1" in message
    assert "during Analysis: your app and its imports" in message
    assert "Unable to find '/x'" in message
    assert f"Full log: {tmp_path / 'log'}" in message
    assert (tmp_path / "log").read_text().count("\n") == 5
