"""The diarizer's cheaper paths (issue 16) give what the dearer ones gave: NME from eigenvalues with the
eigenvectors of the best pruning only, spectra reused, switch penalties from the nearby events only, and
equal-length windows through the LSTM unpacked."""

from __future__ import annotations

import numpy as np
import pytest

from anim400k.diarize import clustering


def _affinity(n_per: int, k: int, seed: int, spread: float = 0.35) -> np.ndarray:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(k), n_per)
    x = rng.normal(size=(k, 24))[labels] + spread * rng.normal(size=(len(labels), 24))
    x = clustering.l2_normalize(x - x.mean(axis=0))
    return x @ x.T


def _old_nme(affinity: np.ndarray, num: int | None, lo: int, hi: int) -> np.ndarray:
    """NME as it was: every pruning's full eigendecomposition, the first smallest ratio, k-means."""
    from sklearn.cluster import KMeans

    n = len(affinity)
    if num is not None:
        lo = hi = num
    hi = max(1, min(hi, n - 1))
    lo = max(1, min(lo, hi))
    best = None
    for p in clustering.nme_candidates(n):
        vals, vecs, _ = clustering._laplacian_spectrum(affinity, p, hi)
        gaps = np.diff(vals[: hi + 1])[lo - 1 : hi]
        k = int(np.argmax(gaps)) + lo
        ratio = p / max(float(gaps.max()) / max(float(vals[-1]), 1e-10), 1e-10)
        if best is None or ratio < best[0]:
            best = (ratio, k, vecs)
    _, k, vecs = best
    if k == 1:
        return np.zeros(n, dtype=int)
    return KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(clustering.l2_normalize(vecs[:, :k]))


@pytest.mark.parametrize("seed,k,n_per", [(0, 3, 40), (1, 5, 30), (2, 2, 60), (3, 4, 25)])
def test_nme_from_eigenvalues_gives_the_old_clusters_and_count(seed, k, n_per):
    aff = _affinity(n_per, k, seed)
    clustering.clear_spectrum_cache()
    old = _old_nme(aff, None, 1, 8)
    new = clustering.nme_spectral(aff)
    np.testing.assert_array_equal(new, old)
    assert clustering.nme_count(aff) == int(old.max()) + 1 == k
    for num in (2, k + 1):  # a fixed count, after the estimate (the spectra come from the cache)
        np.testing.assert_array_equal(clustering.nme_spectral(aff, num), _old_nme(aff, num, 1, 8))


def test_spectra_of_an_affinity_are_computed_once(monkeypatch):
    aff = _affinity(30, 3, 7)
    clustering.clear_spectrum_cache()
    calls = {"eigvalsh": 0, "eigh": 0}
    for name in calls:
        original = getattr(np.linalg, name)

        def counted(a, *args, _name=name, _original=original, **kw):
            calls[_name] += 1
            return _original(a, *args, **kw)

        monkeypatch.setattr(np.linalg, name, counted)
    count = clustering.nme_count(aff)
    n_prunings = len(clustering.nme_candidates(len(aff)))
    assert calls == {"eigvalsh": n_prunings, "eigh": 0}  # the count needs no eigenvectors
    labels = clustering.nme_spectral(aff, count)
    assert calls == {"eigvalsh": n_prunings, "eigh": 1}  # the same spectra; one pruning's vectors
    clustering.nme_spectral(aff, count)
    assert calls["eigh"] == 1 and calls["eigvalsh"] == n_prunings
    bumped = aff.copy()
    bumped[0, 1] = bumped[1, 0] = bumped[0, 1] + 1e-3  # another affinity: computed afresh
    clustering.nme_spectral(bumped, count)
    assert calls["eigvalsh"] == 2 * n_prunings
    assert labels.max() + 1 == count == 3


def test_pruning_vectors_on_first_use():
    aff = _affinity(20, 2, 3)
    clustering.clear_spectrum_cache()
    lap, _ = clustering._laplacian(aff, 5)
    lazy = clustering.Pruning(5, 1.0, 2, affinity=aff)
    np.testing.assert_array_equal(lazy.vecs, np.linalg.eigh(lap)[1])
    given = np.eye(3)
    assert clustering.Pruning(2, 1.0, 1, given).vecs is given
    with pytest.raises(ValueError, match="eigenvectors or the affinity"):
        clustering.Pruning(2, 1.0, 1)


def test_the_spectra_kept_for_an_episode_are_let_go_after_it(monkeypatch):
    """The spectra cache serves one episode's count and clustering; a long-lived worker must not keep its
    n x n eigenvectors (72 MB each at the 3,000-window cap) into the next episodes, finished or failed."""
    from anim400k.diarize import embedded
    from anim400k.threads import THREADS_ENV

    monkeypatch.setenv(THREADS_ENV, "1")
    aff = _affinity(30, 3, 4)
    clustering.clear_spectrum_cache()
    held, fail = [], []

    def diarize_in(self, *args):
        clustering.nme_spectral(aff)  # the episode's clustering: its spectra kept meanwhile
        held.append(clustering.spectrum_cache_bytes())
        if fail:
            raise RuntimeError("boom")
        return []

    monkeypatch.setattr(embedded.EmbeddedDiarizer, "_diarize_in", diarize_in)
    d, audio = embedded.EmbeddedDiarizer(), np.zeros(16000, np.float32)
    assert d.diarize(audio, 16000) == []
    assert held[-1] >= aff.size * 8 and clustering.spectrum_cache_bytes() == 0
    fail.append(True)
    with pytest.raises(RuntimeError, match="boom"):
        d.diarize(audio, 16000)
    assert len(held) == 2 and held[-1] >= aff.size * 8 and clustering.spectrum_cache_bytes() == 0


def _old_penalties(t, cues, base, inside, edge, radius):
    pen = np.full(len(t), float(base))
    for c in cues:
        if not c.dash:
            pen[(t > c.start + radius) & (t < c.end - radius)] = base * inside
    near = np.zeros(len(t), bool)
    for c in cues:
        for b in (c.start, c.end):
            near |= np.abs(t - b) <= radius
    pen[near] = base * edge
    return pen


def test_switch_penalties_from_the_nearby_events_equal_all_events():
    from anim400k.diarize.cue_events import switch_penalties
    from anim400k.diarize.subtitle_cues import Cue

    rng = np.random.default_rng(0)
    starts = np.sort(rng.uniform(0, 600, 200))
    cues = [Cue(float(s), float(s + rng.uniform(0.3, 5.0)), bool(rng.random() < 0.2)) for s in starts]
    for a in rng.uniform(0, 600, 40):
        t = np.arange(a, a + rng.uniform(0.05, 8.0), 0.05) + 0.025
        for radius in (0.0, 0.3, 1.5):
            np.testing.assert_array_equal(switch_penalties(t, cues, 1.0, 2.0, 0.5, radius),
                                          _old_penalties(t, cues, 1.0, 2.0, 0.5, radius))
    assert np.array_equal(switch_penalties(np.zeros(0), cues, 1.0, 2.0, 1.0, 0.3), np.zeros(0))


def test_equal_length_windows_unpacked_match_the_packed_vectors():
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence

    from anim400k.diarize import embedding

    rng = np.random.default_rng(1)
    mel = rng.random((3000, 40)).astype(np.float32) * 2
    starts = rng.uniform(0, 27, 40)
    windows = np.stack([starts, starts + 1.5], axis=1)  # 40 equal windows (unpacked) ...
    windows[:5, 1] = windows[:5, 0] + rng.uniform(0.4, 1.4, 5)  # ... and 5 shorter ones (packed)
    enc = embedding.load_encoder()
    out = embedding.embed_windows(mel, windows, enc, batch_size=16)
    assert out.shape == (40, 256)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    idx = np.clip(np.round(windows / embedding.FRAME).astype(int), 0, len(mel))
    with torch.inference_mode():  # one window at a time, packed (the old path)
        for i in (0, 3, 7, 20, 39):
            seg = torch.from_numpy(mel[idx[i, 0] : idx[i, 1]][None])
            packed = pack_padded_sequence(seg, torch.tensor([seg.shape[1]]), batch_first=True)
            _, (hidden, _) = enc.lstm(packed)
            ref = enc.relu(enc.linear(hidden[-1]))
            ref = (ref / ref.norm(dim=1, keepdim=True)).numpy()[0]
            np.testing.assert_allclose(out[i], ref, atol=2e-5)
