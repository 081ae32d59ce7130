"""``locate_app`` and ``instance_path_override``: tables of targets that work and targets that fail."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from flaskdesk.app.loader import instance_path_override, locate_app
from flaskdesk.app.paths import default_instance_path, relocate_instance_path
from flaskdesk.errors import AppLoadError, AppNotFoundError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(autouse=True)
def _clean_imports(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test imports the fixture modules afresh and leaves ``sys.path`` as it found it."""
    saved_path = sys.path[:]
    before = set(sys.modules)
    monkeypatch.syspath_prepend(str(FIXTURES))
    yield
    sys.path[:] = saved_path
    roots = (str(FIXTURES), str(tmp_path))
    for name in set(sys.modules) - before:
        file = getattr(sys.modules[name], "__file__", None) or ""
        if name.startswith("loader_apps") or file.startswith(roots):
            del sys.modules[name]


@pytest.mark.parametrize(
    ("target", "name"),
    [
        ("loader_apps.simple", "loader_apps.simple"),
        ("loader_apps.simple:app", "loader_apps.simple"),
        ("loader_apps.application_attr", "loader_apps.application_attr"),
        ("loader_apps.other_name", "loader_apps.other_name"),
        ("loader_apps.other_name:my_desktop_app", "loader_apps.other_name"),
        ("loader_apps.alias", "loader_apps.alias"),
        ("loader_apps.two_apps:app2", "app2"),
        ("loader_apps.factory", "factory"),
        ("loader_apps.factory:create_app", "factory"),
        ("loader_apps.factory:create_app()", "factory"),
        # whitespace around the parts is ignored
        ("  loader_apps.factory : create_app ()  ", "factory"),
        ('loader_apps.factory:create_app2("foo", "bar")', "app2_foo_bar"),
        # trailing comma
        ('loader_apps.factory:create_app2("foo", "bar", )', "app2_foo_bar"),
        ("loader_apps.factory:create_app2(-1, b=2.5)", "app2_-1_2.5"),
        ('loader_apps.factory:create_with_config("prod", debug=True)', "cfg_prod_True"),
        ("loader_apps.factory:create_from_mapping({'A': [1, (2, None)]})", "mapping"),
        ("loader_apps.make_factory", "make_factory"),
        ("loader_apps.bp_package", "loader_apps.bp_package"),
        ("loader_apps.bp_package:create_app()", "loader_apps.bp_package"),
        # file paths, relative to search_path, like flask --app
        ("loader_apps/simple.py", "loader_apps.simple"),
        ("loader_apps/simple.py:app", "loader_apps.simple"),
        ("loader_apps/factory.py:create_app2(1, 2)", "app2_1_2"),
        ("loader_apps/bp_package", "loader_apps.bp_package"),
        ("loader_apps/bp_package/__init__.py:create_app", "loader_apps.bp_package"),
    ],
)
def test_locate_app(target: str, name: str) -> None:
    app = locate_app(target, search_path=FIXTURES)
    assert isinstance(app, Flask)
    assert app.name == name


@pytest.mark.parametrize(
    ("target", "error", "message"),
    [
        # no such module: a sys.path problem, with the tip
        (
            "loader_apps.does_not_exist",
            AppNotFoundError,
            r"No module named 'loader_apps.does_not_exist'.*sys\.path",
        ),
        ("no_such_top_level_pkg.app", AppNotFoundError, r"'no_such_top_level_pkg' \(needed for"),
        # the module exists and raised: the user's code, with the cause chained
        (
            "loader_apps.import_error_inside",
            AppLoadError,
            r"raised ImportError while importing: No module named 'loader_apps_missing_dependency'",
        ),
        (
            "loader_apps.import_name_error",
            AppLoadError,
            r"raised ImportError while importing: cannot import name",
        ),
        (
            "loader_apps.raises_on_import",
            AppLoadError,
            r"raised RuntimeError while importing: boom at import",
        ),
        ("loader_apps.exits_on_import", AppLoadError, r"called sys\.exit\(3\) while importing"),
        # attribute problems
        ("loader_apps.simple:nope", AppNotFoundError, r"has no attribute 'nope'"),
        ("loader_apps.simple:ap", AppNotFoundError, r"Did you mean 'app'\?"),
        ("loader_apps.factory:VERSION", AppNotFoundError, r"is not a Flask app \(it is a str\)"),
        (
            "loader_apps.not_flask_attr",
            AppNotFoundError,
            r"'loader_apps.not_flask_attr:app' is not a Flask app "
            r"\(it is a loader_apps.not_flask_attr.Middleware\)",
        ),
        ("loader_apps.not_flask_attr:app", AppNotFoundError, r"is not a Flask app.*app\.wsgi_app"),
        (
            "loader_apps.simple:app()",
            AppNotFoundError,
            r"is the Flask app 'loader_apps.simple', not an app factory",
        ),
        (
            "loader_apps.two_apps",
            AppNotFoundError,
            r"several Flask apps \(app1, app2\).*'loader_apps.two_apps:app1'",
        ),
        ("loader_apps.empty", AppNotFoundError, r"has no Flask app"),
        # factories
        (
            "loader_apps.factory:create_app2('foo')",
            AppNotFoundError,
            r"create_app2\(a: 'object', b: 'object'\)",
        ),
        (
            "loader_apps.factory_needs_args",
            AppNotFoundError,
            r"create_app\(config_name: str\) in module '\S+' cannot be called as create_app\(\)",
        ),
        ("loader_apps.factory:create_app(unexpected=1)", AppNotFoundError, r"cannot be called as"),
        ("loader_apps.factory:no_app", AppNotFoundError, r"returned None, not a Flask app"),
        (
            "loader_apps.factory_raises",
            AppLoadError,
            r"'loader_apps.factory_raises:create_app' raised RuntimeError: ",
        ),
        (
            "loader_apps.factory_raises:create_with_type_error()",
            AppLoadError,
            r"raised TypeError: bad setting type",
        ),
        # the target itself
        ("loader_apps.factory:create_app(", AppNotFoundError, r"Cannot parse"),
        ("loader_apps.factory:create_app[0]", AppNotFoundError, r"not a name or a call"),
        (
            "loader_apps.factory:factories.create()",
            AppNotFoundError,
            r"must be a plain name.*'factories.create'",
        ),
        ("loader_apps.factory:create_app2(os.sep, 1)", AppNotFoundError, r"must be literal values"),
        ("loader_apps.factory:create_app2(*[1, 2])", AppNotFoundError, r"must be literal values"),
        ("loader_apps.factory:create_app(**{})", AppNotFoundError, r"must be literal values"),
        (
            "loader_apps.factory:create_app2(__import__('os').getcwd(), 1)",
            AppNotFoundError,
            r"must be literal",
        ),
        ("loader_apps.factory:create_app2(1 + 1, 2)", AppNotFoundError, r"must be literal values"),
        ("", AppNotFoundError, r"The app target is empty"),
        ("loader_apps.simple:", AppNotFoundError, r"is incomplete"),
        ("not a module!", AppNotFoundError, r"neither a module name"),
        ("loader_apps/missing.py", AppNotFoundError, r"missing\.py does not exist"),
        ("loader_apps/message.txt", AppNotFoundError, r"not a \.py file or a package folder"),
    ],
)
def test_locate_app_raises(target: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        locate_app(target, search_path=FIXTURES)


def test_not_found_is_not_chained_but_load_errors_are() -> None:
    """ "No such module" has nothing useful behind it; the user's own failures keep their traceback."""
    with pytest.raises(AppNotFoundError) as missing:
        locate_app("loader_apps.does_not_exist")
    assert missing.value.__cause__ is None and missing.value.__suppress_context__

    with pytest.raises(AppLoadError) as inside:
        locate_app("loader_apps.import_error_inside")
    assert isinstance(inside.value.__cause__, ModuleNotFoundError)
    assert inside.value.__cause__.name == "loader_apps_missing_dependency"

    with pytest.raises(AppLoadError) as factory:
        locate_app("loader_apps.factory_raises")
    assert isinstance(factory.value.__cause__, RuntimeError)
    assert str(factory.value.__cause__) == "database is down"


def test_blueprint_package_is_fully_loaded() -> None:
    app = locate_app("loader_apps.bp_package")
    assert app.test_client().get("/").text == "hello from the blueprint"


def test_file_target_puts_its_root_on_sys_path(tmp_path: Path) -> None:
    (tmp_path / "standalone_loader_app.py").write_text("from flask import Flask\napp = Flask('standalone')\n")
    app = locate_app(str(tmp_path / "standalone_loader_app.py"))
    assert app.name == "standalone"
    assert sys.path[0] == str(tmp_path.resolve())


def test_file_in_a_package_imports_as_the_package_module() -> None:
    app = locate_app(str(FIXTURES / "loader_apps" / "simple.py"))
    assert app.import_name == "loader_apps.simple"
    assert sys.modules["loader_apps.simple"].app is app


def test_search_path_is_put_first(tmp_path: Path) -> None:
    (tmp_path / "search_path_loader_app.py").write_text("from flask import Flask\napp = Flask('found')\n")
    assert locate_app("search_path_loader_app", search_path=tmp_path).name == "found"
    assert sys.path[0] == str(tmp_path)


def test_syntax_error_in_the_module_is_a_load_error(tmp_path: Path) -> None:
    (tmp_path / "broken_loader_app.py").write_text("from flask import Flask\napp = Flask(\n")
    with pytest.raises(AppLoadError, match=r"raised SyntaxError while importing") as info:
        locate_app("broken_loader_app", search_path=tmp_path)
    assert isinstance(info.value.__cause__, SyntaxError)


def test_file_shadowed_by_an_imported_module(tmp_path: Path) -> None:
    """A user file named like an installed module (``flask.py``) must not silently load the other one."""
    (tmp_path / "flask.py").write_text("app = None\n")
    with pytest.raises(AppLoadError, match=r"gave a different module.*Rename flask\.py"):
        locate_app(str(tmp_path / "flask.py"))


# --- instance_path_override ----------------------------------------------------------------------


def test_override_applies_while_the_module_imports(tmp_path: Path) -> None:
    instance = tmp_path / "data" / "instance"
    with instance_path_override(instance):
        app = locate_app("loader_apps.module_level_instance")
    assert app.instance_path == str(instance)
    recorded_at_import = sys.modules["loader_apps.module_level_instance"].INSTANCE_AT_IMPORT
    assert recorded_at_import == str(instance)


def test_override_reaches_factories_and_extensions(tmp_path: Path) -> None:
    """Paths computed inside the factory, and by extensions in ``init_app``, already point at the data dir."""
    instance = tmp_path / "instance"
    with instance_path_override(instance):
        app = locate_app("loader_apps.instance_factory")
    assert app.instance_path == str(instance)
    assert app.config["UPLOAD_FOLDER"] == os.path.join(instance, "uploads")
    assert app.extensions["fake_sqlalchemy"].database_paths[app.name] == os.path.join(instance, "app.sqlite")


def test_override_leaves_an_explicit_instance_path_alone(tmp_path: Path) -> None:
    chosen = str(tmp_path / "chosen")
    with instance_path_override(tmp_path / "instance"):
        app = locate_app(f"loader_apps.instance_factory:create_explicit({chosen!r})")
    assert app.instance_path == chosen
    assert relocate_instance_path(app, tmp_path / "instance") is False


def test_override_is_restored(tmp_path: Path) -> None:
    before = Flask("before").instance_path
    assert "auto_find_instance_path" not in Flask.__dict__
    with instance_path_override(tmp_path / "outer"):
        with instance_path_override(tmp_path / "inner"):
            assert Flask("inner").instance_path == str(tmp_path / "inner")
        assert Flask("outer").instance_path == str(tmp_path / "outer")
    assert "auto_find_instance_path" not in Flask.__dict__
    assert Flask("before").instance_path == before


def test_override_is_restored_when_the_import_fails(tmp_path: Path) -> None:
    with pytest.raises(AppLoadError), instance_path_override(tmp_path / "instance"):
        locate_app("loader_apps.factory_raises")
    assert "auto_find_instance_path" not in Flask.__dict__
    assert Flask("after").instance_path != str(tmp_path / "instance")


def test_override_relative_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with instance_path_override(Path("relative")):
        app = Flask("relative")
    assert app.instance_path == str(tmp_path / "relative")


def test_default_instance_path_sees_through_the_override(tmp_path: Path) -> None:
    plain = Flask("plain_app")
    with instance_path_override(tmp_path / "instance"):
        assert default_instance_path(plain) == plain.instance_path
        assert default_instance_path(Flask("plain_app")) == plain.instance_path
