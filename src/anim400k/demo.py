"""Inputs of ``anim400k demo``: synthetic episodes, show metadata and a manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from . import __version__
from .errors import InputError
from .fsutil.atomic import write_json_atomic, write_text_atomic
from .fsutil.writable import check_writable

DEMO_SHOW = "synthetic_show_s1"
#: where the demo keeps its inputs in ``--out`` (its manifest's show metadata lives in this folder)
DEMO_INPUTS = "inputs"
DEMO_METADATA = f"{DEMO_INPUTS}/show.json"
#: written into ``inputs/`` before the first episode is made: an ``inputs/`` holding it is the demo's own, also
#: when a demo killed while synthesizing left it without ``manifest.yaml`` (written last)
DEMO_MARK = f"{DEMO_INPUTS}/.anim400k-demo"
#: in each episode's folder, written after the episode: the arguments it was made with (a re-run keeps it)
EPISODE_STAMP = ".anim400k-demo-episode.json"


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
    """Synthesize the demo episodes (skipping ones already made) and write ``manifest.yaml``; return its path.

    Refuses (:class:`InputError`, before anything is written) a folder whose ``manifest.yaml`` or
    ``inputs/`` the demo did not write, and one holding a release no build wrote (see
    :func:`check_demo_folder`).
    """
    from .synth import make_episode, make_show_metadata

    check_writable({}, {"--out": out})  # a file as --out was 'OUT/inputs: Not a directory'
    out = Path(out).resolve()
    check_demo_folder(out)
    inputs = out / DEMO_INPUTS
    inputs.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / DEMO_MARK, "written by anim400k demo: its synthesized inputs\n")
    entries = []
    for i, (offset, drift) in enumerate(demo_offsets(episodes, seed)):
        ep_dir = inputs / f"ep{i + 1:02d}"
        args = {"duration": duration, "seed": seed * 1000 + i, "offset": offset, "drift": drift}
        if not _made_before(ep_dir, args):
            (ep_dir / EPISODE_STAMP).unlink(missing_ok=True)  # a run killed while remaking it left the old stamp
            make_episode(ep_dir, **args)
            write_json_atomic(ep_dir / EPISODE_STAMP, {**args, "version": __version__})
        entries.append({
            "episode": str(i + 1),
            "media": str((ep_dir / "episode.mkv").relative_to(out)),
            "subtitles": str((ep_dir / "episode.en.srt").relative_to(out)),
            "truth": str((ep_dir / "truth.json").relative_to(out)),
        })
    meta = make_show_metadata(DEMO_SHOW, episodes, seed, pictures_dir=inputs / "pictures", relative_to=inputs)
    write_json_atomic(inputs / "show.json", meta)
    manifest = {"shows": [{"key": DEMO_SHOW, "metadata": DEMO_METADATA, "episodes": entries}]}
    path = out / "manifest.yaml"
    write_text_atomic(path, yaml.safe_dump(manifest, sort_keys=False))
    return path


def _made_before(ep_dir: Path, args: dict[str, Any]) -> bool:
    """Whether an earlier demo of this version made the episode in ``ep_dir`` with these arguments and left all
    its files: it is kept as it is (made again, its files were rewritten with new times, and the build's score
    stage, which keys the truth's stems on their size and time, ran again on every re-run of the demo)."""
    try:
        stamp = json.loads((ep_dir / EPISODE_STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if stamp != {**args, "version": __version__}:
        return False
    try:
        truth = json.loads((ep_dir / "truth.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    names = ["episode.mkv", "episode.en.srt", *truth.get("stems", {}).values()] if isinstance(truth, dict) else []
    return bool(names) and all((ep_dir / str(n)).is_file() for n in names)


def is_demo_manifest(path: Path) -> bool:
    """Whether ``path`` is a manifest ``anim400k demo`` wrote: one show, the demo's key and metadata file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    shows = data.get("shows") if isinstance(data, dict) else None
    return (isinstance(shows, list) and len(shows) == 1 and isinstance(shows[0], dict)
            and shows[0].get("key") == DEMO_SHOW and shows[0].get("metadata") == DEMO_METADATA)


def check_demo_folder(out: Path) -> None:
    """Raise :class:`InputError` unless the demo may write its inputs and release into ``out``.

    The demo writes ``manifest.yaml`` and ``inputs/`` there and then builds into it. A folder that is new
    or empty, or an earlier demo's (its ``manifest.yaml`` is a demo manifest, or, for a demo killed before
    writing it, its ``inputs/`` holds :data:`DEMO_MARK`), is fine. A ``manifest.yaml`` the demo did not
    write, or an ``inputs/`` folder with anything in it but neither a demo manifest beside it nor the mark,
    are the user's own and would be replaced; a release that no build wrote would be replaced by the build.
    """
    from .dataset.out_folder import check_out_folder

    check_out_folder(lambda name: (out / name).exists(), str(out))
    manifest = out / "manifest.yaml"
    if manifest.exists():
        if not is_demo_manifest(manifest):
            raise InputError("holds a manifest.yaml that anim400k demo did not write: the demo would replace it; "
                             "give --out a new or empty folder, or an earlier demo's", str(out))
        return
    inputs = out / DEMO_INPUTS
    if (out / DEMO_MARK).is_file() and not (out / DEMO_MARK).is_symlink():  # a killed demo's: resumed
        return
    if (inputs.is_dir() and any(inputs.iterdir())) or (inputs.exists() and not inputs.is_dir()):
        raise InputError(f"holds an {DEMO_INPUTS}/ that anim400k demo did not write (no demo manifest.yaml beside "
                         "it): the demo would write into it; give --out a new or empty folder, or an earlier demo's",
                         str(out))
