"""``python -m notes``: open the app in its desktop window."""

from __future__ import annotations

from . import create_app


def main() -> None:
    app = create_app()
    app.extensions["flaskdesk"].run()


if __name__ == "__main__":
    main()
