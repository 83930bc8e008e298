"""EN subtitles as speaker cues of the embedded diarizer (diarize/subtitle_cues.py and the cue_*.py modules), the CLI's
``--subtitles``, the build's diarize stage and the dub passing them."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from anim400k.diarize import cue_events, cue_overlap, cue_windows, get_diarizer
from anim400k.diarize import subtitle_cues as sc
from anim400k.diarize.metrics import der
from anim400k.diarize.resegment import viterbi
from anim400k.diarize.run import load_reference
from anim400k.errors import InputError
from anim400k.model import Subtitle

#: the subtitle cues switched off (the defaults use them: a higher switch penalty inside one-speaker events,
#: and a second speaker where an event starts inside another)
OFF = {"subtitle_inside": 1.0, "subtitle_overlap": None}


#: torch on one thread for the whole module (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("torch_one_thread")


def test_sound_descriptions_and_lyrics_are_no_cue() -> None:
    """An SDH description or a lyric line holds no speech: it was a one-speaker cue (the doubled switch
    penalty over whoever speaks under it), while the dub already skipped it."""
    cues = sc.cues_from_subtitles([(1.0, 2.0, "[DOOR SLAMS]"), (2.0, 3.0, "\u266a Hare hare yukai \u266a"),
                                   (3.0, 4.0, "(GASPS)"), (4.0, 5.0, "Not again."),
                                   Subtitle(5.0, 6.0, "KYON: (sighs)", "KYON")])
    assert [(c.start, c.speaker) for c in cues] == [(4.0, None), (5.0, "kyon")]


def test_dash_events_and_cues() -> None:
    assert sc.is_dash_event("- Really?\n- Yes.")
    assert sc.is_dash_event("Really?\n- Yes.")  # the first speaker's dash left out
    assert sc.is_dash_event("- Really?\\N- Yes.")  # an ASS line break
    assert not sc.is_dash_event("- Really?")  # one dashed line: a pause, or a speaker's aside
    assert not sc.is_dash_event("I said -\nthat is it.")
    cues = sc.cues_from_subtitles([(3.0, 4.0, "b"), Subtitle(1.0, 2.0, "- a\n- b"), (5.0, 5.0, "empty")])
    assert cues == [sc.Cue(1.0, 2.0, True, None, (0.5,)), sc.Cue(3.0, 4.0, False)]  # sorted, the empty one dropped
    with pytest.raises(InputError, match="event 0 has a time that is not a finite number"):
        sc.cues_from_subtitles([(float("nan"), 1.0, "x")])
    with pytest.raises(InputError, match="event 1 is not"):
        sc.cues_from_subtitles([(0.0, 1.0, "x"), (1.0, 2.0)])


def test_dash_events_as_the_subtitle_readers_give_them(tmp_path: Path) -> None:
    """The readers turn an event's line breaks into spaces (``subtitles.json``, ``--subtitles``, the dub's
    subtitles): a two-speaker event still reads as a dash event, a one-speaker line with a dash does not."""
    from anim400k.formats.subtitles import read_subtitles

    srt = tmp_path / "a.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:03,000\n- Really?\n- Yes.\n\n"
                   "2\n00:00:04,000 --> 00:00:06,000\nWell...\n- No!\n\n"
                   "3\n00:00:07,000 --> 00:00:09,000\nI said -\nthat is it.\n\n"
                   "4\n00:00:10,000 --> 00:00:11,000\n- A well-known -- trick.\n", encoding="utf-8")
    events = read_subtitles(srt)
    assert events[0].text == "- Really? - Yes."  # what the diarizer is given
    assert [c.dash for c in sc.cues_from_subtitles(events)] == [True, True, False, False]
    assert sc.is_dash_event("\u2014 Really? \u2014 Yes.") and sc.is_dash_event('"Go!" - Why?')
    assert not sc.is_dash_event("- Really?") and not sc.is_dash_event("Fine - go.")


def test_windows_of_events_pooling_and_links() -> None:
    cues = [sc.Cue(0.0, 3.0, False), sc.Cue(3.0, 5.0, True), sc.Cue(6.0, 9.0, False)]
    windows = np.array([[0.0, 1.5], [1.0, 2.5], [2.0, 3.5], [3.0, 4.5], [5.5, 7.0], [7.5, 9.0], [10.0, 11.5]])
    ev = cue_windows.window_events(windows, cues, min_cover=0.6)
    # 2.0-3.5 is 1.0 s in the first event (0.67); 3.0-4.5 lies in the dash event; 5.5-7.0 is 1.0 s in the third
    assert ev.tolist() == [0, 0, 0, -1, 2, 2, -1]
    assert cue_windows.window_events(windows, cues, min_cover=0.9).tolist() == [0, 0, -1, -1, -1, 2, -1]
    # in blocks (a film's windows x events matrix was hundreds of MB at once): the same answer
    many = np.concatenate([windows] * 700)
    assert len(many) > 2 * cue_windows.WINDOW_BLOCK
    assert cue_windows.window_events(many, cues, min_cover=0.6).tolist() == ev.tolist() * 700
    emb = np.arange(14, dtype=np.float32).reshape(7, 2)
    pooled = cue_events.pool_events(emb, ev, 1.0)
    assert np.allclose(pooled[:3], emb[:3].mean(axis=0)) and np.allclose(pooled[3], emb[3])
    assert np.allclose(cue_events.pool_events(emb, ev, 0.5)[0], 0.5 * emb[0] + 0.5 * emb[:3].mean(axis=0))
    assert cue_events.pool_events(emb, ev, 0.0) is emb
    link = cue_events.event_link(ev, 0.3)
    assert link is not None and link[0, 1] == 0.3 and link[0, 0] == 0 and link[0, 4] == 0 and link[3, 3] == 0
    assert cue_events.event_link(ev, 0.0) is None


def test_overlap_spans_are_events_starting_inside_another() -> None:
    """An event starting inside an earlier one-speaker event is a second voice over the first line: its
    span runs from its start for at most ``max_len`` s (and not past either event's end)."""
    cues = sc.cues_from_subtitles([(1.0, 4.0, "A long line."), (2.0, 3.0, "Eh?"),  # inside: a span
                                   (5.0, 6.0, "Next."), (5.9, 7.0, "Close."),  # 0.1 s of overlap: timing slop
                                   (8.0, 10.0, "- Hm.\n- Yes."), (8.5, 9.5, "Hm?"),  # a dash event is no host
                                   (11.0, 12.0, "Short."), (11.5, 11.8, "Ah.")])
    assert cue_overlap.overlap_spans(cues, max_len=0.4) == [(1.0, 2.0, 2.4), (11.0, 11.5, 11.8)]
    assert cue_overlap.overlap_spans(cues, max_len=5.0)[0] == (1.0, 2.0, 3.0)  # not past the event's end
    assert cue_overlap.overlap_spans([sc.Cue(1.0, 2.0, False)]) == []


def test_overlap_turns_add_the_best_mixture_where_nobody_else_speaks() -> None:
    """The second speaker is the one whose mixture with the host fits the windows of the span; nothing is
    added where the turns already hold another speaker there."""
    from anim400k.diarize import Turn

    ccent = np.eye(3, 8)  # three speakers, orthogonal centred centroids
    windows = np.array([[i * 0.5, i * 0.5 + 1.5] for i in range(10)])
    cwin = np.tile(ccent[0], (10, 1))
    over = (windows[:, 0] < 2.4) & (windows[:, 1] > 2.0)
    cwin[over] = (ccent[0] + 0.6 * ccent[2]) / np.linalg.norm(ccent[0] + 0.6 * ccent[2])  # c2 under c0
    turns = [Turn(0.0, 6.0, "c0", 0.9)]
    added = cue_overlap.overlap_turns([(1.0, 2.0, 2.4)], turns, cwin, ccent, windows)
    assert [(t.start, t.end, t.speaker) for t in added] == [(2.0, 2.4, "c2")]
    assert 0.0 < added[0].confidence < 1.0
    assert cue_overlap.overlap_turns([(1.0, 2.0, 2.4)], [*turns, Turn(2.0, 2.3, "c1")], cwin, ccent, windows) == []
    assert cue_overlap.overlap_turns([(1.0, 2.0, 2.4)], turns, cwin, ccent[:1], windows) == []  # one speaker: no one
    from anim400k.dataset.options import STAGE_VERSIONS

    assert STAGE_VERSIONS["diarize"] >= 6  # the release's clip speakers change: the diarize stage runs again


def test_switch_penalties_follow_the_events() -> None:
    cues = [sc.Cue(1.0, 3.0, False), sc.Cue(4.0, 6.0, True)]
    t = np.array([0.5, 1.1, 2.0, 2.9, 3.5, 5.0])
    pen = cue_events.switch_penalties(t, cues, 1.0, inside=3.0, edge=0.2, edge_radius=0.3)
    # outside, near the start, inside, near the end, outside, inside a dash event
    assert pen.tolist() == [1.0, 0.2, 3.0, 0.2, 1.0, 1.0]
    # a per-frame penalty: a dip that one frame cannot pay for a switch inside an event, but can at its edge
    scores = np.zeros((6, 2))
    scores[:3, 0] = scores[3:, 1] = 0.5
    assert viterbi(scores, 1.0).tolist() == [0, 0, 0, 1, 1, 1]
    assert viterbi(scores, np.array([1.0, 1.0, 1.0, 3.0, 3.0, 3.0])).tolist() == [0] * 6
    assert viterbi(scores, np.array([1.0, 1.0, 1.0, 0.2, 3.0, 3.0])).tolist() == [0, 0, 0, 1, 1, 1]


@pytest.fixture(scope="module")
def episode3(tmp_path_factory):
    from anim400k.synth import make_episode

    return make_episode(tmp_path_factory.mktemp("dia_subs"), duration=30.0, seed=7, n_speakers=3, video=False,
                        voices="espeak")


def test_diarizer_with_subtitles_on_synthetic_speech(episode3) -> None:
    from anim400k.formats.subtitles import read_subtitles

    audio, sr = sf.read(episode3.out_dir / "jp_mix.wav", dtype="float32")
    ref = load_reference(episode3.truth)
    subs = read_subtitles(episode3.subtitles)
    assert len(subs) == len(ref)
    plain = get_diarizer("embedded", **OFF)
    d = get_diarizer("embedded")
    base = plain.diarize(audio, sr)
    assert d.diarize(audio, sr, subtitles=[]) == d.diarize(audio, sr)  # no events: no cue
    assert plain.diarize(audio, sr, subtitles=subs) == base  # the options off: the cues change nothing
    from anim400k.diarize import resegment

    penalties: list[np.ndarray] = []
    real = resegment.viterbi

    def spy(scores, penalty):
        penalties.append(np.broadcast_to(np.asarray(penalty, float), (len(scores),)))
        return real(scores, penalty)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(resegment, "viterbi", spy)
        hyp = d.diarize(audio, sr, subtitles=subs)
    used = np.concatenate(penalties)
    assert set(np.unique(used)) == {1.0, 2.0} and (used == 2.0).mean() > 0.3  # doubled inside the lines
    assert len({t.speaker for t in hyp}) == 3
    assert der(ref, hyp) <= der(ref, base) + 0.01
    # two overlapping lines of different speakers in one event: a dash lets the speaker change inside it
    # (the turns of no subtitles), no dash makes a change there dear (other turns)
    a, b = next((x, y) for x, y in zip(ref[:-1], ref[1:], strict=True) if x.speaker != y.speaker and y.start < x.end)
    strict = get_diarizer("embedded", subtitle_inside=10.0)
    assert strict.diarize(audio, sr, subtitles=[(a.start - 0.1, b.end + 0.3, "- Hm.\n- Yes.")]) == base
    assert strict.diarize(audio, sr, subtitles=[(a.start - 0.1, b.end + 0.3, "Hm. Yes.")]) != base
    # an event starting inside another one-speaker event (two lines on screen at once) says a second voice
    # speaks over the first: a second speaker is labelled there, and nothing without the option
    host = max((t for t in ref if not any(u is not t and u.start < t.end and u.end > t.start for u in ref)),
               key=lambda t: t.end - t.start)
    assert host.end - host.start > 1.5
    both = [*subs, (host.start + 0.6, host.start + 1.4, "Eh?")]
    inside = (host.start + 0.6, host.start + 1.0)

    def speakers_inside(turns: list) -> set:
        return {t.speaker for t in turns if min(t.end, inside[1]) - max(t.start, inside[0]) > 0.3}

    assert len(speakers_inside(d.diarize(audio, sr, subtitles=both))) == 2
    assert len(speakers_inside(get_diarizer("embedded", subtitle_overlap=None).diarize(audio, sr, subtitles=both))) == 1
    # subtitles that are wrong do not override the audio: one event over the whole episode claiming one
    # speaker, and events over silence after the end
    n = len(audio) / sr
    wrong = [(0.0, n, "everything"), (n + 1.0, n + 5.0, "nothing")]
    # (pooled fully, every window of the one event has the same vectors and pitch alone keeps the three apart: the
    # small clusters' merge across a pitch gap, small_pitch_gap_override, is off here so that pitch still can)
    pooled = get_diarizer("embedded", subtitle_pool=1.0, subtitle_link=0.3, subtitle_edge=0.5,
                          small_pitch_gap_override=None)
    turns = pooled.diarize(audio, sr, subtitles=wrong)
    assert len({t.speaker for t in turns}) == 3
    assert all(t.end <= n + 1e-6 for t in turns)
    # the anime and campplus backends take them too (the same pipeline); pyannote does not
    assert get_diarizer("embedded").uses_subtitles


@pytest.fixture(scope="module")
def close_voices():
    """Two characters with close JP voices at the same pitch (espeak ja+m3 and ja+m1 at 40), lines
    alternating: the embedded diarizer alone takes them for one speaker. Returns (audio, reference turns)."""
    from anim400k.diarize import Turn
    from anim400k.synth.phrases import PHRASES
    from anim400k.synth.speech import Voice, render

    sr = 16000
    voices = (Voice("ja+m3", 40, 150), Voice("ja+m1", 40, 150))
    rng = np.random.default_rng(5)
    jp = np.zeros(45 * sr, np.float32)
    turns, t, i = [], 0.3, 0
    while t < 40:
        who = i % 2 if rng.random() < 0.8 else 1 - i % 2
        kana, _, _ = PHRASES[int(rng.integers(len(PHRASES)))]
        a = render(kana, voices[who], sr=sr)
        k = int(t * sr)
        jp[k : k + len(a)] += a[: len(jp) - k]
        turns.append(Turn(round(t, 3), round(t + len(a) / sr, 3), f"c{who}"))
        t += len(a) / sr + float(rng.uniform(0.3, 0.7))
        i += 1
    return jp[: int((t + 0.5) * sr)], turns


def test_speaker_names_split_two_close_voices(close_voices) -> None:
    audio, ref = close_voices
    names = {"c0": "Kyon", "c1": "Itsuki"}
    plain = [(t.start - 0.1, t.end + 0.3, "Line.") for t in ref]
    named = [(t.start - 0.1, t.end + 0.3, "Line.", names[t.speaker]) for t in ref]
    d = get_diarizer("embedded")
    merged = d.diarize(audio, 16000, subtitles=plain)
    assert len({t.speaker for t in merged}) == 1  # without names: one speaker
    split = d.diarize(audio, 16000, subtitles=named)
    assert len({t.speaker for t in split}) == 2 and der(ref, split) < 0.5 * der(ref, merged)
    # generic labels are no constraint: the same as no names
    generic = [(a, b, x, "ALL" if k % 2 else "MAN #2") for k, (a, b, x, _) in enumerate(named)]
    assert d.diarize(audio, 16000, subtitles=generic) == merged
    # names switched off
    off = get_diarizer("embedded", subtitle_name_link=0.0, subtitle_name_apart=0.0, subtitle_name_min_speech=None)
    assert off.diarize(audio, 16000, subtitles=named) == merged
    # wrong names (every tenth line) and one name used for both voices in a third of the lines do not crash
    # and keep two speakers
    noisy = [(a, b, x, ("Kyon" if n == "Itsuki" else "Itsuki") if k % 10 == 0 else "Kyon" if k % 3 == 0 else n)
             for k, (a, b, x, n) in enumerate(named)]
    turns = d.diarize(audio, 16000, subtitles=noisy)
    assert len({t.speaker for t in turns}) == 2 and der(ref, turns) < der(ref, merged)


def test_dash_events_split_two_close_voices(close_voices) -> None:
    """A dash event holds two speakers in order: a cluster holding both parts of such events is cut in two
    (``subtitle_dash_split``); dashes over two lines of one voice (wrong ones) cut nothing."""
    audio, ref = close_voices

    def events(dash_if) -> list[tuple]:
        out, i = [], 0
        while i < len(ref):
            a = ref[i]
            if i + 1 < len(ref) and dash_if(i, a, ref[i + 1]):
                b = ref[i + 1]  # each dash line about 14 characters per second of its speech
                out.append((a.start - 0.1, b.end + 0.3, f"- {'a' * int(14 * (a.end - a.start))}\n"
                                                         f"- {'b' * int(14 * (b.end - b.start))}"))
                i += 2
            else:
                out.append((a.start - 0.1, a.end + 0.3, "Line."))
                i += 1
        return out

    right = events(lambda i, a, b: a.speaker != b.speaker and i % 3 == 0)  # 5 dash events
    wrong = events(lambda i, a, b: a.speaker == b.speaker)  # 7 dashes over one voice's two lines
    plain = get_diarizer("embedded")
    merged = plain.diarize(audio, 16000, subtitles=right)
    assert len({t.speaker for t in merged}) == 1  # the option off: one speaker
    d = get_diarizer("embedded", subtitle_dash_split=0.7)
    split = d.diarize(audio, 16000, subtitles=right)
    assert len({t.speaker for t in split}) == 2 and der(ref, split) < 0.25 * der(ref, merged)
    assert d.diarize(audio, 16000, subtitles=wrong) == plain.diarize(audio, 16000, subtitles=wrong)
    assert len({t.speaker for t in d.diarize(audio, 16000, subtitles=wrong)}) == 1


def test_bad_subtitle_options() -> None:
    with pytest.raises(InputError, match="subtitle_pool"):
        get_diarizer("embedded", subtitle_pool=1.5)
    with pytest.raises(InputError, match="subtitle_cover"):
        get_diarizer("embedded", subtitle_cover=0.0)
    with pytest.raises(InputError, match="subtitle_inside"):
        get_diarizer("embedded", subtitle_inside=-1.0)
    with pytest.raises(InputError, match="subtitle_name_apart"):
        get_diarizer("embedded", subtitle_name_apart=-0.1)
    with pytest.raises(InputError, match="subtitle_overlap must be > 0 s or None"):
        get_diarizer("embedded", subtitle_overlap=0.0)


def test_cli_subtitles_flag(episode3, tmp_path, capsys) -> None:
    from anim400k.cli import main
    from anim400k.formats.rttm import read_rttm

    out = tmp_path / "jp.rttm"
    assert main(["diarize", str(episode3.media), "--out", str(out), "--subtitles", str(episode3.subtitles)]) == 0
    assert len({t.speaker for t in read_rttm(out)}) == 3
    bad = tmp_path / "broken.srt"
    bad.write_text("1\n00:00:01,000 --> nonsense\nHello\n", encoding="utf-8")
    out2 = tmp_path / "x.rttm"
    capsys.readouterr()
    assert main(["diarize", str(episode3.media), "--out", str(out2), "--subtitles", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "broken.srt" in err and len(err.strip().splitlines()) == 1
    assert not out2.exists()
    missing = tmp_path / "none.srt"
    assert main(["diarize", str(episode3.media), "--out", str(out2), "--subtitles", str(missing)]) == 2
    assert "none.srt" in capsys.readouterr().err


def test_diarize_media_refuses_subtitles_for_a_backend_without_them(episode3, monkeypatch) -> None:
    from anim400k.diarize import run

    class OneTrack:
        name = "x"

        def diarize(self, audio, sr):  # pragma: no cover - refused before
            return []

    monkeypatch.setattr(run, "get_diarizer", lambda *a, **k: OneTrack())
    with pytest.raises(InputError, match="takes no subtitles"):
        run.diarize_media(episode3.media, 0, "x", subtitles=[(0.0, 1.0, "a")])


class _Recorder:
    """A diarizer that records the subtitles it is given."""

    name = "embedded"
    uses_other_track = False
    uses_subtitles = True

    def __init__(self) -> None:
        self.subtitles: object = "not given"

    def diarize(self, audio, sr, subtitles=None):
        self.subtitles = subtitles
        return []


def test_build_stage_depends_on_and_passes_the_subtitles(tmp_path, monkeypatch) -> None:
    from anim400k.dataset import stages
    from anim400k.dataset.context import EpisodeContext
    from anim400k.dataset.options import STAGE_VERSIONS

    stage = next(s for s in stages.STAGES if s.name == "diarize")
    assert "subtitles" in stage.deps and STAGE_VERSIONS["diarize"] >= 3
    events = [{"start": 1.0, "end": 2.5, "text": "- Hi.\n- Hello."},
              {"start": 3.0, "end": 4.0, "text": "Bye.", "speaker": "Kyon"}]
    (tmp_path / "subtitles.json").write_text(json.dumps({"events": events, "left_out": {}, "source": None}))
    ctx = SimpleNamespace(
        artifact=lambda name: tmp_path / name,
        read_json=lambda name: json.loads((tmp_path / name).read_text()),
        options=SimpleNamespace(asr_device="auto", diarizer="embedded", diarizer_model=None),
        ref=SimpleNamespace(key="show/1"),
    )
    ctx.subtitles = lambda: EpisodeContext.subtitles(ctx)  # the context's reader of subtitles.json
    expected = [Subtitle(1.0, 2.5, "- Hi.\n- Hello."), Subtitle(3.0, 4.0, "Bye.", "Kyon")]
    assert stages.diarization_subtitles(ctx) == expected
    assert [e.speaker for e in stages.diarization_subtitles(ctx)] == [None, "Kyon"]
    rec = _Recorder()
    monkeypatch.setattr("anim400k.diarize.get_diarizer", lambda *a, **k: rec)
    monkeypatch.setattr(stages, "diarization_audio", lambda c: np.zeros(16000, np.float32))
    stages.stage_diarize(ctx)
    assert rec.subtitles == expected and rec.subtitles[1].speaker == "Kyon"
    (tmp_path / "subtitles.json").unlink()
    assert stages.diarization_subtitles(ctx) == []


def test_dub_passes_its_subtitles(monkeypatch) -> None:
    from anim400k.dub import pipeline
    from anim400k.dub.options import DubOptions

    rec = _Recorder()
    monkeypatch.setattr("anim400k.diarize.get_diarizer", lambda *a, **k: rec)
    subs = [Subtitle(0.5, 1.5, "Hi.")]
    pipeline.find_segments(np.zeros(16000, np.float32), DubOptions(), subs)
    assert rec.subtitles == subs
    pipeline.find_segments(np.zeros(16000, np.float32), DubOptions())
    assert rec.subtitles is None


def test_bench_passes_subtitles_only_when_asked() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_diarize_real import _parse_method, methods, split_options

    assert split_options(methods()["new_subs"][0])[1] and not split_options(methods()["new"][0])[1]
    name, (opts, source) = _parse_method("x:dual:subs=1,subtitle_inside=2.0")
    assert split_options(opts) == ({"subtitle_inside": 2.0}, True) and source == "dual"
    _, (opts, _) = _parse_method("x:dual:subs=1,names=0.3")
    assert split_options(opts) == ({}, True) and opts["names"] == 0.3  # names: the benchmark's, not the diarizer's


def test_the_straddle_cluster_rule_alone_gets_the_straddle_measure(episode3, monkeypatch) -> None:
    """``straddle_cluster_seconds`` without ``straddle_seconds`` used to do nothing: the measure was not computed."""
    from anim400k.diarize.embedded import EmbeddedDiarizer
    from anim400k.formats.subtitles import read_subtitles

    audio, sr = sf.read(episode3.out_dir / "jp_mix.wav", dtype="float32")
    subs = read_subtitles(episode3.subtitles)
    seen: list = []
    cluster = EmbeddedDiarizer._cluster

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("straddled"))
        return cluster(self, *args, **kwargs)

    monkeypatch.setattr(EmbeddedDiarizer, "_cluster", spy)
    get_diarizer("embedded", straddle_cluster_seconds=None).diarize(audio, sr, subtitles=subs)
    assert seen[-1] is None  # both rules off: not computed
    get_diarizer("embedded").diarize(audio, sr, subtitles=subs)  # the cluster rule alone (the default since 2026-12-08)
    assert seen[-1] is not None and len(seen[-1]) > 0 and (seen[-1] > 0).any()
