from __future__ import annotations
import __future__

import types

import flaskdesk


def test_all_is_sorted_and_complete() -> None:
    assert flaskdesk.__all__ == sorted(flaskdesk.__all__)
    public = {
        name
        for name, value in vars(flaskdesk).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and not isinstance(value, __future__._Feature)
    }
    assert set(flaskdesk.__all__) == public


def test_every_error_is_a_flaskdesk_error() -> None:
    for name in flaskdesk.__all__:
        obj = getattr(flaskdesk, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, flaskdesk.FlaskdeskError)
