"""Single instance: the lock, the hand-over socket and its secret, with real processes.

The whole app (two launches, a ``kill -9``) is in ``tests/test_desktop_features.py``; this file
covers the protocol and the rules for when the feature applies.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from flask import Flask

from flaskdesk import Desktop, SingleInstanceError
from flaskdesk.config import project_config_from_dict
from flaskdesk.features import single_instance_applies
from flaskdesk.instance import SECRET_NAME, SOCKET_NAME, SingleInstance, claim, hand_over
from flaskdesk.settings import DesktopArgs, resolve_settings

HOLD = """
import sys, time
from pathlib import Path
from flaskdesk.instance import SingleInstance
held = SingleInstance.try_lock(Path(sys.argv[1]))
print("held" if held else "refused", flush=True)
time.sleep(60)
"""


def test_the_first_claim_holds_and_a_later_one_hands_over(tmp_path: Path) -> None:
    got: list[tuple[list[str], str]] = []
    first = claim(tmp_path, ["app"], "/")
    assert isinstance(first, SingleInstance)
    first.listen(lambda argv, cwd: got.append((argv, cwd)))
    try:
        assert stat.S_IMODE((tmp_path / SOCKET_NAME).stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / SECRET_NAME).stat().st_mode) == 0o600
        later = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from flaskdesk.instance import claim; "
                "print(claim(Path(sys.argv[1]), ['app', 'doc.txt'], '/home/me'))",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert later.stdout.strip() == "None"  # handed over: the caller exits 0
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.02)
        assert got == [(["app", "doc.txt"], "/home/me")]
    finally:
        first.close()
    assert not (tmp_path / SOCKET_NAME).exists()
    again = claim(tmp_path, ["app"], "/")
    assert isinstance(again, SingleInstance)  # released: the next launch is the first
    again.close()


def test_the_lock_is_per_process_and_dies_with_it(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert SingleInstance.try_lock(tmp_path) is None
        holder.kill()  # SIGKILL: nothing is cleaned up
        holder.wait(10)
        mine = SingleInstance.try_lock(tmp_path)
        assert mine is not None
        mine.close()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)
        if holder.stdout is not None:
            holder.stdout.close()


def test_a_wrong_secret_is_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    got: list[object] = []
    first = claim(tmp_path, ["app"], "/")
    assert isinstance(first, SingleInstance)
    first.listen(lambda argv, cwd: got.append(argv))
    try:
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(str(tmp_path / SOCKET_NAME))
            client.sendall(json.dumps({"secret": "guess", "argv": ["x"], "cwd": "/"}).encode() + b"\n")
            assert json.loads(client.makefile().readline()) == {"ok": False, "error": "wrong secret"}
        with socket.socket(socket.AF_UNIX) as client:  # garbage, then hanging up
            client.connect(str(tmp_path / SOCKET_NAME))
            client.sendall(b"\x00\xff not json\n")
        assert hand_over(tmp_path, ["real"], "/")  # still serving after both
        time.sleep(0.2)
        assert got == [["real"]]
        assert "did not present the secret" in caplog.text
    finally:
        first.close()


def test_a_holder_that_never_answers_is_an_error_not_a_hang(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(SingleInstanceError, match="Another copy of this app is running"):
            claim(tmp_path, ["app"], "/", timeout=1.0)
        assert time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.wait(10)
        if holder.stdout is not None:
            holder.stdout.close()


def test_a_deep_data_dir_still_gets_its_socket(tmp_path: Path) -> None:
    folder = tmp_path / ("d" * 60) / ("e" * 60)  # longer than sockaddr_un allows
    first = claim(folder, ["app"], "/")
    assert isinstance(first, SingleInstance)
    got: list[list[str]] = []
    first.listen(lambda argv, cwd: got.append(argv))
    try:
        assert len(os.fsencode(folder / SOCKET_NAME)) > 108
        assert hand_over(folder, ["deep"], "/")
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.02)
        assert got == [["deep"]]
    finally:
        first.close()


def test_a_launch_while_the_first_is_still_starting_waits_for_it(tmp_path: Path) -> None:
    first = claim(tmp_path, ["app"], "/")
    assert isinstance(first, SingleInstance)
    got: list[list[str]] = []
    # The first instance starts listening only a moment later (its app is still loading).
    timer = threading.Timer(0.5, lambda: first.listen(lambda argv, cwd: got.append(argv)))
    timer.start()
    try:
        assert claim(tmp_path, ["second"], "/", timeout=10) is None
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.02)
        assert got == [["second"]]
    finally:
        timer.join()
        first.close()


def test_when_single_instance_applies(tmp_path: Path) -> None:
    def settings(args: DesktopArgs, table: dict[str, object] | None = None) -> object:
        project = project_config_from_dict(table or {}, source="test")
        return resolve_settings(args, default_name="app", project=project, env={})

    on = settings(DesktopArgs())
    assert single_instance_applies(on, None)  # type: ignore[arg-type]
    assert not single_instance_applies(on, object())  # type: ignore[arg-type]  # a test tool drives it
    assert not single_instance_applies(settings(DesktopArgs(single_instance=False)), None)  # type: ignore[arg-type]
    off = settings(DesktopArgs(single_instance=True), {"single-instance": False})  # pyproject wins
    assert not single_instance_applies(off, None)  # type: ignore[arg-type]
    assert Desktop(Flask("x"), single_instance=False).args.single_instance is False
