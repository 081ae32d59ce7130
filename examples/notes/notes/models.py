"""The two tables: users and their notes."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask_login import UserMixin
from sqlalchemy import DateTime, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db

TITLE_MAX = 200
USERNAME_MAX = 40


def utcnow() -> datetime:
    """Now in UTC, naive: SQLite has no time zones, so every stored time is UTC by convention."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class User(UserMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    notes: Mapped[list[Note]] = relationship(back_populates="owner", cascade="all, delete-orphan")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class Note(db.Model):  # type: ignore[name-defined]
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    owner: Mapped[User] = relationship(back_populates="notes")

    def to_dict(self) -> dict[str, Any]:
        """The note as JSON-ready data (times in ISO 8601, UTC)."""
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "created": _iso(self.created),
            "updated": _iso(self.updated),
        }


def notes_of(user_id: int) -> list[Note]:
    """A user's notes, most recently changed first."""
    query = select(Note).where(Note.owner_id == user_id).order_by(Note.updated.desc(), Note.id.desc())
    return list(db.session.scalars(query))


def note_of(user_id: int, note_id: int) -> Note | None:
    """The note ``note_id`` if it belongs to the user, else ``None`` (someone else's note is "not found")."""
    note = db.session.get(Note, note_id)
    return note if note is not None and note.owner_id == user_id else None


def _iso(value: datetime) -> str:
    return value.replace(tzinfo=timezone.utc).isoformat()
