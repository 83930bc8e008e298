"""The English normaliser used by every WER (build scores, evaluate, benchmarks)."""

from __future__ import annotations

import math

import pytest

from anim400k.textnorm import normalize_english, number_words, ordinal_words, wer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I have 3 apples & 22 oranges.", "i have three apples and twenty two oranges"),
        ("It's 10% off, $5 each!", "it is ten percent off five dollars each"),
        ("The 21st time, 1,000 times.", "the twenty first time one thousand times"),
        ("Pi is 3.14", "pi is three point one four"),
        ("Mr. Smith, OK? Twenty-two.", "mister smith okay twenty two"),
        ("\u2018Don\u2019t\u2019 go", "do not go"),
        ("Alright, I'm gonna go", "all right i am going to go"),
        # Whisper's EnglishTextNormalizer contraction rules; other apostrophes break words; fillers dropped
        ("Who's that? Let's go, we can't, I won't.", "who is that let us go we can not i will not"),
        ("She's been here, they'd gone, you'll see, we've met",
         "she has been here they had gone you will see we have met"),
        ("Rock 'n' roll at five o'clock, 'cause 'til then, um, hmm", "rock n roll at five o clock because until then"),
        ("", ""),
    ],
)
def test_normalize_english(text: str, expected: str) -> None:
    assert normalize_english(text) == expected


def test_number_and_ordinal_words() -> None:
    assert number_words(0) == "zero"
    assert number_words(115) == "one hundred fifteen"
    assert number_words(2_000_017) == "two million seventeen"
    assert number_words(1_234_567_890_123) == ("one trillion two hundred thirty four billion five hundred sixty seven "
                                               "million eight hundred ninety thousand one hundred twenty three")
    assert [ordinal_words(n) for n in (1, 2, 3, 12, 20, 100, 42)] == [
        "first", "second", "third", "twelfth", "twentieth", "one hundredth", "forty second"]


def test_wer_uses_the_normaliser() -> None:
    assert wer("I saw three cats.", "i saw 3 cats") == 0.0
    assert wer("Who is that person? I am Sakura.", "Who's that person? I'm Sakura") == 0.0
    assert wer("Don't go.", "Do not go!") == 0.0
    assert wer("one two three four", "one two") == 0.5
    # a corpus: errors summed over pairs; the words heard for an empty reference are insertions
    assert wer(["three apples", "", "go"], ["3 apples", "x", ""]) == pytest.approx(2 / 3)
    assert math.isnan(wer("...", "anything"))
    with pytest.raises(ValueError, match="2 references but 1 hypotheses"):
        wer(["a", "b"], ["a"])


def test_corpus_wer_counts_the_insertions_of_empty_references_as_jiwer() -> None:
    """Pairs whose reference normalises to nothing were left out, so whatever the hypothesis said there
    never counted: 0.0 where jiwer says 2.0."""
    import jiwer

    from anim400k.textnorm import empty_reference

    refs, hyps = ["hello world", "Hmm...", "Uh...", "three cats"], ["hello world", "la la la la", "", "3 cats sat"]
    expected = jiwer.wer([normalize_english(r) for r in refs], [normalize_english(h) for h in hyps])
    assert expected == pytest.approx(5 / 4)
    assert wer(refs, hyps) == pytest.approx(expected)
    assert wer(["hello world", "Hmm..."], ["hello world", "la la la la"]) == pytest.approx(
        jiwer.wer(["hello world", ""], ["hello world", "la la la la"])) == pytest.approx(2.0)
    assert [empty_reference(r) for r in refs] == [False, True, True, False]
    # no reference word anywhere: no rate (a single clip of a gasp stays NaN, as its per-clip WER)
    assert math.isnan(wer("Hmm...", "la la"))
    assert math.isnan(wer(["Hmm...", ""], ["la la", "x"]))


@pytest.mark.parametrize(("n", "kanji"), [(0, "〇"), (3, "三"), (10, "十"), (25, "二十五"), (110, "百十"),
                                          (1000, "千"), (2026, "二千二十六"), (20000, "二万"),
                                          (123456789, "一億二千三百四十五万六千七百八十九")])
def test_kanji_numbers(n: int, kanji: str) -> None:
    from anim400k.textnorm import kanji_number

    assert kanji_number(n) == kanji


def test_japanese_normaliser_and_cer() -> None:
    from anim400k.textnorm import cer, normalize_japanese

    # Whisper's "3時" for the script's "三時", punctuation, full-width and half-width forms
    assert normalize_japanese("駅の前で、3時に待ち合わせしよう。") == "駅の前で三時に待ち合わせしよう"
    assert normalize_japanese("ＡＢＣ１２ ｶﾀｶﾅ！？「」…") == "abc十二カタカナ"
    assert cer("駅の前で三時に", "駅の前で、3時に") == 0.0
    assert cer("はい。", "") == 1.0  # nothing heard: every character deleted (the vad baseline)
    assert cer(["今日は", "はい"], ["きょうは", ""]) == pytest.approx((3 + 2) / 5)  # corpus: summed edits
    assert math.isnan(cer("。", "x"))
    with pytest.raises(ValueError):
        cer(["a", "b"], ["a"])


def test_reading_cer_leaves_out_the_script() -> None:
    """A script in kana (the synthetic episodes') against Whisper's kanji: every kanji counted as an error
    in characters, none in readings; a misheard word still counts."""
    from anim400k.textnorm import cer, japanese_reading

    reading = "キョーワイイテンキデスネ"
    assert japanese_reading("今日はいい天気ですね。") == japanese_reading("きょうはいいてんきですね") == reading
    assert cer("きょうはいいてんきですね", "今日はいい天気ですね") > 0.3
    assert cer("きょうはいいてんきですね", "今日はいい天気ですね", reading=True) == 0.0
    assert cer("わたしのなまえはさくらです", "私の名前は桜です", reading=True) == 0.0
    assert cer("きをつけて", "火をつけて", reading=True) == pytest.approx(1 / 5)  # キヲツケテ / ヒヲツケテ
    assert cer("はい", "", reading=True) == 1.0
