"""hibari-tts engine: English speech from the bundled voice "heart", with pitch shaping.

Only the voice that ships inside the package ("heart", American English, female) is ever
used; hibari's other voices would be downloaded on first use and are never asked for.
Pitch is shaped by scaling the F0 curve the model outputs before hibari's own vocoder
(``hibari.dsp.synth``) turns the predicted spectra into a waveform, so a lowered or raised
heart keeps its articulation (no phase-vocoder artefacts).
"""

from __future__ import annotations

import functools
import os

import numpy as np

from ..errors import BackendUnavailable

#: The only hibari voice used (bundled in the wheel; the others download on first use).
VOICE = "heart"
SAMPLE_RATE = 24000
#: Phonemes per model call (hibari splits longer sentences at clause punctuation).
MAX_PHONEMES = 400
#: F0 (Hz) below which hibari's vocoder (``hibari.dsp.pulses``) makes a frame unvoiced.
VOICED_HZ = 40.0


def threads() -> int:
    """onnxruntime threads for the neural engines: the CPUs this process may use, at most 4."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(4, n))


@functools.lru_cache(maxsize=1)
def load() -> object:
    """The hibari model with the bundled "heart" voice (loaded once per process)."""
    try:
        import hibari
        from hibari.voices import VOICES
    except ImportError as exc:
        raise BackendUnavailable("hibari", None, "pip install hibari-tts") from exc
    if not VOICES.get(VOICE, {}).get("bundled"):
        raise BackendUnavailable("hibari", None, f"this hibari-tts does not bundle the voice {VOICE!r}")
    return hibari.Hibari(voice=VOICE, threads=threads(), g2p=english_g2p())


@functools.lru_cache(maxsize=1)
def english_g2p() -> object:
    """hibari's English G2P (misaki conventions, American): text -> Kokoro-alphabet phonemes."""
    try:
        from hibari.g2p import G2P
    except ImportError as exc:
        raise BackendUnavailable("hibari", None, "pip install hibari-tts") from exc
    return G2P()


def english_phonemes(text: str) -> list[str]:
    """Phoneme strings of ``text`` (one per sentence; long sentences split at clause punctuation)."""
    return [p for p in load().phonemize(text) if p.strip()]


def version() -> str:
    """hibari-tts's version (part of the cache key)."""
    import hibari

    return str(getattr(hibari, "__version__", "?"))


def speak(phonemes: str, speed: float = 1.0, f0_scale: float = 1.0, seed: int = 0) -> np.ndarray:
    """One phoneme string spoken by heart at ``speed`` with its F0 scaled by ``f0_scale``;
    float32 mono at 24 kHz. ``seed`` fixes the noise component (same arguments, same samples)."""
    from hibari import dsp

    tts = load()
    ids = tts.ids(phonemes)
    if len(ids) < 3:
        return np.zeros(0, np.float32)
    out = tts.sess.run(None, {"ids": np.asarray([ids], np.int64), "speed": np.asarray([speed], np.float32)})
    lh, th, ln, lr, phi, f0 = (o[0] for o in out)
    f0 = np.asarray(f0, np.float32)
    voiced = f0 >= VOICED_HZ  # hibari's vocoder treats frames under 40 Hz as unvoiced: keep them so
    f0 = np.where(voiced, np.maximum(f0 * np.float32(f0_scale), VOICED_HZ + 1.0), f0).astype(np.float32)
    return np.asarray(dsp.synth(lh, th, ln, lr, phi, f0, np.random.default_rng(seed)), np.float32)
