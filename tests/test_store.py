"""``desktop.settings``: the JSON settings store, its atomic writes, and what it does with a bad file."""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from flask import Flask

from flaskdesk import DataDirError, Desktop
from flaskdesk.store import SettingsStore, atomic_write


def test_a_new_store_is_empty_and_writes_on_every_change(tmp_path: Path) -> None:
    path = tmp_path / "config" / "settings.json"
    store = SettingsStore(path)
    assert dict(store) == {}
    assert not path.exists()  # reading creates nothing
    store["theme"] = "dark"
    assert json.loads(path.read_text()) == {"theme": "dark"}
    store.update(width=3, recent=["a.txt"])
    assert json.loads(path.read_text()) == {"theme": "dark", "width": 3, "recent": ["a.txt"]}
    del store["width"]
    assert SettingsStore(path) == {"theme": "dark", "recent": ["a.txt"]}  # a fresh reader sees it all
    with pytest.raises(KeyError):
        del store["nothing"]
    store.clear()
    assert json.loads(path.read_text()) == {}


def test_defaults_fill_in_and_are_never_written(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    store = SettingsStore(path, defaults={"theme": "light", "zoom": 1.0})
    assert store["theme"] == "light" and store.get("zoom") == 1.0 and "zoom" in store
    assert sorted(store) == ["theme", "zoom"] and len(store) == 2
    store["theme"] = "dark"
    assert store["theme"] == "dark"
    assert json.loads(path.read_text()) == {"theme": "dark"}
    with pytest.raises(KeyError):
        store["missing"]


def test_only_json_data_is_accepted(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    with pytest.raises(TypeError, match="must be JSON data"):
        store["when"] = object()
    with pytest.raises(TypeError, match="must be JSON data"):
        store["nan"] = float("nan")
    with pytest.raises(TypeError, match="keys are strings"):
        store[3] = "x"  # type: ignore[index]
    assert not (tmp_path / "settings.json").exists()  # a refused update writes nothing


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[1, 2]", b"\xff\xfe garbage", b'"just a string"'],
    ids=["syntax", "list", "bytes", "str"],
)
def test_a_corrupt_file_is_set_aside_and_defaults_are_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    store = SettingsStore(path, defaults={"theme": "light"})
    with caplog.at_level(logging.WARNING, logger="flaskdesk"):
        assert dict(store) == {"theme": "light"}
    (aside,) = tmp_path.glob("settings.json.corrupt-*")
    assert aside.read_bytes() == content  # kept for the user (or support) to look at
    assert not path.exists()
    assert "moved it to" in caplog.text and str(aside) in caplog.text
    store["theme"] = "dark"
    assert json.loads(path.read_text()) == {"theme": "dark"}


def test_an_unwritable_folder_is_a_data_dir_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = SettingsStore(blocker / "settings.json")
    with pytest.raises(DataDirError, match=r"Cannot (read|save) the settings file .*Not a directory"):
        store["a"] = 1


def test_threads_can_write_at_once(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")

    def writer(n: int) -> None:
        for i in range(30):
            store[f"t{n}"] = i

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert json.loads((tmp_path / "settings.json").read_text()) == {f"t{n}": 29 for n in range(6)}
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]  # no temporary file left


def test_leftovers_of_a_killed_writer_are_removed(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = tmp_path / f".settings.json.{int(dead.stdout)}.abc123.tmp"
    stale.write_text("{half")
    mine_in_flight = tmp_path / f".settings.json.{os.getppid()}.xyz.tmp"  # a live process's: kept
    mine_in_flight.write_text("{")
    assert dict(SettingsStore(path)) == {}
    assert not stale.exists()
    assert mine_in_flight.exists()


def test_desktop_settings_lives_in_the_config_dir_and_works_before_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASKDESK_DATA_DIR", str(tmp_path))
    desktop = Desktop(name="Store Test")
    store = desktop.settings  # nothing is resolved yet: the app comes later
    assert store is desktop.settings
    app = Flask("store_test")
    desktop.init_app(app)
    store["recent"] = ["/tmp/a.txt"]
    assert store.path == tmp_path / "Store Test" / "config" / "settings.json"
    assert json.loads(store.path.read_text()) == {"recent": ["/tmp/a.txt"]}
    assert desktop.launch_settings(app).name == "Store Test"


FORKER = """
import os, sys
sys.path[:0] = [p for p in sys.argv[2:]]
from pathlib import Path
from flaskdesk.store import SettingsStore

path = Path(sys.argv[1])
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:  # the writer: rewrites the file as fast as it can until it is killed
        store = SettingsStore(path)
        n = int(line)
        while True:
            n += 1
            size = (n * 7919) % 300_000
            store.update(n=n, size=size, data="x" * size)
    sys.stdout.write(f"{pid}\\n")
    sys.stdout.flush()
    os.waitpid(pid, 0)
    sys.stdout.write("reaped\\n")
    sys.stdout.flush()
"""


def check_file(path: Path) -> int:
    """The file parses and is one whole write (its parts agree); returns its counter."""
    data = json.loads(path.read_text())
    assert data["size"] == len(data["data"]) and set(data["data"]) <= {"x"}
    return int(data["n"])


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_writer_killed_at_random_moments_never_leaves_a_broken_file(tmp_path: Path) -> None:
    """1,000 times: a process rewriting the file (up to 300 kB a write) gets SIGKILL at a random moment.

    After every kill the file must parse and be exactly one of the writes. A forking helper
    process (imported once) starts each writer, so 1,000 runs take seconds, not minutes.
    """
    path = tmp_path / "settings.json"
    SettingsStore(path)["n"] = 0
    SettingsStore(path).update(n=0, size=0, data="")
    forker = subprocess.Popen(
        [sys.executable, "-c", FORKER, str(path), *sys.path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert forker.stdin is not None and forker.stdout is not None
    rng = random.Random(7)
    counters = []
    started = time.monotonic()
    try:
        for iteration in range(1000):
            forker.stdin.write(f"{iteration * 1_000_000}\n")
            forker.stdin.flush()
            pid = int(forker.stdout.readline())
            time.sleep(rng.uniform(0.0, 0.02))
            os.kill(pid, signal.SIGKILL)
            assert forker.stdout.readline() == "reaped\n"
            counters.append(check_file(path))
    finally:
        forker.stdin.close()
        forker.wait(10)
        forker.stdout.close()
    elapsed = time.monotonic() - started
    writes = sum(1 for n in counters if n % 1_000_000)
    assert writes > 500, f"the writers were killed before most of them wrote anything ({writes}/1000)"
    assert elapsed < 120
    # Leftover temporary files of killed writers are cleaned up by the next reader.
    assert SettingsStore(path)["size"] == len(SettingsStore(path)["data"])
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]


def test_atomic_write_replaces_in_one_step(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    atomic_write(path, b"one")
    atomic_write(path, b"two")
    assert path.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]
