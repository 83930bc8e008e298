"""Clips of a release that evaluation needs: which clips, their audio/video, their split."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..formats import ids


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


def show_splits(ds: object) -> dict[str, str]:
    """Show key -> split from ``anim400k.tasks.split_of``."""
    from ..tasks import split_of as tasks_split_of

    return {k: str(v) for k, v in tasks_split_of(ds).items()}  # type: ignore[arg-type]


def load_clips(dataset: str | Path, split: str = "test") -> list[EvalClip]:
    """The clips of ``split`` (``all`` for every clip; ``valid``/``val`` mean ``validation``) of a release.

    A split that holds no show of the release raises :class:`InputError` naming the splits it has.
    """
    from ..release import load, require_valid
    from ..tasks import normalize_split, require_split

    want = normalize_split(split)
    ds = load(dataset)
    require_valid(ds)  # a malformed release is one clear line, not an empty or odd selection
    out: list[EvalClip] = []
    splits = show_splits(ds) if want != "all" else {}
    if want != "all":
        require_split(splits, want, dataset)
    try:
        records = list(ds.clips())
    except (ValueError, KeyError) as exc:
        raise InputError(f"malformed annotations: {exc}", ds.annotations) from exc
    for rec in records:
        if want != "all" and splits.get(rec.show_key) != want:
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
