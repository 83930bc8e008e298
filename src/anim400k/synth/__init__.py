"""Synthetic dubbed episodes with known ground truth, for demos, tests and benchmarks.

``make_episode(out_dir, ...)`` writes one MKV (test-pattern video, ``jpn`` and ``eng``
audio sharing one music-and-effects stem), EN subtitles, the stems and ``truth.json``;
``load_truth`` reads the truth back; ``make_show_metadata`` invents show metadata in
the release format; ``make_show`` writes several episodes plus metadata. See
``docs/synthetic.md``.
"""

from __future__ import annotations

from .episode import STEM_FILES, SynthEpisode, make_episode
from .metadata import make_show_metadata
from .show import SynthShow, make_show
from .truth import Truth, TruthLine, TruthSubtitle, load_truth

__all__ = [
    "STEM_FILES",
    "SynthEpisode",
    "SynthShow",
    "Truth",
    "TruthLine",
    "TruthSubtitle",
    "load_truth",
    "make_episode",
    "make_show",
    "make_show_metadata",
]
