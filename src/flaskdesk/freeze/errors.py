"""The error ``flaskdesk build`` raises when it cannot produce an executable."""

from __future__ import annotations

from ..errors import FlaskdeskError


class BuildError(FlaskdeskError):
    """Freezing failed: the app could not be inspected, PyInstaller failed, or the output is unusable.

    The message says what failed and what to try; when PyInstaller itself failed it quotes the
    relevant lines of its log and names the file holding the whole log.
    """
