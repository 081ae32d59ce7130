"""The only "am I frozen?" code: where flaskdesk's own files, and the app's included ones, are found.

Everything else asks here instead of looking at ``sys.frozen`` or building paths from
``__file__``, so a PyInstaller build and a source checkout differ in one small module.
"""

from __future__ import annotations

import json
import os
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import find_pyproject
from .errors import ConfigError

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

#: Where, relative to :func:`bundle_dir`, a frozen build keeps its resolved configuration.
BAKED_CONFIG = "flaskdesk/baked-config.json"


def is_frozen() -> bool:
    """True inside a PyInstaller build (which sets both ``sys.frozen`` and ``sys._MEIPASS``)."""
    return bool(getattr(sys, "frozen", False)) and hasattr(sys, "_MEIPASS")


def bundle_dir() -> Path:
    """The folder the app's bundled files live in.

    Frozen: PyInstaller's unpack folder (``sys._MEIPASS``). From source: the folder that contains
    the ``flaskdesk`` package, so ``bundle_dir() / "flaskdesk"`` means the same in both.
    """
    if is_frozen():
        return Path(getattr(sys, "_MEIPASS"))  # noqa: B009 - mypy does not know the attribute
    return Path(__file__).resolve().parent.parent


def package_file(relative: str) -> Traversable:
    """One of flaskdesk's own assets (``"ui/js/flaskdesk.js"``), via ``importlib.resources``.

    Works from a wheel, a source checkout and a PyInstaller build alike (our hook collects the
    files); never build these paths from ``__file__``.
    """
    parts = relative.replace("\\", "/").split("/")
    if relative.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"package_file() takes a plain relative path inside flaskdesk, not {relative!r}")
    node = resources.files("flaskdesk")
    for part in parts:  # one part per call: Python 3.10's joinpath takes a single name
        node = node.joinpath(part)
    return node


def project_path(relative: str, *, start: str | os.PathLike[str] | None = None) -> Path:
    """A project file by its path relative to the project folder, from source and frozen alike.

    This is how an app reads what ``[tool.flaskdesk] include`` bundles:
    ``project_path("data/rates.csv")``. Frozen, the build put the file at that same relative path
    in the bundle (:func:`bundle_dir`). From source, the path is taken from the project folder: the
    nearest folder holding ``pyproject.toml`` at or above ``start``, which defaults to the current
    Flask app's ``root_path`` (else the current directory); without a ``pyproject.toml``, ``start``
    itself. The path is returned whether or not the file exists.
    """
    parts = relative.replace("\\", "/").split("/")
    if not relative.strip() or relative.startswith("/") or Path(relative).drive or ".." in parts:
        raise ValueError(f"project_path() takes a path relative to the project folder, not {relative!r}")
    if is_frozen():
        return bundle_dir().joinpath(*parts)
    if start is None:
        from flask import current_app, has_app_context

        start = current_app.root_path if has_app_context() else os.getcwd()
    folder = Path(start).resolve()
    if not folder.is_dir():
        folder = folder.parent
    pyproject = find_pyproject(folder)
    return (pyproject.parent if pyproject is not None else folder).joinpath(*parts)


def baked_config_path() -> Path | None:
    """Where a frozen build stores its resolved configuration; ``None`` when running from source."""
    if not is_frozen():
        return None
    return bundle_dir() / BAKED_CONFIG


def load_baked_config() -> dict[str, Any] | None:
    """The configuration baked into a frozen build, or ``None`` from source (or if none was baked)."""
    path = baked_config_path()
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(
            f"The configuration baked into this build ({path}) cannot be read: {error}. The build is "
            "damaged; rebuild the app with `flaskdesk build` (or reinstall it)."
        ) from error
    if not isinstance(data, dict):
        raise ConfigError(
            f"The configuration baked into this build ({path}) is not a JSON object. The build is "
            "damaged; rebuild the app with `flaskdesk build` (or reinstall it)."
        )
    return data
