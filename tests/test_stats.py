"""Statistics on a hand-made release whose answers are worked out by hand (release_helpers)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from release_helpers import make_release

from anim400k import stats
from anim400k.cli import main


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
    assert stats.split_sentences_en('He said "Go." Then left! OK? e.g.3') == [
        'He said "Go."',
        "Then left!",
        "OK?",
        "e.g.3",
    ]
    assert stats.count_words_en("Don't stop, well-known 42 times.") == 5
    assert stats.count_words_jp("今日は晴れです。") == 4  # 今日/は/晴れ/です; 。 is punctuation
    assert stats.count_words_jp("  ") == 0


def test_paper_statistics_match_hand_computation(rel: Path) -> None:
    s = stats.compute_stats(rel)
    # clip durations 2 + 4 + 1 + 3 + 1.5 + 0.5 s
    assert s["hours"] == pytest.approx(12.0 / 3600)
    assert (s["clips"], s["shows"], s["episodes"]) == (6, 3, 4)
    assert (s["single_speaker_clips"], s["multi_speaker_clips"]) == (4, 2)
    jp, en = s["languages"]["jp"], s["languages"]["en"]
    # JP: 今日は晴れです。|行こう！ (4+1 words), はい, "", はい。, いいえ, 元気
    assert (jp["sentences"], jp["words"]) == (6, 9)
    assert jp["words_per_sentence"] == pytest.approx(1.5) and jp["sentences_per_clip"] == pytest.approx(1.0)
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


def test_stats_command_writes_json_and_figures(
    rel: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "s.json"
    figs = tmp_path / "figs"
    assert main(["stats", str(rel), "--json", str(out), "--figures", str(figs)]) == 0
    printed = capsys.readouterr().out
    assert "JP words/sentence" in printed and "3.80 ± 0.80" in printed
    assert json.loads(out.read_text())["clips"] == 6
    from PIL import Image

    for name in ("genres.png", "themes.png", "clip_durations.png"):
        with Image.open(figs / name) as im:
            assert im.format == "PNG" and im.size[0] > 100


def test_stats_command_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["stats", str(tmp_path)]) == 2
    assert "no anim400k_annotations.json" in capsys.readouterr().err
