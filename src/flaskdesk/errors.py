"""The one exception family.

Every error flaskdesk raises on purpose is a :class:`FlaskdeskError`. Its ``str()`` is a
message a user can act on (what went wrong, and what to do about it); entry points (the CLI
and the frozen app's launcher) print that message and map the class to an exit status.
"""

from __future__ import annotations


class FlaskdeskError(Exception):
    """Base class of every error flaskdesk raises deliberately."""

    #: Exit status an entry point uses when this error ends the process.
    exit_code: int = 1


class ConfigError(FlaskdeskError):
    """A ``[tool.flaskdesk]`` table, environment variable or argument has a bad value."""

    exit_code = 2


class AppNotFoundError(FlaskdeskError):
    """The app target (``module:attr`` / ``module:factory()``) does not name a Flask app."""

    exit_code = 2


class AppLoadError(FlaskdeskError):
    """The user's module raised while importing, or the app factory raised."""


class ServerError(FlaskdeskError):
    """The embedded HTTP server could not start (for example the OS refused the socket)."""


class BackendError(FlaskdeskError):
    """No window backend can run: a GUI toolkit, a system library or a display is missing."""


class DataDirError(FlaskdeskError):
    """The per-user data, config or log directory cannot be created or written."""


class SingleInstanceError(FlaskdeskError):
    """Another copy of the app holds the single-instance lock but does not take the hand-over."""


class WindowError(FlaskdeskError):
    """A window feature (dialog, new window, menu) was used when no window can provide it."""


class NotificationError(FlaskdeskError):
    """A desktop notification could not be shown: no notification service, or none on this backend."""


class BridgeError(FlaskdeskError):
    """A call through the JS bridge failed.

    ``name`` and ``message`` are exactly what JavaScript sees on the rejected promise's
    ``Error`` (``error.name``, ``error.message``), so tests can assert the same thing the
    page would.
    """

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


__all__ = [
    "AppLoadError",
    "AppNotFoundError",
    "BackendError",
    "BridgeError",
    "ConfigError",
    "DataDirError",
    "FlaskdeskError",
    "NotificationError",
    "ServerError",
    "SingleInstanceError",
    "WindowError",
]
