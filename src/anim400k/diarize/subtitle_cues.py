"""Speaker cues from the EN subtitles of the diarized track (issue 15).

A subtitle event is normally one line of one speaker; an event holding two speakers marks each
with a leading dash (``"- Really?\\n- Yes."``), and event boundaries are where speakers change.
The embedded diarizer (:mod:`.embedded`, ``diarize(..., subtitles=)``) uses them as soft cues,
the audio staying the authority (speech no event covers, events over silence, an interjection
merged into its neighbour's event):

- :func:`window_events`: the one-speaker event (no dash) that covers most of each window;
- :func:`pool_events`: each such window's embedding moved towards its event's mean embedding
  (a steadier, line-level vector for the clustering and the speaker count);
- :func:`event_link`: an affinity bonus for windows of the same one-speaker event;
- :func:`switch_penalties`: the re-segmentation's per-frame switch penalty, lower near an event
  boundary and higher inside a one-speaker event;
- :func:`split_by_events`: a cluster cut in two where its lines, as units, fall into two groups
  that differ in both tracks (two characters merged into one speaker);
- :func:`overlap_spans` / :func:`overlap_turns`: where an event starts inside an earlier one-speaker
  event, a second voice speaks over the first (an interjection inside another's line); where the audio's
  turns have nobody else there, the speaker whose mixture with the host fits best is added as an overlap;
- :func:`window_dash_parts` / :func:`dash_apart` / :func:`split_by_dashes` / :func:`dash_relabel`: a dash
  event holds two (or more) speakers in order: its speech is cut into parts (at the pause nearest the
  point its lines' shares of characters give), windows of two parts of one event are cannot-linked, a
  cluster holding both parts of a dash event is cut in two where the cut puts them apart, and a part the
  turns give to the speaker of the event's other part is given to the best other speaker;
- :func:`window_names` / :func:`name_constraints` / :func:`name_floor`: where the file names an event's
  speaker (an ASS Name field, an SDH label: :attr:`anim400k.model.Subtitle.speaker`), windows of one name
  are must-linked, windows of two names cannot-linked (affinity raised / lowered), and the speaker count
  is at least the number of names with enough speech. A name that stands for several people
  (:func:`speaker_key`: ``ALL``, ``BOTH``, ``MAN #2``, ``Haruhi & Kyon``, ``NARRATOR``...) is ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ..model import Turn
from . import clustering
from .views import OtherView

#: characters that open a speaker's part of a dash event
DASHES = ("-", "\u2010", "\u2013", "\u2014", "\u2212")

#: speaker names that stand for several voices or for nobody in particular (the last word of a name, its
#: numbers dropped: ``MAN #2``, ``OLD WOMAN``, ``ALL``): not a constraint. ``NARRATOR`` is one of them: the
#: narration is often a character's voice-over, and a cannot-link between it and that character's name
#: would split one voice.
GENERIC_SPEAKERS = frozenset({
    "all", "both", "everyone", "everybody", "together", "crowd", "group", "others", "other", "chorus",
    "man", "men", "woman", "women", "boy", "boys", "girl", "girls", "kid", "kids", "child", "children",
    "guy", "guys", "lady", "ladies", "person", "people", "someone", "somebody", "voice", "voices",
    "students", "unknown", "narrator", "narration", "speaker", "crowds", "audience",
})
_GROUP = re.compile(r"[&/+,]|\band\b", re.IGNORECASE)
_NUMBER = re.compile(r"#?\d+")
_ASIDE = re.compile(r"\([^()]*\)")
#: Japanese honorifics after a name (``Haruhi-chan``, ``Koizumi kun``): one character, one key
_HONORIFIC = re.compile(r"[\s-]+(?:chan|kun|san|sama|senpai|sempai|sensei|dono|tan|chin|han|kouhai|kohai)$")


def speaker_key(name: str | None) -> str | None:
    """The constraint key of a subtitle's speaker name: case, spacing and asides such as ``(V.O.)``
    dropped, and a Japanese honorific after the name (``"Haruhi"``, ``"HARUHI (O.S.)"``, ``"Haruhi-chan"`` ->
    ``"haruhi"``); None for no name, a name with no
    letter (``"???"``), a group (``&``, ``/``, ``+``, a comma, ``and``) or a generic label
    (:data:`GENERIC_SPEAKERS`)."""
    if not name:
        return None
    key = " ".join(_ASIDE.sub(" ", name).casefold().split())
    key = _HONORIFIC.sub("", key)
    if not any(c.isalpha() for c in key) or _GROUP.search(key):
        return None
    words = _NUMBER.sub(" ", key).replace("#", " ").split()
    if not words or words[-1].strip(".:") in GENERIC_SPEAKERS:
        return None
    return key


@dataclass(frozen=True)
class Cue:
    """One subtitle event as a speaker cue (seconds on the audio's timeline)."""

    start: float
    end: float
    #: the event marks two or more speakers with leading dashes (speakers may change inside)
    dash: bool
    #: the speaker the file names for the event (:func:`speaker_key`; None: unnamed, generic or a dash event)
    speaker: str | None = None
    #: a dash event: where each speaker's part after the first starts, as shares of the event's characters
    #: (:func:`dash_shares`; ``()`` for a one-speaker event)
    shares: tuple[float, ...] = ()


#: a dash that opens a speaker's part inside a line: after a sentence end and a space (the subtitle readers
#: turn an event's line breaks into spaces, so ``"- Really?\n- Yes."`` reaches the diarizer as
#: ``"- Really? - Yes."``)
_INLINE_DASH = re.compile(r"(?<=[.?!\u2026\"'\u201d\u2019)\]])\s+(?=[" + "".join(DASHES) + r"])")


def is_dash_event(text: str) -> bool:
    """Whether ``text`` (one subtitle event, lines split by newlines or ASS ``\\N``) holds two or more
    speakers marked by leading dashes: at least two dashed lines, or a dashed line after the first. A dash
    after a sentence end inside a line opens a line too (``"- Really? - Yes."``, ``"Really? - Yes."``: an
    event as :func:`anim400k.formats.subtitles.read_subtitles` gives it, line breaks made spaces)."""
    text = text.replace("\\N", "\n").replace("\\n", "\n")
    lines = [ln.strip() for ln in _INLINE_DASH.sub("\n", text).splitlines() if ln.strip()]
    dashed = [ln.startswith(DASHES) for ln in lines]
    return sum(dashed) >= 2 or any(dashed[1:])


def dash_shares(text: str) -> tuple[float, ...]:
    """Where each speaker's part after the first starts in a dash event's ``text``, as shares of its
    characters (spaces and the dashes left out): ``"- No.\\n- Yes, it is."`` -> ``(0.25,)``. A dashed line
    opens a part, a line without a dash continues the part before (a line broken in two); ``()`` when
    ``text`` is no dash event (:func:`is_dash_event`)."""
    if not is_dash_event(text):
        return ()
    text = text.replace("\\N", "\n").replace("\\n", "\n")
    lines = [ln.strip() for ln in _INLINE_DASH.sub("\n", text).splitlines() if ln.strip()]
    sizes: list[int] = []
    for k, ln in enumerate(lines):
        size = len("".join(ln.lstrip("".join(DASHES)).split()))
        if k == 0 or ln.startswith(DASHES):
            sizes.append(size)
        else:
            sizes[-1] += size
    total = sum(sizes)
    if len(sizes) < 2 or total == 0:
        return tuple((k + 1) / len(sizes) for k in range(len(sizes) - 1))
    return tuple(float(x) for x in np.cumsum(sizes)[:-1] / total)


def _fields(event: Any) -> tuple[float, float, str, str | None]:
    """``(start, end, text, speaker)`` of a ``(start, end, text)`` or ``(start, end, text, speaker)`` tuple
    or of an object with ``start``, ``end``, ``text`` and optionally ``speaker``."""
    if isinstance(event, (tuple, list)):
        start, end, text, *rest = event
        if len(rest) > 1:
            raise ValueError(f"{len(event)} fields")
        speaker = rest[0] if rest else None
    else:
        start, end, text = event.start, event.end, event.text
        speaker = getattr(event, "speaker", None)
    return float(start), float(end), str(text), None if speaker is None else str(speaker)


def cues_from_subtitles(subtitles: Iterable[Any]) -> list[Cue]:
    """The :class:`Cue` of each event, sorted by start: ``(start, end, text)`` or ``(start, end, text,
    speaker)`` tuples or subtitle objects (``start``/``end``/``text``, optional ``speaker``). Events with
    no duration are dropped, and so are events that hold no speech and name no speaker (an SDH sound
    description such as ``[DOOR SLAMS]`` or a ``♪`` lyric line: :func:`anim400k.formats.sdh.speech_text`,
    the rule the dub speaks by); a dash event's speaker and generic names are dropped (:func:`speaker_key`);
    times that are not finite, or an event that is neither, raise :class:`InputError`."""
    from ..formats.sdh import speech_text

    out = []
    for i, ev in enumerate(subtitles):
        try:
            start, end, text, speaker = _fields(ev)
        except (TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"subtitle event {i} is not (start, end, text[, speaker]): {exc}") from None
        if not (math.isfinite(start) and math.isfinite(end)):
            raise InputError(f"subtitle event {i} has a time that is not a finite number ({start}, {end})")
        if end > start and (speaker or speech_text(text)):
            dash = is_dash_event(text)
            out.append(Cue(start, end, dash, None if dash else speaker_key(speaker), dash_shares(text)))
    return sorted(out, key=lambda c: (c.start, c.end))


#: Windows compared with every event at once in :func:`window_events` (bounds its windows x events matrix:
#: a 2-hour film's ~14,000 windows and ~2,500 events were 290 MB at once).
WINDOW_BLOCK = 2048


def window_events(windows: np.ndarray, cues: list[Cue], min_cover: float = 0.6) -> np.ndarray:
    """Per window (``(n, 2)`` seconds), the index in ``cues`` of the one-speaker event covering at least
    ``min_cover`` of it (the one covering most), or -1 (no such event, or a dash event covers it most)."""
    out = np.full(len(windows), -1, dtype=int)
    if not cues or len(windows) == 0:
        return out
    starts = np.array([c.start for c in cues])
    ends = np.array([c.end for c in cues])
    dash = np.array([c.dash for c in cues])
    for a in range(0, len(windows), WINDOW_BLOCK):
        w = windows[a : a + WINDOW_BLOCK]
        cover = np.clip(np.minimum(w[:, 1:2], ends[None, :]) - np.maximum(w[:, 0:1], starts[None, :]), 0.0, None)
        best = cover.argmax(axis=1)
        length = np.maximum(w[:, 1] - w[:, 0], 1e-9)
        ok = (cover[np.arange(len(w)), best] >= min_cover * length) & ~dash[best]
        out[a : a + len(w)][ok] = best[ok]
    return out


def overlap_spans(cues: list[Cue], min_overlap: float = 0.3, max_len: float = 0.4
                  ) -> list[tuple[float, float, float]]:
    """Where the subtitles show a second voice over a line: ``(host_start, start, end)`` seconds for each
    event that starts at least ``min_overlap`` s after an earlier one-speaker event ``A`` started and at
    least ``min_overlap`` s before ``A`` ends (two events on screen at once: two lines spoken at once).
    ``start`` is that event's start, ``end`` the earliest of its end, ``A``'s end and ``start + max_len``
    (an interjection is short, and an event lingers after its line); ``host_start`` is ``A``'s start (before
    ``start``, ``A``'s speaker alone). Dash events are never ``A`` (their speakers change inside)."""
    starts = np.array([c.start for c in cues])
    ends = np.array([c.end for c in cues])
    one = ~np.array([c.dash for c in cues], dtype=bool)
    out = []
    for i, cue in enumerate(cues):
        hosts = np.nonzero(one[:i] & (cue.start - starts[:i] >= min_overlap) & (ends[:i] - cue.start >= min_overlap))[0]
        if len(hosts):
            h = int(hosts[np.argmin(starts[hosts])])
            out.append((float(starts[h]), cue.start, min(cue.end, float(ends[h]), cue.start + max_len)))
    return out


def overlap_turns(spans: list[tuple[float, float, float]], turns: list[Turn], cwin: np.ndarray,
                  ccent: np.ndarray, windows: np.ndarray, confidence_scale: float = 0.4,
                  present: float = 0.2) -> list[Turn]:
    """An overlap turn for each of :func:`overlap_spans`' spans where ``turns`` (speakers ``c<i>``, row
    ``i`` of ``ccent``) hold no second speaker: the host is the speaker covering most of ``[host_start,
    start]`` (else of the span); when another speaker already covers ``present`` s of the span, nothing is
    added. The speaker added is the ``j`` whose mixture with the host (the normalised sum of their centred
    centroids ``ccent``) best matches the centred window vectors ``cwin`` there, windows (``(n, 2)`` s)
    weighted by their time in the span; its confidence maps how far that mixture beats the host alone
    (``1 - exp(-gain / confidence_scale)``, 0 when it does not)."""
    k = len(ccent)
    out: list[Turn] = []
    if k < 2:
        return out
    for host_start, a, b in spans:
        lead, inside = _cover(turns, host_start, a), _cover(turns, a, b)
        ref = lead or inside
        if not ref:
            continue
        host = max(ref, key=ref.__getitem__)
        h = _index(host, k)
        if h is None or any(spk != host and sec >= present for spk, sec in inside.items()):
            continue
        weight = np.clip(np.minimum(windows[:, 1], b) - np.maximum(windows[:, 0], a), 0.0, None)
        idx = np.nonzero(weight > 0)[0]
        if len(idx) == 0:
            continue
        w = weight[idx] / weight[idx].sum()
        others = [j for j in range(k) if j != h]
        mixes = clustering.l2_normalize(ccent[h][None, :] + ccent[others])
        gains = w @ (cwin[idx] @ mixes.T) - float(w @ (cwin[idx] @ ccent[h]))
        best = int(np.argmax(gains))
        conf = 1.0 - math.exp(-max(float(gains[best]), 0.0) / max(confidence_scale, 1e-9))
        out.append(Turn(float(a), float(b), f"c{others[best]}", conf))
    return out


def _cover(turns: list[Turn], start: float, end: float) -> dict[str, float]:
    """Seconds of ``[start, end]`` each speaker's turns cover."""
    out: dict[str, float] = {}
    for t in turns:
        sec = min(t.end, end) - max(t.start, start)
        if sec > 0:
            out[t.speaker] = out.get(t.speaker, 0.0) + sec
    return out


def _index(speaker: str, k: int) -> int | None:
    """``i`` of a ``c<i>`` label below ``k``, else None."""
    if speaker.startswith("c") and speaker[1:].isdigit() and int(speaker[1:]) < k:
        return int(speaker[1:])
    return None


def pool_events(emb: np.ndarray, events: np.ndarray, weight: float) -> np.ndarray:
    """``emb`` with each window of a one-speaker event (``events`` >= 0, :func:`window_events`) moved
    ``weight`` of the way to the mean of its event's windows (events of one window unchanged)."""
    if weight <= 0 or not np.any(events >= 0):
        return emb
    out = np.array(emb, dtype=np.float32, copy=True)
    for e in np.unique(events[events >= 0]):
        idx = np.nonzero(events == e)[0]
        if len(idx) >= 2:
            out[idx] = (1.0 - weight) * emb[idx] + weight * emb[idx].mean(axis=0)
    return out


def event_link(events: np.ndarray, bonus: float) -> np.ndarray | None:
    """``bonus`` for each pair of windows in the same one-speaker event, 0 elsewhere (``(n, n)``;
    None when there is no such pair or ``bonus`` is 0)."""
    if bonus == 0 or not np.any(events >= 0):
        return None
    same = (events[:, None] == events[None, :]) & (events[:, None] >= 0)
    np.fill_diagonal(same, False)
    return same * bonus if same.any() else None


def switch_penalties(frame_times: np.ndarray, cues: list[Cue], base: float, inside: float, edge: float,
                     edge_radius: float) -> np.ndarray:
    """The re-segmentation's penalty for a speaker switch into each frame: ``base`` times ``edge`` within
    ``edge_radius`` s of an event's start or end, else ``base`` times ``inside`` inside a one-speaker
    event, else ``base`` (outside events and inside dash events)."""
    pen = np.full(len(frame_times), float(base))
    if len(frame_times) and cues:  # only the events within reach of these frames (the same penalties, sooner)
        reach = edge_radius + 1.0  # (a margin beyond the radius: no float rounding at the boundary matters)
        lo, hi = float(frame_times.min()) - reach, float(frame_times.max()) + reach
        cues = [c for c in cues if c.end >= lo and c.start <= hi]
    for c in cues:
        if not c.dash:
            pen[(frame_times > c.start + edge_radius) & (frame_times < c.end - edge_radius)] = base * inside
    near = np.zeros(len(frame_times), bool)
    for c in cues:
        for b in (c.start, c.end):
            near |= np.abs(frame_times - b) <= edge_radius
    pen[near] = base * edge
    return pen


def event_split_scores(emb: np.ndarray, labels: np.ndarray, events: np.ndarray, view: OtherView,
                       min_events: int = 6) -> Iterator[tuple[int, np.ndarray, np.ndarray, float, float]]:
    """The line-level split test of each cluster, largest first: ``(cluster, its window indices, the
    second half's mask over them, JP score, other-view score)``.

    The cluster's one-speaker events (``events``, at least two of its windows each; at least
    ``min_events`` of them, each half at least two) are cut in two by 2-means on their mean centred
    vectors of ``emb``; the scores are the cosines of the two halves' centred centroids, in ``emb``
    (centred over the episode's windows) and in the other view (centred over its valid windows; nan
    with fewer than 3 valid windows in a half). Windows of the cluster in no such event join the
    half whose JP centroid is nearer. One voice cut by what its lines say keeps both halves alike;
    two voices merged into one cluster give halves that differ in both tracks.
    """
    from sklearn.cluster import KMeans

    x = emb - emb.mean(axis=0)
    ov = view.emb
    mu = ov[view.valid].mean(axis=0)
    for c in np.argsort(-np.bincount(labels)):
        idx = np.nonzero(labels == c)[0]
        ev_here = events[idx]
        evs = [e for e in np.unique(ev_here[ev_here >= 0]) if (ev_here == e).sum() >= 2]
        if len(evs) < min_events:
            continue
        means = clustering.l2_normalize(np.stack([x[idx[ev_here == e]].mean(axis=0) for e in evs]))
        half = KMeans(2, n_init=5, random_state=0).fit_predict(means)
        if min(half.sum(), len(half) - half.sum()) < 2:
            continue
        second = np.isin(ev_here, [e for e, h in zip(evs, half, strict=True) if h == 1])
        first = np.isin(ev_here, [e for e, h in zip(evs, half, strict=True) if h == 0])
        ja, jb = clustering.l2_normalize(np.stack([x[idx[first]].mean(axis=0), x[idx[second]].mean(axis=0)]))
        rest = ~(first | second)
        if rest.any():
            xr = clustering.l2_normalize(x[idx[rest]])
            second[rest] = xr @ jb > xr @ ja
        a, b = idx[~second & view.valid[idx]], idx[second & view.valid[idx]]
        other = float("nan")
        if min(len(a), len(b)) >= 3:
            oa, ob = clustering.l2_normalize(np.stack([ov[a].mean(axis=0) - mu, ov[b].mean(axis=0) - mu]))
            other = float(oa @ ob)
        yield int(c), idx, second, float(ja @ jb), other


def split_by_events(emb: np.ndarray, labels: np.ndarray, events: np.ndarray, view: OtherView | None,
                    jp_max: float, other_max: float, max_speakers: int, min_events: int = 6) -> np.ndarray:
    """``labels`` with each cluster (largest first, each once) cut in two where the line-level split test
    (:func:`event_split_scores`) finds halves that differ in both tracks: JP score below ``jp_max``
    and other-view score below ``other_max``; up to ``max_speakers`` speakers. Without the other view
    (fewer than 3 valid windows) nothing is cut."""
    if view is None or view.valid.sum() < 3:
        return labels
    out = labels.copy()
    for _, idx, second, jp, other in event_split_scores(emb, labels, events, view, min_events):
        if int(out.max()) + 1 >= max_speakers:
            break
        if jp < jp_max and other < other_max:  # (nan: no other view there, no cut)
            out[idx[second]] = int(out.max()) + 1
    return out


def window_crowding(windows: np.ndarray, cues: list[Cue]) -> np.ndarray:
    """Per window (``(n, 2)`` seconds), the seconds of it during which two or more subtitle events are on
    screen at once (10 ms steps): where the subtitles show two lines together, two characters most likely
    speak at once, and a window there holds both voices."""
    out = np.zeros(len(windows))
    if len(cues) < 2 or len(windows) == 0:
        return out
    step = 0.01
    size = int(np.ceil(max(float(windows[:, 1].max()), 0.0) / step)) + 2  # only the windows' span matters
    shown = np.zeros(size, dtype=np.int32)
    for c in cues:
        a, b = int(round(min(max(c.start, 0.0), size * step) / step)), int(round(min(c.end, size * step) / step))
        if b > a:
            shown[a:b] += 1
    crowded = np.concatenate([[0.0], np.cumsum(shown >= 2)]) * step
    a = np.clip(np.round(windows[:, 0] / step).astype(int), 0, len(shown))
    b = np.clip(np.round(windows[:, 1] / step).astype(int), 0, len(shown))
    return crowded[b] - crowded[a]


def window_straddle(windows: np.ndarray, cues: list[Cue], chunk: int = 512) -> np.ndarray:
    """Per window (``(n, 2)`` seconds), the seconds of it covered by the event that covers it second most
    (0 under fewer than two events): a window over a change of line holds the end of one line and the start
    of the next, most often two characters, and sounds like neither."""
    out = np.zeros(len(windows))
    if len(cues) < 2 or len(windows) == 0:
        return out
    starts = np.array([c.start for c in cues], dtype=float)
    ends = np.array([c.end for c in cues], dtype=float)
    for i in range(0, len(windows), chunk):  # windows x events, a chunk at a time (a movie: 10k x 2k)
        w = windows[i:i + chunk]
        cover = np.clip(np.minimum(w[:, 1:2], ends[None]) - np.maximum(w[:, 0:1], starts[None]), 0.0, None)
        out[i:i + chunk] = np.partition(cover, -2, axis=1)[:, -2]
    return out


def window_names(events: np.ndarray, cues: list[Cue]) -> np.ndarray:
    """Per window, the index of its event's speaker among the cues' distinct names (in order of first
    appearance), or -1 (no one-speaker event, or an event without a usable name); ``events`` as
    :func:`window_events` gives them."""
    ids: dict[str, int] = {}
    cue_name = np.array([ids.setdefault(c.speaker, len(ids)) if c.speaker else -1 for c in cues] + [-1], dtype=int)
    return cue_name[np.where(events >= 0, events, len(cues))]


def name_constraints(names: np.ndarray, link: float, apart: float) -> np.ndarray | None:
    """The affinity change the names ask for (``(n, n)``): ``+link`` for two windows of the same name,
    ``-apart`` for two windows of different names, 0 where either has none (and on the diagonal); None
    when no two windows have names or both amounts are 0."""
    named = names >= 0
    if (link == 0 and apart == 0) or named.sum() < 2:
        return None
    both = named[:, None] & named[None, :]
    same = both & (names[:, None] == names[None, :])
    out = np.where(same, float(link), 0.0) - np.where(both & ~same, float(apart), 0.0)
    np.fill_diagonal(out, 0.0)
    return out


def name_floor(names: np.ndarray, windows: np.ndarray, min_speech: float) -> int:
    """How many names have at least ``min_speech`` s of speech under their windows (the union of the
    windows, ``(n, 2)`` seconds): the least speaker count the names ask for."""
    count = 0
    for k in np.unique(names[names >= 0]):
        spans = windows[names == k]
        spans = spans[np.argsort(spans[:, 0])]
        total, end = 0.0, -math.inf
        for a, b in spans:
            if b > end:
                total += b - max(a, end)
                end = b
        count += total >= min_speech
    return int(count)


def name_scores(names: np.ndarray, labels: np.ndarray, k: int, bonus: float) -> np.ndarray:
    """Per window and speaker (``(n, k)``): ``bonus`` for the speaker matched to the window's name, 0
    elsewhere. Names and speakers (``labels``: each window's, ``0..k-1``) are matched one to one, most
    shared windows first (the assignment that maximises them); a name matched to a speaker holding none
    of its windows gets nothing."""
    from scipy.optimize import linear_sum_assignment

    out = np.zeros((len(names), k))
    ids = np.unique(names[names >= 0])
    if ids.size == 0 or k == 0:
        return out
    counts = np.stack([np.bincount(labels[names == name], minlength=k)[:k] for name in ids])
    for row, col in zip(*linear_sum_assignment(-counts), strict=True):
        if counts[row, col] > 0:
            out[names == ids[row], col] = bonus
    return out


#: seconds a window may reach past a dash event's start (its first part) or end (its last part) and still
#: belong to that part: subtitles lead or lag their speech by a few tenths of a second
DASH_EDGE_SLACK = 0.3


def dash_bounds(cue: Cue, regions: np.ndarray) -> list[tuple[float, float]] | None:
    """The speakers' parts of a dash ``cue``, in order, as ``[(start, end), ...]`` seconds (``len(cue.shares) + 1``
    of them; the first starts at the event's start, the last ends at its end), from the speech ``regions``
    (``(m, 2)`` s, sorted) inside the event. Each boundary goes first to the point where the speech time
    before it reaches its share of the event's characters (:attr:`Cue.shares`), then to the pause between two
    regions inside the event nearest that point (the part before ends where the pause starts, the next one
    starts where it ends); with no pause left there, at the point itself. None when ``cue`` is no dash event
    or holds no speech."""
    if not cue.dash or not cue.shares:
        return None
    reg = np.asarray(regions, dtype=float).reshape(-1, 2)
    reg = np.column_stack([np.maximum(reg[:, 0], cue.start), np.minimum(reg[:, 1], cue.end)])
    reg = reg[reg[:, 1] > reg[:, 0]]
    if len(reg) == 0:
        return None
    speech = np.concatenate([[0.0], np.cumsum(reg[:, 1] - reg[:, 0])])
    pauses = [(float(a), float(b)) for a, b in zip(reg[:-1, 1], reg[1:, 0], strict=True) if b > a]
    bounds, lo = [], cue.start
    for share in cue.shares:
        target = min(max(share, 0.0), 1.0) * speech[-1]
        r = min(int(np.searchsorted(speech, target, side="right")) - 1, len(reg) - 1)
        point = float(reg[r, 0] + target - speech[r])
        free = [p for p in pauses if p[0] >= lo]
        if free:
            a, b = min(free, key=lambda p: abs(0.5 * (p[0] + p[1]) - point))
        else:
            a = b = max(point, lo)
        bounds.append((lo, a))
        lo = b
    bounds.append((lo, cue.end))
    return bounds


def window_dash_parts(windows: np.ndarray, cues: list[Cue], regions: np.ndarray, margin: float = 0.2
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per window (``(n, 2)`` s), the index in ``cues`` of the dash event it lies in and its part there
    (:func:`dash_bounds`; ``-1`` and ``-1`` for none): a window belongs to a part when it reaches at most
    ``margin`` s past the part's boundaries with the other parts (negative: it must stay that far inside), and
    at most :data:`DASH_EDGE_SLACK` s past the event's start or end. The first event that takes a window keeps it."""
    event = np.full(len(windows), -1, dtype=int)
    part = np.full(len(windows), -1, dtype=int)
    for i, cue in enumerate(cues):
        bounds = dash_bounds(cue, regions) if cue.dash else None
        if bounds is None:
            continue
        last = len(bounds) - 1
        for p, (lo, hi) in enumerate(bounds):
            lo_slack = DASH_EDGE_SLACK if p == 0 else margin
            hi_slack = DASH_EDGE_SLACK if p == last else margin
            inside = ((windows[:, 0] >= lo - lo_slack) & (windows[:, 1] <= hi + hi_slack)
                      & (np.minimum(windows[:, 1], hi) > np.maximum(windows[:, 0], lo)) & (event < 0))
            part[inside] = p
            event[inside] = i
    return event, part


def dash_apart(event: np.ndarray, part: np.ndarray, amount: float) -> np.ndarray | None:
    """``-amount`` for each pair of windows in two different parts of one dash event (two speakers), 0
    elsewhere (``(n, n)``); None when there is no such pair or ``amount`` is 0."""
    if amount == 0 or not np.any(event >= 0):
        return None
    apart = (event[:, None] == event[None, :]) & (event[:, None] >= 0) & (part[:, None] != part[None, :])
    return np.where(apart, -float(amount), 0.0) if apart.any() else None


def _dash_pairs(idx: np.ndarray, event: np.ndarray, part: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each dash event with windows of two different parts among ``idx`` (one cluster's windows), the
    positions in ``idx`` of its first such part's windows and of the next part's."""
    out = []
    ev = event[idx]
    for e in np.unique(ev[ev >= 0]):
        parts = sorted(set(part[idx[ev == e]].tolist()))
        for p, q in zip(parts[:-1], parts[1:], strict=True):
            out.append((np.nonzero((ev == e) & (part[idx] == p))[0], np.nonzero((ev == e) & (part[idx] == q))[0]))
    return out


def dash_split_cuts(emb: np.ndarray, labels: np.ndarray, event: np.ndarray, part: np.ndarray,
                    min_share: float = 0.15) -> Iterator[tuple[int, np.ndarray, np.ndarray, float, int, int]]:
    """The dash split test of each cluster holding two parts of at least one dash event, largest first:
    ``(cluster, its window indices, the second half's mask over them, the halves' cosine, dash events the
    cut puts apart, dash events it leaves together)``.

    Candidate cuts: 2-means on the cluster's centred, normalised windows of ``emb`` (centred over the
    episode), and 2-means started from the two parts of each of its dash events; the kept candidate puts
    the most events' parts apart (each part on the half holding most of its windows), then has the
    lowest cosine of the halves' centred centroids. Halves with fewer than ``min_share`` of the windows
    (or 2) are no cut."""
    from sklearn.cluster import KMeans

    centred = emb - emb.mean(axis=0)
    x = clustering.l2_normalize(centred)
    for c in np.argsort(-np.bincount(labels)):
        idx = np.nonzero(labels == c)[0]
        pairs = _dash_pairs(idx, event, part)
        if not pairs or len(idx) < 4:
            continue
        xs = x[idx]
        cuts = [KMeans(2, n_init=5, random_state=0).fit_predict(xs)]
        for a, b in pairs:
            init = clustering.l2_normalize(np.stack([xs[a].mean(axis=0), xs[b].mean(axis=0)]))
            cuts.append(KMeans(2, init=init, n_init=1, random_state=0).fit_predict(xs))
        best = None
        for half in cuts:
            second = half == 1
            if min(second.sum(), (~second).sum()) < max(2, min_share * len(idx)):
                continue
            apart = sum(int((second[a].mean() > 0.5) != (second[b].mean() > 0.5)) for a, b in pairs)
            ja, jb = clustering.l2_normalize(np.stack([centred[idx[~second]].mean(axis=0),
                                                       centred[idx[second]].mean(axis=0)]))
            key = (apart, -float(ja @ jb))
            if best is None or key > best[0]:
                best = (key, second)
        if best is not None:
            (apart, neg_cos), second = best
            yield int(c), idx, second, -neg_cos, apart, len(pairs) - apart


def split_by_dashes(emb: np.ndarray, labels: np.ndarray, event: np.ndarray, part: np.ndarray, max_cos: float,
                    max_speakers: int, min_share: float = 0.15) -> np.ndarray:
    """``labels`` with each cluster that holds two parts of a dash event (two speakers) cut in two
    (:func:`dash_split_cuts`, each cluster once, up to ``max_speakers`` speakers) where the cut puts more than
    twice as many of its dash events' parts apart as together (one voice cut in two by chance puts about as
    many either way: a dash on two lines of one speaker, a short line given to its neighbour) and its halves'
    centred centroids have a cosine below ``max_cos``."""
    out = labels.copy()
    for _, idx, second, cos, apart, together in dash_split_cuts(emb, labels, event, part, min_share):
        if int(out.max()) + 1 >= max_speakers:
            break
        if apart > 2 * together and cos < max_cos:
            out[idx[second]] = int(out.max()) + 1
    return out


def dash_relabel(turns: list[Turn], cues: list[Cue], regions: np.ndarray, windows: np.ndarray,
                 wscores: np.ndarray) -> list[Turn]:
    """``turns`` (one speaker at a time, speakers ``c<i>``, column ``i`` of ``wscores``) where two consecutive
    parts of a dash event (:func:`dash_bounds`) are mostly one speaker's: the speech of the shorter part is
    given to the other speaker whose mean window score there (windows weighted by their time in the part)
    is highest (confidence 0: the audio preferred the first). Parts with no window, or no other speaker,
    stay as they are."""
    k = wscores.shape[1]
    reg = np.asarray(regions, dtype=float).reshape(-1, 2)
    out = list(turns)
    for cue in cues:
        bounds = dash_bounds(cue, reg) if cue.dash else None
        if bounds is None or k < 2:
            continue
        spans = [[(max(a, lo), min(b, hi)) for a, b in reg if min(b, hi) > max(a, lo)] for lo, hi in bounds]
        for p in range(len(bounds) - 1):
            owners = []
            for sp in (spans[p], spans[p + 1]):
                cover: dict[str, float] = {}
                for a, b in sp:
                    for spk, sec in _cover(out, a, b).items():
                        cover[spk] = cover.get(spk, 0.0) + sec
                owners.append(max(cover, key=cover.__getitem__) if cover else None)
            if owners[0] is None or owners[0] != owners[1] or _index(owners[0], k) is None:
                continue
            size = [sum(b - a for a, b in sp) for sp in (spans[p], spans[p + 1])]
            short = spans[p] if size[0] < size[1] else spans[p + 1]
            lo, hi = short[0][0], short[-1][1]
            weight = np.clip(np.minimum(windows[:, 1], hi) - np.maximum(windows[:, 0], lo), 0.0, None)
            if not np.any(weight > 0):
                continue
            score = weight @ wscores / weight.sum()
            score[_index(owners[0], k)] = -np.inf
            who = f"c{int(np.argmax(score))}"
            out = _cut_speaker(out, owners[0], short) + [Turn(float(a), float(b), who, 0.0) for a, b in short]
    return sorted(out)


def _cut_speaker(turns: list[Turn], speaker: str, spans: list[tuple[float, float]]) -> list[Turn]:
    """``turns`` with ``speaker``'s time inside each ``(start, end)`` of ``spans`` removed."""
    out = list(turns)
    for lo, hi in spans:
        nxt: list[Turn] = []
        for t in out:
            if t.speaker != speaker or t.end <= lo or t.start >= hi:
                nxt.append(t)
                continue
            if t.start < lo:
                nxt.append(Turn(t.start, lo, t.speaker, t.confidence))
            if t.end > hi:
                nxt.append(Turn(hi, t.end, t.speaker, t.confidence))
        out = nxt
    return out
