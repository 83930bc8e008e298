"""Embedded ASR backends (silero VAD, pocketsphinx, auto), the registry and the track cache."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anim400k.asr import available_transcribers, get_transcriber, transcribe_track, transcriber_names
from anim400k.asr.vad import VadTranscriber
from anim400k.errors import InputError
from anim400k.testing.speech import SR, speech_track

EN_SENTENCES = ["Hello there, my friend.", "The quick brown fox jumps over the lazy dog."]


@pytest.fixture(scope="module")
def english():
    return speech_track(EN_SENTENCES, "en-us")


@pytest.fixture(scope="module")
def japanese():
    return speech_track(["こんにちは、げんきですか。", "きょうは いい てんきですね。"], "ja")


def test_registry():
    assert set(transcriber_names()) >= {"auto", "vad", "pocketsphinx", "faster-whisper", "whisper-tiny-en"}
    assert {"auto", "vad", "pocketsphinx", "whisper-tiny-en"} <= set(available_transcribers())
    with pytest.raises(InputError, match="unknown ASR backend 'nope'"):
        get_transcriber("nope")


def test_vad_engines_find_the_same_regions(english):
    """The ASR's VAD runs silero over the whole track at once by default; its regions are those of silero's
    own frame-by-frame loops (ONNX and TorchScript)."""
    from anim400k.asr.vad import VadOptions, speech_regions

    audio, _ = english
    assert VadOptions().engine == "sequence"
    found = speech_regions(audio, SR)
    assert len(found) == len(EN_SENTENCES)
    for engine in ("onnx", "torchscript"):
        np.testing.assert_allclose(np.array(found), np.array(speech_regions(audio, SR, VadOptions(engine=engine))),
                                   atol=0.02)


def _close(found, truth, tol=0.35):
    assert len(found) == len(truth), (found, truth)
    for (s, e), (ts, te) in zip(found, truth, strict=True):
        assert abs(s - ts) < tol and abs(e - te) < tol, (found, truth)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_vad_segments_follow_the_speech(lang, english, japanese):
    audio, truth = english if lang == "en" else japanese
    t = get_transcriber("vad").transcribe(audio, SR, lang)
    assert t.language == lang and t.source == "vad"
    assert all(s.text == "" and not s.transcribed for s in t.segments)
    _close([(s.start, s.end) for s in t.segments], truth)


def test_vad_resamples_and_downmixes(english):
    audio, truth = english
    from scipy.signal import resample_poly

    stereo = np.stack([resample_poly(audio, 3, 1), resample_poly(audio, 3, 1)])  # 48 kHz, 2 channels
    t = VadTranscriber().transcribe(stereo.astype(np.float32), 48000, "en")
    _close([(s.start, s.end) for s in t.segments], truth)
    assert VadTranscriber().transcribe(np.zeros(SR, np.float32), SR, "en").segments == []


def test_pocketsphinx_words_with_times(english):
    audio, truth = english
    t = get_transcriber("pocketsphinx").transcribe(audio, SR, "en")
    assert t.language == "en" and t.source == "pocketsphinx"
    assert 1 <= len(t.segments) <= 2
    words = [w for s in t.segments for w in s.words]
    assert len(words) >= 4
    for seg in t.segments:
        assert seg.text == " ".join(w.text for w in seg.words)
        assert all(seg.start <= w.start <= w.end <= seg.end for w in seg.words)
        assert all(a.start <= b.start for a, b in zip(seg.words, seg.words[1:], strict=False))
        assert not any(w.text.startswith(("<", "[")) or "(" in w.text for w in seg.words)
    # words fall inside the spoken sentences
    assert all(any(ts - 0.35 <= w.start and w.end <= te + 0.35 for ts, te in truth) for w in words)
    with pytest.raises(ValueError, match="English only"):
        get_transcriber("pocketsphinx").transcribe(audio, SR, "ja")


def test_auto_dispatches_by_language(japanese):
    """English -> whisper-tiny-en, Japanese -> whisper-base (its text: tests/test_asr_whisper_base.py), any
    other language -> vad (timed segments without text)."""
    auto = get_transcriber("auto")
    ko = auto.transcribe(japanese[0], SR, "ko")
    assert ko.source == "auto:vad" and ko.language == "ko" and not ko.segments[0].transcribed
    # the English path is the whisper-tiny-en backend tested below
    assert auto.backend_for("en").name == "whisper-tiny-en" and auto.backend_for("en-US").name == "whisper-tiny-en"
    assert auto.backend_for("eng").name == "whisper-tiny-en"
    for ja in ("ja", "jpn", "ja-JP"):
        assert auto.backend_for(ja).name == "whisper-base"
    assert auto.backend_for("fr").name == "vad"
    assert auto.config["ja"]["backend"] == "whisper-base" and auto.config["other"] == VadTranscriber().config


def test_whisper_tiny_en_transcribes_english(english, monkeypatch):
    from anim400k.asr import faster_whisper_backend as fwb
    from anim400k.textnorm import wer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    audio, truth = english
    tiny = get_transcriber("auto").backend_for("en")
    t = get_transcriber("auto").transcribe(audio, SR, "en")
    assert t.source == "auto:whisper-tiny-en" and t.language == "en"
    assert wer(" ".join(EN_SENTENCES), " ".join(s.text for s in t.segments)) < 0.25
    # one segment per spoken sentence (VAD regions), words inside their segment
    _close([(s.start, s.end) for s in t.segments], truth)
    for seg in t.segments:
        assert seg.words and all(seg.start <= w.start <= w.end <= seg.end for w in seg.words)
    # the model is loaded once per process: every transcriber shares it
    assert get_transcriber("whisper-tiny-en").load() is tiny.load()
    assert tiny.config["model"] == str(fwb.shipped_tiny_en_path())
    with pytest.raises(InputError, match="English only"):
        tiny.transcribe(audio, SR, "ja")


class CountingTranscriber:
    """Wraps a real backend and counts how often it runs (to observe the cache)."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.calls = 0

    @property
    def config(self):
        return self.inner.config

    def transcribe(self, audio, sr, language):
        self.calls += 1
        return self.inner.transcribe(audio, sr, language)


def test_transcribe_track_caches_by_config(tmp_path, japanese):
    from anim400k.media import write_audio

    audio, truth = japanese
    media = tmp_path / "jp.wav"
    write_audio(media, audio, SR)
    out = tmp_path / "work" / "ja.transcript.json"
    vad = CountingTranscriber(VadTranscriber())
    first = transcribe_track(media, 0, "ja", vad, out)  # decodes the file itself
    _close([(s.start, s.end) for s in first.segments], truth)
    stored = json.loads(out.read_text())
    assert stored["anim400k"]["config"]["asr"]["backend"] == "vad"
    again = transcribe_track(media, 0, "ja", vad, out, audio=audio)
    assert vad.calls == 1 and again == first
    other = CountingTranscriber(VadTranscriber(threshold=0.6))
    transcribe_track(media, 0, "ja", other, out, audio=audio, sr=SR)
    assert other.calls == 1
    assert json.loads(out.read_text())["anim400k"]["config_hash"] != stored["anim400k"]["config_hash"]



class ModelTranscriber(CountingTranscriber):
    """A counting backend that says which model folder it loads (as faster-whisper does)."""

    def __init__(self, inner, folder):
        super().__init__(inner)
        self.folder = folder

    def model_folder(self):
        return self.folder


def test_transcript_cache_tells_inputs_and_model_files_apart(tmp_path, japanese):
    """The cache key was the media's base name and size only: a different recording of the same name and
    size (another folder, or the same file replaced in place) got the old transcript, and so did a
    replaced model file. Each is transcribed again now; the same file and model are still re-used."""
    import os
    import shutil

    from anim400k.media import write_audio

    audio, _ = japanese
    other = np.roll(audio, SR // 2) * 0.5  # another recording, the same length: a WAV of the same size
    x, y = tmp_path / "x" / "ep.wav", tmp_path / "y" / "ep.wav"
    for path, samples in ((x, audio), (y, other)):
        path.parent.mkdir()
        write_audio(path, samples, SR)
    assert x.stat().st_size == y.stat().st_size and x.read_bytes() != y.read_bytes()
    models = tmp_path / "model"
    models.mkdir()
    (models / "model.bin").write_bytes(b"weights")
    asr = ModelTranscriber(VadTranscriber(), models)
    out = tmp_path / "t.json"
    transcribe_track(x, 0, "ja", asr, out)
    transcribe_track(x, 0, "ja", asr, out)
    assert asr.calls == 1  # same file, same model: re-used
    transcribe_track(y, 0, "ja", asr, out)
    assert asr.calls == 2  # same name and size in another folder
    shutil.copyfile(y, x)  # replaced in place by other audio of the same size
    transcribe_track(x, 0, "ja", asr, out)
    assert asr.calls == 3
    transcribe_track(x, 0, "ja", asr, out)
    assert asr.calls == 3
    st = (models / "model.bin").stat()
    (models / "model.bin").write_bytes(b"weightz")  # a model file replaced at the same path and size
    os.utime(models / "model.bin", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    transcribe_track(x, 0, "ja", asr, out)
    assert asr.calls == 4
    stored = json.loads(out.read_text())["anim400k"]["config"]
    assert stored["media_identity"]["path"] == os.path.realpath(x)
    assert stored["model_files"]["files"]["model.bin"][0] == 7


def test_transcript_cache_sees_an_in_place_edit_that_keeps_size_and_time(tmp_path, japanese):
    """A file rewritten with other audio whose modification time was restored is told by its content."""
    import os

    from anim400k.asr.track import media_identity
    from anim400k.media import write_audio

    audio, _ = japanese
    media = tmp_path / "ep.wav"
    write_audio(media, audio, SR)
    before = media_identity(media)
    st = media.stat()
    write_audio(media, audio * 0.5, SR)
    os.utime(media, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = media_identity(media)
    assert after["size"] == before["size"] and after["mtime_ns"] == before["mtime_ns"]
    assert after != before

def test_transcribe_command(tmp_path, japanese, capsys):
    from anim400k.cli import main
    from anim400k.media import write_audio

    audio, truth = japanese
    media = tmp_path / "jp.flac"
    write_audio(media, audio, SR)
    out = tmp_path / "t.json"
    assert main(["transcribe", str(media), "--language", "ja", "--asr", "vad", "--out", str(out)]) == 0
    assert "2 segments, 0 words" in capsys.readouterr().out
    stored = json.loads(out.read_text())
    assert stored["language"] == "ja" and len(stored["segments"]) == len(truth)
    assert all(s["transcribed"] is False for s in stored["segments"])
    for english_only in ("pocketsphinx", "whisper-tiny-en"):
        assert main(["transcribe", str(media), "-l", "ja", "--asr", english_only, "--out", str(out)]) == 2
        assert "English only" in capsys.readouterr().err
    assert main(["transcribe", str(tmp_path / "no.wav"), "-l", "en", "--out", str(out)]) == 2
    assert "no.wav: media file not found" in capsys.readouterr().err
    for name in ("t.srt", "t.VTT"):  # it wrote JSON into them, which no subtitle reader reads
        assert main(["transcribe", str(media), "-l", "ja", "--asr", "vad", "--out", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "transcribe writes Whisper-style JSON" in err[0] and name in err[0]
        assert not (tmp_path / name).exists()


@pytest.mark.parametrize("alias", ["jp", "Japanese", "jpn", "ja-JP"])
def test_transcribe_language_aliases_are_mapped(tmp_path, japanese, alias):
    from anim400k.cli import main
    from anim400k.media import write_audio

    audio, _ = japanese
    media = tmp_path / "jp.flac"
    write_audio(media, audio, SR)
    out = tmp_path / "t.json"
    assert main(["transcribe", str(media), "--language", alias, "--asr", "vad", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["language"] == "ja"


@pytest.mark.parametrize("bad", ["fr", "klingon", "", "j"])
def test_transcribe_refuses_unknown_language_in_one_line(tmp_path, capsys, bad):
    from anim400k.cli import main

    media = tmp_path / "a.wav"
    media.write_bytes(b"RIFF")
    out = tmp_path / "t.json"
    assert main(["transcribe", str(media), "--language", bad, "--asr", "vad", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"unknown language {bad!r}" in err
    assert not out.exists()


def test_normalize_language():
    from anim400k.model import normalize_language

    got = [normalize_language(x) for x in ("EN", "english", "eng", "en_US", "日本語")]
    assert got == ["en", "en", "en", "en", "ja"]
    with pytest.raises(ValueError, match="use ja"):
        normalize_language("de")


def test_pack_regions_into_whisper_windows():
    from anim400k.asr.faster_whisper_backend import pack_regions

    regions = [(0.0, 2.0), (3.0, 9.0), (10.0, 27.0), (27.5, 31.0), (40.0, 75.0), (76.0, 77.0)]
    assert pack_regions(regions, 28.0) == [(0.0, 27.0), (27.5, 31.0), (40.0, 75.0), (76.0, 77.0)]
    assert pack_regions([], 28.0) == []


def test_windows_keep_context_around_the_speech_but_not_past_a_neighbour():
    from anim400k.asr.faster_whisper_backend import with_context

    windows = [(0.1, 27.0), (27.5, 31.0), (40.0, 75.0), (76.0, 77.9)]
    assert with_context(windows, 0.3, 78.0) == [
        (0.0, 27.25), (27.25, 31.3), (39.7, 75.3), (75.7, 78.0)]  # clamped to the audio and to half the gap
    assert with_context(windows, 0.0, 78.0) == windows
    assert with_context([], 0.3, 10.0) == []


def test_whisper_tiny_en_decodes_windows_side_by_side_with_the_same_words(english, monkeypatch):
    """num_workers > 1 decodes that many windows at once (CTranslate2 workers, one thread each): same transcript."""
    from anim400k.asr.faster_whisper_backend import tiny_en_transcriber
    from anim400k.threads import THREADS_ENV

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    audio, _ = english
    one = tiny_en_transcriber(num_workers=1, window_s=1.0)  # one window per sentence
    two = tiny_en_transcriber(num_workers=2, window_s=1.0)
    assert two.cpu_threads == 1 and two.load() is not one.load()
    a, b = one.transcribe(audio, SR, "en"), two.transcribe(audio, SR, "en")
    assert len(a.segments) == len(EN_SENTENCES) and a.segments == b.segments
    assert one.config == two.config  # the stage's cache key does not depend on the threads
    monkeypatch.setenv(THREADS_ENV, "3")
    assert tiny_en_transcriber().num_workers == 3
    monkeypatch.setenv(THREADS_ENV, "1")
    single = tiny_en_transcriber()
    assert single.num_workers == 1 and single.cpu_threads == 1  # one thread, not CTranslate2's default intra-op pool


def test_transcribe_refuses_to_replace_a_transcript_it_did_not_write(tmp_path, japanese, capsys):
    """`transcribe --out` replaced a user's AWS JSON without a word; its own transcripts are still re-used
    or redone, and an empty file is written over."""
    from anim400k.cli import main
    from anim400k.media import write_audio

    audio, _ = japanese
    media = tmp_path / "jp.flac"
    write_audio(media, audio, SR)
    foreign = tmp_path / "aws.json"
    content = json.dumps({"results": {"items": []}, "jobName": "mine"})
    for text in (content, '{"segments": [], "anim400k": "not a settings block"}', "{truncated"):
        foreign.write_text(text)
        args = ["transcribe", str(media), "-l", "ja", "--asr", "vad", "--out", str(foreign)]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.strip().splitlines() == [
            f"anim400k: error: {foreign}: exists and is not a transcript that anim400k transcribe wrote "
            "(it has no 'anim400k' settings block): remove it or choose another --out"]
        assert foreign.read_text() == text
    out = tmp_path / "t.json"
    out.write_text("")
    assert main(["transcribe", str(media), "-l", "ja", "--asr", "vad", "--out", str(out)]) == 0
    first = out.read_text()
    assert json.loads(first)["anim400k"]["config_hash"]
    assert main(["transcribe", str(media), "-l", "ja", "--asr", "vad", "--out", str(out)]) == 0
    assert out.read_text() == first
