"""anim400k.signal (one rule per signal helper) and anim400k.offline (the one offline switch)."""

from __future__ import annotations

import numpy as np
import pytest

from anim400k import signal


def test_to_mono_one_channel_order_rule():
    stereo = np.stack([np.ones(100), np.zeros(100)]).astype(np.float32)  # (channels, n)
    assert signal.to_mono(stereo).shape == (100,)
    assert signal.to_mono(stereo.T).shape == (100,)  # (n, channels) recognised: first axis longer
    np.testing.assert_allclose(signal.to_mono(stereo), 0.5)
    assert signal.to_mono(stereo).dtype == np.float32 and signal.to_mono(stereo).flags.c_contiguous
    with pytest.raises(ValueError, match="audio must be"):
        signal.to_mono(np.zeros((2, 2, 2)))


def test_resample_poly_and_soxr_lengths_and_identity():
    x = np.sin(np.arange(48000) / 10).astype(np.float32)
    assert signal.resample(x, 48000, 16000).shape == (16000,)
    assert signal.resample(x, 48000, 16000, "soxr_hq").shape == (16000,)
    assert signal.resample(x, 16000, 16000) is not None and signal.resample(x, 16000, 16000).size == x.size
    with pytest.raises(ValueError, match="unknown resampling"):
        signal.resample(x, 48000, 16000, "cubic")
    assert signal.prepare_audio(np.stack([x, x]), 48000).shape == (16000,)


def test_fit_length_trims_and_pads_the_last_axis():
    x = np.ones((2, 5), np.float32)
    assert signal.fit_length(x, 3).shape == (2, 3)
    y = signal.fit_length(x, 8)
    assert y.shape == (2, 8) and not y[:, 5:].any()


def test_loudness_one_rule_under_one_gating_block():
    sr = 16000
    t = np.arange(sr) / sr
    tone = (0.1 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    long_lufs, gated = signal.loudness_and_method(tone, sr)
    assert gated
    short = tone[: int(0.3 * sr)]
    short_lufs, gated_short = signal.loudness_and_method(short, sr)
    assert not gated_short and short_lufs == pytest.approx(signal.ungated_loudness(short))
    assert abs(short_lufs - long_lufs) < 3.0  # same tone, same loudness within the K-weighting difference
    assert signal.loudness(np.zeros(sr, np.float32), sr) == signal.SILENT_LUFS
    assert signal.loudness(np.zeros(0, np.float32), sr) == signal.SILENT_LUFS


@pytest.mark.parametrize("sr, seconds", [(16000, 0.41), (44100, 7.3), (48000, 31.0)])
def test_streamed_gated_loudness_equals_pyloudnorm(sr, seconds):
    import pyloudnorm

    rng = np.random.default_rng(sr)
    n = int(sr * seconds)
    envelope = np.repeat(rng.random(int(seconds * 4) + 1) ** 3, sr // 4 + 1)[:n]  # loud and quiet quarters
    x = (0.3 * rng.standard_normal(n) * envelope).astype(np.float32)
    x[n // 3: n // 3 + sr] = 0.0  # digital silence: blocks under the absolute gate
    reference = pyloudnorm.Meter(sr).integrated_loudness(x.astype(np.float64))
    for chunk in (signal.LOUDNESS_CHUNK, 1000, 4097):  # chunk edges inside blocks, filters' state carried over
        assert signal.gated_loudness(x, sr, chunk=chunk) == pytest.approx(reference, abs=1e-9)
    assert signal.loudness_and_method(x, sr) == (pytest.approx(reference, abs=1e-9), True)


def test_gated_loudness_below_the_absolute_gate_is_minus_infinity():
    assert signal.gated_loudness(np.full(16000, 1e-6, np.float32), 16000) == float("-inf")
    quiet, gated = signal.loudness_and_method(np.full(16000, 1e-6, np.float32), 16000)
    assert not gated and quiet == pytest.approx(signal.ungated_loudness(np.full(16000, 1e-6, np.float32)))


def test_one_silero_model_cache():
    a = signal.vad_model(False)
    assert signal.vad_model(False) is a
    silence = np.zeros(signal.ANALYSIS_SR, np.float32)
    assert signal.speech_timestamps(silence).shape == (0, 2)


def test_force_offline_sets_the_environment_and_a_loaded_hub(monkeypatch):
    import os
    import sys
    import types

    from anim400k.offline import OFFLINE_ENV, force_offline

    fake = types.SimpleNamespace(HF_HUB_OFFLINE=False)
    monkeypatch.setitem(sys.modules, "huggingface_hub.constants", fake)
    for key in OFFLINE_ENV:
        monkeypatch.setenv(key, "0")
    force_offline()
    assert all(os.environ[k] == v for k, v in OFFLINE_ENV.items())
    assert fake.HF_HUB_OFFLINE is True


def test_onnx_vad_loop_gives_silero_s_own_regions():
    """speech_timestamps runs the ONNX model in a numpy loop: silero's own loop's probabilities and regions,
    exactly (three settings; speech with noise, a length that is not a whole number of frames)."""
    import torch
    from silero_vad import get_speech_timestamps

    from anim400k.testing.speech import speech_track

    audio, _ = speech_track(["Hello there, my friend.", "Wait!", "The quick brown fox jumps."], "en-us")
    rng = np.random.default_rng(0)
    audio = (audio[:-100] + 0.01 * rng.standard_normal(audio.size - 100)).astype(np.float32)
    model = signal.vad_model(True)
    probs = signal.vad_probabilities(model.session, audio)
    model.reset_states()
    frames = torch.nn.functional.pad(torch.from_numpy(audio), (0, probs.size * 512 - audio.size)).reshape(-1, 512)
    expected = [model(f, signal.ANALYSIS_SR).item() for f in frames]
    model.reset_states()
    np.testing.assert_array_equal(probs, np.array(expected, np.float32))
    for kw in ({}, {"min_silence_ms": 300, "max_speech_s": 1.0}, {"threshold": 0.3, "min_speech_ms": 100}):
        got = signal.speech_timestamps(audio, engine="onnx", **kw)
        ref = get_speech_timestamps(torch.from_numpy(audio), model, threshold=kw.get("threshold", 0.5),
                                    min_speech_duration_ms=kw.get("min_speech_ms", 250),
                                    max_speech_duration_s=kw.get("max_speech_s", float("inf")),
                                    min_silence_duration_ms=kw.get("min_silence_ms", 100), speech_pad_ms=30)
        model.reset_states()
        assert len(got) >= 2
        np.testing.assert_array_equal(got, np.array([[r["start"], r["end"]] for r in ref]) / signal.ANALYSIS_SR)


def test_loudness_of_multichannel_audio_equals_pyloudnorm_and_leaves_out_the_lfe():
    """``loudness`` took mono only; a 5.1 source's loudness was that of its normalised downmix."""
    import pyloudnorm

    sr = 48000
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((5, 4 * sr)) * np.array([[0.1], [0.05], [0.2], [0.02], [0.03]])).astype(np.float32)
    x[:, :sr] *= 0.01  # a quiet second: gating matters
    reference = pyloudnorm.Meter(sr).integrated_loudness(x.T.astype(np.float64))  # L R C Ls Rs: 1, 1, 1, 1.41, 1.41
    assert signal.loudness(x, sr) == pytest.approx(reference, abs=1e-9)
    with_lfe = np.insert(x, 3, rng.standard_normal(4 * sr).astype(np.float32), axis=0)  # FL FR FC LFE SL SR
    assert signal.loudness(with_lfe, sr, [1.0, 1.0, 1.0, 0.0, 1.41, 1.41]) == pytest.approx(reference, abs=1e-9)
    stereo = np.stack([x[2], x[2]])  # the same signal in both channels: 3.01 LU above one
    assert signal.loudness(stereo, sr) == pytest.approx(signal.loudness(x[2], sr) + 10 * np.log10(2), abs=1e-9)
    short = x[:, : sr // 10]  # under one gating block: the ungated rule, channels weighted the same way
    assert signal.loudness(short, sr) == pytest.approx(
        -0.691 + 10 * np.log10(sum(w * np.mean(short[i].astype(np.float64) ** 2)
                                   for i, w in enumerate([1, 1, 1, 1.41, 1.41]))), abs=1e-9)
    with pytest.raises(ValueError, match="channel weights"):
        signal.loudness(with_lfe, sr)


def test_below_absolute_gate_is_k_weighted_so_dc_and_infrasound_are_silence():
    """Silence + a DC offset (or 5 Hz) has no K-weighted block above -70 LUFS (pyloudnorm: -inf), yet the
    ungated un-K-weighted fallback of ``loudness`` put it at about -51 LUFS, so evaluate did not call it silent."""
    import pyloudnorm

    sr = 48000
    t = np.arange(2 * sr) / sr
    meter = pyloudnorm.Meter(sr)
    dc = np.full(2 * sr, 0.003, np.float32)
    infra = (0.003 * np.sin(2 * np.pi * 5 * t)).astype(np.float32)
    tone = (0.01 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    for x, silent in ((dc, True), (infra, True), (tone, False), (np.zeros(2 * sr, np.float32), True)):
        assert signal.below_absolute_gate(x, sr) is silent
        assert bool(np.isinf(meter.integrated_loudness(x.astype(np.float64)))) is silent
    assert signal.loudness(dc, sr) == pytest.approx(-0.691 + 20 * np.log10(0.003))  # the mixing rule is kept
    short = slice(0, int(0.3 * sr))  # under one gating block: the K-weighted mean square against the gate
    assert signal.below_absolute_gate(dc[short], sr) and not signal.below_absolute_gate(tone[short], sr)
    assert signal.k_weighted_loudness(tone[short], sr) == pytest.approx(signal.loudness(tone, sr), abs=0.5)
    anti = np.stack([tone, -tone])  # channels are measured each, never summed: not silent
    assert not signal.below_absolute_gate(anti, sr)
    assert signal.below_absolute_gate(np.stack([dc, -dc]), sr)
