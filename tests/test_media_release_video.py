"""Video of real releases: interlaced DVD pictures (deinterlaced in clips and frame grabs) and anamorphic frame
grabs (square pixels at the display aspect). Found by ``benchmarks/check_input_media.py`` (docs/media.md)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from anim400k import media
from anim400k.media.deinterlace import deinterlaced


def _picture(w: int, h: int, x: int) -> np.ndarray:
    """Grey background with a white 16-pixel square whose left edge is at ``x``."""
    img = np.full((h, w, 3), 60, np.uint8)
    img[h // 2 - 16:h // 2 + 16, x:x + 16] = 235
    return img


def _interlaced_video(path: Path, w: int = 160, h: int = 96, frames: int = 30, sar: Fraction | None = None,
                      interlaced: bool = True, gop: int = 250) -> Path:
    """A square moving 8 pixels a field: each frame's even lines (top field) show it at ``16 k``, its odd lines
    (bottom field, 1/60 s later) at ``16 k + 8``: combed. Coded as interlaced H.264, top field first (or, with
    ``interlaced=False``, the same combed pictures coded as progressive); a keyframe every ``gop`` pictures."""
    params = "interlaced=1:tff=1" if interlaced else "interlaced=0"
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=Fraction(30000, 1001),
                            options={"preset": "ultrafast", "crf": "10", "g": str(gop), "keyint_min": str(gop),
                                     "sc_threshold": "0", "x264-params": params})
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        if sar is not None:
            vs.codec_context.sample_aspect_ratio = sar
        for k in range(frames):
            img = _picture(w, h, 8 + (16 * k) % (w - 40))
            img[1::2] = _picture(w, h, 8 + (16 * k) % (w - 40) + 8)[1::2]
            frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
            frame.pts = k
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
    return path


def _combing(rgb: np.ndarray) -> float:
    """How much neighbouring lines differ beyond what lines two apart do (0 for a progressive picture of
    horizontal edges; large where the fields show a moving object at two places)."""
    y = rgb.astype(np.float64).mean(axis=2)
    adjacent = np.abs(y[1:-1] - (y[:-2] + y[2:]) / 2).mean()
    return float(adjacent)


def test_interlaced_pictures_are_deinterlaced_in_clips_and_frame_grabs(tmp_path: Path) -> None:
    """A 29.97 fps interlaced (tff) source: the decoder flags its pictures interlaced; the clips and the
    JPEG frames were cut from the combed pictures as they were (the moving square in two places on alternate
    lines, blended into a ghost when scaled): now they are deinterlaced (bwdif), the combing gone."""
    src = _interlaced_video(tmp_path / "dvd.mkv")
    with av.open(str(src)) as c:
        raw = list(c.decode(c.streams.video[0]))
    assert all(f.interlaced_frame for f in raw)
    raw_comb = np.mean([_combing(f.to_ndarray(format="rgb24")) for f in raw[5:25]])

    with av.open(str(src)) as c:
        s = c.streams.video[0]
        spans = list(media.frame_spans(c, s))
    assert len(spans) == len(raw)  # one picture out per picture in, at the source's times
    assert [round(t0, 3) for _, t0, _ in spans] == [round(float(f.time), 3) for f in raw]
    out_comb = np.mean([_combing(f.to_ndarray(format="rgb24")) for f, _, _ in spans[5:25]])
    assert raw_comb > 4 * out_comb, (raw_comb, out_comb)

    clip = tmp_path / "clip.mp4"
    media.cut_video_clips(src, [(0.2, 0.8)], [clip])
    with av.open(str(clip)) as c:
        clip_frames = list(c.decode(c.streams.video[0]))
    assert np.mean([_combing(f.to_ndarray(format="rgb24")) for f in clip_frames]) < raw_comb / 4

    got = media.extract_frames(src, 2.0, lambda k: tmp_path / f"f{k}.jpg")
    from PIL import Image

    assert _combing(np.asarray(Image.open(got[1][2]).convert("RGB"))) < raw_comb / 4


def test_deinterlacer_leaves_progressive_pictures_alone_and_restarts_at_keyframes(tmp_path: Path) -> None:
    """Progressive pictures pass untouched (the same objects); every keyframe starts a new filter, so a
    decode from a keyframe gives the same pictures as one from the start (seeking cutters stay byte-exact)."""
    prog = _interlaced_video(tmp_path / "prog.mkv", interlaced=False)
    with av.open(str(prog)) as c:
        raw = list(c.decode(c.streams.video[0]))
    with av.open(str(prog)) as c:
        passed = list(deinterlaced(c.decode(c.streams.video[0])))
    assert not any(f.interlaced_frame for f in raw)
    assert [f.to_ndarray().tobytes() for f in passed] == [f.to_ndarray().tobytes() for f in raw]

    src = _interlaced_video(tmp_path / "gop.mkv", frames=40, gop=10)
    with av.open(str(src)) as c:
        whole = [f.to_ndarray().tobytes() for f in deinterlaced(c.decode(c.streams.video[0]))]
    with av.open(str(src)) as c:
        frames = list(c.decode(c.streams.video[0]))
    keys = [k for k, f in enumerate(frames) if f.key_frame]
    assert len(keys) >= 3
    start = keys[2]
    tail = [f.to_ndarray().tobytes() for f in deinterlaced(iter(frames[start:]))]
    assert tail == whole[start:]


def test_frame_grabs_of_an_anamorphic_source_have_square_pixels(tmp_path: Path) -> None:
    """720x480 with SAR 32:27 is shown 16:9: its JPEGs were 720x480 (squeezed, 3:2); now 852x480, as its
    clips; with SAR 8:9 (4:3) 640x480; a square-pixel source keeps its size."""
    from PIL import Image

    sizes = {}
    for name, size, sar in (("wide", (720, 480), Fraction(32, 27)), ("narrow", (720, 480), Fraction(8, 9)),
                            ("square", (162, 90), None)):
        src = _interlaced_video(tmp_path / f"{name}.mkv", *size, frames=3, sar=sar, interlaced=False)
        got = media.extract_frames(src, 10.0, lambda k, n=name: tmp_path / f"{n}{k}.jpg")
        sizes[name] = Image.open(got[0][2]).size
    assert sizes == {"wide": (852, 480), "narrow": (640, 480), "square": (162, 90)}
