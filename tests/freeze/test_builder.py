"""The build sequence with a recording host: exact PyInstaller call, baked config, fast rebuild.

The probe really imports the fixture app (through the real host); PyInstaller is replaced by a
responder that lays out a plausible ``dist/`` so the steps after it run for real.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from flaskdesk.config import ProjectConfig
from flaskdesk.errors import ConfigError
from flaskdesk.freeze.builder import Builder, BuildOptions, baked_config
from flaskdesk.freeze.spec import BuildTarget
from flaskdesk.host import Host, RecordingHost


class FakePyInstaller:
    """Answers the host's ``run`` calls: the probe for real, PyInstaller by writing a fake bundle."""

    def __init__(self) -> None:
        self.fail = False

    def __call__(self, argv: list[str], kwargs: Mapping[str, Any]) -> tuple[int, list[str]]:
        if argv[1:3] == ["-m", "PyInstaller"]:
            if self.fail:
                return 1, [
                    "100 INFO: Building Analysis",
                    "200 ERROR: Unable to find '/nope' when adding binary and data files.",
                ]
            dist = Path(argv[argv.index("--distpath") + 1])
            spec = Path(argv[3])
            name = spec.stem
            onefile = "runtime_tmpdir=None" in spec.read_text()
            exe = dist / name if onefile else dist / name / name
            exe.parent.mkdir(parents=True, exist_ok=True)
            exe.write_bytes(b"\x7fELF fake")
            exe.chmod(0o755)
            if not onefile:
                internal = dist / name / "_internal" / "demoapp" / "pages" / "templates" / "pages"
                internal.mkdir(parents=True, exist_ok=True)
                (internal / "index.html").write_text("old")
            (spec.parent / "licenses.json").write_text(
                json.dumps(
                    [
                        {
                            "distribution": "PyQt6",
                            "version": "6.11.0",
                            "license": "GPL-3.0-only",
                            "gpl": True,
                            "files": [],
                        }
                    ]
                )
            )
            return 0, ["1 INFO: Building Analysis because x", "2 INFO: Building COLLECT because y"]
        real = Host().run(argv, cwd=kwargs["cwd"], env=kwargs["env"], log_file=kwargs["log_file"])
        return real.returncode, real.stdout.splitlines()


@pytest.fixture
def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "QT_API", "FLASK_APP")}


def _builder(
    project: Path, env: dict[str, str], responder: FakePyInstaller
) -> tuple[Builder, RecordingHost, list]:
    host = RecordingHost(
        responder=responder, allowed_roots=[project / "build", project / "dist"], perform_file_ops=True
    )
    stages: list[tuple[str, str]] = []
    builder = Builder(project, host=host, env=env, progress=lambda s, d: stages.append((s, d)))
    return builder, host, stages


def test_full_then_fast_then_full(demo_project: Path, env: dict[str, str]) -> None:
    fake = FakePyInstaller()
    builder, host, stages = _builder(demo_project, env, fake)
    result = builder.build(BuildOptions(backend="qt"))

    work = demo_project / "build" / "flaskdesk"
    probe, pyinstaller = host.runs()
    assert probe[1] == "-c" and probe[3:] == [
        "demoapp:create_app()",
        str(demo_project),
        str(work / "probe.json"),
    ]
    assert pyinstaller == [
        sys.executable,
        "-m",
        "PyInstaller",
        str(work / "Freeze-Demo.spec"),
        "--distpath",
        str(demo_project / "dist"),
        "--workpath",
        str(work / "pyinstaller-onedir"),
        "--noconfirm",
        "--log-level",
        "INFO",
    ]
    call = [c for c in host.calls if c.method == "run"][1]
    assert call.kwargs["env"]["PYTHONHASHSEED"] == "0"
    assert call.kwargs["env"]["SOURCE_DATE_EPOCH"] == "315532800"  # no git here (RecordingHost.which)
    assert call.kwargs["log_file"] == work / "pyinstaller.log"

    assert result.mode == "full"
    assert result.executable == demo_project / "dist" / "Freeze-Demo" / "Freeze-Demo"
    assert [n.distribution for n in result.notices if n.gpl] == ["PyQt6"]
    assert (work / "size-report.txt").is_file() and (work / "size-report.html").is_file()
    assert (work / "flaskdesk_main.py").read_text().count("from flaskdesk.frozen import main") == 1
    assert json.loads((work / "baked-config.json").read_text()) == {
        "project": {"name": "freeze-demo", "version": "1.0.0"},
        "tool": {
            "app": "demoapp:create_app()",
            "backend": "qt",
            "first-run": ["init-db"],
            "name": "Freeze Demo",
            "on-upgrade": ["bump"],
            "version": "1.0.0",
        },
    }
    spec = (work / "Freeze-Demo.spec").read_text()
    assert f"({str(demo_project / 'demoapp' / 'static')!r}, 'demoapp/static')" in spec
    assert "'fdbp_ext/templates')" in spec and "'demoapp.commands'," in spec
    # [tool.flaskdesk] include: each match at its project-relative path
    assert f"({str(demo_project / 'data' / 'colours.csv')!r}, 'data')" in spec
    assert f"({str(demo_project / 'content')!r}, 'content')" in spec
    assert "notes.txt" not in spec
    assert [s for s, _ in stages][:3] == ["collect", "Analysis", "COLLECT"]

    # only a template changed: copied into the bundle, PyInstaller not run
    template = demo_project / "demoapp" / "pages" / "templates" / "pages" / "index.html"
    template.write_text(template.read_text().replace("Freeze demo", "Changed"))
    host.calls.clear()
    fast = builder.build(BuildOptions(backend="qt"))
    assert fast.mode == "fast"
    assert host.runs() == []
    bundled = demo_project / "dist/Freeze-Demo/_internal/demoapp/pages/templates/pages/index.html"
    assert "Changed" in bundled.read_text()
    assert fast.updated == ("demoapp/pages/templates/pages/index.html",)

    # an included file edited, one added to a glob, one removed: the same fast path
    (demo_project / "data" / "colours.csv").write_text("colour,hex\nblue,#0000ff\n")
    (demo_project / "data" / "more.csv").write_text("x\n")
    (demo_project / "content" / "help" / "topics" / "nested.txt").unlink()
    fast = builder.build(BuildOptions(backend="qt"))
    assert (fast.mode, host.runs()) == ("fast", [])
    assert fast.updated == ("data/colours.csv", "data/more.csv", "-content/help/topics/nested.txt")
    internal = demo_project / "dist/Freeze-Demo/_internal"
    assert "blue" in (internal / "data" / "colours.csv").read_text()
    assert (internal / "data" / "more.csv").is_file()

    # nothing changed: up to date
    assert builder.build(BuildOptions(backend="qt")).mode == "up-to-date"

    # a Python source changed: full build again
    (demo_project / "demoapp" / "commands.py").write_text(
        (demo_project / "demoapp" / "commands.py").read_text() + "\n# changed\n"
    )
    host.calls.clear()
    assert builder.build(BuildOptions(backend="qt")).mode == "full"
    assert len(host.runs()) == 2


def test_clean_onefile_and_failure(demo_project: Path, env: dict[str, str]) -> None:
    fake = FakePyInstaller()
    builder, host, _stages = _builder(demo_project, env, fake)
    result = builder.build(BuildOptions(backend="qt", onefile=True, clean=True))
    assert result.executable == demo_project / "dist" / "onefile" / "Freeze-Demo"
    removed = [c.args[0] for c in host.calls if c.method == "rmtree"]
    assert removed == [
        demo_project / "build" / "flaskdesk",
        demo_project / "dist" / "onefile" / "Freeze-Demo",
    ]
    pyinstaller = host.runs()[-1]
    assert pyinstaller[pyinstaller.index("--distpath") + 1] == str(demo_project / "dist" / "onefile")
    assert pyinstaller[-1] == "--clean"
    assert not (demo_project / "build" / "flaskdesk" / "manifest.json").exists()  # onefile: no fast path

    fake.fail = True
    with pytest.raises(Exception, match="Unable to find '/nope'") as info:
        builder.build(BuildOptions(backend="qt"))
    assert "Full log:" in str(info.value)


def test_a_bad_include_fails_before_the_app_is_probed(demo_project: Path, env: dict[str, str]) -> None:
    pyproject = demo_project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"content/"', '"docs/*.md"'))
    builder, host, _stages = _builder(demo_project, env, FakePyInstaller())
    with pytest.raises(ConfigError, match=r'^\[tool.flaskdesk\] include: "docs/\*.md" matches nothing in '):
        builder.build(BuildOptions(backend="qt"))
    assert host.runs() == []


def test_missing_app_and_backend_errors(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    builder = Builder(tmp_path, host=RecordingHost(), env=env)
    with pytest.raises(ConfigError, match="No app to build"):
        builder.build(BuildOptions())
    with pytest.raises(Exception, match="unknown backend"):
        builder.resolve(BuildOptions(app="x:app", backend="tk"), ProjectConfig())


def test_baked_config_rewrites_the_icon_and_drops_build_only_keys(tmp_path: Path) -> None:
    config = ProjectConfig(app="a:app", icon=tmp_path / "art" / "icon.png", include=("data/*",), onefile=True)
    target = BuildTarget(name="A", app="pkg:create_app()", backend="gtk", icon=tmp_path / "art" / "icon.png")
    assert baked_config(config, target=target, project={"name": "a", "version": "2", "description": "d"}) == {
        "tool": {"app": "pkg:create_app()", "backend": "gtk", "icon": "flaskdesk/icon.png"},
        "project": {"name": "a", "version": "2"},
    }
