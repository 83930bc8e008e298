"""The ``anim400k`` command: a thin shell over the library.

Each command group lives in ``anim400k.commands.<name>`` and exposes
``register(app: typer.Typer) -> None``; :data:`COMMANDS` lists them statically
(a missing module is an ImportError, never a silently absent command). Command
modules import heavy dependencies inside their functions so that
``anim400k --help`` stays fast.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import logging
import os
import sys
import threading
from typing import Any

import typer
import typer.main

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
from .fsutil.check_notes import output_checks
from .interrupts import ignore_interrupts, sigterm_interrupts

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


class _Interrupted(Exception):
    """The command was interrupted (Ctrl-C): a KeyboardInterrupt, or an error raised while one unwound.

    ``code`` is the exit status: 130, or 143 for a SIGTERM (:class:`anim400k.interrupts.Terminated`).
    """

    def __init__(self, code: int = 130) -> None:
        super().__init__(code)
        self.code = code


def _interrupt_of(exc: BaseException) -> KeyboardInterrupt | None:
    """The KeyboardInterrupt that ``exc`` is or was raised while handling; None if there is none.

    Libraries clean up on the way out of a Ctrl-C and sometimes fail there (``datasets`` closes its
    Arrow writer and then writes to it: ``ValueError: I/O operation on closed file``); that error
    holds the interrupt in its ``__context__``/``__cause__`` chain, and it is the interrupt too.
    """
    todo, seen = [exc], set()
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        if isinstance(e, KeyboardInterrupt):
            return e
        seen.add(id(e))
        todo += [e.__cause__, e.__context__]
    return None


def _is_interrupt(exc: BaseException) -> bool:
    """True for a KeyboardInterrupt and for an error raised while one was being handled (:func:`_interrupt_of`)."""
    return _interrupt_of(exc) is not None


def _as_interrupted(exc: BaseException) -> _Interrupted:
    """:class:`_Interrupted` for an interrupt, with its exit status (``exit_code`` of a SIGTERM's, else 130)."""
    if isinstance(exc, _Interrupted):
        return exc
    code = getattr(_interrupt_of(exc), "exit_code", 130)
    return _Interrupted(code if isinstance(code, int) else 130)


def _exit_types() -> tuple[type[BaseException], ...]:
    """Deliberate exits (``typer.Exit``, click's ``Exit``, ``SystemExit``): never taken for an interrupt."""
    found: list[type[BaseException]] = [SystemExit]
    for module in ("click.exceptions", "typer._click.exceptions", "typer"):
        try:
            exit_type = getattr(importlib.import_module(module), "Exit", None)
        except ImportError:
            continue
        if isinstance(exit_type, type):
            found.append(exit_type)
    return tuple(found)


def _own_readability_checks(command: Any) -> None:
    """Turn off click's check that an existing path argument is readable, in every command.

    click answers an unreadable file (mode 000) with its usage block and ``Invalid value for 'media':
    path '...' is not readable``, also for an output that would only be written. The commands check
    their inputs themselves (:func:`anim400k.commands.check_input_file`: ``FILE: cannot be read
    (permission denied)``, one line), and an input read without that check fails with the
    ``PermissionError`` that :func:`main` prints as one line naming the file.
    """
    todo = [command]
    while todo:
        cmd = todo.pop()
        todo += list(getattr(cmd, "commands", {}).values())
        for param in getattr(cmd, "params", ()):
            # click's Path type (typer < 0.20), or typer's own ParameterInfo (it checks paths itself since)
            for holder in (getattr(param, "type", None),
                           getattr(getattr(param, "type_descriptor", None), "parameter_info", None)):
                if getattr(holder, "readable", None) is True:
                    holder.readable = False  # type: ignore[union-attr]


def _reflow_help(command: Any) -> None:
    """Join the lines of each paragraph of every command's help after the first into one line.

    typer's rich help keeps the single line breaks of those paragraphs and then wraps them again at the
    terminal's width, so a docstring wrapped at 110 columns showed as one long line and a stub on an
    80-column terminal (``... is refused,`` / ``not replaced; ...``). click's ``\\b`` paragraphs are kept as
    written.
    """
    import inspect

    todo = [command]
    while todo:
        cmd = todo.pop()
        todo += list(getattr(cmd, "commands", {}).values())
        if not cmd.help:
            continue
        first, *rest = inspect.cleandoc(cmd.help).split("\n\n")
        if rest:
            rest = [p if p.startswith("\b") else " ".join(p.split()) for p in rest]
            cmd.help = "\n\n".join([first, *rest])


def _command() -> Any:
    """The click command of :data:`app` whose ``invoke`` turns every interrupt into :class:`_Interrupted`.

    typer turns a bare KeyboardInterrupt into a silent exit 130 and lets an error raised while an
    interrupt unwound escape as a traceback; here both become one line and exit 130 in :func:`main`.
    """
    command = typer.main.get_command(app)
    _own_readability_checks(command)
    _reflow_help(command)
    invoke = command.invoke
    exits = _exit_types()

    def guarded_invoke(ctx: Any) -> Any:
        try:
            return invoke(ctx)
        except BaseException as exc:
            if not isinstance(exc, exits) and _is_interrupt(exc):
                raise _as_interrupted(exc) from exc
            raise

    command.invoke = guarded_invoke
    return command


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning :class:`AnimError` into one line on stderr and exit 2.

    Ctrl-C (KeyboardInterrupt, or any error raised while it unwound) is one line and exit 130; SIGTERM is
    handled as Ctrl-C (:func:`~anim400k.interrupts.sigterm_interrupts`: the command's cleanup runs), exit 143.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        try:
            # SIGTERM (kill, a scheduler) stops every command as Ctrl-C does, so its cleanup runs: a killed export
            # left its staging folder (the export's size), any command its hidden .NAME.anim400k-XXXXXXXX.part files
            # the outputs' checks are noted for their publish (fsutil.no_clobber.refuse_foreign_output) for this
            # command only
            with sigterm_interrupts(), output_checks():
                rc = _command().main(args=argv, standalone_mode=False)
        except BaseException as exc:
            if isinstance(exc, _Interrupted) or (not isinstance(exc, SystemExit) and _is_interrupt(exc)):
                raise _as_interrupted(exc) from exc
            raise
    except _Interrupted as exc:
        print("anim400k: interrupted" + ("" if exc.code == 130 else " by SIGTERM"), file=sys.stderr)
        return exc.code
    except AnimError as exc:
        print(f"anim400k: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except SystemExit as exc:  # typer/click exits
        return int(exc.code or 0)
    except OSError as exc:  # the file system said no (an --out that is a file, permissions, ...): one line
        if exc.filename is None and _working_folder_gone():  # a library asked for it: 'No such file or directory'
            print("anim400k: error: the working folder no longer exists: change to an existing folder (cd) and run "
                  "the same command again", file=sys.stderr)
            return 2
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"anim400k: error: {where}{exc.strerror or one_line(exc)}", file=sys.stderr)
        return 2
    except UnicodeEncodeError:  # a name or text outside ASCII under LC_ALL=C with PYTHONUTF8=0: a traceback
        # (a name a non-UTF-8 locale decoded holds surrogates that no encoding takes: say the locale's, not utf-8's)
        print(f"anim400k: error: a file name or text could not be encoded under this locale's encoding "
              f"({sys.getfilesystemencoding()}): run in a UTF-8 locale (e.g. LC_ALL=C.UTF-8) or with PYTHONUTF8=1",
              file=sys.stderr)
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


def exit_now_possible() -> bool:
    """True when nothing but the main thread is left that a normal interpreter exit would wait for
    (no non-daemon thread alive): then :func:`run` may end the process without finalizing it."""
    main_thread = threading.main_thread()
    return all(t is main_thread or t.daemon or not t.is_alive() for t in threading.enumerate())


def finish(rc: int) -> int:
    """End the ``anim400k`` process with status ``rc`` without finalizing the interpreter, when that is safe.

    A command that ran Whisper (faster-whisper/CTranslate2), torch, silero-vad... leaves a large heap of
    modules and objects; CPython's finalization (clearing every module, garbage collections over the whole
    heap, extension modules' destructors) then took 0.6-1.9 s after the last line was printed, several
    seconds on a loaded machine (docs/asr.md, "Exit time"). Here the ``atexit`` handlers run as at a
    normal exit (logging flushed, temporary folders removed, Ray stopped, multiprocessing's helpers
    reaped), stdout and stderr are flushed (Python's and C stdio's buffers), and the process ends with
    ``os._exit(rc)``. Every output of a
    command is already complete when its :func:`main` returns (written to a temporary name, flushed,
    closed and renamed). A non-daemon thread still running, or a standard stream that cannot be flushed
    (a closed pipe), falls back to returning ``rc`` for the normal exit. Only for the CLI's own process
    (:func:`run`, ``python -m anim400k``): the library and in-process callers of :func:`main` never exit.
    """
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)  # CPython's; what a normal exit calls
    if not exit_now_possible() or not callable(run_exitfuncs) or not _flushed():
        return rc  # a closed pipe or stream: the normal exit reports it as it does (handlers not yet run)
    run_exitfuncs()
    _flushed()  # what the handlers wrote (logging's last records)
    _flush_c_stdio()
    os._exit(rc)


def _flush_c_stdio() -> None:
    """Flush C stdio's buffers, as the ``exit()`` of a normal exit does and ``os._exit`` does not: what a C
    library printed to a piped stdout (fully buffered there) would be lost."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # no C library to load by that name (not POSIX)
        pass


def _flushed() -> bool:
    """Flush stdout and stderr; False when one cannot be flushed (a closed pipe or stream)."""
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return False
    return True


def _working_folder_gone() -> bool:
    """Whether the process's working folder was deleted (``os.getcwd`` fails)."""
    try:
        os.getcwd()
    except OSError:
        return True
    return False


def _usable_standard_streams() -> None:
    """A closed stdout or stderr (``2>&-``: Python sets it to None) reads as the null device, so a command's progress
    bars and messages have somewhere to go (every command with a bar exited 1 without a word, writing nothing); a
    stream whose encoding cannot hold a character (LC_ALL=C with PYTHONUTF8=0) shows it as '?' instead of failing
    (``stats``' '±' was a traceback, and its --json never written)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - for the process' life
        elif (getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "") != "utf8":
            with contextlib.suppress(AttributeError, ValueError):
                stream.reconfigure(errors="replace")


def run() -> None:
    """The ``anim400k`` console script and ``python -m anim400k``: :func:`main`, then :func:`finish`. An interrupted
    command exits with further interrupts ignored (:func:`~anim400k.interrupts.ignore_interrupts`), so the exit's own
    cleanup (Ray's ``atexit`` shutdown) runs to its end."""
    _usable_standard_streams()
    rc = main()
    if rc in (130, 143):
        ignore_interrupts()
    sys.exit(finish(rc))


if __name__ == "__main__":
    run()
