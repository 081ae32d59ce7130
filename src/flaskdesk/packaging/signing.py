"""Signing hooks, driven by environment variables so secrets live in CI's secret store, never in files.

Each finished package (and, for Windows installers, the program inside them) is passed here.
:func:`plan_signing` decides the commands (pure, tested exactly); :func:`sign` runs them through
the host. Nothing is signed unless a variable asks for it.

==============================  =================================================================
Variable                        Effect
==============================  =================================================================
``FLASKDESK_SIGN_COMMAND``      Any signer, run for every artifact after the platform signing:
                                ``{file}`` and ``{kind}`` are replaced (``{file}`` is appended
                                when absent). E.g. ``my-hsm-sign --in {file}``.
``FLASKDESK_GPG_KEY``           Linux: GPG key id. ``.rpm`` gets an embedded signature
                                (``rpmsign --addsign``); ``.deb``, ``.tar.gz`` and AppImage a
                                detached ``FILE.asc`` (``gpg --detach-sign --armor``).
``FLASKDESK_GPG_HOMEDIR``       Optional GnuPG home holding that key.
``FLASKDESK_SIGNTOOL_CERT_SHA1``  Windows: thumbprint of a certificate in the store (``/sha1``),
``FLASKDESK_SIGNTOOL_PFX``      or a ``.pfx`` file (``/f``) with ``FLASKDESK_SIGNTOOL_PASSWORD``.
``FLASKDESK_SIGNTOOL``          Path of ``signtool.exe`` when it is not on PATH.
``FLASKDESK_TIMESTAMP_URL``     RFC 3161 server (default DigiCert's).
``FLASKDESK_CODESIGN_IDENTITY``  macOS: ``codesign`` identity ("Developer ID Application: ...").
``FLASKDESK_CODESIGN_ENTITLEMENTS``  Optional entitlements plist (Qt WebEngine needs JIT ones).
``FLASKDESK_NOTARY_PROFILE``    macOS: ``notarytool`` keychain profile; the ``.dmg`` is notarized
                                and stapled.
==============================  =================================================================
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..host import Host
from .base import PackagingError, Progress, Tool, require_tools, run_checked

DEFAULT_TIMESTAMP_URL = "http://timestamp.digicert.com"
LINUX_KINDS = frozenset({"deb", "rpm", "targz", "appimage"})
WINDOWS_KINDS = frozenset({"exe", "msi"})
MAC_KINDS = frozenset({"app", "dmg"})

GPG = Tool("gpg", "signs Linux packages", debian="gnupg", homebrew="gnupg", chocolatey="gnupg")
RPMSIGN = Tool("rpmsign", "signs .rpm packages", debian="rpm", homebrew="rpm")
SIGNTOOL = Tool(
    "signtool",
    "signs Windows programs and installers",
    note="part of the Windows SDK (on GitHub's Windows runners; set FLASKDESK_SIGNTOOL to its path)",
)
CODESIGN = Tool(
    "codesign", "signs macOS apps", note="part of Xcode's command line tools (xcode-select --install)"
)
XCRUN = Tool("xcrun", "notarizes macOS disk images", note="part of Xcode's command line tools")


@dataclass(frozen=True)
class SignStep:
    """One signing command, the tool it needs (checked first), and any file it creates."""

    argv: tuple[str, ...]
    tool: Tool | None = None
    creates: Path | None = None


def _generic(command: str, kind: str, path: Path) -> SignStep:
    try:
        parts = shlex.split(command)
    except ValueError as error:
        raise PackagingError(f"FLASKDESK_SIGN_COMMAND cannot be parsed: {error}.") from error
    if not parts:
        raise PackagingError("FLASKDESK_SIGN_COMMAND is set but empty; unset it or give a command.")
    argv = [part.replace("{file}", str(path)).replace("{kind}", kind) for part in parts]
    if not any("{file}" in part for part in parts):
        argv.append(str(path))
    return SignStep(tuple(argv))


def plan_signing(kind: str, path: Path, env: Mapping[str, str]) -> list[SignStep]:
    """The signing commands for the artifact ``path`` of ``kind`` under ``env`` (pure)."""
    steps: list[SignStep] = []
    if kind in LINUX_KINDS and env.get("FLASKDESK_GPG_KEY"):
        key = env["FLASKDESK_GPG_KEY"]
        home = env.get("FLASKDESK_GPG_HOMEDIR")
        if kind == "rpm":
            argv = ["rpmsign", "--addsign", "--define", f"_gpg_name {key}"]
            if home:
                argv += ["--define", f"_gpg_path {home}"]
            steps.append(SignStep((*argv, str(path)), RPMSIGN))
        else:
            signature = path.with_name(path.name + ".asc")
            argv = ["gpg", "--batch", "--yes"]
            if home:
                argv += ["--homedir", home]
            argv += ["--local-user", key, "--armor", "--detach-sign", "--output", str(signature), str(path)]
            steps.append(SignStep(tuple(argv), GPG, creates=signature))
    if kind in WINDOWS_KINDS and (
        env.get("FLASKDESK_SIGNTOOL_CERT_SHA1") or env.get("FLASKDESK_SIGNTOOL_PFX")
    ):
        argv = [env.get("FLASKDESK_SIGNTOOL") or "signtool", "sign", "/fd", "sha256", "/td", "sha256"]
        argv += ["/tr", env.get("FLASKDESK_TIMESTAMP_URL") or DEFAULT_TIMESTAMP_URL]
        if env.get("FLASKDESK_SIGNTOOL_CERT_SHA1"):
            argv += ["/sha1", env["FLASKDESK_SIGNTOOL_CERT_SHA1"]]
        else:
            argv += ["/f", env["FLASKDESK_SIGNTOOL_PFX"]]
            if env.get("FLASKDESK_SIGNTOOL_PASSWORD"):
                argv += ["/p", env["FLASKDESK_SIGNTOOL_PASSWORD"]]
        steps.append(SignStep((*argv, str(path)), None if env.get("FLASKDESK_SIGNTOOL") else SIGNTOOL))
    if kind in MAC_KINDS and env.get("FLASKDESK_CODESIGN_IDENTITY"):
        argv = ["codesign", "--force", "--timestamp", "--sign", env["FLASKDESK_CODESIGN_IDENTITY"]]
        if kind == "app":
            argv[2:2] = ["--deep", "--options", "runtime"]
            if env.get("FLASKDESK_CODESIGN_ENTITLEMENTS"):
                argv[2:2] = ["--entitlements", env["FLASKDESK_CODESIGN_ENTITLEMENTS"]]
        steps.append(SignStep((*argv, str(path)), CODESIGN))
    if kind == "dmg" and env.get("FLASKDESK_NOTARY_PROFILE"):
        profile = env["FLASKDESK_NOTARY_PROFILE"]
        steps.append(
            SignStep(
                ("xcrun", "notarytool", "submit", str(path), "--keychain-profile", profile, "--wait"), XCRUN
            )
        )
        steps.append(SignStep(("xcrun", "stapler", "staple", str(path)), XCRUN))
    if env.get("FLASKDESK_SIGN_COMMAND"):
        steps.append(_generic(env["FLASKDESK_SIGN_COMMAND"], kind, path))
    return steps


def sign(
    host: Host, kind: str, path: Path, env: Mapping[str, str], progress: Progress | None = None
) -> tuple[Path, ...]:
    """Run the planned signing commands for ``path``; returns the extra files made (``.asc``)."""
    steps = plan_signing(kind, path, env)
    tools = [step.tool for step in steps if step.tool is not None]
    if tools:
        require_tools(host, f"signed {kind}", list(dict.fromkeys(tools)))
    created: list[Path] = []
    for step in steps:
        if progress is not None:
            progress(f"signing {path.name} with {Path(step.argv[0]).name}")
        run_checked(host, step.argv, what=f"Signing {path.name}")
        if step.creates is not None:
            created.append(step.creates)
    return tuple(created)
