"""silero-vad over the whole track at once (anim400k.silero_sequence) against silero's own loops."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from anim400k import signal, silero_sequence


@pytest.fixture(scope="module")
def noisy_speech() -> np.ndarray:
    from anim400k.testing.speech import speech_track

    audio, _ = speech_track(["Hello there, my friend.", "Wait!", "The quick brown fox jumps."], "en-us")
    rng = np.random.default_rng(0)
    # noise, and a length that is not a whole number of frames
    return (audio[:-100] + 0.01 * rng.standard_normal(audio.size - 100)).astype(np.float32)


def test_probabilities_match_silero_s_own_loop(noisy_speech):
    """Every frame's probability is silero's (its TorchScript loop, frame by frame) within float rounding."""
    import torch

    model = signal.vad_model(False)
    model.reset_states()
    n = -(-noisy_speech.size // signal.VAD_FRAME)
    frames = torch.nn.functional.pad(torch.from_numpy(noisy_speech), (0, n * 512 - noisy_speech.size)).reshape(-1, 512)
    with torch.inference_mode():
        expected = np.array([model(f, signal.ANALYSIS_SR).item() for f in frames], np.float32)
    model.reset_states()
    got = silero_sequence.speech_probabilities(noisy_speech, signal.vad_layers())
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert (expected > 0.5).sum() > 20 and (expected < 0.35).sum() > 20  # speech and pauses both tested
    # the ONNX loop too (the same model exported), and batches of any size give the same values
    onnx = signal.vad_probabilities(signal.vad_model(True).session, noisy_speech)
    np.testing.assert_allclose(got, onnx, atol=1e-4)
    small_batches = silero_sequence.speech_probabilities(noisy_speech, signal.vad_layers(), block=7)
    np.testing.assert_allclose(small_batches, got, atol=1e-6)


def test_stft_is_silero_s():
    """The FFT magnitude equals silero's STFT (a convolution with its DFT basis, reflect-padded)."""
    import torch

    rng = np.random.default_rng(1)
    frames = rng.standard_normal((5, 576)).astype(np.float32)
    layers = signal.vad_layers()
    with torch.inference_mode():
        expected = signal.vad_model(False)._model.run_extractors(torch.from_numpy(frames)).numpy()
    got = silero_sequence.stft_magnitude(frames, layers.window)
    assert got.shape == expected.shape == (5, 129, 4)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_recurrent_cell_in_chunks_gives_the_same_probabilities(noisy_speech, monkeypatch):
    """A long track's recurrent cell runs chunk by chunk, its state carried: the same probabilities to float
    rounding (a track of up to ``LSTM_CHUNK`` frames takes one call, as before)."""
    whole = silero_sequence.speech_probabilities(noisy_speech, signal.vad_layers())
    assert len(whole) < silero_sequence.LSTM_CHUNK
    monkeypatch.setattr(silero_sequence, "LSTM_CHUNK", 7)
    np.testing.assert_allclose(silero_sequence.speech_probabilities(noisy_speech, signal.vad_layers()), whole,
                               atol=1e-6)


def test_frame_inputs_carry_the_context():
    x = np.arange(1, 1201, dtype=np.float32)
    fr = silero_sequence.frame_inputs(x)
    assert fr.shape == (3, 576)
    assert np.all(fr[0, :64] == 0) and np.array_equal(fr[0, 64:], x[:512])
    assert np.array_equal(fr[1], x[448:1024])
    assert np.array_equal(fr[2, :64 + 1200 - 1024], x[960:]) and np.all(fr[2, 64 + 1200 - 1024:] == 0)
    for a, b in ((0, 1), (1, 3), (2, 3), (0, 3)):  # a block of the frames is the same block of all of them
        np.testing.assert_array_equal(silero_sequence.frame_inputs(x, a, b), fr[a:b])
    layers = signal.vad_layers()
    assert layers is signal.vad_layers()
    assert silero_sequence.speech_probabilities(np.zeros(0, np.float32), layers).shape == (0,)
    assert silero_sequence.speech_probabilities(np.zeros(100, np.float32), layers).shape == (1,)


def test_regions_equal_the_frame_loops_and_two_threads_agree(noisy_speech):
    """speech_timestamps gives the same regions with every engine; two threads at once get the same."""
    for kw in ({}, {"min_silence_ms": 300, "max_speech_s": 1.0}, {"threshold": 0.3, "min_speech_ms": 100}):
        got = signal.speech_timestamps(noisy_speech, **kw)
        assert len(got) >= 2
        for engine in ("onnx", "torchscript"):
            np.testing.assert_array_equal(got, signal.speech_timestamps(noisy_speech, engine=engine, **kw))
    other = noisy_speech[::-1].copy()
    layers = signal.vad_layers()
    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(lambda x: silero_sequence.speech_probabilities(x, layers), [noisy_speech, other])
    np.testing.assert_array_equal(a, silero_sequence.speech_probabilities(noisy_speech, layers))
    np.testing.assert_array_equal(b, silero_sequence.speech_probabilities(other, layers))
    with pytest.raises(ValueError, match="unknown VAD engine 'nope'"):
        signal.speech_timestamps(noisy_speech, engine="nope")


def test_another_layout_is_refused_and_the_frame_loop_takes_over(noisy_speech, monkeypatch, caplog):
    """A silero release with other layers: silero_layers says so, and speech_timestamps falls back to the ONNX
    frame loop (the same regions) with one warning."""
    import types

    for other in (types.SimpleNamespace(_model=types.SimpleNamespace()), types.SimpleNamespace()):
        with pytest.raises(RuntimeError, match="v5 layout"):
            silero_sequence.silero_layers(other)
    expected = signal.speech_timestamps(noisy_speech, engine="onnx")

    def other_layout() -> None:
        raise RuntimeError("silero-vad's model does not have the v5 layout (test)")

    monkeypatch.setattr(signal, "vad_layers", other_layout)
    monkeypatch.setattr(signal, "_WARNED", set())
    with caplog.at_level("WARNING", logger="anim400k.signal"):
        np.testing.assert_array_equal(signal.speech_timestamps(noisy_speech), expected)
        np.testing.assert_array_equal(signal.speech_timestamps(noisy_speech), expected)
    assert [r.getMessage() for r in caplog.records] == [
        "silero-vad runs frame by frame: silero-vad's model does not have the v5 layout (test)"]
