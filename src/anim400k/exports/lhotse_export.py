"""Lhotse export: ``recordings.jsonl.gz``, ``supervisions.jsonl.gz``, ``cuts.jsonl.gz``.

Each clip gives two recordings (``<uuid>_jp``, ``<uuid>_en``, probed by
``lhotse.Recording.from_file``), one supervision over each whole recording (text,
language ``Japanese``/``English``, the clip's speakers made unique per episode
(``SHOW/EPISODE/spk0``, :func:`speaker_label`) and joined by ``+``; show/episode/clip, the raw
episode-level ``speakers`` and ``speaker_confidence`` in ``custom``), and one ``MonoCut`` per
recording. Manifests are streamed with ``SequentialJsonlWriter`` and load back with
``lhotse.load_manifest``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import BackendUnavailable, InputError
from .common import CheckedRelease, staged_dir


def speaker_label(show: str, episode: str, speakers: list[str] | tuple[str, ...]) -> str | None:
    """The Lhotse ``speaker`` of a clip: each episode-level ID as ``SHOW/EPISODE/ID``, joined by ``+``.

    Diarization labels (``spk0``, ...) are per episode: the prefix keeps ``spk0`` of episode 1 and
    ``spk0`` of episode 2 two Lhotse speakers. ``None`` for a clip without speakers. An ID given twice is one
    speaker (docs/format.md: readers count distinct IDs; ``spk0+spk0`` was a Lhotse speaker of its own).
    """
    return "+".join(f"{show}/{episode}/{s}" for s in dict.fromkeys(speakers)) or None


def export(
    checked: CheckedRelease, out: Path, embed_audio: bool = False, shard_size: int = 100_000_000
) -> dict[str, Any]:
    """Write the three Lhotse manifests into ``out`` (audio stays in the release; paths absolute)."""
    try:
        from lhotse import Recording, SupervisionSegment
        from lhotse.cut import MonoCut
        from lhotse.serialization import SequentialJsonlWriter
    except ImportError as exc:  # pragma: no cover - part of the export extra
        raise BackendUnavailable("lhotse", "export", "needs the `lhotse` package") from exc

    ds = checked.ds
    n = 0
    with staged_dir(out, checked) as stage:
        with (
            SequentialJsonlWriter(stage / "recordings.jsonl.gz") as rec_w,
            SequentialJsonlWriter(stage / "supervisions.jsonl.gz") as sup_w,
            SequentialJsonlWriter(stage / "cuts.jsonl.gz") as cut_w,
        ):
            for clip in checked.clips():
                uuid = clip.jp_clip.rsplit("/", 1)[-1]
                for lang, language, cid, text in (
                    ("jp", "Japanese", clip.jp_clip, clip.jp_text),
                    ("en", "English", clip.en_clip, clip.en_text),
                ):
                    path = ds.audio_path(cid).resolve()
                    rid = f"{uuid}_{lang}"
                    try:
                        rec = Recording.from_file(path, recording_id=rid)
                    except Exception as exc:  # lhotse raises plain exceptions for undecodable audio
                        raise InputError(f"lhotse cannot read this audio: {exc}", path) from exc
                    sup = SupervisionSegment(
                        id=rid,
                        recording_id=rid,
                        start=0.0,
                        duration=rec.duration,
                        channel=0,
                        text=text,
                        language=language,
                        speaker=speaker_label(clip.show_key, clip.episode, clip.speakers),
                        custom={
                            "show": clip.show_key,
                            "episode": clip.episode,
                            "clip_index": clip.index,
                            "clip_id": cid,
                            "multi_speaker": clip.is_multi_speaker,
                            "speakers": list(clip.speakers),
                            "speaker_confidence": clip.speaker_confidence,
                        },
                    )
                    cut = MonoCut(
                        id=rid, start=0.0, duration=rec.duration, channel=0, recording=rec, supervisions=[sup]
                    )
                    rec_w.write(rec)
                    sup_w.write(sup)
                    cut_w.write(cut)
                n += 1
    return {
        "format": "lhotse",
        "out": str(out),
        "clips": n,
        "recordings": 2 * n,
        "files": ["recordings.jsonl.gz", "supervisions.jsonl.gz", "cuts.jsonl.gz"],
    }
