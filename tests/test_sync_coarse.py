"""Sync, long media: the phase-based (GCC-PHAT) coarse stage proposes the line when the band-energy
windows follow loud, different dialogue instead of the shared music-and-effects stem."""

from __future__ import annotations

import numpy as np
import pytest

from anim400k.sync.coarse_gcc import gcc_coarse
from anim400k.sync.estimate import analyze_sync
from anim400k.sync.params import GCC_COARSE_LIKELY_DRIFTS

SR = 8000


def _loud_pair(dur: float, offset: float, drift: float, seed: int, db: float = 18.0) -> tuple[np.ndarray, np.ndarray]:
    """A sparse noise M&E (about half of its 4-12 s sections at -26 dB), EN warped by ``offset``/``drift``;
    each track gets its own full-band harmonic "dialogue" (vibrato, on 75 % of 0.25 s blocks) ``db``
    over the M&E's rms."""
    rng = np.random.default_rng(seed)
    n = int(dur * SR)
    ne = int((dur * (1 + drift) + offset) * SR) + SR
    m = max(n, int(ne / (1 + drift))) + 2 * SR
    level = np.repeat(rng.uniform(0.2, 1.0, m // (SR // 2) + 1), SR // 2)[:m]
    sections = np.zeros(m)
    t = 0
    while t < m:
        length = int(rng.uniform(4, 12) * SR)
        sections[t : t + length] = 1.0 if rng.random() < 0.5 else 0.05
        t += length
    smooth = np.ones(SR // 20) / (SR // 20)
    me = np.convolve(rng.standard_normal(m), np.ones(8) / 8, "same") * np.convolve(level * sections, smooth, "same")
    me /= me.std()
    en_me = np.interp((np.arange(ne) / SR - offset) / (1 + drift) * SR, np.arange(m), me, left=0.0, right=0.0)

    def voice(f0: float, vseed: int, k: int) -> np.ndarray:
        r = np.random.default_rng(vseed)
        on = np.repeat(r.random(k // (SR // 4) + 1) > 0.25, SR // 4)[:k]
        tt = np.arange(k) / SR
        ph = 2 * np.pi * f0 * np.cumsum(1 + 0.08 * np.sin(2 * np.pi * (2 + r.random()) * tt)) / SR
        v = on * sum(np.sin(h * ph) / h**0.5 for h in range(1, int(0.45 * SR / f0)))
        return v / v.std() * 10 ** (db / 20)

    jp = me[:n] + voice(170, seed + 1, n)
    en = en_me + voice(120, seed + 2, ne)
    return jp.astype(np.float32), en.astype(np.float32)


@pytest.mark.parametrize("offset,drift,seed", [(6.0, 0.0, 0), (-4.5, 0.041, 1), (3.0, -0.041, 2)])
def test_long_pair_whose_windows_follow_the_dialogue_is_synced(offset: float, drift: float, seed: int) -> None:
    # Regression: 150 s, dialogue 18 dB over a sparse M&E nearly everywhere. The band-energy windows
    # followed the dialogue (3/22 on a line ~24 s off), the fine passes found nothing around that
    # line and the result was confidence 0.00 ("only 3/22 windows agree ..."), so no offset was applied.
    jp, en = _loud_pair(150.0, offset, drift, seed)
    r = analyze_sync(jp, en, SR)
    assert r.reliable, (r.confidence, r.reason)
    assert abs(r.offset - offset) < 0.005, r.time_map
    assert abs(r.drift - drift) < 1e-4, r.time_map
    assert r.inlier_fraction < 0.5  # the windows still disagree: the phase-based stage found the line
    assert r.edit is None and not r.same_audio


def test_sparse_me_fine_matches_at_the_fine_stages_own_agreement_let_the_coherence_vouch() -> None:
    # Regression: 240 s, dialogue 20 dB over a sparse M&E. The phase-based line was right and the fine
    # passes accepted it (-4.0000 s), but only the segments with M&E under them agree: 12/23, a fine
    # agreement of 0.48 < 0.5, so the coherence contrast was not asked and the result stayed at 0.00.
    jp, en = _loud_pair(240.0, -4.0, 0.041, 11, db=20.0)
    r = analyze_sync(jp, en, SR)
    assert r.reliable, (r.confidence, r.reason)
    assert abs(r.offset + 4.0) < 0.005 and abs(r.drift - 0.041) < 1e-4, r.time_map


def test_gcc_coarse_tries_the_likely_speeds_first_then_widens() -> None:
    jp, en = _loud_pair(150.0, 2.5, 0.0, 3)
    line = gcc_coarse(jp, en, SR, 10.0, 0.05)
    assert line is not None
    assert line.speeds == len(GCC_COARSE_LIKELY_DRIFTS)  # no drift: the likely speeds sufficed
    assert abs(line.a + line.b * 75.0 - (2.5 + 75.0)) < 0.05 and abs(line.b - 1.0) < 0.001
    jp, en = _loud_pair(150.0, 2.5, 0.02, 3)  # +2 %: not a likely speed factor
    line = gcc_coarse(jp, en, SR, 10.0, 0.05)
    assert line is not None and line.speeds > len(GCC_COARSE_LIKELY_DRIFTS)
    assert abs(line.a + line.b * 75.0 - (2.5 + 1.02 * 75.0)) < 0.05 and abs(line.b - 1.02) < 0.001


def test_unrelated_loud_pairs_stay_unreliable() -> None:
    jp, _ = _loud_pair(150.0, 6.0, 0.0, 0)
    _, en = _loud_pair(150.0, 6.0, 0.0, 4)
    r = analyze_sync(jp, en, SR)
    assert not r.reliable, (r.confidence, r.time_map)
    assert "may not share a stem" in r.reason
