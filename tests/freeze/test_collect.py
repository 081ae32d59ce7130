"""Collecting by asking the app: the probe on real fixture apps, and the mapping into the bundle."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from flaskdesk.freeze.collect import (
    asset_files,
    assets_from_report,
    bundle_dest,
    collect,
    package_data,
    probe_app,
)
from flaskdesk.freeze.errors import BuildError
from flaskdesk.freeze.spec import DataEntry
from flaskdesk.host import Host, RecordingHost


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/proj/notes/templates", "notes/templates"),
        ("/proj/src/notes/templates", "notes/templates"),  # deepest sys.path entry wins
        ("/venv/site-packages/ext/static", "ext/static"),
        ("/elsewhere/templates", None),
        ("/proj", None),
    ],
)
def test_bundle_dest(path: str, expected: str | None) -> None:
    bases = [Path("/proj"), Path("/proj/src"), Path("/venv/site-packages")]
    assert bundle_dest(Path(path), bases) == expected


def test_package_data_whole_folders_without_code(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "templates" / "sub").mkdir(parents=True)
    (package / "templates" / "sub" / "a.html").write_text("a")
    (package / "plugins").mkdir()
    (package / "plugins" / "__init__.py").write_text("")
    (package / "plugins" / "data.json").write_text("{}")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.pyc").write_bytes(b"")
    (package / "__init__.py").write_text("")
    (package / "schema.sql").write_text("")
    entries = list(package_data(package, "pkg"))
    assert entries == [
        DataEntry(package / "plugins" / "data.json", "pkg/plugins"),
        DataEntry(package / "schema.sql", "pkg"),
        DataEntry(package / "templates", "pkg/templates"),
    ]
    assert sorted(dest for _src, dest in asset_files(entries)) == [
        "pkg/plugins/data.json",
        "pkg/schema.sql",
        "pkg/templates/sub/a.html",
    ]


def _report(tmp: Path, **overrides: Any) -> dict[str, Any]:
    site = tmp / "site-packages"
    report: dict[str, Any] = {
        "import_name": "notes",
        "name": "notes",
        "root_path": str(tmp / "proj" / "notes"),
        "folders": [
            {
                "kind": "templates",
                "owner": "app",
                "module": "notes",
                "path": str(tmp / "proj/notes/templates"),
            },
            {
                "kind": "templates",
                "owner": "blueprint:ext",
                "module": "ext",
                "path": str(site / "ext/templates"),
            },
            {"kind": "static", "owner": "blueprint:ext", "module": "ext", "path": str(site / "ext/static")},
            {"kind": "jinja-loader", "owner": "loader", "module": "notes", "path": str(tmp / "shared")},
            {
                "kind": "migrations",
                "owner": "folder",
                "module": "notes",
                "path": str(tmp / "proj/migrations"),
            },
        ],
        "owners": {"notes": str(tmp / "proj/notes/__init__.py"), "ext": str(site / "ext/__init__.py")},
        "modules": [
            {"name": "notes", "file": str(tmp / "proj/notes/__init__.py")},
            {"name": "notes.views", "file": str(tmp / "proj/notes/views.py")},
            {"name": "ext", "file": str(site / "ext/__init__.py")},
            {"name": "json.decoder", "file": "/usr/lib/python3.11/json/decoder.py"},
            {"name": "flaskdesk.launch", "file": "/x/flaskdesk/launch.py"},
            {"name": "_frozen_thing", "file": None},
        ],
        "extensions": ["flaskdesk"],
        "sys_path": [str(tmp / "proj"), str(site)],
        "stdlib": ["json", "os"],
    }
    report.update(overrides)
    return report


def test_assets_from_report(tmp_path: Path) -> None:
    for folder in (
        "proj/notes/templates",
        "proj/migrations",
        "site-packages/ext/templates",
        "site-packages/ext/static",
    ):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "proj/notes/__init__.py").write_text("")
    (tmp_path / "proj/notes/views.py").write_text("")
    (tmp_path / "proj/notes/templates/index.html").write_text("")
    (tmp_path / "site-packages/ext/__init__.py").write_text("")
    (tmp_path / "site-packages/ext/templates/w.html").write_text("")
    assets = assets_from_report(_report(tmp_path), tmp_path / "proj")
    proj, site = tmp_path / "proj", tmp_path / "site-packages"
    assert assets.datas == (
        DataEntry(site / "ext/static", "ext/static"),
        DataEntry(site / "ext/templates", "ext/templates"),
        DataEntry(proj / "notes/templates", "notes/templates"),
        DataEntry(proj / "migrations", "migrations"),
    )
    assert assets.modules == ("ext", "notes", "notes.views")
    assert assets.pathex == (proj,)
    assert assets.packages == (("ext", site / "ext"), ("notes", proj / "notes"))
    assert assets.source_files == (proj / "notes/__init__.py", proj / "notes/views.py")
    assert len(assets.warnings) == 1 and str(tmp_path / "shared") in assets.warnings[0]


def test_probe_on_the_blueprint_fixture(demo_project: Path, tmp_path: Path) -> None:
    assets = collect(Host(), None, demo_project, tmp_path / "work")
    by_dest = {entry.dest: entry.source for entry in assets.datas}
    # the app's package data (its static CSS, the blueprint's template folder)...
    assert by_dest["demoapp/static"] == demo_project / "demoapp" / "static"
    assert by_dest["demoapp/pages/templates"] == demo_project / "demoapp" / "pages" / "templates"
    # ...and the installed extension's blueprint folders, mapped by its sys.path entry
    ext = (
        Path(sys.modules["flaskdesk"].__file__ or "").parents[2]
        / "tests/fixtures/freeze_blueprint_pkg/ext/src"
    )
    assert by_dest["fdbp_ext/templates"] == ext / "fdbp_ext" / "templates"
    assert by_dest["fdbp_ext/static"] == ext / "fdbp_ext" / "static"
    kinds = {(f.kind, f.owner) for f in assets.folders}
    assert {("templates", "blueprint:pages"), ("templates", "blueprint:fdbp_ext"), ("static", "app")} <= kinds
    assert {"demoapp", "demoapp.commands", "demoapp.pages", "fdbp_ext"} <= set(assets.modules)
    assert not [m for m in assets.modules if m.startswith(("flaskdesk", "json", "PyQt6"))]
    assert assets.pathex == (demo_project,)
    assert assets.warnings == ()
    # the probe ran with a throw-away data dir, never the developer's
    assert (tmp_path / "work" / "probe.json").is_file()


def test_probe_target_override_and_migrations(tmp_path: Path) -> None:
    project = tmp_path / "single"
    (project / "templates").mkdir(parents=True)
    (project / "templates" / "i.html").write_text("hi")
    (project / "migrations" / "versions").mkdir(parents=True)
    (project / "single_app.py").write_text(
        "from flask import Flask\nfrom jinja2 import ChoiceLoader, FileSystemLoader\n"
        "import os\napp = Flask(__name__)\n"
        "more = FileSystemLoader(os.path.join(app.root_path, 'more'))\n"
        "app.jinja_loader = ChoiceLoader([app.jinja_loader, more])\n"
    )
    (project / "more").mkdir()
    assets = collect(Host(), "single_app:app", project, tmp_path / "work")
    by_dest = {entry.dest: entry.source for entry in assets.datas}
    assert by_dest == {
        "templates": project / "templates",
        "more": project / "more",
        "migrations": project / "migrations",
    }
    assert assets.modules == ("single_app",)
    assert assets.source_files == (project / "single_app.py",)


def test_probe_failure_is_a_build_error_with_the_apps_traceback(tmp_path: Path) -> None:
    project = tmp_path / "broken"
    project.mkdir()
    (project / "broken_app.py").write_text("raise RuntimeError('database password missing')\n")
    with pytest.raises(BuildError, match="database password missing") as info:
        probe_app(Host(), "broken_app:app", project, tmp_path / "work")
    assert "flaskdesk run" in str(info.value)


def test_probe_command_and_isolated_data_dir(tmp_path: Path) -> None:
    host = RecordingHost(responder=lambda argv, kwargs: (1, ["boom"]))
    with pytest.raises(BuildError):
        probe_app(host, "a:app", tmp_path, tmp_path / "work", python="/py", env={"PATH": "/bin"})
    (call,) = host.calls
    assert call.args[0] == [
        "/py",
        "-c",
        "import sys; from flaskdesk.freeze.probe import main; main(sys.argv[1:])",
        "a:app",
        str(tmp_path),
        str(tmp_path / "work" / "probe.json"),
    ]
    assert call.kwargs["env"] == {"PATH": "/bin", "FLASKDESK_DATA_DIR": str(tmp_path / "work" / "probe-data")}
