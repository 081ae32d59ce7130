"""Sphinx directives that write reference material from flaskdesk's own code, so it cannot drift.

``flaskdesk-config-keys``
    Every ``[tool.flaskdesk]`` key, read from :mod:`flaskdesk.config` (the accepted values are
    the very text its validation errors use), with the words from :mod:`config_keys`.
``flaskdesk-env-vars``
    The environment variables of :data:`flaskdesk.config.ENV_VARS`.
``flaskdesk-default-csp``
    The Content-Security-Policy the guard sends, from :mod:`flaskdesk.app.csp`.
``flaskdesk-markdown-glob``
    Includes every Markdown file matching a pattern (``benchmarks/results/*.md``), so a new
    results file shows up without editing the docs.

A mismatch between the code and :mod:`config_keys` is an error, which fails the build under
``-W`` (and ``tests/test_docs.py``).
"""

from __future__ import annotations

import dataclasses
import glob
import os
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

from config_keys import GROUPS, KEY_DOCS

#: What each variable of ``flaskdesk.config.ENV_VARS`` does (keyed by setting, as ENV_VARS is).
ENV_DOCS = {
    "backend": "The window backend on Linux: ``qt`` or ``gtk`` (``auto``: the default choice).",
    "name": "The app's name, which names its data folders (overrides ``[tool.flaskdesk] name``).",
    "shutdown_timeout": "Seconds in-flight requests get to finish after the window closes.",
    "transport": "Accepted and validated; nothing reads it yet (see ``transport`` above).",
    "data_dir": "Puts all the app's folders under ``$FLASKDESK_DATA_DIR/<name>/{data,config,log,cache}`` "
    "instead of the user's platform folders. Tests and ``flaskdesk build --check`` use it to "
    "start from a fresh, disposable place.",
}


def _escape(text: str) -> str:
    """Plain text for reStructuredText inline markup (error texts contain ``*``, ``_`` and ``|``)."""
    for char in "\\`*_|":
        text = text.replace(char, "\\" + char)
    return text


def accepted_values() -> dict[str, str]:
    """What each key accepts, in the words of the error ``config.py`` raises for a bad value."""
    from flaskdesk import config

    class NotAValue:
        pass

    accepted: dict[str, str] = {}
    for key, spec in config._KEYS.items():
        try:
            spec.check(NotAValue(), None)
        except config._Invalid as invalid:
            accepted[key] = invalid.expected
        else:  # pragma: no cover - every check refuses an arbitrary object
            raise ExtensionError(f"[tool.flaskdesk] {key}: its check accepts anything")
    return accepted


def runtime_defaults() -> dict[str, Any]:
    """The defaults a launch uses (``LaunchSettings``), by kebab-case key."""
    from flaskdesk.settings import LaunchSettings

    found: dict[str, Any] = {}
    for field in dataclasses.fields(LaunchSettings):
        if field.default is not dataclasses.MISSING:
            found[field.name.replace("_", "-")] = field.default
    return found


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return str(value)


def check_key_docs() -> None:
    """The words in :mod:`config_keys` must cover exactly the keys ``config.py`` accepts."""
    from flaskdesk import config

    keys, documented = set(config._KEYS), set(KEY_DOCS)
    if keys != documented:
        raise ExtensionError(
            "docs/_ext/config_keys.py is out of date with flaskdesk/config.py: "
            f"undocumented keys {sorted(keys - documented)}, documented but unknown {sorted(documented - keys)}"
        )
    unknown_groups = {doc.group for doc in KEY_DOCS.values()} - {group for group, _ in GROUPS}
    if unknown_groups:
        raise ExtensionError(f"docs/_ext/config_keys.py: unknown groups {sorted(unknown_groups)}")
    env = set(config.ENV_VARS)
    if env != set(ENV_DOCS):
        raise ExtensionError(
            "ENV_DOCS in docs/_ext/flaskdesk_docs.py is out of date with flaskdesk.config.ENV_VARS: "
            f"missing {sorted(env - set(ENV_DOCS))}, unknown {sorted(set(ENV_DOCS) - env)}"
        )


def config_key_lines() -> list[str]:
    """The reStructuredText of the key reference (one ``confval`` per key, grouped)."""
    from flaskdesk import config
    from flaskdesk.app.csp import NONCE_PLACEHOLDER, default_policy

    check_key_docs()
    accepted = accepted_values()
    defaults = runtime_defaults()
    desktop_args = {field.name for field in dataclasses.fields(_desktop_args())}
    env_of = {attr.replace("_", "-"): variable for attr, variable in config.ENV_VARS.items()}
    lines: list[str] = []
    for group, title in GROUPS:
        keys = [key for key, doc in KEY_DOCS.items() if doc.group == group]
        if not keys:
            continue
        lines += [title, "~" * len(title), ""]
        for key in keys:
            doc = KEY_DOCS[key]
            attr = config._KEYS[key].attr
            if key == "csp":
                default = "the policy below, under :ref:`default-csp`"
                assert "nonce-" + NONCE_PLACEHOLDER in default_policy(NONCE_PLACEHOLDER)
            elif doc.default is not None:
                default = doc.default
            elif key in defaults and defaults[key] is not None:
                default = f"``{_toml(defaults[key])}``"
            elif key in ("name", "title"):
                default = (
                    "the ``Desktop(...)`` title, else the Flask app's import name"
                    if key == "name"
                    else "the app's ``name``"
                )
            else:
                default = "chosen at launch"
            lines += [
                f".. confval:: {key}",
                f"   :type: {_escape(accepted[key])}",
                f"   :default: {default}",
                "",
                f"   {doc.text}",
                "",
                "   .. code-block:: toml",
                "",
                f"      {doc.example}",
                "",
            ]
            also = []
            if key in env_of:
                also.append(f"environment variable ``{env_of[key]}``")
            if attr in desktop_args:
                also.append(f"``Desktop({attr}=...)``")
            if also:
                lines += ["   Also set by: " + ", ".join(also) + ".", ""]
            if doc.status == "coming":
                lines += ["   *Coming:* validated today so a typo fails early; nothing uses it yet.", ""]
    return lines


def _desktop_args() -> type:
    from flaskdesk.settings import DesktopArgs

    return DesktopArgs


def env_var_lines() -> list[str]:
    from flaskdesk import config

    check_key_docs()
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 30 70", "", "   * - Variable", "     - Effect"]
    for attr, variable in sorted(config.ENV_VARS.items(), key=lambda item: item[1]):
        lines += [f"   * - ``{variable}``", f"     - {ENV_DOCS[attr]}"]
    return lines


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
        return config_key_lines()


class EnvVars(_Generated):
    def lines(self) -> list[str]:
        return env_var_lines()


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
        lines: list[str] = []
        for path in found:
            self.env.note_dependency(path)
            lines += [f".. include:: {Path(path).as_posix()}", "   :parser: myst_parser.sphinx_", ""]
        self.state_machine.insert_input(lines, self.state_machine.input_lines.source(0))
        return []


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("flaskdesk-config-keys", ConfigKeys)
    app.add_directive("flaskdesk-env-vars", EnvVars)
    app.add_directive("flaskdesk-default-csp", DefaultCsp)
    app.add_directive("flaskdesk-markdown-glob", MarkdownGlob)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
