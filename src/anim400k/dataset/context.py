"""What a stage gets to work with: the episode, its work folder, the release folder, the options."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model import Clip, EpisodeRef, Subtitle, TimeMap
from .options import BuildOptions

if TYPE_CHECKING:
    import numpy as np


@dataclass(slots=True)
class EpisodeContext:
    """One episode's inputs and output locations (picklable; sent to workers).

    ``remote`` is the output URL when the output is remote: ``work_dir`` and ``release_dir``
    are then paths in the driver's staging folder, which a task rebases onto its own node's
    staging folder (:mod:`anim400k.dataset.remote`).
    """

    ref: EpisodeRef
    work_dir: str
    release_dir: str
    options: BuildOptions
    remote: str | None = None
    #: where the stage tasks report how far they are (:mod:`anim400k.dataset.progress_channel`); None: they do not
    progress_dir: str | None = None

    @property
    def work(self) -> Path:
        """The episode's work folder (created on demand)."""
        p = Path(self.work_dir)
        p.mkdir(parents=True, exist_ok=True)
        return p

    def artifact(self, name: str) -> Path:
        """Path of a stage artifact inside the work folder."""
        return self.work / name

    def read_json(self, name: str) -> Any:
        """Load a JSON artifact of an earlier stage."""
        return json.loads(self.artifact(name).read_text(encoding="utf-8"))

    def subtitles(self) -> list[Subtitle]:
        """The subtitles stage's events (``subtitles.json``, on the JP timeline), with the speaker the file
        names where it names one."""
        return [Subtitle(float(e["start"]), float(e["end"]), str(e["text"]), e.get("speaker") or None)
                for e in self.read_json("subtitles.json")["events"]]

    def clips(self) -> list[Clip]:
        """The align stage's clips (``clips.json``), as :class:`Clip` objects."""
        return [Clip.from_dict(d) for d in self.read_json("clips.json")["clips"]]

    def analysis_audio(self, lang: str) -> np.ndarray:
        """The episode's decoded mono 16 kHz track of ``lang`` (written by the audio stage)."""
        import soundfile as sf

        data, _ = sf.read(self.artifact(f"{lang}.16k.flac"), dtype="float32")
        return data

    def timemap(self) -> TimeMap:
        """The sync stage's TimeMap (identity if sync is off or not confident; piecewise for an edited EN medium)."""
        d = self.read_json("sync.json")
        return TimeMap.from_dict(d) if d["applied"] else TimeMap()
