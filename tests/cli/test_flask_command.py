"""``flask desktop``: flaskdesk's command inside Flask's own CLI (``flask.commands`` entry point)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import Child

FLASK = [sys.executable, "-m", "flask"]


def _flask(args: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLASK, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_flask_lists_the_desktop_command(dev_project: Path, child_env: dict[str, str]) -> None:
    result = _flask(["--app", "devapp:create_app", "--help"], cwd=dev_project, env=child_env)
    assert result.returncode == 0, result.stderr
    assert "desktop" in result.stdout
    assert "Open this Flask app in a native desktop window" in result.stdout


def test_flask_desktop_help(dev_project: Path, child_env: dict[str, str]) -> None:
    result = _flask(["--app", "devapp:create_app", "desktop", "--help"], cwd=dev_project, env=child_env)
    assert result.returncode == 0, result.stderr
    assert "Usage: python -m flask desktop [OPTIONS]" in result.stdout
    assert "--backend [qt|gtk]" in result.stdout
    assert "--dev / --no-dev" in result.stdout


@pytest.mark.window
def test_flask_desktop_opens_the_window_and_closes_on_sigterm(
    dev_project: Path, child_env: dict[str, str], x_display: str, start_child: Any
) -> None:
    child: Child = start_child(
        [*FLASK, "--app", "devapp:create_app", "desktop"],
        cwd=dev_project,
        env={**child_env, "DISPLAY": x_display},
    )
    child.wait_for_beacon("one", "py-one", timeout=60)  # the page rendered in the window
    assert child.terminate() == 0, child.output()
    assert "closed cleanly" in child.output()
