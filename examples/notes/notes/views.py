"""The notes pages: list, create, edit, delete, export and import."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .extensions import db
from .forms import ImportForm, NoteForm
from .models import Note, note_of, notes_of
from .transfer import ImportFileError, export_bytes, parse_import

bp = Blueprint("notes", __name__, url_prefix="/notes")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every notes page needs a logged-in user."""


def _own_note(note_id: int) -> Note:
    note = note_of(current_user.id, note_id)
    if note is None:
        abort(404)
    return note


@bp.get("/")
def index() -> str:
    return render_template("notes/index.html", notes=notes_of(current_user.id), import_form=ImportForm())


@bp.route("/new", methods=["GET", "POST"])
def create() -> str | Response:
    form = NoteForm()
    if form.validate_on_submit():
        note = Note(
            title=(form.title.data or "").strip(), body=form.body.data or "", owner_id=current_user.id
        )
        db.session.add(note)
        db.session.commit()
        flash(f"Created “{note.title}”.", "success")
        return redirect(url_for("notes.index"))
    return render_template("notes/edit.html", form=form, note=None)


@bp.route("/<int:note_id>/edit", methods=["GET", "POST"])
def edit(note_id: int) -> str | Response:
    note = _own_note(note_id)
    form = NoteForm(obj=note)
    if form.validate_on_submit():
        note.title = (form.title.data or "").strip()
        note.body = form.body.data or ""
        db.session.commit()
        flash(f"Saved “{note.title}”.", "success")
        return redirect(url_for("notes.index"))
    return render_template("notes/edit.html", form=form, note=note)


@bp.post("/<int:note_id>/delete")
def delete(note_id: int) -> Response:
    note = _own_note(note_id)
    db.session.delete(note)
    db.session.commit()
    flash(f"Deleted “{note.title}”.", "info")
    return redirect(url_for("notes.index"))


@bp.get("/export")
def export() -> Response:
    # Built in memory: a user's notes are small, and nothing is left behind on disk.
    return send_file(
        io.BytesIO(export_bytes(notes_of(current_user.id))),
        mimetype="application/json",
        as_attachment=True,
        download_name="notes.json",
        max_age=0,
    )


@bp.post("/import")
def import_notes() -> Response:
    form = ImportForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(f"Import failed: {error}", "error")
        return redirect(url_for("notes.index"))
    try:
        imported = parse_import(form.file.data.read())
    except ImportFileError as error:
        flash(f"Import failed: {error} Your notes were not changed.", "error")
        return redirect(url_for("notes.index"))
    for item in imported:
        note = Note(title=item.title, body=item.body, owner_id=current_user.id)
        if item.created is not None:
            note.created = item.created
        if item.updated is not None:
            note.updated = item.updated
        db.session.add(note)
    db.session.commit()
    count = len(imported)
    flash(f"Imported {count} note{'' if count == 1 else 's'}.", "success")
    return redirect(url_for("notes.index"))
