"""The ``anime`` diarizer (anime-speaker-embedding ECAPA-TDNN) on a small random model of the same architecture."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import soundfile as sf

from anim400k.diarize import anime_embedding as ae
from anim400k.diarize import get_diarizer
from anim400k.errors import BackendUnavailable, InputError


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, no_network):
    from anim400k.testing.random_anime_embedding import build_random_anime_embedding

    return build_random_anime_embedding(tmp_path_factory.mktemp("anime-spk") / "model", seed=1)


@pytest.fixture(scope="module")
def episode(tmp_path_factory):
    from anim400k.synth import make_episode

    return make_episode(tmp_path_factory.mktemp("dia-anime"), duration=15.0, seed=3, n_speakers=2, video=False)


def test_embeddings_are_per_window_and_batch_independent(model_dir):
    enc = ae.load_anime_encoder(str(model_dir))
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(16000 * 6)).astype(np.float32)
    windows = np.array([[0.0, 1.5], [0.5, 2.0], [3.0, 3.7], [1.0, 2.5]])
    emb = ae.embed_windows(x, windows, enc)
    assert emb.shape == (4, 32)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    # a window embedded alone equals the same window inside a batch of others
    alone = ae.embed_windows(x, windows[1:2], enc)
    np.testing.assert_allclose(alone[0], emb[1], atol=1e-4)
    # different audio gives different embeddings
    assert float(emb[0] @ emb[2]) < 0.9999
    assert ae.embed_windows(x, np.zeros((0, 2)), enc).shape == (0, 32)


def test_anime_diarizer_runs_the_pipeline(model_dir, episode):
    audio, sr = sf.read(episode.out_dir / "jp_mix.wav", dtype="float32")
    turns = get_diarizer("anime", model=model_dir).diarize(audio, sr)
    assert turns, "speech is there, so turns are expected"
    assert all(0 <= t.start < t.end <= len(audio) / sr + 1e-6 for t in turns)
    labels = {t.speaker for t in turns}
    assert labels == {f"spk{i}" for i in range(len(labels))}
    # a known speaker count reaches the clustering
    assert len({t.speaker for t in get_diarizer("anime", model=model_dir, num_speakers=2).diarize(audio, sr)}) == 2


def test_model_from_the_environment(model_dir, monkeypatch):
    monkeypatch.setenv(ae.MODEL_ENV, str(model_dir))
    assert get_diarizer("anime").config.embedding == "anime"
    monkeypatch.delenv(ae.MODEL_ENV)
    with pytest.raises(InputError, match=ae.MODEL_ENV) as info:
        get_diarizer("anime")
    assert "CLI --model" not in str(info.value)  # named a flag that build and dub do not have


def test_bad_model_folders_are_named(model_dir, tmp_path):
    import torch

    with pytest.raises(InputError, match="not found") as info:
        get_diarizer("anime", model=tmp_path / "nope")
    assert "nope" in str(info.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no embedding_model.pth"):
        get_diarizer("anime", model=tmp_path / "empty")
    bad = tmp_path / "garbage"
    bad.mkdir()
    (bad / "embedding_model.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a PyTorch file that torch.load can read"):
        get_diarizer("anime", model=bad)
    # a checkpoint that lacks layers would be silently kept random by the package (strict=False)
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "config.json").write_text((model_dir / "config.json").read_text())
    state = torch.load(model_dir / "embedding_model.pth", weights_only=True)
    torch.save({k: v for k, v in state.items() if not k.startswith("backbone.fc")}, partial / "embedding_model.pth")
    with pytest.raises(InputError, match="missing keys"):
        get_diarizer("anime", model=partial)
    # the released architecture (no config.json) does not fit the small checkpoint
    (partial / "config.json").unlink()
    (partial / "embedding_model.pth").write_bytes((model_dir / "embedding_model.pth").read_bytes())
    with pytest.raises(InputError, match="do not fit|missing keys"):
        get_diarizer("anime", model=partial)
    with pytest.raises(InputError, match="unknown speaker embedding"):
        get_diarizer("embedded", embedding="xvector")


@pytest.mark.parametrize(("case", "file", "problem"), [
    ("junk", "embedding_model.pth",
     "not a PyTorch file that torch.load can read (expected an anime-speaker-embedding checkpoint)"),
    ("other", "embedding_model.pth",
     "not an anime-speaker-embedding checkpoint (it holds a pickled torch.nn.modules.linear.Linear)"),
    ("unknown", "config.json", "unknown key 'bogus_key' (config.json holds only the architecture: n_mels, "
                               "lin_neurons, channels, kernel_sizes, num_groups)"),
    ("badvalue", "config.json", "channels must be a list of positive integers (one per layer), not 'x'"),
    ("nocfg", "embedding_model.pth", "weights do not fit the architecture (no config.json: the released "
                                     "architecture assumed; "),
    ("wrongcfg", "embedding_model.pth", "weights do not fit the architecture (per config.json; "),
])
def test_broken_model_files_are_one_clear_line(model_dir, tmp_path, capsys, case, file, problem):
    """These were PyTorch's 6-line "Weights only load failed" text with ANSI codes, a bare number, a 3-line
    `size mismatch` dump, an empty reason, or (an unknown config key) silently the default architecture."""
    import json

    import torch

    from anim400k.cli import main

    folder = tmp_path / case
    folder.mkdir()
    (folder / "embedding_model.pth").write_bytes((model_dir / "embedding_model.pth").read_bytes())
    (folder / "config.json").write_text((model_dir / "config.json").read_text())
    if case == "junk":
        (folder / "embedding_model.pth").write_bytes(b"junk\n")
    elif case == "other":
        torch.save(torch.nn.Linear(2, 2), folder / "embedding_model.pth")
    elif case == "unknown":
        (folder / "config.json").write_text(json.dumps({"bogus_key": 1}))
    elif case == "badvalue":
        (folder / "config.json").write_text(json.dumps({"channels": "x"}))
    elif case == "nocfg":
        (folder / "config.json").unlink()
    elif case == "wrongcfg":
        (folder / "config.json").write_text(json.dumps({"lin_neurons": 64}))
    with pytest.raises(InputError) as info:
        ae.load_anime_encoder(str(folder))
    assert info.value.path.endswith(f"{case}/{file}")
    assert info.value.problem.startswith(problem), info.value.problem
    assert "\n" not in info.value.message and "\x1b" not in info.value.message
    media = tmp_path / "a.wav"
    sf.write(media, np.zeros(16000, np.float32), 16000)
    out = tmp_path / "x.rttm"
    assert main(["diarize", str(media), "--stream", "0", "--diarizer", "anime", "--model", str(folder),
                 "--out", str(out)]) == 2
    assert capsys.readouterr().err.splitlines() == [f"anim400k: error: {info.value.message}"]
    assert not out.exists()


def test_missing_package_is_clear(model_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "anime_speaker_embedding", None)
    ae._load.cache_clear()
    with pytest.raises(BackendUnavailable, match=r"anim400k\[anime\]"):
        get_diarizer("anime", model=model_dir)
    ae._load.cache_clear()


def test_cli_with_the_anime_diarizer(model_dir, episode, tmp_path, capsys):
    from anim400k.cli import main
    from anim400k.formats.rttm import read_rttm

    out = tmp_path / "jp.rttm"
    rc = main(["diarize", str(episode.media), "--out", str(out), "--diarizer", "anime", "--model", str(model_dir)])
    assert rc == 0, capsys.readouterr().err
    assert read_rttm(out)


def test_no_unloadable_speechbrain_placeholders_are_left_in_sys_modules(model_dir):
    """speechbrain's lazy placeholders broke any later walk over sys.modules (hypothesis tests failed)."""
    import sys

    from speechbrain.utils.importutils import LazyModule

    assert not [n for n, m in sys.modules.items() if isinstance(m, LazyModule) and m.lazy_module is None]
    for module in list(sys.modules.values()):  # what hypothesis and pickling do; must not raise
        getattr(module, "__file__", None)
