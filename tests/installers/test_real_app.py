"""The example app, really built, packaged as .deb and .rpm, installed, started from its launcher under
Xvfb (screenshot checked), removed without leftovers; the .rpm installed into a test root."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .installs import needs_root_dpkg, snapshot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "notes"
FLASKDESK = str(Path(sys.executable).parent / "flaskdesk")
BACKGROUND = (0x1F, 0x24, 0x30)  # the example's background-color

pytestmark = [pytest.mark.slow, pytest.mark.window]


@pytest.fixture(scope="module")
def built_example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A copy of examples/notes under a unique name, built with `flaskdesk build` (~40 s)."""
    name = f"fdtest-notes-{uuid.uuid4().hex[:6]}"
    root = tmp_path_factory.mktemp("real") / "notes"
    shutil.copytree(
        EXAMPLE, root, ignore=shutil.ignore_patterns("*.egg-info", "build", "dist", "__pycache__")
    )
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    identifier = f"org.flaskdesk.{name.replace('-', '_')}"
    text = text.replace(
        'name = "flaskdesk-notes"\nidentifier = "org.flaskdesk.notes"',
        f'name = "{name}"\nidentifier = "{identifier}"',
    )
    assert name in text
    (root / "pyproject.toml").write_text(text, encoding="utf-8")
    subprocess.run([FLASKDESK, "build"], cwd=root, check=True, capture_output=True, timeout=900)
    yield root, name


def _package(root: Path, fmt: str) -> Path:
    started = time.monotonic()
    result = subprocess.run(
        [FLASKDESK, "package", "-f", fmt], cwd=root, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = [line for line in result.stdout.splitlines() if re.match(rf"  dist/\S+\.{fmt} \(", line)]
    print(f"{fmt}: {line.strip()} [{time.monotonic() - started:.1f} s]")  # sizes and times in the test log
    return root / line.split()[0]


@needs_root_dpkg
def test_deb_installs_starts_from_its_launcher_and_removes_cleanly(
    built_example: tuple[Path, str], x_display: str, tmp_path: Path
) -> None:
    root, name = built_example
    package = _package(root, "deb")
    ident = f"org.flaskdesk.{name.replace('-', '_')}"
    control = subprocess.run(
        ["dpkg-deb", "-f", str(package), "Depends"], capture_output=True, text=True
    ).stdout
    assert "libc6 (>= 2." in control and "libegl1" in control
    before = snapshot()
    home = tmp_path / "home"
    home.mkdir()
    try:
        subprocess.run(["dpkg", "-i", str(package)], check=True, capture_output=True)
        subprocess.run(["desktop-file-validate", f"/usr/share/applications/{ident}.desktop"], check=True)
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "DISPLAY": x_display,
            "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox",  # root, as in CI
        }
        app = subprocess.Popen(
            [f"/usr/bin/{name}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            shot = _screenshot_when_shown(x_display, "Notes", tmp_path / "installed-app.png", app)
        finally:
            app.terminate()
            app.wait(20)
        _assert_app_painted(shot)
        data = home / ".local" / "share" / name
        assert data.is_dir()
        subprocess.run(["dpkg", "-r", name], check=True, capture_output=True)
        assert snapshot() == before, "dpkg -r left files behind"
        assert data.is_dir(), "the user's data dir is kept"
    finally:
        subprocess.run(["dpkg", "-P", name], capture_output=True, check=False)


def _screenshot_when_shown(display: str, title: str, target: Path, app: subprocess.Popen[bytes]) -> Path:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert app.poll() is None, f"the installed app exited with status {app.returncode}"
        found = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", title],
            capture_output=True,
            env={"DISPLAY": display},
        )
        if found.returncode == 0 and found.stdout.strip():
            time.sleep(3)  # let the page paint
            subprocess.run(["import", "-display", display, "-window", "root", str(target)], check=True)
            return target
        time.sleep(0.5)
    raise AssertionError(f"no {title!r} window appeared within 90 s")


def _assert_app_painted(shot: Path) -> None:
    from PIL import Image

    with Image.open(shot) as image:
        data = image.convert("RGB").tobytes()
        pixels = [tuple(data[i : i + 3]) for i in range(0, len(data), 3)]
        background = sum(
            1 for p in pixels if all(abs(a - b) <= 8 for a, b in zip(p, BACKGROUND, strict=True))
        )
        colors = len(set(pixels))
    assert background > 20_000, f"the app's background colour is not on screen ({background} px)"
    assert colors > 50, "the window looks blank"


@pytest.mark.skipif(shutil.which("rpmbuild") is None, reason="rpm is not installed")
def test_rpm_installs_into_a_test_root(built_example: tuple[Path, str], tmp_path: Path) -> None:
    root, name = built_example
    package = _package(root, "rpm")
    target = tmp_path / "rpmroot"
    subprocess.run(
        ["rpm", "-i", "--nodeps", "--noscripts", "--root", str(target), str(package)],
        check=True,
        capture_output=True,
    )
    assert (target / f"opt/{name}/{name}").is_file()
    assert (target / f"usr/bin/{name}").is_file()
    assert (target / f"opt/{name}/_internal/flaskdesk/baked-config.json").is_file()
