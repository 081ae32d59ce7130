"""The app from source in its real window (``desktop_window``: marked ``window``, ~1-2 s).

Everything goes through the page as a user would do it: the real forms (with their CSRF tokens),
the guard, and ``word_count`` called from static/app.js over the bridge.
"""

from __future__ import annotations

import time

from flaskdesk.testing.driver import AppDriver

from support import PASSWORD

#: Python's ``str.split()`` splits on U+001C..U+001F; JavaScript's ``\s`` (the page's own fallback
#: counter) does not. So this text counts 3 words only if the count came from Python.
ONLY_PYTHON_SEES_3_WORDS = "milk eggs\x1cbread"


def wait_for_text(window: AppDriver, selector: str, expected: str, timeout: float = 10.0) -> None:
    """Wait until ``selector``'s text is ``expected`` (the counter updates after a short debounce)."""
    deadline = time.monotonic() + timeout
    while (shown := window.text(selector)) != expected:
        assert time.monotonic() < deadline, f"{selector} shows {shown!r}, never {expected!r}"
        time.sleep(0.05)


def test_register_write_a_note_and_count_its_words(desktop_window: AppDriver) -> None:
    w = desktop_window
    assert "/auth/login?next=" in w.url  # a logged-out user is sent to the login page

    w.click('a[href="/auth/register"]')
    w.wait_for("#confirm")
    w.fill("#username", "ada")
    w.fill("#password", PASSWORD)
    w.fill("#confirm", PASSWORD)
    w.click("#submit")
    w.wait_for(".flash")
    assert w.text(".flash") == "Welcome, ada!"
    assert w.url.endswith("/notes/")
    assert "No notes yet." in w.text("main")

    w.click(".heading a.button")  # "New note"
    w.wait_for("#body[data-word-count]")
    wait_for_text(w, "#word-count", "0 words")
    w.fill("#title", "Groceries")
    w.fill("#body", "milk")
    wait_for_text(w, "#word-count", "1 word")
    w.fill("#body", ONLY_PYTHON_SEES_3_WORDS)
    wait_for_text(w, "#word-count", "3 words")
    assert w.evaluate("flaskdesk.api.word_count('one two')") == 2

    w.click("#submit")
    w.wait_for(".flash")
    assert w.text(".flash") == "Created “Groceries”."
    assert w.url.endswith("/notes/")
    assert w.text(".notes .note h2") == "Groceries"
    assert w.text(".notes .note .body") == "milk eggs\x1cbread"

    assert w.js_errors() == []
    assert "word_count through flaskdesk failed" not in w.output_text()
    assert w.close() == 0  # the window closed, requests drained, the app exited cleanly
