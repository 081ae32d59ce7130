"""Register, log in, log out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from .extensions import db
from .forms import LoginForm, RegisterForm
from .models import User

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/register", methods=["GET", "POST"])
def register() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("notes.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        username = form.username.data or ""
        if db.session.scalar(select(User).where(User.username == username)) is not None:
            form.username.errors.append("That username is taken.")
        else:
            user = User(username=username)
            user.set_password(form.password.data or "")
            db.session.add(user)
            db.session.commit()
            login_user(user, remember=True)
            flash(f"Welcome, {user.username}!", "success")
            return redirect(url_for("notes.index"))
    return render_template("auth/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("notes.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data))
        if user is not None and user.check_password(form.password.data or ""):
            login_user(user, remember=True)
            return redirect(_safe_next(request.args.get("next")) or url_for("notes.index"))
        form.password.errors.append("Wrong username or password.")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Response:
    logout_user()  # CSRFProtect has already checked the form's token
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else ``None`` (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return None
    return target
