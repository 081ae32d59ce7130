"""Export and import through the real window: the native save dialog and the native file chooser.

``send_file(..., as_attachment=True)`` opens a save dialog and ``<input type=file>`` a file chooser;
both are real Qt dialogs here, answered with xdotool by typing a path and pressing Enter (as in
flaskdesk's own tests/test_desktop_features.py). Needs xdotool; skipped without it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flaskdesk.testing.driver import AppDriver

from support import PASSWORD

pytestmark = [
    pytest.mark.timeout(150),
    pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool answers the native dialogs"),
]


class X:
    """xdotool on the window's display."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = {**os.environ, **env}

    def run(self, *args: str) -> str:
        done = subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=20)
        return done.stdout

    def find(self, name: str) -> list[str]:
        return self.run("search", "--onlyvisible", "--name", name).split()

    def wait_window(self, name: str, timeout: float = 20) -> str:
        return wait_until(lambda: (self.find(name) or [None])[-1], timeout, f"a window named {name!r}")

    def focus(self, window_id: str) -> None:
        self.run("windowfocus", "--sync", window_id)

    def answer(self, dialog: str, text: str) -> str:
        """Type ``text`` into the dialog named ``dialog`` (replacing what is there) and press Enter."""
        window_id = self.wait_window(dialog)
        time.sleep(0.6)  # the dialog lays itself out and puts the focus in its name field
        self.focus(window_id)
        self.run("key", "ctrl+a")
        self.run("type", "--delay", "15", text)
        for _attempt in range(4):
            time.sleep(0.5)
            if window_id not in self.find(dialog):
                break
            self.focus(window_id)
            self.run("key", "Return")
        return window_id

    def click(self, window_id: str, x: int, y: int) -> None:
        self.run("mousemove", "--window", window_id, str(x), str(y), "click", "1")

    def height(self, window_id: str) -> int:
        out = self.run("getwindowgeometry", "--shell", window_id)
        return int(dict(line.split("=") for line in out.split())["HEIGHT"])


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)
    return value


def real_click(x: X, w: AppDriver, selector: str) -> None:
    """A real mouse click (a user gesture, which a file input needs to open its chooser)."""
    window = wait_until(
        lambda: (x.run("search", "--onlyvisible", "--pid", str(w.pid)).split() or [None])[-1],
        20,
        "the app's window",
    )
    left, top = w.evaluate(
        f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
        " return [r.left + Math.min(40, r.width / 2), r.top + r.height / 2]; })()"
    )
    offset = x.height(window) - int(w.evaluate("window.innerHeight"))  # the menu bar, if any
    x.click(window, int(left), int(top) + offset)


def register(w: AppDriver, username: str) -> None:
    w.click('a[href="/auth/register"]')
    w.wait_for("#confirm")
    w.fill("#username", username)
    w.fill("#password", PASSWORD)
    w.fill("#confirm", PASSWORD)
    w.click("#submit")
    w.wait_for(".flash")
    assert w.text(".flash") == f"Welcome, {username}!"


def test_export_through_the_save_dialog_and_import_through_the_file_chooser(
    desktop_window: AppDriver, flaskdesk_display: Any, tmp_path: Path
) -> None:
    w = desktop_window
    x = X(flaskdesk_display.env())
    register(w, "ada")

    w.click(".heading a.button")  # "New note"
    w.wait_for("#title")
    w.fill("#title", "Groceries")
    w.fill("#body", "milk eggs bread")
    w.click("#submit")
    w.wait_for(".flash")
    assert w.text(".flash") == "Created “Groceries”."
    assert w.text(".notes .note h2") == "Groceries"

    # Export: the attachment goes through the native save dialog to the path typed into it.
    saved = tmp_path / "exported" / "my-notes.json"
    saved.parent.mkdir()
    w.click('a[href="/notes/export"]')
    x.answer("^Save$", str(saved))
    wait_until(lambda: saved.exists() and saved.read_text().endswith("\n"), 15, "the exported file")
    document = json.loads(saved.read_text(encoding="utf-8"))
    assert document["format"] == "flaskdesk-notes"
    assert document["version"] == 1
    assert [(n["title"], n["body"]) for n in document["notes"]] == [("Groceries", "milk eggs bread")]
    assert w.url.endswith("/notes/")  # the page stayed where it was

    # Delete the note, then import the file back through the native file chooser.
    w.click(".note form.inline button")
    w.wait_for(".empty")  # the list page again, now without notes
    assert w.text(".flash") == "Deleted “Groceries”."
    assert "No notes yet." in w.text("main")

    real_click(x, w, "#file")
    x.answer("^(Open|Upload|Select|Choose)", str(saved))
    wait_until(lambda: w.evaluate("document.getElementById('file').files.length") == 1, 15, "the chosen file")
    assert w.evaluate("document.getElementById('file').files[0].name") == "my-notes.json"
    w.click(".transfer #submit")
    w.wait_for(".notes .note")
    assert w.text(".flash") == "Imported 1 note."
    assert w.url.endswith("/notes/")
    assert w.text(".notes .note h2") == "Groceries"
    assert w.text(".notes .note .body") == "milk eggs bread"

    assert w.js_errors() == []
    assert w.close() == 0
