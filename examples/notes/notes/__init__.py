"""Notes: a small Flask app (SQLAlchemy, WTForms, Flask-Login) that flaskdesk ships as a desktop app.

``create_app()`` is an ordinary Flask app factory; the same app can be deployed as a website.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from typing import Any

from flask import Flask, redirect, url_for
from werkzeug.wrappers import Response

from . import api, auth, views
from .database import TablesOnFirstRequest, init_db_command
from .desktop import desktop
from .extensions import csrf, db, login_manager
from .models import User

__all__ = ["create_app"]

SECRET_KEY_FILE = "secret_key"


def create_app(test_config: Mapping[str, Any] | None = None, *, instance_path: str | None = None) -> Flask:
    """Build the app. ``test_config`` overrides the settings; ``instance_path`` pins the instance folder."""
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    # First, so that when flaskdesk moves the instance folder into the user's data dir, the
    # database and the secret key below are created in the new place.
    desktop.init_app(app)
    os.makedirs(app.instance_path, exist_ok=True)

    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI="sqlite:///" + os.path.join(app.instance_path, "notes.sqlite"),
        MAX_CONTENT_LENGTH=5 * 1024 * 1024,  # an import file larger than this is refused with 413
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret_key(os.path.join(app.instance_path, SECRET_KEY_FILE))

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    app.before_request(TablesOnFirstRequest())
    app.cli.add_command(init_db_command)

    app.register_blueprint(auth.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)

    @app.get("/")
    def index() -> Response:
        return redirect(url_for("notes.index"))

    return app


def load_or_create_secret_key(path: str) -> str:
    """Read the key in ``path``, creating it (owner-only, 0600) on first use.

    A stable key keeps users logged in across restarts; a random key per installation means no
    secret lives in the source or in the frozen executable. The key is written to a temporary
    file and linked into place, so two processes starting at once agree on one key.
    """
    try:
        return _read_secret_key(path)
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".secret_key-")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(key + "\n")
        try:
            os.link(tmp, path)  # never replaces an existing key
        except FileExistsError:
            return _read_secret_key(path)
    finally:
        os.unlink(tmp)
    return key


def _read_secret_key(path: str) -> str:
    with open(path, encoding="ascii") as file:
        key = file.read().strip()
    if not key:
        raise RuntimeError(f"The secret key file {path} is empty; delete it and a new key will be made.")
    return key


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None
