"""The estimators: :func:`analyze_sync` (long and short media paths) and :func:`estimate_sync`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from ..model import TimeMap
from ..signal import to_mono
from .checks import SAME_AUDIO_REASON, same_audio_fraction
from .coarse_gcc import gcc_coarse
from .features import band_features, coarse_matches
from .gcc import gcc_phat_score
from .line import ransac_line, second_line
from .params import (
    COARSE_TOLERANCE,
    COHERENCE_HIGH,
    DRIFT_SCAN_SPAN,
    DRIFT_SCAN_STEPS,
    EDIT_CONFIDENCE,
    EDIT_MIN_FRACTION,
    EDIT_MIN_SHIFT,
    EDIT_MIN_WINDOWS,
    FINE_LOW_RATE,
    FINE_WINDOW,
    LONG_COHERENCE_SECONDS,
    LONG_FINE_AGREEMENT,
    MIN_CONFIDENCE,
    PHAT_PRECISE_PSR,
    PHAT_SEARCH_S,
    SAME_AUDIO_FRACTION,
    SHORT_FALLBACK_SECONDS,
    SHORT_MEDIA_SECONDS,
    STRETCH_FINE_SCATTER,
    STRETCH_MIN_DRIFT,
    STRETCH_TOLERANCE,
    UNMATCHED_MIN_MATCHES,
    UNMATCHED_SHARE,
    VOTE_SLOPE_TOLERANCE,
    WINDOWS_AGREE,
)
from .pieces import piecewise_result
from .refine import fine_passes
from .result import (
    SyncResult,
    coherence_confidence,
    failed_result,
    fine_agreement,
    longest_unmatched,
    window_confidence,
)
from .rival import rival_coherence
from .stretch import fine_scatter, stretch_confidence, stretch_line
from .vote import coherence_index, coherence_parts, edited_part, gcc_vote, phat_offset

log = logging.getLogger(__name__)


def estimate_sync(jp_audio: np.ndarray, en_audio: np.ndarray, sr: int, **options: Any) -> TimeMap:
    """Estimate the JP→EN :class:`TimeMap`; falls back to the identity (with a warning) when unsure.

    ``options`` go to :func:`analyze_sync`. The returned map's ``confidence`` is the
    estimator's confidence either way.
    """
    result = analyze_sync(jp_audio, en_audio, sr, **options)
    if not result.reliable:
        log.warning(
            "sync confidence %.2f < %.2f (%s): using zero offset and no drift",
            result.confidence,
            MIN_CONFIDENCE,
            result.reason or "the tracks do not appear to share a stem",
        )
    return result.usable_time_map()


def analyze_sync(
    jp_audio: np.ndarray,
    en_audio: np.ndarray,
    sr: int,
    *,
    max_offset: float = 30.0,
    max_drift: float = 0.05,
    window: float = 20.0,
    max_windows: int = 24,
    refine: bool = True,
) -> SyncResult:
    """Estimate offset and drift between two mixes sharing a stem, with diagnostics.

    ``jp_audio``/``en_audio``: float arrays at ``sr`` Hz, mono ``(n,)`` or multichannel
    ``(channels, n)`` (averaged to mono). ``max_offset`` (s) and ``max_drift`` (relative)
    bound the search. Never raises on silent or very short tracks: it returns a result
    with confidence 0 and a ``reason``.

    Two verdicts override the scores: an EN track that repeats the JP audio itself
    (:func:`~anim400k.sync.checks.same_audio_fraction`; ``same_audio``, confidence 0) and, on the
    long path, windows that agree on two different offsets (``edit``: a scene cut from or
    added to EN): a piecewise ``time_map`` with a confidence of its own when the change is located
    and each side refines on its own (:func:`~.pieces.piecewise_result`), else a confidence below
    :data:`MIN_CONFIDENCE`.
    """
    jp = to_mono(jp_audio)
    en = to_mono(en_audio)
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sr}")
    result = _vouch_coverage(_analyze(jp, en, sr, max_offset, max_drift, window, max_windows, refine), jp.size / sr)
    if result.n_windows and result.confidence > 0.0:
        same = same_audio_fraction(jp, en, sr, result.offset, 1.0 + result.drift)
        if same >= SAME_AUDIO_FRACTION:
            result.confidence = 0.0
            result.time_map = TimeMap(result.offset, result.drift, 0.0)
            result.same_audio = True
            result.reason = (
                f"{SAME_AUDIO_REASON} ({same:.0%} of its 1 s pieces repeat JP's at offset "
                f"{result.offset * 1000:+.1f} ms; a dub repeats only its dialogue-free ones)"
            )
    return result


def _vouch_coverage(result: SyncResult, dur_j: float) -> SyncResult:
    """``result`` made unreliable when its sample-precise matches agree only around a long stretch of the JP
    track where every one of them is off the line (:data:`UNMATCHED_MIN_MATCHES` matches over
    :data:`UNMATCHED_SHARE` of it): the tracks share the stem only there and here (another episode with the same
    opening and ending music was synced at confidence 1.00). An edit's pieces and a map that is not
    sample-precise have their own checks."""
    if not result.reliable or result.edit is not None or result.time_map.precision_ms is not None or dur_j <= 0:
        return result
    lo, hi, n = longest_unmatched(result.fine)
    if n < UNMATCHED_MIN_MATCHES or hi - lo < UNMATCHED_SHARE * dur_j:
        return result
    result.confidence = round(EDIT_CONFIDENCE * result.confidence, 4)
    result.time_map = TimeMap(result.offset, result.drift, result.confidence)
    result.reason = (
        f"the sample-precise matches agree only outside JP {lo:.1f}-{hi:.1f} s, where all {n} of them are off the "
        "line: the tracks share part of their stem only (another episode with the same opening or ending music?)"
    )
    return result


def _analyze(
    jp: np.ndarray,
    en: np.ndarray,
    sr: int,
    max_offset: float,
    max_drift: float,
    window: float,
    max_windows: int,
    refine: bool,
) -> SyncResult:
    """:func:`analyze_sync` on mono tracks, before the same-audio check."""
    search = f"offsets within ±{max_offset:g} s and drift within ±{max_drift * 100:g} %"
    for name, x in (("JP", jp), ("EN", en)):
        if x.size < sr * 1.0:
            return failed_result(f"{name} track is shorter than 1 s ({x.size / sr:.2f} s)")
        if not np.all(np.isfinite(x)):
            return failed_result(f"{name} track contains NaN or infinite samples")
        if float(np.max(np.abs(x))) < 1e-5:
            return failed_result(f"{name} track is silent")

    fj, rate, t0 = band_features(jp, sr)
    fe, _, _ = band_features(en, sr)
    dur_j = jp.size / sr
    if dur_j <= SHORT_MEDIA_SECONDS:
        return _analyze_short(jp, en, sr, max_offset, max_drift, refine)
    win = min(window, max(1.0, dur_j / 3.0))
    coarse = coarse_matches(fj, fe, rate, t0, win, max_offset, max_drift, max_windows)
    if coarse is None:
        return failed_result(f"the tracks do not overlap within the searched range ({search})")
    tj, te, scores, psr, d_best = coarse
    log.debug("sync: drift grid best %.4f, windows %d", d_best, len(tj))
    fit = ransac_line(tj, te, scores, COARSE_TOLERANCE, max_drift)
    if fit is None:
        return failed_result(f"no consistent matches between the tracks ({search})", n_windows=len(tj))
    a, b, inl = fit
    windows = _Windows(tj, te, scores, psr, win)
    result = _long_fit(jp, en, sr, windows, a, b, inl, max_offset, search, refine)
    if (
        refine
        and not result.reliable
        and result.edit is None
        and float(inl.mean()) < WINDOWS_AGREE
    ):
        # The band-energy windows disagree: in a real mix they follow the (different) dialogue, so
        # their line may be wrong and the fine passes find nothing around it. The phase-based
        # coarse stage proposes the line instead; the fine passes and the confidence logic decide.
        alt = _gcc_alternative(jp, en, sr, windows, a, b, max_offset, max_drift, search)
        if alt is not None and alt.confidence > result.confidence:
            result = alt
    if not result.reliable and result.edit is None and dur_j <= SHORT_FALLBACK_SECONDS:
        # (an edit verdict stands: the short path's single line cannot outvote the windows)
        short = _analyze_short(jp, en, sr, max_offset, max_drift, refine)
        if short.confidence > result.confidence:
            return short
    return result


class _Windows(NamedTuple):
    """The band-energy coarse windows: JP starts, EN matches, peak scores, peak ratios, window length (s)."""

    tj: np.ndarray
    te: np.ndarray
    scores: np.ndarray
    psr: np.ndarray
    win: float


def _gcc_alternative(
    jp: np.ndarray,
    en: np.ndarray,
    sr: int,
    windows: _Windows,
    a: float,
    b: float,
    max_offset: float,
    max_drift: float,
    search: str,
) -> SyncResult | None:
    """The long-path result from :func:`~.coarse_gcc.gcc_coarse`'s line, or None when it has none or it
    is the windows' line ``(a, b)`` again (within the coarse tolerance over the JP track)."""
    line = gcc_coarse(jp, en, sr, max_offset, max_drift)
    if line is None:
        return None
    ends = np.array([0.0, jp.size / sr])
    if np.all(np.abs((line.a + line.b * ends) - (a + b * ends)) < COARSE_TOLERANCE):
        return None
    inl = np.abs(windows.te - (line.a + line.b * windows.tj)) < COARSE_TOLERANCE
    log.debug(
        "sync long path: GCC coarse line %+.3f s, drift %+.3f %% (%d/%d excerpts, %d speed factors)",
        line.a, (line.b - 1) * 100, sum(m[3] for m in line.matches), len(line.matches), line.speeds,
    )
    return _long_fit(jp, en, sr, windows, line.a, line.b, inl, max_offset, search, True)


def _long_fit(
    jp: np.ndarray,
    en: np.ndarray,
    sr: int,
    windows: _Windows,
    a: float,
    b: float,
    inl: np.ndarray,
    max_offset: float,
    search: str,
    refine: bool,
) -> SyncResult:
    """Fine passes from the coarse line ``(a, b)`` (``inl``: the windows on it), then the confidence:
    window scores, an edit verdict, else the coherence contrast when the windows disagree."""
    tj, te, scores, psr, win = windows
    dur_j = jp.size / sr
    inlier_fraction = float(inl.mean())
    peak_ratio = float(np.median(psr[inl])) if inl.any() else 0.0
    listed = [(float(x), float(y), float(s), bool(i)) for x, y, s, i in zip(tj, te, scores, inl, strict=True)]

    fine: list[tuple[float, float, bool]] = []
    coarse_line = (a, b)
    if refine:
        a, b, fine = fine_passes(jp, en, sr, tj[inl], a, b, None, None)

    confidence = window_confidence(inlier_fraction, peak_ratio, fine)
    edit = _edit(jp, en, sr, (tj, te, scores, inl), a, b, win)
    if edit is not None and refine:
        # located edit: one line per side, each refined on its own piece (sync/pieces.py)
        piecewise = piecewise_result(jp, en, sr, edit, (tj, te, psr, inl), b, listed)
        if piecewise is not None:
            return piecewise
    if edit is not None:
        # Part of the episode follows another offset: no single line maps it, however well the
        # fit matches the rest (the coherence check below would only look at the middle minute).
        confidence = round(min(confidence, EDIT_CONFIDENCE * inlier_fraction), 4)
        return SyncResult(
            time_map=TimeMap(offset=float(a), drift=float(b - 1.0), confidence=confidence),
            confidence=confidence,
            inlier_fraction=inlier_fraction,
            peak_ratio=peak_ratio,
            n_windows=len(tj),
            n_fine=len(fine),
            reason=edit.pop("reason"),
            windows=listed,
            fine=fine,
            edit=edit,
        )
    coherence_note = ""
    if confidence < MIN_CONFIDENCE and fine and fine_agreement(fine) >= LONG_FINE_AGREEMENT:
        # Loud, different dialogue dominates the band-energy windows, so few of them agree even
        # when the fine passes found the line; let the fit's own phase coherence (in excess of
        # the best rival alignment's) vouch for it, as on the short path.
        coherence, rival, rival_offset = _long_coherence(jp, en, sr, a, b, max_offset)
        by_coherence = coherence_confidence(coherence - rival, True)
        coherence_note = (
            f"; coherence index at the estimate {coherence:.1f}, best rival {rival:.1f} "
            f"(offset {rival_offset * 1000:+.0f} ms)"
        )
        log.debug("sync long path: windows %.2f, coherence %s", confidence, coherence_note)
        confidence = max(confidence, by_coherence)
    precision_ms, scatter = None, 0.0
    if refine and abs(coarse_line[1] - 1.0) >= STRETCH_MIN_DRIFT:
        # A speed change and a fine stage that failed (every window agreeing), or whose matches scatter by
        # a millisecond where resampled audio matches to ~0.05 ms: EN may have been re-timed with pitch
        # correction, which resampled 8 s segments cannot match sample-precisely (sync/stretch.py).
        scatter = fine_scatter(fine, a, b) if fine else 0.0
        scattered = scatter >= STRETCH_FINE_SCATTER
        if scattered or (confidence < MIN_CONFIDENCE and inlier_fraction >= WINDOWS_AGREE):
            around = (a, b) if scattered else coarse_line
            stretched = _stretch_result(jp, en, sr, around, inlier_fraction, peak_ratio, listed, scatter)
            if stretched is not None and (stretched.confidence > confidence or (scattered and stretched.reliable)):
                return stretched
        if scattered:  # no reliable line of short segments: the fine line, but not sample-precise either
            precision_ms = STRETCH_TOLERANCE * 1000.0
    tm = TimeMap(offset=float(a), drift=float(b - 1.0), confidence=confidence, precision_ms=precision_ms)
    reason = ""
    if confidence < MIN_CONFIDENCE:
        reason = _long_reason(inl, peak_ratio, fine, coherence_note, search, dur_j, en.size / sr, max_offset)
    elif precision_ms is not None:
        reason = (
            f"the sample-precise (fine) matches of a {(b - 1.0) * 100:+.2f} % speed change scatter by "
            f"{scatter * 1000:.1f} ms (median; resampled audio: under 0.1 ms): EN re-timed with pitch correction? "
            f"Mapped by them to within ~{precision_ms:.0f} ms, not sample-precise (the dual-track separation "
            "uses one track)"
        )
    return SyncResult(
        time_map=tm,
        confidence=confidence,
        inlier_fraction=inlier_fraction,
        peak_ratio=peak_ratio,
        n_windows=len(tj),
        n_fine=len(fine),
        reason=reason,
        windows=listed,
        fine=fine,
    )


def _stretch_result(
    jp: np.ndarray,
    en: np.ndarray,
    sr: int,
    coarse_line: tuple[float, float],
    inlier_fraction: float,
    peak_ratio: float,
    listed: list[tuple[float, float, float, bool]],
    scatter: float,
) -> SyncResult | None:
    """The long-path result from short unresampled segments (:func:`~.stretch.stretch_line`) around the
    line ``coarse_line`` (the windows', or the fine stage's when its matches scatter: ``scatter`` > 0 s,
    their median absolute residual), a map marked as not sample-precise (``precision_ms``); None when no
    segment was located.

    Its ``fine`` matches are the segments' (``(t_jp, t_en, inlier)``, centres); the reason says how the
    map was made even when it is reliable (the build warns with it: the separation uses one track).
    """
    fit = stretch_line(jp, en, sr, *coarse_line)
    if fit is None:
        return None
    confidence = stretch_confidence(fit, inlier_fraction, peak_ratio)
    n_in = sum(1 for m in fit.matches if m[2])
    agreeing = round(inlier_fraction * len(listed))
    said = (
        f"{f'all {agreeing}' if agreeing == len(listed) else f'{agreeing}/{len(listed)}'} coarse windows agree on a "
        f"{(coarse_line[1] - 1.0) * 100:+.2f} % speed change but the sample-precise (fine) stage"
        + (f"'s matches scatter by {scatter * 1000:.1f} ms (median; resampled audio: under 0.1 ms)" if scatter
           else " found no consistent match")
        + f" (EN re-timed with pitch correction?); {n_in}/{fit.clear} clear matches of "
        f"{fit.tested} short unresampled segments agree"
    )
    if confidence >= MIN_CONFIDENCE:
        reason = (f"{said}: mapped from them to within ~{fit.precision_ms:.0f} ms, not sample-precise "
                  "(the dual-track separation uses one track)")
    else:
        reason = f"{said}, too few to map the episode by them"
    return SyncResult(
        time_map=TimeMap(offset=fit.a, drift=fit.b - 1.0, confidence=confidence, precision_ms=fit.precision_ms),
        confidence=confidence,
        inlier_fraction=inlier_fraction,
        peak_ratio=peak_ratio,
        n_windows=len(listed),
        n_fine=len(fit.matches),
        reason=reason,
        windows=listed,
        fine=fit.matches,
    )


def _long_reason(
    inl: np.ndarray,
    peak_ratio: float,
    fine: list[tuple[float, float, bool]],
    coherence_note: str,
    search: str,
    dur_j: float,
    dur_e: float,
    max_offset: float,
) -> str:
    """Why a long-path estimate is unreliable, from the score that failed (window_confidence's factors)."""
    agree = float(inl.mean()) >= WINDOWS_AGREE
    peaks_ok = peak_ratio >= 5.0
    if agree and peaks_ok:
        if not fine:
            agreeing = f"all {inl.size}" if inl.all() else f"{inl.sum()}/{inl.size}"
            reason = (
                f"{agreeing} coarse windows agree (peak ratio {peak_ratio:.1f}) but the sample-precise (fine) "
                "stage found no consistent match there (EN re-timed with pitch correction, or no shared "
                "stem under the matches?)"
            )
        else:
            reason = f"the sample-precise (fine) matches disagree ({fine_agreement(fine):.0%} agreement beyond two)"
        return reason + coherence_note
    parts = []
    if not agree:
        parts.append(f"only {inl.sum()}/{inl.size} windows agree")
    if not peaks_ok:
        parts.append(f"the correlation peaks are weak (peak ratio {peak_ratio:.1f})")
    if not fine:
        parts.append("the fine stage found no consistent match")
    reason = " and ".join(parts) + coherence_note + ": the tracks may not share a stem"
    return reason + _range_hint(dur_j, dur_e, max_offset, search)


def _range_hint(dur_j: float, dur_e: float, max_offset: float, search: str) -> str:
    """`` (searched ...)``, plus a hint that the offset may lie outside it when the lengths differ by more
    than half the offset range."""
    hint = f" (searched {search})"
    if abs(dur_e - dur_j) > 0.5 * max_offset:
        longer = "longer" if dur_e > dur_j else "shorter"
        hint += (
            f"; EN is {abs(dur_e - dur_j):.1f} s {longer} than JP, so the offset may lie outside "
            f"the searched ±{max_offset:g} s"
        )
    return hint


def _edit(
    jp: np.ndarray,
    en: np.ndarray,
    sr: int,
    coarse: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    a: float,
    b: float,
    win: float,
) -> dict[str, Any] | None:
    """An edit between the media: rejected coarse windows agreeing among themselves on another offset.

    A scene cut from (or added to) EN moves the offset of everything after it, so the windows
    on one side of the edit follow the fit and those on the other side a parallel line. When at
    least :data:`EDIT_MIN_WINDOWS` and :data:`EDIT_MIN_FRACTION` of the windows agree (within the
    coarse tolerance, same slope) on an offset more than :data:`EDIT_MIN_SHIFT` from the fit's,
    returns the two groups (``lines``: offset, JP span of their window centres, window count),
    where the offset changes (``at``: a JP interval from short GCC-PHAT matches, see
    :func:`_locate_edit`, or None) and a ``reason``; else None.
    """
    tj, te, scores, inl = coarse
    other = second_line(tj, te, scores, inl, b, COARSE_TOLERANCE)
    if other is None:
        return None
    a2, members = other
    n = int(members.sum())
    if n < EDIT_MIN_WINDOWS or n < EDIT_MIN_FRACTION * tj.size or abs(a2 - a) <= EDIT_MIN_SHIFT:
        return None
    centres = tj + 0.5 * win
    groups = sorted(
        [
            {"offset": float(a), "jp_from": float(centres[inl].min()), "jp_to": float(centres[inl].max()),
             "windows": int(inl.sum()), "fit": True},
            {"offset": float(a2), "jp_from": float(centres[members].min()), "jp_to": float(centres[members].max()),
             "windows": n, "fit": False},
        ],
        key=lambda g: g["jp_from"],
    )
    first, second = groups
    at = None
    if first["jp_to"] < second["jp_from"]:
        at = _locate_edit(jp, en, sr, first, second, b, first["jp_to"] - 0.5 * win, second["jp_from"] + 0.5 * win)
    if at is not None:
        reason = (
            f"EN is edited between JP {at[0]:.1f} and {at[1]:.1f} s: before, the windows agree on offset "
            f"{round(first['offset'], 2) + 0.0:+.2f} s ({first['windows']} windows), after, on "
            f"{round(second['offset'], 2) + 0.0:+.2f} s ({second['windows']})"
        )
    else:
        said = [f"the {g['windows']} windows centred at JP {g['jp_from']:.1f}-{g['jp_to']:.1f} s agree on offset "
                f"{round(g['offset'], 2) + 0.0:+.2f} s" for g in groups]
        if first["jp_to"] >= second["jp_from"]:  # the two groups interleave: no one place where the offset changes
            reason = (f"the windows agree on two offsets at interleaved places: {said[0]}, {said[1]} (music repeated "
                      "at another offset?); neither offset is confirmed")
        else:
            reason = f"EN is edited: {said[0]}, {said[1]}"
    if at is not None or first["jp_to"] < second["jp_from"]:
        reason += " (a scene cut from or added to EN?); one offset and drift cannot map the whole episode"
    located = None if at is None else [float(x) for x in at]
    return {"reason": reason, "lines": groups, "drift": float(b - 1.0), "at": located}


def _locate_edit(
    jp: np.ndarray,
    en: np.ndarray,
    sr: int,
    first: dict[str, Any],
    second: dict[str, Any],
    b: float,
    t_lo: float,
    t_hi: float,
) -> tuple[float, float] | None:
    """The JP interval where the offset changes from ``first``'s to ``second``'s, or None.

    3 s JP segments every 0.5 s over ``[t_lo, t_hi]`` (the windows' spans between the two
    groups) are located by GCC-PHAT at 4 kHz within ±0.15 s of each line's image. A segment
    *hits* a line when its peak stands out (score >= 5 robust sigmas) at that line's
    consistent lag (within 2 ms of the median lag of its clear hits); the edit lies between
    the centre of the last segment hitting the first line and that of the first one hitting
    the second (None when they do not come in that order). Those two may be swapped by less than
    a segment (a scene added to EN: segments straddling the change hit both lines); the interval
    is then the two centres in time order.
    """
    import soxr

    fr, seg, step, search = FINE_LOW_RATE, 3.0, 0.5, 0.15
    dur_j, dur_e = jp.size / sr, en.size / sr
    starts = np.arange(max(0.0, t_lo), min(dur_j - seg, t_hi) + 1e-9, step)
    found: list[list[tuple[float, float, float]]] = [[], []]  # per line: (centre, lag, score)
    for js in starts:
        xj = soxr.resample(jp[int(js * sr) : int((js + seg) * sr)], sr, fr * b)
        for k, g in enumerate((first, second)):
            es = g["offset"] + b * js - search
            if es < 0 or es + seg * b + 2 * search > dur_e:
                continue
            xe = soxr.resample(en[int(es * sr) : int((es + seg * b + 2 * search) * sr)], sr, fr)
            lag, score = gcc_phat_score(xj, xe, int(2 * search * fr) + 1)
            found[k].append((js + 0.5 * seg, lag / fr, score))
    hits = []
    for k in range(2):
        clear = [lag for _, lag, score in found[k] if score >= 6.0]
        if not clear:
            return None
        mode = float(np.median(clear))
        hits.append([c for c, lag, score in found[k] if score >= 5.0 and abs(lag - mode) <= 0.002])
    if not hits[0] or not hits[1]:
        return None
    last, first_after = max(hits[0]), min(hits[1])
    if last >= first_after + seg:  # not in that order (segments straddling the change hit both lines)
        return None
    return min(last, first_after), max(last, first_after)


def _long_coherence(
    jp: np.ndarray, en: np.ndarray, sr: int, a: float, b: float, max_offset: float
) -> tuple[float, float, float]:
    """``(index, rival index, rival offset)`` of a long-path fit ``t_en = a + b t_jp`` on an excerpt.

    The JP excerpt is the middle :data:`LONG_COHERENCE_SECONDS` of the overlap; the EN excerpt
    is its image under the fit plus ``max_offset`` either side, so the rivals are the other
    offsets within ``max_offset`` of the estimate (with at least half its overlap). Bounded
    cost whatever the media length.
    """
    dur_j, dur_e = jp.size / sr, en.size / sr
    lo, hi = max(0.0, -a / b), min(dur_j, (dur_e - a) / b)
    length = min(LONG_COHERENCE_SECONDS, hi - lo)
    if length < 4.0:
        return 0.0, 0.0, a
    j0 = int((0.5 * (lo + hi) - 0.5 * length) * sr)
    j1 = j0 + int(length * sr)
    e0 = max(0, int((a + b * j0 / sr - max_offset) * sr))
    e1 = min(en.size, int((a + b * j1 / sr + max_offset) * sr) + 1)
    xj, xe = jp[j0:j1], en[e0:e1]
    a_local = a + b * j0 / sr - e0 / sr  # the fit in the excerpts' time
    coherence, _ = coherence_index(xj, xe, sr, a_local, b)
    rival, rival_local = rival_coherence(xj, xe, sr, a_local, b, np.inf, min(4.0, 0.5 * length))
    return coherence, rival, rival_local + e0 / sr - b * j0 / sr


class _ShortFit(NamedTuple):
    """A short-media estimate: ``t_en = a + b t_jp``, its fine matches and coherence against its best rival."""

    a: float
    b: float
    fine: list[tuple[float, float, bool]]
    coherence: float
    rival: float
    rival_offset: float

    @property
    def contrast(self) -> float:
        """Coherence index in excess of the most coherent other alignment's (the evidence for ``a``)."""
        return self.coherence - self.rival


def _fit_short(
    jp: np.ndarray, en: np.ndarray, sr: int, a: float, b: float, max_offset: float, min_overlap: float, refine: bool
) -> _ShortFit:
    """Fine passes from the coarse ``(a, b)``, then the coherence index there and at the best rival alignment."""
    dur_j, dur_e = jp.size / sr, en.size / sr
    overlap = min(dur_j, (dur_e - a) / b) - max(0.0, -a / b)
    fw = float(np.clip(overlap / 3.0, 2.0, FINE_WINDOW))
    fine: list[tuple[float, float, bool]] = []
    if refine and overlap >= min_overlap:
        # the vote's speed factor is within a fraction of its fine drift step: keep the slope there
        slope = (b - VOTE_SLOPE_TOLERANCE, b + VOTE_SLOPE_TOLERANCE)
        a, b, fine = fine_passes(jp, en, sr, np.zeros(0), a, b, fw, slope)
    coherence, _ = coherence_index(jp, en, sr, a, b)
    rival, rival_offset = rival_coherence(jp, en, sr, a, b, max_offset, min_overlap)
    return _ShortFit(float(a), float(b), fine, coherence, rival, rival_offset)


def _drift_scan(jp: np.ndarray, en: np.ndarray, sr: int, a: float, b: float, max_drift: float) -> tuple[float, float]:
    """The speed factor within :data:`DRIFT_SCAN_SPAN` of the vote's ``b`` (and ``max_drift`` of 1) whose line, put on
    the whole overlap's GCC-PHAT peak near ``a``'s offset, is the most phase-coherent: a grid of
    ``DRIFT_SCAN_STEPS[0]``, then one of ``[1]`` around the best. The coherence index peaks within ~0.01 % of the
    true speed on 25 s (117 at the truth, 14 at 0.0125 % off, 6 at the vote's 0.025 % off: an outside tester's
    episode at +0.1 %, mapped 0.125 % at confidence 0, which a build took for zero offset)."""
    middle = 0.5 * jp.size / sr  # each speed's line turns about the vote's point there

    def line_at(speed: float) -> tuple[float, float, float]:
        at, _ = phat_offset(jp, en, sr, a + (b - speed) * middle, speed, PHAT_SEARCH_S)
        return coherence_index(jp, en, sr, at, speed)[0], at, speed

    lo, hi = max(1.0 - max_drift, b - DRIFT_SCAN_SPAN), min(1.0 + max_drift, b + DRIFT_SCAN_SPAN)
    coarse, fine = DRIFT_SCAN_STEPS
    best = max(line_at(float(x)) for x in np.arange(lo, hi + coarse / 2, coarse))
    near = np.arange(best[2] - coarse, best[2] + coarse + fine / 2, fine)
    best = max([best, *(line_at(float(x)) for x in near if lo <= x <= hi)])
    return best[1], best[2]


def _analyze_short(
    jp: np.ndarray,
    en: np.ndarray,
    sr: int,
    max_offset: float,
    max_drift: float,
    refine: bool,
) -> SyncResult:
    """Short media: GCC-PHAT vote (coarse), fine matches, confidence from the coherence index's contrast."""
    dur_j, dur_e = jp.size / sr, en.size / sr
    min_overlap = min(4.0, 0.5 * min(dur_j, dur_e))
    match = gcc_vote(jp, en, sr, max_offset, max_drift, min_overlap)
    if match is None:
        return failed_result("the tracks do not overlap within the offset search range")
    a, b, peak, psr = match
    fit = _fit_short(jp, en, sr, a, b, max_offset, min_overlap, refine)
    confidence = coherence_confidence(fit.contrast, bool(fit.fine))
    if confidence < MIN_CONFIDENCE and refine:
        # The vote over every speed can crown a wrong one where the dialogue drowns the shared stem (a 30 s episode,
        # neural voices: +0.69 %, -139 ms, coherence 0.9 where the truth's, no drift, is 208), and the fine passes
        # can find no match even at the truth (confidence held at 0.4). Two more candidates: the vote's line and
        # the best offset at the tracks' own speed, each put on the whole overlap's GCC-PHAT peak
        # (sample-precise); a peak standing PHAT_PRECISE_PSR deviations over its sidelobes vouches for the
        # offset's precision as the fine matches do (related tracks: 6.5 at 12 s, 46-50 at 30 s; unrelated: ~3).
        still = gcc_vote(jp, en, sr, max_offset, 0.0, min_overlap) if max_drift > 0 else None
        vote_a, vote_b = a, b

        def candidates() -> Iterator[tuple[float, float]]:
            yield vote_a, vote_b
            if still is not None:
                yield still[0], 1.0
            if confidence < MIN_CONFIDENCE and max_drift > 0:  # none confident: the vote's speed refined, last
                yield _drift_scan(jp, en, sr, vote_a, vote_b, max_drift)

        for cand_a, cand_b in candidates():
            at, precise = phat_offset(jp, en, sr, cand_a, cand_b, PHAT_SEARCH_S)
            other = _fit_short(jp, en, sr, at, cand_b, max_offset, min_overlap, refine)
            # the peak vouches only for a line that holds over the whole overlap: each third coherent (an EN track
            # with a scene cut or added got a one-line map at confidence 1.00, seconds off on a third of JP)
            # (a misaligned third reads ~1, as unrelated tracks do; aligned thirds read 7.5-108 here)
            parts = coherence_parts(jp, en, sr, other.a, other.b) if precise >= PHAT_PRECISE_PSR else []
            whole = bool(parts) and edited_part(jp, en, sr, other.a, other.b, scores=parts) is None
            other_confidence = coherence_confidence(other.contrast, bool(other.fine) or whole)
            if other_confidence > confidence:
                fit, confidence, a, b, psr = other, other_confidence, other.a, other.b, precise
    windows = [(0.0, float(a), float(peak), True)]
    a, b, fine, coherence = fit.a, fit.b, fit.fine, fit.coherence
    reason = ""
    edited = edited_part(jp, en, sr, a, b) if confidence >= MIN_CONFIDENCE else None
    if edited is not None:
        # one line over tracks that an edit splits: a third that is not silent reads ~1 there (an EN track with 3 s
        # cut at 18 s of 30 s was mapped at confidence 1.00, 3 s off after the cut); the short path maps no edits
        # (docs/sync.md)
        confidence = round(0.8 * MIN_CONFIDENCE * confidence, 4)
        part = ["first", "middle", "last"][edited[0]]
        reason = (f"the line holds over part of the tracks only (its {part} third is not phase-coherent: coherence "
                  f"index {edited[1]:.1f}): the EN track may be edited (a scene cut "
                  "or added), which short media are not mapped for")
    elif confidence < MIN_CONFIDENCE:
        if coherence < COHERENCE_HIGH:
            reason = (
                f"the two tracks are not phase-coherent at the best alignment (coherence index "
                f"{coherence:.1f}; ~1 for unrelated tracks): they may not share a stem"
            ) + _range_hint(dur_j, dur_e, max_offset, f"offsets within ±{max_offset:g} s and drift within "
                            f"±{max_drift * 100:g} %")
        elif fit.contrast < COHERENCE_HIGH:
            reason = (
                f"another alignment (offset {fit.rival_offset * 1000:+.0f} ms) is about as phase-coherent as "
                f"the estimate or more (coherence index {fit.rival:.1f} vs {coherence:.1f}): stationary or periodic "
                "content makes the offset ambiguous"
            )
        else:
            reason = "the tracks share a stem but the sample-precise matches disagree"
    return SyncResult(
        time_map=TimeMap(offset=float(a), drift=float(b - 1.0), confidence=confidence),
        confidence=confidence,
        inlier_fraction=1.0,
        peak_ratio=float(psr),
        n_windows=1,
        n_fine=len(fine),
        reason=reason,
        windows=windows,
        fine=fine,
    )
