"""Statistics on a hand-made release whose answers are worked out by hand (anim400k.testing.release)."""

from __future__ import annotations

import json
import math
import os
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anim400k import release, stats
from anim400k.cli import main
from anim400k.errors import InputError
from anim400k.testing.release import make_release


@pytest.fixture(scope="module")
def rel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_release(tmp_path_factory.mktemp("rel"))


def test_sentence_and_word_rules() -> None:
    assert stats.split_sentences_jp("今日は晴れです。行こう！本当?\nうん") == [
        "今日は晴れです。",
        "行こう！",
        "本当?",
        "うん",
    ]
    # a run of marks and the closing quote after it end one sentence; marks alone are none
    assert stats.split_sentences_jp("行こう!!「待って。」え？！本当…。。") == [
        "行こう!!", "「待って。」", "え？！", "本当…。。"]
    assert stats.split_sentences_jp("「待って」と言った。\n！？") == ["「待って」と言った。"]
    assert stats.split_sentences_en('He said "Go." Then left! OK? e.g.3') == [
        'He said "Go."',
        "Then left!",
        "OK?",
        "e.g.3",
    ]
    assert stats.count_words_en("Don't stop, well-known 42 times.") == 5
    assert stats.count_words_jp("今日は晴れです。") == 4  # 今日/は/晴れ/です; 。 is punctuation
    assert stats.count_words_jp("  ") == 0


def test_sentence_and_word_rules_of_the_audit() -> None:
    """Cases an independent recount (benchmarks/check_stats_independent.py) disagreed on before the audit."""
    # 。 in half width (U+FF61) ends a sentence like 。 (the definition says "full and half width")
    assert stats.split_sentences_jp("はい｡いいえ｡") == ["はい｡", "いいえ｡"]
    # ‼ ⁇ ⁈ ⁉ are !! ?? ?! !? in one code point
    assert stats.split_sentences_jp("え‼ 本当⁉そう⁇ね⁈") == ["え‼", "本当⁉", "そう⁇", "ね⁈"]
    # … is a pause, not a sentence end; ．stays inside full-width numbers
    assert stats.split_sentences_jp("そうか…行こう") == ["そうか…行こう"]
    assert len(stats.split_sentences_jp("３．５メートル")) == 1
    # an English piece without a word is no sentence, as in Japanese (Whisper writes "♪" for music)
    assert stats.split_sentences_en("...") == [] and stats.split_sentences_en("♪ ♪") == []
    assert stats.split_sentences_en("Hi. ... ♪ Bye.") == ["Hi.", "♪ Bye."]
    assert stats.split_sentences_en("Wait... what?! Really?") == ["Wait...", "what?!", "Really?"]
    # a number with a decimal point or thousands separator is one word; other dots and commas split
    assert stats.count_words_en("It's 3.5 meters. That's 1,000 yen.") == 6
    assert stats.count_words_en("Yes,2 a.5 3.a U.S.") == 8  # Yes 2 a 5 3 a U S: a letter beside the mark splits
    assert stats.count_texts([], ["...", "♪", "3.5 1,000."]) == (0, 0, 1, 2)


def test_paper_statistics_match_hand_computation(rel: Path) -> None:
    s = stats.compute_stats(rel)
    # clip durations 2 + 4 + 1 + 3 + 1.5 + 0.5 s
    assert s["hours"] == pytest.approx(12.0 / 3600)
    assert (s["clips"], s["shows"], s["episodes"]) == (6, 3, 4)
    assert (s["single_speaker_clips"], s["multi_speaker_clips"]) == (4, 2)
    jp, en = s["languages"]["jp"], s["languages"]["en"]
    # JP: 今日は晴れです。|行こう！ (4+1 words), はい, "", はい。, いいえ, 元気
    assert (jp["sentences"], jp["words"]) == (6, 9)
    # JP words/clip and sentences/clip over the 5 clips with JP text (the empty one has no transcript)
    assert jp["clips_with_text"] == 5 and en["clips_with_text"] == 6
    assert jp["words_per_sentence"] == pytest.approx(1.5) and jp["sentences_per_clip"] == pytest.approx(6 / 5)
    assert jp["words_per_clip"] == pytest.approx(9 / 5)
    # EN: "It is sunny."|"Let's go!" (5), "Yes, well-known." (2), "Hello there." (2), OK (1), No (1), Fine (1)
    assert (en["sentences"], en["words"]) == (7, 12)
    assert en["words_per_clip"] == pytest.approx(2.0) and en["words_per_sentence"] == pytest.approx(12 / 7)
    # genres per show 3, 1, 2; themes 1, 3, 0 (population std)
    assert s["genres_per_show"]["mean"] == pytest.approx(2.0)
    assert s["genres_per_show"]["std"] == pytest.approx(math.sqrt(2 / 3))
    assert s["themes_per_show"]["mean"] == pytest.approx(4 / 3)
    assert s["themes_per_show"]["std"] == pytest.approx(math.sqrt(42 / 27))
    assert s["genre_counts"] == {"Action": 2, "Comedy": 2, "Drama": 2}
    assert s["theme_counts"]["School"] == 2
    # teaser synopses 5 and 3 words (the empty one does not count)
    assert (s["episode_synopsis_words"]["mean"], s["episode_synopsis_words"]["std"]) == (4.0, 1.0)
    # descriptions 5 and 2 words; Carol's is empty; 4 pictures
    assert s["characters"] == 3 and s["character_pictures"] == 4
    assert s["character_description_words"]["mean"] == pytest.approx(3.5)
    # polls: 10 voters / mean 5*.6+4*.4 = 4.6 and 30 voters / mean 3.0
    assert s["poll_voters"]["mean"] == pytest.approx(20.0) and s["poll_voters"]["std"] == pytest.approx(10.0)
    assert s["poll_mean_vote"]["mean"] == pytest.approx(3.8) and s["poll_mean_vote"]["std"] == pytest.approx(
        0.8
    )
    h = s["clip_duration_histogram"]
    assert sum(h["counts"]) == 6 and h["counts"][int(4.0 / h["bin_width_s"])] == 1


def test_durations_are_binned_and_summed_in_whole_milliseconds(tmp_path: Path) -> None:
    """00:00:12.931 -> 00:00:15.431 is 2.500 s: the 2.5 s bin (float seconds gave 2.4999999999999982, the 2.0 bin)."""
    assert release.timestamp_millis("00:00:15.431") - release.timestamp_millis("00:00:12.931") == 2500
    assert release.timestamp_millis("0:00:01.0265") == 1027 and release.timestamp_millis("00:00:01,5") == 1500
    assert release.timestamp_millis("00:00:75.000") is None and release.timestamp_millis(7) is None

    def clip(start: str, end: str) -> dict:
        return {"jp_clip": "a/1", "en_clip": "b/1", "jp_start_time": start, "jp_end_time": end,
                "en_start_time": start, "en_end_time": end, "jp_text": "", "en_text": "Hi.", "speakers": ["a"]}

    clips = [clip("00:00:12.931", "00:00:15.431"), clip("00:00:01.000", "00:00:03.500"),
             clip("00:00:00.100", "00:00:00.600"), clip("00:00:00.000", "00:00:30.000")]
    path = tmp_path / "ann.json"
    path.write_text(json.dumps({"x": {"show": "X", "episodes": {"1": {"clips": clips}}}}))
    s = stats.compute_stats(path, jobs=1)
    h = s["clip_duration_histogram"]
    assert {h["bin_starts_s"][i]: c for i, c in enumerate(h["counts"]) if c} == {0.5: 1, 2.5: 2, 30.0: 1}
    assert s["hours"] == (2500 + 2500 + 500 + 30000) / 3_600_000


def test_stats_command_writes_json_and_figures(
    rel: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "s.json"
    figs = tmp_path / "figs"
    assert main(["stats", str(rel), "--json", str(out), "--figures", str(figs)]) == 0
    printed = capsys.readouterr().out
    assert "JP words/sentence" in printed and "3.80 ± 0.80" in printed
    assert "hours (JP audio)" in printed  # the figure says which timeline it counts
    assert json.loads(out.read_text())["clips"] == 6
    from PIL import Image

    for name in ("genres.png", "themes.png", "clip_durations.png"):
        with Image.open(figs / name) as im:
            assert im.format == "PNG" and im.size[0] > 100


def test_stats_command_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["stats", str(tmp_path)]) == 2
    assert "no anim400k_annotations.json" in capsys.readouterr().err


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_json_object_with_no_show_is_refused_not_counted_as_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture, jobs: int
) -> None:
    # another program's JSON object (here a MUSHRA test.json's shape) is not an empty release
    other = tmp_path / "test.json"
    other.write_text(json.dumps({"format": "anim400k-mushra", "version": 1, "trials": [{"id": "t1"}]}))
    with pytest.raises(InputError, match=r"test\.json: not an Anim-400K annotations file: no entry is a "
                                                 r"show object \('format' holds a string\)"):
        stats.compute_stats(other, jobs=jobs)
    out = tmp_path / "s.json"
    assert main(["stats", str(other), "--json", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "not an Anim-400K annotations file" in captured.err
    assert "statistic" not in captured.out and not out.exists()
    # an empty release still has (all-zero) statistics
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    assert stats.compute_stats(empty, jobs=jobs)["clips"] == 0


# ------------------------------------------------------------------ fast path = definitions

JP_CHARS = ("今日は晴れですいい天気行こう本当ありがとうカタカナーアイウ。｡、！？!?‼⁉「」…・．. 　\n\t\r\u2028"
            "abcXYZ１２3🎉")
EN_CHARS = "abc XYZ don't well-known 42 3.5 .!?\"')]”’\n\t\r\x0b\x85\u2028,;♪-"


def _tagger_count(text: str) -> int:
    """The definition written with fugashi's UniDic tagger (the reference for count_words_jp)."""
    import fugashi

    if not text.strip():
        return 0
    return sum(1 for w in _TAGGER(fugashi)(text) if not w.feature_raw.startswith(("補助記号", "空白")))


def _TAGGER(fugashi, _cache={}):  # noqa: B006, N802 - one tagger per test session
    if "t" not in _cache:
        _cache["t"] = fugashi.Tagger()
    return _cache["t"]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=JP_CHARS, max_size=30))
def test_count_words_jp_equals_fugashi_unidic_tokens(text: str) -> None:
    assert stats.count_words_jp(text) == _tagger_count(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=JP_CHARS, max_size=20), max_size=5),
       st.lists(st.text(alphabet=EN_CHARS, max_size=30), max_size=5))
def test_count_texts_equals_per_text_definitions(jp: list[str], en: list[str]) -> None:
    jp, en = [t for t in jp if t], [t for t in en if t]  # add_raw_show passes non-empty texts
    assert stats.count_texts(jp, en) == (
        sum(len(stats.split_sentences_jp(t)) for t in jp),
        sum(stats.count_words_jp(t) for t in jp),
        sum(len(stats.split_sentences_en(t)) for t in en),
        sum(stats.count_words_en(t) for t in en),
    )


def _messy(seed: int = 0, n_shows: int = 5) -> dict:
    """Annotations with every kind of clip field the reader must tolerate (see release.clip_from_release)."""
    rng = random.Random(seed)
    jp_parts = ["今日は晴れです。", "行こう！", "本当?", "\n", " ", "　", "はい", "「待って」", ""]
    en_parts = ["It is sunny. ", "Let's go!", 'He said "Go." ', "well-known\n", " ", "OK?", ""]
    times = ["00:00:01.500", "00:00:04.000", "00:01:02.250", "1:02.5", "00:00:03,000", "xx", None, 7]

    def ts() -> object:
        if rng.random() < 0.2:
            return rng.choice(times)
        return f"00:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}"

    def clip() -> object:
        if rng.random() < 0.03:
            return rng.choice([3, "clip", None, ["x"]])
        c: dict = {
            "jp_text": "".join(rng.choice(jp_parts) for _ in range(rng.randint(0, 4))),
            "en_text": "".join(rng.choice(en_parts) for _ in range(rng.randint(0, 4))),
            "jp_start_time": ts(),
            "jp_end_time": ts(),
            "speakers": rng.choice([["a"], ["a", "a"], ["a", "b"], [], [1, "1"], "a,b"]),
        }
        if rng.random() < 0.1:
            c["jp_text"] = rng.choice([None, 5, ["x"]])
        if rng.random() < 0.1:
            del c["jp_end_time"]
        r = rng.random()
        if r < 0.4:
            c["multi_speaker"] = rng.random() < 0.5
        elif r < 0.5:
            c["multi_speaker"] = "yes"
        return c

    data: dict = {}
    for s in range(n_shows):
        eps = {}
        for e in range(rng.randint(0, 3)):
            ep: dict = {"clips": [clip() for _ in range(rng.randint(0, 40))],
                        "synopsis": rng.choice(["", "A day.", None])}
            if rng.random() < 0.5:
                ep["ratings"] = {str(k): {"ratio": 20.0, "number_of_voters": rng.randint(0, 9)} for k in range(1, 6)}
            eps[str(e + 1)] = ep
        eps["bad"] = "not an episode"
        data[f"show{s}"] = {"genres": ["A", "B"][: rng.randint(0, 2)], "synopsis": "Things.", "episodes": eps,
                            "characters": {"C": {"description": "Tall.", "pic_urls": ["x/y"]}}}
    data["broken"] = [1, 2]  # not a show object: ignored
    return data


def _reference(path: Path) -> dict:
    """Clip statistics from the typed records (model.Clip), text by text, in file order."""
    from anim400k.release import load

    millis, n, multi, hist = 0, 0, 0, [0] * len(stats.StatsAccumulator().duration_hist)
    js = jw = es = ew = 0
    for c in load(path).clips():
        n += 1
        if math.isfinite(c.jp_duration) and c.jp_duration >= 0:  # whole milliseconds, as the timestamps
            d = round(c.jp_end * 1000) - round(c.jp_start * 1000)
            millis += d
            hist[min(d // round(stats.DURATION_BIN_WIDTH * 1000), len(hist) - 1)] += 1
        multi += c.is_multi_speaker
        if c.jp_text:
            js += len(stats.split_sentences_jp(c.jp_text))
            jw += stats.count_words_jp(c.jp_text)
        if c.en_text:
            es += len(stats.split_sentences_en(c.en_text))
            ew += stats.count_words_en(c.en_text)
    return {"hours": millis / 3_600_000, "clips": n, "multi": multi, "hist": hist, "text": (js, jw, es, ew)}


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("messy")
    data = _messy()
    compact, spaced = root / "compact.json", root / "spaced.json"
    compact.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    # the original files' layout does not matter: any whitespace, escaped non-ASCII
    spaced.write_text("\ufeff \n" + json.dumps(data, indent=3, ensure_ascii=True) + "\n\n", encoding="utf-8")
    return compact, spaced


def test_raw_path_equals_typed_records(messy: tuple[Path, Path]) -> None:
    compact, _ = messy
    s, ref = stats.compute_stats(compact, jobs=1), _reference(compact)
    assert s["clips"] == ref["clips"] > 100
    assert s["hours"] == ref["hours"]  # the same whole milliseconds
    assert s["multi_speaker_clips"] == ref["multi"] and s["single_speaker_clips"] == ref["clips"] - ref["multi"]
    assert s["clip_duration_histogram"]["counts"] == ref["hist"]
    jp, en = s["languages"]["jp"], s["languages"]["en"]
    assert (jp["sentences"], jp["words"], en["sentences"], en["words"]) == ref["text"]
    assert s["shows"] == 5 and s["episodes"] == sum(1 for _ in release.load(compact).episodes())


def test_worker_processes_give_exactly_the_single_process_result(
    messy: tuple[Path, Path], rel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compact, spaced = messy
    single = stats.compute_stats(compact, jobs=1)
    assert stats.compute_stats(compact, jobs=3) == single  # exact, floats included
    assert stats.compute_stats(spaced, jobs=2) == single  # whitespace and escapes do not matter
    assert stats.compute_stats(rel, jobs=3) == stats.compute_stats(rel, jobs=1)
    monkeypatch.setattr(stats.accumulate, "PARALLEL_MIN_BYTES", 0)
    ds = release.load(compact)
    if len(os.sched_getaffinity(0)) > 1:
        assert stats.default_jobs(ds) > 1
    assert stats.compute_stats(ds) == single


def test_lone_surrogate_escape_does_not_stop_the_count(tmp_path: Path) -> None:
    # "\ud800" is valid JSON but not encodable text: MeCab sees U+FFFD instead
    path = tmp_path / "a.json"
    clip = '{"jp_text":"はい\\ud800いいえ","en_text":"OK.","jp_start_time":"00:00:01.000","jp_end_time":"00:00:02.000"}'
    path.write_text('{"s":{"episodes":{"1":{"clips":[' + clip + "]}}}}", encoding="utf-8")
    one, three = stats.compute_stats(path, jobs=1), stats.compute_stats(path, jobs=3)
    assert one == three and one["languages"]["jp"]["words"] == 2 and one["hours"] == pytest.approx(1 / 3600)


def test_missing_values_are_left_out_not_counted_as_zero(tmp_path: Path) -> None:
    """A show without metadata has unknown genres/themes; clips without JP text have no JP transcript."""
    ann = tmp_path / "ann.json"
    clip = {"jp_clip": "ab/ab000000-0000-0000-0000-000000000000", "en_clip": "cd/cd000000-0000-0000-0000-000000000000",
            "jp_text": "", "en_text": "Hello there. Bye.", "jp_start_time": "00:00:01.000",
            "jp_end_time": "00:00:02.000", "en_start_time": "00:00:01.000", "en_end_time": "00:00:02.000",
            "speakers": ["s1"]}
    release.write_annotations(ann, [("k", {"show": "k"}, iter([("1", {}, iter([clip]))]))])
    s = stats.compute_stats(ann, jobs=1)
    assert s["genres_per_show"] == {"count": 0, "mean": None, "std": None}
    assert s["themes_per_show"] == {"count": 0, "mean": None, "std": None}
    jp, en = s["languages"]["jp"], s["languages"]["en"]
    assert jp["clips_with_text"] == 0 and jp["words_per_clip"] is None and jp["sentences_per_clip"] is None
    assert en["clips_with_text"] == 1 and en["words_per_clip"] == 3.0 and en["sentences_per_clip"] == 2.0
    rows = dict(stats.stats_rows(s))
    assert rows["genres per show"] == "- (n=0)" and rows["themes per show"] == "- (n=0)"
    assert rows["JP words/clip"] == "- (n=0)" and rows["JP sentences/clip"] == "- (n=0)"
    assert rows["EN words/clip"] == "3.00 (n=1)"
    # a show with metadata but no themes has zero themes (the paper's themes have a std of 0.99: some have none)
    release.write_annotations(ann, [("k", {"show": "k", "genres": ["Drama"]}, iter([]))])
    s = stats.compute_stats(ann, jobs=1)
    assert s["themes_per_show"] == {"count": 1, "mean": 0.0, "std": 0.0}


@pytest.mark.parametrize("on_terminal", [True, False])
@pytest.mark.parametrize("command", ["stats", "validate"])
def test_stats_and_validate_show_a_byte_bar_on_a_terminal_only(
    rel: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, command: str, on_terminal: bool
) -> None:
    import io
    import sys

    from tqdm import tqdm

    from anim400k.testing.terminal import FakeTerminal

    err = FakeTerminal() if on_terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert main([command, str(rel)]) == 0
    shown = err.getvalue()
    if not on_terminal:
        assert shown == ""  # logs and pipes stay clean
        return
    size = (rel / "anim400k_annotations.json").stat().st_size
    total = tqdm.format_sizeof(size, divisor=1024)
    assert command in shown and f"/{total}" in shown  # the total is the annotations file's size
    if command == "validate":
        assert capsys.readouterr().out.strip().endswith(": valid")


def test_validate_problems_print_above_the_bar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import sys

    from anim400k.testing.release import annotations
    from anim400k.testing.terminal import FakeTerminal

    data = annotations()
    root = make_release(tmp_path / "rel", data)
    data["show_a"]["episodes"]["1"]["clips"][0]["jp_clip"] = "bad"
    (root / "anim400k_annotations.json").write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(sys, "stderr", FakeTerminal())
    assert main(["validate", str(root), "--no-media"]) == 1
    out = capsys.readouterr().out
    assert "bad" in out and all(line.startswith(str(root)) for line in out.splitlines())


def test_figures_never_replace_a_png_of_a_figures_name_that_stats_did_not_write(
    rel: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`stats --figures paper/` replaced the user's own `genres.png` there, after the whole pass."""
    from anim400k.stats.report import FIGURES_MARK

    figs = tmp_path / "paper"
    figs.mkdir()
    theirs = figs / "genres.png"
    theirs.write_bytes(b"the user's figure")
    passes: list[object] = []
    real = stats.compute_stats
    monkeypatch.setattr(stats, "compute_stats", lambda *a, **k: passes.append(a) or real(*a, **k))
    assert main(["stats", str(rel), "--figures", str(figs)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"anim400k: error: {theirs}: --figures: {figs} holds genres.png, which no anim400k stats wrote (no "
        f"{FIGURES_MARK} there): the figures would replace it; give --figures a folder of its own"]
    assert theirs.read_bytes() == b"the user's figure" and passes == []
    assert [p.name for p in figs.iterdir()] == ["genres.png"]
    ours = tmp_path / "figs"
    for _ in range(2):  # a new folder, then the same one again: its figures are replaced
        assert main(["stats", str(rel), "--figures", str(ours)]) == 0
        assert sorted(p.name for p in ours.iterdir()) == sorted([FIGURES_MARK, "clip_durations.png", "genres.png",
                                                                  "themes.png"])


def test_edge_case_release_agrees_with_an_independent_recount() -> None:
    """tests/data/stats_edge_annotations.json (empty and null texts and fields, ｡ ‼ ⁉ … "..." "?!" "3.5", JP
    without final marks, full-width spaces, a show without metadata, a poll without voters, an end before its
    start, lenient times) counted by benchmarks/check_stats_independent.py, which imports nothing of anim400k."""
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("check_stats_independent",
                                                  root / "benchmarks" / "check_stats_independent.py")
    assert spec is not None and spec.loader is not None
    independent = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(independent)
    path = root / "tests" / "data" / "stats_edge_annotations.json"
    mine, clips = independent.independent_stats(json.loads(path.read_text(encoding="utf-8")))
    ours = stats.compute_stats(path, jobs=1)
    rows = independent.compare(ours, mine)
    assert [r[0] for r in rows if not r[3]] == []
    # figures worked out by hand from the file, so that both counts cannot be wrong together
    assert ours["clips"] == 14 and ours["shows"] == 2 and ours["episodes"] == 3
    assert ours["hours"] * 3_600_000 == 1500 + 1250 + 1001 + 1000 * 5 + 750 + 1000 + 30_000 + 60_000
    assert (ours["single_speaker_clips"], ours["multi_speaker_clips"]) == (12, 2)
    jp, en = ours["languages"]["jp"], ours["languages"]["en"]
    # JP with text: そうか…行こう！？|「待って。」, 三・五メートルだ　本当に, はい｡|いいえ｡, え‼|本当⁉, …… (none),
    # 行こう!!|待って, 逆だ。, ゆるい時刻。, ええと、その……うん, ＡＢＣ！|１２３？
    assert (jp["clips_with_text"], jp["sentences"]) == (10, 2 + 1 + 2 + 2 + 0 + 2 + 1 + 1 + 1 + 2)
    # EN with text: Wait...|what?!|Really?, It's 3.5 meters.|That's 1,000 yen., Mr.|Smith arrived.|He sat., ♪ ♪ (none),
    # ... (none), "Go!"|she said.|(Quietly.)|Done, Backwards., Lenient time.|- Yes.|— No., Um, well...|yeah, ABC!|123?
    assert (en["clips_with_text"], en["sentences"]) == (10, 3 + 2 + 3 + 0 + 0 + 4 + 1 + 3 + 2 + 2)
    assert en["words"] == 3 + 6 + 5 + 0 + 0 + 5 + 1 + 4 + 3 + 2
    assert ours["genres_per_show"] == {"count": 1, "mean": 2.0, "std": 0.0}  # bare_show has no metadata
    assert ours["themes_per_show"] == {"count": 1, "mean": 0.0, "std": 0.0}
    assert ours["episode_synopsis_words"]["count"] == 1 and ours["episode_synopsis_words"]["mean"] == 6
    assert ours["character_description_words"] == {"count": 1, "mean": 7.0, "std": 0.0}
    assert ours["character_pictures"] == 2 and ours["characters"] == 3
    assert ours["poll_voters"]["count"] == 2 and ours["poll_voters"]["mean"] == pytest.approx((10 + 3) / 2)
    assert ours["poll_mean_vote"]["mean"] == pytest.approx((5 * 0.6 + 4 * 0.399 + 1.0) / 2)
    assert len(clips) == ours["clips"]


def test_malformed_metadata_is_not_counted(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """An outside tester's recount: a ``pic_urls`` string counted one picture per character, poll rows whose
    score is not '1'..'5' counted voters and moved the mean vote, and ``--figures`` beside a loose annotations
    JSON (not a release) was refused as 'inside the release .'."""
    ann = tmp_path / "loose.json"
    meta = {"show": "k", "characters": {"A": {"pic_urls": "43/43951cb0-0000-0000-0000-000000000000"},
                                        "B": {"pic_urls": ["ab/ab000000-0000-0000-0000-000000000000"]}}}
    polls = {"1": {"ratings": {"five": {"ratio": 50.0, "number_of_voters": 3},
                               "5": {"ratio": 100.0, "number_of_voters": 3}}},
             "2": {"ratings": {"": {"ratio": 100.0, "number_of_voters": 2}}},
             "3": {"ratings": {"6": {"ratio": 100.0, "number_of_voters": 2}}}}
    release.write_annotations(ann, [("k", meta, iter([(n, e, iter([])) for n, e in polls.items()]))])
    s = stats.compute_stats(ann, jobs=1)
    assert s["character_pictures"] == 1  # the string is no list: no picture
    assert s["poll_voters"]["count"] == 1 and s["poll_voters"]["mean"] == 3.0  # episode 1's '5' row alone
    assert s["poll_mean_vote"]["mean"] == 5.0
    problems = [str(p) for p in release.validate_release(ann, check_media=False)]
    assert "show 'k' field 'characters.A.pic_urls': expected a list of strings, got str" in problems
    assert not any("malformed ID" in p for p in problems)  # not one line per character of the string
    figures = tmp_path / "figs"
    assert main(["stats", str(ann), "--figures", str(figures)]) == 0
    assert (figures / "genres.png").is_file() or any(figures.iterdir())
    capsys.readouterr()


def test_sentence_ends_before_guillemets_and_braces() -> None:
    assert stats.textcount.split_sentences_en("Go.» Then") == ["Go.»", "Then"]
    assert stats.textcount.split_sentences_en("Go.} Then") == ["Go.}", "Then"]
