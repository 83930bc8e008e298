"""One-speaker subtitle events (:mod:`.subtitle_cues`, per window :func:`.cue_windows.window_events`) as
cues for the clustering and the re-segmentation: embeddings pooled per event, an affinity bonus for windows
of one event, switch penalties from the events' boundaries, and clusters split where their lines fall into
two groups that differ in both tracks."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from . import clustering
from .subtitle_cues import Cue
from .views import OtherView


def pool_events(emb: np.ndarray, events: np.ndarray, weight: float) -> np.ndarray:
    """``emb`` with each window of a one-speaker event (``events`` >= 0, :func:`.cue_windows.window_events`) moved
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
