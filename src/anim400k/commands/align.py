"""``anim400k align --en EN --jp JP [--subtitles S] --out CLIPS.json``: align two transcripts into clips."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..model import DEFAULT_TOLERANCE_MS

#: keys of every clip object of the JSON list that ``align --out`` writes
CLIP_KEYS = ("jp_text", "en_text", "jp_start_time", "jp_end_time", "en_start_time", "en_end_time")


def register(app: typer.Typer) -> None:
    """Add the ``align`` command."""

    @app.command("align")
    def align(
        en: Annotated[Path, typer.Option("--en", help="EN transcript: Whisper/whisper.cpp/AWS JSON or SRT/VTT/ASS.")],
        jp: Annotated[Path, typer.Option("--jp", help="JP transcript: Whisper/whisper.cpp/AWS JSON or SRT/VTT/ASS.")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Output JSON list of clip objects.")],
        subtitles: Annotated[
            Path | None, typer.Option(help="EN subtitles of the JP track: file or video subtitle stream.")
        ] = None,
        subtitle_stream: Annotated[
            str | None, typer.Option(help="Subtitle stream index or language (video input; of several in the "
                                          "language, not a forced, signs-and-songs or SDH one).",
                                     show_default="the English dialogue stream")
        ] = None,
        tolerance_ms: Annotated[
            int, typer.Option(help="Merge segments whose endpoints are this close (ms).")
        ] = DEFAULT_TOLERANCE_MS,
        offset: Annotated[
            float | None, typer.Option(help="JP->EN offset in seconds: t_en = offset + t_jp*(1+drift).",
                                       show_default="0")
        ] = None,
        drift: Annotated[
            float | None, typer.Option(help="Relative drift of the EN timeline (0.041 = 4.1 % slower).",
                                       show_default="0")
        ] = None,
        time_map: Annotated[
            Path | None, typer.Option("--time-map", help="JP->EN time map: the JSON of `anim400k sync --out` or a "
                                                         "build's sync.json, piecewise for an edited EN medium "
                                                         "(instead of --offset/--drift).")
        ] = None,
        keep_signs: Annotated[
            bool, typer.Option("--keep-signs", help="Keep ASS signs and song lines in the subtitles "
                                                    "(left out by default: docs/asr.md).")
        ] = False,
    ) -> None:
        """Align EN and JP transcripts into clips (the paper's 125 ms recursive merge)."""
        from ..align import Alignment, align_files, clip_record, edited_en_warning, outside_jp_medium_warning
        from ..errors import InputError
        from ..formats.subtitles import left_out_note
        from ..fsutil.atomic import write_json_atomic
        from ..fsutil.no_clobber import refuse_foreign_output, refuse_overwriting
        from ..fsutil.sniffers import json_objects_with
        from ..fsutil.writable import check_output_file
        from ..media.probe import parse_stream_selector

        if time_map is not None and (offset is not None or drift is not None):
            raise InputError("--time-map cannot be given together with --offset or --drift: the time map holds them")
        refuse_overwriting({"--out": out}, {"--en": en, "--jp": jp, "--subtitles": subtitles, "--time-map": time_map})
        check_output_file(out)
        refuse_foreign_output("--out", out, json_objects_with(CLIP_KEYS),
                              "clips that anim400k align wrote (a JSON list of clip objects)")
        stream = None if subtitle_stream is None else parse_stream_selector(subtitle_stream)
        tm = None
        if time_map is not None:
            from ..sync.files import read_time_map

            tm, tm_note = read_time_map(time_map)
            if tm_note:
                typer.echo(f"warning: {time_map}: {tm_note}", err=True)
        edited: list[Alignment] = []
        clips, n_en, n_jp, outside, left_out = align_files(
            en, jp, subtitles, stream, tolerance_ms, offset or 0.0, drift or 0.0, keep_signs=keep_signs,
            subtitle_option="--subtitle-stream",
            on_stream_note=lambda note: typer.echo(f"note: {subtitles}: {note}", err=True),
            time_map=tm, on_alignment=edited.append)
        # a clip reaching before the EN medium's start (a negative --offset) is clamped there, or dropped when
        # most of it lies before, as a build does; it was clamped silently (by the timestamp format)
        from ..dataset.episode_clips import inside_en_medium

        clips, before_en, clamped = inside_en_medium(clips, None)
        write_json_atomic(out, [clip_record(c) for c in clips])
        if before_en or clamped:
            typer.echo(f"warning: {clamped} clip(s) reaching before the EN medium's start were clipped to it and "
                       f"{before_en} more than half before it were dropped (check --offset)", err=True)
        matched = sum(len(c.jp_segments) for c in clips)
        typer.echo(f"{len(clips)} clips from {n_en} EN / {n_jp} JP segments; "
                   f"{n_jp - matched} JP segments unmatched -> {out}")
        if outside:
            typer.echo(f"warning: {outside_jp_medium_warning(outside)}", err=True)
        if subtitles is not None and clips and not any(c.en_subtitles for c in clips):
            # an empty file, or one whose events were all malformed or lie elsewhere: said, as the build says it
            typer.echo(f"warning: {subtitles}: no subtitle event overlaps a clip, so no clip has en_subtitles (is it "
                       "this episode's EN subtitles, in the JP timeline?)", err=True)
        if tm is not None and tm.pieces:
            a = edited[0]
            typer.echo(f"note: {edited_en_warning(a.en_unmapped, a.straddling, a.split)}", err=True)
        note = left_out_note(left_out, subtitles or "", "pass --keep-signs")
        if note:
            typer.echo(f"note: {note}", err=True)
