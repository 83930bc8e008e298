"""Clips of a release that evaluation needs: which clips, their audio/video, their split."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..formats import ids

SPLITS = ("train", "validation", "valid", "test", "all")


@dataclass(frozen=True)
class EvalClip:
    """One aligned clip with the paths evaluation uses (paths may not exist)."""

    show_key: str
    episode: str
    index: int
    en_clip: str
    jp_clip: str
    en_text: str
    jp_text: str
    en_audio: Path
    jp_audio: Path
    jp_video: Path
    en_video: Path

    @property
    def video(self) -> Path | None:
        """The JP source video clip if the release has it (else the EN one, else None)."""
        for p in (self.jp_video, self.en_video):
            if p.is_file():
                return p
        return None


def _fallback_split(show_key: str) -> str:
    """Deterministic show-level split (80/10/10 by a hash of the show key)."""
    h = int(hashlib.sha256(show_key.encode("utf-8")).hexdigest()[:8], 16) % 10
    return "test" if h == 0 else "validation" if h == 1 else "train"


def show_splits(ds: object) -> dict[str, str] | None:
    """Show key -> split from ``anim400k.tasks.split_of`` (None when that module is missing)."""
    try:
        from ..tasks import split_of as tasks_split_of
    except ImportError:
        return None
    return {k: str(v) for k, v in tasks_split_of(ds).items()}  # type: ignore[arg-type]


def load_clips(dataset: str | Path, split: str = "test") -> list[EvalClip]:
    """The clips of ``split`` (``all`` for every clip) of the release at ``dataset``, in file order."""
    from ..formats.release import load

    if split not in SPLITS:
        raise InputError(f"unknown split {split!r} (use one of {', '.join(SPLITS)})", dataset)
    ds = load(dataset)
    out: list[EvalClip] = []
    try:
        records = list(ds.clips())
    except (ValueError, KeyError) as exc:
        raise InputError(f"malformed annotations: {exc}", ds.annotations) from exc
    splits = show_splits(ds) if split != "all" else None
    want = "validation" if split == "valid" else split
    for rec in records:
        if split != "all":
            got = splits.get(rec.show_key) if splits is not None else _fallback_split(rec.show_key)
            if got != want:
                continue
        try:
            out.append(
                EvalClip(
                    show_key=rec.show_key,
                    episode=rec.episode,
                    index=rec.index,
                    en_clip=rec.en_clip,
                    jp_clip=rec.jp_clip,
                    en_text=rec.en_text,
                    jp_text=rec.jp_text,
                    en_audio=ds.audio_path(rec.en_clip),
                    jp_audio=ds.audio_path(rec.jp_clip),
                    jp_video=ds.video_path(rec.jp_clip),
                    en_video=ds.video_path(rec.en_clip),
                )
            )
        except ValueError as exc:
            raise InputError(
                f"bad clip ID in show {rec.show_key} episode {rec.episode}: {exc}", ds.annotations
            ) from exc
    return out


def system_audio(system_dir: str | Path, en_clip: str) -> Path | None:
    """The dub of ``en_clip`` in a system folder (``DIR/F/UUID.mp3``, or .wav/.flac), if present."""
    folder, u = ids.parse_id(en_clip)
    base = Path(system_dir)
    for sub in (base / folder, base / ids.AUDIO_ARCHIVE / folder, base):
        for ext in ("mp3", "wav", "flac", "m4a"):
            p = sub / f"{u}.{ext}"
            if p.is_file():
                return p
    return None
