"""The project's ``[tool.flaskdesk]`` table, parsed into a frozen dataclass, and the precedence rule.

Every key is optional and validated when the file is read, so a typo or a wrong type fails at
once with the key, the file and what was expected, instead of silently doing nothing at run time.
Unknown keys are errors for the same reason.

One rule decides every setting: command-line option, then environment variable, then
``[tool.flaskdesk]``, then ``Desktop(...)`` arguments, then the default. :func:`resolve` applies it
as a pure function (the environment is passed in), so it is the same in a source run, a frozen
build and the tests.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar, cast

from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

T = TypeVar("T")

#: Setting (field name) → the environment variable that overrides it.
#: ``data_dir`` is not a ``[tool.flaskdesk]`` key: it moves the whole per-user data root (test
#: runs and ``build --check`` point it at a fresh temporary folder).
ENV_VARS: Mapping[str, str] = MappingProxyType(
    {
        "backend": "FLASKDESK_GUI",
        "name": "FLASKDESK_NAME",
        "shutdown_timeout": "FLASKDESK_SHUTDOWN_TIMEOUT",
        "transport": "FLASKDESK_TRANSPORT",
        "data_dir": "FLASKDESK_DATA_DIR",
    }
)

BACKENDS = ("qt", "gtk", "auto")
TRANSPORTS = ("loopback", "scheme")
FILE_TYPE_ROLES = ("editor", "viewer")

# Schemes the browser engine or the OS already owns; registering them would hijack the web.
_RESERVED_SCHEMES = frozenset(
    {"http", "https", "file", "ftp", "data", "javascript", "about", "blob", "ws", "wss"}
)
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)+")
_COLOR = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
_LOCALE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*")
_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*", re.IGNORECASE)
_EXTENSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+-]*(\.[A-Za-z0-9][A-Za-z0-9_+-]*)*")
_TOML_POSITION = re.compile(r"at line (\d+), column (\d+)")


@dataclass(frozen=True)
class FileType:
    """One entry of ``file-types``: documents the app opens when the user double-clicks them."""

    extensions: tuple[str, ...]
    name: str | None = None
    mime_type: str | None = None
    icon: Path | None = None
    role: str = "editor"


@dataclass(frozen=True)
class ProjectConfig:
    """Every ``[tool.flaskdesk]`` key (kebab-case in TOML, snake_case here); ``None`` means "not set".

    "Not set" is kept apart from any real value so that :func:`resolve` can fall through to the
    ``Desktop(...)`` arguments and the defaults. Lists become tuples so the object stays immutable.
    ``source`` (where the table came from) and ``root`` (the folder relative paths are taken
    from) are bookkeeping, not keys.
    """

    app: str | None = None
    name: str | None = None
    identifier: str | None = None
    version: str | None = None
    title: str | None = None
    width: int | None = None
    height: int | None = None
    min_size: tuple[int, int] | None = None
    resizable: bool | None = None
    icon: Path | None = None
    background_color: str | None = None
    backend: str | None = None
    transport: str | None = None
    shutdown_timeout: float | None = None
    csp: str | None = None
    single_instance: bool | None = None
    onefile: bool | None = None
    first_run: tuple[str, ...] | None = None
    on_upgrade: tuple[str, ...] | None = None
    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] | None = None
    file_types: tuple[FileType, ...] | None = None
    url_schemes: tuple[str, ...] | None = None
    dev_reload_extra: tuple[str, ...] | None = None
    locales: tuple[str, ...] | None = None
    source: str = "<defaults>"
    root: Path | None = None

    def to_table(self) -> dict[str, Any]:
        """The set keys as a ``[tool.flaskdesk]``-shaped dict (kebab-case, JSON-friendly values).

        Feeding it back to :func:`project_config_from_dict` gives an equal config, which is what
        a frozen build needs to bake the resolved configuration into itself.
        """
        table: dict[str, Any] = {}
        for key, spec in _KEYS.items():
            value = getattr(self, spec.attr)
            if value is not None:
                table[key] = _to_plain(value)
        return table


class _Invalid(Exception):
    """A value failed validation; ``expected`` says what would have been accepted."""

    def __init__(self, expected: str, key: str | None = None, value: object = None) -> None:
        super().__init__(expected)
        self.expected = expected
        #: Set for a part of the value (``"[2]"`` of a list): that part is then what gets shown.
        self.key = key
        self.value = value


@dataclass(frozen=True)
class _Key:
    attr: str
    check: Callable[[object, Path | None], object]
    #: How an environment variable's text becomes a TOML-like value before ``check``.
    from_text: Callable[[str], object] = str


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` in ``start`` (a folder or a file's folder) or above it."""
    here = Path(start).absolute()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_project_config(pyproject: Path) -> ProjectConfig:
    """Read and validate ``[tool.flaskdesk]`` (and ``[project].version``) from ``pyproject``.

    A file without the table gives an all-``None`` config (plus the version): flaskdesk works
    without any configuration.
    """
    pyproject = Path(pyproject).absolute()
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            f"Cannot read {pyproject}: {error}. Check that the file exists and is readable UTF-8 text, "
            "or run flaskdesk from a folder whose pyproject.toml you can read."
        ) from error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = _TOML_POSITION.search(str(error))
        where = f"line {match.group(1)}, column {match.group(2)}" if match else "an unknown line"
        reason = _TOML_POSITION.sub("", str(error)).strip(" ()") or "syntax error"
        raise ConfigError(
            f"{pyproject} is not valid TOML ({where}): {reason}. Fix the syntax at that spot; "
            "every tool that reads pyproject.toml (pip included) needs it to parse."
        ) from error
    tool = data.get("tool", {})
    table = tool.get("flaskdesk", {}) if isinstance(tool, dict) else {}
    project = data.get("project")
    return project_config_from_dict(
        table,
        source=str(pyproject),
        project=project if isinstance(project, dict) else None,
        root=pyproject.parent,
    )


def project_config_from_dict(
    table: Mapping[str, Any],
    *,
    source: str,
    project: Mapping[str, Any] | None = None,
    root: Path | None = None,
) -> ProjectConfig:
    """Validate a ``[tool.flaskdesk]`` table (pure: no file access).

    ``source`` names where the table came from in error messages. ``project`` is the
    ``[project]`` table; ``version`` defaults to its static ``version``. Relative paths (``icon``,
    file-type icons) are taken relative to ``root`` when given, else left relative.
    """
    if not isinstance(table, Mapping):
        raise ConfigError(
            f"[tool.flaskdesk] in {source} must be a table, not {_describe(table)}. "
            "Write it as a section header, [tool.flaskdesk], followed by key = value lines."
        )
    unknown = [key for key in table if key not in _KEYS]
    if unknown:
        raise ConfigError(
            f"Unknown {'key' if len(unknown) == 1 else 'keys'} in [tool.flaskdesk] of {source}: "
            + "; ".join(_suggest(key) for key in unknown)
            + ". Rename or remove it: flaskdesk rejects unknown keys so that a typo cannot silently "
            "do nothing."
        )
    values: dict[str, object] = {}
    for key, raw in table.items():
        spec = _KEYS[key]
        try:
            values[spec.attr] = spec.check(raw, root)
        except _Invalid as invalid:
            shown, value = (f"{key}{invalid.key}", invalid.value) if invalid.key else (key, raw)
            raise ConfigError(
                f"[tool.flaskdesk] {shown} = {_show(value)} in {source} is not valid: expected "
                f"{invalid.expected}. Change the value in {source}."
            ) from None
    if "version" not in values and project is not None:
        version = project.get("version")
        if isinstance(version, str) and version.strip():
            values["version"] = version.strip()
    return ProjectConfig(**cast(dict[str, Any], values), source=source, root=root)


def resolve(
    field: str,
    *,
    cli: T | None,
    env: Mapping[str, str],
    project: ProjectConfig | None,
    desktop: T | None,
    default: T,
) -> T:
    """The value of one setting: command line, environment, ``[tool.flaskdesk]``, ``Desktop(...)``, default.

    The first layer that has a value (not ``None``) wins. Environment variables are parsed and
    validated like TOML values (an empty one counts as unset); ``data_dir`` becomes an absolute
    :class:`~pathlib.Path`. The command-line and ``Desktop(...)`` layers are taken as given: click
    and ``Desktop`` validate their own inputs.
    """
    if field not in _ATTRS and field not in ENV_VARS:
        raise ValueError(f"{field!r} is not a flaskdesk setting")
    if cli is not None:
        return cli
    variable = ENV_VARS.get(field)
    if variable is not None:
        text = env.get(variable)
        if text is not None and text.strip():
            return cast(T, _from_env(field, variable, text.strip()))
    if project is not None and field in _ATTRS:
        value = getattr(project, field)
        if value is not None:
            return cast(T, value)
    if desktop is not None:
        return desktop
    return default


def _from_env(field: str, variable: str, text: str) -> object:
    if field == "data_dir":
        return Path(text).expanduser().absolute()
    spec = _ATTRS[field]
    try:
        return spec.check(spec.from_text(text), None)
    except _Invalid as invalid:
        raise ConfigError(
            f"Environment variable {variable}={text!r} is not valid: expected {invalid.expected}. "
            "Set it to an accepted value, or unset it to use the project's configuration."
        ) from None


def _suggest(key: str) -> str:
    kebab = key.replace("_", "-").lower()
    if kebab in _KEYS:
        return f"{key!r} (keys are kebab-case: did you mean {kebab!r}?)"
    close = difflib.get_close_matches(kebab, list(_KEYS), n=1, cutoff=0.6)
    if close:
        return f"{key!r} (did you mean {close[0]!r}?)"
    return f"{key!r} (valid keys: {', '.join(sorted(_KEYS))})"


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _describe(value: object) -> str:
    return f"{type(value).__name__} {_show(value)}"


def _to_plain(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, FileType):
        table: dict[str, object] = {"extensions": list(value.extensions), "role": value.role}
        for key, attr in (("name", "name"), ("mime-type", "mime_type"), ("icon", "icon")):
            item = getattr(value, attr)
            if item is not None:
                table[key] = _to_plain(item)
        return table
    if isinstance(value, tuple):
        return [_to_plain(item) for item in value]
    return value


# --- value checks: each returns the parsed value or raises _Invalid(expected) -------------------


def _text(value: object, _root: Path | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid("a non-empty string")
    return value


def _app_target(value: object, _root: Path | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid('an app target string such as "mypackage:app" or "mypackage:create_app()"')
    return value.strip()


def _name(value: object, _root: Path | None) -> str:
    if (
        not isinstance(value, str)
        or not any(char.isalnum() for char in value)
        or len(value) > 100
        or any(not char.isprintable() for char in value)
    ):
        raise _Invalid("a printable name of at most 100 characters with at least one letter or digit")
    return value.strip()


def _identifier(value: object, _root: Path | None) -> str:
    if not isinstance(value, str) or len(value) > 255 or not _IDENTIFIER.fullmatch(value):
        raise _Invalid(
            'a reverse-DNS identifier such as "org.example.MyApp" (two or more dot-separated parts, '
            "each starting with a letter and using only letters, digits, '-' and '_')"
        )
    return value


def _version(value: object, _root: Path | None) -> str:
    if not isinstance(value, str) or not value.strip() or any(char.isspace() for char in value.strip()):
        raise _Invalid('a version string without spaces, such as "1.2.0"')
    return value.strip()


def _positive_int(value: object, _root: Path | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _Invalid("a positive whole number")
    return value


def _size(value: object, _root: Path | None) -> tuple[int, int]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or any(isinstance(item, bool) or not isinstance(item, int) or item <= 0 for item in value)
    ):
        raise _Invalid("[width, height], two positive whole numbers")
    return (value[0], value[1])


def _bool(value: object, _root: Path | None) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("true or false")
    return value


def _path(value: object, root: Path | None) -> Path:
    if not isinstance(value, str | os.PathLike) or not os.fspath(value).strip():
        raise _Invalid("a file path string (relative paths start at the pyproject.toml folder)")
    path = Path(value).expanduser()
    if root is not None and not path.is_absolute():
        path = (root / path).resolve()
    return path


def _color(value: object, _root: Path | None) -> str:
    if not isinstance(value, str) or not _COLOR.fullmatch(value):
        raise _Invalid('a color as "#rgb" or "#rrggbb", such as "#1e1e1e"')
    return value


def _choice(choices: tuple[str, ...]) -> Callable[[object, Path | None], str]:
    def check(value: object, _root: Path | None) -> str:
        if not isinstance(value, str) or value.strip().lower() not in choices:
            raise _Invalid("one of " + ", ".join(f'"{choice}"' for choice in choices))
        return value.strip().lower()

    return check


def _positive_float(value: object, _root: Path | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid("a number of seconds greater than 0, such as 10 or 2.5")
    if not math.isfinite(value) or value <= 0:
        raise _Invalid("a number of seconds greater than 0, such as 10 or 2.5")
    return float(value)


def _list_of(
    item: Callable[[object], str], expected: str
) -> Callable[[object, Path | None], tuple[str, ...]]:
    def check(value: object, _root: Path | None) -> tuple[str, ...]:
        if not isinstance(value, list | tuple):
            raise _Invalid(f"a list of {expected}")
        parsed: list[str] = []
        for index, entry in enumerate(value):
            try:
                parsed.append(item(entry))
            except _Invalid:
                raise _Invalid(f"a list of {expected}, but item {index} is {_show(entry)}") from None
        return tuple(parsed)

    return check


def _item_text(value: object) -> str:
    return _text(value)


def _item_module(value: object) -> str:
    if not isinstance(value, str) or not all(part.isidentifier() for part in value.split(".")):
        raise _Invalid("module name")
    return value


def _item_scheme(value: object) -> str:
    if not isinstance(value, str) or not _SCHEME.fullmatch(value) or value in _RESERVED_SCHEMES:
        raise _Invalid("scheme")
    return value


def _item_locale(value: object) -> str:
    if not isinstance(value, str) or not _LOCALE.fullmatch(value):
        raise _Invalid("locale")
    return value


_FILE_TYPE_KEYS = ("extensions", "name", "mime-type", "icon", "role")


def _file_types(value: object, root: Path | None) -> tuple[FileType, ...]:
    expected_table = (
        'a list of tables like {extensions = ["md"], name = "Markdown document", '
        'mime-type = "text/markdown", role = "editor"}'
    )
    if not isinstance(value, list | tuple):
        raise _Invalid(expected_table)
    parsed: list[FileType] = []
    for index, entry in enumerate(value):
        where = f"[{index}]"
        if not isinstance(entry, Mapping):
            raise _Invalid(expected_table, where, entry)
        for key in entry:
            if key not in _FILE_TYPE_KEYS:
                raise _Invalid(f"only the keys {', '.join(_FILE_TYPE_KEYS)}, not {key!r}", where, entry)
        extensions = entry.get("extensions")
        if (
            not isinstance(extensions, list | tuple)
            or not extensions
            or not all(isinstance(ext, str) and _EXTENSION.fullmatch(ext.lstrip(".")) for ext in extensions)
        ):
            raise _Invalid(
                '"extensions", a non-empty list of extensions such as ["md", "markdown"]', where, entry
            )
        name = entry.get("name")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise _Invalid('"name", a non-empty description such as "Markdown document"', where, entry)
        mime = entry.get("mime-type")
        if mime is not None and (not isinstance(mime, str) or not _MIME.fullmatch(mime)):
            raise _Invalid('"mime-type" as type/subtype, such as "text/markdown"', where, entry)
        icon = entry.get("icon")
        role = entry.get("role", "editor")
        if role not in FILE_TYPE_ROLES:
            raise _Invalid('"role", one of "editor", "viewer"', where, entry)
        parsed.append(
            FileType(
                extensions=tuple(ext.lstrip(".").lower() for ext in extensions),
                name=name,
                mime_type=mime,
                icon=None if icon is None else _path(icon, root),
                role=role,
            )
        )
    return tuple(parsed)


def _text_to_float(text: str) -> object:
    try:
        return float(text)
    except ValueError:
        return text


_KEYS: Mapping[str, _Key] = MappingProxyType(
    {
        "app": _Key("app", _app_target),
        "name": _Key("name", _name),
        "identifier": _Key("identifier", _identifier),
        "version": _Key("version", _version),
        "title": _Key("title", _text),
        "width": _Key("width", _positive_int),
        "height": _Key("height", _positive_int),
        "min-size": _Key("min_size", _size),
        "resizable": _Key("resizable", _bool),
        "icon": _Key("icon", _path),
        "background-color": _Key("background_color", _color),
        "backend": _Key("backend", _choice(BACKENDS)),
        "transport": _Key("transport", _choice(TRANSPORTS)),
        "shutdown-timeout": _Key("shutdown_timeout", _positive_float, _text_to_float),
        "csp": _Key("csp", _text),
        "single-instance": _Key("single_instance", _bool),
        "onefile": _Key("onefile", _bool),
        "first-run": _Key("first_run", _list_of(_item_text, "non-empty command strings")),
        "on-upgrade": _Key("on_upgrade", _list_of(_item_text, "non-empty command strings")),
        "include": _Key("include", _list_of(_item_text, "non-empty paths or glob patterns")),
        "exclude": _Key("exclude", _list_of(_item_module, 'dotted module names such as "tkinter"')),
        "file-types": _Key("file_types", _file_types),
        "url-schemes": _Key(
            "url_schemes",
            _list_of(_item_scheme, 'lower-case URL schemes such as "myapp" (not http, https, file, ...)'),
        ),
        "dev-reload-extra": _Key(
            "dev_reload_extra", _list_of(_item_text, "non-empty paths or glob patterns")
        ),
        "locales": _Key("locales", _list_of(_item_locale, 'locale codes such as "en" or "pt-BR"')),
    }
)
_ATTRS: Mapping[str, _Key] = MappingProxyType({spec.attr: spec for spec in _KEYS.values()})
