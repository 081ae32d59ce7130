"""``desktop_window`` and ``frozen_app`` against real windows (Xvfb when there is no display).

Each case runs pytest on a small project and checks both that driving works and that a failure
tells the reader where the page was, what it said, and where the screenshot and log are.
"""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path

import pytest

from flaskdesk.testing.driver import source_command

from .conftest import RunPytest

pytestmark = pytest.mark.window


def test_desktop_window_drives_the_real_window(run: RunPytest, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import json
        import pytest
        from flaskdesk.testing.driver import JavaScriptError

        def test_flow(desktop_window, tmp_path):
            w = desktop_window
            w.wait_for("#title")
            assert w.text("#title") == "Hello from myapp"
            assert w.url.endswith("/")
            assert w.bridge_available()
            w.click("#go")
            w.wait_for("#name")
            w.fill("#name", "Ada")
            w.click("#send")
            w.wait_for("#greeting")
            assert w.text("#greeting") == "Hi Ada"
            assert w.evaluate("document.title") == "Saved"
            assert w.evaluate("flaskdesk.api.add(2, 3)") == 5
            assert w.evaluate("[1, 'two', null, {a: true}]") == [1, "two", None, {"a": True}]
            with pytest.raises(JavaScriptError) as caught:
                w.evaluate("flaskdesk.api.fail('disk full')")
            assert (caught.value.name, caught.value.message) == ("ValueError", "disk full")
            with pytest.raises(JavaScriptError) as caught:
                w.evaluate("nothing.here")
            assert caught.value.name == "ReferenceError"
            w.goto("/whoami")
            assert json.loads(w.text("body")) == {"name": "Ada"}
            assert "/whoami" in w.routes() and "/" in w.routes()
            shot = w.screenshot(tmp_path / "window.png")
            assert shot.read_bytes()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
            assert w.js_errors() == []
            assert w.close() == 0

        def test_the_app_never_sees_the_automation_secret(desktop_window):
            desktop_window.goto("/env")
            seen = json.loads(desktop_window.text("body"))
            assert seen["at_import"] == [] and seen["now"] == []
            assert seen["data_dir"] == str(desktop_window.data_dir)

        def test_js_errors_are_collected(desktop_window):
            desktop_window.goto("/broken")
            desktop_window.click("#explode")
            errors = desktop_window.js_errors()
            messages = " | ".join(e["message"] for e in errors)
            assert "undefinedThing" in messages and "nobody caught me" in messages
            assert {e["type"] for e in errors} == {"error", "unhandledrejection"}
        """
    )
    result = run()
    result.assert_outcomes(passed=3)


def test_desktop_window_wait_for_failure_reads_well(run: RunPytest, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_missing(desktop_window):
            desktop_window.wait_for("#does-not-exist", timeout=1)
        """
    )
    result = run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*WaitTimeout: wait_for('#does-not-exist') timed out after 1 s: no element matches*",
            "*  url:        http://127.0.0.1:*/",
            "*  title:      'Home'",
            "*  screenshot: */flaskdesk-artifacts/screenshot-1.png",
            "*  page text:",
            "*    Hello from myapp*",
        ]
    )
    # The report carries the app's log (as a section), and the screenshot really exists.
    result.stdout.fnmatch_lines(["*- flaskdesk myapp log -*", "*window authenticated*"])
    shot = next(line for line in result.outlines if "screenshot: " in line).split("screenshot: ")[1]
    assert Path(shot.strip()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_desktop_window_failure_report_has_js_errors(run: RunPytest, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_broken_page(desktop_window):
            desktop_window.goto("/broken")
            desktop_window.click("#explode")
            assert desktop_window.text("#explode") == "Exploded"
        """
    )
    result = run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: assert 'Explode' == 'Exploded'*",
            "*- flaskdesk myapp JavaScript errors -*",
            "*[[]error]*ReferenceError*undefinedThing* on /broken*",
            "[[]unhandledrejection] nobody caught me on /broken",
            "*- flaskdesk myapp screenshot -*",
            "*screenshot-*.png",
        ]
    )


def test_desktop_window_app_that_cannot_start(run: RunPytest, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        broken="raise ImportError('the database driver is not installed')\n",
        test_broken="def test_window(desktop_window):\n    pass\n",
    )
    result = run("--flaskdesk-app", "broken:create_app()")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*The app could not start: Module *broken* raised ImportError*the database driver is not installed*"]
    )


def fake_frozen_build(folder: Path, name: str = "myapp-test") -> Path:
    """An executable standing in for ``flaskdesk build`` output: it runs the project from source."""
    executable = folder / "dist" / name / name
    executable.parent.mkdir(parents=True)
    command = " ".join(map(shlex.quote, source_command("myapp:create_app()")))
    executable.write_text(f"#!/bin/sh\ncd {shlex.quote(str(folder))} && exec {command}\n")
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR)
    return executable


def test_frozen_app_drives_the_build(run: RunPytest, pytester: pytest.Pytester) -> None:
    fake_frozen_build(pytester.path)
    pytester.makepyfile(
        """
        def test_build(frozen_app):
            frozen_app.wait_for("#title")
            assert frozen_app.text("#title") == "Hello from myapp"
            assert frozen_app.close() == 0
        """
    )
    run().assert_outcomes(passed=1)


def test_frozen_app_path_from_the_environment(
    run: RunPytest, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    executable = fake_frozen_build(pytester.path, name="elsewhere")
    monkeypatch.setenv("FLASKDESK_FROZEN", str(executable))
    pytester.makepyfile("def test_build(frozen_app):\n    assert frozen_app.bridge_available()\n")
    run().assert_outcomes(passed=1)


def test_frozen_app_that_crashes_reports_its_output(run: RunPytest, pytester: pytest.Pytester) -> None:
    executable = pytester.path / "crashing-app"
    executable.write_text("#!/bin/sh\necho 'Fatal: libGL missing' >&2\nexit 3\n")
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR)
    pytester.makepyfile("def test_build(frozen_app):\n    pass\n")
    result = run("--flaskdesk-frozen", str(executable))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*The app exited with status 3 while 'hello' was pending.*",
            "*Fatal: libGL missing*",
        ]
    )


@pytest.mark.skipif(not os.path.exists("/proc/self/net/tcp"), reason="needs /proc (Linux)")
def test_the_app_listens_only_on_its_server_port(run: RunPytest, pytester: pytest.Pytester) -> None:
    """The channel adds no listener: the app process has exactly one listening TCP socket."""
    pytester.makepyfile(
        """
        import os
        from pathlib import Path

        def listening(pid):
            own = set()
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:["):
                    own.add(target[8:-1])
            found = []
            for table in ("tcp", "tcp6"):
                for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                    fields = line.split()
                    if fields[3] == "0A" and fields[9] in own:
                        found.append(fields[1])
            return found

        def test_listeners(desktop_window):
            port = int(desktop_window.url.split(":")[2].split("/")[0])
            found = listening(desktop_window.pid)
            assert found == [f"0100007F:{port:04X}"]
        """
    )
    run().assert_outcomes(passed=1)
