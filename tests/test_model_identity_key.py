"""A build's ASR and diarize stages are keyed on the files of the local model they load, not its path alone."""

from __future__ import annotations

import os
from pathlib import Path

from anim400k.dataset.context import EpisodeContext
from anim400k.dataset.identity import model_identity
from anim400k.dataset.options import BuildOptions
from anim400k.dataset.schedule import stage_inputs
from anim400k.model import EpisodeRef


def _ctx(tmp_path: Path, **options: object) -> EpisodeContext:
    ref = EpisodeRef("s", "1", str(tmp_path / "ep.mkv"), str(tmp_path / "ep.mkv"))
    return EpisodeContext(ref, str(tmp_path / "w"), str(tmp_path / "r"), BuildOptions(progress=False, **options))


def test_a_model_file_replaced_in_its_folder_changes_the_stage_key(tmp_path: Path) -> None:
    """A model.bin copied over another in the same folder: the build resumed both ASR stages with the old
    model's transcripts (only the folder's path was keyed; an outside tester), where `transcribe` ran again."""
    folder = tmp_path / "whisper"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"a" * 100)
    (folder / "config.json").write_text("{}")
    ctx = _ctx(tmp_path, asr_model=str(folder), diarizer="anime", diarizer_model=str(folder))
    keys = {s: stage_inputs(ctx, s) for s in ("asr_en", "asr_ja", "diarize")}
    assert all(keys.values()) and keys == {s: stage_inputs(ctx, s) for s in keys}  # the same files: the same key
    (folder / "model.bin").write_bytes(b"b" * 120)  # another model's weights, same path
    assert all(stage_inputs(ctx, s) != k for s, k in keys.items())
    assert stage_inputs(_ctx(tmp_path), "asr_en") == "" and stage_inputs(_ctx(tmp_path), "diarize") == ""


def test_model_identity_of_a_file_a_folder_and_a_name(tmp_path: Path) -> None:
    model = tmp_path / "m.th"
    model.write_bytes(b"x")
    first = model_identity(str(model))
    os.utime(model, ns=(1, 1))
    assert model_identity(str(model)) != first and model_identity(None) == "" and model_identity("large-v3") == ""


def test_device_cuda_without_a_gpu_is_refused_before_any_stage(monkeypatch) -> None:
    """Each episode ran its first stages and then failed diarize with an internal error (an outside tester)."""
    import pytest
    import torch

    from anim400k.dataset.preflight import check_backends
    from anim400k.errors import InputError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InputError, match=r"--device cuda: this machine has no CUDA GPU \(PyTorch sees none\)"):
        check_backends(BuildOptions(progress=False, asr_device="cuda"))
    check_backends(BuildOptions(progress=False, asr_device="cpu"))  # nothing to say
