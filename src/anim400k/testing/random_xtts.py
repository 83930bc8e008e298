"""Build a tiny, randomly initialised XTTS-v2 model folder, offline.

This exists so that tests and benchmarks can run the *real* XTTS loading and inference code
of :mod:`anim400k.tts.xtts` (``XttsConfig.load_json`` -> ``Xtts`` -> ``load_checkpoint`` ->
conditioning latents from a reference recording -> GPT generation -> HiFi-GAN decoding)
without downloading any weights. The speech it produces is meaningless noise; the shapes,
sample rates, conditioning and code paths are those of the released model.

The folder has the three files the released ``coqui/XTTS-v2`` snapshot has and the backend
requires: ``config.json``, ``model.pth`` and ``vocab.json`` (a character-level tokenizer
built with ``tokenizers``). The GPT is one layer of width 32; the HiFi-GAN decoder and the
speaker encoder keep their released architecture (the speaker embedding is 512-dimensional),
so the checkpoint is ~100 MB.

Requires the ``xtts`` extra (``coqui-tts`` with ``torchaudio``/``torchcodec``).
"""

from __future__ import annotations

from pathlib import Path

from ..offline import force_offline

#: Characters the tiny tokenizer knows; anything else becomes ``[UNK]``.
ALPHABET = "abcdefghijklmnopqrstuvwxyz'.,!?-"


def build_random_xtts(folder: str | Path, seed: int = 0, language: str = "en") -> Path:
    """Write a randomly initialised tiny XTTS model into ``folder`` (created) and return it.

    ``seed`` fixes the random weights, so two builds with the same seed are identical.
    """
    force_offline()
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from TTS.tts.configs.xtts_config import XttsConfig
    from TTS.tts.models.xtts import Xtts, XttsArgs

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    vocab = {"[STOP]": 0, "[UNK]": 1, "[SPACE]": 2, "[START]": 3, f"[{language}]": 4}
    for char in ALPHABET:
        vocab[char] = len(vocab)
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tokenizer.save(str(out / "vocab.json"))
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
        gpt_use_perceiver_resampler=True,  # as in the released XTTS-v2 config: 32 conditioning latents
        tokenizer_file=str(out / "vocab.json"),
    )
    config = XttsConfig(model_args=args, languages=[language])
    config.save_json(str(out / "config.json"))
    torch.manual_seed(seed)
    model = Xtts(config)
    model.tokenizer.__init__(vocab_file=str(out / "vocab.json"))
    model.init_models()
    torch.save({"model": model.state_dict()}, out / "model.pth")
    return out
