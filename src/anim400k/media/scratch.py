"""Whole-track arrays kept in an unnamed temporary file instead of the process's memory.

The cut stage needs the episode's JP and EN tracks and its backing at the clips' rate (44.1 kHz),
whole and at random places (clips, the backing's 30 s blocks, the level pieces spread over the
episode): 2 h of mono float32 is 1.27 GB a track. :class:`FileSink` takes the decoder's pieces as
they come and writes them to a file; :meth:`FileSink.join` maps it read-only, so the track is page
cache the system can drop and read again, not anonymous memory it would have to keep (a 16 GB
laptop then holds a movie's tracks without swapping). :func:`scratch_zeros` is a writable array of
the same kind. The file has no name (``O_TMPFILE`` where the filesystem has it, else deleted at once
by :func:`tempfile.TemporaryFile`): it goes away with the array, or with the process however it ends.
It lives in ``$ANIM400K_CACHE/scratch`` (a local disk; ``/tmp`` may be memory itself).
"""

from __future__ import annotations

import tempfile
from typing import IO

import numpy as np

from ..storage import cache_dir


def scratch_file() -> IO[bytes]:
    """An unnamed, empty temporary file in ``cache_dir()/scratch`` (created if missing), open for writing."""
    folder = cache_dir() / "scratch"
    folder.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryFile(dir=folder)


def scratch_zeros(n: int) -> np.ndarray:
    """A writable float32 array of ``n`` zeros backed by a :func:`scratch_file` (sparse until written)."""
    f = scratch_file()
    if n <= 0:
        f.close()
        return np.zeros(0, np.float32)
    f.truncate(4 * n)
    with f:  # the mapping keeps the file open
        return np.memmap(f, dtype=np.float32, mode="r+", shape=(n,))


class FileSink:
    """Pieces ``(channels, n)`` float32 appended in order to a :func:`scratch_file`; :meth:`join` maps them.

    The same interface as :class:`~.blocks.BlockJoiner` (what ``decode_audio(..., on_disk=True)`` gathers into).
    """

    def __init__(self) -> None:
        self._file: IO[bytes] | None = scratch_file()
        self._channels: int | None = None
        self.samples = 0  # samples per channel appended so far

    def __len__(self) -> int:
        """1 when something was appended (the file holds it), else 0."""
        return int(self.samples > 0)

    def append(self, piece: np.ndarray) -> None:
        """Write the next piece (``(channels, n)``; every piece has the same number of channels)."""
        if self._file is None:
            raise ValueError("the sink was already joined")
        if self._channels is None:
            self._channels = int(piece.shape[0])
        elif piece.shape[0] != self._channels:
            raise ValueError(f"a piece of {piece.shape[0]} channels after pieces of {self._channels}")
        self._file.write(np.ascontiguousarray(piece.T, dtype=np.float32).tobytes())  # frames interleaved
        self.samples += piece.shape[1]

    def first_channels(self) -> int | None:
        """The number of channels of the pieces written (None when there are none)."""
        return self._channels

    def join(self, n_channels: int) -> np.ndarray:
        """The samples as a read-only ``(channels, samples)`` float32 array mapped from the file.

        ``n_channels`` is the shape's first axis when nothing was appended (then an ordinary empty array).
        """
        f, self._file = self._file, None
        if f is None:
            raise ValueError("the sink was already joined")
        with f:  # the mapping keeps the file open
            if not self.samples or self._channels is None:
                return np.zeros((n_channels, 0), np.float32)
            f.flush()
            frames = np.memmap(f, dtype=np.float32, mode="r", shape=(self.samples, self._channels))
        return frames.T
