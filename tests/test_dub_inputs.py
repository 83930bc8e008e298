"""``anim400k dub`` on awkward inputs: which source stream, surround and stereo loudness, silent sources,
outputs that cannot hold the streams. Small media are made here with PyAV (and one 10 s synthetic episode)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from anim400k.cli import main
from anim400k.dub.pipeline import DubOptions, dub
from anim400k.errors import InputError
from anim400k.media import decode_audio
from anim400k.synth.writer import copy_subtitles

SR = 48000


def write_audio_file(path: Path, channels: np.ndarray, layout: str, language: str | None = "jpn",
                     title: str | None = None, srt: Path | None = None) -> Path:
    """An MKV with one FLAC stream of ``channels`` (``(c, n)`` float32 at 48 kHz), and an SRT stream when given."""
    with av.open(str(path), "w") as out:
        st = out.add_stream("flac", rate=SR, layout=layout)
        if language:
            st.metadata["language"] = language
        if title:
            st.metadata["title"] = title
        if srt is not None:
            copy_subtitles(out, srt, None)
        pcm = np.ascontiguousarray((np.clip(channels, -1, 1).T * 32767).round().astype(np.int16).reshape(1, -1))
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout=layout)
        frame.sample_rate, frame.pts, frame.time_base = SR, 0, Fraction(1, SR)
        out.mux(st.encode(frame))
        out.mux(st.encode(None))
    return path


def _srt(path: Path) -> Path:
    path.write_text("1\n00:00:00,500 --> 00:00:02,000\nHello there.\n", encoding="utf-8")
    return path


def _chord(seconds: float, amp: float = 0.2) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amp * sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) / 3).astype(np.float32)


def _no_work(*args, **kwargs):
    raise AssertionError("the dub started before the inputs were checked")


def test_an_output_that_cannot_hold_a_stream_is_refused_before_any_work(tmp_path, monkeypatch):
    """An MKV with an SRT stream dubbed to .mp4 was refused only after the whole dub."""
    srt = _srt(tmp_path / "en.srt")
    video = write_audio_file(tmp_path / "v.mkv", _chord(3.0)[None], "mono", srt=srt)
    monkeypatch.setattr("anim400k.dub.pipeline.dub_audio", _no_work)
    out = tmp_path / "dubbed.mp4"
    with pytest.raises(InputError) as err:
        dub(video, out, DubOptions(subtitles=str(srt), tts="espeak", progress=False))
    assert err.value.message == (f"{out}: stream #1 (subtitle srt) cannot be copied into .mp4 output: "
                                 "'mp4' format does not support 'srt' codec")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["en.srt", "v.mkv"]


def test_a_stream_in_another_language_is_not_dubbed_when_jpn_is_missing(tmp_path, monkeypatch, capsys):
    """With no jpn stream the first audio stream was dubbed even when tagged eng (English over English)."""
    srt = _srt(tmp_path / "en.srt")
    video = write_audio_file(tmp_path / "v.mkv", _chord(3.0)[None], "mono", language="eng", title="English")
    monkeypatch.setattr("anim400k.dub.pipeline.dub_audio", _no_work)
    out = tmp_path / "dubbed.mkv"
    assert main(["dub", str(video), "--subtitles", str(srt), "--out", str(out), "--tts", "espeak"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"anim400k: error: {video}: no audio stream is tagged 'jpn' and its only audio stream is in another "
        "language (audio streams: 0: eng 'English'): pass --stream N to use audio stream N"
    ]
    assert not out.exists()


@pytest.mark.parametrize("kind", ["folder", "empty", "text", "truncated"])
def test_a_video_that_is_no_media_is_refused_in_one_line_naming_it(tmp_path, capsys, kind):
    """A folder named ``ep.mkv`` was reported as ``video not found``; an empty, a text or a half file is refused
    in one line naming it, before any work, and nothing is written."""
    srt = _srt(tmp_path / "en.srt")
    video = tmp_path / "ep.mkv"
    if kind == "folder":
        video.mkdir()
    elif kind == "truncated":
        whole = write_audio_file(tmp_path / "whole.mkv", _chord(3.0)[None], "mono").read_bytes()
        video.write_bytes(whole[: len(whole) // 2])
    else:
        video.write_text("" if kind == "empty" else "not a video\n")
    out = tmp_path / "dubbed.mkv"
    assert main(["dub", str(video), "--subtitles", str(srt), "--out", str(out), "--tts", "espeak"]) == 2
    err = capsys.readouterr().err.splitlines()
    reason = {"folder": "is a folder, not a media file",
              "truncated": "truncated or corrupt media: decoded "}.get(
        kind, "not a media file PyAV can open: invalid data (corrupt or truncated file)")
    assert len(err) == 1 and err[0].startswith(f"anim400k: error: {video}: {reason}")
    assert kind != "truncated" or err[0].endswith("s of audio, header says 3.0 s")
    assert not out.exists()


@pytest.mark.parametrize(("audio", "message"), [
    ("zeros", "audio stream 0 (jpn) is silent (below -70 LUFS): nothing to dub"),
    ("music", "no speech found in the source audio; nothing to dub"),
])
def test_a_source_without_speech_is_refused_and_nothing_is_written(tmp_path, capsys, audio, message):
    """A source without speech gave exit 0, a warning and an all-silent default AAC track."""
    srt = _srt(tmp_path / "en.srt")
    x = np.zeros(3 * SR, np.float32) if audio == "zeros" else _chord(3.0)
    video = write_audio_file(tmp_path / "v.mkv", x[None], "mono")
    out, report = tmp_path / "dubbed.mkv", tmp_path / "r.json"
    argv = ["dub", str(video), "--subtitles", str(srt), "--out", str(out), "--tts", "espeak", "--report", str(report)]
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [f"anim400k: error: {video}: {message}"]
    assert not out.exists() and not report.exists()


@pytest.fixture(scope="module")
def episode(tmp_path_factory):
    from anim400k.synth import make_episode

    return make_episode(tmp_path_factory.mktemp("dub_layout"), duration=10.0, seed=11, n_speakers=2,
                        voices="espeak", video=False)


def _bs1770(x: np.ndarray, names: list[str]) -> float:
    """pyloudnorm's loudness of ``(c, n)`` audio over its channels without the LFE (L, R, C, Ls, Rs order)."""
    import pyloudnorm

    keep = [i for i, n in enumerate(names) if not n.startswith("LFE")]
    return float(pyloudnorm.Meter(SR).integrated_loudness(x[keep].T.astype(np.float64)))


@pytest.mark.parametrize("layout", ["stereo", "5.1(side)"])
def test_the_dub_track_is_as_loud_as_a_stereo_or_surround_source(episode, tmp_path, layout):
    """A 5.1 source with its dialogue in the centre was dubbed 15 dB too quietly (its loudness was taken
    from the normalised mono downmix, centre at -15 dB), a stereo one 3 dB too quietly (a mono track at the
    stereo's loudness measured as mono). The dub track is now stereo (mono sources keep a mono dub), at
    the source's BS.1770 loudness over its own channels."""
    speech = decode_audio(episode.stems_dir / "jp_speech.wav", 0, sr=SR)
    backing = decode_audio(episode.stems_dir / "backing.wav", 0, sr=SR)
    if layout == "stereo":
        channels = np.stack([speech + 0.6 * backing, speech + 0.4 * backing])
        names = ["FL", "FR"]
    else:  # dialogue in the centre only, as in most anime 5.1 mixes
        quiet = np.zeros_like(speech)
        channels = np.stack([0.5 * backing, 0.5 * backing, speech, quiet, 0.3 * backing, 0.3 * backing])
        names = ["FL", "FR", "FC", "LFE", "SL", "SR"]
    video = write_audio_file(tmp_path / "surround.mkv", channels, layout)
    source = decode_audio(video, 0, sr=SR, mono=False)
    out = tmp_path / "dubbed.mkv"
    report = dub(video, out, DubOptions(subtitles=str(episode.subtitles), tts="espeak", progress=False))
    track = decode_audio(out, 1, sr=SR, mono=False)
    assert track.shape[0] == 2  # the dub in both channels (the same signal, up to AAC's stereo coding)
    assert np.sqrt(np.mean((track[0] - track[1]) ** 2)) < 0.01 * np.sqrt(np.mean(track**2))
    assert report.source_lufs == pytest.approx(_bs1770(source, names), abs=0.01)
    assert _bs1770(track, ["FL", "FR"]) == pytest.approx(_bs1770(source, names), abs=1.0)
    assert report.output_lufs == pytest.approx(_bs1770(track, ["FL", "FR"]), abs=0.3)
