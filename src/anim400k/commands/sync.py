"""``anim400k sync JP_MEDIA EN_MEDIA``: estimate the offset and drift between the JP and EN media."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..signal import ANALYSIS_SR
from . import check_input_file, pick_stream, refuse_one_stream

#: keys of the JSON that ``sync --out`` writes (an earlier one may be replaced; another file is refused)
SYNC_OUT_KEYS = ("time_map", "confidence", "jp_media", "en_media", "sample_rate")


def register(app: typer.Typer) -> None:
    """Add the ``sync`` command."""

    @app.command("sync")
    def sync(
        jp_media: Annotated[Path, typer.Argument(help="Media with the JP audio.")],
        en_media: Annotated[Path, typer.Argument(help="Media with the EN audio (may be the same file).")],
        jp_stream: Annotated[str, typer.Option(help="JP audio stream: language tag or audio index.")] = "jpn",
        en_stream: Annotated[str, typer.Option(help="EN audio stream: language tag or audio index.")] = "eng",
        sr: Annotated[int, typer.Option(help="Decoding rate in Hz (8000-16000 is plenty).")] = ANALYSIS_SR,
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the estimate as JSON.")] = None,
    ) -> None:
        """Estimate t_en = offset + t_jp * (1 + drift) from the shared music-and-effects stem."""
        from ..errors import InputError
        from ..fsutil.atomic import write_json_atomic
        from ..fsutil.no_clobber import refuse_foreign_output, refuse_overwriting
        from ..fsutil.sniffers import json_object_with
        from ..fsutil.writable import check_output_file
        from ..sync.coarse_map import coarse_time_map, describe_coarse
        from ..sync.media import sync_media
        from ..sync.params import MIN_CONFIDENCE

        refuse_overwriting({"--out": out}, {"JP_MEDIA": jp_media, "EN_MEDIA": en_media})
        check_input_file(jp_media)
        check_input_file(en_media)
        if out is not None:
            check_output_file(out)  # a folder or a read-only place: before the estimate, not after
            refuse_foreign_output("--out", out, json_object_with(SYNC_OUT_KEYS),
                                  "a sync estimate that anim400k sync wrote (a JSON object with time_map, "
                                  "jp_media and en_media)")
        if not 4000 <= sr <= 48000:
            raise InputError(f"--sr must be within 4000..48000 Hz, got {sr}")
        jp_index = pick_stream(jp_media, jp_stream, "--jp-stream")
        en_index = pick_stream(en_media, en_stream, "--en-stream")
        refuse_one_stream(jp_media, en_media, jp_index, en_index,
                          "JP and EN are the same audio stream ({index}); pass --jp-stream N and --en-stream M "
                          "to compare two streams of one file")
        result = sync_media(jp_media, en_media, jp_index, en_index, sr)
        typer.echo(
            f"offset {result.offset * 1000:+.1f} ms  drift {result.drift * 100:+.4f} %  "
            f"confidence {result.confidence:.2f}"
        )
        from ..sync.pieces import describe_pieces

        for line in describe_pieces(result.time_map):
            typer.echo(line)
        if not result.time_map.precise and result.reliable:
            typer.echo(f"not sample-precise: within ~{result.time_map.precision_ms:.0f} ms ({result.reason})")
        if result.same_audio:
            typer.echo(f"warning: {result.reason}; a build would fail this episode", err=True)
        coarse = coarse_time_map(result)
        if coarse is not None:
            typer.echo(f"warning: confidence below {MIN_CONFIDENCE:.2f} ({result.reason}); a build would use the "
                       f"coarse windows' map: {describe_coarse(coarse)}, within ~{coarse.precision_ms:.0f} ms",
                       err=True)
        elif not result.same_audio and not result.reliable:
            typer.echo(
                f"warning: confidence below {MIN_CONFIDENCE:.2f} ({result.reason}); "
                "a build would use zero offset and no drift",
                err=True,
            )
        if out is not None:
            data = result.to_dict()
            data.update({"jp_media": str(jp_media), "en_media": str(en_media), "sample_rate": sr})
            if coarse is not None:  # what a build uses (and align --time-map reads) in place of the estimate
                data["coarse_time_map"] = coarse.to_dict()
            write_json_atomic(out, data)

