"""``Desktop`` as a Flask extension, settings precedence, and bad input at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, render_template_string

from flaskdesk import ConfigError, Desktop
from flaskdesk.config import project_config_from_dict
from flaskdesk.launch import check_template_folder, error_page
from flaskdesk.settings import DesktopArgs, resolve_settings


def test_registers_on_app_extensions_and_adds_template_helpers() -> None:
    app = Flask(__name__)
    desktop = Desktop(app, title="Notes")
    assert app.extensions["flaskdesk"] is desktop
    with app.test_request_context("/"):
        # outside flaskdesk's server the helpers render nothing: the website is unchanged
        assert render_template_string("[{{ flaskdesk_script() }}][{{ csp_nonce() }}]") == "[][]"


def test_helpers_render_the_tag_with_the_response_nonce() -> None:
    app = Flask(__name__)
    Desktop(app)
    with app.test_request_context("/", environ_base={"flaskdesk.csp_nonce": "abc123"}):
        html = render_template_string("{{ flaskdesk_script() }}")
    assert html == '<script src="/__flaskdesk__/flaskdesk.js" nonce="abc123" data-flaskdesk></script>'


def test_init_app_later_for_factories() -> None:
    desktop = Desktop(title="Later")

    @desktop.expose
    def add(a: int, b: int) -> int:
        return a + b

    app = Flask(__name__)
    desktop.init_app(app)
    assert app.extensions["flaskdesk"] is desktop
    assert desktop.bridge.call("add", [2, 3], {}) == 5


@pytest.mark.parametrize("not_an_app", [object(), "app", None.__class__, {"a": 1}])
def test_a_non_flask_object_is_a_clear_error(not_an_app: object) -> None:
    with pytest.raises(ConfigError, match=r"Desktop\(\) needs a Flask application.*init_app"):
        Desktop(not_an_app)  # type: ignore[arg-type]


def test_run_without_an_app_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="has no Flask app yet"):
        Desktop().run()


def test_website_deployment_keeps_its_instance_path() -> None:
    """Imported by a WSGI server (not run as a script), the app is left exactly as it was."""
    app = Flask(__name__)
    before = app.instance_path
    Desktop(app)
    assert app.instance_path == before


def test_settings_precedence_cli_env_project_desktop_default() -> None:
    args = DesktopArgs(title="From Desktop", width=640, backend="gtk", shutdown_timeout=3.0)
    project = project_config_from_dict({"width": 800, "backend": "gtk", "name": "proj"}, source="test")
    settings = resolve_settings(
        args,
        default_name="module",
        project=project,
        cli={"backend": "qt"},
        env={"FLASKDESK_SHUTDOWN_TIMEOUT": "7.5", "FLASKDESK_GUI": "gtk"},
    )
    assert settings.backend == "qt"  # command line beats everything
    assert settings.shutdown_timeout == 7.5  # environment beats Desktop(...)
    assert settings.width == 800  # pyproject beats Desktop(...)
    assert settings.title == "From Desktop"  # Desktop(...) beats the default
    assert settings.height == 700  # default
    assert settings.name == "proj"


def test_name_defaults_to_the_title_then_the_module() -> None:
    titled = resolve_settings(DesktopArgs(title="Notes"), default_name="mod", project=None, env={})
    assert (titled.name, titled.title) == ("Notes", "Notes")
    bare = resolve_settings(DesktopArgs(), default_name="mod", project=None, env={})
    assert (bare.name, bare.title) == ("mod", "mod")


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="FLASKDESK_GUI"):
        resolve_settings(DesktopArgs(), default_name="m", project=None, env={"FLASKDESK_GUI": "tk"})


def test_missing_explicit_template_folder_is_an_actionable_error(tmp_path: Path) -> None:
    app = Flask(__name__, root_path=str(tmp_path), template_folder="views")
    with pytest.raises(ConfigError, match=r"template folder .*views.* does not exist.*flaskdesk build"):
        check_template_folder(app)


def test_missing_default_template_folder_is_fine(tmp_path: Path) -> None:
    check_template_folder(Flask(__name__, root_path=str(tmp_path)))


def test_error_page_escapes_and_names_the_log() -> None:
    page = error_page("<Notes>", RuntimeError("bad <b>input</b>"), Path("/tmp/x.log"))
    assert "&lt;Notes&gt; could not start" in page
    assert "bad &lt;b&gt;input&lt;/b&gt;" in page
    assert "/tmp/x.log" in page


def test_a_relative_icon_is_taken_from_the_app_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # wherever the user started the app from
    monkeypatch.delenv("FLASKDESK_ICON", raising=False)
    app = Flask(__name__, root_path=str(tmp_path / "pkg"))
    relative = Desktop(app, icon="static/icon.png").launch_settings().icon
    assert relative == tmp_path / "pkg" / "static" / "icon.png"
    absolute = tmp_path / "elsewhere.png"
    assert Desktop(app, icon=absolute).launch_settings().icon == absolute
    assert Desktop(app).launch_settings().icon is None


def test_quit_outside_a_running_window_is_a_clear_error() -> None:
    from flaskdesk import WindowError

    with pytest.raises(WindowError, match=r"quit\(\) ends an app running in its window"):
        Desktop(Flask(__name__)).quit()
