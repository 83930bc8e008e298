"""The faster-whisper backend's real loading and decoding code, on a tiny *random* Whisper.

The model is built offline (``anim400k.testing.random_whisper``: a local byte-level tokenizer,
a random ``transformers`` Whisper, CTranslate2 conversion), so its text is meaningless;
these tests check the pipeline: loading from a folder, batched and sequential decoding,
word timestamps, the translate task, and timings inside the audio.
"""

from __future__ import annotations

import sys

import pytest

from anim400k.testing.speech import SR, speech_track

pytest.importorskip("faster_whisper")
pytest.importorskip("ctranslate2")
pytest.importorskip("transformers")

from anim400k.asr import get_transcriber  # noqa: E402
from anim400k.errors import BackendUnavailable, InputError  # noqa: E402
from anim400k.testing.terminal import progress_cases


@pytest.fixture(scope="module")
def random_model(tmp_path_factory):
    from anim400k.testing.random_whisper import build_random_whisper

    return build_random_whisper(tmp_path_factory.mktemp("whisper") / "random-tiny")


@pytest.fixture(scope="module")
def speech():
    return speech_track(["こんにちは、げんきですか。", "きょうは いい てんきですね。"], "ja", gap=1.0)


def _check(transcript, duration, language):
    assert transcript.language == language
    assert transcript.segments, "the decoder returned no segment"
    starts = [s.start for s in transcript.segments]
    assert starts == sorted(starts)
    words = 0
    for seg in transcript.segments:
        assert 0.0 <= seg.start <= seg.end <= duration + 1e-6
        for w in seg.words:
            assert seg.start <= w.start <= w.end <= seg.end
            assert 0.0 <= w.probability <= 1.0
        words += len(seg.words)
    assert words > 0, "no word timestamps"


def _backend(model, **kw):
    opts = {"model": str(model), "device": "cpu", "beam_size": 1, "temperature": 0.0, "max_new_tokens": 12,
            "cpu_threads": 1}
    return get_transcriber("faster-whisper", **(opts | kw))


def test_batched_transcribe_and_translate(random_model, speech):
    audio, _ = speech
    fw = _backend(random_model, batch_size=2)
    assert fw.device == "cpu" and fw.compute_type == "int8"
    duration = audio.size / SR
    _check(fw.transcribe(audio, SR, "ja"), duration, "ja")
    _check(fw.translate(audio, SR, "ja"), duration, "en")


def test_sequential_decoding_with_word_timestamps(random_model, speech):
    audio, _ = speech
    fw = _backend(random_model, batch_size=1, vad_filter=False)
    _check(fw.transcribe(audio, SR, "en"), audio.size / SR, "en")


def test_translate_task_option(random_model, speech):
    fw = _backend(random_model, batch_size=2, task="translate")
    assert fw.transcribe(speech[0], SR, "ja").language == "en"
    with pytest.raises(InputError, match="task must be"):
        _backend(random_model, task="summarise")


def test_missing_models_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="model folder not found"):
        _backend(tmp_path / "nowhere").load()
    with pytest.raises(InputError, match="no model.bin"):
        _backend(tmp_path).load()
    with pytest.raises(BackendUnavailable, match="not a folder nor in the HF cache"):
        get_transcriber("faster-whisper", model="no-such-model-name", device="cpu").load()


@pytest.mark.parametrize("batch_size", [1, 2])
def test_progress_bar_only_when_asked_and_on_a_terminal(random_model, speech, monkeypatch, batch_size):
    audio, _ = speech
    for progress, err, drawn in progress_cases():
        monkeypatch.setattr(sys, "stderr", err)
        _backend(random_model, batch_size=batch_size, progress=progress).transcribe(audio, SR, "ja")
        assert ("100%" in err.getvalue()) is drawn, (progress, type(err).__name__, err.getvalue())
