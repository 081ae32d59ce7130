"""Shared fixtures: a virtual display for real-window tests, a private D-Bus session bus, leak detection
for server threads, and a normal user to run an app as (so Chromium's sandbox runs)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir={tmp}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def _display_is_up(display: str) -> bool:
    probe = subprocess.run(
        ["xdpyinfo", "-display", display], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return probe.returncode == 0


@pytest.fixture(scope="session")
def x_display() -> Iterator[str]:
    """A running X display: the one in ``$DISPLAY`` if it answers, else a private Xvfb started here."""
    existing = os.environ.get("DISPLAY")
    if existing and shutil.which("xdpyinfo") and _display_is_up(existing):
        yield existing
        return
    if not shutil.which("Xvfb"):
        pytest.fail("Xvfb is missing: run scripts/system-deps.sh (it installs xvfb and the window libraries)")
    number = 90 + (os.getpid() % 500)
    display = f":{number}"
    proc = subprocess.Popen(
        # -noreset: no server reset when the last client leaves (a client connecting meanwhile is
        # refused: one such "could not connect to display" failed a CI run).
        ["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not _display_is_up(display):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"Xvfb did not start on {display}")
        time.sleep(0.05)
    os.environ["DISPLAY"] = display
    try:
        yield display
    finally:
        proc.terminate()
        proc.wait(5)
        if existing is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = existing


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves flaskdesk server threads running (an orphaned server is a defect)."""
    before = {t.ident for t in threading.enumerate()}
    yield
    deadline = time.monotonic() + 2
    while True:
        leaked = [
            t
            for t in threading.enumerate()
            if t.ident not in before and t.is_alive() and t.name.startswith("flaskdesk")
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not leaked, f"threads left running: {[t.name for t in leaked]}"


@pytest.fixture
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every per-user directory (XDG data/config/state/cache) into the test's temp dir."""
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        path = tmp_path / var.lower()
        path.mkdir()
        monkeypatch.setenv(var, str(path))
    return tmp_path


@pytest.fixture
def private_bus(tmp_path: Path) -> Iterator[str]:
    """The address of a private D-Bus session bus (``dbus-daemon --nofork``) that activates no services."""
    config = tmp_path / "session-bus.conf"
    config.write_text(_BUS_CONFIG.format(tmp=tmp_path))
    process = subprocess.Popen(
        ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    try:
        address = process.stdout.readline().strip()  # printed once it listens
        assert address.startswith("unix:"), "dbus-daemon did not start (scripts/system-deps.sh)"
        yield address
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()


#: The unprivileged user the sandbox tests run apps as (``nobody``).
NOBODY = 65534


@dataclass(frozen=True)
class Unprivileged:
    """How to run a program as a normal user, who gets Chromium's sandbox (root does not).

    ``prefix`` goes in front of the command; ``home`` is a folder that user owns (``tmp_path`` is
    root's alone).
    """

    prefix: tuple[str, ...]
    home: Path

    def hand_over(self, path: Path) -> None:
        """Make ``path`` (written by the tests) that user's, as if they had made it."""
        if self.prefix:
            subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(path)], check=True)

    def assert_chromium_sandboxed(self, root: int) -> None:
        """Qt WebEngine under ``root`` (a pid) runs sandboxed, from one zygote.

        The renderer is under seccomp, in a user namespace of its own, with no capabilities; the
        unsandboxed zygote is left out (flaskdesk's ``--no-unsandboxed-zygote``); no ``--no-sandbox``.
        """
        from benchmarks.harness import process_tree

        cmdlines = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in process_tree(root)}
        zygotes = [pid for pid, argv in cmdlines.items() if b"--type=zygote" in argv]
        assert zygotes, f"no Chromium zygote in the tree: {cmdlines}"
        environ = (
            Path(f"/proc/{zygotes[0]}/environ").read_bytes().split(b"\0")
        )  # as flaskdesk left it for Chromium
        flags = next(
            (e.split(b"=", 1)[1].decode() for e in environ if e.startswith(b"QTWEBENGINE_CHROMIUM_FLAGS=")),
            "",
        )
        assert "--no-unsandboxed-zygote" in flags.split() and "--no-sandbox" not in flags.split(), flags
        assert not [pid for pid in zygotes if b"--no-zygote-sandbox" in cmdlines[pid]]
        sandboxed = [pid for pid in zygotes if _status_field(pid, "Seccomp") == "2"]
        assert sandboxed, "no Chromium process runs under seccomp: the sandbox is off"
        own_namespace = os.readlink("/proc/self/ns/user")
        for pid in sandboxed:
            assert int(_status_field(pid, "CapEff"), 16) == 0
            assert os.readlink(f"/proc/{pid}/ns/user") != own_namespace


def _status_field(pid: int, name: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    return ""


@pytest.fixture
def unprivileged() -> Iterator[Unprivileged]:
    """A normal user to run an app as: ``nobody`` when the tests run as root, else the tests' own user."""
    from benchmarks.harness import as_user

    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        prefix = tuple(as_user(NOBODY))
        userns = subprocess.run([*prefix, "unshare", "-Ur", "true"], capture_output=True, text=True)
        if userns.returncode != 0:
            pytest.skip(f"unprivileged user namespaces are off, Chromium cannot sandbox: {userns.stderr}")
    user = Unprivileged(prefix, Path(tempfile.mkdtemp(prefix="flaskdesk-user-")))
    user.hand_over(user.home)
    try:
        yield user
    finally:
        shutil.rmtree(user.home, ignore_errors=True)
