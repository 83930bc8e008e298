"""The dub's mix step in bounded memory: the same output as the whole-array algorithm, a bounded peak."""

from __future__ import annotations

import copy
import tracemalloc

import numpy as np
import pytest

from anim400k import mixing as mixdef
from anim400k.dub import mix
from anim400k.dub.place import mix_down, place_lines, speech_at
from anim400k.dub.report import DubReport, LineReport
from anim400k.dub.speak import SPEECH_SR
from anim400k.model import Segment
from anim400k.signal import loudness, resample

SR = 48000


# ------------------------------------------------- the algorithm before the change (whole arrays), as reference
def _old_limit_peaks(x, sr, ceiling=mix.PEAK_CEILING, release_s=0.05, block=mix.BLOCK):
    x = np.asarray(x, dtype=np.float32)
    window = max(1, int(release_s * sr))
    margin = 2 * window + 2
    y = np.empty_like(x)
    for a in range(0, x.size, block):
        b = min(x.size, a + block)
        lo, hi = max(0, a - margin), min(x.size, b + margin)
        gain = mix._limiter_gain(x[lo:hi], ceiling, window)
        y[a:b] = x[a:b] * gain[a - lo : b - lo]
    peak = mix.true_peak(y, block)
    if peak > ceiling:
        y *= ceiling / peak
    return y


def _old_master(x, sr, target):
    current = mixdef.loudness(x, sr)
    if target is None or target <= mix.SILENT_LUFS or current <= mix.SILENT_LUFS:
        return _old_limit_peaks(x, sr)
    gain_db = float(target - current)
    out = _old_limit_peaks(x * np.float32(10 ** (gain_db / 20)), sr)
    for _ in range(mix.MAKEUP_ROUNDS):
        miss = float(target - mixdef.loudness(out, sr))
        if abs(miss) <= mix.MAKEUP_TOLERANCE_LU:
            break
        gain_db += miss
        out = _old_limit_peaks(x * np.float32(10 ** (gain_db / 20)), sr)
    return out


def _old_mix_down(mix_, backing, speech, sr, report, out_channels):
    n = len(mix_)
    speech_out = resample(speech, SPEECH_SR, sr, "soxr_hq")
    speech_out = np.pad(speech_out[:n], (0, max(0, n - len(speech_out))))
    report.source_lufs = loudness(mix_, sr)
    spread_db = 10 * np.log10(max(1, out_channels))
    dubbed = _old_master(backing + speech_out, sr, report.source_lufs - spread_db)
    for rec in report.spoken_lines:
        a, b = int(round(rec.speech_start * sr)), int(round(rec.speech_end * sr))
        rec.dub_ratio_db = round(mixdef.fit_mix(dubbed[a:b], speech_out[a:b], backing[a:b], sr).ratio_db, 2)
    return dubbed, speech_out


def _episode(seconds: float, loud: float = 1.0):
    """A source (vocals + backing), three placed lines and their report, at 48 kHz."""
    from anim400k.dub.options import DubOptions

    rng = np.random.default_rng(0)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    backing = (0.05 * np.sin(2 * np.pi * 110 * t) + 0.02 * rng.standard_normal(n)).astype(np.float32)
    vocals = np.zeros(n, np.float32)
    segs = [Segment(s, s + 2.5, speaker="a") for s in (2.0, seconds / 2 - 1.0, seconds - 5.0)]
    for s in segs:
        a, b = int(s.start * SR), int(s.end * SR)
        vocals[a:b] = 0.2 * np.sin(2 * np.pi * 180 * t[a:b]) * (np.sin(2 * np.pi * 3 * t[a:b]) > 0)
    mix_ = (vocals + backing) * np.float32(loud)
    vocals *= np.float32(loud)
    lines = {i: (0.3 * np.sin(2 * np.pi * 200 * np.arange(int(2.2 * SPEECH_SR)) / SPEECH_SR)).astype(np.float32)
             for i in range(len(segs))}
    lines[1][1000:1040] = 1.5  # a peak for the limiter
    recs = [LineReport(i, "a", s.start, s.end, "Hello there.") for i, s in enumerate(segs)]
    report = DubReport("x", None, seconds, SR, "t", "t", lines=recs)
    backing_parts = mix.Parts((mix_, vocals), (1, -1))
    speech = place_lines(mix_, vocals, backing_parts, SR, segs, lines, {}, DubOptions(), report)
    return mix_, vocals, backing_parts, speech, report


@pytest.mark.parametrize(("loud", "channels"), [(1.0, 1), (6.0, 2)])
def test_streamed_mix_equals_the_whole_array_mix(loud, channels):
    """30 s (across a BLOCK edge) of backing ``mix - vocals`` read in blocks, mastered block by block: the
    same samples and per-line dub ratios as summing and mastering whole float32 arrays (loud: limiter at work)."""
    mix_, vocals, backing_parts, speech, report = _episode(30.0, loud)
    old_report = copy.deepcopy(report)
    old, old_speech = _old_mix_down(mix_, (mix_ - vocals).astype(np.float32), speech, SR, old_report, channels)
    speech_out = speech_at(speech, SR, len(mix_))
    new = mix_down(backing_parts, speech_out, SR, report, loudness(mix_, SR), channels)
    assert np.array_equal(speech_out, old_speech)
    assert np.array_equal(new, old)
    ratios = [r.dub_ratio_db for r in report.lines]
    assert None not in ratios and ratios == [r.dub_ratio_db for r in old_report.lines]
    if loud > 1:
        assert mix.true_peak(new) <= mix.PEAK_CEILING + 1e-4


def test_master_sum_equals_master_of_the_sum():
    rng = np.random.default_rng(2)
    a, b = ((rng.standard_normal(SR * 3) * 0.3).astype(np.float32) for _ in range(2))
    for target in (None, -14.0):
        y, gain = mix.master_sum([a, b], SR, target, [1, -1])
        old = _old_master(a - b, SR, target)
        assert np.array_equal(y, old) and (gain is None) == (target is None)


def test_parts_reads_like_the_summed_array():
    a, b = np.arange(10, dtype=np.float32), np.ones(10, dtype=np.float32)
    p = mix.Parts((a, b), (1, -1))
    assert len(p) == 10 and np.array_equal(p[2:5], (a - b)[2:5]) and np.array_equal(p[8:20], (a - b)[8:])
    assert np.array_equal(p[-3:], (a - b)[-3:]) and np.array_equal(p.materialize(), a - b)
    expected = a - b
    into = b.copy()
    assert np.array_equal(mix.Parts((a, into), (1, -1)).materialize(out=into), expected)  # in place of a part
    assert np.array_equal(into, expected)
    with pytest.raises(TypeError, match="unit-step"):
        p[::2]
    with pytest.raises(ValueError, match="equal lengths"):
        mix.Parts((a, b[:5]))


def test_mix_step_peak_is_bounded_on_a_long_track():
    """Ten minutes at 48 kHz (115 MB per float32 track): speech to 48 kHz plus mastering hold the speech
    track and the result (2.3 tracks, 268 MB, measured), not the five of the whole-array algorithm (577 MB)."""
    n = 600 * SR
    track = n * 4
    rng = np.random.default_rng(3)
    mix_ = np.empty(n, np.float32)
    for a in range(0, n, 1 << 22):
        b = min(n, a + (1 << 22))
        mix_[a:b] = 0.1 * rng.standard_normal(b - a, dtype=np.float32)
    vocals = np.zeros(n, np.float32)
    vocals[SR : 2 * SR] = mix_[SR : 2 * SR]
    speech = np.zeros(int(np.ceil(n / SR * SPEECH_SR)) + 1, np.float32)
    speech[SPEECH_SR : 3 * SPEECH_SR] = 0.2
    rec = LineReport(0, "a", 1.0, 3.0, "Hi.")
    rec.speech_start, rec.speech_end = 1.0, 3.0
    report = DubReport("x", None, n / SR, SR, "t", "t", lines=[rec])
    backing = mix.Parts((mix_, vocals), (1, -1))
    tracemalloc.start()
    try:
        speech_out = speech_at(speech, SR, n)
        dubbed = mix_down(backing, speech_out, SR, report, -20.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(dubbed) == n and report.output_lufs == pytest.approx(-20.0, abs=0.1)
    assert peak < 2.6 * track, f"mix step peak {peak / 1e6:.0f} MB for {track / 1e6:.0f} MB tracks"


@pytest.mark.parametrize(("sr", "target"), [(48000, 16000), (48000, 24000), (24000, 48000), (44100, 24000)])
def test_streamed_resampling_equals_one_shot_soxr(monkeypatch, sr, target):
    """libsoxr fed in chunks (block edges inside the signal) gives the one-shot result bit for bit."""
    from anim400k import signal

    monkeypatch.setattr(signal, "RESAMPLE_CHUNK", 10_007)
    rng = np.random.default_rng(4)
    for n in (1, 999, 10_007, 123_457):
        x = (rng.standard_normal(n) * 0.1).astype(np.float32)
        ref = resample(x, sr, target, "soxr_hq")
        assert np.array_equal(signal.resample_streamed(x, sr, target), ref)
        assert np.array_equal(signal.resample_streamed(x, sr, target, len(ref) + 50)[: len(ref)], ref)
        assert np.array_equal(signal.resample_streamed(x, sr, target, len(ref) // 2), ref[: len(ref) // 2])
    with pytest.raises(ValueError, match="mono"):
        signal.resample_streamed(np.zeros((2, 10), np.float32), sr, target)


def test_encoder_frames_are_trimmed_or_padded_block_by_block():
    from anim400k.media.audio import audio_frames
    from anim400k.signal import fit_length

    data = np.broadcast_to(np.linspace(-1.5, 1.5, 10_000, dtype=np.float32), (2, 10_000))  # a stereo view
    for length in (7_000, 10_000, 12_345):
        got = np.concatenate([f.to_ndarray() for f in audio_frames(data, SR, "stereo", block=4096, length=length)],
                             axis=1)
        assert np.array_equal(got, np.clip(fit_length(data, length), -1, 1))


def test_dub_audio_without_stems_gives_the_same_track(tmp_path, monkeypatch):
    """``keep_stems=False`` (what ``anim400k dub`` uses without ``--stems``) lets the stems go, same dub;
    a source handed over (no reference kept by the caller) is let go before the mix step."""
    import weakref

    from anim400k.dub import pipeline
    from anim400k.dub.pipeline import DubOptions, dub_audio, make_synthesizer, make_translator
    from anim400k.media import decode_audio
    from anim400k.synth import make_episode

    ep = make_episode(tmp_path, duration=8.0, seed=11, n_speakers=2, voices="espeak", video=False)
    mix_ = decode_audio(ep.media, "jpn", sr=SR)
    opts = DubOptions(subtitles=str(ep.subtitles), diarizer=None, progress=False)
    kept = dub_audio(mix_, SR, make_translator(opts), make_synthesizer(opts), opts)
    handed = [mix_.copy()]
    source = weakref.ref(handed[0])
    released = []

    def spy(*args, **kwargs):
        released.append(source() is None)
        return mix_down(*args, **kwargs)

    monkeypatch.setattr(pipeline, "mix_down", spy)
    lean = dub_audio(handed.pop(), SR, make_translator(opts), make_synthesizer(opts), opts, keep_stems=False)
    assert released == [True]
    assert kept.report.spoken_lines and np.array_equal(kept.audio, lean.audio)
    assert kept.backing is not None and kept.vocals is not None and kept.speech is not None
    assert lean.backing is None and lean.vocals is None and lean.speech is None
    assert np.allclose(kept.backing + kept.vocals, mix_, atol=1e-6)
