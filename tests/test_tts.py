"""TTS backends: espeak-ng synthesis, text checks, registry, XTTS loading."""

from __future__ import annotations

import numpy as np
import pytest

from anim400k.errors import AnimError, BackendUnavailable, InputError
from anim400k.tts import UnspeakableText, VoiceProfile, get_synthesizer
from anim400k.tts.base import clean_text


@pytest.fixture(scope="module")
def espeak():
    return get_synthesizer("espeak")


def test_espeak_speaks_at_requested_rate(espeak):
    y = espeak.synthesize("Hello there, how are you today?", VoiceProfile("a", 0), 24000)
    assert y.dtype == np.float32 and y.ndim == 1
    assert np.all(np.isfinite(y))
    assert 0.8 < len(y) / 24000 < 4.0
    assert np.sqrt(np.mean(y**2)) > 0.01


def test_espeak_speed_shortens_speech(espeak):
    text = "We are going to be late for school again."
    slow = espeak.synthesize(text, None, 16000, speed=0.8)
    fast = espeak.synthesize(text, None, 16000, speed=1.5)
    assert len(fast) < 0.75 * len(slow)


def test_espeak_voices_differ_by_speaker_and_stay_stable(espeak):
    v0, v1 = VoiceProfile("a", 0, f0_median=120.0), VoiceProfile("b", 1, f0_median=120.0)
    assert espeak.voice_for(v0) != espeak.voice_for(v1)
    assert espeak.voice_for(v0) == espeak.voice_for(VoiceProfile("a", 0, f0_median=121.0))
    high = espeak.voice_for(VoiceProfile("c", 0, f0_median=250.0))
    assert high[0].split("+")[1].startswith("f")
    # any mix of low, high and unknown pitch: five speakers get five voices
    for pitches in ([100.0, None, 100.0, None, 100.0], [None] * 5, [250.0, 100.0, None, 250.0, None]):
        names = {espeak.voice_name(VoiceProfile(f"s{i}", i, f0_median=f0)) for i, f0 in enumerate(pitches)}
        assert len(names) == 5, pitches


@pytest.mark.parametrize("text", ["", "   ", "😀🎉", "…!?", "x " * 300])
def test_unspeakable_text_is_refused(espeak, text):
    with pytest.raises(UnspeakableText):
        espeak.synthesize(text, None, 16000)


def test_clean_text_strips_markup():
    assert clean_text("{\\an8}<i>Hi</i>   there", 100) == "Hi there"


def test_unknown_backend():
    with pytest.raises(AnimError, match="unknown TTS backend"):
        get_synthesizer("nope")


def test_xtts_needs_a_model_folder(tmp_path):
    with pytest.raises(BackendUnavailable):
        get_synthesizer("xtts")
    with pytest.raises(InputError, match="lacks"):
        get_synthesizer("xtts", model_path=tmp_path)


def _tiny_xtts(folder):
    """Write a randomly initialised, tiny XTTS (config.json, model.pth, vocab.json) into ``folder``."""
    import json

    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from TTS.tts.configs.xtts_config import XttsConfig
    from TTS.tts.models.xtts import Xtts, XttsArgs

    vocab = {"[STOP]": 0, "[UNK]": 1, "[SPACE]": 2, "[START]": 3, "[en]": 4}
    for c in "abcdefghijklmnopqrstuvwxyz'.,!?":
        vocab[c] = len(vocab)
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tok.save(str(folder / "vocab.json"))
    args = XttsArgs(
        gpt_layers=1,
        gpt_n_model_channels=32,
        gpt_n_heads=2,
        gpt_max_audio_tokens=64,
        gpt_max_text_tokens=64,
        gpt_max_prompt_tokens=16,
        gpt_num_audio_tokens=34,
        gpt_start_audio_token=32,
        gpt_stop_audio_token=33,
        decoder_input_dim=32,
        d_vector_dim=32,
        tokenizer_file=str(folder / "vocab.json"),
    )
    config = XttsConfig(model_args=args, languages=["en"])
    config.save_json(str(folder / "config.json"))
    model = Xtts.init_from_config(config)
    model.tokenizer.__init__(vocab_file=str(folder / "vocab.json"))
    model.init_models()
    torch.save({"model": model.state_dict()}, folder / "model.pth")
    json.loads((folder / "config.json").read_text())


def test_xtts_loads_and_speaks_with_a_tiny_model(tmp_path):
    pytest.importorskip(
        "TTS", reason="coqui-tts (and a torchaudio matching torch) not importable", exc_type=ImportError
    )
    _tiny_xtts(tmp_path)
    tts = get_synthesizer("xtts", model_path=tmp_path)
    ref = np.sin(2 * np.pi * 150 * np.arange(16000 * 3) / 16000).astype(np.float32) * 0.3
    y = tts.synthesize("hi there.", VoiceProfile("a", 0, reference=ref, reference_sr=16000), 16000)
    assert y.dtype == np.float32 and y.ndim == 1 and y.size > 0
    assert np.all(np.isfinite(y))


def test_every_espeak_voice_has_a_trackable_pitch_in_its_pool(espeak):
    """Pitch matching needs the synthesized pitch: each pooled voice is voiced, low < high, all distinct."""
    from anim400k.dub.voice import pitch_stats
    from anim400k.tts.espeak import HIGH_VOICES, LOW_VOICES

    text = "Where are you going? This is the place."
    medians, sounds = {}, set()
    for pool in (LOW_VOICES, HIGH_VOICES):
        for index in range(len(pool)):
            profile = VoiceProfile("s", index, f0_median=100.0 if pool is LOW_VOICES else 220.0)
            assert espeak.voice_for(profile) == pool[index]
            y = espeak.synthesize(text, profile, 16000)
            sounds.add(y.tobytes())
            stats = pitch_stats(y, 16000)
            assert stats is not None, pool[index]
            medians[pool[index]] = stats[0]
    assert len(sounds) == len(LOW_VOICES) + len(HIGH_VOICES)  # no two entries sound the same
    assert max(medians[v] for v in LOW_VOICES) < min(medians[v] for v in HIGH_VOICES), medians
