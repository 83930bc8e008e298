"""The dub diarizes as the build does: the JP speech of the dual-track separation, with the video's EN
track as a second view of each speaker (``dub.views``). It diarized the single-track (HPSS) vocals, JP
alone, and found 4 speakers in a 3-character 24-minute episode (docs/dubbing.md)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import soundfile as sf

from anim400k.dub import pipeline
from anim400k.dub.options import DubOptions
from anim400k.dub.views import diarization_views, en_view_stream, is_dub_title
from anim400k.errors import InputError
from anim400k.media.probe import MediaInfo, StreamInfo
from anim400k.signal import ANALYSIS_SR, resample
from anim400k.translate.subtitles import SubtitleTranslator


def _stream(index: int, language: str | None, title: str | None = None, default: bool = False) -> StreamInfo:
    return StreamInfo(index=index, kind="audio", codec="flac", language=language, channels=1, sample_rate=48000,
                      duration=10.0, title=title, default=default)


def _info(*streams: StreamInfo) -> MediaInfo:
    return MediaInfo(path="v.mkv", format="matroska", duration=10.0, start_time=0.0, streams=list(streams))


def test_the_en_track_is_picked_but_never_the_source_a_commentary_or_an_earlier_dub() -> None:
    jp, en = _stream(0, "jpn", "Japanese"), _stream(1, "eng", "English")
    assert en_view_stream(_info(jp, en), jp) == en
    assert en_view_stream(_info(jp), jp) is None  # one track: JP alone, as before
    # an earlier dub's track and a commentary are tagged eng too, but voice no character's actor
    dubbed, comm = _stream(2, "eng", "English (dub)"), _stream(3, "eng", "English Commentary")
    assert en_view_stream(_info(jp, dubbed, comm), jp) is None
    assert en_view_stream(_info(jp, dubbed, en), jp) == en
    assert is_dub_title("English (dub 2)") and not is_dub_title("English")
    untagged = _stream(1, None, "English 2.0")
    assert en_view_stream(_info(jp, untagged), jp) == untagged
    second = _stream(2, "eng", "English", default=True)
    assert en_view_stream(_info(jp, en, second), jp) == second  # of several, the default-flagged one
    assert en_view_stream(_info(jp, en), jp, 1) == en and en_view_stream(_info(jp, en), jp, 0) is None


class _Recorder:
    """A diarizer that records what it hears."""

    name = "embedded"
    uses_other_track = True
    uses_subtitles = True

    def __init__(self) -> None:
        self.audio: np.ndarray | None = None
        self.other: object = "not given"

    def diarize(self, audio, sr, subtitles=None, other=None):
        self.audio, self.other = audio, other
        return []


def test_find_segments_passes_the_other_view_to_a_diarizer_that_takes_one(monkeypatch) -> None:
    rec = _Recorder()
    monkeypatch.setattr("anim400k.diarize.get_diarizer", lambda *a, **k: rec)
    en = np.ones(16000, np.float32)
    pipeline.find_segments(np.zeros(16000, np.float32), DubOptions(), other=en)
    assert rec.other is en
    pipeline.find_segments(np.zeros(16000, np.float32), DubOptions())
    assert rec.other is None
    rec.uses_other_track = False  # a one-stream backend (pyannote) gets none
    rec.other = "not given"
    pipeline.find_segments(np.zeros(16000, np.float32), DubOptions(), other=en)
    assert rec.other is None


@pytest.fixture(scope="module")
def episode(tmp_path_factory):
    from anim400k.synth import make_episode

    return make_episode(tmp_path_factory.mktemp("dub_views"), duration=12.0, seed=3, n_speakers=2,
                        voices="espeak", video=False)


def _wav(episode, name: str) -> np.ndarray:
    x, sr = sf.read(episode.stems_dir / f"{name}.wav", dtype="float32")
    return resample(x, sr, ANALYSIS_SR)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(a[:n] @ b[:n] / (np.linalg.norm(a[:n]) * np.linalg.norm(b[:n]) + 1e-12))


def test_the_views_are_each_language_s_speech_without_the_shared_backing(episode) -> None:
    jp_mix, en_mix = _wav(episode, "jp_mix"), _wav(episode, "en_mix")
    views = diarization_views(jp_mix, en_mix, ANALYSIS_SR)
    assert views.speech is not None and views.other is not None and len(views.other) == len(jp_mix)
    jp, en = _wav(episode, "jp_speech"), _wav(episode, "en_speech")
    n = min(len(jp), len(jp_mix))
    left, before = np.linalg.norm(views.speech[:n] - jp[:n]), np.linalg.norm(jp_mix[:n] - jp[:n])
    assert left < 0.6 * before, (left, before)  # the backing is taken out
    assert _cos(views.other, en) > 0.8 and _cos(views.other, en) > _cos(views.other, jp) + 0.3


def _dub_audio(episode, monkeypatch, other_mix):
    rec = _Recorder()
    monkeypatch.setattr("anim400k.diarize.get_diarizer", lambda *a, **k: rec)
    mix, sr = sf.read(episode.stems_dir / "jp_mix.wav", dtype="float32")
    from anim400k.tts import get_synthesizer

    result = pipeline.dub_audio(mix, sr, SubtitleTranslator(episode.subtitles), get_synthesizer("espeak"),
                                DubOptions(tts="espeak", progress=False), other_mix=other_mix)
    return rec, result.report


def test_the_dub_diarizes_the_dual_track_speech_with_the_en_view(episode, monkeypatch) -> None:
    """Before, the diarizer got the HPSS vocals and no other view, whatever tracks the video had."""
    en_mix = _wav(episode, "en_mix")
    rec, report = _dub_audio(episode, monkeypatch, en_mix)
    assert isinstance(rec.other, np.ndarray) and rec.audio is not None
    jp, en = _wav(episode, "jp_speech"), _wav(episode, "en_speech")
    assert _cos(rec.other, en) > 0.8
    assert _cos(rec.audio, jp) > 0.8
    assert not any("second view" in p for p in report.problems)
    rec, _ = _dub_audio(episode, monkeypatch, None)  # no EN track: the vocals alone, as before
    assert rec.other is None


def test_an_unusable_en_track_is_said_and_the_vocals_diarized_alone(episode, monkeypatch) -> None:
    rec, report = _dub_audio(episode, monkeypatch, np.zeros(12 * ANALYSIS_SR, np.float32))
    assert rec.other is None
    assert any("EN track was not used as a second view" in p for p in report.problems)


def test_the_file_dub_decodes_the_en_track_for_the_diarizer(episode, monkeypatch, tmp_path) -> None:
    seen: dict[str, object] = {}

    class Stop(Exception):
        pass

    def fake(mix, sr, *args, other_mix=None, **kwargs):
        seen["other"] = other_mix
        raise Stop

    monkeypatch.setattr(pipeline, "dub_audio", fake)
    opts = DubOptions(subtitles=str(episode.subtitles), tts="espeak", progress=False)
    with pytest.raises(Stop):
        pipeline.dub(episode.media, tmp_path / "a.mkv", opts)
    other = seen["other"]
    assert isinstance(other, np.ndarray) and abs(len(other) - 12 * ANALYSIS_SR) <= ANALYSIS_SR // 100
    assert _cos(other, _wav(episode, "en_mix")) > 0.99
    with pytest.raises(Stop):
        pipeline.dub(episode.media, tmp_path / "b.mkv", opts, other_stream=None)
    assert seen["other"] is None

    # an index that names no other audio stream was ignored silently (the JP view alone, no word of it)
    for index, said in ((7, "the video has no audio stream #7 (it has 2)"), (0, "is the stream being dubbed"),
                        ("fre", "no other audio stream is tagged or titled so"),
                        ("-1", "give an audio stream's index (0, 1, ...), a language tag, or none")):
        with pytest.raises(InputError, match=rf"--other-stream '?{index}'?: {re.escape(said)}"):
            pipeline.dub(episode.media, tmp_path / "c.mkv", opts, other_stream=index)
    assert not (tmp_path / "c.mkv").exists()


@pytest.mark.parametrize(("flag", "expected"), [(None, "eng"), ("none", None), ("2", 2), ("en", "en")])
def test_the_cli_flag_names_the_en_track_or_turns_it_off(tmp_path, monkeypatch, flag, expected) -> None:
    from anim400k.cli import main

    seen: list[DubOptions] = []

    class Stop(Exception):
        pass

    def fake(video, out, options):
        seen.append(options)
        raise Stop

    monkeypatch.setattr(pipeline, "dub", fake)
    video = tmp_path / "v.mkv"
    video.write_bytes(b"")
    args = ["dub", str(video), "--out", str(tmp_path / "o.mkv"), *(["--other-stream", flag] if flag else [])]
    with pytest.raises(Stop):
        main(args)
    assert seen[0].other_stream == expected


@pytest.mark.parametrize("selector", ["eng", "ENG", "en", "English"])
def test_english_of_any_spelling_on_a_video_without_it_is_the_vocals_alone(selector: str) -> None:
    """The help: '(none, or no such stream: the Japanese vocals alone)'. Only the default's spelling 'eng' was; ENG,
    en or English on a JP-only video were refused ('no other audio stream is tagged or titled so')."""
    from types import SimpleNamespace

    from anim400k.media.probe import StreamInfo

    jp = StreamInfo(index=1, kind="audio", codec="flac", language="jpn", channels=2, sample_rate=48000)
    info = SimpleNamespace(audio_streams=[jp], streams=[jp])
    assert pipeline._other_stream(info, jp, DubOptions(other_stream=selector)) is None
    with pytest.raises(InputError, match="no other audio stream is tagged or titled so"):
        pipeline._other_stream(info, jp, DubOptions(other_stream="fre"))
