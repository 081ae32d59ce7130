"""The app icon in every size and container installers want, rendered from the project's one PNG.

freedesktop hicolor PNGs (16…512), a Windows ``.ico`` and a macOS ``.icns``. Pillow is imported
here only, at package time (it is not a runtime dependency of built apps).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .base import PackagingError

if TYPE_CHECKING:
    from PIL.Image import Image

#: The hicolor theme's standard application icon sizes.
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: Smallest source worth scaling down from for every format (Linux 512, macOS 512@1x).
MIN_SOURCE = 256


def hicolor_path(size: int, name: str, *, context: str = "apps") -> str:
    """``usr/share/icons/hicolor/48x48/apps/NAME.png``-style relative path."""
    return f"usr/share/icons/hicolor/{size}x{size}/{context}/{name}.png"


def _open(source: Path) -> Image:
    try:
        from PIL import Image as PILImage
    except ImportError as error:  # pragma: no cover - Pillow is in the dev extra
        raise PackagingError(
            "Making installer icons needs Pillow: pip install Pillow "
            "(into the environment that runs flaskdesk)."
        ) from error
    try:
        opened = PILImage.open(source)
        opened.load()
    except (OSError, ValueError) as error:
        raise PackagingError(
            f"Cannot read the icon {source}: {error}. "
            "Set [tool.flaskdesk] icon to a square PNG of 512 px or more."
        ) from error
    image: Image = opened.convert("RGBA")
    if image.width != image.height:  # pad to a square, centred, transparent
        side = max(image.size)
        square = PILImage.new("RGBA", (side, side), (0, 0, 0, 0))
        square.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
        image = square
    if image.width < MIN_SOURCE:
        raise PackagingError(
            f"The icon {source} is {image.width} px; installers need at least {MIN_SOURCE} px "
            "(512 px or more recommended). Use a larger PNG."
        )
    return image


def _scaled(image: Image, size: int) -> Image:
    from PIL import Image as PILImage

    return image if image.width == size else image.resize((size, size), PILImage.Resampling.LANCZOS)


def write_pngs(source: Path, root: Path, name: str, sizes: Sequence[int] = HICOLOR_SIZES) -> list[Path]:
    """Write the hicolor PNGs of ``source`` under ``root``; returns the files written."""
    image = _open(source)
    written = []
    for size in sizes:
        path = root / hicolor_path(size, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        _scaled(image, size).save(path, "PNG", optimize=True)
        written.append(path)
    return written


def write_png(source: Path, target: Path, size: int) -> Path:
    """One square PNG of ``size`` px."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _scaled(_open(source), size).save(target, "PNG", optimize=True)
    return target


def write_ico(source: Path, target: Path) -> Path:
    """A multi-resolution Windows icon."""
    image = _open(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    _scaled(image, max(ICO_SIZES)).save(target, "ICO", sizes=[(s, s) for s in ICO_SIZES])
    return target


def write_icns(source: Path, target: Path) -> Path:
    """A macOS icon container (Pillow writes ICNS on any OS)."""
    image = _open(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    _scaled(image, 1024 if image.width >= 1024 else 512).save(target, "ICNS")
    return target
