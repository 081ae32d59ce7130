"""Sphinx directives that write reference material from flaskdesk's own code, so it cannot drift.

``flaskdesk-config-keys``
    Every ``[tool.flaskdesk]`` key, read from :mod:`flaskdesk.config` (the accepted values are
    the very text its validation errors use), with the words from :mod:`config_keys`.
``flaskdesk-env-vars``
    The environment variables of :data:`flaskdesk.config.ENV_VARS`.
``flaskdesk-signing-vars``
    The signing variables, from the table in :mod:`flaskdesk.packaging.signing`'s docstring.
``flaskdesk-default-csp``
    The Content-Security-Policy the guard sends, from :mod:`flaskdesk.app.csp`.
``flaskdesk-markdown-glob``
    Includes every Markdown file matching a pattern (``benchmarks/results/*.md``), so a new
    results file shows up without editing the docs.

A mismatch between the code and :mod:`config_keys` is an error, which fails the build under
``-W`` (and ``tests/test_docs.py``).
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

from config_reference import DocsOutOfDate, config_key_lines, env_var_lines, signing_lines
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles


class _Generated(SphinxDirective):
    has_content = False

    def lines(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(os.path.join(os.path.dirname(__file__), "config_keys.py"))
        container = nodes.container()
        text = StringList(self.lines(), source=f"<{self.name}>")
        nested_parse_with_titles(self.state, text, container)
        return list(container.children)


class ConfigKeys(_Generated):
    def lines(self) -> list[str]:
        try:
            return config_key_lines()
        except DocsOutOfDate as error:
            raise ExtensionError(str(error)) from error


class EnvVars(_Generated):
    def lines(self) -> list[str]:
        try:
            return env_var_lines()
        except DocsOutOfDate as error:
            raise ExtensionError(str(error)) from error


class SigningVars(_Generated):
    def lines(self) -> list[str]:
        try:
            return signing_lines()
        except DocsOutOfDate as error:
            raise ExtensionError(str(error)) from error


class DefaultCsp(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        from flaskdesk.app.csp import NONCE_PLACEHOLDER, default_policy

        text = ";\n".join(default_policy(NONCE_PLACEHOLDER).split("; "))
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


class MarkdownGlob(SphinxDirective):
    """``.. flaskdesk-markdown-glob:: ../benchmarks/results/*.md`` (relative to this document)."""

    required_arguments = 1
    has_content = True  # shown when nothing matches

    def run(self) -> list[nodes.Node]:
        _, pattern = self.env.relfn2path(self.arguments[0])
        found = sorted(glob.glob(pattern))
        if not found:
            container = nodes.container()
            self.state.nested_parse(self.content, self.content_offset, container)
            return list(container.children)
        here = os.path.dirname(self.env.doc2path(self.env.docname))
        lines: list[str] = []
        for path in found:
            self.env.note_dependency(path)
            relative = Path(os.path.relpath(path, here)).as_posix()
            lines += [f".. include:: {relative}", "   :parser: myst_parser.sphinx_", ""]
        self.state_machine.insert_input(lines, self.state_machine.input_lines.source(0))
        return []


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("flaskdesk-config-keys", ConfigKeys)
    app.add_directive("flaskdesk-env-vars", EnvVars)
    app.add_directive("flaskdesk-signing-vars", SigningVars)
    app.add_directive("flaskdesk-default-csp", DefaultCsp)
    app.add_directive("flaskdesk-markdown-glob", MarkdownGlob)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
