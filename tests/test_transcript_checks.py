"""Given transcripts: lines past the media's end, clips outside the JP medium, low speech coverage."""

from __future__ import annotations

import pytest

from anim400k.dataset.episode_clips import (
    inside_en_medium,
    inside_medium,
    make_episode_clips,
    media_length_mismatch,
    speech_coverage,
)
from anim400k.dataset.release_writer import clips_warnings
from anim400k.model import Clip, Segment, TimeMap, Transcript, Turn, Word


def test_transcript_segments_past_the_media_end_are_dropped_or_clipped() -> None:
    segs = [
        Segment(10.0, 12.0, "Inside."),
        Segment(59.5, 61.2, "Straddling the end now.",
                words=[Word(59.5, 60.4, "Straddling"), Word(60.4, 60.9, "the"), Word(60.9, 61.2, "end")]),
        Segment(62.0, 63.5, "This is after the end."),
    ]
    kept, dropped, clipped = inside_medium(segs, 60.0)
    assert (dropped, clipped) == (1, 1)
    assert [s.text for s in kept] == ["Inside.", "Straddling the end now."]
    assert kept[1].end == 60.0
    assert [(w.text, w.end) for w in kept[1].words] == [("Straddling", 60.0)]
    assert segs[1].end == 61.2  # the input is not changed
    assert inside_medium(segs, None) == (segs, 0, 0)


def test_transcript_past_end_and_outside_clips_are_warned() -> None:
    data = {"transcript_past_end": {"en": {"dropped": 1, "clipped": 1}, "ja": {"dropped": 1, "clipped": 0}},
            "clips_outside_jp_medium": 2}
    w = clips_warnings(data)
    assert len(w) == 2
    assert w[0].startswith("1 EN and 1 JP transcript segment(s) past the end of the media were dropped, "
                           "1 EN and 0 JP clipped")
    assert "2 clip(s) outside the JP medium" in w[1]
    assert "another cut or episode" in w[0]  # a clips.json of an earlier version does not say what was given
    own = clips_warnings({**data, "transcripts_given": []})[0]  # the build's own ASR ran past the audio's end
    assert "another cut" not in own and "speech recognition's last segment" in own
    assert "another cut or episode" in clips_warnings({**data, "transcripts_given": ["ja"]})[0]
    none = {"transcript_past_end": {"en": {"dropped": 0, "clipped": 0}, "ja": {"dropped": 0, "clipped": 0}},
            "clips_outside_jp_medium": 0, "transcript_coverage": {"en": 0.9, "ja": None}}
    assert clips_warnings(none) == []
    assert clips_warnings({}) == []  # a clips.json of an earlier version


def test_build_drops_clips_before_the_jp_medium_and_matches_subtitles_on_the_true_interval(tmp_path) -> None:
    """The align stage uses the aligner's drop: EN speech before the JP medium's start (offset 2 s) is
    no zero-length clip carrying a subtitle at t=0, and it is counted in ``clips_outside_jp_medium``."""
    import json

    import numpy as np
    import soundfile as sf

    from anim400k.dataset.context import EpisodeContext
    from anim400k.dataset.options import BuildOptions
    from anim400k.formats.rttm import write_rttm
    from anim400k.formats.transcripts import write_transcript
    from anim400k.model import EpisodeRef

    ctx = EpisodeContext(EpisodeRef("s", "1", "jp.mkv", "en.mkv"), str(tmp_path / "w"), str(tmp_path / "r"),
                         BuildOptions(progress=False))
    ctx.work.mkdir(parents=True, exist_ok=True)
    write_transcript(ctx.artifact("en.transcript.json"), Transcript("en", [
        Segment(0.2, 0.8, "Previously, on our show..."), Segment(3.0, 4.0, "Good morning.")]))
    write_transcript(ctx.artifact("ja.transcript.json"), Transcript("ja", [Segment(1.0, 2.0, "おはよう。")]))
    ctx.artifact("probe.json").write_text(json.dumps({"en": {"duration": 6.0}, "ja": {"duration": 4.0}}))
    ctx.artifact("sync.json").write_text(json.dumps({"offset": 2.0, "drift": 0.0, "confidence": 1.0,
                                                     "applied": True}))
    events = [{"start": 0.0, "end": 2.0, "text": "Good morning."}]
    ctx.artifact("subtitles.json").write_text(json.dumps({"events": events, "left_out": {}, "source": None}))
    write_rttm(ctx.artifact("jp.rttm"), [Turn(1.0, 2.0, "A")], "x")
    rng = np.random.default_rng(0)
    for name in ("ja.16k.flac", "backing.flac"):
        sf.write(ctx.artifact(name), (0.01 * rng.standard_normal(64000)).astype(np.float32), 16000)
    data = make_episode_clips(ctx)
    assert data["clips_outside_jp_medium"] == 1
    assert [(c["en_text"], c["jp_start"], c["jp_end"], [s["text"] for s in c["en_subtitles"]])
            for c in data["clips"]] == [("Good morning.", 1.0, 2.0, ["Good morning."])]
    assert any("1 clip(s) outside the JP medium were dropped" in w for w in clips_warnings(data))


def test_clip_en_times_are_kept_inside_the_en_medium() -> None:
    clips = [Clip(-0.4, 2.0, 0.0, 2.4), Clip(5.0, 9.0, 5.4, 9.4), Clip(10.2, 11.0, 10.6, 11.4),
             Clip(9.98, 10.6, 10.4, 11.0)]
    kept, dropped, clipped = inside_en_medium(clips, 10.0)
    assert (dropped, clipped) == (2, 1)  # the last two hold less than 50 ms of the EN medium
    assert [(c.en_start, c.en_end) for c in kept] == [(0.0, 2.0), (5.0, 9.0)]
    assert kept[0].jp_start == 0.0  # the JP times are not touched
    assert inside_en_medium([Clip(10.2, 11.0, 10.6, 11.4)], None)[0][0].en_end == 11.0


def test_a_clip_mostly_before_the_en_medium_is_dropped_not_clamped_to_its_tail() -> None:
    """An EN track starting 7.5 s into the JP one mapped two JP lines (6.08-8.43 s) to EN -1.42-0.93 s: clamped,
    the EN clip held 0.9 s, the tail of the second line, against both JP lines (an outside tester's case)."""
    kept, dropped, clipped = inside_en_medium([Clip(-1.42, 0.93, 6.08, 8.43), Clip(-0.4, 2.0, 7.1, 9.5)], 60.0)
    assert (dropped, clipped) == (1, 1)
    assert [(c.en_start, c.en_end) for c in kept] == [(0.0, 2.0)]  # 2.0 of its 2.4 s inside: kept, clamped
    kept, dropped, _ = inside_en_medium([Clip(59.0, 61.0, 59.0, 61.0)], 60.0)  # half inside: kept
    assert dropped == 0 and kept[0].en_end == 60.0


@pytest.mark.parametrize(("jp", "en", "time_map", "expected"), [
    (1440.0, 1440.0, TimeMap(), None),
    (1440.0, 1438.5, TimeMap(), None),  # within 2 s
    (1440.0, 1436.0, TimeMap(), {"jp": 1440.0, "en": 1436.0, "difference": -4.0}),
    (1440.0, 1443.0, TimeMap(offset=3.0), None),  # the EN medium starts 3 s later: it ends 3 s later
    (1440.0, 1440.0, TimeMap(offset=3.0), {"jp": 1440.0, "en": 1440.0, "difference": -3.0}),
    (1440.0, None, TimeMap(), None),
])
def test_media_lengths_that_disagree_after_the_sync(jp, en, time_map, expected) -> None:
    assert media_length_mismatch(jp, en, time_map.jp_to_en) == expected


def test_en_medium_warnings() -> None:
    data = {"clips_past_en_medium": {"dropped": 2, "clipped": 1},
            "media_length_mismatch": {"jp": 1440.0, "en": 1436.0, "difference": -4.0}}
    assert clips_warnings(data) == [
        "1 clip(s) reaching outside the EN medium were clipped to it (en_start/en_end)",
        "2 clip(s) outside (or more than half outside) the EN medium were dropped (JP speech where the EN medium "
        "has no content)",
        "the EN medium is 1436.00 s long and the JP one 1440.00 s: after the sync the EN medium ends 4.00 s "
        "before the JP one (a truncated file or another cut?)",
    ]
    assert clips_warnings({"clips_past_en_medium": {"dropped": 0, "clipped": 0}, "media_length_mismatch": None}) == []


#: 60 s of speech: 0-40 s and 60-80 s (overlapping and unsorted turns, as an RTTM has them)
SPEECH = [(20.0, 40.0), (0.0, 25.0), (60.0, 80.0)]


@pytest.mark.parametrize(("segments", "share"), [
    ([(0.0, 40.0), (60.0, 80.0)], 1.0),
    ([(0.0, 30.0)], 0.5),  # lines only in the first half
    ([(30.0, 70.0), (90.0, 110.0)], 0.3333),  # every line shifted by +30 s
    ([(40.5, 59.5)], 0.0),  # in the pause
])
def test_transcript_speech_coverage(segments: list[tuple[float, float]], share: float) -> None:
    assert speech_coverage(segments, SPEECH) == pytest.approx(share, abs=1e-3)


def test_low_transcript_coverage_is_warned() -> None:
    assert speech_coverage([(0.0, 10.0)], []) is None
    w = clips_warnings({"transcript_coverage": {"en": 0.2, "ja": 0.49}})
    assert w == [
        "the given EN transcript covers only 20% of the speech the diarization finds "
        "(a partial transcript, shifted times, or another episode's?)",
        "the given JP transcript covers only 49% of the speech the diarization finds "
        "(a partial transcript, shifted times, or another episode's?)",
    ]
    assert clips_warnings({"transcript_coverage": {"en": 0.5}}) == []


def test_empty_jp_text_warning_says_whether_the_transcript_was_given(tmp_path) -> None:
    """A JP transcript given in the manifest without text is named as such, not blamed on the embedded ASR."""
    from anim400k.dataset.context import EpisodeContext
    from anim400k.dataset.options import BuildOptions
    from anim400k.dataset.report import _collect_jp_text
    from anim400k.formats.transcripts import write_transcript
    from anim400k.model import EpisodeRef

    contexts = []
    for ep, given in (("1", {"ja": "ja.json"}), ("2", {})):
        ctx = EpisodeContext(EpisodeRef("s", ep, "jp.mkv", "en.mkv", transcripts=given), str(tmp_path / ep),
                             str(tmp_path / "r"), BuildOptions(progress=False))
        ctx.work.mkdir(parents=True, exist_ok=True)
        write_transcript(ctx.artifact("ja.transcript.json"), Transcript("ja", [Segment(1.0, 2.0, "")]))
        contexts.append(ctx)
    out = _collect_jp_text(contexts)
    assert out["empty"] == 2 and out["empty_episodes"] == ["s/2", "s/1"]
    assert "--asr-ja vad finds speech only" in out["message"] and "in 1 of 2 episodes" in out["message"]
    assert "the JP transcript given in the manifest has no text in 1 episode(s) (s/1)" in out["message"]
    only_given = _collect_jp_text(contexts[:1])
    assert "--asr-ja vad" not in only_given["message"] and "fix" not in only_given


def test_clip_clamped_to_the_jp_medium_end_keeps_only_subtitles_overlapping_it(tmp_path) -> None:
    """A clip reaching past the JP medium's end is clamped to it; a subtitle event wholly past that end (a
    subtitle file timed to a longer cut) was still attached, since events are matched before the clamp, and
    ``anim400k validate`` refused the release the build wrote (the event does not overlap the stored interval)."""
    import copy
    import json

    import numpy as np
    import soundfile as sf

    from anim400k import release
    from anim400k.dataset.context import EpisodeContext
    from anim400k.dataset.options import BuildOptions
    from anim400k.formats.rttm import write_rttm
    from anim400k.formats.transcripts import write_transcript
    from anim400k.model import EpisodeRef
    from anim400k.release.codec import clip_to_release_dict
    from anim400k.testing.release import annotations

    ctx = EpisodeContext(EpisodeRef("s", "1", "jp.mkv", "en.mkv"), str(tmp_path / "w"), str(tmp_path / "r"),
                         BuildOptions(progress=False))
    ctx.work.mkdir(parents=True, exist_ok=True)
    write_transcript(ctx.artifact("en.transcript.json"), Transcript("en", [Segment(2.0, 5.6, "Wait for me!")]))
    write_transcript(ctx.artifact("ja.transcript.json"), Transcript("ja", [Segment(2.0, 3.0, "待って！")]))
    ctx.artifact("probe.json").write_text(json.dumps({"en": {"duration": 6.0}, "ja": {"duration": 4.0}}))
    ctx.artifact("sync.json").write_text(json.dumps({"offset": 0.0, "drift": 0.0, "confidence": 1.0,
                                                     "applied": False}))
    events = [{"start": 2.0, "end": 3.0, "text": "Wait"}, {"start": 3.9, "end": 4.2, "text": "for"},
              {"start": 4.5, "end": 5.5, "text": "me!"}]
    ctx.artifact("subtitles.json").write_text(json.dumps({"events": events, "left_out": {}, "source": None}))
    write_rttm(ctx.artifact("jp.rttm"), [Turn(2.0, 3.0, "A")], "x")
    rng = np.random.default_rng(0)
    for name in ("ja.16k.flac", "backing.flac"):
        sf.write(ctx.artifact(name), (0.01 * rng.standard_normal(64000)).astype(np.float32), 16000)
    clips = make_episode_clips(ctx)["clips"]
    assert [(c["jp_start"], c["jp_end"], [s["text"] for s in c["en_subtitles"]]) for c in clips] == [
        (2.0, 4.0, ["Wait", "for"])]  # "me!" starts past the JP medium's end (4.0 s)
    data = copy.deepcopy(annotations())
    data["show_c"]["episodes"]["1"]["clips"] = [clip_to_release_dict(Clip.from_dict(c)) for c in clips]
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert [str(p) for p in release.validate_release(path, check_media=False)] == []


def test_a_given_transcript_that_does_not_read_fails_the_probe_stage(tmp_path) -> None:
    """A missing transcript, or one of the other language, failed the episode only in its ASR stage, after the
    audio was decoded and synced (and, for ``ja``, the English transcribed): the probe stage reads it now."""
    import json

    import yaml

    from anim400k.cli import main
    from anim400k.synth import make_episode

    ep = make_episode(tmp_path / "ep", duration=4.0, seed=1, video=False)
    en = tmp_path / "en.json"
    en.write_text(json.dumps({"language": "ja", "segments": [{"start": 0.5, "end": 1.0, "text": "はい"}]}))
    for given, problem in (("nothere.json", "transcript file not found"),
                           (str(en), "says its language is 'ja' but is given as the EN transcript")):
        manifest = tmp_path / "m.yaml"
        manifest.write_text(yaml.safe_dump({"shows": [{"key": "s", "episodes": [
            {"episode": 1, "media": str(ep.media), "transcripts": {"en": given}}]}]}))
        out = tmp_path / f"out-{len(given)}"
        assert main(["build", str(manifest), "--out", str(out), "--jobs", "1", "--no-progress"]) != 0
        report = json.loads((out / "build_report.json").read_text())
        failed = json.dumps(report)
        assert "probe" in failed and problem in failed
        assert not report["stage_seconds"]  # nothing ran past the probe
