"""The other language's track for the embedded diarizer (``diarize(..., other=)``, :mod:`.views`): its analysis
before the JP windows are known (speech regions, level-normalised audio, mel frames, F0, frame power) and its
view at the JP windows (embeddings and pitch of the windows it voices).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import spectral, views
from .audio import LEVEL_FRAME, SR, frame_power, to_16k
from .embedded_config import EmbeddedConfig


@dataclass
class OtherTrack:
    """The other track's analysis that does not depend on the JP windows (see :func:`other_track`)."""

    regions: np.ndarray
    yn: np.ndarray
    mel: np.ndarray | None
    f0: np.ndarray
    #: power of the (not level-normalised) speech per ``LEVEL_FRAME`` samples
    power: np.ndarray


def other_track(cfg: EmbeddedConfig, mel_of: Callable[[np.ndarray], np.ndarray | None], other: np.ndarray, sr: int,
                n: int) -> OtherTrack | None:
    """What the other track's view needs before the JP windows are known: its speech regions,
    level-normalised audio, mel frames (``mel_of``: the diarizer's, None when unused), F0 track and frame power
    (None when it has no speech): ``other`` (at ``sr`` Hz) resampled to 16 kHz, padded or cut to ``n`` samples."""
    from . import embedding, pitch, vad

    y = np.nan_to_num(to_16k(other, sr))
    if len(y) != n:  # (no further copy of a long track that already has the JP track's length)
        y = np.pad(y, (0, max(0, n - len(y))))[:n]
    regions = vad.speech_regions(y, SR, threshold=cfg.vad_threshold, end_threshold=cfg.vad_end_threshold)
    if len(regions) == 0:
        return None
    yn = embedding.normalize_regions(y, regions, SR)
    return OtherTrack(regions, yn, mel_of(yn), pitch.f0_track(y, SR), frame_power(y))


def other_view_at(cfg: EmbeddedConfig, embed: Callable[..., np.ndarray],
                  spectral_of: Callable[[np.ndarray, np.ndarray], np.ndarray | None], track: OtherTrack | None,
                  windows: np.ndarray, jp_power: np.ndarray | None = None) -> views.OtherView | None:
    """The other ``track``'s view at the JP ``windows``: embeddings of the windows it voices
    (``jp_power``: the JP speech's :func:`.audio.frame_power`, for the ``other_level_gate``); ``embed(audio, windows,
    mel=)`` and ``spectral_of(mel, windows)``: the diarizer's window embeddings and spectral statistics."""
    from . import pitch

    if track is None:
        return None
    valid = views.covered_fraction(windows, track.regions) >= cfg.other_min_cover
    if cfg.other_level_gate is not None and jp_power is not None:
        valid &= views.level_gate(windows, track.power, jp_power, LEVEL_FRAME / SR, valid, cfg.other_level_gate)
    if valid.sum() < 3:
        return None
    idx = np.nonzero(valid)[0]
    raw_part = embed(track.yn, windows[idx], mel=track.mel)  # EN-voiced windows only
    spec = None if track.mel is None else spectral_of(track.mel, windows[idx])
    part = raw_part if spec is None else spectral.augment(raw_part, spec, cfg.spectral_weight, scaled=True)
    emb = np.zeros((len(windows), part.shape[1]), np.float32)
    emb[idx] = part
    raw = np.zeros((len(windows), raw_part.shape[1]), np.float32)
    raw[idx] = raw_part
    return views.OtherView(emb, pitch.window_pitch(track.f0, windows), track.f0, valid, raw)
