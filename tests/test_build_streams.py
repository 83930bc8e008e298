"""The build's probe stage: which audio stream each language gets (several tagged with it, or none)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from anim400k.dataset.context import EpisodeContext
from anim400k.dataset.options import BuildOptions
from anim400k.dataset.stages import stage_probe
from anim400k.errors import InputError
from anim400k.model import EpisodeRef

SR = 16000


def audio_mkv(path: Path, streams: list[tuple[str | None, str | None]]) -> Path:
    """An audio-only MKV with one second of a tone per ``(language, title)`` stream (None: not set)."""

    with av.open(str(path), "w") as out:
        outs = []
        for lang, title in streams:
            st = out.add_stream("flac", rate=SR, layout="mono")
            if lang:
                st.metadata["language"] = lang
            if title:
                st.metadata["title"] = title
            outs.append(st)
        for k, st in enumerate(outs):
            t = np.arange(SR) / SR
            pcm = (0.2 * np.sin(2 * np.pi * (300 + 100 * k) * t) * 32767).astype(np.int16).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = SR, 0, Fraction(1, SR)
            out.mux(st.encode(frame))
            out.mux(st.encode(None))
    return path


def wav(path: Path) -> Path:
    """One second of noise as WAV (a format that cannot carry a language tag)."""
    sf.write(path, np.random.default_rng(0).normal(0, 0.1, SR).astype(np.float32), SR)
    return path


def context(tmp_path: Path, media: Path, en_media: Path | None = None, **fields: object) -> EpisodeContext:
    """The context of episode s/1 over ``media`` (and ``en_media``), with ``fields`` of its manifest entry."""
    ref = EpisodeRef("s", "1", str(media), str(en_media or media), **fields)  # type: ignore[arg-type]
    return EpisodeContext(ref=ref, work_dir=str(tmp_path / "work"), release_dir=str(tmp_path),
                          options=BuildOptions(progress=False))


def probed(ctx: EpisodeContext) -> dict:
    stage_probe(ctx)
    return ctx.read_json("probe.json")


# ---------------------------------------------------------------- several streams tagged with the language


def test_a_commentary_tagged_eng_is_passed_over_and_the_choice_warned(tmp_path: Path) -> None:
    media = audio_mkv(tmp_path / "three.mkv", [("jpn", "Japanese"), ("eng", "English Commentary"), ("eng", "English")])
    ctx = context(tmp_path, media)
    probe = probed(ctx)
    assert (probe["ja"]["audio_index"], probe["en"]["audio_index"]) == (0, 2)
    assert probe["ja"]["note"] is None
    note = (f"{media}: 2 audio streams are tagged 'eng' (1: eng 'English Commentary', 2: eng 'English'); used "
            "audio stream 2 (the others are titled as a commentary, description or the like): pass en_stream: N "
            "to use audio stream N")
    assert probe["en"]["note"] == note
    from anim400k.dataset.stages import stage_notes

    assert stage_notes(ctx) == [note]  # the release writer puts them in the build report's warnings


def test_an_index_in_the_manifest_is_obeyed(tmp_path: Path) -> None:
    media = audio_mkv(tmp_path / "three.mkv", [("jpn", "Japanese"), ("eng", "English Commentary"), ("eng", "English")])
    probe = probed(context(tmp_path, media, en_stream=1))
    assert (probe["en"]["audio_index"], probe["en"]["stream_index"], probe["en"]["note"]) == (1, 1, None)


@pytest.mark.parametrize(("streams", "expected", "why"), [
    ([("jpn", None), ("eng", "English"), ("eng", "English 5.1")], 1, "the first; the titles do not tell"),
    ([("jpn", None), ("eng", "Audio Description"), ("eng", "English (Karaoke)")], 1, "the first"),
    ([("jpn", None), ("eng", "Descriptive audio"), ("eng", None)], 2, "the others are titled as a commentary"),
])
def test_several_eng_streams(tmp_path: Path, streams: list, expected: int, why: str) -> None:
    probe = probed(context(tmp_path, audio_mkv(tmp_path / "m.mkv", streams)))
    assert probe["en"]["audio_index"] == expected
    assert f"used audio stream {expected} ({why}" in probe["en"]["note"]


# ---------------------------------------------------------------- streams without a language tag


def test_one_untagged_stream_per_file_is_taken_with_a_note(tmp_path: Path) -> None:
    jp, en = wav(tmp_path / "jp_mix.wav"), wav(tmp_path / "en_mix.wav")
    ctx = context(tmp_path, jp, en)
    probe = probed(ctx)
    assert (probe["ja"]["audio_index"], probe["en"]["audio_index"]) == (0, 0)
    from anim400k.dataset.stages import stage_notes

    assert stage_notes(ctx) == [
        f"{jp}: no 'jpn' audio stream; used audio stream 0 (untagged, the only audio stream)",
        f"{en}: no 'eng' audio stream; used audio stream 0 (untagged, the only audio stream)",
    ]


def test_untagged_streams_titled_with_their_language(tmp_path: Path) -> None:
    media = audio_mkv(tmp_path / "titled.mkv", [(None, "English"), (None, "日本語")])
    probe = probed(context(tmp_path, media))
    assert (probe["ja"]["audio_index"], probe["en"]["audio_index"]) == (1, 0)
    assert "titled '日本語'" in probe["ja"]["note"] and "titled 'English'" in probe["en"]["note"]


def test_untagged_streams_that_cannot_be_told_apart_are_refused(tmp_path: Path) -> None:
    media = audio_mkv(tmp_path / "und.mkv", [(None, None), (None, "Stereo")])
    with pytest.raises(InputError) as err:
        stage_probe(context(tmp_path, media))
    assert err.value.message == (
        f"{media}: no audio stream is tagged 'jpn' and several audio streams could be it (audio streams: "
        "0: und, 1: und 'Stereo'): pass jp_stream: N to use audio stream N")


def test_one_untagged_stream_is_not_both_languages(tmp_path: Path) -> None:
    media = wav(tmp_path / "mix.wav")
    with pytest.raises(InputError) as err:
        stage_probe(context(tmp_path, media))
    assert err.value.message == (f"{media}: jp_stream 'jpn' and en_stream 'eng' would both be audio stream 0 "
                                 "(audio streams: 0: und): give jp_stream: N and en_stream: N")
    probe = probed(context(tmp_path, media, jp_stream=0, en_stream=0))  # indexes are obeyed
    assert probe["ja"]["audio_index"] == probe["en"]["audio_index"] == 0
