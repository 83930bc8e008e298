"""The clip aligner against a brute-force fixpoint written straight from the paper's definition.

Definition (Anim-400K): start from every EN segment and merge, repeatedly, any EN or JP
segment whose interval overlaps the group's interval or whose nearest endpoint is at most
125 ms away, until nothing changes; groups that share segments are one clip; JP segments
that join no EN segment form no clip.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anim400k.align import align_clips, align_segments, group_segments, to_ms, to_us
from anim400k.model import Segment, Subtitle, TimeMap

SETTINGS = settings(max_examples=300, deadline=None)
LIGHT = settings(max_examples=120, deadline=None)  # variants of the main property (CI time budget)


# ------------------------------------------------------------------ reference


def near(a: tuple[int, int], b: tuple[int, int], tol: int) -> bool:
    """Intervals overlap (touching included) or their nearest endpoints are <= tol apart."""
    gap = max(b[0] - a[1], a[0] - b[1])
    return gap <= tol


def reference_groups(en: list[tuple[int, int]], jp: list[tuple[int, int]], tol: int = 125):
    """Brute-force fixpoint: list of (hull, EN member set, JP member set), sorted by hull."""
    segs = [("en", i, s) for i, s in enumerate(en)] + [("jp", j, s) for j, s in enumerate(jp)]
    groups: list[set[int]] = []
    for k, (kind, _i, seg) in enumerate(segs):
        if kind != "en":
            continue
        members = {k}
        hull = seg
        changed = True
        while changed:
            changed = False
            for m, (_kind, _j, other) in enumerate(segs):
                if m not in members and near(hull, other, tol):
                    members.add(m)
                    hull = (min(hull[0], other[0]), max(hull[1], other[1]))
                    changed = True
        groups.append(members)
    # merge groups that share segments
    merged: list[set[int]] = []
    for g in groups:
        overlapping = [m for m in merged if m & g]
        for m in overlapping:
            merged.remove(m)
            g = g | m
        merged.append(g)
    out = []
    for g in merged:
        hull = (min(segs[k][2][0] for k in g), max(segs[k][2][1] for k in g))
        out.append((hull, {segs[k][1] for k in g if segs[k][0] == "en"},
                    {segs[k][1] for k in g if segs[k][0] == "jp"}))
    return sorted(out, key=lambda x: x[0])


def groups_as_sets(g, n_en: int, n_jp: int):
    out = []
    for c in range(g.n_clips):
        out.append(((int(g.start_ms[c]), int(g.end_ms[c])),
                    {i for i in range(n_en) if g.en_group[i] == c},
                    {j for j in range(n_jp) if g.jp_group[j] == c}))
    return out


def run_arrays(en, jp, tol=125, scale=1000.0):
    def arr(xs, k):
        return np.array([x[k] for x in xs], dtype=np.float64) / scale

    return group_segments(arr(en, 0), arr(en, 1), arr(jp, 0), arr(jp, 1), tol)


# ------------------------------------------------------------------ strategies

GAPS = st.one_of(st.sampled_from([-400, -1, 0, 1, 124, 125, 126, 127, 250, 1000]), st.integers(-500, 1500))


@st.composite
def chained(draw, max_n=14):
    """Segments laid out one after another with gaps that often hit the 125/126 ms boundary,
    plus nested and zero-length ones; returns (en, jp) lists of integer-ms intervals."""
    n = draw(st.integers(0, max_n))
    t = draw(st.integers(0, 2000))
    en, jp = [], []
    for _ in range(n):
        length = draw(st.one_of(st.just(0), st.integers(0, 1500)))
        start = max(0, t + draw(GAPS))
        seg = (start, start + length)
        if draw(st.booleans()) and (en or jp):  # nested inside a previous segment
            ps, pe = draw(st.sampled_from(en + jp))
            a = draw(st.integers(ps, pe))
            seg = (a, draw(st.integers(a, pe)))
        (en if draw(st.booleans()) else jp).append(seg)
        t = max(t, seg[1])
    return en, jp


interval = st.tuples(st.integers(0, 20_000), st.integers(0, 3_000)).map(lambda x: (x[0], x[0] + x[1]))
random_sets = st.tuples(st.lists(interval, max_size=12), st.lists(interval, max_size=12))


# ------------------------------------------------------------------ properties


@SETTINGS
@given(st.one_of(chained(), random_sets))
def test_group_segments_equals_fixpoint(data):
    en, jp = data
    assert groups_as_sets(run_arrays(en, jp), len(en), len(jp)) == reference_groups(en, jp)


@LIGHT
@given(chained(), st.integers(0, 400))
def test_any_tolerance(data, tol):
    en, jp = data
    assert groups_as_sets(run_arrays(en, jp, tol), len(en), len(jp)) == reference_groups(en, jp, tol)


@LIGHT
@given(chained(), st.data())
def test_float_seconds_compare_to_the_microsecond(data, draw):
    """Times with sub-millisecond parts group as their exact microsecond values do (125 ms inclusive),
    and float noise far below a microsecond changes nothing."""
    en, jp = data
    sub_ms = st.integers(-499, 499)  # microseconds added to each integer-ms endpoint
    noise = st.floats(-1e-9, 1e-9)

    def jitter(xs):
        return [(s * 1000 + draw.draw(sub_ms), e * 1000 + draw.draw(sub_ms)) for s, e in xs]

    en_us, jp_us = jitter(en), jitter(jp)
    if any(e < s for s, e in en_us + jp_us):
        return  # jitter reversed a zero-length segment: covered by test_reversed_segments_raise

    def seconds(xs):
        return [(s / 1e6 + draw.draw(noise), e / 1e6 + draw.draw(noise)) for s, e in xs]

    got = run_arrays(seconds(en_us), seconds(jp_us), scale=1.0)
    want = reference_groups(en_us, jp_us, 125_000)
    assert [(sets[1], sets[2]) for sets in groups_as_sets(got, len(en), len(jp))] == [w[1:] for w in want]
    assert list(zip(got.start_us.tolist(), got.end_us.tolist(), strict=True)) == [w[0] for w in want]


@pytest.mark.parametrize(
    ("en_end", "jp_start", "merged"),
    [
        (1.0005, 1.1255, True),    # exactly 125.0 ms, half-millisecond endpoints
        (1.0, 1.1254, False),      # 125.4 ms
        (1.0, 1.125, True),        # 1.125 - 1.0 is 0.12499999999999999 in floats
        (0.1, 0.225, True),        # 0.225 - 0.1 is 0.125 + 1.4e-17
        (2.0015, 2.1265, True),
        (2.0015, 2.1266, False),   # 125.1 ms
        (10.000001, 10.125001, True),
        (10.0, 10.125001, False),  # 125.001 ms
    ],
)
def test_tolerance_is_exact_below_a_millisecond(en_end, jp_start, merged):
    g = group_segments(np.array([0.0]), np.array([en_end]), np.array([jp_start]), np.array([jp_start + 0.5]))
    assert g.jp_group.tolist() == ([0] if merged else [-1])
    clips = align_clips([Segment(0.0, en_end, "Hello.")], [Segment(jp_start, jp_start + 0.5, "こんにちは。")])
    assert clips[0].jp_text == ("こんにちは。" if merged else "")


def test_gap_scan_of_half_millisecond_endpoints():
    """Every gap of exactly 125.0 ms between half-ms endpoints merges; every 125.4 ms gap does not."""
    k = np.arange(0, 20000, 7)  # up to 20 s
    ends = np.array([float(f"{(2 * i + 1) / 2000:.4f}") for i in k])
    starts = np.array([float(f"{e + 0.125:.4f}") for e in ends])
    for e, s in zip(ends, starts, strict=True):
        assert group_segments(np.array([0.0]), np.array([e]), np.array([s]), np.array([s + 0.5])).jp_group[0] == 0
    for e in k / 1000:
        s = float(f"{e + 0.1254:.4f}")
        assert group_segments(np.array([0.0]), np.array([e]), np.array([s]), np.array([s + 0.5])).jp_group[0] == -1


def test_exact_tolerance_boundary():
    # 125 ms apart merges, 126 ms apart does not (float seconds included)
    g = group_segments(np.array([0.0]), np.array([1.0]), np.array([1.125]), np.array([2.0]))
    assert g.n_clips == 1 and g.jp_group.tolist() == [0]
    g = group_segments(np.array([0.0]), np.array([1.0]), np.array([1.126]), np.array([2.0]))
    assert g.n_clips == 1 and g.jp_group.tolist() == [-1] and g.unmatched_jp == 1
    # chains: EN - 125 - JP - 125 - EN is one clip
    g = group_segments(np.array([0.0, 2.25]), np.array([1.0, 3.0]), np.array([1.125]), np.array([2.125]))
    assert g.n_clips == 1 and (g.start_ms.tolist(), g.end_ms.tolist()) == ([0], [3000])
    # zero-length segments
    g = group_segments(np.array([5.0]), np.array([5.0]), np.array([5.125, 5.3]), np.array([5.125, 5.3]))
    assert g.jp_group.tolist() == [0, -1]


def test_jp_only_groups_give_no_clip():
    clips = align_clips([], [Segment(0, 1, "あ"), Segment(1.05, 2, "い")])
    assert clips == []
    clips = align_clips([Segment(10, 11, "x")], [Segment(0, 1, "あ")])
    assert len(clips) == 1 and clips[0].jp_segments == [] and clips[0].jp_text == ""


@pytest.mark.parametrize(
    ("en", "jp", "message"),
    [
        ([Segment(2.0, 1.0)], [], "EN segment 0 ends before it starts"),
        ([], [Segment(0.5, 0.2)], "JP segment 0 ends before it starts"),
        ([Segment(-1.0, 1.0)], [], "negative"),
        ([], [Segment(-0.5, 1.0)], "negative"),
        ([Segment(float("nan"), 1.0)], [], "not finite"),
        ([Segment(0.0, float("inf"))], [], "not finite"),
    ],
)
def test_reversed_negative_and_nonfinite_segments_raise(en, jp, message):
    with pytest.raises(ValueError, match=message):
        align_clips(en, jp)


def test_reversed_segments_raise_in_array_api():
    with pytest.raises(ValueError, match="EN segment 1 ends before it starts"):
        group_segments(np.array([0.0, 3.0]), np.array([1.0, 2.0]), np.zeros(0), np.zeros(0))


# ------------------------------------------------------------------ align_clips end to end

words = st.text(alphabet="abcdefgh", min_size=1, max_size=4)


@SETTINGS
@given(chained(max_n=10), st.data())
def test_align_clips_texts_subtitles_and_timemap(data, draw):
    en_ms, jp_ms = data
    tm = TimeMap(offset=draw.draw(st.sampled_from([0.0, 0.5, 1.25, 3.0])),
                 drift=draw.draw(st.sampled_from([0.0, 0.001, 0.041, -0.02])))
    # EN in the EN timeline; JP given in the JP timeline so that mapping lands on jp_ms
    en = [Segment(s / 1000, e / 1000, draw.draw(words)) for s, e in en_ms]
    jp = [Segment(float(tm.en_to_jp((s + 5000) / 1000)), float(tm.en_to_jp((e + 5000) / 1000)),
                  draw.draw(words)) for s, e in jp_ms]
    en = [Segment(s.start + 5.0, s.end + 5.0, s.text) for s in en]  # keep JP times positive
    subs = [Subtitle(a / 1000, (a + b) / 1000, f"s{k}")
            for k, (a, b) in enumerate(draw.draw(st.lists(st.tuples(st.integers(0, 30_000),
                                                                     st.integers(0, 3000)), max_size=8)))]
    clips = align_clips(en, jp, subs, jp_to_common=tm.jp_to_en, common_to_jp=tm.en_to_jp)

    en_c = [tuple(int(v) for v in to_ms([s.start, s.end])) for s in en]
    jp_c = [tuple(int(v) for v in to_ms(tm.jp_to_en(np.array([s.start, s.end])))) for s in jp]
    ref = reference_groups(en_c, jp_c)
    assert [(set(c.en_segments), set(c.jp_segments)) for c in clips] == [(r[1], r[2]) for r in ref]
    for clip, (hull, en_set, jp_set) in zip(clips, ref, strict=True):
        assert (round(clip.en_start * 1000), round(clip.en_end * 1000)) == hull
        assert clip.jp_start == pytest.approx(max(0.0, tm.en_to_jp(hull[0] / 1000)), abs=6e-4)
        assert clip.jp_end == pytest.approx(max(0.0, tm.en_to_jp(hull[1] / 1000)), abs=6e-4)
        en_order = sorted(en_set, key=lambda i: (en_c[i][0], i))
        jp_order = sorted(jp_set, key=lambda j: (jp_c[j][0], j))
        assert clip.en_segments == en_order
        assert clip.en_text == " ".join(en[i].text for i in en_order)
        assert clip.jp_text == "".join(jp[j].text for j in jp_order)
        a, b = clip.jp_start, clip.jp_end
        want = [s for s in subs if s.end > a and (s.start < b or (a == b and s.start <= a))]
        assert sorted(clip.en_subtitles, key=lambda s: (s.start, s.text)) == sorted(
            want, key=lambda s: (s.start, s.text))
        assert [s.start for s in clip.en_subtitles] == sorted(s.start for s in clip.en_subtitles)


# ------------------------------------------------------------------ clips before the JP medium's start


def test_clip_before_the_jp_medium_is_dropped_and_subtitles_match_the_true_jp_interval():
    # offset 2 s: EN 0.2-0.8 s is JP -1.8..-1.2 s, before the JP medium starts
    tm = TimeMap(offset=2.0)
    en = [Segment(0.2, 0.8, "Previously, on our show..."), Segment(3.0, 4.0, "Good morning.")]
    jp = [Segment(1.0, 2.0, "おはよう。")]
    subs = [Subtitle(0.0, 2.0, "Good morning.")]
    got = align_segments(en, jp, subs, jp_to_common=tm.jp_to_en, common_to_jp=tm.en_to_jp)
    assert got.outside_jp_medium == 1
    assert [(c.en_text, c.jp_start, c.jp_end, [s.text for s in c.en_subtitles]) for c in got.clips] == [
        ("Good morning.", 1.0, 2.0, ["Good morning."])]
    assert align_clips(en, jp, subs, jp_to_common=tm.jp_to_en, common_to_jp=tm.en_to_jp) == got.clips


def test_clip_straddling_the_jp_medium_start_is_clamped_and_keeps_its_true_subtitles():
    tm = TimeMap(offset=2.0)
    subs = [Subtitle(0.0, 0.0, "zero-length at 0"), Subtitle(0.1, 0.3, "inside"), Subtitle(0.5, 1.0, "after")]
    got = align_segments([Segment(1.5, 2.5, "Hi.")], [], subs, jp_to_common=tm.jp_to_en, common_to_jp=tm.en_to_jp)
    assert got.outside_jp_medium == 0
    [clip] = got.clips
    assert (clip.jp_start, clip.jp_end) == (0.0, 0.5)  # JP -0.5..0.5 clamped at the medium's start
    assert [s.text for s in clip.en_subtitles] == ["zero-length at 0", "inside"]
    # wholly before the start, touching it, or a zero-length clip before it: dropped, no subtitles
    for en in ([Segment(1.5, 2.0, "x")], [Segment(1.0, 1.0, "x")], [Segment(0.0, 1.999, "x")]):
        got = align_segments(en, [], subs, jp_to_common=tm.jp_to_en, common_to_jp=tm.en_to_jp)
        assert (got.clips, got.outside_jp_medium) == ([], 1)
    # a zero-length clip at the medium's start is inside it
    got = align_segments([Segment(2.0, 2.0, "x")], [], subs, jp_to_common=tm.jp_to_en, common_to_jp=tm.en_to_jp)
    assert got.outside_jp_medium == 0 and [(c.jp_start, c.jp_end) for c in got.clips] == [(0.0, 0.0)]


@SETTINGS
@given(chained(max_n=10), st.data())
def test_offset_clips_are_never_empty_from_clamping_and_match_subtitles_on_their_true_interval(data, draw):
    en_ms, jp_ms = data
    tm = TimeMap(offset=draw.draw(st.sampled_from([0.0, 0.7, 2.0, 5.0])),
                 drift=draw.draw(st.sampled_from([0.0, 0.041, -0.02])))
    en = [Segment(s / 1000, e / 1000, "e") for s, e in en_ms]
    jp = [Segment(s / 1000, e / 1000, "j") for s, e in jp_ms]  # in the JP timeline, all >= 0
    subs = [Subtitle(a / 1000, (a + b) / 1000, f"s{k}")
            for k, (a, b) in enumerate(draw.draw(st.lists(st.tuples(st.integers(0, 8000),
                                                                     st.integers(0, 3000)), max_size=8)))]
    got = align_segments(en, jp, subs, jp_to_common=tm.jp_to_en, common_to_jp=tm.en_to_jp)
    # the aligner compares in whole microseconds (a drift makes mapped JP times fall between milliseconds)
    jp_c = [tuple(int(v) for v in to_us(tm.jp_to_en(np.array([s.start, s.end])))) for s in jp]
    ref = reference_groups([(s * 1000, e * 1000) for s, e in en_ms], jp_c, tol=125_000)
    true_jp = [(round(float(tm.en_to_jp(h[0] / 1e6)), 3), round(float(tm.en_to_jp(h[1] / 1e6)), 3))
               for h, _, _ in ref]
    inside = [(a, b) for a, b in true_jp if not (a < 0 and b <= 0)]
    assert got.outside_jp_medium == len(ref) - len(inside)
    assert len(got.clips) == len(inside)
    for clip, (a, b) in zip(got.clips, inside, strict=True):
        assert (clip.jp_start, clip.jp_end) == (max(a, 0.0), b)
        assert clip.jp_end > clip.jp_start or a == b  # only a zero-length hull gives a zero-length clip
        want = [s for s in subs if s.end > a and (s.start < b or (a == b and s.start <= a))]
        assert sorted(clip.en_subtitles, key=lambda s: s.text) == sorted(want, key=lambda s: s.text)


# ------------------------------------------------------------------ the `align` command


def test_align_command(tmp_path, capsys):
    import json

    from anim400k.cli import main

    en = tmp_path / "en.json"
    en.write_text(json.dumps({"language": "en", "segments": [
        {"start": 2.0, "end": 3.0, "text": "Hello."}, {"start": 3.1, "end": 4.0, "text": "World."},
        {"start": 10.0, "end": 11.0, "text": "Alone."}]}))
    jp = tmp_path / "jp.srt"  # JP timeline = EN timeline - 1 s
    jp.write_text("1\n00:00:01,050 --> 00:00:02,900\nこんにちは\n\n2\n00:00:20,000 --> 00:00:21,000\nだれ\n")
    subs = tmp_path / "subs.srt"
    subs.write_text("1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:00:05,000 --> 00:00:06,000\nLater\n")
    out = tmp_path / "clips.json"
    rc = main(["align", "--en", str(en), "--jp", str(jp), "--subtitles", str(subs), "--offset", "1.0",
               "--out", str(out)])
    assert rc == 0
    assert "2 clips from 3 EN / 2 JP segments; 1 JP segments unmatched" in capsys.readouterr().out
    clips = json.loads(out.read_text())
    assert clips[0] == {
        "jp_text": "こんにちは", "en_text": "Hello. World.",
        "jp_start_time": "00:00:01.000", "jp_end_time": "00:00:03.000",
        "en_start_time": "00:00:02.000", "en_end_time": "00:00:04.000",
        "speakers": [], "en_subtitles": [{"start": "00:00:01.000", "end": "00:00:02.000", "text": "Hi"}],
    }
    assert clips[1]["en_text"] == "Alone." and clips[1]["jp_text"] == "" and clips[1]["en_subtitles"] == []


def test_align_command_drops_clips_before_the_jp_medium_with_a_warning(tmp_path, capsys):
    import json

    from anim400k.cli import main

    en = tmp_path / "en.json"
    en.write_text(json.dumps({"segments": [{"start": 0.2, "end": 0.8, "text": "Previously, on our show..."},
                                           {"start": 3.0, "end": 4.0, "text": "Good morning."}]}))
    jp = tmp_path / "jp.json"
    jp.write_text(json.dumps({"segments": [{"start": 1.0, "end": 2.0, "text": "おはよう。"}]}))
    subs = tmp_path / "subs.srt"
    subs.write_text("1\n00:00:00,000 --> 00:00:02,000\nGood morning.\n")
    out = tmp_path / "clips.json"
    rc = main(["align", "--en", str(en), "--jp", str(jp), "--subtitles", str(subs), "--offset", "2.0",
               "--out", str(out)])
    assert rc == 0
    captured = capsys.readouterr()
    assert "1 clips from 2 EN / 1 JP segments" in captured.out
    assert captured.err.strip() == ("warning: 1 clip(s) outside the JP medium were dropped "
                                    "(EN speech where the JP medium has no content)")
    clips = json.loads(out.read_text())
    assert [(c["en_text"], c["jp_start_time"], c["jp_end_time"], [s["text"] for s in c["en_subtitles"]])
            for c in clips] == [("Good morning.", "00:00:01.000", "00:00:02.000", ["Good morning."])]


def test_align_command_bad_input(tmp_path, capsys):
    from anim400k.cli import main

    en = tmp_path / "en.json"
    en.write_text('{"segments": [{"start": 4.0, "end": 3.2, "text": "x"}]}')
    out = tmp_path / "clips.json"
    assert main(["align", "--en", str(en), "--jp", str(en), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "en.json: segment 0: end 3.2 before start 4" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def _cut_map() -> TimeMap:
    """EN lacks JP 40-46 s (a scene cut from EN); EN starts 1 s later than JP."""
    from anim400k.model import MapPiece

    return TimeMap(1.0, 0.0, 1.0, (MapPiece(-math.inf, 40.0, 1.0), MapPiece(46.0, math.inf, -5.0)))


def _added_map() -> TimeMap:
    """6 s added to EN at JP 40 s (EN 40-46 s has no JP counterpart); drift 0.1 %."""
    from anim400k.model import MapPiece

    return TimeMap(6.0, 0.001, 1.0, (MapPiece(-math.inf, 40.0, 0.0), MapPiece(40.0, math.inf, 6.0)))


def test_piecewise_time_map_maps_each_piece_and_says_what_is_unmapped() -> None:
    import numpy as np

    from anim400k.model import MapPiece

    cut, added = _cut_map(), _added_map()
    assert cut.jp_to_en(10.0) == 11.0 and cut.jp_to_en(50.0) == 45.0
    assert cut.jp_to_en(43.0) == 41.0  # inside the cut: where the piece before ends in EN
    assert np.allclose(cut.jp_to_en(np.array([10.0, 43.0, 50.0])), [11.0, 41.0, 45.0])
    assert cut.en_to_jp(45.0) == 50.0 and cut.en_to_jp(40.9) == pytest.approx(39.9)
    assert cut.jp_gaps() == [(40.0, 46.0)] and cut.en_gaps() == []
    assert cut.jp_piece(30, 39) == 0 and cut.jp_piece(47, 60) == 1
    assert cut.jp_piece(39, 41) is None and cut.jp_piece(41, 45) is None  # across the break; inside the cut
    assert added.en_gaps() == [pytest.approx((40.04, 46.04))] and added.jp_gaps() == []
    assert added.en_to_jp(43.0) == pytest.approx(40.0)  # inside the addition: where the piece before ends in JP
    assert added.en_to_jp(added.jp_to_en(70.0)) == pytest.approx(70.0)
    assert added.en_piece(41.0, 42.0) is None and added.en_piece(47.0, 48.0) == 1
    # no pieces: today's map and today's JSON
    linear = TimeMap(1.0, 0.01, 0.9)
    assert linear.to_dict() == {"offset": 1.0, "drift": 0.01, "confidence": 0.9}
    assert linear.jp_piece(0, 1e6) == 0 and linear.jp_gaps() == [] and linear.linear() is linear
    assert TimeMap.from_dict(json.loads(json.dumps(cut.to_dict()))) == cut
    assert cut.to_dict()["pieces"][0] == {"jp_start": None, "jp_end": 40.0, "offset": 1.0}
    with pytest.raises(ValueError, match="overlap"):
        TimeMap(0.0, 0.0, 1.0, (MapPiece(-math.inf, 40.0, 0.0), MapPiece(41.0, math.inf, -6.0)))  # EN repeated
    with pytest.raises(ValueError, match="-inf"):
        TimeMap(0.0, 0.0, 1.0, (MapPiece(0.0, 40.0, 0.0), MapPiece(40.0, math.inf, 6.0)))


def test_piecewise_alignment_keeps_clips_inside_one_piece() -> None:
    from anim400k.align import align_piecewise

    tm = _cut_map()  # EN = JP + 1 s before JP 40 s, JP - 5 s after 46 s
    jp = [Segment(10.0, 12.0, "a"), Segment(38.0, 39.95, "b"), Segment(41.0, 43.0, "cut"),
          Segment(45.5, 47.0, "across"), Segment(47.0, 49.0, "c")]
    en = [Segment(11.0, 13.0, "A"), Segment(39.0, 41.02, "B"),  # ends 20 ms past the break: clipped to it
          Segment(41.1, 43.0, "C"), Segment(40.5, 41.5, "across EN")]
    res = align_piecewise(en, jp, tm)
    assert [(c.en_text, c.jp_text, c.en_start, c.en_end, c.jp_start, c.jp_end) for c in res.clips] == [
        ("A", "a", 11.0, 13.0, 10.0, 12.0), ("B", "b", 39.0, 41.0, 38.0, 40.0), ("C", "c", 41.1, 44.0, 46.1, 49.0)]
    assert [c.en_segments for c in res.clips] == [[0], [1], [2]] and res.clips[2].jp_segments == [4]
    # "across" (JP 45.5-47 s reaches into the cut) and "across EN" (EN 40.5-41.5 s across the break) are left
    # out; "cut" (JP-only) joins no clip; B and C are within the tolerance on the EN timeline: one split
    assert (res.en_unmapped, res.straddling, res.split) == (0, 2, 1)
    added = _added_map()
    en2 = [Segment(20.0, 21.0, "A"), Segment(41.0, 43.0, "added"), Segment(56.06, 57.0, "B")]
    jp2 = [Segment(20.0, 21.0, "a"), Segment(50.0, 51.0, "b")]
    res2 = align_piecewise(en2, jp2, added)
    assert [c.en_text for c in res2.clips] == ["A", "B"] and (res2.en_unmapped, res2.straddling) == (1, 0)
    assert res2.clips[1].en_segments == [2]
    # a linear map: align_segments' result
    lin = align_piecewise(en2, jp2, TimeMap())
    assert [c.en_text for c in lin.clips] == [c.en_text for c in align_segments(en2, jp2).clips]


def test_align_command_refuses_an_en_transcript_without_segments(tmp_path, capsys):
    from anim400k.cli import main

    en, jp = tmp_path / "empty.srt", tmp_path / "jp.srt"
    en.write_text("")
    jp.write_text("1\n00:00:01,000 --> 00:00:02,000\nこんにちは\n")
    out = tmp_path / "clips.json"
    assert main(["align", "--en", str(en), "--jp", str(jp), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(en) in err and "holds no EN speech segment" in err
    assert not out.exists()


@pytest.mark.parametrize("content", ["", "1\n00:09:01,000 --> 00:09:02,000\nElsewhere\n"])
def test_align_command_says_when_no_subtitle_event_overlaps_a_clip(tmp_path, capsys, content: str) -> None:
    """An empty subtitle file (or one of another episode) gave every clip ``en_subtitles: []`` without a word;
    the build warns of it, and so does ``align`` now."""
    from anim400k.cli import main

    en = tmp_path / "en.json"
    en.write_text(json.dumps({"language": "en", "segments": [{"start": 2.0, "end": 3.0, "text": "Hello."}]}))
    jp = tmp_path / "jp.srt"
    jp.write_text("1\n00:00:02,050 --> 00:00:02,900\nこんにちは\n")
    subs = tmp_path / "subs.srt"
    subs.write_text(content)
    assert main(["align", "--en", str(en), "--jp", str(jp), "--subtitles", str(subs), "--out",
                 str(tmp_path / "o.json")]) == 0
    err = capsys.readouterr().err
    assert f"warning: {subs}: no subtitle event overlaps a clip" in err
    subs.write_text("1\n00:00:02,000 --> 00:00:03,000\nHi\n")
    assert main(["align", "--en", str(en), "--jp", str(jp), "--subtitles", str(subs), "--out",
                 str(tmp_path / "o.json")]) == 0
    assert "no subtitle event" not in capsys.readouterr().err


def test_align_clips_checks_its_tolerance_and_subtitle_times() -> None:
    """The CLI refused these; the API merged identical segments apart at -2000 ms, raised bare errors on nan and
    10**30, dropped a NaN subtitle and attached an inverted one (an outside tester)."""
    import pytest

    from anim400k.align import align_clips
    from anim400k.model import Segment, Subtitle

    for bad in (-2000, float("nan"), 10**30, True):
        with pytest.raises(ValueError, match="tolerance_ms must be a number from 0 to 10000000000"):
            align_clips([Segment(0, 1, "a"), Segment(0, 1, "b")], [], tolerance_ms=bad)
    for sub in (Subtitle(0.9, 0.1, "x"), Subtitle(float("nan"), 1.0, "x")):
        with pytest.raises(ValueError, match="subtitle 0 has no valid times"):
            align_clips([Segment(0, 1, "a")], [], [sub])
    assert [c.en_subtitles for c in align_clips([Segment(0, 1, "a")], [], [Subtitle(-5, 0.5, "x")])] == [
        [Subtitle(-5, 0.5, "x")]]  # overlapping the clip: attached


def test_align_cli_says_when_a_negative_offset_clips_a_clip(tmp_path, capsys) -> None:
    """`align --offset -1.1` clamped a clip's EN start of -0.1 s to 0 without a word (the timestamp format's
    doing); it is clamped as a build clamps it, or dropped when most of it lies before the EN start, and said."""
    import json

    from anim400k.cli import main

    (tmp_path / "e.json").write_text(json.dumps({"language": "en", "segments": [
        {"start": 0, "end": 0.5, "text": "Hi."}, {"start": 3, "end": 4, "text": "Bye."}]}))
    (tmp_path / "j.json").write_text(json.dumps({"language": "ja", "segments": [
        {"start": 1.0, "end": 2.0, "text": "はい"}, {"start": 4.1, "end": 5.1, "text": "じゃ"}]}), encoding="utf-8")
    out = tmp_path / "c.json"
    assert main(["align", "--en", str(tmp_path / "e.json"), "--jp", str(tmp_path / "j.json"), "--offset", "-1.1",
                 "--out", str(out)]) == 0
    assert "1 clip(s) reaching before the EN medium's start were clipped to it" in capsys.readouterr().err
    clips = json.loads(out.read_text(encoding="utf-8"))
    assert [c["en_start_time"] for c in clips] == ["00:00:00.000", "00:00:03.000"]
