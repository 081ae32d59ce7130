"""A small JSON API over the same session login as the pages.

It is exempt from CSRF tokens (scripts send JSON, not forms) but still safe from cross-site
writes: writes must be ``application/json``, which a page on another origin can only send after a
CORS preflight this app never grants, and flaskdesk's guard refuses cross-origin writes anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, jsonify, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .extensions import db
from .models import TITLE_MAX, Note, note_of, notes_of

bp = Blueprint("api", __name__, url_prefix="/api")

F = TypeVar("F", bound=Callable[..., Any])


def error(status: int, message: str) -> tuple[Response, int]:
    return jsonify(error=message), status


def api_login_required(view: F) -> F:
    """Like ``login_required``, but answers 401 JSON instead of redirecting to the login page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return error(401, "Log in first.")
        return view(*args, **kwargs)

    return cast(F, wrapper)


@bp.get("/health")
def health() -> Response:
    return jsonify(ok=True)


@bp.get("/notes")
@api_login_required
def list_notes() -> Response:
    return jsonify(notes=[note.to_dict() for note in notes_of(current_user.id)])


@bp.get("/notes/<int:note_id>")
@api_login_required
def get_note(note_id: int) -> Response | tuple[Response, int]:
    note = note_of(current_user.id, note_id)
    if note is None:
        return error(404, "No such note.")
    return jsonify(note.to_dict())


@bp.post("/notes")
@api_login_required
def create_note() -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
    if not request.is_json:
        return error(415, "Send the note as JSON (Content-Type: application/json).")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error(400, 'Send a JSON object such as {"title": "...", "body": "..."}.')
    title = data.get("title")
    body = data.get("body", "")
    if not isinstance(title, str) or not title.strip():
        return error(400, '"title" is required and must be text.')
    if len(title.strip()) > TITLE_MAX:
        return error(400, f'"title" must be at most {TITLE_MAX} characters.')
    if not isinstance(body, str):
        return error(400, '"body" must be text.')
    note = Note(title=title.strip(), body=body, owner_id=current_user.id)
    db.session.add(note)
    db.session.commit()
    return jsonify(note.to_dict()), 201, {"Location": url_for("api.get_note", note_id=note.id)}
