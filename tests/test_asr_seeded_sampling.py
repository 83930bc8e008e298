"""Whisper's temperature fallback samples reproducibly (``asr/seeded_sampling.py``).

The same English track gave three transcripts in three runs (and ``evaluate`` one dub's text 14 times of 15):
CTranslate2's sampling generator lives in the model's worker thread, seeded once from a random global seed.
"""

from __future__ import annotations

import numpy as np

from anim400k.asr.seeded_sampling import SeededSampling


class _Model:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def generate(self, features: object, prompts: object, **kwargs: object) -> str:
        self.log.append(self.name)
        return self.name


def test_only_sampling_calls_go_to_a_fresh_copy() -> None:
    log: list[str] = []
    copies = iter(range(10))
    model = SeededSampling(_Model("shared", log), lambda: _Model(f"copy{next(copies)}", log))
    assert model.generate(None, [], beam_size=5) == "shared"
    assert model.generate(None, [], sampling_topk=1, sampling_temperature=1.0) == "shared"
    assert model.generate(None, [], beam_size=1, sampling_topk=0, sampling_temperature=0.2) == "copy0"
    assert model.generate(None, [], beam_size=1, sampling_topk=0, sampling_temperature=0.4) == "copy1"
    assert log == ["shared", "shared", "copy0", "copy1"] and model.name == "shared"  # other attributes: the model's


def test_the_shipped_model_samples_the_same_tokens_every_time() -> None:
    """Sampling from the shipped tiny.en over the same features gives the same tokens whatever was sampled
    before (the shared model's worker generator carried on from call to call)."""
    import ctranslate2

    from anim400k.asr import get_transcriber

    model = get_transcriber("whisper-tiny-en").load()
    assert isinstance(model.model, SeededSampling)
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(16000 * 5)).astype(np.float32)
    features = model.feature_extractor(audio)[:, :3000]
    features = np.pad(features, ((0, 0), (0, 3000 - features.shape[1])))[None].astype(np.float32)
    sv = ctranslate2.StorageView.from_array(np.ascontiguousarray(features))
    prompt = [[model.hf_tokenizer.token_to_id(t) for t in ("<|startoftranscript|>", "<|notimestamps|>")]]
    sample = {"beam_size": 1, "num_hypotheses": 3, "sampling_topk": 0, "sampling_temperature": 1.0,
              "max_length": 20}

    def draws(m: object, n: int) -> set[str]:
        return {str([r.sequences_ids for r in m.generate(sv, prompt, **sample)]) for _ in range(n)}  # type: ignore[attr-defined]

    assert len(draws(model.model._real, 6)) > 1  # the shared model: its workers' generators carry on
    first = draws(model.model, 1)
    model.model.generate(sv, prompt, **{**sample, "sampling_temperature": 0.8})  # another draw in between
    assert draws(model.model, 4) == first
