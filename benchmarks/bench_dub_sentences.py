"""Who speaks which sentence: a dub report scored against a synthetic episode's ``truth.json``.

``python benchmarks/bench_dub_sentences.py REPORT.json TRUTH.json`` (the report of ``anim400k dub
EPISODE --report REPORT.json``, the truth of the synthetic episode it dubbed) prints:

* ``broken``: spoken lines whose text does not end at sentence punctuation (``. ? ! …``) while the
  next spoken line, of another speaker, goes on with the sentence (one voice starts it, another ends it);
* ``words_true_speaker_text``: the share of dubbed words voiced by the speaker who says them in the
  truth (each word matched to its subtitle, the subtitle to its truth line);
* ``words_true_speaker_time``: the same with each word's time (the line's words spread over its
  placed speech by length) mapped to the truth line speaking then;
* the report's timing figures (stretch, TTS speed, overflowing and cut lines, mean |end error|).

Diarized labels are mapped to truth speakers one-to-one by the time their slots share.
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import json
import re
from typing import Any

_END = re.compile(r"[.?!…。？！][\"'”’)\]」』]*$")


def _norm(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())


def speaker_map(lines: list[dict[str, Any]], truth: list[dict[str, Any]]) -> dict[str, str]:
    """Diarized label -> truth speaker, one-to-one, maximising the shared slot time."""
    labels = sorted({ln["speaker"] for ln in lines})
    speakers = sorted({t["speaker"] for t in truth})
    share = {
        (a, b): sum(
            max(0.0, min(ln["slot_end"], t["jp_end"]) - max(ln["slot_start"], t["jp_start"]))
            for ln in lines
            for t in truth
            if ln["speaker"] == a and t["speaker"] == b
        )
        for a in labels
        for b in speakers
    }
    best: tuple[float, dict[str, str]] = (-1.0, {})
    pad = speakers + [f"?{k}" for k in range(max(0, len(labels) - len(speakers)))]
    for perm in itertools.permutations(pad, len(labels)):
        score = sum(share.get((a, b), 0.0) for a, b in zip(labels, perm, strict=True))
        if score > best[0]:
            best = (score, dict(zip(labels, perm, strict=True)))
    return best[1]


def score(report: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    """The figures listed in the module docstring."""
    spoken = sorted((ln for ln in report["lines"] if ln["speech_start"] is not None), key=lambda ln: ln["speech_start"])
    mapping = speaker_map(spoken, truth["lines"])
    broken = sum(
        1
        for a, b in itertools.pairwise(spoken)
        if not _END.search(a["en_text"].strip()) and a["speaker"] != b["speaker"]
    )
    # text: the subtitle word stream (each word with its truth speaker) against the dub's word stream
    by_text = {t["subtitle"]: t["speaker"] for t in truth["lines"]}
    subs = sorted(truth["subtitles"], key=lambda s: (s["start"], s["end"]))
    ref = [(_norm(w), by_text.get(s["text"])) for s in subs for w in s["text"].split()]
    hyp = [(_norm(w), mapping[ln["speaker"]]) for ln in spoken for w in ln["en_text"].split()]
    right = 0
    matcher = difflib.SequenceMatcher(a=[w for w, _ in ref], b=[w for w, _ in hyp], autojunk=False)
    for block in matcher.get_matching_blocks():
        right += sum(ref[block.a + k][1] == hyp[block.b + k][1] for k in range(block.size))
    # time: each word at its share of the line's placed speech, the truth line speaking then
    right_t = 0
    for ln in spoken:
        words = ln["en_text"].split()
        sizes = [max(1, len(_norm(w))) for w in words]
        pos, total = 0.0, float(sum(sizes))
        for size in sizes:
            t = ln["speech_start"] + (pos + size / 2) / total * (ln["speech_end"] - ln["speech_start"])
            pos += size
            near = min(truth["lines"], key=lambda x: max(x["jp_start"] - t, t - x["jp_end"], 0.0))
            right_t += near["speaker"] == mapping[ln["speaker"]]
    stretch = [ln["stretch"] for ln in spoken]
    speed = [ln["tts_speed"] for ln in spoken]
    summary = report["summary"]
    return {
        "spoken_lines": len(spoken),
        "broken": broken,
        "words": len(hyp),
        "words_true_speaker_text": round(right / max(1, len(hyp)), 3),
        "words_true_speaker_time": round(right_t / max(1, len(hyp)), 3),
        "stretch_mean": round(sum(stretch) / max(1, len(stretch)), 3),
        "stretch_max": max(stretch, default=None),
        "tts_speed_mean": round(sum(speed) / max(1, len(speed)), 3),
        "tts_speed_max": max(speed, default=None),
        "overflowing": summary["overflowing"],
        "truncated": summary["truncated"],
        "condensed": summary["condensed"],
        "with_problems": summary["with_problems"],
        "mean_abs_end_error": round(summary["mean_abs_end_error"], 3),
        "max_abs_start_error": round(summary["max_abs_start_error"], 3),
        "speaker_map": mapping,
    }


def main() -> None:
    """Print the figures of one report as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report")
    ap.add_argument("truth")
    args = ap.parse_args()
    with open(args.report) as f, open(args.truth) as g:
        print(json.dumps(score(json.load(f), json.load(g)), indent=1))


if __name__ == "__main__":
    main()
