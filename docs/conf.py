"""Sphinx configuration for flaskdesk's documentation.

Build it as CI does (warnings are errors)::

    pip install -e '.[docs]'
    sphinx-build -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS.parent / "src"))  # a source checkout documents its own code

project = "flaskdesk"
author = "The flaskdesk developers"
copyright = "the flaskdesk developers"
try:
    release = metadata.version("flaskdesk")
except metadata.PackageNotFoundError:  # pragma: no cover - building from an uninstalled tree
    release = "dev"
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "myst_parser",
    "sphinx_click",
    "flaskdesk_docs",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "samples", "_ext", "**/.pytest_cache", "**/__pycache__"]

# Markdown pages kept next to the code (SECURITY.md, docs/testing.md, docs/architecture.md).
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True, "show-inheritance": True}
add_module_names = False

pygments_style = "friendly"
html_theme = "furo"
html_title = f"flaskdesk {release}"
html_theme_options = {"navigation_with_keys": True}
html_static_path: list[str] = []
