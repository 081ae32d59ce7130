"""The plugin is tested the way pytest plugins are: by running pytest on small projects (pytester)."""

from __future__ import annotations

import textwrap
from importlib import metadata
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

#: A tiny flaskdesk project: a factory, exposed functions, and pages the window tests drive.
APP_SOURCE = '''
import os

from flask import Flask, jsonify, redirect, request, session, url_for

from flaskdesk import BridgeError, Desktop

SEEN_AT_IMPORT = sorted(k for k in os.environ if k.startswith("FLASKDESK_AUTOMATION"))

desktop = Desktop(title="My App")


@desktop.expose
def add(a: int, b: int) -> int:
    return a + b


@desktop.expose
def fail(message: str) -> None:
    raise ValueError(message)


@desktop.expose
def refuse() -> None:
    raise BridgeError("PermissionError", "not allowed")


PAGE = """<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>"""


def create_app():
    app = Flask(__name__)
    app.secret_key = "test"
    desktop.init_app(app)

    @app.get("/")
    def index():
        return PAGE.format(
            title="Home",
            body='<h1 id="title">Hello from myapp</h1><a id="go" href="/form">the form</a>',
        )

    @app.route("/form", methods=["GET", "POST"])
    def form():
        if request.method == "POST":
            session["name"] = request.form["name"]
            return PAGE.format(title="Saved", body=f'<p id="greeting">Hi {request.form["name"]}</p>')
        return PAGE.format(
            title="Form",
            body='<form method="post"><input id="name" name="name"><button id="send">Send</button></form>',
        )

    @app.get("/old")
    def old():
        return redirect(url_for("form"))

    @app.get("/whoami")
    def whoami():
        return jsonify(name=session.get("name"))

    @app.post("/remember")
    def remember():
        session["name"] = request.get_json()["name"]
        return jsonify(ok=True)

    @app.get("/broken")
    def broken():
        from flask import render_template_string

        # Fails when the button is clicked: an uncaught error and a promise nobody handles.
        script = (
            "document.getElementById('explode').addEventListener('click', function () {"
            "  Promise.reject(new Error('nobody caught me'));"
            "  undefinedThing.run();"
            "});"
        )
        return render_template_string(
            PAGE.format(
                title="Broken",
                body='<button id="explode">Explode</button><script nonce="{{ csp_nonce() }}">'
                + script
                + "</script>",
            )
        )

    @app.get("/env")
    def env():
        return jsonify(
            at_import=SEEN_AT_IMPORT,
            now=sorted(k for k in os.environ if k.startswith("FLASKDESK_AUTOMATION")),
            data_dir=os.environ.get("FLASKDESK_DATA_DIR"),
        )

    @app.get("/instance")
    def instance():
        return jsonify(path=app.instance_path, testing=app.testing)

    return app
'''

PYPROJECT = """
[tool.flaskdesk]
app = "myapp:create_app()"
name = "myapp-test"
"""


def plugin_args() -> list[str]:
    """``-p flaskdesk.testing.plugin`` unless the ``pytest11`` entry point already loads it."""
    installed = any(ep.name == "flaskdesk" for ep in metadata.entry_points(group="pytest11"))
    return [] if installed else ["-p", "flaskdesk.testing.plugin"]


@pytest.fixture
def project(pytester: pytest.Pytester) -> Path:
    """A flaskdesk project in pytester's directory (``myapp.py`` + ``pyproject.toml``)."""
    pytester.makepyfile(myapp=textwrap.dedent(APP_SOURCE))
    pytester.makefile(".toml", pyproject=textwrap.dedent(PYPROJECT))
    pytester.syspathinsert()
    return pytester.path


@pytest.fixture
def run(pytester: pytest.Pytester, project: Path) -> RunPytest:
    return RunPytest(pytester)


class RunPytest:
    """Runs pytest on the project with the plugin loaded (in-process, or in a subprocess for windows)."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester

    def __call__(self, *args: str) -> pytest.RunResult:
        return self.pytester.runpytest(*plugin_args(), "-p", "no:cacheprovider", *args)

    def subprocess(self, *args: str, timeout: float = 240) -> pytest.RunResult:
        return self.pytester.runpytest_subprocess(
            *plugin_args(), "-p", "no:cacheprovider", *args, timeout=timeout
        )
