"""The desktop side of the app: the window's settings and the one function its pages call from JavaScript."""

from __future__ import annotations

from flaskdesk import Desktop

desktop = Desktop(title="Notes", width=1000, height=700, background_color="#1f2430")


@desktop.expose
def word_count(text: str) -> int:
    """The number of whitespace-separated words in ``text`` (the editor's live counter)."""
    if not isinstance(text, str):
        raise TypeError(f"word_count() expects text, not {type(text).__name__}")
    return len(text.split())
