"""A model's weight file checked before a build's stages: cut short, empty or no checkpoint at all is one line
naming the file at preflight; whole files of each format pass."""

from __future__ import annotations

import json
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from anim400k.checkpoint_file import check_checkpoint_file
from anim400k.errors import InputError


def _zip_checkpoint(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"w": 1}))
        zf.writestr("archive/data/0", b"\0" * 4096)
    return path


def _safetensors(path: Path, data: bytes = b"\0" * 16) -> Path:
    header = json.dumps({"__metadata__": {"format": "pt"},
                         "w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    return path


def test_whole_checkpoints_of_each_format_pass(tmp_path: Path) -> None:
    check_checkpoint_file(_zip_checkpoint(tmp_path / "a.pt"), "a model")
    legacy = tmp_path / "legacy.bin"
    legacy.write_bytes(pickle.dumps({"state": [1, 2, 3]}, protocol=2))
    check_checkpoint_file(legacy, "a model")
    check_checkpoint_file(_safetensors(tmp_path / "m.safetensors"), "a model")
    np.savez(tmp_path / "plda.npz", mu=np.zeros(3))
    check_checkpoint_file(tmp_path / "plda.npz", "a model")


def test_a_real_torch_save_passes(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.zeros(8)}, tmp_path / "t.pt")
    check_checkpoint_file(tmp_path / "t.pt", "a model")
    torch.save({"w": torch.zeros(8)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    check_checkpoint_file(tmp_path / "old.pt", "a model")


def test_cut_empty_and_foreign_files_are_refused_naming_the_file(tmp_path: Path) -> None:
    whole = _zip_checkpoint(tmp_path / "whole.pt").read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(InputError, match=r"cut\.pt: cut short or damaged: a zip archive without its end "
                                         r"\(expected a demucs model"):
        check_checkpoint_file(cut, "a demucs model")
    empty = tmp_path / "empty.pth"
    empty.touch()
    with pytest.raises(InputError, match=r"empty\.pth: empty file \(expected a demucs model\)"):
        check_checkpoint_file(empty, "a demucs model")
    html = tmp_path / "model.bin"
    html.write_text("<html>404 Not Found</html>")  # a login page saved as the model
    with pytest.raises(InputError, match="model.bin: not a PyTorch file that torch.load can read"):
        check_checkpoint_file(html, "a pyannote segmentation checkpoint")
    short = _safetensors(tmp_path / "short.safetensors", data=b"\0" * 10)
    with pytest.raises(InputError, match="need 16 bytes of data, it holds 10"):
        check_checkpoint_file(short, "a model")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(struct.pack("<Q", 12) + b'{"w": [1, 2' + b"\0" * 20)
    with pytest.raises(InputError, match="safetensors header does not parse"):
        check_checkpoint_file(bad, "a model")
