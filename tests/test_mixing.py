"""Mixing ratio: exact recovery on synthetic linear mixes, remix reconstruction, per-clip batch."""

from __future__ import annotations

import numpy as np
import pytest

from anim400k.mixing import (
    RATIO_LIMIT_DB,
    clip_mixing_ratio,
    estimated_mixing_ratios,
    fit_mix,
    loudness,
    mixing_ratios,
    remix,
    restored_backing,
)
from anim400k.separate.metrics import sdr

SR = 16000


def _stems(seconds: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    speech = np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 4 * t) > 0) * 0.3
    backing = 0.05 * rng.standard_normal(n) + 0.1 * np.sin(2 * np.pi * 440 * t)
    return speech.astype(np.float32), backing.astype(np.float32)


@pytest.mark.parametrize("seconds", [0.25, 2.0])  # below and above the 400 ms gating block
@pytest.mark.parametrize("a,c", [(1.0, 1.0), (0.5, 2.0), (3.0, 0.1)])
def test_remix_with_true_stems_reproduces_the_mix(seconds, a, c) -> None:  # type: ignore[no-untyped-def]
    s, b = _stems(seconds, 0)
    mix = a * s + c * b
    fit = fit_mix(mix, s, b, SR)
    rebuilt = remix(s, b, fit.ratio_db, SR, gain_db=fit.gain_db)
    assert sdr(mix, rebuilt) > 30.0
    assert fit.residual_snr_db > 30.0


def test_ratio_moves_with_speech_level() -> None:
    s, b = _stems(2.0, 1)
    r1 = clip_mixing_ratio(s + b, s, b, SR)
    r2 = clip_mixing_ratio(2 * s + b, s, b, SR)
    assert r2 - r1 == pytest.approx(20 * np.log10(2), abs=0.01)
    # at equal loudness the ratio is 0 dB
    s_n = s * 10 ** ((-23 - loudness(s, SR)) / 20)
    b_n = b * 10 ** ((-23 - loudness(b, SR)) / 20)
    assert clip_mixing_ratio(s_n + b_n, s, b, SR) == pytest.approx(0.0, abs=0.01)


def test_silent_speech_hits_the_limit() -> None:
    s, b = _stems(1.0, 2)
    assert clip_mixing_ratio(b, np.zeros_like(s), b, SR) == -RATIO_LIMIT_DB


def test_batch_matches_single_clips_and_target_loudness() -> None:
    s, b = _stems(6.0, 3)
    mix = 0.7 * s + 1.3 * b
    intervals = [(0.0, 1.5), (2.0, 2.2), (3.0, 6.0), (5.9, 5.9)]
    fits = mixing_ratios(mix, s, b, SR, intervals)
    assert len(fits) == 4
    for (st, en), fit in zip(intervals[:3], fits[:3], strict=True):
        a, z = int(st * SR), int(en * SR)
        assert fit.ratio_db == pytest.approx(clip_mixing_ratio(mix[a:z], s[a:z], b[a:z], SR), abs=1e-6)
    out = remix(s, b, fits[0].ratio_db, SR, target_lufs=-20.0)
    assert loudness(out, SR) == pytest.approx(-20.0, abs=0.1)


def _speech_over_noise(under_db: float, seconds: float = 3.0, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Speech-band noise with a syllable-rate envelope over white noise ``under_db`` dB under it (BS.1770),
    and the single-mix Wiener estimate of that noise from oracle local variances (3 bins x 5 frames):
    shrunk where the speech dominates, as a separated backing is."""
    from scipy.ndimage import uniform_filter
    from scipy.signal import butter, istft, sosfilt, stft

    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    band = butter(4, [300, 3400], btype="band", fs=SR, output="sos")
    s = sosfilt(band, rng.standard_normal(n)) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))
    b = rng.standard_normal(n)
    b *= 10 ** ((loudness(s, SR) - under_db - loudness(b, SR)) / 20)
    m = s + b
    kw = {"nperseg": 1024, "noverlap": 768}
    (_, _, ss), (_, _, bb), (_, _, mm) = (stft(x, SR, **kw) for x in (s, b, m))
    vs, vb = (uniform_filter(np.abs(x) ** 2, (3, 5)) for x in (ss, bb))
    est = istft(vb / (vb + vs) * mm, SR, **kw)[1][:n]
    return m, s, b, est


@pytest.mark.parametrize("under_db", [6.0, 10.0])
def test_estimated_ratio_undoes_the_shrunk_backing(under_db: float) -> None:
    m, s, b, est = _speech_over_noise(under_db)
    true = clip_mixing_ratio(m, s, b, SR)
    assert true == pytest.approx(under_db, abs=0.05)
    old = clip_mixing_ratio(m, m - est, est, SR) - true  # the release's estimator before: reads high
    new = estimated_mixing_ratios(m, est, SR, [(0.0, len(m) / SR)])[0] - true
    assert old > 1.5
    assert abs(new) < 0.55 * old


def test_estimated_ratios_per_clip_and_edges() -> None:
    m, s, b, est = _speech_over_noise(8.0, seconds=4.0, seed=1)
    intervals = [(0.0, 1.0), (1.0, 3.5), (3.97, 4.0), (2.0, 2.0)]
    got = estimated_mixing_ratios(m, est, SR, intervals)
    assert len(got) == 4 and got[3] == 0.0  # an empty clip
    assert all(np.isfinite(got))
    # a clip is measured with its neighbourhood, but on its own samples: the same as the batch
    one = estimated_mixing_ratios(m, est, SR, [(1.0, 3.5)])[0]
    assert one == pytest.approx(got[1], abs=1e-9)
    # shorter than one STFT window (30 ms): still a finite ratio
    assert np.isfinite(estimated_mixing_ratios(m[:480], est[:480], SR, [(0.0, 0.03)])[0])
    # silent stems give the limits
    assert estimated_mixing_ratios(m, np.zeros_like(m), SR, [(0.0, 1.0)]) == [RATIO_LIMIT_DB]
    assert estimated_mixing_ratios(b, b, SR, [(0.0, 1.0)]) == [-RATIO_LIMIT_DB]


def test_restored_backing_keeps_an_unshrunk_estimate() -> None:
    # where the estimate is the whole mix (no speech), nothing is shrunk and nothing is restored
    _, _, b, _ = _speech_over_noise(8.0, seconds=1.0)
    r = restored_backing(b, b, SR)
    assert loudness(r, SR) == pytest.approx(loudness(b, SR), abs=0.05)


@pytest.mark.parametrize(("separator", "corrected"), [("dualtrack", True), ("hpss", True), ("demucs", False)])
def test_release_corrects_only_the_embedded_separators_backing(tmp_path, separator: str, corrected: bool) -> None:
    """The correction is calibrated on shrunk (Wiener-type) estimates: demucs' backing keeps the plain fit."""
    import types

    import soundfile as sf

    from anim400k.dataset import episode_clips
    from anim400k.dataset.options import ANALYSIS_SR

    m, s, b, est = _speech_over_noise(8.0, seconds=3.0, seed=2)
    assert SR == ANALYSIS_SR
    sf.write(tmp_path / "backing.flac", est.astype(np.float32), SR, subtype="PCM_24")
    ctx = types.SimpleNamespace(
        options=types.SimpleNamespace(separator=separator),
        analysis_audio=lambda lang: m.astype(np.float32),
        artifact=lambda name: tmp_path / name,
    )
    got = episode_clips._mixing_ratios(ctx, np.array([0.0]), np.array([3.0]))[0]
    back = sf.read(tmp_path / "backing.flac", dtype="float32")[0]
    plain = clip_mixing_ratio(m.astype(np.float32), m.astype(np.float32) - back, back, SR)
    restored = estimated_mixing_ratios(m.astype(np.float32), back, SR, [(0.0, 3.0)])[0]
    assert abs(plain - restored) > 1.0
    assert got == pytest.approx(restored if corrected else plain, abs=1e-6)
