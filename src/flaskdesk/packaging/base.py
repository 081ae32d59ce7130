"""What every installer format shares: the app description, the job, the ``Packager`` protocol, the registry.

A format is one module (``deb.py``, ``rpm.py``, ...) holding pure *plan* functions (control file,
spec, script, exact argv) and one ``PACKAGER`` object whose ``package(job, host)`` carries the plan
out through the :class:`~flaskdesk.host.Host`. :data:`FORMATS` maps a format name to its module,
so adding a format is one new file and one line here (Tauri's ``bundle.rs`` table, not
Briefcase's ``if/elif``). Modules are imported only when their format is asked for.
"""

from __future__ import annotations

import importlib
import json
import os
import platform as platform_mod
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

import jinja2

from ..config import FileType, ProjectConfig
from ..errors import FlaskdeskError
from ..host import Host
from ..resources import BAKED_CONFIG, package_file

#: Receives one line of progress ("building the .deb with dpkg-deb").
Progress = Callable[[str], None]

#: Used when neither ``SOURCE_DATE_EPOCH`` nor anything else gives a date (1980-01-01, zip's epoch).
DEFAULT_EPOCH = 315532800


class PackagingError(FlaskdeskError):
    """An installer cannot be made: missing or stale build, missing tool, wrong host, failed tool run."""


# --- the registry ------------------------------------------------------------------------------

#: Format name → module under ``flaskdesk.packaging`` defining ``PACKAGER``.
FORMATS: Mapping[str, str] = MappingProxyType(
    {
        "deb": "deb",
        "rpm": "rpm",
        "targz": "targz",
        "appimage": "appimage",
        "nsis": "nsis",
        "msi": "msi",
        "app": "macapp",
        "dmg": "dmg",
    }
)
#: Other spellings users type for a format.
ALIASES: Mapping[str, str] = MappingProxyType({"tar.gz": "targz", "tgz": "targz", "exe": "nsis"})
#: What ``flaskdesk package`` makes when no ``--format`` is given, per ``sys.platform``.
DEFAULT_FORMATS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"linux": ("deb", "rpm", "targz"), "win32": ("nsis",), "darwin": ("dmg",)}
)
#: The GitHub-hosted runner that builds each platform's payload (and so its installers).
RUNNERS: Mapping[str, str] = MappingProxyType(
    {"linux": "ubuntu-22.04", "win32": "windows-latest", "darwin": "macos-latest"}
)
PLATFORM_NAMES: Mapping[str, str] = MappingProxyType(
    {"linux": "Linux", "win32": "Windows", "darwin": "macOS"}
)


def platform_key(platform: str) -> str:
    """``sys.platform`` reduced to ``linux``, ``win32`` or ``darwin``."""
    return "linux" if platform.startswith("linux") else platform


def normalize_formats(values: Iterable[str]) -> tuple[str, ...]:
    """``("deb,rpm", "tar.gz")`` → ``("deb", "rpm", "targz")``, in order, without repeats; unknown → error."""
    found: list[str] = []
    for value in values:
        for part in value.split(","):
            name = part.strip().lower()
            if not name:
                continue
            name = ALIASES.get(name, name)
            if name not in FORMATS:
                raise PackagingError(
                    f"Unknown package format {part.strip()!r}. Choose from: {', '.join(FORMATS)} "
                    "(comma-separated or repeated --format)."
                )
            if name not in found:
                found.append(name)
    return tuple(found)


def get_packager(name: str) -> Packager:
    """The packager of format ``name`` (imported on first use)."""
    name = ALIASES.get(name, name)
    if name not in FORMATS:
        raise PackagingError(f"Unknown package format {name!r}. Choose from: {', '.join(FORMATS)}.")
    module = importlib.import_module(f"{__package__}.{FORMATS[name]}")
    packager: Packager = module.PACKAGER
    return packager


# --- tools ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    """An external program a format needs, and where each OS's package manager has it."""

    program: str
    purpose: str
    debian: str | None = None
    homebrew: str | None = None
    chocolatey: str | None = None
    note: str | None = None

    def install_hint(self) -> str:
        """``apt-get install nsis``, ``brew install nsis``... for every manager that has it."""
        hints = []
        if self.debian:
            hints.append(f"Debian/Ubuntu: sudo apt-get install {self.debian}")
        if self.homebrew:
            hints.append(f"macOS: brew install {self.homebrew}")
        if self.chocolatey:
            hints.append(f"Windows: choco install {self.chocolatey}")
        if self.note:
            hints.append(self.note)
        return "; ".join(hints) or "install it and put it on PATH"


def require_tools(host: Host, fmt: str, tools: Sequence[Tool]) -> dict[str, str]:
    """``{program: path}`` for every tool, or one error naming each missing tool and its package."""
    found: dict[str, str] = {}
    missing: list[Tool] = []
    for tool in tools:
        path = host.which(tool.program)
        if path is None:
            missing.append(tool)
        else:
            found[tool.program] = path
    if missing:
        lines = "\n".join(f"  - {t.program} ({t.purpose}): {t.install_hint()}" for t in missing)
        raise PackagingError(f"Cannot make the {fmt} package: missing tool(s):\n{lines}")
    return found


# --- what is packaged ----------------------------------------------------------------------


@dataclass(frozen=True)
class AppInfo:
    """Everything an installer says about the app, resolved once from the project and the build."""

    name: str
    """Package and install-folder name, and the launcher's name on PATH (``flaskdesk-notes``)."""
    executable: str
    """File name of the program inside the build folder (``flaskdesk-notes``, ``Notes.exe``)."""
    title: str
    version: str
    identifier: str
    backend: str
    description: str = ""
    maintainer: str = ""
    homepage: str | None = None
    license: str | None = None
    icon: Path | None = None
    file_types: tuple[FileType, ...] = ()
    url_schemes: tuple[str, ...] = ()
    data_dir_name: str = ""
    """The per-user data folder's name (what the runtime's ``AppPaths`` uses)."""

    @property
    def icon_name(self) -> str:
        """The freedesktop icon and desktop-file id: the reverse-DNS identifier."""
        return self.identifier

    @property
    def vendor(self) -> str:
        """The publisher, from the maintainer (``Jane <j@x>`` → ``Jane``) or the identifier's domain."""
        if self.maintainer:
            return self.maintainer.split("<")[0].strip() or self.maintainer
        parts = self.identifier.split(".")
        return ".".join(reversed(parts[:-1])) if len(parts) > 1 else self.identifier


@dataclass(frozen=True)
class Job:
    """One format to make: the app, the build folder it ships, where to write, for which OS/CPU."""

    app: AppInfo
    bundle: Path
    """The onedir build (``dist/NAME``) whose contents are installed."""
    out_dir: Path
    """Where finished packages go (``dist/``)."""
    work_dir: Path
    """A scratch folder owned by this job (``build/flaskdesk/package/FORMAT``); emptied first."""
    platform: str = sys.platform
    """The OS the build is for (the host's: PyInstaller does not cross-compile)."""
    machine: str = field(default_factory=platform_mod.machine)
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(dict(os.environ)))
    compression: str = "zstd"
    """zstd (default: measured 2 s vs xz 110 s on a 550 MB bundle), xz (smallest) or gzip."""

    @property
    def epoch(self) -> int:
        """``SOURCE_DATE_EPOCH`` (reproducible archives), else 1980-01-01."""
        text = self.env.get("SOURCE_DATE_EPOCH", "").strip()
        return int(text) if text.isdigit() else DEFAULT_EPOCH


class Packager(Protocol):
    """One installer format. ``package`` makes it and returns the files written to ``job.out_dir``."""

    name: str
    title: str
    platforms: tuple[str, ...]
    """The OSes (``platform_key`` values) whose builds this format can ship."""
    hosts: tuple[str, ...]
    """The OSes that can run its tools (NSIS/MSI scripts compile on Linux too)."""

    def tools(self, job: Job) -> tuple[Tool, ...]:
        """The programs ``package`` will run for ``job``."""
        ...

    def package(self, job: Job, host: Host, progress: Progress) -> tuple[Path, ...]:
        """Make the package(s); raise :class:`PackagingError` with what to do on failure."""
        ...


def check_can_build(packager: Packager, job: Job, host_platform: str = sys.platform) -> None:
    """Refuse a format this build or host cannot make, naming the runner that can."""
    target = platform_key(job.platform)
    if target not in packager.platforms or platform_key(host_platform) not in packager.hosts:
        wanted = packager.platforms[0]
        raise PackagingError(
            f"{packager.title} packages ship a {PLATFORM_NAMES.get(wanted, wanted)} build, and this is a "
            f"{PLATFORM_NAMES.get(target, target)} machine. Build it on a "
            f"{PLATFORM_NAMES.get(wanted, wanted)} "
            f"runner ({RUNNERS.get(wanted, wanted)} on GitHub Actions): `flaskdesk ci` writes a workflow "
            "that does."
        )


def run_checked(host: Host, argv: Sequence[str | os.PathLike[str]], *, what: str, **kwargs: Any) -> str:
    """Run ``argv``; a non-zero exit becomes a :class:`PackagingError` quoting the end of its output."""
    result = host.run(argv, **kwargs)
    if result.returncode != 0:
        tail = "\n".join((result.stdout or "").splitlines()[-25:])
        raise PackagingError(
            f"{what} failed (exit status {result.returncode}): {' '.join(map(str, argv))}\n{tail}"
        )
    return result.stdout or ""


# --- reading the build -----------------------------------------------------------------------

#: ``[tool.flaskdesk]`` keys a build rewrites or drops when it bakes the table in (not staleness).
_REWRITTEN = frozenset({"app", "backend", "icon", "include", "exclude", "onefile"})


def read_baked(bundle: Path) -> dict[str, Any] | None:
    """The configuration the build baked into ``bundle`` (``None`` when absent or unreadable)."""
    for base in (bundle / "_internal", bundle):
        path = base / BAKED_CONFIG
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
            return data if isinstance(data, dict) else None
    return None


def stale_reasons(baked: Mapping[str, Any], config: ProjectConfig) -> list[str]:
    """Why the build no longer matches ``pyproject.toml`` (pure; empty when it matches)."""
    built = {k: v for k, v in dict(baked.get("tool", {})).items() if k not in _REWRITTEN}
    now = {k: v for k, v in config.to_table().items() if k not in _REWRITTEN}
    reasons = [
        f"[tool.flaskdesk] {key} changed"
        for key in sorted(set(built) | set(now))
        if built.get(key) != now.get(key)
    ]
    if (config.icon is None) != ("icon" not in baked.get("tool", {})):
        reasons.append("[tool.flaskdesk] icon changed")
    return reasons


def executable_in(bundle: Path, name: str, platform: str) -> Path:
    """The program file of the onedir build ``bundle`` for ``platform``."""
    return bundle / (f"{name}.exe" if platform_key(platform) == "win32" else name)


def check_build(bundle: Path, executable: Path, config: ProjectConfig, *, extra: Sequence[str] = ()) -> None:
    """Refuse a missing or stale build with "run flaskdesk build first" (``extra``: more stale reasons)."""
    if not executable.is_file():
        raise PackagingError(
            f"No build to package: {executable} does not exist. Run `flaskdesk build` (a onedir build; "
            "installers ship the folder, not the --onefile executable) first."
        )
    baked = read_baked(bundle)
    if baked is None:
        raise PackagingError(
            f"{bundle} was not made by `flaskdesk build` (no {BAKED_CONFIG} inside). "
            "Run `flaskdesk build` first."
        )
    reasons = [*stale_reasons(baked, config), *extra]
    if reasons:
        raise PackagingError(
            f"The build in {bundle} is out of date ({'; '.join(reasons)}). Run `flaskdesk build` first, "
            "then package again."
        )


def _first_person(people: object) -> str:
    if isinstance(people, list):
        for person in people:
            if isinstance(person, Mapping):
                name, email = person.get("name"), person.get("email")
                if name and email:
                    return f"{name} <{email}>"
                if email:
                    return f"{email.split('@')[0]} <{email}>"
                if name:
                    return str(name)
    return ""


def describe_app(
    config: ProjectConfig,
    project: Mapping[str, Any],
    *,
    name: str,
    executable: str,
    backend: str,
    data_dir_name: str,
    icon: Path | None = None,
) -> AppInfo:
    """The :class:`AppInfo` for a project (pure): ``[tool.flaskdesk]`` first, ``[project]`` for the rest."""
    title = config.title or config.name or str(project.get("name") or name)
    version = config.version or str(project.get("version") or "0.0.0")
    identifier = (
        config.identifier or "org.flaskdesk." + re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    )
    maintainer = _first_person(project.get("maintainers")) or _first_person(project.get("authors"))
    if not maintainer:
        parts = identifier.split(".")
        domain = ".".join(reversed(parts[:-1])) if len(parts) > 1 else "example.invalid"
        maintainer = f"{title} developers <noreply@{domain}>"
    urls = project.get("urls")
    homepage = None
    if isinstance(urls, Mapping):
        for key in ("Homepage", "homepage", "Home", "Source", "Repository"):
            if isinstance(urls.get(key), str):
                homepage = str(urls[key])
                break
    license_ = project.get("license")
    if isinstance(license_, Mapping):
        license_ = license_.get("text")
    return AppInfo(
        name=name,
        executable=executable,
        title=title,
        version=version,
        identifier=identifier,
        backend=backend,
        description=str(project.get("description") or title).strip(),
        maintainer=maintainer,
        homepage=homepage,
        license=str(license_) if isinstance(license_, str) and license_ else None,
        icon=icon if icon is not None else config.icon,
        file_types=tuple(config.file_types or ()),
        url_schemes=tuple(config.url_schemes or ()),
        data_dir_name=data_dir_name,
    )


# --- small shared helpers ---------------------------------------------------------------------


def render(template: str, *, brackets: bool = False, **context: Any) -> str:
    """Render ``packaging/templates/<template>`` (Jinja2, strict: a missing value is an error).

    ``brackets`` switches to ``[[ ]]``/``[% %]`` delimiters, for GitHub workflow files whose own
    ``${{ }}`` expressions must pass through untouched.
    """
    delimiters: dict[str, str] = {}
    if brackets:
        delimiters = {
            "variable_start_string": "[[",
            "variable_end_string": "]]",
            "block_start_string": "[%",
            "block_end_string": "%]",
            "comment_start_string": "[#",
            "comment_end_string": "#]",
        }
    environment = jinja2.Environment(
        loader=jinja2.FunctionLoader(
            lambda name: package_file(f"packaging/templates/{name}").read_text(encoding="utf-8")
        ),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        **delimiters,  # type: ignore[arg-type]
    )
    environment.filters["xml"] = xml_escape
    return environment.get_template(template).render(**context)


def xml_escape(value: object) -> str:
    """Text safe inside XML attributes and elements."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def package_version(version: str) -> str:
    """PEP 440 → the ordering dpkg and rpm share: pre and dev releases sort before the release (``~``).

    ``1.0rc1`` → ``1.0~rc1``, ``1.0.dev2`` → ``1.0~~dev2``, ``1.0.post1`` → ``1.0+post1``.
    """
    text = version.strip().lstrip("vV")
    text = re.sub(r"[-_.]?(a|alpha|b|beta|c|rc|pre|preview)[-_.]?(\d*)", r"~\1\2", text, flags=re.I)
    text = re.sub(r"[-_.]?dev[-_.]?(\d*)", r"~~dev\1", text, flags=re.I)
    text = re.sub(r"[-_.]?post[-_.]?(\d*)", r"+post\1", text, flags=re.I)
    text = re.sub(r"[^A-Za-z0-9.+~]", ".", text)
    if not text or not text[0].isdigit():
        raise PackagingError(
            f"Version {version!r} cannot be a package version: it must start with a digit (such as 1.2.0)."
        )
    return text


def safe_filename(text: str) -> str:
    """``text`` usable as a file name on Windows, macOS and Linux (shortcut and bundle names)."""
    cleaned = re.sub(r'[<>:"/\\|?*\x00-\x1f]+', " ", text)
    return " ".join(cleaned.split()).strip(" .") or "app"


def mime_type_for(app: AppInfo, file_type: FileType) -> str:
    """The file type's MIME type, or a private one made from the app and first extension."""
    return file_type.mime_type or f"application/x-{app.name.lower()}-{file_type.extensions[0]}"


def walk_files(root: Path) -> Iterator[Path]:
    """Every file and symlink under ``root``, as sorted relative paths (deterministic order)."""
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        base = Path(folder)
        for entry in sorted(files + [d for d in dirs if (base / d).is_symlink()]):
            yield (base / entry).relative_to(root)


def walk_dirs(root: Path) -> Iterator[Path]:
    """Every real folder under ``root`` (not ``root``), sorted, parents before children."""
    for folder, dirs, _files in os.walk(root):
        dirs.sort()
        base = Path(folder)
        for entry in dirs:
            if not (base / entry).is_symlink():
                yield (base / entry).relative_to(root)


def tree_size(root: Path) -> int:
    """Bytes of every regular file under ``root``."""
    return sum((root / rel).stat().st_size for rel in walk_files(root) if not (root / rel).is_symlink())


def normalize_modes(root: Path) -> None:
    """Folders 0755, files 0755 if executable else 0644: a strict umask must not ship a broken package."""
    os.chmod(root, 0o755)
    for rel in walk_dirs(root):
        os.chmod(root / rel, 0o755)
    for rel in walk_files(root):
        path = root / rel
        if not path.is_symlink():
            os.chmod(path, 0o755 if path.stat().st_mode & 0o111 else 0o644)


def fresh_dir(host: Host, path: Path) -> Path:
    """``path`` emptied (through the host, bounded by its allowed roots) and created."""
    host.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_text(path: Path, text: str, *, mode: int = 0o644) -> Path:
    """Write a generated file (creating its folder) with ``mode``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


#: ``platform.machine()`` → (Debian architecture, RPM/AppImage architecture).
ARCHITECTURES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "x86_64": ("amd64", "x86_64"),
        "amd64": ("amd64", "x86_64"),
        "aarch64": ("arm64", "aarch64"),
        "arm64": ("arm64", "aarch64"),
        "armv7l": ("armhf", "armv7hl"),
        "i686": ("i386", "i686"),
        "riscv64": ("riscv64", "riscv64"),
    }
)


def architecture(machine: str, kind: str) -> str:
    """The package architecture name for ``machine`` in ``kind`` ("deb" or "rpm") naming."""
    pair = ARCHITECTURES.get(machine.lower())
    if pair is None:
        raise PackagingError(f"Unsupported CPU architecture {machine!r} for {kind} packages.")
    return pair[0] if kind == "deb" else pair[1]


# --- choosing formats --------------------------------------------------------------------------


def choose_formats(
    requested: Sequence[str], *, platform: str, host: Host, job_for: Callable[[str], Job]
) -> tuple[list[str], list[str]]:
    """``(formats to make, notes about skipped defaults)``.

    Asked-for formats are all made (a missing tool is then an error). Without ``--format`` the
    host OS's defaults are made, skipping, with a note, those whose tools are not installed.
    """
    if requested:
        return list(normalize_formats(requested)), []
    chosen: list[str] = []
    notes: list[str] = []
    for name in DEFAULT_FORMATS.get(platform_key(platform), ()):
        packager = get_packager(name)
        missing = [t for t in packager.tools(job_for(name)) if host.which(t.program) is None]
        if missing:
            notes.append(
                f"skipping {name}: {', '.join(t.program for t in missing)} not installed "
                f"({'; '.join(t.install_hint() for t in missing)})"
            )
        else:
            chosen.append(name)
    if not chosen:
        raise PackagingError(
            "No default package format can be made on this machine:\n  " + "\n  ".join(notes)
        )
    return chosen, notes
