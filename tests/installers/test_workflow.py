"""The generated release workflow: valid against GitHub's schema, and only uses what hosted runners have."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from flaskdesk import __version__
from flaskdesk.packaging import msi
from flaskdesk.packaging.base import Job, get_packager
from flaskdesk.packaging.workflow import plan_workflow, render_workflow

from .conftest import make_app

#: GitHub-hosted runner labels.
HOSTED = {"ubuntu-latest", "ubuntu-22.04", "ubuntu-24.04", "windows-latest", "windows-2022", "windows-2025",
          "macos-latest", "macos-13", "macos-14", "macos-15"}  # fmt: skip
#: Actions the workflow may use: GitHub's own, pinned to a major version.
ACTIONS = {
    "actions/checkout@v4",
    "actions/setup-python@v5",
    "actions/upload-artifact@v4",
    "actions/download-artifact@v4",
}
#: Programs every hosted runner of that OS has before any step runs.
PREINSTALLED = {
    "linux": {"dpkg-deb", "dpkg-query", "gpg", "curl", "sudo", "apt-get", "gh", "git"},
    "win32": {"choco", "pwsh", "git"},
    "darwin": {"hdiutil", "codesign", "xcrun", "git"},
}
OS_OF = {"ubuntu": "linux", "windows": "win32", "macos": "darwin"}
CHECK_JSONSCHEMA = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")


def _workflow(**changes: Any) -> tuple[str, dict[str, Any]]:
    options: dict[str, Any] = {"name": "notes", "backend": None, "python_version": "3.11", **changes}
    text = render_workflow(plan_workflow(**options))
    return text, yaml.safe_load(text)


@pytest.mark.skipif(
    not Path(CHECK_JSONSCHEMA).exists(), reason="check-jsonschema is not installed (dev extra)"
)
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"backend": "gtk", "project_dir": "examples/notes"},
        {"flaskdesk_source": "flaskdesk @ git+https://x/y@main"},
    ],
)
def test_valid_against_the_github_workflow_schema(tmp_path: Path, changes: dict[str, Any]) -> None:
    """check-jsonschema ships the schema (vendored): this works offline."""
    text, _ = _workflow(**changes)
    path = tmp_path / "release.yml"
    path.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_runs_only_on_hosted_runners_with_known_actions() -> None:
    _, workflow = _workflow()
    package = workflow["jobs"]["package"]
    labels = [row["os"] for row in package["strategy"]["matrix"]["include"]]
    assert labels == ["ubuntu-22.04", "windows-latest", "macos-latest"]
    assert set(labels) <= HOSTED and workflow["jobs"]["release"]["runs-on"] in HOSTED
    used = {step["uses"] for job in workflow["jobs"].values() for step in job["steps"] if "uses" in step}
    assert used <= ACTIONS


def test_every_format_tool_is_on_the_runner_or_installed_by_a_step() -> None:
    text, workflow = _workflow()
    steps = workflow["jobs"]["package"]["steps"]
    apt = next(s["run"] for s in steps if s.get("name", "").startswith("Install system libraries"))
    choco = next(s["run"] for s in steps if "(Windows)" in s.get("name", ""))
    for row in workflow["jobs"]["package"]["strategy"]["matrix"]["include"]:
        platform = OS_OF[row["os"].split("-")[0]]
        for fmt in row["formats"].split(","):
            packager = get_packager(fmt)
            assert platform in packager.platforms and platform in packager.hosts, (fmt, row["os"])
            job = Job(
                app=make_app("x", None),
                bundle=Path("b"),
                out_dir=Path("d"),
                work_dir=Path("w"),
                platform=platform,
            )
            tools = msi.tools_for_host(platform) if fmt == "msi" else packager.tools(job)
            for tool in tools:
                available = (
                    tool.program in PREINSTALLED[platform]
                    or (platform == "linux" and tool.debian is not None and f" {tool.debian} " in f" {apt} ")
                    or (platform == "linux" and f"/usr/local/bin/{tool.program}" in apt)
                    or (
                        platform == "win32" and tool.chocolatey is not None and f" {tool.chocolatey}" in choco
                    )
                )
                assert available, (
                    f"{tool.program} ({fmt} on {row['os']}) is neither preinstalled nor installed"
                )
    assert "xvfb" in apt.split() and "xvfb-run -a flaskdesk build --check" in text
    assert "playwright install" not in text and "self-hosted" not in text


def test_flaskdesk_source_defaults_to_this_version_and_is_settable() -> None:
    _, workflow = _workflow()
    assert workflow["env"]["FLASKDESK"] == f"flaskdesk=={__version__}"
    _, workflow = _workflow(flaskdesk_source="flaskdesk @ git+https://example.org/fd@main")
    assert workflow["env"]["FLASKDESK"] == "flaskdesk @ git+https://example.org/fd@main"
    install = next(
        s for s in workflow["jobs"]["package"]["steps"] if s.get("name") == "Install flaskdesk and the app"
    )
    assert 'python -m pip install "$FLASKDESK"' in install["run"]


def test_project_in_a_subfolder() -> None:
    _, workflow = _workflow(project_dir="examples/notes", backend="gtk")
    package = workflow["jobs"]["package"]
    assert package["defaults"]["run"]["working-directory"] == "examples/notes"
    upload = next(s for s in package["steps"] if s.get("uses", "").startswith("actions/upload-artifact"))
    assert "examples/notes/dist/*.deb" in upload["with"]["path"].split()
    assert package["strategy"]["matrix"]["include"][0]["extra"] == "[gtk]"
