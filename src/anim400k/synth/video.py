"""Video frames for synthetic episodes: a moving test pattern with the frame number drawn in."""

from __future__ import annotations

import functools

import numpy as np

# 5x7 bitmap digits, one string per row ("#" = ink)
_FONT = {
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("####.", "....#", "....#", ".###.", "....#", "....#", "####."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": (".###.", "#....", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "....#", ".###."),
}
_GLYPHS = {d: np.array([[c == "#" for c in row] for row in rows]) for d, rows in _FONT.items()}

_BARS = np.array(
    [[192, 192, 192], [192, 192, 0], [0, 192, 192], [0, 192, 0], [192, 0, 192], [192, 0, 0], [0, 0, 192]],
    dtype=np.uint8,
)


@functools.lru_cache(maxsize=64)
def _scaled_glyph(ch: str, scale: int) -> np.ndarray:
    return np.kron(_GLYPHS[ch], np.ones((scale, scale), dtype=bool))


COUNTER_DIGITS = 5
COUNTER_XY = (4, 4)
COUNTER_SCALE = 3


def draw_number(
    img: np.ndarray, number: int, x: int, y: int, scale: int = 3, digits: int = COUNTER_DIGITS
) -> None:
    """Draw ``number`` (zero-padded to ``digits``) white on a black box into ``img`` (H, W, 3 uint8)
    at ``(x, y)``, in place."""
    text = f"{int(number):0{digits}d}"
    gw, gh = 6 * scale, 7 * scale
    h, w = img.shape[:2]
    x1, y1 = min(w, x + gw * len(text) + scale), min(h, y + gh + 2 * scale)
    img[y:y1, x:x1] = 0
    for i, ch in enumerate(text):
        glyph = _scaled_glyph(ch, scale)
        gx, gy = x + scale + i * gw, y + scale
        sub = img[gy : gy + glyph.shape[0], gx : gx + glyph.shape[1]]
        sub[glyph[: sub.shape[0], : sub.shape[1]]] = 255


def read_number(
    img: np.ndarray,
    x: int = COUNTER_XY[0],
    y: int = COUNTER_XY[1],
    digits: int = COUNTER_DIGITS,
    scale: int = COUNTER_SCALE,
) -> int | None:
    """Read back a number drawn by :func:`draw_number` from a (possibly lossy-decoded) RGB frame.

    Each digit cell is thresholded and matched to the nearest glyph; None if a cell matches
    no glyph closely (at most 3 of 35 dots differ).
    """
    gw = 6 * scale
    value = 0
    for i in range(digits):
        gx, gy = x + scale + i * gw, y + scale
        cells = img[gy : gy + 7 * scale, gx : gx + 5 * scale].astype(np.float32).mean(axis=2)
        if cells.shape != (7 * scale, 5 * scale):
            return None
        bits = cells.reshape(7, scale, 5, scale).mean(axis=(1, 3)) > 127
        dist, best = min((int(np.sum(g != bits)), d) for d, g in _GLYPHS.items())
        if dist > 3:
            return None
        value = value * 10 + int(best)
    return value


def make_frame(index: int, width: int = 320, height: int = 180, fps: float = 25.0) -> np.ndarray:
    """Frame ``index`` (RGB uint8 ``(height, width, 3)``): scrolling colour bars, a bouncing square
    and the frame number (top left, 3x-scaled 5x7 digits)."""
    cols = (np.arange(width) + 2 * index) * len(_BARS) // width % len(_BARS)
    img = np.repeat(_BARS[cols][None, :, :], height, axis=0)
    ramp_rows = slice(height * 3 // 4, height)
    img[ramp_rows] = ((np.arange(width) * 255 // max(1, width - 1) + 4 * index) % 256).astype(np.uint8)[
        None, :, None
    ]
    size = max(8, height // 6)
    period = 2 * (width - size)
    px = (7 * index) % period
    px = px if px < width - size else period - px
    py = int((height - size) * (0.5 + 0.45 * np.sin(2 * np.pi * index / (4 * fps))))
    img[py : py + size, px : px + size] = (255, 255, 255)
    draw_number(img, index, *COUNTER_XY, scale=COUNTER_SCALE)
    return img


def rgb_to_yuv420p(img: np.ndarray) -> np.ndarray:
    """BT.601 limited-range RGB -> planar YUV 4:2:0 as one ``(h * 3 // 2, w)`` uint8 array (the
    layout ``av.VideoFrame.from_ndarray(..., format="yuv420p")`` takes); integer maths, chroma
    taken from the top-left pixel of each 2x2 block; even sizes only."""
    h, w = img.shape[:2]
    rgb = img.astype(np.int32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16
    r2, g2, b2 = r[::2, ::2], g[::2, ::2], b[::2, ::2]
    u = ((-38 * r2 - 74 * g2 + 112 * b2 + 128) >> 8) + 128
    v = ((112 * r2 - 94 * g2 - 18 * b2 + 128) >> 8) + 128
    out = np.empty(h * w * 3 // 2, np.uint8)
    out[: h * w] = y.reshape(-1)
    out[h * w : h * w * 5 // 4] = u.reshape(-1)
    out[h * w * 5 // 4 :] = v.reshape(-1)
    return out.reshape(h * 3 // 2, w)
