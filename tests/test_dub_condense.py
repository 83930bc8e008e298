"""Condensing lines too long for their slot: the embedded rewrite rules and the pipeline's hook."""

from __future__ import annotations

import json
import re

import pytest

from anim400k.dub.condense import (
    condense_rules,
    condense_rules_trim,
    contract,
    drop_asides,
    drop_fillers,
    drop_repeats,
    get_condenser,
    spoken_length,
)
from anim400k.dub.pipeline import DubOptions, dub_audio, make_synthesizer, make_translator
from anim400k.errors import InputError
from anim400k.media import decode_audio

SR = 48000
VERBOSE = "Well, you know, I do not think that we are really going to make it, no, no, no. It is over."


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z']+", text)}


def test_contractions_keep_case_and_never_end_a_clause():
    assert contract("I do not know. It is late and you are tired.") == "I don't know. It's late and you're tired."
    assert contract("We have to go; we have seen it.") == "We have to go; we've seen it."
    assert contract("Do not go. We will not!") == "Don't go. We won't!"
    # a contracted auxiliary cannot end a clause: "Yes, it's." is not English
    assert contract("Yes, it is. I am. They are, really.") == "Yes, it is. I am. They are, really."


def test_each_rule():
    assert drop_repeats("No, no, no! I, I think so.") == "No! I think so."
    assert drop_fillers("Um, so, well, we go now, you know.") == "We go now."
    assert drop_fillers("Fine. Oh, they are here.") == "Fine. They are here."  # a new sentence start
    assert drop_fillers("It is really very hot.") == "It is hot."
    assert drop_asides("We cannot stay (not tonight) — they are near — here.").split() == [
        "We",
        "cannot",
        "stay",
        "here.",
    ]


def test_rules_stop_at_the_gentlest_rewrite_that_reaches_the_target():
    gentle = condense_rules(VERBOSE, 0.97)  # contractions are enough
    assert "don't" in gentle and "Well" in gentle and "no, no, no" in gentle
    hard = condense_rules(VERBOSE, 0.5)  # everything it may do
    assert hard == "I don't think that we're going to make it, no. It's over."
    # content words survive every rule; the text only gets shorter
    for ratio in (0.97, 0.8, 0.5, 0.1):
        out = condense_rules(VERBOSE, ratio)
        assert spoken_length(out) <= spoken_length(VERBOSE)
        assert {"think", "make", "over"} <= _words(out)
    assert condense_rules("Hello.", 0.3) == "Hello."  # nothing to take away: unchanged


def test_trim_keeps_the_leading_sentences_that_fit():
    text = "I am sorry. We have to leave right now. Nobody will wait for us."
    assert condense_rules(text, 0.4) == "I'm sorry. We have to leave right now. Nobody will wait for us."
    assert condense_rules_trim(text, 0.4) == "I'm sorry."
    assert condense_rules_trim(text, 0.75) == "I'm sorry. We have to leave right now."


def test_condenser_names():
    assert get_condenser("rules") is condense_rules
    assert get_condenser("rules+trim") is condense_rules_trim
    assert get_condenser("none") is None and get_condenser(None) is None
    assert get_condenser("textwrap:shorten") is not None
    for bad, message in (
        ("shorten", "unknown condenser"),
        ("no_such_module:f", "cannot import"),
        ("textwrap:nope", "cannot import"),
        ("textwrap:__doc__", "not callable"),
    ):
        with pytest.raises(InputError, match=message):
            get_condenser(bad)


@pytest.fixture(scope="module")
def short_episode(tmp_path_factory):
    from anim400k.synth import make_episode

    return make_episode(tmp_path_factory.mktemp("condense_ep"), duration=10.0, seed=11, n_speakers=2, voices="espeak")


def _dub_first_line(episode, tmp_path, condense: str, tts: str = "neural"):
    (tmp_path / "t.json").write_text(json.dumps({"0": VERBOSE}))
    opts = DubOptions(translator="text", translations=str(tmp_path / "t.json"), condense=condense, tts=tts)
    mix = decode_audio(episode.media, "jpn", sr=SR)
    return dub_audio(mix, SR, make_translator(opts), make_synthesizer(opts), opts).report


def test_pipeline_speaks_the_condensed_wording_and_reports_it(short_episode, tmp_path):
    plain = _dub_first_line(short_episode, tmp_path, "none").lines[0]
    condensed = _dub_first_line(short_episode, tmp_path, "rules").lines[0]
    assert plain.condensed_from is None and plain.en_text == VERBOSE
    assert plain.overflow  # far too long for its slot even at the fastest speed
    assert condensed.condensed_from == VERBOSE
    assert condensed.en_text == condense_rules(VERBOSE, 0.1)  # asked for much less than the rules can give
    assert condensed.natural_duration < plain.natural_duration
    assert abs(condensed.end_error) < abs(plain.end_error)


def test_own_hook_and_a_failing_hook(short_episode, tmp_path, monkeypatch):
    (tmp_path / "my_hooks.py").write_text(
        "calls = []\n"
        "def shorten(text, ratio):\n"
        "    calls.append(ratio)\n"
        "    return 'We lost.'\n"
        "def broken(text, ratio):\n"
        "    raise RuntimeError('model offline')\n"
        "steps = []\n"
        "def one_word_less(text, ratio):\n"
        "    steps.append(text)\n"
        "    return ' '.join(text.split()[:-1])\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import my_hooks

    line = _dub_first_line(short_episode, tmp_path, "my_hooks:shorten").lines[0]
    assert line.en_text == "We lost." and line.condensed_from == VERBOSE and line.spoken
    assert len(my_hooks.calls) == 1 and 0 < my_hooks.calls[0] < 0.5
    # a hook that shortens too little is asked again, up to three times, each time on its last wording
    # (espeak-ng: every word less is speech shorter; a neural voice may say "no. It" no longer than "no.")
    line = _dub_first_line(short_episode, tmp_path, "my_hooks:one_word_less", tts="espeak").lines[0]
    assert my_hooks.steps == [VERBOSE, " ".join(VERBOSE.split()[:-1]), " ".join(VERBOSE.split()[:-2])]
    assert line.en_text == " ".join(VERBOSE.split()[:-3]) and line.condensed_from == VERBOSE
    line = _dub_first_line(short_episode, tmp_path, "my_hooks:broken").lines[0]
    assert line.spoken and line.en_text == VERBOSE and line.condensed_from is None
    assert any("condenser failed: RuntimeError: model offline" in p for p in line.problems)


def test_cli_refuses_an_unknown_condenser_before_any_work(short_episode, tmp_path, capsys):
    from anim400k.cli import main

    out = tmp_path / "out.mkv"
    args = ["dub", str(short_episode.media), "--subtitles", str(short_episode.subtitles), "--out", str(out)]
    assert main([*args, "--condense", "shorter"]) == 2
    assert "unknown condenser 'shorter'" in capsys.readouterr().err
    assert not out.exists()
