from __future__ import annotations

import flaskdesk


def test_all_is_sorted_and_complete() -> None:
    assert flaskdesk.__all__ == sorted(flaskdesk.__all__)
    public = {name for name in dir(flaskdesk) if not name.startswith("_")}
    submodules = {"app", "config", "desktop", "errors", "launch", "launcher", "resources", "settings", "ui"}
    assert set(flaskdesk.__all__) == public - submodules


def test_every_error_is_a_flaskdesk_error() -> None:
    for name in flaskdesk.__all__:
        obj = getattr(flaskdesk, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, flaskdesk.FlaskdeskError)
