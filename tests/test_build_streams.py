"""The build's probe stage: which audio stream each language gets (several tagged with it, or none),
and the inputs it checks before the costly stages (a subtitle stream, the ground truth file)."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
import yaml

from anim400k.dataset.context import EpisodeContext
from anim400k.dataset.options import BuildOptions
from anim400k.dataset.stages import stage_probe
from anim400k.errors import InputError
from anim400k.model import EpisodeRef

SR = 16000


def audio_mkv(path: Path, streams: list[tuple[str | None, str | None]], srt: Path | None = None) -> Path:
    """An audio-only MKV with one second of a tone per ``(language, title)`` stream (None: not set)."""
    from anim400k.synth.writer import copy_subtitles

    with av.open(str(path), "w") as out:
        outs = []
        for lang, title in streams:
            st = out.add_stream("flac", rate=SR, layout="mono")
            if lang:
                st.metadata["language"] = lang
            if title:
                st.metadata["title"] = title
            outs.append(st)
        if srt is not None:
            copy_subtitles(out, srt)
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
    truth = fields.pop("truth", None)
    ref = EpisodeRef("s", "1", str(media), str(en_media or media), metadata={"truth": truth} if truth else {},
                     **fields)  # type: ignore[arg-type]
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


def test_the_only_eng_stream_titled_as_a_commentary_is_taken_with_a_warning(tmp_path: Path) -> None:
    """A JP programme with only an EN commentary beside it: the commentary was taken for the EN dub without a
    word (an outside tester, 2026-12-07)."""
    media = audio_mkv(tmp_path / "two.mkv", [("jpn", "Japanese"), ("eng", "Director's Commentary")])
    ctx = context(tmp_path, media)
    probe = probed(ctx)
    assert probe["en"]["audio_index"] == 1 and probe["ja"]["note"] is None
    assert probe["en"]["note"] == (f"{media}: the only audio stream tagged 'eng' (1) is titled \"Director's "
                                   "Commentary\", not the programme's audio: used it; pass en_stream: N to use audio "
                                   "stream N")


def test_a_track_an_earlier_dub_added_is_not_the_en_dub(tmp_path: Path) -> None:
    """A build of a file `anim400k dub` wrote took its TTS track 'English (dub)' (the default) for the EN audio:
    every EN clip held the TTS voice (an outside tester, 2026-12-07)."""
    media = audio_mkv(tmp_path / "dubbed.mkv", [("jpn", "Japanese"), ("eng", "English 2.0"), ("eng", "English (dub)")])
    probe = probed(context(tmp_path, media))
    assert probe["en"]["audio_index"] == 1
    assert "used audio stream 1 (the others are tracks an earlier dub added)" in probe["en"]["note"]
    # the real dub untagged (as fansub files leave it), the TTS track tagged: the untagged one titled 'English'
    fansub = audio_mkv(tmp_path / "fansub.mkv", [("jpn", "Japanese"), (None, "English"), ("eng", "English (dub)")])
    probe = probed(context(tmp_path / "f", fansub))
    assert probe["en"]["audio_index"] == 1
    assert "the audio streams tagged 'eng' (2) are tracks an earlier dub added; used audio stream 1" in \
        probe["en"]["note"]
    from anim400k.media.probe import is_dub_title

    assert is_dub_title("English (dub)") and is_dub_title("English (dub 2)")
    assert not is_dub_title("English (dub version)")


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


# ---------------------------------------------------------------- inputs checked before the costly stages


def test_a_subtitle_stream_the_file_lacks_fails_in_probe(tmp_path: Path) -> None:
    media = audio_mkv(tmp_path / "nosubs.mkv", [("jpn", None), ("eng", None)])
    with pytest.raises(InputError, match="has no subtitle stream"):
        stage_probe(context(tmp_path, media, subtitle_stream="eng"))
    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:00,100 --> 00:00:00,900\nHello.\n", encoding="utf-8")
    media = audio_mkv(tmp_path / "subs.mkv", [("jpn", None), ("eng", None)], srt=srt)
    with pytest.raises(InputError) as err:
        stage_probe(context(tmp_path, media, subtitle_stream="fre"))
    assert err.value.message == (f"{media}: no subtitle stream in language 'fre' (subtitle streams: "
                                 "0: eng 'English subtitles'): pass subtitle_stream: N to use subtitle stream N")
    with pytest.raises(InputError, match="subtitle stream 1 does not exist"):
        stage_probe(context(tmp_path, media, subtitle_stream=1))
    assert probed(context(tmp_path, media, subtitle_stream="eng"))["en"]["audio_index"] == 1


def test_a_missing_truth_file_fails_in_probe(tmp_path: Path) -> None:
    media = audio_mkv(tmp_path / "m.mkv", [("jpn", None), ("eng", None)])
    with pytest.raises(InputError) as err:
        stage_probe(context(tmp_path, media, truth=str(tmp_path / "nothere.json")))
    assert err.value.message == f"{tmp_path / 'nothere.json'}: truth file not found"
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="not a synthetic-episode truth file"):
        stage_probe(context(tmp_path, media, truth=str(bad)))


def test_bad_subtitle_stream_and_truth_fail_before_the_costly_stages(tmp_path: Path) -> None:
    """From the CLI: one line per episode, exit 2, and no stage after probe ran."""
    media = audio_mkv(tmp_path / "nosubs.mkv", [("jpn", None), ("eng", None)])
    eps = [{"episode": 1, "media": str(media), "subtitle_stream": "eng"},
           {"episode": 2, "media": str(media), "truth": str(tmp_path / "nothere.json")}]
    manifest = tmp_path / "m.yaml"
    manifest.write_text(yaml.safe_dump({"shows": [{"key": "s", "episodes": eps}]}))
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "anim400k", "build", str(manifest), "--out", str(out),
                             "--no-progress"], capture_output=True, text=True)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"failed s/1 in stage probe: {media}: has no subtitle stream" in result.stdout
    assert f"failed s/2 in stage probe: {tmp_path / 'nothere.json'}: truth file not found" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    report = json.loads((out / "build_report.json").read_text())
    assert [e["stage_seconds"] for e in report["episodes"]] == [{}, {}]


def test_the_subtitles_stage_reads_a_late_start_file_on_the_jp_audio_timeline(tmp_path: Path) -> None:
    """The build's clip times count from the container's start time (decode_audio, the cutters); the
    subtitles stage reading `subtitle_stream` of a file whose streams start at 1.5 s does too (it read
    them 1.5 s late)."""
    import imageio_ffmpeg

    from anim400k.dataset.stages import stage_subtitles

    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:00,100 --> 00:00:00,900\nHello.\n\n2\n00:00:01,200 --> 00:00:01,800\nBye.\n",
                   encoding="utf-8")
    media = audio_mkv(tmp_path / "subs.mkv", [("jpn", None), ("eng", None)], srt=srt)
    late = tmp_path / "late.mkv"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(media), "-map", "0", "-c", "copy",
                    "-output_ts_offset", "1.5", str(late)], check=True)
    for path in (media, late):
        ctx = context(tmp_path / path.stem, path, subtitle_stream="eng")
        events = json.loads(Path(stage_subtitles(ctx)).read_text())["events"]
        assert [(e["start"], e["end"], e["text"]) for e in events] == [(0.1, 0.9, "Hello."), (1.2, 1.8, "Bye.")]


def test_a_subtitles_file_that_is_a_container_is_read_through_its_stream(tmp_path: Path) -> None:
    """``subtitles:`` naming a Matroska file (an ``.mka``/``.mks``) was decoded as text ('not UTF-8 text');
    its subtitle stream is read, and one without a subtitle stream fails in probe."""
    from anim400k.dataset.stages import stage_subtitles

    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:00,100 --> 00:00:00,900\nHello.\n", encoding="utf-8")
    media = audio_mkv(tmp_path / "m.mkv", [("jpn", None), ("eng", None)])
    subs = audio_mkv(tmp_path / "subs.mkv", [("eng", None)], srt=srt).rename(tmp_path / "subs.mka")
    ctx = context(tmp_path / "ok", media, subtitles=str(subs))
    stage_probe(ctx)
    events = json.loads(Path(stage_subtitles(ctx)).read_text())["events"]
    assert [(e["start"], e["end"], e["text"]) for e in events] == [(0.1, 0.9, "Hello.")]
    nosubs = audio_mkv(tmp_path / "nosubs.mkv", [("eng", None)]).rename(tmp_path / "nosubs.mka")
    with pytest.raises(InputError) as err:
        stage_probe(context(tmp_path / "bad", media, subtitles=str(nosubs)))
    assert err.value.message == f"{nosubs}: has no subtitle stream"


def _bitmap_subtitles_mkv(path: Path) -> Path:
    """An MKV with a 1 s ``jpn`` audio stream and a DVD (bitmap) subtitle stream tagged ``eng`` (one packet)."""
    with av.open(str(path), "w") as out:
        audio = out.add_stream("flac", rate=SR, layout="mono")
        audio.metadata["language"] = "jpn"
        subs = out.add_stream("dvd_subtitle")
        subs.metadata["language"] = "eng"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, SR), np.int16), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = SR, 0, Fraction(1, SR)
        for packet in [*audio.encode(frame), *audio.encode(None)]:
            out.mux(packet)
        packet = av.Packet(b"\x00\x10" + bytes(14))
        packet.stream, packet.pts, packet.dts, packet.time_base = subs, 100, 100, Fraction(1, 1000)
        out.mux(packet)
    return path


@pytest.mark.parametrize("how", ["subtitle_stream", "subtitles"])
def test_bitmap_subtitles_only_fail_the_probe_in_one_line_asking_for_a_text_file(tmp_path: Path, how: str) -> None:
    """A release whose only English subtitles are pictures (DVD, PGS) cannot give en_subtitles: the probe stage says
    so and asks for a text file (it said 'only text subtitles are read', or listed the stream as 'bitmap' and
    asked for a stream that is not there), before the costly stages."""
    from anim400k.media import probe

    media = _bitmap_subtitles_mkv(tmp_path / "bitmap.mkv")
    assert [s.codec for s in probe(media).subtitle_streams] == ["dvdsub"]
    fields = {"subtitle_stream": "eng"} if how == "subtitle_stream" else {"subtitles": str(media)}
    with pytest.raises(InputError) as err:
        stage_probe(context(tmp_path, media, wav(tmp_path / "en.wav"), **fields))
    advice = ("bitmap subtitles (PGS, DVD: pictures of text) cannot be read; give the subtitles as an SRT, ASS or "
              "WebVTT file")
    assert err.value.message == (f"{media}: subtitle stream is 'dvdsub' (a bitmap format): {advice}"
                                 if how == "subtitle_stream" else
                                 f"{media}: has no text subtitle stream: {advice} (subtitle streams: 0: eng (bitmap))")
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").rglob("probe.json"))


# ---------------------------------------------------------------- several subtitle streams tagged with the language


def release_subs_mkv(path: Path, tmp_path: Path, subs: list[tuple[str, str, bool, bool]]) -> Path:
    """An MKV with JP and EN audio and one ``eng`` subtitle stream per ``(text, title, default, forced)``,
    as BD and fansub releases ship them ("Signs & Songs" first, default and forced). The subtitle packets
    are copied after the audio is encoded, from sources kept open (PyAV crashed encoding audio after
    copying packets of several closed sources)."""
    srcs = []
    for k, (text, *_) in enumerate(subs):
        srt = tmp_path / f"{path.stem}{k}.srt"
        srt.write_text(f"1\n00:00:00,100 --> 00:00:00,900\n{text}\n", encoding="utf-8")
        srcs.append(av.open(str(srt)))
    with av.open(str(path), "w") as out:
        audio = [out.add_stream("flac", rate=SR, layout="mono") for _ in range(2)]
        audio[0].metadata["language"], audio[1].metadata["language"] = "jpn", "eng"
        copies = []
        for src, (_, title, default, forced) in zip(srcs, subs, strict=True):
            st = out.add_stream_from_template(src.streams.subtitles[0])
            st.metadata["language"], st.metadata["title"] = "eng", title
            st.disposition = (av.stream.Disposition.default if default else 0) | (
                av.stream.Disposition.forced if forced else 0)
            copies.append(st)
        for st in audio:
            frame = av.AudioFrame.from_ndarray(np.zeros((1, SR), np.int16), format="s16", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = SR, 0, Fraction(1, SR)
            out.mux(st.encode(frame))
            out.mux(st.encode(None))
        for src, st in zip(srcs, copies, strict=True):
            for pkt in src.demux(src.streams.subtitles[0]):
                if pkt.dts is not None:
                    pkt.stream = st
                    out.mux(pkt)
            src.close()
    return path


def test_subtitle_stream_eng_passes_over_a_forced_signs_and_songs_track_and_warns(tmp_path: Path) -> None:
    """`subtitle_stream: eng` on a release whose first eng stream is the default, forced "Signs & Songs"
    track reads the full dialogue track (it read the signs: every clip's en_subtitles were sign text),
    and the build warns, listing the candidates; an index is obeyed, silently."""
    from anim400k.dataset.stages import stage_notes, stage_subtitles

    media = release_subs_mkv(tmp_path / "bd.mkv", tmp_path, [("Tokyo Station", "Signs & Songs", True, True),
                                                              ("It's a promise.", "Full Subtitles", False, False),
                                                              ("It's a promise!", "Full (SRT)", False, False)])
    ctx = context(tmp_path / "eng", media, subtitle_stream="eng")
    events = json.loads(Path(stage_subtitles(ctx)).read_text())["events"]
    assert [e["text"] for e in events] == ["It's a promise."]
    note = (f"{media}: 3 subtitle streams are tagged 'eng' (0: eng 'Signs & Songs' (default, forced), 1: eng "
            "'Full Subtitles', 2: eng 'Full (SRT)'); used subtitle stream 1 (titled as the full dialogue, the "
            "first; passed over 0: flagged forced or titled as signs, songs, karaoke or commentary): pass "
            "subtitle_stream: N to use subtitle stream N")
    assert ctx.read_json("subtitle_stream.json") == {"subtitle_stream": 1, "note": note}
    assert stage_notes(ctx) == [note]  # the release writer puts them in the build report's warnings
    ctx = context(tmp_path / "index", media, subtitle_stream=0)
    assert [e["text"] for e in json.loads(Path(stage_subtitles(ctx)).read_text())["events"]] == ["Tokyo Station"]
    assert stage_notes(ctx) == []


@pytest.mark.parametrize(("title", "read"), [
    ("Full Subtitles (Dialogue + Signs)", "It's a promise."),  # the signs it mentions do not make it a signs track
    ("Dialogue", "It's a promise."),
])
def test_a_dialogue_stream_whose_title_also_says_signs_is_the_dialogue(tmp_path: Path, title: str, read: str) -> None:
    """The forced 'Signs & Songs' stream was read where the other was titled 'Full Subtitles (Dialogue + Signs)':
    the dub spoke 3 signs of 12 lines and the clips' en_subtitles were sign text (an outside tester, 2026-12-07)."""
    from anim400k.dataset.stages import stage_subtitles

    media = release_subs_mkv(tmp_path / "bd.mkv", tmp_path, [("Tokyo Station", "Signs & Songs", True, True),
                                                              (read, title, False, False)])
    ctx = context(tmp_path / "eng", media, subtitle_stream="eng")
    assert [e["text"] for e in json.loads(Path(stage_subtitles(ctx)).read_text())["events"]] == [read]


def test_a_lone_forced_subtitle_stream_is_read_with_a_warning(tmp_path: Path) -> None:
    from anim400k.dataset.stages import stage_notes, stage_subtitles

    media = release_subs_mkv(tmp_path / "signs.mkv", tmp_path, [("Keep Out", "English", False, True)])
    ctx = context(tmp_path, media, subtitle_stream="en")
    assert [e["text"] for e in json.loads(Path(stage_subtitles(ctx)).read_text())["events"]] == ["Keep Out"]
    assert stage_notes(ctx) == [f"{media}: the only subtitle stream tagged 'en' (0: eng 'English' (forced)) is "
                                "flagged forced or titled as signs, songs, karaoke or commentary: its text may be "
                                "signs or songs, not the dialogue"]


def _count_opens(monkeypatch: pytest.MonkeyPatch, path: Path) -> list[str]:
    """A list that gets one entry per ``av.open`` of ``path`` from now on."""
    opened: list[str] = []
    real = av.open

    def counting(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(file) == str(path):
            opened.append(str(file))
        return real(file, *args, **kwargs)

    monkeypatch.setattr(av, "open", counting)
    return opened


def test_align_opens_a_subtitle_container_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """``align --subtitles VIDEO --subtitle-stream eng`` opened the container twice: once to pick the
    stream (and note the choice), once to demux it. One opening does both; the note is still printed."""
    from anim400k.cli import main

    media = release_subs_mkv(tmp_path / "bd.mkv", tmp_path, [("Tokyo Station", "Signs & Songs", True, True),
                                                              ("It's a promise.", "Full Subtitles", False, False)])
    tr = tmp_path / "t.srt"
    tr.write_text("1\n00:00:00,100 --> 00:00:00,900\nHi\n", encoding="utf-8")
    opened = _count_opens(monkeypatch, media)
    out = tmp_path / "clips.json"
    assert main(["align", "--en", str(tr), "--jp", str(tr), "--subtitles", str(media), "--subtitle-stream", "eng",
                 "--out", str(out)]) == 0
    assert len(opened) == 1
    assert [[s["text"] for s in c["en_subtitles"]] for c in json.loads(out.read_text())] == [["It's a promise."]]
    err = capsys.readouterr().err
    assert f"note: {media}: read subtitle stream 1: eng 'Full Subtitles'; 2 subtitle streams are tagged 'eng'" \
        in err and "pass --subtitle-stream N" in err
    # without --subtitle-stream: the same English dialogue stream (the first, Signs & Songs, was read)
    assert main(["align", "--en", str(tr), "--jp", str(tr), "--subtitles", str(media), "--out", str(out)]) == 0
    assert [[s["text"] for s in c["en_subtitles"]] for c in json.loads(out.read_text())] == [["It's a promise."]]
    assert len(opened) == 2


def test_the_subtitles_stage_opens_a_subtitle_container_once(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The build's subtitles stage checked a ``subtitles:`` container's stream (one opening) and then read
    it (a second); reading checks it. The probe stage still refuses one without a subtitle stream."""
    from anim400k.dataset.stages import stage_subtitles

    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:00,100 --> 00:00:00,900\nHello.\n", encoding="utf-8")
    media = audio_mkv(tmp_path / "m.mkv", [("jpn", None), ("eng", None)])
    subs = audio_mkv(tmp_path / "subs.mkv", [("eng", None)], srt=srt).rename(tmp_path / "subs.mka")
    ctx = context(tmp_path / "ok", media, subtitles=str(subs))
    opened = _count_opens(monkeypatch, subs)
    events = json.loads(Path(stage_subtitles(ctx)).read_text())["events"]
    assert [e["text"] for e in events] == ["Hello."] and len(opened) == 1
    nosubs = audio_mkv(tmp_path / "nosubs.mkv", [("eng", None)]).rename(tmp_path / "nosubs.mka")
    with pytest.raises(InputError, match="has no subtitle stream"):
        stage_subtitles(context(tmp_path / "bad", media, subtitles=str(nosubs)))


@pytest.mark.parametrize("title", ["Signs/Songs (Full)", "Signs & Songs (Full)"])
def test_a_full_signs_track_stays_signs(tmp_path: Path, title: str) -> None:
    """'Signs/Songs (Full)' (the full signs track) was taken as the dialogue over 'Dialogue'/'English' beside it (a
    regression of the 'Full ... (Dialogue + Signs)' rule, an outside tester, 2026-12-07)."""
    from anim400k.dataset.stages import stage_subtitles

    media = release_subs_mkv(tmp_path / "bd.mkv", tmp_path, [("SCHOOL GATE", title, False, False),
                                                              ("It's a promise.", "English", False, False)])
    ctx = context(tmp_path / "eng", media, subtitle_stream="eng")
    assert [e["text"] for e in json.loads(Path(stage_subtitles(ctx)).read_text())["events"]] == ["It's a promise."]
