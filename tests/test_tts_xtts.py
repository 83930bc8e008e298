"""The XTTS voice-cloning backend through its real loading and inference code, on a tiny random model.

``anim400k.testing.random_xtts`` builds a randomly initialised XTTS folder (config.json, model.pth,
vocab.json) like the released one; the backend loads it exactly as it loads XTTS-v2. The
speech is noise, so the tests check structure, conditioning and the pipeline, not quality.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from anim400k.errors import BackendUnavailable, InputError
from anim400k.tts import VoiceProfile, get_synthesizer

SR = 16000


@pytest.fixture(scope="module")
def xtts_folder(tmp_path_factory):
    from anim400k.testing.random_xtts import build_random_xtts

    return build_random_xtts(tmp_path_factory.mktemp("xtts") / "tiny-xtts")


@pytest.fixture(scope="module")
def xtts(xtts_folder):
    return get_synthesizer("xtts", model_path=xtts_folder)


def _tone(freq: float, seconds: float = 3.0) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    return (0.3 * np.sin(2 * np.pi * freq * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def test_xtts_needs_a_complete_model_folder(tmp_path):
    from anim400k.errors import ModelRequired

    with pytest.raises(ModelRequired, match="model_path= is required for xtts") as missing:
        get_synthesizer("xtts")  # the package is installed: no install hint
    assert "pip install" not in str(missing.value)
    with pytest.raises(InputError, match="not found"):
        get_synthesizer("xtts", model_path=tmp_path / "nowhere")
    with pytest.raises(InputError, match="lacks config.json, model.pth, vocab.json"):
        get_synthesizer("xtts", model_path=tmp_path)


def test_missing_extra_names_the_install_command(xtts_folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "TTS", None)  # import TTS... now raises ImportError
    monkeypatch.setitem(sys.modules, "TTS.tts.configs.xtts_config", None)
    with pytest.raises(BackendUnavailable, match=r"pip install 'anim400k\[xtts\]'"):
        get_synthesizer("xtts", model_path=xtts_folder)


def test_cuda_without_a_gpu_is_a_clear_error(xtts_folder, monkeypatch):
    import torch

    from anim400k.dub.pipeline import DubOptions, make_synthesizer
    from anim400k.errors import AnimError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(AnimError, match="no CUDA GPU"):
        make_synthesizer(DubOptions(tts="xtts", tts_model=str(xtts_folder), device="cuda"))


@pytest.mark.parametrize(("empty", "problem"), [("config.json", "empty file"), ("vocab.json", "empty file"),
                                                ("model.pth", "empty file")])
def test_empty_files_are_named(xtts_folder, tmp_path, empty, problem):
    """Was ``cannot load the XTTS model: Expecting value: line 1 column 1 (char 0)``, naming no file."""
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("config.json", "vocab.json", "model.pth"):
        (bad / name).write_bytes(b"" if name == empty else b"x" if name == "model.pth"
                                 else (xtts_folder / name).read_bytes())
    with pytest.raises(InputError, match=problem) as info:
        get_synthesizer("xtts", model_path=bad)
    assert info.value.path == str(bad / empty)
    (bad / empty).write_text("{not json" if empty.endswith(".json") else "x")
    if empty.endswith(".json"):
        with pytest.raises(InputError, match="not a readable JSON file") as info:
            get_synthesizer("xtts", model_path=bad)
        assert info.value.path == str(bad / empty)


def test_corrupt_checkpoint_is_one_clear_error(xtts_folder, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("config.json", "vocab.json"):
        (bad / name).write_bytes((xtts_folder / name).read_bytes())
    (bad / "model.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError) as info:
        get_synthesizer("xtts", model_path=bad)
    assert info.value.message == (f"{bad / 'model.pth'}: not a PyTorch file that torch.load can read "
                                  "(expected an XTTS checkpoint)")


@pytest.mark.parametrize("kind", ["junk", "other"])
def test_a_model_pth_of_another_kind_is_named(xtts_folder, tmp_path, kind):
    """Was `cannot load the XTTS model: 174812789` (junk) or PyTorch's "Weights only load failed" advice
    with ANSI escape codes (another program's .pth, here a pickled module)."""
    import torch

    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("config.json", "vocab.json"):
        (bad / name).write_bytes((xtts_folder / name).read_bytes())
    if kind == "junk":
        (bad / "model.pth").write_bytes(b"junk\n")
    else:
        torch.save(torch.nn.Linear(2, 2), bad / "model.pth")
    with pytest.raises(InputError) as info:
        get_synthesizer("xtts", model_path=bad)
    assert info.value.path == str(bad / "model.pth")
    assert info.value.problem == ("not a PyTorch file that torch.load can read (expected an XTTS checkpoint)"
                                  if kind == "junk" else
                                  "not an XTTS checkpoint (it holds a pickled torch.nn.modules.linear.Linear)")


def test_loaded_model_is_the_saved_one(xtts, xtts_folder):
    import torch

    saved = torch.load(xtts_folder / "model.pth", map_location="cpu", weights_only=False)["model"]
    state = xtts.model.state_dict()
    compared = [k for k in saved if k in state and saved[k].dtype.is_floating_point]
    assert len(compared) > 50
    assert all(torch.equal(saved[k], state[k]) for k in compared)
    config = json.loads((xtts_folder / "config.json").read_text())
    assert xtts.output_sr == config["audio"]["output_sample_rate"] == 24000


def test_speaks_finite_audio_at_the_requested_rate(xtts):
    voice = VoiceProfile("spk0", 0, reference=_tone(150), reference_sr=SR)
    y = xtts.synthesize("hi there.", voice, SR)
    assert y.dtype == np.float32 and y.ndim == 1
    assert 0 < y.size <= 64 * 1024 / 24000 * SR + 1  # at most gpt_max_audio_tokens codes of 1024 samples
    assert np.all(np.isfinite(y)) and float(np.abs(y).max()) > 0
    again = xtts.synthesize("hi there.", voice, SR)
    np.testing.assert_array_equal(y, again)  # seeded: the same line twice is the same audio


def test_voice_is_cloned_per_speaker_from_the_reference(xtts):
    low = VoiceProfile("spkA", 0, reference=_tone(110), reference_sr=SR)
    high = VoiceProfile("spkB", 1, reference=_tone(330, 4.0), reference_sr=SR)
    gpt_a, emb_a = xtts.conditioning(low)
    gpt_b, emb_b = xtts.conditioning(high)
    assert xtts.conditioning(low)[0] is gpt_a  # computed once per speaker
    assert emb_a.shape == emb_b.shape and emb_a.shape[1] == 512
    assert not np.allclose(emb_a.numpy(), emb_b.numpy())  # the embedding depends on the reference
    assert gpt_a.shape == gpt_b.shape == (1, 32, 32) and not np.allclose(gpt_a.numpy(), gpt_b.numpy())
    assert xtts.voice_name(low) == "xtts:spkA" and xtts.voice_name(high) == "xtts:spkB"
    same_text = "we go now."
    assert not np.array_equal(xtts.synthesize(same_text, low, SR), xtts.synthesize(same_text, high, SR))


def test_speaker_without_reference_is_refused_when_the_model_has_no_speakers(xtts):
    from anim400k.errors import AnimError

    with pytest.raises(AnimError, match="reference recording"):
        xtts.conditioning(VoiceProfile("nobody", 5))


def test_dub_cli_with_xtts_end_to_end(xtts_folder, tmp_path):
    """``anim400k dub --tts xtts --tts-model DIR``: every line cloned from its speaker's separated vocals."""
    from anim400k.cli import main
    from anim400k.media import probe
    from anim400k.synth import make_episode

    ep = make_episode(tmp_path / "ep", duration=10.0, seed=11, n_speakers=2, voices="espeak")
    out, rep = tmp_path / "dubbed.mkv", tmp_path / "report.json"
    args = ["dub", str(ep.media), "--out", str(out), "--subtitles", str(ep.subtitles), "--report", str(rep)]
    assert main([*args, "--tts", "xtts", "--tts-model", str(xtts_folder), "--num-speakers", "2"]) == 0
    data = json.loads(rep.read_text())
    spoken = [ln for ln in data["lines"] if ln.get("voice")]
    assert spoken, data["summary"]
    assert {ln["voice"] for ln in spoken} <= {"xtts:spk0", "xtts:spk1"}
    assert data["summary"]["spoken"] == len(spoken)
    src, dst = probe(ep.media), probe(out)
    assert len(dst.audio_streams) == len(src.audio_streams) + 1
    assert dst.audio_streams[-1].language == "eng" and dst.audio_streams[-1].default


def test_a_vocab_json_that_is_no_tokenizer_is_named(xtts_folder, tmp_path):
    """``{"x": 1}`` in vocab.json read as ``cannot load the XTTS model: expected `,` or `}` at line 1 column 5``,
    naming the folder, like a syntax error in no file (an outside tester)."""
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("config.json", "model.pth"):
        (bad / name).write_bytes((xtts_folder / name).read_bytes())
    (bad / "vocab.json").write_text('{"x": 1}')
    with pytest.raises(InputError, match="not a tokenizer file the XTTS model can use") as info:
        get_synthesizer("xtts", model_path=bad)
    assert info.value.path == str(bad / "vocab.json")
