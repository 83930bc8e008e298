"""Identities of a build's files: the inputs a stage reads (in its config key) and the outputs it wrote.

A file's identity is its size and modification time (``st_mtime_ns``) and, for a file of at most
:data:`HASH_LIMIT` bytes (subtitles, transcripts, ground truth, every JSON and RTTM work file),
the SHA-256 of its content. Media files and the work FLACs are not hashed: reading gigabytes of
video on every resume would cost more than the build's planning; an in-place edit of a medium is
still seen through its modification time (unless a tool restores it on purpose).

Outputs: the driver records each finished stage's work files (:func:`output_identities`) in the
catalog and, before skipping the stage on a later run, checks that each still has the recorded
identity (:func:`outputs_unchanged`): a small file by size and hash (a copied or touched file with
the same content is still good), a large one by size and modification time.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: files up to this size are identified by their content's hash too (a few MB hash in milliseconds)
HASH_LIMIT = 8 * 1024 * 1024


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_identity(path: str | Path, hash_small: bool = True) -> dict[str, Any] | None:
    """``{"size", "mtime_ns"[, "sha256"]}`` of a local file; ``None`` when it is missing or unreadable.

    ``hash_small``: also hash the content when the file has at most :data:`HASH_LIMIT` bytes.
    """
    p = Path(path)
    try:
        st = p.stat()
        if not p.is_file():
            return None
        ident: dict[str, Any] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
        if hash_small and st.st_size <= HASH_LIMIT:
            ident["sha256"] = _sha256(p)
    except OSError:
        return None
    return ident


#: a medium's fingerprint reads its first and last MiB and :data:`SAMPLE_BLOCKS` blocks of 64 KiB spread between
SAMPLE_EDGE = 1 << 20
SAMPLE_BLOCK = 64 * 1024
SAMPLE_BLOCKS = 16


def media_fingerprint(path: str | Path) -> str:
    """``SIZE:SHA256`` of a medium's sampled content: its first and last MiB and 16 blocks of 64 KiB spread
    evenly between (the whole file when it is smaller than that: 3 MiB read at most).

    Another encode or a remux of a medium differs there (its headers, its packets) even with the same size;
    a copy or a ``touch`` does not. Raises :class:`OSError` when the file cannot be read.
    """
    p = Path(path)
    h = hashlib.sha256()
    with open(p, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size <= 2 * SAMPLE_EDGE + SAMPLE_BLOCKS * SAMPLE_BLOCK:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        else:
            inner = size - 2 * SAMPLE_EDGE - SAMPLE_BLOCK
            offsets = [0] + [SAMPLE_EDGE + inner * i // (SAMPLE_BLOCKS - 1) for i in range(SAMPLE_BLOCKS)]
            for offset, length in zip([*offsets, size - SAMPLE_EDGE],
                                      [SAMPLE_EDGE] + [SAMPLE_BLOCK] * SAMPLE_BLOCKS + [SAMPLE_EDGE], strict=True):
                f.seek(offset)
                h.update(f.read(length))
    return f"{size}:{h.hexdigest()}"


def input_identity(path: str | None, hash_small: bool = True) -> str:
    """A string for a stage's config key that changes when the input ``path`` is replaced or edited.

    A local file: path, size and content hash (files up to :data:`HASH_LIMIT`, with ``hash_small``), else
    path, size and modification time;
    a missing one: path and ``missing`` (the stage fails on it). A URL: the URL with its remote
    size and version (ETag or modification time) when the store says them. ``None``: ``-``.
    """
    if path is None:
        return "-"
    from ..storage import is_url

    if is_url(path):
        return f"{path}:{_remote_version(path)}"
    local = path[len("file://"):] if path.startswith("file://") else path
    ident = file_identity(local, hash_small)
    if ident is None:
        return f"{path}:missing"
    # a hashed file is its content (a copy or a `touch` is the same input); a large one its size and time
    keys = ("size", "sha256") if "sha256" in ident else ("size", "mtime_ns")
    return f"{path}:" + ":".join(str(ident[k]) for k in keys)


def _remote_version(url: str) -> str:
    """Size and version (ETag, modification time...) of a remote input as the store reports them."""
    try:
        from ..storage import filesystem, remote_version

        fs, rpath = filesystem(url)
        return remote_version(fs.info(rpath))
    except Exception:  # noqa: BLE001 - a missing or unreachable input fails in its stage, with its reason
        return "?"


def output_identities(folder: str | Path, names: Iterable[str]) -> dict[str, dict[str, Any] | None]:
    """The identity of each of a stage's output files ``names`` in ``folder`` (``None``: not there)."""
    return {name: file_identity(Path(folder) / name) for name in names}


def outputs_unchanged(recorded: Mapping[str, Any]) -> bool:
    """True when every recorded output (identity by path) is still there and unchanged.

    A file recorded with a hash must have the same size and hash; one without (large), the same size and
    modification time. An output recorded as absent (``None``) is not checked.
    """
    for path, want in recorded.items():
        if not want:
            continue
        p = Path(path)
        try:
            st = p.stat()
        except OSError:
            return False
        if st.st_size != want.get("size"):
            return False
        if "sha256" in want:
            try:
                if _sha256(p) != want["sha256"]:
                    return False
            except OSError:
                return False
        elif st.st_mtime_ns != want.get("mtime_ns"):
            return False
    return True


def json_parses(path: str | Path) -> bool:
    """True when the file holds valid JSON (a JSON artifact of a record that has no output identities)."""
    try:
        with open(path, encoding="utf-8") as f:
            json.load(f)
    except (OSError, ValueError):
        return False
    return True



def model_identity(path: str | None) -> str:
    """A string for a stage's config key that changes when a local model (a file or a folder of files) is
    replaced or edited in place: each file's relative name, size and modification time (model files are
    gigabytes: not read). ``""`` for None or a name that is no local path (a Hugging Face cache name: its
    snapshot folders are immutable per revision). A build resumed the ASR and diarize stages of a model folder
    whose ``model.bin`` or checkpoint had been replaced (only the path was keyed; an outside tester)."""
    if not path:
        return ""
    root = Path(os.path.realpath(path))
    if root.is_file():
        st = root.stat()
        return json.dumps({"file": str(root), "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    if not root.is_dir():
        return ""
    from ..asr.track import folder_identity

    return json.dumps(folder_identity(root), sort_keys=True)
