"""Start-up's freed memory handed back to the OS (``flaskdesk._heap``) and when the window does it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from flaskdesk.ui import backend

FIXTURE = Path(__file__).parent / "fixtures" / "lifecycle"

#: Fragments glibc's heap as start-up does (most blocks freed, a few kept between them, so freeing
#: never shrinks the heap's top by itself), then releases; prints the MB the resident set shrank.
FRAGMENTED_HEAP = textwrap.dedent(
    """
    from flaskdesk._heap import release_freed_memory, resident_bytes
    blocks = [bytearray(4000) for _ in range(20000)]
    kept = blocks[::50]
    del blocks
    before = resident_bytes()
    trimmed = release_freed_memory()
    print(trimmed, (before - resident_bytes()) / 2**20)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_heap_pages_go_back_to_the_os() -> None:
    out = subprocess.run(
        [sys.executable, "-c", FRAGMENTED_HEAP], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out[0] == "True"
    assert float(out[1]) > 40  # of the ~76 MB freed


def test_the_apps_first_page_triggers_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    released: list[str] = []
    monkeypatch.setattr(backend, "_MEMORY_SETTLE_SECONDS", 0.0)
    monkeypatch.setattr(backend, "release_freed_memory", lambda: released.append("now"))
    loaded = backend._once_settled(on_load=2)  # the splash's (or scheme's blank page's) load first
    loaded()
    time.sleep(0.2)
    assert released == []
    loaded()  # the app's page
    deadline = time.monotonic() + 5
    while not released and time.monotonic() < deadline:
        time.sleep(0.01)
    loaded()
    time.sleep(0.2)
    assert released == ["now"]


@pytest.mark.window
@pytest.mark.slow
@pytest.mark.parametrize("backend_name", ["qt", "gtk"])
def test_a_real_window_hands_memory_back_after_its_first_page(
    x_display: str, tmp_path: Path, backend_name: str
) -> None:
    from flaskdesk.testing.driver import AppDriver

    env = {**os.environ, "DISPLAY": x_display, "FLASKDESK_GUI": backend_name}
    with AppDriver.from_source(
        "lifecycle_app:create_app()", cwd=FIXTURE, env=env, data_dir=tmp_path / "data", artifacts_dir=tmp_path
    ) as app:
        deadline = time.monotonic() + 15
        while "freed memory handed back" not in app.log_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "freed memory handed back to the OS" in app.log_text()
        assert app.text("body")  # the page still answers
        assert app.close() == 0
