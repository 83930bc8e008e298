"""The ``anim400k`` command: a thin shell over the library.

Each command group lives in ``anim400k.commands.<name>`` and exposes
``register(app: typer.Typer) -> None``; :data:`COMMANDS` lists them statically
(a missing module is an ImportError, never a silently absent command). Command
modules import heavy dependencies inside their functions so that
``anim400k --help`` stays fast.
"""

from __future__ import annotations

import importlib
import logging
import sys

import typer

from .commands import (
    align,
    build,
    demo,
    diarize,
    dub,
    evaluate,
    export,
    metadata,
    mushra,
    separate,
    stats,
    sync,
    tasks,
    transcribe,
)
from .errors import AnimError, one_line

COMMANDS = (demo, build, align, transcribe, sync, separate, diarize, metadata, stats, tasks, export, dub, evaluate,
            mushra)

app = typer.Typer(
    name="anim400k",
    help="Build aligned bilingual speech datasets from dubbed video, dub video, and evaluate dubs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"anim400k {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True,
                                 callback=_show_version),
) -> None:
    """Build aligned bilingual speech datasets from dubbed video, dub video, and evaluate dubs."""


for _command in COMMANDS:
    _command.register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning :class:`AnimError` into one line on stderr and exit 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        rc = app(args=argv, standalone_mode=False)
    except AnimError as exc:
        print(f"anim400k: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except SystemExit as exc:  # typer/click exits
        return int(exc.code or 0)
    except KeyboardInterrupt:
        print("anim400k: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # the file system said no (an --out that is a file, permissions, ...): one line
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"anim400k: error: {where}{exc.strerror or one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # click usage errors and the like
        usage_errors, aborts = _click_exception_types()
        if isinstance(exc, usage_errors):
            exc.show()  # type: ignore[attr-defined]
            return int(exc.exit_code)  # type: ignore[attr-defined]
        if isinstance(exc, aborts):
            return 1
        raise
    return rc if isinstance(rc, int) else 0


def _click_exception_types() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """Usage-error and abort classes of click and of the copy of click that typer >= 0.20 vendors."""
    usage: list[type[BaseException]] = []
    aborts: list[type[BaseException]] = []
    for module in ("click.exceptions", "typer._click.exceptions", "typer"):
        try:
            found = importlib.import_module(module)
        except ImportError:
            continue
        usage += [c for c in (getattr(found, "ClickException", None),) if isinstance(c, type)]
        aborts += [c for c in (getattr(found, "Abort", None),) if isinstance(c, type)]
    return tuple(usage), tuple(aborts)


if __name__ == "__main__":
    sys.exit(main())
