"""A model's weight file checked without loading it: empty, cut short or not a checkpoint at all.

The production backends load their weights inside a build's stages, after hours of ASR on a large build; a
checkpoint cut short by an interrupted copy failed every episode there. :func:`check_checkpoint_file` reads
only a file's ends and header, so a build's preflight can refuse it in a moment:

- a zip archive (``torch.save`` since PyTorch 1.6, ``.npz``): its central directory must be at its end (a
  file cut short has none);
- a pickle (``torch.save`` before 1.6): its protocol byte (a cut is not detectable without loading);
- safetensors: its JSON header must parse and its tensors' data must end where the file does.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

from .errors import InputError

#: the most bytes a safetensors header may take (the format's own limit is 100 MB)
MAX_SAFETENSORS_HEADER = 100_000_000


def check_checkpoint_file(path: Path, expected: str) -> None:
    """Raise :class:`InputError` naming ``path`` when it is not a complete checkpoint (see the module
    docstring); ``expected`` says what it should be, as in the loaders' messages (``"a demucs model"``)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror or exc} (expected {expected})", path) from None
    if size == 0:
        raise InputError(f"empty file (expected {expected})", path)
    if head.startswith(b"PK"):
        if not zipfile.is_zipfile(path):
            raise InputError(f"cut short or damaged: a zip archive without its end (expected {expected}; copy it "
                             "again)", path)
        return
    if head[:1] == b"\x80":  # a pickle (protocol 2 or later): torch.save's format before PyTorch 1.6
        return
    if len(head) == 8 and _safetensors_header(path, head, size, expected):
        return
    raise InputError(f"not a PyTorch file that torch.load can read (expected {expected})", path)


def _safetensors_header(path: Path, head: bytes, size: int, expected: str) -> bool:
    """Whether ``path`` is a safetensors file (False when it does not look like one); raise
    :class:`InputError` when it is one whose tensors' data does not end where the file does."""
    (length,) = struct.unpack("<Q", head)
    if not 2 <= length <= min(MAX_SAFETENSORS_HEADER, size - 8):
        return False
    with path.open("rb") as fh:
        fh.seek(8)
        raw = fh.read(length)
    if not raw.lstrip().startswith(b"{"):
        return False
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise InputError(f"damaged: its safetensors header does not parse (expected {expected})", path) from None
    entries = [e for k, e in header.items() if k != "__metadata__"] if isinstance(header, dict) else []
    offsets = [e.get("data_offsets") for e in entries if isinstance(e, dict)]
    ends = [o[1] for o in offsets if isinstance(o, list) and len(o) == 2 and isinstance(o[1], int)]
    data = size - 8 - length
    if ends and max(ends) != data:
        raise InputError(f"cut short or damaged: its tensors need {max(ends)} bytes of data, it holds {data} "
                         f"(expected {expected})", path)
    return True
