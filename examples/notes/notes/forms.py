"""The app's forms (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import PasswordField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from .models import TITLE_MAX, USERNAME_MAX


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    submit = SubmitField("Log in")


class RegisterForm(FlaskForm):
    username = StringField(
        "Username",
        validators=[
            DataRequired(),
            Length(min=3, max=USERNAME_MAX),
            Regexp(r"^[\w.-]+$", message="Use letters, digits, dots, dashes and underscores only."),
        ],
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", message="The passwords differ.")]
    )
    submit = SubmitField("Create account")


class NoteForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_MAX)])
    body = TextAreaField("Note")
    submit = SubmitField("Save")


class ImportForm(FlaskForm):
    file = FileField(
        "Notes file (.json)",
        validators=[FileRequired("Choose a file to import."), FileAllowed(["json"], "Choose a .json file.")],
    )
    submit = SubmitField("Import")
