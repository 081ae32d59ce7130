"""The resolved settings one launch runs with.

Every value comes from, in order: a command-line option, an environment variable, the project's
``[tool.flaskdesk]`` table (or, in a frozen build, the configuration baked into it), the
``Desktop(...)`` arguments, and finally the defaults below. Resolving happens once per launch, so
the source and the frozen app agree on the app's name and therefore on its data directories.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from . import resources
from .config import ProjectConfig, find_pyproject, load_project_config, project_config_from_dict, resolve


@dataclass(frozen=True)
class DesktopArgs:
    """What the app author passed to ``Desktop(...)``; ``None`` means "not given"."""

    title: str | None = None
    width: int | None = None
    height: int | None = None
    min_size: tuple[int, int] | None = None
    resizable: bool | None = None
    icon: str | os.PathLike[str] | None = None
    background_color: str | None = None
    backend: str | None = None
    name: str | None = None
    shutdown_timeout: float | None = None
    csp: str | None = None
    single_instance: bool | None = None
    transport: str | None = None


@dataclass(frozen=True)
class LaunchSettings:
    """Everything one launch needs, fully resolved."""

    name: str
    title: str
    width: int = 1000
    height: int = 700
    min_size: tuple[int, int] = (200, 100)
    resizable: bool = True
    icon: Path | None = None
    background_color: str = "#FFFFFF"
    backend: str | None = None
    shutdown_timeout: float = 10.0
    csp: str | None = None
    data_dir: Path | None = None
    version: str | None = None
    single_instance: bool = True
    #: ``"loopback"`` (HTTP on 127.0.0.1) or ``"scheme"`` (``app://``, in-process, no socket).
    transport: str = "loopback"


def project_config_for(root_path: str | os.PathLike[str]) -> ProjectConfig | None:
    """The app's ``[tool.flaskdesk]``: baked into a frozen build, else the nearest pyproject.toml."""
    baked = resources.load_baked_config()
    if baked is not None:
        return project_config_from_dict(
            baked.get("tool", {}),
            source="baked configuration",
            project=baked.get("project"),
            root=resources.bundle_dir(),
        )
    pyproject = find_pyproject(Path(root_path))
    if pyproject is None:
        return None
    return load_project_config(pyproject)


def resolve_settings(
    args: DesktopArgs,
    *,
    default_name: str,
    project: ProjectConfig | None,
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> LaunchSettings:
    """Apply the precedence rule field by field (a pure function: tests pass ``env`` explicitly)."""
    cli = cli or {}
    env = os.environ if env is None else env
    defaults = LaunchSettings(name=default_name, title=default_name)
    values: dict[str, Any] = {}
    for field in fields(LaunchSettings):
        key = field.name
        desktop_value = getattr(args, key, None)
        if key == "name" and desktop_value is None:
            desktop_value = args.title
        if key == "data_dir":
            desktop_value = None
        values[key] = resolve(
            key,
            cli=cli.get(key),
            env=env,
            project=project,
            desktop=desktop_value,
            default=getattr(defaults, key),
        )
    if values["icon"] is not None:
        values["icon"] = Path(values["icon"])
    if values["data_dir"] is not None:
        values["data_dir"] = Path(values["data_dir"])
    if values["title"] == default_name and args.title is None and values["name"] != default_name:
        values["title"] = values["name"]
    values["min_size"] = tuple(values["min_size"])
    return LaunchSettings(**values)
