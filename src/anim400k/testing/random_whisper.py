"""Build a tiny, randomly initialised multilingual Whisper as a CTranslate2 folder, offline.

This exists so that tests and benchmarks can exercise the *real* faster-whisper loading
and decoding code (feature extraction, batched/sequential decoding, word timestamps via
cross-attention alignment, the translate task) without downloading any weights. The
model's output text is meaningless; its timings and structure are real.

Everything is made locally:

* a byte-level BPE tokenizer (``tokenizers``) whose special tokens follow Whisper's
  layout: ``<|endoftext|>``, ``<|startoftranscript|>``, one ``<|xx|>`` per language that
  faster-whisper knows, ``<|translate|>``, ``<|transcribe|>``, ``<|startoflm|>``,
  ``<|startofprev|>``, ``<|nocaptions|>``, ``<|notimestamps|>``; filler tokens pad the
  text vocabulary to Whisper's 50257 entries, the last being the empty token by which
  CTranslate2 recognises a multilingual model, and the 1501 timestamp tokens follow
  ``<|notimestamps|>`` (large-v3 layout, 51866 entries);
* a ``transformers`` ``WhisperForConditionalGeneration`` with tiny dimensions;
* the conversion with ``ctranslate2.converters.TransformersConverter``.

Requires ``transformers`` and ``ctranslate2`` (dev/whisper extras).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from ..offline import force_offline

VOCAB_SIZE = 51866  # large-v3 layout: 50257 text tokens, 100 languages, 1501 timestamps
N_TIMESTAMPS = 1501  # <|0.00|> .. <|30.00|>


def _special_tokens() -> list[str]:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    langs = [f"<|{code}|>" for code in _LANGUAGE_CODES]
    return [
        "<|endoftext|>",
        "<|startoftranscript|>",
        *langs,
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nocaptions|>",
        "<|notimestamps|>",
    ]


def build_tokenizer(n_text_tokens: int):  # type: ignore[no-untyped-def]
    """A byte-level BPE ``tokenizers.Tokenizer``: 256 byte tokens, fillers up to ``n_text_tokens``,
    then Whisper's special tokens (ids ``n_text_tokens`` ...)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from tokenizers.pre_tokenizers import ByteLevel

    alphabet = ByteLevel.alphabet()
    vocab = {ch: i for i, ch in enumerate(sorted(alphabet))}
    k = 0
    while len(vocab) < n_text_tokens - 1:
        vocab.setdefault(f"zz{k}", len(vocab))
        k += 1
    # Multilingual Whisper vocabularies hold an empty token just before <|endoftext|>;
    # CTranslate2 recognises a multilingual model by its presence.
    vocab[""] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(_special_tokens())
    return tok


def build_random_whisper(
    out_dir: str | Path,
    d_model: int = 64,
    layers: int = 2,
    heads: int = 2,
    n_mels: int = 80,
    seed: int = 0,
    quantization: str | None = None,
    text_only: bool = True,
) -> Path:
    """Write a random tiny multilingual Whisper as a CTranslate2 model folder and return its path.

    The folder holds ``model.bin``, ``config.json``, ``vocabulary.json``, ``tokenizer.json`` and
    ``preprocessor_config.json``: exactly what ``faster_whisper.WhisperModel(path)`` loads.
    With ``text_only`` (default) decoding never ends by itself: callers bound it with
    faster-whisper's ``max_new_tokens``.
    """
    force_offline()
    import torch
    from ctranslate2.converters import TransformersConverter
    from transformers import (
        GenerationConfig,
        PreTrainedTokenizerFast,
        WhisperConfig,
        WhisperForConditionalGeneration,
    )

    out_dir = Path(out_dir)
    specials = _special_tokens()
    n_text = VOCAB_SIZE - N_TIMESTAMPS - len(specials)
    tok = build_tokenizer(n_text)
    eot = tok.token_to_id("<|endoftext|>")
    sot = tok.token_to_id("<|startoftranscript|>")
    no_ts = tok.token_to_id("<|notimestamps|>")
    assert no_ts + 1 + N_TIMESTAMPS == VOCAB_SIZE
    # Timestamp tokens are part of Whisper's tokenizer too (faster-whisper decodes them).
    tok.add_tokens([f"<|{i * 0.02:.2f}|>" for i in range(N_TIMESTAMPS)])

    torch.manual_seed(seed)
    config = WhisperConfig(
        vocab_size=VOCAB_SIZE,
        num_mel_bins=n_mels,
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        encoder_ffn_dim=4 * d_model,
        decoder_ffn_dim=4 * d_model,
        max_source_positions=1500,
        max_target_positions=448,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=sot,
        suppress_tokens=[],
        begin_suppress_tokens=[eot],
    )
    model = WhisperForConditionalGeneration(config).eval()
    if text_only:
        # Pin the logits of <|endoftext|>, the other special tokens and the timestamps at 0
        # (output projection rows; tied with the input embeddings): some of the 50k random
        # text-token logits always exceed 0, so greedy decoding emits text tokens until
        # ``max_new_tokens``. Without this a random model stops or jumps in time at random.
        with torch.no_grad():
            model.get_output_embeddings().weight[n_text:] = 0.0
    lang_ids = {t: tok.token_to_id(t) for t in specials[2:-6]}
    model.generation_config = GenerationConfig(
        decoder_start_token_id=sot,
        eos_token_id=eot,
        pad_token_id=eot,
        suppress_tokens=[],
        begin_suppress_tokens=[eot],
        lang_to_id=lang_ids,
        alignment_heads=[[layers - 1, h] for h in range(heads)],
        no_timestamps_token_id=no_ts,
    )
    with tempfile.TemporaryDirectory(prefix="random-whisper-") as tmp:
        hf_dir = Path(tmp) / "hf"
        model.save_pretrained(hf_dir)
        fast = PreTrainedTokenizerFast(
            tokenizer_object=tok,
            bos_token="<|endoftext|>",
            eos_token="<|endoftext|>",
            unk_token="<|endoftext|>",
            pad_token="<|endoftext|>",
        )
        fast.save_pretrained(hf_dir)
        # faster-whisper reads only these keys (written by hand: importing transformers'
        # feature extractor pulls in torchaudio, which is not needed here).
        preproc = {"feature_size": n_mels, "sampling_rate": 16000, "hop_length": 160,
                   "chunk_length": 30, "n_fft": 400}
        (hf_dir / "preprocessor_config.json").write_text(json.dumps(preproc) + "\n")
        converter = TransformersConverter(
            str(hf_dir),
            copy_files=["tokenizer.json", "preprocessor_config.json"],
            load_as_float16=False,
        )
        converter.convert(str(out_dir), quantization=quantization, force=True)
    meta = {"random": True, "d_model": d_model, "layers": layers, "heads": heads, "seed": seed,
            "text_only": text_only}
    (out_dir / "anim400k_random_model.json").write_text(json.dumps(meta) + "\n")
    return out_dir
