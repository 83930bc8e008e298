"""Long episodes: the embedded diarizer clusters an even stride of the windows above a cap, and its
whole-track analyses (mel frames, VAD) go through long tracks in blocks."""

from __future__ import annotations

import numpy as np
import pytest

from anim400k.diarize import clustering, embedding, get_diarizer, longform, views
from anim400k.diarize import embedded as embedded_mod
from anim400k.diarize.embedded_config import EmbeddedConfig
from anim400k.diarize.metrics import der
from anim400k.errors import InputError

SR = 16000


def _toy(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray, views.OtherView]:
    rng = np.random.default_rng(seed)
    emb = rng.standard_normal((n, 12)).astype(np.float32)
    pitch = rng.normal(7.5, 0.3, n)
    pitch[rng.random(n) < 0.2] = np.nan
    valid = rng.random(n) < 0.7
    view = views.OtherView(rng.standard_normal((n, 12)).astype(np.float32), rng.normal(7.0, 0.3, n),
                           np.zeros(0), valid)
    return emb, pitch, view


def test_affinity_blocks_equal_the_clustering_s_affinity():
    """Rows x subset of :func:`longform.affinity_to` are the affinity the subset's clustering builds."""
    emb, pitch, view = _toy()
    for sub in (np.arange(60), longform.stride_subset(60, 25)):
        block = longform.affinity_to(emb, pitch, sub, view, 0.5, 1.0)
        want = views.combined_affinity(clustering.fused_affinity(emb[sub], pitch[sub], 1.0),
                                       longform.subset_view(view, sub), 0.5, 1.0)
        np.testing.assert_allclose(block(sub), want, atol=1e-5)
        assert block(np.arange(60)).shape == (60, len(sub))
    block = longform.affinity_to(emb, pitch, np.arange(60), None, 0.5, 1.0)
    np.testing.assert_allclose(block(np.arange(60)), clustering.fused_affinity(emb, pitch, 1.0), atol=1e-5)


def test_stride_subset_is_even_and_keeps_the_ends():
    sub = longform.stride_subset(1000, 300)
    assert len(sub) == 300 and sub[0] == 0 and sub[-1] == 999 and np.all(np.diff(sub) > 0)
    assert set(np.diff(sub)) <= {3, 4}
    np.testing.assert_array_equal(longform.stride_subset(10, 20), np.arange(10))


def test_assign_to_subset_labels_every_window_and_keeps_the_subset_s():
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((2, 16))
    truth = (np.arange(200) // 20) % 2  # runs of 20 windows per speaker
    emb = centres[truth] + 0.3 * rng.standard_normal((200, 16))
    pitch = np.full(200, np.nan)
    sub = longform.stride_subset(200, 50)
    sub_labels = 1 - truth[sub]  # any numbering
    sub_labels[3] = truth[sub][3]  # one subset window "wrong": kept as given
    block = longform.affinity_to(emb, pitch, sub, None, 0.5, 1.0)
    for iters in (0, 5):
        labels = longform.assign_to_subset(block, 200, sub, sub_labels, iters)
        np.testing.assert_array_equal(labels[sub], sub_labels)
        rest = np.setdiff1d(np.arange(200), sub)
        assert np.mean(labels[rest] == 1 - truth[rest]) > 0.97


def test_mel_frames_in_blocks_match_the_whole_track(monkeypatch):
    rng = np.random.default_rng(2)
    x = (0.1 * rng.standard_normal(SR * 7 + 123)).astype(np.float32)
    whole = embedding.mel_frames(x)
    monkeypatch.setattr(embedding, "MEL_WHOLE_MAX", 100)
    monkeypatch.setattr(embedding, "MEL_BLOCK", 64)
    blocks = embedding.mel_frames(x)
    assert blocks.shape == whole.shape == (len(x) // 160 + 1, 40) and blocks.dtype == np.float32
    np.testing.assert_allclose(blocks, whole, rtol=1e-4, atol=1e-7 * float(whole.max()))


def test_a_cap_under_3_is_refused():
    with pytest.raises(InputError, match="cluster_cap and cluster_subset must be at least 3"):
        get_diarizer("embedded", cluster_cap=2)


@pytest.fixture(scope="module")
def three_minutes(tmp_path_factory):
    """A 3-minute espeak episode's JP and EN speech at 16 kHz and its reference turns."""
    import soundfile as sf
    import torch

    from anim400k.diarize.run import load_reference
    from anim400k.signal import prepare_audio
    from anim400k.synth import make_episode

    torch.set_num_threads(1)
    ep = make_episode(tmp_path_factory.mktemp("long"), duration=180.0, seed=3, video=False, voices="espeak",
                      embed_subtitles=False)
    jp, sr = sf.read(ep.out_dir / "jp_speech.wav", dtype="float32")
    en, _ = sf.read(ep.out_dir / "en_speech.wav", dtype="float32")
    return prepare_audio(jp, sr, SR), prepare_audio(en, sr, SR), load_reference(ep.truth)


def _run(jp: np.ndarray, en: np.ndarray, monkeypatch: pytest.MonkeyPatch, **options: object):
    """Turns and the window labels :meth:`_cluster` returned."""
    seen: list[tuple[int, np.ndarray]] = []
    real = embedded_mod.EmbeddedDiarizer._cluster

    def spy(self, emb, *args, **kwargs):
        labels = real(self, emb, *args, **kwargs)
        seen.append((len(emb), labels))
        return labels

    with monkeypatch.context() as mp:
        mp.setattr(embedded_mod.EmbeddedDiarizer, "_cluster", spy)
        turns = get_diarizer("embedded", **options).diarize(jp, SR, other=en)
    return turns, seen[0]


def test_under_the_cap_nothing_changes_and_a_low_cap_labels_every_window(three_minutes, monkeypatch):
    """An episode under the cap gives the turns of the uncapped clustering; with the cap set under its
    window count, a subset is clustered, every window gets a speaker and the DER stays close."""
    jp, en, ref = three_minutes
    free, (n, free_labels) = _run(jp, en, monkeypatch, cluster_cap=None)
    assert 100 < n < EmbeddedConfig.cluster_cap
    default, (_, labels) = _run(jp, en, monkeypatch)
    assert default == free
    np.testing.assert_array_equal(labels, free_labels)
    just_above, _ = _run(jp, en, monkeypatch, cluster_cap=n)
    assert just_above == free

    capped, (n2, cap_labels) = _run(jp, en, monkeypatch, cluster_cap=n // 3)
    assert n2 == n and len(cap_labels) == n
    assert cap_labels.min() == 0 and set(np.unique(cap_labels)) == set(range(int(cap_labels.max()) + 1))
    assert cap_labels.max() + 1 == free_labels.max() + 1
    d_free, d_cap = der(ref, free), der(ref, capped)
    assert d_free < 0.2
    assert d_cap < d_free + 0.03, (d_free, d_cap)


def test_two_voice_track_in_pieces_matches_the_whole_track(monkeypatch):
    """A long track's two-voice analysis goes piece by piece: the same frames, the same values to rounding."""
    from anim400k.diarize import twovoice

    rng = np.random.default_rng(4)
    t = np.arange(SR * 13 + 77) / SR
    f0 = 180 + 40 * np.sin(2 * np.pi * 0.3 * t)
    x = (np.sin(2 * np.pi * np.cumsum(f0) / SR) * (np.sin(2 * np.pi * 0.5 * t) > -0.3)
         + 0.5 * np.sin(2 * np.pi * 290 * t) * (t % 4 < 1.5) + 0.02 * rng.standard_normal(t.size)).astype(np.float32)
    whole = twovoice.two_voice_track(x, SR)
    monkeypatch.setattr(twovoice, "WHOLE_MAX", 5.0)
    monkeypatch.setattr(twovoice, "PIECE", 3.0)
    monkeypatch.setattr(twovoice, "MARGIN", 0.5)
    pieces = twovoice.two_voice_track(x, SR)
    for name in ("f1", "periodicity", "f2", "second", "residual", "level"):
        a, b = getattr(whole, name), getattr(pieces, name)
        assert a.shape == b.shape, name
        assert np.mean(np.isclose(a, b, rtol=1e-6, atol=1e-6)) > 0.99, name
