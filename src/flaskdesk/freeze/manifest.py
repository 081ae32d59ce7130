"""Fast rebuild: when only templates or static files changed, update the bundle without PyInstaller.

Every onedir build records in ``build/flaskdesk/manifest.json`` a key of everything that shapes
the executable (configuration, options, Python, installed distributions, flaskdesk itself), the
hashes of the app's Python sources, and the hash and bundle destination of every asset file. The
next build compares: same key and same sources means PyInstaller would produce the same program,
so copying the changed assets into ``dist/NAME/_internal`` (and deleting removed ones) gives the
same bundle in a fraction of the time. Anything else is a full build.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

FORMAT = 1


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def environment_fingerprint() -> list[str]:
    """Installed distributions as ``name==version``, sorted: a ``pip install`` changes the key."""
    found = {
        f"{d.metadata['Name']}=={d.version}".lower() for d in metadata.distributions() if d.metadata["Name"]
    }
    return sorted(found)


#: What each part of the key stands for, to say why a full build is needed.
KEY_PARTS = {
    "pyproject": "pyproject.toml",
    "target": "the build options",
    "python": "the Python interpreter",
    "packages": "the installed packages",
    "flaskdesk": "flaskdesk itself",
}


def build_key(parts: Mapping[str, Any]) -> dict[str, str]:
    """A stable hash of each JSON-able part (config text, options, fingerprints...), kept apart.

    Kept per part so that a full build can say which one changed.
    """
    return {
        name: hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode("utf-8")).hexdigest()
        for name, value in parts.items()
    }


@dataclass(frozen=True)
class Manifest:
    """What one onedir build was made from, and where its assets went."""

    key: Mapping[str, str]
    sources: Mapping[str, str]
    source_roots: tuple[str, ...]
    assets: Mapping[str, Mapping[str, str]]
    asset_roots: tuple[tuple[str, str], ...]
    bundle_data: str
    executable: str
    format: int = FORMAT

    def to_json(self) -> str:
        """Serialized form (sorted keys, so unchanged builds write identical files)."""
        return (
            json.dumps(
                {
                    "format": self.format,
                    "key": dict(self.key),
                    "sources": dict(self.sources),
                    "source_roots": list(self.source_roots),
                    "assets": {k: dict(v) for k, v in self.assets.items()},
                    "asset_roots": [list(r) for r in self.asset_roots],
                    "bundle_data": self.bundle_data,
                    "executable": self.executable,
                },
                indent=1,
                sort_keys=True,
            )
            + "\n"
        )

    @classmethod
    def load(cls, path: Path) -> Manifest | None:
        """The manifest at ``path``, or ``None`` if missing, unreadable or from another format."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                return None
            return cls(
                key=data["key"],
                sources=data["sources"],
                source_roots=tuple(data["source_roots"]),
                assets=data["assets"],
                asset_roots=tuple((s, d) for s, d in data["asset_roots"]),
                bundle_data=data["bundle_data"],
                executable=data["executable"],
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None


def hash_sources(roots: Iterable[str]) -> dict[str, str]:
    """Hashes of every ``.py`` file under each root (a package folder) or of the root file itself."""
    hashes: dict[str, str] = {}
    for root in roots:
        path = Path(root)
        if path.is_file():
            hashes[str(path)] = file_hash(path)
        elif path.is_dir():
            for file in sorted(path.rglob("*.py")):
                if "__pycache__" not in file.parts:
                    hashes[str(file)] = file_hash(file)
    return hashes


def hash_assets(files: Iterable[tuple[Path, str]]) -> dict[str, dict[str, str]]:
    """``{bundle destination: {"source", "sha256"}}`` for ``(source, destination)`` pairs."""
    return {dest: {"source": str(src), "sha256": file_hash(src)} for src, dest in files}


@dataclass(frozen=True)
class AssetUpdate:
    """What a fast rebuild does: files to copy in (source, destination) and destinations to delete."""

    copy: tuple[tuple[str, str], ...] = ()
    delete: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when the bundle is already up to date."""
        return not self.copy and not self.delete


def plan_update(
    old: Manifest | None,
    *,
    key: Mapping[str, str],
    sources: Mapping[str, str],
    assets: Mapping[str, Mapping[str, str]],
) -> AssetUpdate | str:
    """The asset update that brings the last build up to date, or why a full build is needed (pure)."""
    if old is None:
        return "no previous build manifest"
    changed = [part for part in sorted(set(old.key) | set(key)) if old.key.get(part) != key.get(part)]
    if changed:
        return " and ".join(KEY_PARTS.get(part, part) for part in changed) + " changed"
    if dict(old.sources) != dict(sources):
        changed = sorted(set(old.sources) ^ set(sources)) or sorted(
            name for name in sources if old.sources.get(name) != sources[name]
        )
        return f"Python sources changed ({', '.join(Path(c).name for c in changed[:3])})"
    copy = tuple(
        (info["source"], dest)
        for dest, info in sorted(assets.items())
        if old.assets.get(dest, {}).get("sha256") != info["sha256"]
    )
    delete = tuple(sorted(set(old.assets) - set(assets)))
    return AssetUpdate(copy=copy, delete=delete)
