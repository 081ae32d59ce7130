"""Signing hooks: the planned commands per platform, and a stand-in signer run for real."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest

from flaskdesk.host import Host
from flaskdesk.packaging import deb, signing
from flaskdesk.packaging.base import Job, PackagingError

P = Path("/dist/app.pkg")


def _argvs(kind: str, env: dict[str, str]) -> list[list[str]]:
    return [list(step.argv) for step in signing.plan_signing(kind, P, env)]


def test_nothing_is_signed_unless_asked() -> None:
    for kind in ("deb", "rpm", "targz", "appimage", "exe", "msi", "app", "dmg"):
        assert signing.plan_signing(kind, P, {}) == []


def test_gpg_for_linux_packages() -> None:
    env = {"FLASKDESK_GPG_KEY": "ABCD", "FLASKDESK_GPG_HOMEDIR": "/g"}
    assert _argvs("deb", env) == [
        ["gpg", "--batch", "--yes", "--homedir", "/g", "--local-user", "ABCD", "--armor", "--detach-sign",
         "--output", "/dist/app.pkg.asc", "/dist/app.pkg"],
    ]  # fmt: skip
    assert _argvs("rpm", env) == [
        ["rpmsign", "--addsign", "--define", "_gpg_name ABCD", "--define", "_gpg_path /g", "/dist/app.pkg"]
    ]
    assert _argvs("exe", env) == []


def test_signtool_for_windows() -> None:
    assert _argvs("exe", {"FLASKDESK_SIGNTOOL_CERT_SHA1": "F00"}) == [
        ["signtool", "sign", "/fd", "sha256", "/td", "sha256", "/tr", "http://timestamp.digicert.com",
         "/sha1", "F00", "/dist/app.pkg"],
    ]  # fmt: skip
    env = {
        "FLASKDESK_SIGNTOOL_PFX": "c.pfx",
        "FLASKDESK_SIGNTOOL_PASSWORD": "pw",
        "FLASKDESK_SIGNTOOL": "C:/st.exe",
    }
    assert _argvs("msi", env)[0][0] == "C:/st.exe"
    assert _argvs("msi", env)[0][-5:] == ["/f", "c.pfx", "/p", "pw", "/dist/app.pkg"]


def test_codesign_and_notarization_for_macos() -> None:
    env = {"FLASKDESK_CODESIGN_IDENTITY": "Developer ID Application: X", "FLASKDESK_NOTARY_PROFILE": "prof"}
    assert _argvs("app", env) == [
        ["codesign", "--force", "--deep", "--options", "runtime", "--timestamp", "--sign",
         "Developer ID Application: X", "/dist/app.pkg"],
    ]  # fmt: skip
    assert _argvs("dmg", env) == [
        ["codesign", "--force", "--timestamp", "--sign", "Developer ID Application: X", "/dist/app.pkg"],
        ["xcrun", "notarytool", "submit", "/dist/app.pkg", "--keychain-profile", "prof", "--wait"],
        ["xcrun", "stapler", "staple", "/dist/app.pkg"],
    ]


def test_generic_command_placeholders() -> None:
    assert _argvs("deb", {"FLASKDESK_SIGN_COMMAND": "sign --kind {kind} --in={file}"}) == [
        ["sign", "--kind", "deb", "--in=/dist/app.pkg"]
    ]
    assert _argvs("dmg", {"FLASKDESK_SIGN_COMMAND": "'my signer' -v"}) == [
        ["my signer", "-v", "/dist/app.pkg"]
    ]
    with pytest.raises(PackagingError, match="cannot be parsed"):
        signing.plan_signing("deb", P, {"FLASKDESK_SIGN_COMMAND": "sign 'unclosed"})


def test_stand_in_signer_is_run_on_the_package(job: Job, tmp_path: Path) -> None:
    log = tmp_path / "signed.txt"
    signer = tmp_path / "signer.sh"
    signer.write_text(f'#!/bin/sh\nprintf "%s|" "$@" >> {log}\necho >> {log}\n')
    signer.chmod(0o755)
    job = dataclasses.replace(job, env={"FLASKDESK_SIGN_COMMAND": f"{signer} --kind {{kind}} {{file}}"})
    (package,) = deb.PACKAGER.package(job, Host(allowed_roots=[tmp_path]), lambda line: None)
    assert log.read_text() == f"--kind|deb|{package}|\n"


def test_a_failing_signer_fails_the_package(job: Job, tmp_path: Path) -> None:
    job = dataclasses.replace(job, env={"FLASKDESK_SIGN_COMMAND": "false"})
    with pytest.raises(PackagingError, match=r"Signing .*\.deb failed \(exit status 1\)"):
        deb.PACKAGER.package(job, Host(allowed_roots=[tmp_path]), lambda line: None)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("gpg") is None, reason="gnupg is not installed")
def test_real_gpg_detached_signature(job: Job, tmp_path: Path) -> None:
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--passphrase", "", "--quick-gen-key",
         "flaskdesk test <test@example.invalid>", "ed25519", "sign", "never"],
        check=True, capture_output=True,
    )  # fmt: skip
    env = {"FLASKDESK_GPG_KEY": "test@example.invalid", "FLASKDESK_GPG_HOMEDIR": str(home)}
    job = dataclasses.replace(job, env=env)
    package, signature = deb.PACKAGER.package(job, Host(allowed_roots=[tmp_path]), lambda line: None)
    assert signature == package.with_name(package.name + ".asc")
    verify = subprocess.run(
        ["gpg", "--homedir", str(home), "--verify", str(signature), str(package)],
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stderr
