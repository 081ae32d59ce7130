"""Runs inside a child Python: load the app and write down what it needs at run time.

:mod:`flaskdesk.freeze.collect` starts ``python -c`` with :func:`main` so the user's app is
imported in a separate, disposable interpreter: its import side effects (database files,
logging set-up, monkey-patching) never reach the build process, and the ``FLASKDESK_DATA_DIR``
the child gets keeps them away from the developer's real data too.

Only facts are gathered here (absolute paths and module names); mapping them into the bundle is
the parent's job, so this file stays small and has no opinion.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _loader_paths(loader: Any, seen: set[int]) -> Iterator[str]:
    """Folders a Jinja loader searches, walking Choice/Prefix/Dispatching loaders."""
    if loader is None or id(loader) in seen:
        return
    seen.add(id(loader))
    from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

    if isinstance(loader, PackageLoader):
        yield str(Path(loader._template_root))
    elif isinstance(loader, FileSystemLoader):
        yield from (os.fspath(path) for path in loader.searchpath)
    elif isinstance(loader, ChoiceLoader):
        for child in loader.loaders:
            yield from _loader_paths(child, seen)
    elif isinstance(loader, PrefixLoader):
        for child in loader.mapping.values():
            yield from _loader_paths(child, seen)


def _module_file(name: str) -> str | None:
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    return os.path.abspath(path) if path else None


def describe(app: Any, before: set[str]) -> dict[str, Any]:
    """The facts about a loaded Flask ``app``; ``before`` is ``sys.modules`` before the import."""
    folders: list[dict[str, str]] = []

    def add(kind: str, owner: str, module: str, path: str | os.PathLike[str] | None) -> None:
        if path:
            folders.append({"kind": kind, "owner": owner, "module": module, "path": os.path.abspath(path)})

    add(
        "templates",
        "app",
        app.import_name,
        app.template_folder and os.path.join(app.root_path, app.template_folder),
    )
    add("static", "app", app.import_name, app.static_folder)
    for name, blueprint in sorted(app.blueprints.items()):
        if blueprint.template_folder:
            add(
                "templates",
                f"blueprint:{name}",
                blueprint.import_name,
                os.path.join(blueprint.root_path, blueprint.template_folder),
            )
        add("static", f"blueprint:{name}", blueprint.import_name, blueprint.static_folder)
    seen: set[int] = set()
    loaders = [app.jinja_env.loader, app.jinja_loader, *(bp.jinja_loader for bp in app.blueprints.values())]
    for loader in loaders:
        if type(loader).__name__ == "DispatchingJinjaLoader":
            continue
        for path in _loader_paths(loader, seen):
            add("jinja-loader", "loader", app.import_name, path)
    migrate = app.extensions.get("migrate")
    directory = getattr(migrate, "directory", None)
    if isinstance(directory, str):
        add("migrations", "flask-migrate", app.import_name, directory)
    for root in (app.root_path, os.getcwd()):
        add("migrations", "folder", app.import_name, os.path.join(root, "migrations"))
    folders = [f for f in folders if os.path.isdir(f["path"])]
    loaded = sorted(set(sys.modules) - before)
    owners = sorted({app.import_name, *(bp.import_name for bp in app.blueprints.values())})
    return {
        "import_name": app.import_name,
        "name": app.name,
        "root_path": app.root_path,
        "folders": folders,
        "owners": {name: _module_file(name) for name in owners},
        "modules": [{"name": name, "file": _module_file(name)} for name in loaded],
        "extensions": sorted(app.extensions),
        "sys_path": [os.path.abspath(entry) for entry in sys.path if entry],
        "stdlib": sorted(sys.stdlib_module_names),
    }


def main(argv: list[str]) -> None:
    """``TARGET ROOT OUT``: load ``TARGET`` as ``flaskdesk run`` would, from ``ROOT``; JSON to ``OUT``."""
    target, root, out = argv
    os.chdir(root)
    from flaskdesk.launcher import load_app

    before = set(sys.modules)  # after flaskdesk's own imports: only what the app loads is reported
    app, _project = load_app(target or None, start=Path(root))
    Path(out).write_text(json.dumps(describe(app, before), indent=1), encoding="utf-8")
