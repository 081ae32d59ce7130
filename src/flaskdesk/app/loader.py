"""Find the user's Flask app from a target string, the way ``flask --app`` does.

Targets are ``module``, ``module:attr``, ``module:factory()`` and ``module:factory("arg", 2)``,
where the module may also be a file path (``path/to/app.py``). Arguments are parsed with
``ast`` and only literals are accepted, so a target in a config file can never run code.

The errors keep apart the cases a user fixes differently: a module that does not exist (a
``sys.path`` problem) and a module that exists but raised while importing (a bug or a missing
dependency in their code, shown with its traceback chained); an attribute that is missing, one
that is not a Flask app, and a factory that needs arguments or raised.
"""

from __future__ import annotations

import ast
import difflib
import functools
import importlib
import inspect
import os
import re
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

from ..errors import AppLoadError, AppNotFoundError
from .paths import INSTANCE_OVERRIDE_MARKER

if TYPE_CHECKING:
    from flask.sansio.app import App

_FACTORY_NAMES = ("create_app", "make_app")
_APP_NAMES = ("app", "application")
_MISSING = object()


def locate_app(target: str, *, search_path: Path | None = None) -> Flask:
    """Import the module ``target`` names and return its Flask app.

    Without an attribute, the app is found like Flask does: an ``app`` or ``application``
    attribute, else the module's only Flask instance, else a ``create_app``/``make_app`` factory
    called without arguments. ``search_path`` (the project folder) is put first on ``sys.path``
    and relative file paths start there; it stays on ``sys.path`` because the app's own lazy
    imports need it later.
    """
    module_part, attr = _split_target(target)
    if search_path is not None:
        _prepend_sys_path(os.path.abspath(search_path))
    if _looks_like_path(module_part):
        module_name, expected_file = _prepare_file_import(module_part, search_path)
    else:
        module_name, expected_file = module_part, None
        if not all(part.isidentifier() for part in module_name.split(".")):
            raise AppNotFoundError(
                f"{module_name!r} in the app target {target!r} is neither a module name (such as "
                "'mypackage.app') nor a path to a .py file. Write the target as 'module:app', "
                "'module:create_app()' or 'path/to/app.py'."
            )
    module = _import(module_name, target)
    if expected_file is not None:
        _check_not_shadowed(module, expected_file)
    if attr is None:
        return find_best_app(module)
    return find_app_by_string(module, attr)


def find_best_app(module: types.ModuleType) -> Flask:
    """The app in ``module`` when the target names no attribute (Flask's own search order)."""
    name = module.__name__
    for attr_name in _APP_NAMES:
        candidate = getattr(module, attr_name, None)
        if isinstance(candidate, Flask):
            return candidate
    matches = [key for key, value in vars(module).items() if isinstance(value, Flask)]
    if len({id(getattr(module, key)) for key in matches}) == 1:
        app: Flask = getattr(module, matches[0])
        return app
    if len(matches) > 1:
        raise AppNotFoundError(
            f"Module {name!r} has several Flask apps ({', '.join(sorted(matches))}), so flaskdesk cannot "
            f"tell which one to run. Name it in the target, for example '{name}:{sorted(matches)[0]}'."
        )
    for attr_name in _FACTORY_NAMES:
        factory = getattr(module, attr_name, None)
        if inspect.isfunction(factory):
            return _call_factory(module, attr_name, factory, (), {}, f"{name}:{attr_name}")
    for attr_name in _APP_NAMES:
        candidate = getattr(module, attr_name, _MISSING)
        if candidate is not _MISSING:
            raise _not_a_flask_app(f"{name}:{attr_name}", candidate)
    raise AppNotFoundError(
        f"Module {name!r} has no Flask app: no 'app' or 'application' attribute, no Flask instance "
        "and no 'create_app' or 'make_app' factory. Name the app in the target, for example "
        f"'{name}:my_app' or '{name}:build_app()'."
    )


def find_app_by_string(module: types.ModuleType, attr: str) -> Flask:
    """The app from ``attr``: an attribute name, or a factory call with literal arguments."""
    target = f"{module.__name__}:{attr}"
    name, args, kwargs, is_call = _parse_attr(attr, target)
    try:
        value = getattr(module, name)
    except AttributeError:
        raise _missing_attribute(module, name, target) from None
    if is_call:
        if isinstance(value, Flask) or not callable(value):
            raise AppNotFoundError(
                f"{target!r} calls {name!r}, but {name!r} in module {module.__name__!r} is "
                f"{_kind(value)}, not an app factory. Drop the parentheses ('{module.__name__}:{name}') "
                "if it is the app itself."
            )
        return _call_factory(module, name, value, args, kwargs, target)
    if _is_plain_function(value):
        return _call_factory(module, name, value, (), {}, target)
    if isinstance(value, Flask):
        return value
    raise _not_a_flask_app(target, value)


@contextmanager
def instance_path_override(path: Path) -> Iterator[None]:
    """While active, Flask apps created without ``instance_path=`` get ``path`` as instance folder.

    Flask computes ``instance_path`` inside ``Flask.__init__``; factories build paths from it at
    once and Flask-SQLAlchemy resolves SQLite paths in ``init_app``, so moving it after the import
    is too late. This replaces ``Flask.auto_find_instance_path`` for the duration (apps passing
    ``instance_path=`` never call it) and restores it afterwards, even on error. It patches the
    class, so use it around the import only, from one thread, and not nested across threads.
    """
    target = os.path.abspath(path)

    def auto_find_instance_path(self: App) -> str:
        return target

    setattr(auto_find_instance_path, INSTANCE_OVERRIDE_MARKER, True)
    previous = Flask.__dict__.get("auto_find_instance_path", _MISSING)
    Flask.auto_find_instance_path = auto_find_instance_path  # type: ignore[method-assign]
    try:
        yield
    finally:
        if previous is _MISSING:
            del Flask.auto_find_instance_path
        else:
            Flask.auto_find_instance_path = previous  # type: ignore[method-assign]


# --- parsing the target ------------------------------------------------------------------------


def _split_target(target: str) -> tuple[str, str | None]:
    text = target.strip()
    if not text:
        raise AppNotFoundError(
            "The app target is empty. Give it as 'module:app', 'module:create_app()' or "
            "'path/to/app.py', on the command line or as `app = ...` under [tool.flaskdesk]."
        )
    # A colon followed by a slash is a Windows drive ("C:\\app.py"), not the attribute separator.
    parts = re.split(r":(?![\\/])", text, maxsplit=1)
    module_part = parts[0].strip()
    attr = parts[1].strip() if len(parts) == 2 else None
    if not module_part or attr == "":
        raise AppNotFoundError(
            f"The app target {target!r} is incomplete. Write it as 'module:app', "
            "'module:create_app()' or 'path/to/app.py' (the part after ':' is optional)."
        )
    return module_part, attr


def _parse_attr(attr: str, target: str) -> tuple[str, tuple[Any, ...], dict[str, Any], bool]:
    usage = (
        "Write an attribute name ('app') or a factory call with literal arguments ('create_app(\"dev\")')."
    )
    try:
        expr = ast.parse(attr.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        raise AppNotFoundError(
            f"Cannot parse {attr!r} in the app target {target!r} as an attribute name or function call. "
            + usage
        ) from None
    if isinstance(expr, ast.Name):
        return expr.id, (), {}, False
    if not isinstance(expr, ast.Call):
        raise AppNotFoundError(f"{attr!r} in the app target {target!r} is not a name or a call. " + usage)
    if not isinstance(expr.func, ast.Name):
        raise AppNotFoundError(
            f"The factory in the app target {target!r} must be a plain name defined in the module, "
            f"not {ast.unparse(expr.func)!r}. " + usage
        )
    try:
        args = tuple(_literal(arg) for arg in expr.args)
        kwargs: dict[str, Any] = {}
        for keyword in expr.keywords:
            if keyword.arg is None:
                raise ValueError("**kwargs")
            kwargs[keyword.arg] = _literal(keyword.value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise AppNotFoundError(
            f"The arguments in the app target {target!r} must be literal values (strings, numbers, "
            "True/False/None, and lists, tuples or dicts of those): variables, expressions and "
            "*args are not evaluated, so a target can never run code. Move the logic into the factory."
        ) from None
    return expr.func.id, args, kwargs, True


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Starred):
        raise ValueError("*args")
    return ast.literal_eval(node)


# --- importing ---------------------------------------------------------------------------------


def _looks_like_path(module_part: str) -> bool:
    return module_part.endswith(".py") or "/" in module_part or os.sep in module_part


def _prepare_file_import(module_part: str, search_path: Path | None) -> tuple[str, Path]:
    """Like Flask's ``prepare_import``: the module name of a file, with its top folder on sys.path."""
    given = Path(module_part).expanduser()
    if not given.is_absolute() and search_path is not None:
        given = Path(search_path) / given
    path = Path(os.path.realpath(given))
    if path.suffix == ".py":
        expected = path
        path = path.with_suffix("")
    elif path.is_dir() and (path / "__init__.py").is_file():
        expected = path / "__init__.py"
    else:
        raise AppNotFoundError(
            f"The app target names the path {module_part!r}, but {path} is not a .py file or a package "
            "folder. Check the path (relative paths start at the project folder), or use a module "
            "name such as 'mypackage.app'."
        )
    if not expected.is_file():
        raise AppNotFoundError(
            f"The app file {expected} does not exist. Check the path in the app target (relative "
            "paths start at the project folder)."
        )
    if path.name == "__init__":
        path = path.parent
    names: list[str] = []
    while True:
        names.append(path.name)
        path = path.parent
        if not (path / "__init__.py").is_file():
            break
    _prepend_sys_path(str(path))
    return ".".join(reversed(names)), expected


def _prepend_sys_path(folder: str) -> None:
    if not sys.path or sys.path[0] != folder:
        sys.path.insert(0, folder)


def _import(module_name: str, target: str) -> types.ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and _is_target_or_parent(error.name, module_name):
            raise _no_such_module(module_name, error.name, target) from None
        raise _import_failed(module_name, error) from error
    except SystemExit as error:
        raise AppLoadError(
            f"Module {module_name!r} called sys.exit({error.code!r}) while importing, so there is no app "
            'to run. Put the code that starts things under `if __name__ == "__main__":` so that '
            "importing the module only defines the app."
        ) from error
    except Exception as error:
        raise _import_failed(module_name, error) from error


def _is_target_or_parent(missing: str, module_name: str) -> bool:
    return module_name == missing or module_name.startswith(missing + ".")


def _check_not_shadowed(module: types.ModuleType, expected_file: Path) -> None:
    found = getattr(module, "__file__", None)
    if found is None or os.path.realpath(found) != str(expected_file):
        raise AppLoadError(
            f"Importing {expected_file} as {module.__name__!r} gave a different module, from "
            f"{found or 'a namespace package'}: another module with that name was imported first. "
            f"Rename {expected_file.name} to something unique (such as 'myapp_main.py')."
        )


# --- calling factories -------------------------------------------------------------------------


def _is_plain_function(value: object) -> bool:
    return inspect.isfunction(value) or inspect.ismethod(value) or isinstance(value, functools.partial)


def _call_factory(
    module: types.ModuleType,
    name: str,
    factory: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    target: str,
) -> Flask:
    try:
        signature: inspect.Signature | None = inspect.signature(factory).replace(
            return_annotation=inspect.Signature.empty
        )
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        try:
            signature.bind(*args, **kwargs)
        except TypeError as error:
            given = ", ".join([repr(arg) for arg in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
            raise AppNotFoundError(
                f"The factory {name}{signature} in module {module.__name__!r} cannot be called as "
                f"{name}({given}): {error}. Pass its arguments in the target, for example "
                f"'{module.__name__}:{name}(\"production\")' (literal values only)."
            ) from None
    try:
        app = factory(*args, **kwargs)
    except (Exception, SystemExit) as error:
        raise AppLoadError(
            f"The app factory {target!r} raised {type(error).__name__}: {error}. This is an error in "
            "the app's own code (its traceback follows this message); fix it, then start "
            "the app again."
        ) from error
    if not isinstance(app, Flask):
        raise AppNotFoundError(
            f"The factory {target!r} returned {_kind(app)}, not a Flask app. Make it `return app` "
            "(the Flask object), or point the target at the app itself."
        )
    return app


# --- error messages ----------------------------------------------------------------------------


def _no_such_module(module_name: str, missing: str, target: str) -> AppNotFoundError:
    shown = ", ".join(repr(entry or ".") for entry in sys.path[:4])
    which = f"{missing!r} (needed for {module_name!r})" if missing != module_name else repr(module_name)
    return AppNotFoundError(
        f"No module named {which} for the app target {target!r}. Python looks for modules on "
        f"sys.path, which starts with {shown}. Run from the project folder, give the file path "
        "instead ('path/to/app.py'), or set `app = ...` under [tool.flaskdesk] in the project's "
        "pyproject.toml."
    )


def _import_failed(module_name: str, error: BaseException) -> AppLoadError:
    what = "ImportError" if isinstance(error, ImportError) else type(error).__name__
    return AppLoadError(
        f"Module {module_name!r} raised {what} while importing: {error}. The module exists but its "
        "own code failed (its traceback follows this message); install the "
        "missing dependency or fix the error, then start the app again."
    )


def _missing_attribute(module: types.ModuleType, name: str, target: str) -> AppNotFoundError:
    public = [key for key in vars(module) if not key.startswith("_")]
    close = difflib.get_close_matches(name, public, n=1)
    apps = sorted(key for key in public if isinstance(getattr(module, key), Flask))
    hint = f" Did you mean {close[0]!r}?" if close else ""
    if apps:
        hint += f" Flask apps in the module: {', '.join(apps)}."
    return AppNotFoundError(
        f"Module {module.__name__!r} has no attribute {name!r} (from the app target {target!r}).{hint} "
        "Fix the name after ':' in the target."
    )


def _not_a_flask_app(target: str, value: object) -> AppNotFoundError:
    return AppNotFoundError(
        f"{target!r} is not a Flask app (it is {_kind(value)}). flaskdesk needs the Flask object itself: "
        "if you wrapped it in WSGI middleware, wrap app.wsgi_app instead (app.wsgi_app = "
        "Middleware(app.wsgi_app)) and point the target at the app."
    )


def _kind(value: object) -> str:
    if value is None:
        return "None"
    if isinstance(value, types.ModuleType):
        return f"the module {value.__name__!r}"
    if isinstance(value, Flask):
        return f"the Flask app {value.name!r}"
    return f"a {type(value).__module__}.{type(value).__qualname__}".replace("a builtins.", "a ")
