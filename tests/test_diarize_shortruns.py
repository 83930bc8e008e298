"""Short speech runs re-scored on their own audio (diarize/shortruns.py, ``short_run_margin``)."""

from __future__ import annotations

import numpy as np
import pytest

from anim400k.diarize import Turn, get_diarizer
from anim400k.diarize import shortruns as sr
from anim400k.errors import InputError

SR = 16000


#: torch on one thread for the whole module (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("torch_one_thread")


def test_runs_are_stretches_between_pauses_and_turns_join_them() -> None:
    pieces = [Turn(0.0, 2.0, "c0", 0.9), Turn(2.05, 2.6, "c0", 0.8),  # 0.05 s apart: one run
              Turn(2.9, 3.5, "c0", 0.7),  # 0.3 s pause: a run of its own, same turn
              Turn(3.6, 5.0, "c1"),  # another speaker: the next turn
              Turn(7.0, 7.5, "c0"),  # c0 again, after c1: a turn of its own
              Turn(9.0, 9.6, "c1"), Turn(11.0, 13.0, "c1")]  # 1.4 s apart: two turns at chain=1
    runs = sr.speech_runs(pieces, pause=0.15, chain=1.0)
    assert [(r.start, r.end, r.speaker) for r in runs] == [
        (0.0, 2.6, "c0"), (2.9, 3.5, "c0"), (3.6, 5.0, "c1"), (7.0, 7.5, "c0"), (9.0, 9.6, "c1"), (11.0, 13.0, "c1")]
    assert runs[1].turn_speech == pytest.approx(3.2) and runs[3].turn_speech == pytest.approx(0.5)
    assert runs[4].turn_speech == pytest.approx(0.6)
    short = sr.short_runs(runs, max_len=1.2, min_len=0.25)
    assert [(r.start, r.end) for r in short] == [(2.9, 3.5)]  # not the whole of its turn
    assert [(r.start, r.end) for r in sr.short_runs(runs, 1.2, 0.25, whole=True)] == [(2.9, 3.5), (7.0, 7.5),
                                                                                         (9.0, 9.6)]
    assert [(r.start, r.end) for r in sr.short_runs(sr.speech_runs(pieces, chain=2.0), 1.2, 0.25)] == [
        (2.9, 3.5), (9.0, 9.6)]  # a longer chain joins c1's two turns
    assert sr.short_runs(runs, max_len=1.2, min_len=0.7) == []


def test_centroid_windows_are_long_confident_and_away_from_the_runs() -> None:
    windows = np.array([[0.0, 1.5], [0.5, 2.0], [1.0, 2.5], [3.0, 4.0], [4.0, 5.5], [6.0, 7.5]])
    pieces = [Turn(0.0, 2.5, "c0", 0.9), Turn(3.0, 4.0, "c0", 0.9), Turn(4.0, 5.5, "c1", 0.2),
              Turn(6.0, 7.5, "c1", 0.8)]
    run = sr.Run(2.0, 2.5, "c0", 3.5)
    who = sr.centroid_windows(windows, pieces, 2, 1.5, min_confidence=0.5, exclude=[run])
    # the window over the run is left out, the 1 s window is too short, c1's low-confidence window too
    assert who.tolist() == [0, 0, -1, -1, -1, 1]
    # a speaker with no confident window keeps the windows mostly under their turns
    who = sr.centroid_windows(windows, pieces[:3], 2, 1.5, min_confidence=0.5)
    assert who.tolist() == [0, 0, 0, -1, 1, -1]


def test_relabel_needs_a_clear_margin_and_cues_gate_it() -> None:
    runs = [sr.Run(1.0, 1.5, "c0", 3.0), sr.Run(4.0, 4.6, "c1", 2.0), sr.Run(6.0, 6.4, "c1", 2.0)]
    scores = np.array([[0.2, 0.5], [0.45, 0.4], [0.1, 0.6]])
    out = sr.relabel(runs, scores, margin=0.1, k=2)
    assert [(t.start, t.end, t.speaker) for t in out] == [(1.0, 1.5, "c1")]  # 0.3 over; 0.05 is not enough
    assert 0 < out[0].confidence < 1
    assert len(sr.relabel(runs, scores, margin=0.0, k=2)) == 2
    assert sr.relabel(runs, scores, margin=0.1, k=2, allowed=np.array([False, True, True])) == []
    # speech no turn covers: a region with no piece is a run of nobody, given its best speaker
    nobody = sr.unlabelled(np.array([[1.0, 1.5], [8.0, 8.4], [9.0, 9.1]]), [Turn(0.0, 1.2, "c0")], 0.25)
    assert nobody == [sr.Run(8.0, 8.4, "", 0.0)]  # (the first is covered, the last too short)
    assert [t.speaker for t in sr.relabel(nobody, np.array([[0.1, 0.3]]), margin=0.5, k=2)] == ["c1"]
    assert sr.near_edges(runs, np.array([1.45, 9.0]), 0.1).tolist() == [True, False, False]
    assert not sr.near_edges(runs, np.array([]), 0.1).any()
    s = sr.speaker_scores(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([8.0]),
                          np.array([9.5, 8.0]), pitch_weight=0.5)
    assert s.tolist() == [[0.5, 0.0]]  # 1.5 octaves capped at 1


def test_tiled_repeats_each_span_to_the_window_length() -> None:
    audio = np.arange(SR, dtype=np.float32)
    samples, wins = sr.tiled(audio, [(0.0, 0.25), (0.5, 1.0)], SR, 1.0, gap=0.1)
    assert wins.tolist() == [[0.0, 1.0], [1.1, 2.1]]
    first = samples[: SR]
    assert np.array_equal(first[:4000], audio[:4000]) and np.array_equal(first[4000:8000], audio[:4000])
    second = samples[int(1.1 * SR): int(2.1 * SR)]
    assert np.array_equal(second[:8000], audio[8000:]) and np.array_equal(second[8000:], audio[8000:])
    assert not samples[SR: int(1.1 * SR)].any()


@pytest.fixture(scope="module")
def two_voices():
    """Lines alternating between a low male and a high female espeak voice, 0.25 s apart, two of the
    female lines a short "ohayou" (0.6 s). Returns (audio, reference turns, indices of the short lines)."""
    from anim400k.synth.phrases import PHRASES
    from anim400k.synth.speech import Voice, render

    va, vb = Voice("ja+m3", 40, 150), Voice("ja+f2", 70, 170)
    rng = np.random.default_rng(3)
    jp = np.zeros(30 * SR, np.float32)
    turns, t = [], 0.3
    for who in "ababasabasab":
        voice, text = (vb, "\u304a\u306f\u3088\u3046") if who == "s" else (
            va if who == "a" else vb, PHRASES[int(rng.integers(len(PHRASES)))][0])
        a = render(text, voice, sr=SR)
        k = int(t * SR)
        jp[k: k + len(a)] += a
        turns.append(Turn(round(t, 3), round(t + len(a) / SR, 3), "a" if who == "a" else "b"))
        t += len(a) / SR + 0.25
    return jp[: int((t + 0.3) * SR)], turns, [i for i, w in enumerate("ababasabasab") if w == "s"]


def _speaker_at(turns: list[Turn], a: float, b: float) -> str | None:
    cover: dict[str, float] = {}
    for t in turns:
        cover[t.speaker] = cover.get(t.speaker, 0.0) + max(0.0, min(t.end, b) - max(t.start, a))
    return max(cover, key=cover.__getitem__) if cover and max(cover.values()) > 0 else None


def test_a_short_line_given_to_the_neighbour_is_given_back(two_voices, monkeypatch) -> None:
    """The re-segmentation's failure, forced: the short lines' frames given to the neighbouring speaker.
    Embedded on their own, the lines sound like the other speaker and are relabelled; without the option,
    or with a margin no score reaches, they stay the neighbour's."""
    from anim400k.diarize import embedded
    from anim400k.diarize.base import cut_turns

    audio, ref, short_idx = two_voices
    shorts = [ref[i] for i in short_idx]
    assert all(t.end - t.start < 1.0 for t in shorts)
    real = embedded.EmbeddedDiarizer._resegment

    def wrong(self, *args, **kwargs):
        pieces = real(self, *args, **kwargs)
        out = list(pieces)
        for s in shorts:  # the neighbour before the line takes its frames
            host = _speaker_at(pieces, s.start - 0.6, s.start - 0.3)
            span = Turn(s.start - 0.05, s.end + 0.05, host, 0.1)
            out = cut_turns(out, [span]) + [span]
        return out

    monkeypatch.setattr(embedded.EmbeddedDiarizer, "_resegment", wrong)
    alone = {"other_voice_far": None}  # (the F0 test of .twovoice would relabel these high lines too)
    on = get_diarizer("embedded", **alone).diarize(audio, SR)  # on by default
    off = get_diarizer("embedded", short_run_margin=None, **alone).diarize(audio, SR)
    never = get_diarizer("embedded", short_run_margin=5.0, **alone).diarize(audio, SR)
    b_label = _speaker_at(on, ref[1].start, ref[1].end)  # a long line of b
    for s in shorts:
        assert _speaker_at(off, s.start, s.end) != b_label
        assert _speaker_at(never, s.start, s.end) != b_label
        assert _speaker_at(on, s.start, s.end) == b_label
    # with subtitles and short_run_cue, only runs near an event edge may change
    far = [(0.0, 0.1, "x")]
    cued = get_diarizer("embedded", short_run_margin=0.1, short_run_cue=0.2, subtitle_inside=1.0,
                        subtitle_overlap=None, **alone)
    assert all(_speaker_at(cued.diarize(audio, SR, subtitles=far), s.start, s.end) != b_label for s in shorts)
    near = [(s.start - 0.05, s.end + 0.5, "E?") for s in shorts]
    assert all(_speaker_at(cued.diarize(audio, SR, subtitles=near), s.start, s.end) == b_label for s in shorts)


def test_bad_short_run_options_and_the_stage_version() -> None:
    from anim400k.dataset.options import STAGE_VERSIONS

    with pytest.raises(InputError, match="short_run_max"):
        get_diarizer("embedded", short_run_margin=0.1, short_run_max=0.2, short_run_min=0.25)
    assert STAGE_VERSIONS["diarize"] >= 8  # on by default: the turns and the release's clip speakers change


def test_a_speaker_with_no_centroid_window_gets_no_run() -> None:
    """A speaker whose centroid has no window (all zeros) is unknown, not a cosine of 0: a run whose own speaker
    scores below 0 stays theirs instead of going to that speaker, a run of that speaker is left alone, and speech
    of nobody goes to the best known speaker with its lead over the known runner-up."""
    cent = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])  # c2: no window
    vec = np.array([[-0.6, -0.8], [0.8, 0.6], [0.6, 0.8]])
    s = sr.speaker_scores(vec, cent)
    assert np.isneginf(s[:, 2]).all() and np.allclose(s[:, :2], vec)
    runs = [sr.Run(1.0, 1.5, "c0", 3.0), sr.Run(4.0, 4.6, "c2", 2.0), sr.Run(6.0, 6.4, "", 0.0)]
    out = sr.relabel(runs, s, margin=0.1, k=3)
    # c0's run: its own -0.6, c1 -0.8; c2's run: its own unknown; nobody's: c1 0.8 over c0 0.6
    assert [(t.start, t.speaker) for t in out] == [(6.0, "c1")]
    assert out[0].confidence == pytest.approx(1 - np.exp(-0.2 / 0.4))
    assert sr.relabel([runs[2]], np.array([[0.3, -np.inf, -np.inf]]), margin=0.1, k=3)[0].speaker == "c0"
    assert sr.relabel(runs, np.full((3, 3), -np.inf), margin=0.1, k=3) == []
