"""The video's English track as the dub diarizer's second view of each speaker, as in the build.

A dubbed episode carries the EN dub beside the JP track. The build's diarize stage diarizes the JP
mix minus the backing the two tracks share (the dual-track separation), with the EN speech at the
same moments as a second view of each speaker (docs/diarization.md, *Dual-track diarization*). The dub
diarized the vocals of its single-track separator (HPSS), JP alone: on a 24-minute, 3-character episode
it found 4 speakers where the build finds 3 (docs/dubbing.md, *Which audio the diarizer hears*).
:func:`en_view_stream` picks the EN track, :func:`diarization_views` makes the two views.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..media.probe import (  # noqa: F401  (DUB_TITLE: the dub track's title, re-exported)
    DUB_TITLE,
    MediaInfo,
    StreamInfo,
    is_dub_title,
    normalize_language,
    secondary_title,
    title_languages,
)


def en_view_stream(info: MediaInfo, source: StreamInfo, selector: str | int = "eng") -> StreamInfo | None:
    """The audio stream of ``info`` whose speech is the diarizer's second view, or None.

    ``selector`` is an audio-stream index (obeyed unless it is the ``source``) or a language tag: the
    streams tagged with it (or untagged and titled with it, ``English``), never the ``source``, a
    commentary or description track, nor a track an earlier dub added (:func:`is_dub_title`: its voices
    are that dub's casting, not the characters' actors); of several, the default-flagged one, else the first.
    """
    audio = info.audio_streams
    if isinstance(selector, int) or str(selector).strip().isdigit():
        i = int(selector)
        chosen = audio[i] if 0 <= i < len(audio) else None
        return chosen if chosen is not None and chosen != source else None
    want = normalize_language(str(selector))
    found = [s for s in audio if s != source and not secondary_title(s.title) and not is_dub_title(s.title)
             and (s.language == want or (s.language is None and want in title_languages(s.title)))]
    if not found:
        return None
    return next((s for s in found if s.default), found[0])


@dataclass
class Views:
    """The JP speech (the mix minus the backing both tracks share) and the EN speech on its timeline, at
    the same rate; ``why`` (with both None) says why there are none: the dual-track separation fell back."""

    speech: np.ndarray | None
    other: np.ndarray | None
    why: str = ""


def diarization_views(jp: np.ndarray, en: np.ndarray, sr: int) -> Views:
    """The two views of :class:`Views` from the JP and EN mixes (``sr`` Hz, mono), as the build makes them
    (:func:`anim400k.diarize.views.dual_track_speech`: its time map and shared backing); none when the
    separation falls back to one track (the EN track out of sync, another cut, silent)."""
    from ..diarize.views import other_speech
    from ..separate import get_separator

    x = np.asarray(jp, np.float32)
    sep = get_separator("dualtrack").separate(x, sr, reference=np.asarray(en, np.float32))
    if sep.fallback:
        return Views(None, None, sep.reason or "the dual-track separation fell back to one track")
    backing = np.asarray(sep.backing[: len(x)], np.float32)
    speech = x.copy()
    speech[: len(backing)] -= backing
    return Views(speech, other_speech(en, sr, len(x), backing, sep.time_map))
