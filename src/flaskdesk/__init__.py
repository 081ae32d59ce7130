"""flaskdesk: turn a Flask + Jinja2 web app into a real desktop application.

The public surface is small on purpose: :class:`Desktop` and the exception family.
"""

from __future__ import annotations

from .desktop import Desktop
from .errors import (
    AppLoadError,
    AppNotFoundError,
    BackendError,
    BridgeError,
    ConfigError,
    DataDirError,
    FlaskdeskError,
    NotificationError,
    ServerError,
    SingleInstanceError,
    WindowError,
)

__version__ = "0.1.0"

__all__ = [
    "AppLoadError",
    "AppNotFoundError",
    "BackendError",
    "BridgeError",
    "ConfigError",
    "DataDirError",
    "Desktop",
    "FlaskdeskError",
    "NotificationError",
    "ServerError",
    "SingleInstanceError",
    "WindowError",
]
