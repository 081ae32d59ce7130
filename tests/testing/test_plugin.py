"""The in-process fixtures (``desktop_app``, ``desktop_client``, ``desktop_bridge``): a passing and a
failing run of each, the failing ones checked for a report a person can act on."""

from __future__ import annotations

import pytest

from .conftest import RunPytest


def test_desktop_app_is_the_project_app_configured_for_testing(
    run: RunPytest, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(
        """
        from pathlib import Path

        def test_app(desktop_app, tmp_path):
            assert desktop_app.name == "myapp"
            assert desktop_app.testing is True
            assert tmp_path in Path(desktop_app.instance_path).parents
            assert "flaskdesk" in desktop_app.extensions
        """
    )
    run().assert_outcomes(passed=1)


def test_desktop_app_can_be_overridden_in_conftest(run: RunPytest, pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        from myapp import create_app

        @pytest.fixture
        def desktop_app():
            app = create_app()
            app.config.update(TESTING=True, GREETING="custom")
            return app
        """
    )
    pytester.makepyfile(
        """
        def test_custom(desktop_app, desktop_bridge, desktop_client):
            assert desktop_app.config["GREETING"] == "custom"
            assert desktop_bridge.add(1, 1) == 2
            assert desktop_client.get("/").status_code == 200
        """
    )
    run().assert_outcomes(passed=1)


def test_desktop_app_target_from_the_command_line(run: RunPytest, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        other="""
        from flask import Flask
        app = Flask("other")
        """
    )
    pytester.makepyfile("def test_app(desktop_app):\n    assert desktop_app.name == 'other'\n")
    run("--flaskdesk-app", "other:app").assert_outcomes(passed=1)


def test_desktop_app_without_an_app_says_how_to_name_one(pytester: pytest.Pytester) -> None:
    from .conftest import plugin_args

    pytester.makepyfile("def test_app(desktop_app):\n    pass\n")
    result = pytester.runpytest(*plugin_args(), "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*desktop_app: No app to run: pass --app module:app*FLASK_APP*[tool.flaskdesk]*"]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


def test_desktop_app_failing_assertion(run: RunPytest, pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_app(desktop_app):\n    assert desktop_app.config['DEBUG'] is True\n")
    result = run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*assert False is True*"])


def test_desktop_client_goes_through_the_guard_as_the_window(
    run: RunPytest, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(
        """
        def test_page(desktop_client):
            response = desktop_client.get("/")
            assert response.status_code == 200
            html = response.get_data(as_text=True)
            assert "Hello from myapp" in html
            assert '/__flaskdesk__/flaskdesk.js' in html          # the guard injected the shim
            assert "nonce-" in response.headers["Content-Security-Policy"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert desktop_client.origin.startswith("http://127.0.0.1:")

        def test_script_and_session(desktop_client):
            assert desktop_client.get("/__flaskdesk__/flaskdesk.js").status_code == 200
            assert desktop_client.post("/remember", json={"name": "ada"}).status_code == 200
            assert desktop_client.get("/whoami").get_json() == {"name": "ada"}

        def test_session_transaction(desktop_client):
            with desktop_client.session_transaction() as session:
                session["name"] = "linus"
            assert desktop_client.get("/whoami").get_json() == {"name": "linus"}
            desktop_client.post("/remember", json={"name": "ada"})
            with desktop_client.session_transaction() as session:
                assert session["name"] == "ada"

        def test_form_post_and_redirects(desktop_client):
            response = desktop_client.post("/form", data={"name": "grace"})
            assert "Hi grace" in response.get_data(as_text=True)
            response = desktop_client.get("/old", follow_redirects=True)
            assert response.request.path == "/form" and 'id="name"' in response.get_data(as_text=True)
            assert response.request.headers["Host"] == desktop_client.origin.removeprefix("http://")

        def test_the_guard_still_refuses_what_the_window_would_never_send(desktop_client):
            cross_site = {"Sec-Fetch-Site": "cross-site"}
            assert desktop_client.post("/remember", json={}, headers=cross_site).status_code == 403
            evil = {"Origin": "http://evil.example"}
            assert desktop_client.post("/remember", json={}, headers=evil).status_code == 403
        """
    )
    run().assert_outcomes(passed=5)


def test_desktop_client_failure_shows_the_response(run: RunPytest, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_missing(desktop_client):
            response = desktop_client.get("/nowhere")
            assert response.status_code == 200, response.get_data(as_text=True)
        """
    )
    result = run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*AssertionError: <!doctype html>*", "*<title>404 Not Found</title>*", "*assert 404 == 200*"]
    )


def test_desktop_bridge_mirrors_flaskdesk_api(run: RunPytest, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from flaskdesk import BridgeError

        def test_result(desktop_bridge):
            assert desktop_bridge.add(2, 3) == 5
            assert desktop_bridge.call("add", [2], {"b": 5}) == 7

        @pytest.mark.parametrize(
            ("call", "name", "message"),
            [
                (lambda b: b.add(2, "3"), "TypeError", "add(): argument 'b' must be number (int), not str*"),
                (lambda b: b.add(2), "TypeError", "add(): missing a required argument: 'b'"),
                (lambda b: b.nothing(), "LookupError", "no function named 'nothing' is exposed"),
                (lambda b: b.call("__class__"), "LookupError", "no function named '__class__' is exposed"),
                (lambda b: b.fail("disk full"), "ValueError", "disk full"),
                (lambda b: b.refuse(), "PermissionError", "not allowed"),
                (lambda b: b.add(object(), 1), "TypeError", "arguments cannot be sent as JSON: *"),
            ],
        )
        def test_errors(desktop_bridge, call, name, message):
            with pytest.raises(BridgeError) as caught:
                call(desktop_bridge)
            assert caught.value.name == name
            import fnmatch
            assert fnmatch.fnmatch(caught.value.message, message), caught.value.message

        def test_private_names_are_not_calls(desktop_bridge):
            with pytest.raises(AttributeError):
                desktop_bridge._secret
        """
    )
    run().assert_outcomes(passed=9)


def test_desktop_bridge_failure_reads_like_the_js_error(run: RunPytest, pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_save(desktop_bridge):\n    desktop_bridge.fail('disk full')\n")
    result = run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*flaskdesk.errors.BridgeError: ValueError: disk full*"])


def test_window_fixtures_are_marked(run: RunPytest, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_window(desktop_window):
            pass

        def test_frozen(frozen_app):
            pass

        def test_fast(desktop_client):
            pass
        """
    )
    result = run("-m", "not window")
    result.assert_outcomes(passed=1, deselected=2)


def test_frozen_app_skips_with_how_to_build(run: RunPytest, pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_frozen(frozen_app):\n    pass\n")
    result = run("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["*frozen_app: no build at */dist/myapp-test/myapp-test; run `flaskdesk build` first*"]
    )


def test_frozen_app_with_a_wrong_path_fails(run: RunPytest, pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_frozen(frozen_app):\n    pass\n")
    result = run("--flaskdesk-frozen", "nowhere/app")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*frozen_app: */nowhere/app (from --flaskdesk-frozen/$FLASKDESK_FROZEN) does not exist*"]
    )
