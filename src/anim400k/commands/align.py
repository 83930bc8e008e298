"""``anim400k align --en EN --jp JP [--subtitles S] --out CLIPS.json``: align two transcripts into clips."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

MEDIA_SUFFIXES = (".mkv", ".mp4", ".webm", ".mov", ".m4v", ".avi", ".ts")


def clip_record(clip: Any) -> dict[str, Any]:
    """A clip as a release-format object (``HH:MM:SS.mmm`` times; ``speakers`` empty here)."""
    from ..release import clip_to_release_dict

    d = clip_to_release_dict(clip)
    return {k: v for k, v in d.items() if k not in ("jp_clip", "en_clip") or v}


def align_files(
    en: str | Path,
    jp: str | Path,
    subtitles: str | Path | None = None,
    subtitle_stream: str | int = 0,
    tolerance_ms: int = 125,
    offset: float = 0.0,
    drift: float = 0.0,
) -> tuple[list[Any], int, int]:
    """Read the EN/JP transcripts (any supported format) and subtitles, and align them.

    ``offset``/``drift`` map the JP timeline onto the EN one (``t_en = offset + t_jp * (1 + drift)``).
    Subtitles are a file (SRT/VTT/ASS) or, for a media path, its subtitle stream
    ``subtitle_stream``; they are in the JP timeline. Returns ``(clips, n_en, n_jp)``.
    """
    from ..align import align_clips
    from ..errors import InputError
    from ..formats.subtitles import read_subtitle_stream, read_subtitles
    from ..formats.transcripts import read_transcript
    from ..model import EN, JP, TimeMap

    en_t = read_transcript(en, language=EN)
    jp_t = read_transcript(jp, language=JP)
    subs = []
    if subtitles is not None:
        p = Path(subtitles)
        is_media = p.suffix.lower() in MEDIA_SUFFIXES
        subs = read_subtitle_stream(p, subtitle_stream) if is_media else read_subtitles(p)
    if not 1.0 + drift > 0:
        raise InputError(f"--drift {drift} would reverse time")
    tm = TimeMap(offset=offset, drift=drift)
    try:
        clips = align_clips(en_t.segments, jp_t.segments, subs, tolerance_ms=tolerance_ms,
                            jp_to_common=tm.jp_to_en, common_to_jp=tm.en_to_jp)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    return clips, len(en_t.segments), len(jp_t.segments)


def register(app: typer.Typer) -> None:
    """Add the ``align`` command."""

    @app.command("align")
    def align(
        en: Annotated[Path, typer.Option("--en", help="EN transcript: Whisper/AWS JSON or SRT/VTT/ASS.")],
        jp: Annotated[Path, typer.Option("--jp", help="JP transcript: Whisper/AWS JSON or SRT/VTT/ASS.")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Output JSON list of clip objects.")],
        subtitles: Annotated[
            Path | None, typer.Option(help="EN subtitles of the JP track: file or video subtitle stream.")
        ] = None,
        subtitle_stream: Annotated[
            str, typer.Option(help="Subtitle stream index or language (video input).")
        ] = "0",
        tolerance_ms: Annotated[
            int, typer.Option(help="Merge segments whose endpoints are this close (ms).")
        ] = 125,
        offset: Annotated[
            float, typer.Option(help="JP->EN offset in seconds: t_en = offset + t_jp*(1+drift).")
        ] = 0.0,
        drift: Annotated[
            float, typer.Option(help="Relative drift of the EN timeline (0.041 = 4.1 % slower).")
        ] = 0.0,
    ) -> None:
        """Align EN and JP transcripts into clips (the paper's 125 ms recursive merge)."""
        from ..fsutil import write_json_atomic

        stream: str | int = int(subtitle_stream) if subtitle_stream.isdigit() else subtitle_stream
        clips, n_en, n_jp = align_files(en, jp, subtitles, stream, tolerance_ms, offset, drift)
        write_json_atomic(out, [clip_record(c) for c in clips])
        matched = sum(len(c.jp_segments) for c in clips)
        typer.echo(f"{len(clips)} clips from {n_en} EN / {n_jp} JP segments; "
                   f"{n_jp - matched} JP segments unmatched -> {out}")
