"""The build's stages hand backend options (model, device) only to the backends that take them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anim400k.dataset import stages
from anim400k.dataset.context import EpisodeContext
from anim400k.dataset.options import BuildOptions
from anim400k.model import EpisodeRef, Transcript


def _ctx(tmp_path: Path, **options: object) -> EpisodeContext:
    ref = EpisodeRef("show", "1", str(tmp_path / "jp.mkv"), str(tmp_path / "en.mkv"))
    return EpisodeContext(ref, str(tmp_path / "work"), str(tmp_path / "rel"), BuildOptions(progress=False, **options))


@pytest.mark.parametrize(
    ("asr_en", "asr_ja", "expect_en", "expect_ja"),
    [
        ("auto", "auto", "faster-whisper", "faster-whisper"),  # auto + a model = faster-whisper
        ("pocketsphinx", "vad", "pocketsphinx", "vad"),  # embedded backends get no model/device
    ],
)
def test_asr_model_goes_to_faster_whisper_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, asr_en: str, asr_ja: str, expect_en: str, expect_ja: str
) -> None:
    import anim400k.asr as asr

    calls: list[tuple[str, dict[str, object]]] = []

    class Fake:
        def transcribe(self, audio: np.ndarray, sr: int, language: str) -> Transcript:
            return Transcript(language=language, segments=[], source="fake")

    def fake_get(name: str, **opts: object) -> Fake:
        calls.append((name, opts))
        return Fake()

    monkeypatch.setattr(asr, "get_transcriber", fake_get)
    monkeypatch.setattr(EpisodeContext, "analysis_audio", lambda ctx, lang: np.zeros(1600, np.float32))
    ctx = _ctx(tmp_path, asr_en=asr_en, asr_ja=asr_ja, asr_model="/models/large-v3", asr_device="cuda")
    stages.stage_asr_en(ctx)
    stages.stage_asr_ja(ctx)
    with_model = {"model": "/models/large-v3", "device": "cuda"}
    assert calls[0] == (expect_en, with_model if expect_en == "faster-whisper" else {})
    assert calls[1] == (expect_ja, with_model if expect_ja == "faster-whisper" else {})
