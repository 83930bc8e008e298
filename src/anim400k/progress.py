"""Progress bars of the long commands: tqdm on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def progress_bar(enabled: bool = True, **kwargs: Any) -> Any:
    """A ``tqdm`` bar (keyword arguments as tqdm's) that draws only when ``enabled`` and stderr is a terminal.

    Logs and pipes stay clean: off a terminal the bar is disabled, but counts as usual.
    """
    from tqdm.auto import tqdm

    return tqdm(disable=None if enabled else True, dynamic_ncols=True, **kwargs)


def file_bar(path: Path, desc: str, enabled: bool = True, passes: int = 1) -> Any:
    """A bar over the bytes of ``path`` read ``passes`` times (total known from its size; see :func:`progress_bar`).

    Give its ``update`` to :attr:`anim400k.release.Dataset.on_read` to follow passes over
    an annotations file. Left off the screen when done (``leave=False``).
    """
    try:
        size: int | None = path.stat().st_size * passes
    except OSError:
        size = None
    return progress_bar(enabled, total=size, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, leave=False)
