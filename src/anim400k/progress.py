"""Progress bars of the long commands: tqdm on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

from typing import Any


def progress_bar(enabled: bool = True, **kwargs: Any) -> Any:
    """A ``tqdm`` bar (keyword arguments as tqdm's) that draws only when ``enabled`` and stderr is a terminal.

    Logs and pipes stay clean: off a terminal the bar is disabled, but counts as usual.
    """
    from tqdm.auto import tqdm

    return tqdm(disable=None if enabled else True, dynamic_ncols=True, **kwargs)
