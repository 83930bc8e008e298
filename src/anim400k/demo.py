"""Inputs of ``anim400k demo``: synthetic episodes, show metadata and a manifest."""

from __future__ import annotations

from pathlib import Path

import yaml

from .fsutil import write_json_atomic, write_text_atomic

DEMO_SHOW = "synthetic_show_s1"


def demo_offsets(episodes: int, seed: int) -> list[tuple[float, float]]:
    """The (offset, drift) of each demo episode: the first in sync, the others shifted (and one drifting)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = [(0.0, 0.0)]
    for i in range(1, episodes):
        offset = float(np.round(rng.uniform(-3.0, 3.0), 3))
        out.append((offset, 0.0 if i % 2 else 0.001))
    return out[:episodes]


def prepare_demo_inputs(out: str | Path, episodes: int = 2, seed: int = 0, duration: float = 60.0) -> Path:
    """Synthesize the demo episodes (skipping ones already made) and write ``manifest.yaml``; return its path."""
    from .synth import make_episode, make_show_metadata

    out = Path(out).resolve()
    inputs = out / "inputs"
    entries = []
    for i, (offset, drift) in enumerate(demo_offsets(episodes, seed)):
        ep_dir = inputs / f"ep{i + 1:02d}"
        ep = make_episode(ep_dir, duration=duration, seed=seed * 1000 + i, offset=offset, drift=drift)
        entries.append({
            "episode": str(i + 1),
            "media": str(Path(ep.media).relative_to(out)),
            "subtitles": str(Path(ep.subtitles).relative_to(out)),
            "truth": str(Path(ep.truth).relative_to(out)),
        })
    meta = make_show_metadata(DEMO_SHOW, episodes, seed, pictures_dir=inputs / "pictures", relative_to=inputs)
    write_json_atomic(inputs / "show.json", meta)
    manifest = {"shows": [{"key": DEMO_SHOW, "metadata": "inputs/show.json", "episodes": entries}]}
    path = out / "manifest.yaml"
    write_text_atomic(path, yaml.safe_dump(manifest, sort_keys=False))
    return path
