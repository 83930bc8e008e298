"""The ``anim400k`` command: a thin shell over the library.

Each command group lives in ``anim400k.commands.<name>`` and exposes
``register(app: typer.Typer) -> None``. Command modules import heavy
dependencies inside their functions so that ``anim400k --help`` stays fast.
"""

from __future__ import annotations

import importlib
import logging
import sys

import typer

from .errors import AnimError

COMMAND_MODULES = (
    "demo",
    "build",
    "align",
    "transcribe",
    "sync",
    "separate",
    "diarize",
    "metadata",
    "stats",
    "tasks",
    "export",
    "dub",
    "evaluate",
    "mushra",
)

app = typer.Typer(
    name="anim400k",
    help="Build aligned bilingual speech datasets from dubbed video, dub video, and evaluate dubs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"anim400k.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"anim400k.commands.{name}":
                continue  # command group not built yet
            raise
        module.register(app)


_register_commands()


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
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            return 1
        raise
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())
