"""A pitch-corrected speed change as PAL releases make it (FFmpeg's ``atempo``, through PyAV's filter graph),
with the map it actually applies, measured: test pairs for :mod:`anim400k.sync.stretch`."""

from __future__ import annotations

import numpy as np

#: seconds between the marker bursts whose positions give the stretch's true map
MARK_STEP = 1.0


def atempo(x: np.ndarray, sr: int, tempo: float) -> np.ndarray:
    """``x`` (mono, or ``(channels, n)`` with 1-2 channels) played ``tempo`` times faster, pitch kept:
    FFmpeg's ``atempo`` filter (WSOLA), in process through PyAV. Float32, the same channel layout."""
    import av
    from av.filter import Graph

    if not 0.5 <= tempo <= 2.0:
        raise ValueError(f"atempo takes a tempo within 0.5..2.0, got {tempo}")
    y = np.atleast_2d(np.asarray(x, dtype=np.float32))
    layout = {1: "mono", 2: "stereo"}[y.shape[0]]
    graph = Graph()
    src = graph.add_abuffer(format="fltp", sample_rate=sr, layout=layout, time_base=f"1/{sr}")
    stretch = graph.add("atempo", f"{tempo:.10f}")
    sink = graph.add("abuffersink")
    src.link_to(stretch)
    stretch.link_to(sink)
    graph.configure()
    out: list[np.ndarray] = []

    def drain() -> None:
        while True:
            try:
                frame = graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            z = frame.to_ndarray()
            out.append(z if frame.format.is_planar else z.reshape(-1, y.shape[0]).T)

    hop = 4096
    for i in range(0, y.shape[1], hop):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(y[:, i : i + hop]), format="fltp", layout=layout)
        frame.sample_rate, frame.pts = sr, i
        graph.push(frame)
        drain()
    graph.push(None)
    drain()
    z = np.concatenate(out, axis=1).astype(np.float32)
    return z[0] if np.ndim(x) == 1 else z


def atempo_with_map(x: np.ndarray, sr: int, tempo: float, seed: int = 1) -> tuple[np.ndarray, float, float]:
    """``(y, offset, drift)``: mono ``x`` stretched by :func:`atempo` and the line ``t_y = offset + t_x (1 +
    drift)`` that this very stretch applies, measured from noise bursts every :data:`MARK_STEP` s in a
    second channel stretched with it (WSOLA picks its grains on both channels: a burst's shift is ``x``'s).
    Nominally ``offset`` is 0 and ``drift`` ``1/tempo - 1``; atempo's grains move it by ~10-20 ms."""
    rng = np.random.default_rng(seed)
    half = int(0.025 * sr)
    marks = np.zeros(x.size, np.float32)
    pos = np.arange(MARK_STEP, x.size / sr - MARK_STEP, MARK_STEP)
    for p in pos:
        i = int(p * sr)
        marks[i - half : i + half] = rng.standard_normal(2 * half) * np.hanning(2 * half)
    y = atempo(np.stack([np.asarray(x, np.float32), marks]), sr, tempo)
    env = np.convolve(y[1] ** 2, np.hanning(2 * half + 1), "same")
    got = []
    for p in pos:
        i0 = max(0, int((p / tempo - 0.2) * sr))
        got.append((i0 + int(np.argmax(env[i0 : i0 + int(0.4 * sr)]))) / sr)
    slope, offset = np.polyfit(pos, np.array(got), 1)
    return y[0].copy(), float(offset), float(slope - 1.0)
