"""``flaskdesk package`` and ``flaskdesk ci`` end to end through the real entry point (errors, exit codes)."""

from __future__ import annotations

import platform
import tarfile
from pathlib import Path

import pytest

from flaskdesk.cli import main
from flaskdesk.scaffold.icon import app_icon

from .conftest import make_bundle

PYPROJECT = """\
[project]
name = "fdcli"
version = "{version}"

[tool.flaskdesk]
app = "fdcli:app"
name = "fdcli"
icon = "icon.png"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose onedir build (a fake one) is up to date."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT.format(version="1.2.3"), encoding="utf-8")
    (root / "icon.png").write_bytes(app_icon("fdcli", 512))
    tool = {"app": "fdcli:app", "name": "fdcli", "icon": "flaskdesk/icon.png", "version": "1.2.3"}
    make_bundle(root / "dist", "fdcli", tool=tool)
    return root


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


def test_package_writes_into_dist_and_deletes_nothing_else(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keep = [
        project / "dist" / "notes.txt",
        project / "build" / "keep.txt",
        project / "dist" / "fdcli" / "fdcli",
    ]
    for path in keep[:2]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("mine")
    for _ in range(2):  # the second run replaces its own outputs only
        code, out, err = run(["package", "--format", "tar.gz", "--project", str(project)], capsys)
        assert (code, err) == (0, "")
    archive = project / "dist" / f"fdcli-1.2.3-linux-{platform.machine().lower()}.tar.gz"
    assert f"dist/{archive.name} (" in out
    with tarfile.open(archive) as tar:
        assert "fdcli-1.2.3/fdcli" in tar.getnames()
    assert all(path.exists() for path in keep)


def test_missing_build(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "dist" / "fdcli" / "fdcli").unlink()
    code, _, err = run(["package", "-f", "targz", "--project", str(project)], capsys)
    assert code == 1 and "No build to package" in err and "Run `flaskdesk build`" in err


def test_stale_build(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text(PYPROJECT.format(version="1.2.4"), encoding="utf-8")
    code, _, err = run(["package", "-f", "targz", "--project", str(project)], capsys)
    assert code == 1 and "out of date ([tool.flaskdesk] version changed)" in err and "flaskdesk build" in err


@pytest.mark.parametrize(
    ("formats", "message"),
    [
        ("nsis", "Windows runner (windows-latest"),
        ("deb,dmg", "macOS runner (macos-latest"),
        ("snap", "Unknown"),
    ],
)
def test_formats_this_machine_cannot_make(
    project: Path, capsys: pytest.CaptureFixture[str], formats: str, message: str
) -> None:
    code, _, err = run(["package", "-f", formats, "--project", str(project)], capsys)
    assert code == 1 and message in err


def test_ci_writes_the_workflow_once(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = "flaskdesk @ git+https://example.org/fd@main"
    code, out, _ = run(["ci", "--project", str(project), "--flaskdesk-source", source], capsys)
    workflow = project / ".github" / "workflows" / "release.yml"
    assert code == 0 and f"Wrote {workflow}" in out
    assert f'FLASKDESK: "{source}"' in workflow.read_text()
    code, _, err = run(["ci", "--project", str(project)], capsys)
    assert code == 2 and "--force" in err
    code, _, _ = run(["ci", "--project", str(project), "--force"], capsys)
    assert code == 0 and 'FLASKDESK: "flaskdesk==' in workflow.read_text()
