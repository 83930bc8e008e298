"""media.scratch: whole tracks in unnamed temporary files (decode_audio(on_disk=True), the cut stage's tracks)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from anim400k.media import decode_audio
from anim400k.media.scratch import FileSink, scratch_zeros


def _media(path: Path, layouts: tuple[tuple[str, str, float], ...]) -> Path:
    """An MKV of AAC tone streams: (language, layout, first pts in seconds), 3 s each, 48 kHz."""
    import av

    sr = 48000
    with av.open(str(path), "w") as out:
        streams = []
        for lang, layout, _ in layouts:
            s = out.add_stream("aac", rate=sr, layout=layout)
            s.metadata["language"] = lang
            streams.append(s)
        for k, (s, (_, layout, first)) in enumerate(zip(streams, layouts, strict=True)):
            t = np.arange(int((3.0 - first) * sr)) / sr
            tone = (0.3 * np.sin(2 * np.pi * (440 + 300 * k) * t)).astype(np.float32)
            arr = np.tile(tone, (av.AudioLayout(layout).nb_channels, 1))
            frame = av.AudioFrame.from_ndarray(arr, format="fltp", layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = sr, int(round(first * sr)), Fraction(1, sr)
            out.mux(s.encode(frame))
            out.mux(s.encode(None))
    return path


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ANIM400K_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize("channels", [1, 2])
def test_file_sink_joins_the_pieces_read_only(channels: int, _cache: Path) -> None:
    rng = np.random.default_rng(1)
    pieces = [rng.standard_normal((channels, int(n))).astype(np.float32) for n in rng.integers(0, 900, 40)]
    sink = FileSink()
    for p in pieces:
        sink.append(p)
    out = sink.join(channels)
    np.testing.assert_array_equal(out, np.concatenate(pieces, axis=1))
    assert isinstance(out, np.memmap) and not out.flags.writeable
    assert list((_cache / "scratch").iterdir()) == []  # the file has no name: nothing to clean up
    with pytest.raises(ValueError, match="already joined"):
        sink.append(pieces[0])


def test_file_sink_empty_and_channel_mismatch() -> None:
    assert FileSink().join(2).shape == (2, 0)
    sink = FileSink()
    sink.append(np.zeros((1, 4), np.float32))
    with pytest.raises(ValueError, match="2 channels after pieces of 1"):
        sink.append(np.zeros((2, 4), np.float32))


def test_scratch_zeros_is_writable_zeros() -> None:
    z = scratch_zeros(1000)
    assert z.dtype == np.float32 and z.shape == (1000,) and not z.any()
    z[10:20] = 1.5
    assert float(z.sum()) == 15.0
    assert scratch_zeros(0).shape == (0,)


@pytest.mark.parametrize("mono", [True, False])
def test_decode_on_disk_gives_the_same_samples(tmp_path: Path, mono: bool) -> None:
    path = _media(tmp_path / "tones.mkv", (("jpn", "stereo", 0.0), ("eng", "5.1", 0.0)))
    for stream in ("jpn", "eng"):
        ram = decode_audio(path, stream, sr=44100, mono=mono)
        disk = decode_audio(path, stream, sr=44100, mono=mono, on_disk=True)
        assert isinstance(disk, np.memmap) and not disk.flags.writeable
        np.testing.assert_array_equal(disk, ram)


def test_decode_on_disk_pads_a_late_stream(tmp_path: Path) -> None:
    late_audio = _media(tmp_path / "late.mkv", (("jpn", "mono", 0.5),))
    np.testing.assert_array_equal(decode_audio(late_audio, 0, sr=16000, on_disk=True),
                                  decode_audio(late_audio, 0, sr=16000))


def test_file_sink_holds_no_anonymous_memory(tmp_path: Path) -> None:
    """256 MB written through a FileSink and read back whole raise the process's anonymous memory by little:
    the track is file pages (the in-memory joiner: +256 MB). Linux (/proc/self/status RssAnon)."""
    code = textwrap.dedent("""
        import numpy as np
        from anim400k.media.scratch import FileSink

        def anon():
            for line in open("/proc/self/status"):
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024

        before = anon()
        sink = FileSink()
        piece = np.ones((1, 1 << 16), np.float32)
        for _ in range(1024):  # 256 MB
            sink.append(piece)
        out = sink.join(1)
        total = float(out.sum(dtype=np.float64))  # every page read
        print(anon() - before, out.nbytes, int(total))
    """)
    env = {**os.environ, "ANIM400K_CACHE": str(tmp_path / "c")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    rise, nbytes, total = map(int, result.stdout.split())
    assert total == nbytes // 4
    assert rise < 0.1 * nbytes, f"anonymous memory rose by {rise / 1e6:.0f} MB for {nbytes / 1e6:.0f} MB"
