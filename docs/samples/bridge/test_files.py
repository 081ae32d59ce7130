import pytest
from files import app

from flaskdesk import BridgeError

bridge = app.extensions["flaskdesk"].bridge


def test_add():
    assert bridge.call("add", [2, 3], {}) == 5


def test_add_checks_its_arguments():
    with pytest.raises(BridgeError) as caught:
        bridge.call("add", ["2", 3], {})
    assert caught.value.name == "TypeError"
    assert caught.value.message == "add(): argument 'a' must be number (int), not string"


def test_missing_note():
    with pytest.raises(BridgeError, match="there is no note 9") as caught:
        bridge.call("findNote", [9], {})
    assert caught.value.name == "NotFound"
