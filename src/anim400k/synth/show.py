"""A synthetic show: several synthetic episodes plus invented show metadata (for build tests/demos)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..fsutil.atomic import write_json_atomic
from .episode import SynthEpisode, make_episode
from .metadata import make_show_metadata


@dataclass(frozen=True, slots=True)
class SynthShow:
    """Paths of a synthetic show: ``metadata`` (show-object JSON) and episodes by number ("1", "2", ...)."""

    out_dir: Path
    show_key: str
    metadata_path: Path
    metadata: dict[str, Any]
    episodes: dict[str, SynthEpisode]


def make_show(
    out_dir: str | Path,
    show_key: str = "synth_show",
    n_episodes: int = 2,
    duration: float = 20.0,
    seed: int = 0,
    offset: float = 0.0,
    drift: float = 0.0,
    separate_files: bool = False,
    pictures: bool = True,
    **episode_options: Any,
) -> SynthShow:
    """Write ``n_episodes`` synthetic episodes to ``out_dir/ep{N}/`` and the show metadata to
    ``out_dir/metadata.json`` (pictures in ``out_dir/pics/`` when ``pictures``).

    Episode ``N`` uses seed ``seed * 1000 + N``; ``offset``/``drift`` apply to every
    episode; other keyword arguments go to :func:`make_episode`.
    """
    out = Path(out_dir)
    meta = make_show_metadata(show_key, n_episodes, seed, pic_dir=out / "pics" if pictures else None,
                              relative_to=out)
    episodes = {
        str(n): make_episode(
            out / f"ep{n}", duration, seed=seed * 1000 + n, offset=offset, drift=drift,
            separate_files=separate_files, **episode_options,
        )
        for n in range(1, n_episodes + 1)
    }  # fmt: skip
    path = out / "metadata.json"
    write_json_atomic(path, meta)
    return SynthShow(out, show_key, path, meta, episodes)
