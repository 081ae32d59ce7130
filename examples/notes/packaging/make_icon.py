"""Draw packaging/icon.png (512x512): a note card on the app's dark background.

Run from anywhere with Pillow installed: ``python packaging/make_icon.py``. The PNG is committed,
so building the app does not need Pillow.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 512
SCALE = 4  # draw large, then downsample: smooth edges without an anti-aliasing library
BACKGROUND = "#1f2430"
PAPER = "#f3f0e6"
ACCENT = "#ffcc66"
LINES = "#8a91a3"


def draw_icon(size: int = SIZE) -> Image.Image:
    big = size * SCALE

    def s(value: float) -> int:
        return round(value * big / 512)

    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((s(16), s(16), s(496), s(496)), radius=s(104), fill=BACKGROUND)
    # the note card, with a folded corner
    card = [(s(128), s(96)), (s(320), s(96)), (s(384), s(160)), (s(384), s(416)), (s(128), s(416))]
    draw.polygon(card, fill=PAPER)
    draw.polygon([(s(320), s(96)), (s(384), s(160)), (s(320), s(160))], fill="#d6d0bf")
    # a title bar and text lines
    draw.rounded_rectangle((s(160), s(136), s(288), s(164)), radius=s(14), fill=ACCENT)
    for top, right in ((208, 352), (252, 352), (296, 330), (340, 280)):
        draw.rounded_rectangle((s(160), s(top), s(right), s(top + 16)), radius=s(8), fill=LINES)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    target = Path(__file__).with_name("icon.png")
    draw_icon().save(target, optimize=True)


if __name__ == "__main__":
    main()
