"""The registry, format choice, build checks and app description shared by every format."""

from __future__ import annotations

from pathlib import Path

import pytest

from flaskdesk.config import project_config_from_dict
from flaskdesk.host import RecordingHost
from flaskdesk.packaging.base import (
    FORMATS,
    AppInfo,
    Job,
    PackagingError,
    Tool,
    check_build,
    check_can_build,
    choose_formats,
    describe_app,
    get_packager,
    normalize_formats,
    package_version,
    require_tools,
    safe_filename,
    stale_reasons,
)

from .conftest import make_bundle


def test_every_format_has_one_module_with_the_same_interface() -> None:
    for name in FORMATS:
        packager = get_packager(name)
        assert packager.name == name
        assert packager.platforms and packager.hosts and packager.title
        assert callable(packager.package) and callable(packager.tools)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["deb,rpm"], ("deb", "rpm")),
        (["deb", "tar.gz", "deb"], ("deb", "targz")),
        ([" NSIS , msi "], ("nsis", "msi")),
        (["exe", "tgz"], ("nsis", "targz")),
        ([], ()),
    ],
)
def test_formats_are_repeatable_or_comma_separated(given: list[str], expected: tuple[str, ...]) -> None:
    assert normalize_formats(given) == expected


def test_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(PackagingError, match=r"Unknown package format 'snap'.*deb, rpm, targz"):
        normalize_formats(["deb,snap"])


def test_defaults_skip_formats_whose_tool_is_missing(job: Job) -> None:
    host = RecordingHost(programs={"dpkg-deb": "/usr/bin/dpkg-deb"})
    chosen, notes = choose_formats((), platform="linux", host=host, job_for=lambda fmt: job)
    assert chosen == ["deb", "targz"]
    assert notes == [
        "skipping rpm: rpmbuild not installed "
        "(Debian/Ubuntu: sudo apt-get install rpm; macOS: brew install rpm)"
    ]


def test_asked_for_formats_are_never_skipped(job: Job) -> None:
    chosen, notes = choose_formats(("rpm",), platform="linux", host=RecordingHost(), job_for=lambda fmt: job)
    assert (chosen, notes) == (["rpm"], [])


def test_a_missing_tool_names_the_package_for_each_os() -> None:
    tool = Tool("makensis", "compiles NSIS installers", debian="nsis", homebrew="makensis", chocolatey="nsis")
    with pytest.raises(PackagingError) as error:
        require_tools(RecordingHost(), "NSIS installer", [tool])
    assert str(error.value) == (
        "Cannot make the NSIS installer package: missing tool(s):\n  - makensis (compiles NSIS installers): "
        "Debian/Ubuntu: sudo apt-get install nsis; macOS: brew install makensis; Windows: choco install nsis"
    )


@pytest.mark.parametrize(
    ("fmt", "runner"), [("nsis", "Windows runner (windows-latest"), ("dmg", "macOS runner (macos-latest")]
)
def test_a_format_this_host_cannot_build_names_the_runner(job: Job, fmt: str, runner: str) -> None:
    with pytest.raises(PackagingError, match=r"flaskdesk ci") as error:
        check_can_build(get_packager(fmt), job, host_platform="linux")
    assert runner in str(error.value)


def test_linux_formats_are_refused_for_a_windows_build(job: Job) -> None:
    windows_job = Job(
        app=job.app, bundle=job.bundle, out_dir=job.out_dir, work_dir=job.work_dir, platform="win32"
    )
    with pytest.raises(PackagingError, match=r"Linux runner \(ubuntu-22.04"):
        check_can_build(get_packager("deb"), windows_job, host_platform="win32")


def test_missing_build_says_to_run_flaskdesk_build(tmp_path: Path) -> None:
    config = project_config_from_dict({"name": "demo"}, source="test")
    with pytest.raises(PackagingError, match=r"Run `flaskdesk build`.*first"):
        check_build(tmp_path / "dist" / "demo", tmp_path / "dist" / "demo" / "demo", config)


def test_stale_build_names_what_changed(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path, "demo", tool={"name": "demo", "version": "1.0"})
    config = project_config_from_dict({"name": "demo", "version": "1.1", "title": "Demo"}, source="test")
    assert stale_reasons({"tool": {"name": "demo", "version": "1.0"}}, config) == [
        "[tool.flaskdesk] title changed",
        "[tool.flaskdesk] version changed",
    ]
    with pytest.raises(
        PackagingError, match=r"out of date \(\[tool.flaskdesk\] title changed; .*Run `flaskdesk build`"
    ):
        check_build(bundle, bundle / "demo", config)
    fresh = project_config_from_dict({"name": "demo", "version": "1.0"}, source="test")
    check_build(bundle, bundle / "demo", fresh)
    with pytest.raises(PackagingError, match=r"Python sources changed"):
        check_build(bundle, bundle / "demo", fresh, extra=["Python sources changed"])


def test_describe_app_reads_tool_table_then_project_table(icon: Path) -> None:
    config = project_config_from_dict(
        {"name": "my-notes", "title": "My Notes", "url-schemes": ["mynotes"]},
        source="test",
        project={"version": "2.0.0rc1"},
    )
    project = {
        "name": "my-notes",
        "version": "2.0.0rc1",
        "description": "Take notes.",
        "authors": [{"name": "Ann", "email": "ann@example.org"}],
        "urls": {"Homepage": "https://example.org"},
        "license": "MIT",
    }
    app = describe_app(
        config,
        project,
        name="my-notes",
        executable="my-notes",
        backend="gtk",
        data_dir_name="my-notes",
        icon=icon,
    )
    assert app == AppInfo(
        name="my-notes",
        executable="my-notes",
        title="My Notes",
        version="2.0.0rc1",
        identifier="org.flaskdesk.my-notes",
        backend="gtk",
        description="Take notes.",
        maintainer="Ann <ann@example.org>",
        homepage="https://example.org",
        license="MIT",
        icon=icon,
        url_schemes=("mynotes",),
        data_dir_name="my-notes",
    )
    assert app.vendor == "Ann"


@pytest.mark.parametrize(
    ("pep440", "package"),
    [("1.2.3", "1.2.3"), ("1.0rc1", "1.0~rc1"), ("2.0.0b2", "2.0.0~b2"), ("1.0.dev3", "1.0~~dev3"),
     ("1.0.post1", "1.0+post1"), ("v3.1", "3.1")],
)  # fmt: skip
def test_package_versions_sort_pre_releases_first(pep440: str, package: str) -> None:
    assert package_version(pep440) == package


def test_version_must_start_with_a_digit() -> None:
    with pytest.raises(PackagingError, match="must start with a digit"):
        package_version("latest")


def test_safe_filename() -> None:
    assert safe_filename('My "Notes": a/b?') == "My Notes a b"
