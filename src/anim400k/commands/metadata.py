"""``anim400k metadata FILE...``: validate show metadata and import character pictures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``metadata`` command."""

    @app.command("metadata")
    def metadata(
        files: Annotated[list[Path], typer.Argument(help="Show metadata JSON/YAML files (docs/format.md).")],
        out: Annotated[
            Path | None, typer.Option("--out", "-o", help="Write the normalised metadata JSON here.")
        ] = None,
        release: Annotated[
            Path | None,
            typer.Option(help="Release folder to import pic_files into (anim400k_character_pics)."),
        ] = None,
    ) -> None:
        """Validate metadata files; optionally normalise them and import character pictures.

        Every problem of a file is listed, one line each (exit code 2).
        """
        import sys

        from ..errors import InputError
        from ..fsutil.atomic import write_json_atomic
        from ..fsutil.no_clobber import refuse_foreign_output, refuse_overwriting
        from ..fsutil.sniffers import json_objects_with
        from ..fsutil.writable import check_output_file
        from ..release.metadata import MetadataError, check_pictures, import_pictures, load_metadata

        refuse_overwriting({"--out": out}, [("FILE", f) for f in files])
        if out is not None:
            check_output_file(out)  # a folder or a read-only place: before the files are read
        refuse_foreign_output("--out", out, json_objects_with(("episodes",), container=dict),
                              "metadata that anim400k metadata wrote (a JSON object of shows with their episodes)")
        result: dict[str, dict] = {}
        origin: dict[str, Path] = {}  # the file each show key came from
        failed = False
        for f in files:
            try:
                shows = load_metadata(f)
            except MetadataError as exc:
                for problem in exc.problems:
                    print(f"anim400k: error: {f}: {problem}", file=sys.stderr)
                failed = True
                continue
            for i, meta in enumerate(shows):
                key = meta.key or f.stem if len(files) == 1 or meta.key else f"{f.stem}_{i}"
                if key in origin:  # a second file's show of the same key replaced the first's in --out
                    raise InputError(f"show key {key!r} is also the key of a show of {origin[key]}: give each show "
                                     "its own key", f)
                origin[key] = f
                check_pictures(meta, key, f.parent, None, f)  # every pic_files entry an image, also without --release
                if release is not None:
                    meta = import_pictures(meta, key, f.parent, release, f)
                fields = meta.show_fields()
                fields["episodes"] = meta.episode_fields()
                result[key] = fields
                n_pics = sum(len(c.get("pic_urls", [])) for c in fields.get("characters", {}).values())
                n_files = sum(len(c.pic_files or []) for c in (meta.characters or {}).values())
                files_said = f", {n_files} picture file(s) to import with --release" if n_files else ""
                typer.echo(
                    f"{f}: show {key!r}: {len(fields) - 1} field(s), {len(fields['episodes'])} episode(s), "
                    f"{n_pics} picture(s){files_said}: ok"  # the files alone read '0 picture(s)'
                )
        if failed:
            raise typer.Exit(code=2)
        if out is not None:
            write_json_atomic(out, result)
