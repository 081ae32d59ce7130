"""The text of the configuration reference, generated from flaskdesk's code (no Sphinx needed).

:mod:`flaskdesk_docs` turns it into pages; ``tests/test_docs.py`` checks it. Every function here
reads :mod:`flaskdesk.config` and :mod:`flaskdesk.settings` when called, so the page always
shows what the installed code accepts; :func:`check_key_docs` raises :class:`DocsOutOfDate` when
the words in :mod:`config_keys` no longer match the code.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from config_keys import GROUPS, KEY_DOCS


class DocsOutOfDate(Exception):
    """The hand-written words no longer match the code."""


#: What each variable of ``flaskdesk.config.ENV_VARS`` does (keyed by setting, as ENV_VARS is).
ENV_DOCS = {
    "backend": "The window backend on Linux: ``qt`` or ``gtk`` (``auto``: the default choice).",
    "name": "The app's name, which names its data folders (overrides ``[tool.flaskdesk] name``).",
    "shutdown_timeout": "Seconds in-flight requests get to finish after the window closes.",
    "transport": "How the window reaches the app for this run: ``loopback`` or ``scheme`` (see "
    "``transport`` above).",
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
            raise DocsOutOfDate(f"[tool.flaskdesk] {key}: its check accepts anything")
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
        raise DocsOutOfDate(
            "docs/_ext/config_keys.py is out of date with flaskdesk/config.py: "
            f"undocumented keys {sorted(keys - documented)}, "
            f"documented but unknown {sorted(documented - keys)}"
        )
    unknown_groups = {doc.group for doc in KEY_DOCS.values()} - {group for group, _ in GROUPS}
    if unknown_groups:
        raise DocsOutOfDate(f"docs/_ext/config_keys.py: unknown groups {sorted(unknown_groups)}")
    env = set(config.ENV_VARS)
    if env != set(ENV_DOCS):
        raise DocsOutOfDate(
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
                default = "flaskdesk's default policy"
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
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 30 70",
        "",
        "   * - Variable",
        "     - Effect",
    ]
    for attr, variable in sorted(config.ENV_VARS.items(), key=lambda item: item[1]):
        lines += [f"   * - ``{variable}``", f"     - {ENV_DOCS[attr]}"]
    return lines


def signing_variables() -> list[tuple[str, str]]:
    """``(variable, effect)`` rows of the table in :mod:`flaskdesk.packaging.signing`'s docstring."""
    from flaskdesk.packaging import signing

    lines = (signing.__doc__ or "").splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith("====")]
    if len(rules) < 3:
        raise DocsOutOfDate("flaskdesk/packaging/signing.py's docstring no longer has its variable table")
    rows: list[list[str]] = []
    for line in lines[rules[1] + 1 : rules[2]]:
        match = re.match(r"``(\w+)``\s+(.*)", line)
        if match:
            rows.append([match.group(1), match.group(2).strip()])
        elif line.strip() and rows:
            rows[-1][1] += " " + line.strip()
    return [(variable, effect) for variable, effect in rows]


def signing_lines() -> list[str]:
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 35 65",
        "",
        "   * - Variable",
        "     - Effect",
    ]
    for variable, effect in signing_variables():
        lines += [f"   * - ``{variable}``", f"     - {effect}"]
    return lines
