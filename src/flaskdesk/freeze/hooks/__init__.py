"""flaskdesk's PyInstaller hook folder, registered through the ``pyinstaller40`` entry point.

PyInstaller finds these hooks in any build that imports flaskdesk, including a hand-written
spec, so a frozen flaskdesk app always carries its JavaScript shim and page templates.
"""

from __future__ import annotations

from pathlib import Path


def get_hook_dirs() -> list[str]:
    """The folders holding our ``hook-*.py`` files (PyInstaller's entry-point protocol)."""
    return [str(Path(__file__).resolve().parent)]
