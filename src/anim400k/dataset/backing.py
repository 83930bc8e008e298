"""The cut stage's backing track: the separate stage's 16 kHz backing brought to the clips' rate, full band."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..model import TimeMap
from .context import EpisodeContext


def release_backing(ctx: EpisodeContext, jp_audio: np.ndarray, en_audio: np.ndarray | None, sr: int,
                    intervals: list[tuple[float, float]], on_disk: bool = False) -> np.ndarray:
    """The episode's backing at ``sr`` (the JP clips' rate, ``jp_audio``'s length), full band after a
    dual-track separation (:func:`anim400k.separate.fullband.fullband_backing`).

    Below 7 kHz it is ``backing.flac`` (the 16 kHz estimate the mixing ratios were measured on); above,
    after a dual-track separation (``separate.json``), the dual-track estimate at ``sr`` from
    ``jp_audio``, ``en_audio`` (the EN mix decoded at ``sr``) and the separation's time map, except in
    its single-track regions. A single-track or demucs backing, or a ``separate.json`` of a build
    before the time map was kept, stays band-limited (upsampled). Only the frames near the clips'
    ``intervals`` (JP seconds) are computed (:func:`anim400k.separate.fullband.block_pieces`); with
    ``on_disk`` into a memory map of a temporary file (:func:`anim400k.media.scratch.scratch_zeros`).
    """
    import soundfile as sf

    from ..separate.fullband import full_band_possible, fullband_backing

    sep: dict[str, Any] = ctx.read_json("separate.json")
    low, low_sr = sf.read(ctx.artifact("backing.flac"), dtype="float32")
    tm = sep.get("time_map")
    if not (full_band_possible(str(sep.get("method", "")), bool(sep.get("fallback", True)))
            and isinstance(tm, dict) and en_audio is not None):
        return fullband_backing(jp_audio, sr, low, int(low_sr), needed=intervals, on_disk=on_disk)
    time_map = TimeMap.from_dict(tm)
    regions = [(float(r["start"]), float(r["end"])) for r in sep.get("single_track_regions") or []]
    return fullband_backing(jp_audio, sr, low, int(low_sr), en=en_audio, time_map=time_map, regions=regions,
                            needed=intervals, on_disk=on_disk)
