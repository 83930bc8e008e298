"""Whisper's temperature fallback, reproducible: each sampling call draws from a generator seeded anew.

faster-whisper decodes a window again by sampling (temperatures 0.2 ... 1.0, ``sampling_topk=0``) when the beam
search's text is rejected (a repetition loop, a low log-probability). CTranslate2 samples from a random generator
that lives in each of the model's worker threads (``thread_local``), seeded once, at its first use, from the global
seed (``ctranslate2.set_random_seed``; random unless set). So the same audio gave different text from run to run
and even within one process (a 25 s episode's English: three runs, three transcripts; ``evaluate``'s ASR of one
dub: 14 of 15 calls alike), and a resumed build's ``en_text`` could differ from an uninterrupted one's.

:class:`SeededSampling` stands in for the CTranslate2 model: decoding without sampling goes to the model as it
is; a sampling call goes to a fresh copy of the model (new worker thread, so a new generator, seeded from the
global seed, which :func:`seeded` sets to :data:`SAMPLING_SEED`). The text of a window then depends on that
window alone. A copy of whisper tiny.en (int8, CPU) loads in ~0.15 s, paid only by windows the fallback retries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: the seed every sampling call of the fallback starts from
SAMPLING_SEED = 20261207


class SeededSampling:
    """A CTranslate2 Whisper model whose sampling ``generate`` calls run on a fresh copy (module docstring)."""

    def __init__(self, real: Any, fresh: Callable[[], Any]) -> None:
        self._real = real
        self._fresh = fresh

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def generate(self, features: Any, prompts: Any, **kwargs: Any) -> Any:
        """``generate`` of the model, or of a fresh copy for a sampling call (``sampling_topk`` other than 1)."""
        if kwargs.get("sampling_topk", 1) == 1:
            return self._real.generate(features, prompts, **kwargs)
        return self._fresh().generate(features, prompts, **kwargs)


def seeded(model: Any, fresh: Callable[[], Any]) -> Any:
    """``model`` (faster-whisper's ``WhisperModel``) with its CTranslate2 model's sampling made reproducible:
    the global seed set to :data:`SAMPLING_SEED` and ``model.model`` a :class:`SeededSampling` over ``fresh``
    (a loader of one more copy: one worker, one thread)."""
    import ctranslate2

    ctranslate2.set_random_seed(SAMPLING_SEED)
    if not isinstance(model.model, SeededSampling):
        model.model = SeededSampling(model.model, fresh)
    return model
