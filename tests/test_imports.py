"""The house rules of imports: runtime never loads tooling, and the side rooms stay apart."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "flaskdesk"
TOOLING = (
    "flaskdesk.cli",
    "flaskdesk.freeze",
    "flaskdesk.packaging",
    "flaskdesk.host",
    "flaskdesk.testing",
    "flaskdesk.scaffold",
)
RUNTIME_ENTRY_POINTS = (
    "flaskdesk",
    "flaskdesk.launch",
    "flaskdesk.launcher",
    "flaskdesk.desktop",
    "flaskdesk.frozen",
)


def test_runtime_never_loads_tooling() -> None:
    """Import the runtime in a fresh interpreter and list what got loaded (as click's test_imports does)."""
    code = (
        "import json, sys\n"
        + "".join(f"import {name}\n" for name in RUNTIME_ENTRY_POINTS)
        + "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(json.loads(out))
    leaked = sorted(
        m for m in loaded if m.startswith(TOOLING) or m.split(".")[0] in {"PyInstaller", "pytest"}
    )
    assert leaked == []
    # heavy GUI toolkits load only when a window is actually opened
    assert not {"webview", "PyQt6", "gi"} & loaded
    # the dev loop (file watcher, reloader) loads only in dev mode
    assert "flaskdesk.devloop" not in loaded


def _imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


RUNTIME_FILES = sorted(
    p
    for p in SRC.rglob("*.py")
    if p.relative_to(SRC).parts[0]
    not in {"cli", "freeze", "packaging", "testing", "scaffold", "host.py", "__main__.py"}
)


@pytest.mark.parametrize("path", RUNTIME_FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_runtime_module_imports_no_tooling(path: Path) -> None:
    bad = sorted(m for m in _imports_of(path) if m.startswith(TOOLING))
    assert bad == []


@pytest.mark.parametrize(("room", "forbidden"), [("app", "flaskdesk.ui"), ("ui", "flaskdesk.app")])
def test_side_rooms_do_not_import_each_other(room: str, forbidden: str) -> None:
    offenders = {
        str(p.relative_to(SRC)): sorted(m for m in _imports_of(p) if m.startswith(forbidden))
        for p in (SRC / room).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
