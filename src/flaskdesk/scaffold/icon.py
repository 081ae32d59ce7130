"""A placeholder app icon, drawn in pure Python and written as PNG with :mod:`zlib` (no Pillow).

The icon is a rounded square in a colour picked from the project's name, with a white app
window drawn on it. It is only a starting point: installers need *some* square PNG of at least
512 px, and the user replaces it with their own artwork.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import struct
import zlib

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_bytes(width: int, height: int, rows: list[bytes]) -> bytes:
    """An 8-bit RGBA PNG from ``rows`` (each ``width * 4`` bytes)."""
    if len(rows) != height or any(len(row) != width * 4 for row in rows):
        raise ValueError("rows must be height rows of width * 4 RGBA bytes")
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 (None) on every row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit, RGBA
    return (
        _PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    )


def accent_for(seed: str) -> tuple[int, int, int]:
    """A pleasant, saturated colour that is always the same for the same ``seed``."""
    hue = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:2], "big") / 65536
    red, green, blue = colorsys.hls_to_rgb(hue, 0.45, 0.6)
    return round(red * 255), round(green * 255), round(blue * 255)


def app_icon(seed: str, size: int = 512) -> bytes:
    """The placeholder icon as PNG bytes: ``size`` x ``size`` pixels, coloured from ``seed``."""
    if size < 64:
        raise ValueError("the icon must be at least 64 px")
    top = accent_for(seed)
    bottom = tuple(max(0, round(c * 0.72)) for c in top)
    margin = size // 16
    radius = size // 5
    lo, hi = margin, size - margin  # the rounded square spans [lo, hi)
    # The white "window": a frame with a title bar, centred on the square.
    win_lo, win_hi = size * 0.27, size * 0.73
    win_top, win_bottom = size * 0.31, size * 0.71
    frame = max(2, size // 40)
    title_bar = size * 0.07
    white = (255, 255, 255)

    rows: list[bytes] = []
    for y in range(size):
        row = bytearray(size * 4)
        if lo <= y < hi:
            t = (y - lo) / max(1, hi - lo - 1)
            colour = bytes(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)) + b"\xff"
            row[lo * 4 : hi * 4] = colour * (hi - lo)
            # Anti-aliased rounded corners: only the corner zones need per-pixel work.
            dy = (
                (lo + radius - y - 0.5)
                if y < lo + radius
                else (y + 0.5 - (hi - radius))
                if y >= hi - radius
                else 0
            )
            if dy > 0:
                for x in range(lo, lo + radius):
                    alpha = _coverage(lo + radius - x - 0.5, dy, radius)
                    for px in (x, size - 1 - x):
                        row[px * 4 : px * 4 + 4] = (colour[:3] if alpha else b"\0\0\0") + bytes((alpha,))
            # The window glyph.
            if win_top <= y < win_bottom:
                in_bar = y < win_top + title_bar
                edge = y < win_top + frame or y >= win_bottom - frame
                x0, x1 = round(win_lo), round(win_hi)
                if in_bar or edge:
                    row[x0 * 4 : x1 * 4] = bytes((*white, 255)) * (x1 - x0)
                else:
                    row[x0 * 4 : (x0 + frame) * 4] = bytes((*white, 255)) * frame
                    row[(x1 - frame) * 4 : x1 * 4] = bytes((*white, 255)) * frame
                if in_bar:  # three dots in the title bar, in the square's colour
                    dot = max(2, round(title_bar * 0.18))
                    cy = win_top + title_bar / 2
                    for i in range(3):
                        cx = x0 + title_bar * 0.6 + i * title_bar * 0.55
                        if abs(y + 0.5 - cy) <= dot:
                            half = int(math.sqrt(dot**2 - (y + 0.5 - cy) ** 2))
                            a, b = max(0, round(cx - half)), min(size, round(cx + half))
                            row[a * 4 : b * 4] = colour * (b - a)
        rows.append(bytes(row))
    return png_bytes(size, size, rows)


def _coverage(dx: float, dy: float, radius: int) -> int:
    """Alpha (0-255) of a corner pixel ``(dx, dy)`` from the corner circle's centre."""
    if dx <= 0:
        return 255
    distance = math.hypot(dx, dy)
    return max(0, min(255, round((radius - distance + 0.5) * 255)))
