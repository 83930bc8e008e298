"""The dialogue of a synthetic episode: which lines, who speaks them, when (JP), and the EN lines placed and
rendered around them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .phrases import PHRASES
from .speech import SpeakerVoices, natural_ms, render
from .timeline import Timeline


@dataclass(slots=True)
class Line:
    """One planned line: speaker, phrase, kind, its rendered JP (and EN) audio and start times."""

    speaker: int
    phrase: int
    kind: str  # "first", "normal", "close" (< 125 ms after the previous), "overlap"
    jp_audio: np.ndarray
    gap_ms: int = 0  # gap before the line (close), or overlap amount (overlap)
    jp_start: int = 0  # ms, JP timeline
    en_start: int = 0  # ms, JP (common) timeline
    en_audio: np.ndarray | None = None

    @property
    def jp_ms(self) -> int:
        """Length of the JP audio in ms (at 48 kHz)."""
        return len(self.jp_audio) // 48 if self.jp_audio is not None else 0


def ms_of(x: np.ndarray, sr: int) -> int:
    """Length of ``x`` in whole milliseconds."""
    return int(len(x) * 1000 // sr)


def plan_lines(
    rng: np.random.Generator, voices: list[SpeakerVoices], lo_ms: int, hi_ms: int, target_ms: int, sr: int
) -> list[Line]:
    """Choose lines and their JP start times (ms) so JP speech covers about ``target_ms``."""
    order = list(rng.permutation(len(PHRASES)))
    lines: list[Line] = []
    union = 0
    n_spk = len(voices)
    first_speakers = [int(x) for x in rng.permutation(n_spk)]  # everyone speaks early on
    speaker = first_speakers[0]
    # guarantee at least one overlap and one close pair early, whatever the dice say
    force_overlap, force_close = int(rng.integers(2, 4)), int(rng.integers(1, 5))
    while True:
        if not order:
            order = list(rng.permutation(len(PHRASES)))
        phrase = int(order.pop())
        kind = "first" if not lines else "normal"
        u = float(rng.random())
        prev = lines[-1] if lines else None
        has = {ln.kind for ln in lines}
        if (
            prev is not None
            and n_spk > 1
            and (u < 0.12 or (len(lines) >= force_overlap and "overlap" not in has))
        ):
            kind = "overlap"
        elif prev is not None and (u < 0.3 or (len(lines) >= force_close and "close" not in has)):
            kind = "close"
        if len(lines) < n_spk:
            speaker = first_speakers[len(lines)]
            if kind == "overlap" and prev is not None and speaker == prev.speaker:
                kind = "normal"
        elif kind == "overlap" or (n_spk > 1 and rng.random() < 0.75):
            speaker = (speaker + 1 + int(rng.integers(n_spk - 1))) % n_spk if n_spk > 1 else 0
        audio = render(PHRASES[phrase][0], voices[speaker].jp, sr=sr)
        d = ms_of(audio, sr)
        line = Line(speaker, phrase, kind, audio)
        inc = d
        if kind == "overlap":
            if prev is None or prev.jp_ms < 700 or d < 700:
                line.kind = kind = "normal"
            else:
                line.gap_ms = int(rng.integers(250, min(800, prev.jp_ms // 2, d // 2) + 1))
                inc = d - line.gap_ms
        if kind == "close":
            line.gap_ms = int(rng.integers(20, 111))
        if union + inc > target_ms and (target_ms - union) < inc / 2:
            break
        lines.append(line)
        union += inc
        if union >= target_ms:
            break
    # distribute the silence: close gaps fixed, the rest (and lead/tail) random but >= min_gap
    min_gap = 350
    while lines:
        span = union + sum(ln.gap_ms for ln in lines if ln.kind == "close")
        silence = (hi_ms - lo_ms) - span
        k = sum(ln.kind in ("normal",) for ln in lines) + 2
        if silence >= min_gap * k:
            break
        lines.pop()
        union = sum(ln.jp_ms - (ln.gap_ms if ln.kind == "overlap" else 0) for ln in lines)
    if not lines:
        return []
    w = rng.gamma(1.5, 1.0, size=k) + 0.1
    gaps = min_gap + np.floor((silence - min_gap * k) * w / w.sum()).astype(int)
    gi = iter(gaps.tolist())
    frontier = lo_ms + next(gi)
    first = True
    for ln in lines:
        if first:
            ln.jp_start, first = frontier, False
        elif ln.kind == "close":
            ln.jp_start = frontier + ln.gap_ms
        elif ln.kind == "overlap":
            ln.jp_start = frontier - ln.gap_ms
        else:
            ln.jp_start = frontier + next(gi)
        frontier = max(frontier, ln.jp_start + ln.jp_ms)
    return lines


def place_en(
    rng: np.random.Generator, lines: list[Line], voices: list[SpeakerVoices], hi_ms: int, sr: int
) -> None:
    """Choose each EN line's start (common timeline, ms) and render it with a length that differs from JP."""
    en_frontier = -(10**9)
    prev_end = None
    rate: dict[str, float] = {}  # per neural voice: natural length / estimated length
    for i, ln in enumerate(lines):
        jit = int(rng.integers(-200, 201))
        start = ln.jp_start + jit
        if ln.kind == "close" and prev_end is not None:
            cand = prev_end + int(rng.integers(20, 101))
            if abs(cand - ln.jp_start) <= 300:
                start = cand
        elif ln.kind != "overlap":
            start = min(max(start, en_frontier + 150), ln.jp_start + 300)
        ln.en_start = start
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if nxt is None:
            room = hi_ms + 250 - start
        elif nxt.kind == "close":
            room = nxt.jp_start - 60 - start
        elif nxt.kind == "overlap":
            room = 10**9
        else:
            room = nxt.jp_start + 50 - start
        d = ln.jp_ms
        ratio = float(rng.uniform(0.7, 0.88)) if rng.random() < 0.45 else float(rng.uniform(1.15, 1.5))
        target = max(0.6 * d, min(ratio * d, room))
        text = PHRASES[ln.phrase][1]
        v = voices[ln.speaker].en
        est = natural_ms(text, v, sr)
        speed = v.speed_for(est * rate.get(v.name, 1.0) / max(target, 1.0))
        ln.en_audio = render(text, v, speed=speed, sr=sr)
        if v.engine == "neural":  # learn how this voice's pace differs from the estimate
            seen = ms_of(ln.en_audio, sr) * float(speed) / float(v.speed) / max(est, 1)
            rate[v.name] = 0.5 * rate.get(v.name, seen) + 0.5 * seen
        prev_end = start + ms_of(ln.en_audio, sr)
        en_frontier = max(en_frontier, prev_end)


def plan_episode(
    rng: np.random.Generator, spk_voices: list[SpeakerVoices], tl: Timeline, speech_fraction: float | None
) -> list[Line]:
    """The episode's lines, JP and EN rendered and placed (the EN medium covers ``[cover_lo, duration]``)."""
    lo_ms = int(np.ceil(max(0.0, tl.cover_lo) * 1000)) + 300
    hi_ms = int(np.floor(tl.duration * 1000)) - 300
    frac = speech_fraction if speech_fraction is not None else float(rng.uniform(0.45, 0.55))
    target_ms = int(min(frac * tl.duration * 1000, 0.8 * max(0, hi_ms - lo_ms)))
    lines = plan_lines(rng, spk_voices, lo_ms, hi_ms, target_ms, tl.sr) if hi_ms - lo_ms > 1500 else []
    place_en(rng, lines, spk_voices, hi_ms, tl.sr)
    return lines
