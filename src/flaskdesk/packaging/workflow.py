"""The build farm: a GitHub Actions workflow that builds, checks and packages the app on every OS.

:func:`plan_workflow` decides the matrix (one GitHub-hosted runner per OS, each making its native
formats from :data:`~.base.DEFAULT_FORMATS` plus AppImage/MSI which those runners can make) and
:func:`render_workflow` renders ``templates/release.yml``. Every step uses only what hosted
runners have or install from their own package managers (apt, Chocolatey) and the two
downloads the formats need there (appimagetool, the WebView2 bootstrapper).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from .. import __version__
from .base import RUNNERS, render

WORKFLOW_PATH = ".github/workflows/release.yml"
APPIMAGETOOL_URL = (
    "https://github.com/AppImage/appimagetool/releases/download/continuous/appimagetool-x86_64.AppImage"
)
WEBVIEW2_URL = "https://go.microsoft.com/fwlink/p/?LinkId=2124703"
#: Formats each runner makes.
CI_FORMATS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"linux": ("deb", "rpm", "targz", "appimage"), "win32": ("nsis", "msi"), "darwin": ("dmg",)}
)
#: What the uploaded artifacts are called, per format.
ARTIFACT_PATTERNS: Mapping[str, str] = MappingProxyType(
    {
        "deb": "dist/*.deb",
        "rpm": "dist/*.rpm",
        "targz": "dist/*.tar.gz",
        "appimage": "dist/*.AppImage",
        "nsis": "dist/*-setup.exe",
        "msi": "dist/*.msi",
        "dmg": "dist/*.dmg",
    }
)
#: Debian/Ubuntu packages the Linux runner needs: packaging tools, a display for --check, and the
#: libraries PyInstaller must find to bundle (Qt's xcb plugin) or that the app loads (GTK's WebKit).
LINUX_PACKAGES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "common": ("rpm", "xvfb", "xauth", "desktop-file-utils"),
        "qt": (
            "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-xinerama0", "libxkbcommon-x11-0",
            "libnss3", "libegl1", "libgl1",
        ),
        "gtk": (
            "gir1.2-webkit2-4.1", "gir1.2-gtk-3.0", "libgirepository1.0-dev", "libcairo2-dev", "pkg-config",
            "gobject-introspection",
        ),
    }
)  # fmt: skip


@dataclass(frozen=True)
class MatrixRow:
    """One runner of the matrix: its label, the formats it makes, the flaskdesk extra it installs."""

    os: str
    formats: str
    extra: str


@dataclass(frozen=True)
class WorkflowPlan:
    """Everything the workflow template needs."""

    name: str
    python_version: str
    flaskdesk_source: str
    project_dir: str
    matrix: tuple[MatrixRow, ...]
    linux_packages: tuple[str, ...]
    artifacts: tuple[str, ...]


def default_source(version: str = __version__) -> str:
    """``flaskdesk==VERSION``: the release that wrote the workflow."""
    return f"flaskdesk=={version}"


def plan_workflow(
    *,
    name: str,
    backend: str | None,
    python_version: str,
    flaskdesk_source: str | None = None,
    project_dir: str = ".",
    platforms: Sequence[str] = ("linux", "win32", "darwin"),
) -> WorkflowPlan:
    """The workflow for a project (pure). ``backend``: ``[tool.flaskdesk] backend`` (Linux: qt unless gtk)."""
    linux_backend = "gtk" if backend == "gtk" else "qt"
    rows = []
    for platform in platforms:
        extra = f"[{linux_backend}]" if platform == "linux" else "[qt]" if backend == "qt" else ""
        rows.append(MatrixRow(RUNNERS[platform], ",".join(CI_FORMATS[platform]), extra))
    formats = [fmt for platform in platforms for fmt in CI_FORMATS[platform]]
    prefix = "" if project_dir in ("", ".") else project_dir.rstrip("/") + "/"
    return WorkflowPlan(
        name=name,
        python_version=python_version,
        flaskdesk_source=flaskdesk_source or default_source(),
        project_dir=project_dir or ".",
        matrix=tuple(rows),
        linux_packages=(*LINUX_PACKAGES["common"], *LINUX_PACKAGES[linux_backend]),
        artifacts=(*tuple(prefix + ARTIFACT_PATTERNS[fmt] for fmt in formats), f"{prefix}dist/*.asc"),
    )


def render_workflow(plan: WorkflowPlan) -> str:
    """``.github/workflows/release.yml`` text for ``plan``."""
    if '"' in plan.flaskdesk_source or "\n" in plan.flaskdesk_source:
        raise ValueError("the flaskdesk source must be a single pip requirement without quotes")
    return render(
        "release.yml",
        brackets=True,
        flaskdesk_version=__version__,
        name=plan.name,
        python_version=plan.python_version,
        flaskdesk_source=plan.flaskdesk_source,
        project_dir=plan.project_dir,
        matrix=plan.matrix,
        linux_packages=plan.linux_packages,
        artifacts=plan.artifacts,
        appimagetool_url=APPIMAGETOOL_URL,
        webview2_url=WEBVIEW2_URL,
    )
