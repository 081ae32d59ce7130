"""Render the project template (``scaffold/project/``) for ``flaskdesk new``.

Planning is apart from doing: :func:`plan_project` validates the names and returns every file
as bytes (a pure function of its arguments and the template files), and :func:`write_project`
writes a plan into a folder that is new or empty, creating each file exclusively so nothing
that already exists is ever overwritten.

Template rules: a file ending in ``.tmpl`` has ``{{key}}`` (no spaces) replaced by the project's
values and loses the suffix; every other file is copied byte for byte, so the project's Jinja
templates (written ``{{ expression }}``, with spaces) pass through untouched. A path part named
``__package__`` becomes the package name, and a leading ``dot-`` becomes ``.`` (package data
cannot ship dotfiles reliably).
"""

from __future__ import annotations

import contextlib
import keyword
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path, PurePosixPath

from ..errors import ConfigError
from .icon import app_icon

TEMPLATE_SUFFIX = ".tmpl"
PACKAGE_PLACEHOLDER = "__package__"
ICON_PATH = "packaging/icon.png"
ICON_SIZE = 512

_DISTRIBUTION = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
_PLACEHOLDER = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}")
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)+")
_TITLE = re.compile(r"[\w][\w .,'!()-]{0,59}")
#: Package names that would shadow what the project itself imports, or a folder of the project.
_RESERVED_PACKAGES = frozenset(
    {
        "flask",
        "flaskdesk",
        "werkzeug",
        "jinja2",
        "markupsafe",
        "itsdangerous",
        "click",
        "blinker",
        "webview",
        "waitress",
        "platformdirs",
        "pytest",
        "setuptools",
        "pip",
        "test",
        "tests",
        "packaging",
        "build",
        "dist",
        "docs",
        "instance",
        "static",
        "templates",
    }
)


@dataclass(frozen=True)
class ProjectNames:
    """The names a new project is known by."""

    name: str  # distribution name, as typed: "my-app"
    package: str  # import name: "my_app"
    title: str  # window title: "My App"
    identifier: str  # reverse-DNS id: "org.example.MyApp"

    def context(self, flaskdesk_version: str) -> dict[str, str]:
        return {
            "name": self.name,
            "package": self.package,
            "title": self.title,
            "identifier": self.identifier,
            "flaskdesk_version": flaskdesk_version,
        }


@dataclass(frozen=True)
class PlannedFile:
    """One file of the new project: its path relative to the project folder, and its bytes."""

    path: PurePosixPath
    content: bytes


def project_names(name: str, *, title: str | None = None, identifier: str | None = None) -> ProjectNames:
    """Check ``name`` (and the optional overrides) and derive the other names from it."""
    if not _DISTRIBUTION.fullmatch(name):
        raise ConfigError(
            f"{name!r} is not a valid project name. Use letters, digits, '-', '_' and '.', starting and "
            "ending with a letter or digit, for example 'my-app'."
        )
    package = re.sub(r"[-_.]+", "_", name).lower()
    if not package.isidentifier() or not package[0].isalpha():
        raise ConfigError(
            f"{name!r} cannot be a Python package name (it becomes {package!r}, which must start with a "
            "letter). Pick a name that starts with a letter, for example 'app-" + name.lower() + "'."
        )
    if keyword.iskeyword(package) or package in sys.stdlib_module_names or package in _RESERVED_PACKAGES:
        raise ConfigError(
            f"{name!r} would make a package named {package!r}, which hides a module of the same name that "
            "Python, Flask, flaskdesk or the project layout needs. Pick another name, for example "
            f"'my-{name.lower()}'."
        )
    words = [word for word in re.split(r"[-_.]+", name) if word]
    if title is None:
        title = " ".join(word[:1].upper() + word[1:] for word in words)
    elif not _TITLE.fullmatch(title.strip()):
        raise ConfigError(
            f"--title {title!r} is not a usable window title: use up to 60 letters, digits, spaces and "
            "simple punctuation (. , ' ! ( ) -)."
        )
    if identifier is None:
        identifier = "org.example." + "".join(word[:1].upper() + word[1:] for word in words)
    elif not _IDENTIFIER.fullmatch(identifier):
        raise ConfigError(
            f"--identifier {identifier!r} is not a reverse-DNS identifier: write two or more dot-separated "
            "parts, each starting with a letter and using letters, digits, '-' and '_', for example "
            "'com.example.MyApp'."
        )
    return ProjectNames(name=name, package=package, title=title.strip(), identifier=identifier)


def render_text(text: str, context: Mapping[str, str], *, source: str = "<template>") -> str:
    """Replace each ``{{key}}``; an unknown key is a bug in the template and raises."""

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in context:
            raise KeyError(f"{source}: unknown placeholder {{{{{key}}}}}")
        return context[key]

    return _PLACEHOLDER.sub(substitute, text)


def template_root() -> Traversable:
    """The project template shipped inside flaskdesk."""
    return resources.files(__package__ or "flaskdesk.scaffold").joinpath("project")


def _walk(node: Traversable, prefix: PurePosixPath) -> Iterator[tuple[PurePosixPath, Traversable]]:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name == "__pycache__":
            continue
        if child.is_dir():
            yield from _walk(child, prefix / child.name)
        else:
            yield prefix / child.name, child


def _target_path(template_path: PurePosixPath, package: str) -> PurePosixPath:
    parts = []
    for part in template_path.parts:
        if part == PACKAGE_PLACEHOLDER:
            part = package
        if part.startswith("dot-"):
            part = "." + part[len("dot-") :]
        if part.endswith(TEMPLATE_SUFFIX):
            part = part[: -len(TEMPLATE_SUFFIX)]
        parts.append(part)
    return PurePosixPath(*parts)


def plan_project(
    names: ProjectNames, *, flaskdesk_version: str, root: Traversable | None = None
) -> list[PlannedFile]:
    """Every file of the new project, in path order (the icon is drawn here)."""
    context = names.context(flaskdesk_version)
    planned: list[PlannedFile] = []
    for template_path, node in _walk(root or template_root(), PurePosixPath()):
        content = node.read_bytes()
        if template_path.name.endswith(TEMPLATE_SUFFIX):
            content = render_text(content.decode("utf-8"), context, source=str(template_path)).encode("utf-8")
        planned.append(PlannedFile(_target_path(template_path, names.package), content))
    planned.append(PlannedFile(PurePosixPath(ICON_PATH), app_icon(names.name, ICON_SIZE)))
    planned.sort(key=lambda f: f.path.parts)
    return planned


def check_target(target: Path) -> None:
    """Refuse a target that is a file, or a folder that is not empty."""
    if target.is_symlink() and not target.exists():
        raise ConfigError(f"{target} is a broken symbolic link. Remove it or choose another folder.")
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target} exists and is not a folder. Choose another name or --directory.")
    if target.is_dir() and any(target.iterdir()):
        raise ConfigError(
            f"{target} already exists and is not empty. flaskdesk new never overwrites files: choose another "
            "name, pass --directory with a new or empty folder, or move the existing folder away."
        )


def write_project(plan: list[PlannedFile], target: Path) -> list[Path]:
    """Write ``plan`` under ``target`` (new or empty); every file is created exclusively.

    On any failure the files and folders created so far are removed again, and the error
    propagates, so a failed ``flaskdesk new`` leaves nothing half-made behind.
    """
    check_target(target)
    created_dirs: list[Path] = []
    written: list[Path] = []
    try:
        if not target.exists():
            target.mkdir(parents=True)
            created_dirs.append(target)
        for item in plan:
            path = target.joinpath(*item.path.parts)
            for folder in reversed(path.parents):
                if folder != target and target in folder.parents and not folder.exists():
                    folder.mkdir()
                    created_dirs.append(folder)
            with open(path, "xb") as stream:  # "x": fail rather than overwrite
                written.append(path)
                stream.write(item.content)
    except OSError as error:
        for path in reversed(written):
            with contextlib.suppress(OSError):
                path.unlink()
        for folder in reversed(created_dirs):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise ConfigError(
            f"Could not create the project in {target}: {error}. Nothing was left behind."
        ) from error
    return written


def relative_listing(target: Path, written: list[Path]) -> list[str]:
    """The written files relative to ``target``, for the CLI's summary."""
    return [os.fspath(path.relative_to(target)) for path in written]
