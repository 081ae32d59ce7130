"""The frozen app's entry (:mod:`flaskdesk.frozen`), tested from source: Flask commands and start-up steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from flaskdesk.config import ProjectConfig
from flaskdesk.errors import AppLoadError
from flaskdesk.frozen import STATE_FILE, Step, main, plan_steps, run_flask_command, run_startup_steps

from .conftest import FIXTURE


@pytest.mark.parametrize(
    ("state", "created", "version", "expected"),
    [
        ({}, True, "1.0", [Step("first-run", "init-db"), Step("first-run", "seed --demo")]),
        (
            {"first-run": "pending", "version": "1.0"},
            False,
            "1.0",
            [Step("first-run", "init-db"), Step("first-run", "seed --demo")],
        ),
        ({"first-run": "done", "version": "1.0"}, False, "1.0", []),
        ({"first-run": "done", "version": "1.0"}, False, "1.1", [Step("on-upgrade", "db upgrade")]),
        ({}, False, "1.1", [Step("on-upgrade", "db upgrade")]),  # data from before the record existed
        ({"first-run": "done", "version": "1.0"}, False, None, []),  # unversioned app: never "upgraded"
    ],
)
def test_plan_steps(state: dict[str, str], created: bool, version: str | None, expected: list[Step]) -> None:
    steps = plan_steps(
        state,
        created=created,
        version=version,
        first_run=["init-db", "seed --demo"],
        on_upgrade=["db upgrade"],
    )
    assert steps == expected


@pytest.fixture
def demo_app(demo_importable: None, tmp_path: Path) -> Flask:
    from demoapp import create_app  # type: ignore[import-not-found]

    app: Flask = create_app()
    app.instance_path = str(tmp_path / "instance")
    return app


def _lines(app: Flask, name: str) -> list[str]:
    path = Path(app.instance_path) / name
    return path.read_text().splitlines() if path.exists() else []


def test_first_run_once_then_upgrade_once(demo_app: Flask, tmp_path: Path) -> None:
    project = ProjectConfig(first_run=("init-db",), on_upgrade=("bump",))
    data = tmp_path / "data"
    data.mkdir()
    run_startup_steps(demo_app, project, data, created=True, version="1.0")
    run_startup_steps(demo_app, project, data, created=False, version="1.0")
    run_startup_steps(demo_app, project, data, created=False, version="1.0")
    assert _lines(demo_app, "first-run.log") == ["init-db"]
    assert _lines(demo_app, "upgrade.log") == []
    run_startup_steps(demo_app, project, data, created=False, version="1.1")
    run_startup_steps(demo_app, project, data, created=False, version="1.1")
    assert _lines(demo_app, "upgrade.log") == ["bump"]
    assert _lines(demo_app, "first-run.log") == ["init-db"]
    assert json.loads((data / STATE_FILE).read_text()) == {"first-run": "done", "version": "1.1"}


def test_a_failed_first_run_is_retried(demo_app: Flask, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    failing = ProjectConfig(first_run=("init-db", "fail"))
    with pytest.raises(AppLoadError, match="`flask fail` failed with exit status 3"):
        run_startup_steps(demo_app, failing, data, created=True, version="1.0")
    assert json.loads((data / STATE_FILE).read_text()) == {"first-run": "pending"}
    fixed = ProjectConfig(first_run=("init-db",))
    run_startup_steps(demo_app, fixed, data, created=False, version="1.0")  # not a new data dir: retried
    assert _lines(demo_app, "first-run.log") == ["init-db", "init-db"]
    run_startup_steps(demo_app, fixed, data, created=False, version="1.0")
    assert _lines(demo_app, "first-run.log") == ["init-db", "init-db"]


def test_run_flask_command_statuses(demo_app: Flask, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_flask_command(["hello", "--name", "frozen"], app=demo_app) == 0
    assert "hello frozen from demoapp" in capsys.readouterr().out
    assert run_flask_command(["fail"], app=demo_app) == 3
    assert run_flask_command(["no-such-command"], app=demo_app) == 2
    assert "No such command" in capsys.readouterr().err


def test_main_runs_flask_commands_of_the_project_app(
    demo_importable: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(FIXTURE / "app")
    monkeypatch.setenv("FLASKDESK_DATA_DIR", str(tmp_path))
    assert main(["flask", "hello"]) == 0
    assert "hello world from demoapp" in capsys.readouterr().out
    # an `include`d file, read from source the way the frozen build reads it (test_real_build.py)
    assert main(["flask", "included", "data/colours.csv"]) == 0
    assert capsys.readouterr().out == (FIXTURE / "app" / "data" / "colours.csv").read_text()


def test_main_maps_errors_to_exit_codes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLASK_APP", raising=False)
    assert main(["flask", "routes"]) == 2  # no app: Flask's own "could not locate" usage error


def test_the_frozen_entry_is_runtime_only() -> None:
    """What the executable imports first must not drag tooling (or a GUI toolkit) into the bundle."""
    import subprocess
    import sys

    code = "import json, sys, flaskdesk.frozen; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    )
    tooling = (
        "flaskdesk.cli",
        "flaskdesk.freeze",
        "flaskdesk.host",
        "flaskdesk.packaging",
        "flaskdesk.testing",
    )
    assert [m for m in loaded if m.startswith(tooling) or m.split(".")[0] in ("PyInstaller", "pytest")] == []
    assert not {"webview", "PyQt6", "gi"} & set(loaded)


def test_hook_dir_is_registered() -> None:
    from importlib.metadata import entry_points

    from flaskdesk.freeze.hooks import get_hook_dirs

    (hook_dir,) = get_hook_dirs()
    assert (Path(hook_dir) / "hook-flaskdesk.py").is_file()
    registered = [ep.value for ep in entry_points(group="pyinstaller40")]
    assert "flaskdesk.freeze.hooks:get_hook_dirs" in registered
