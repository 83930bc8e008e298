"""Errors that the CLI turns into one clear line and exit code 2."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def one_line(exc: BaseException, limit: int = 300) -> str:
    """``exc``'s message on one line, at most ``limit`` characters (library errors can be pages long)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
#: torch's ``load_state_dict`` line for one tensor whose shape differs
_SIZE_MISMATCH = re.compile(r"size mismatch for ([\w.]+): copying a param with shape torch\.Size\(\[([\d, ]*)\]\) "
                            r"from checkpoint, the shape in current model is torch\.Size\(\[([\d, ]*)\]\)")


def yaml_problem(exc: BaseException) -> str:
    """``not valid YAML: PROBLEM (line L, column C)`` for a YAML error (its first line when it has no mark)."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if isinstance(problem, str) and mark is not None and hasattr(mark, "line"):  # yaml.MarkedYAMLError
        return f"not valid YAML: {problem} (line {mark.line + 1}, column {mark.column + 1})"
    return f"not valid YAML: {(str(exc).splitlines() or [type(exc).__name__])[0]}"


def reason(exc: BaseException, limit: int = 200) -> str:
    """Why a backend failed to load a model file, as one clean line: the safety net for library errors.

    Libraries answer a bad model file with pages (torch's ``size mismatch`` per tensor, YAML parser
    dumps, PyTorch's "Weights only load failed" advice with ANSI escape codes), a bare key or number
    (``'klass'``, ``174812789``) or nothing (an ``assert`` without message). This gives a
    ``load_state_dict`` shape mismatch as a summary (:func:`shape_mismatch`), a YAML error as its
    problem and line, otherwise the first meaningful line with ANSI codes stripped, at most ``limit``
    characters; a bare value is prefixed with the exception's type and an empty ``assert`` says which
    check failed and where. Specific cases deserve specific messages; this is for the others.
    """
    summary = shape_mismatch(exc)
    if summary:
        return summary
    mark = getattr(exc, "problem_mark", None)
    if isinstance(getattr(exc, "problem", None), str) and mark is not None and hasattr(mark, "line"):
        text = yaml_problem(exc)
    else:
        lines = (" ".join(line.split()) for line in _ANSI.sub("", str(exc)).splitlines())
        text = next((line for line in lines if line.strip(" .:")), "")
        if not text:
            check = failed_assert(exc)
            text = f"{type(exc).__name__}" + (f": {check}" if check else " (the library gave no reason)")
        elif isinstance(exc, LookupError) or not re.search(r"[A-Za-z]{3}", text):
            text = f"{type(exc).__name__}: {text}"  # a bare key, index or number says nothing alone
    return text if len(text) <= limit else text[: limit - 3] + "..."


def described(exc: BaseException, limit: int = 200) -> str:
    """:func:`reason` with the exception's type named exactly once, for a message that names the type.

    ``f"{type(exc).__name__}: {reason(exc)}"`` named it twice where :func:`reason` already prefixes it
    (``KeyError: KeyError: 'pyannote.audio'``). A ``KeyError`` reads ``missing key 'name' (KeyError)``,
    or its own sentence when it carries one (NumPy's ``mu is not a file in the archive (KeyError)``).
    """
    name = type(exc).__name__
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        key = exc.args[0]
        text = key.strip() if isinstance(key, str) and " " in key.strip() else f"missing key {key!r}"
        text = f"{text} ({name})"
        return text if len(text) <= limit else text[: limit - 3] + "..."
    text = reason(exc, limit)
    return text if text.startswith(name) else f"{name}: {text}"


def failed_assert(exc: BaseException) -> str | None:
    """``failed check `x == y` in package/module.py`` for an ``assert`` that raised ``exc``; else None."""
    import traceback

    if not isinstance(exc, AssertionError) or exc.__traceback__ is None:
        return None
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return None
    last = frames[-1]
    line = (last.line or "").strip()
    where = "/".join(Path(last.filename).parts[-2:])
    if line.startswith("assert "):
        return f"failed check `{line[len('assert '):].split(',')[0].strip()}` in {where}"
    return f"failed check in {where}"


def shape_mismatch(exc: BaseException) -> str | None:
    """A summary of torch's ``Error(s) in loading state_dict`` (one line per tensor) or None.

    ``weights do not fit the model's settings (104 tensors differ in shape, e.g. encoder.0.weight:
    [8, 2, 8] in the file, [16, 2, 8] in the model)``; missing and unexpected keys are counted.
    """
    text = str(exc)
    if "Error(s) in loading state_dict" not in text:
        return None
    shapes = _SIZE_MISMATCH.findall(text)
    parts = []
    if shapes:
        name, have, want = shapes[0]
        parts.append(f"{len(shapes)} tensor{'s differ' if len(shapes) != 1 else ' differs'} in shape, e.g. "
                     f"{name}: [{have}] in the file, [{want}] in the model")
    for label, words in (("Missing key(s)", "missing"), ("Unexpected key(s)", "unexpected")):
        found = re.search(re.escape(label) + r" in state_dict: (.*?)\.\s*(?:\n|$)", text)
        if found:
            keys = re.findall(r'"([^"]+)"', found.group(1))
            parts.append(f"{len(keys)} {words} key{'s' if len(keys) != 1 else ''}"
                         + (f" (e.g. {keys[0]})" if keys else ""))
    return "weights do not fit the model's settings (" + ("; ".join(parts) or "see torch's error") + ")"


def _torch_load_frame(exc: BaseException) -> Any:
    """The frame of ``torch.load`` that ``exc`` came through, or None."""
    tb = exc.__traceback__
    found = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == "load" and Path(code.co_filename).as_posix().endswith("torch/serialization.py"):
            found = tb.tb_frame
        tb = tb.tb_next
    return found


def torch_load_failure(exc: BaseException, expected: str) -> tuple[str, str | None] | None:
    """``(problem, file)`` when ``exc`` came from ``torch.load`` reading a model file; else None.

    ``expected`` is what the file should be (``an XTTS checkpoint``). A file of pickled objects that
    PyTorch's safe loader refuses (another program's model package) is ``not an XTTS checkpoint (it
    holds a pickled demucs.htdemucs.HTDemucs)``; a file torch cannot read at all (junk, truncated) is
    ``not a PyTorch file that torch.load can read (expected an XTTS checkpoint)``. ``file`` is the path
    torch read, if known.
    """
    frame = _torch_load_frame(exc)
    if frame is None:
        return None
    f = frame.f_locals.get("f")
    path = f if isinstance(f, str | Path) else getattr(f, "path", None) or getattr(f, "name", None)
    file = str(path) if isinstance(path, str | Path) else None
    text = _ANSI.sub("", str(exc))
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    if "Weights only load failed" in text and found:
        return f"not {expected} (it holds a pickled {found.group(1)})", file
    # a junk file reads as a bare KeyError (a number) or "Memo value not found": nothing worth repeating
    said = "" if isinstance(exc, LookupError) or any(t in text for t in ("Memo value", "Weights only load failed")) \
        else f"; {reason(exc, 100)}"
    return f"not a PyTorch file that torch.load can read (expected {expected}{said})", file


class AnimError(Exception):
    """A user-facing error: names the file (if any) and what is wrong with it."""

    exit_code = 2

    def __init__(self, problem: str, path: str | Path | None = None) -> None:
        self.problem = problem
        self.path = str(path) if path is not None else None
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The one-line message shown to the user."""
        return f"{self.path}: {self.problem}" if self.path else self.problem


class InputError(AnimError):
    """Input that is missing, malformed or does not decode."""


class OutputChanged(AnimError):
    """A file appeared at an output path (or the file there was replaced) while a command was writing it:
    the file was kept as it was and the new output put beside it (:func:`anim400k.fsutil.atomic.atomic_path`)."""


def parse_jobs(name: str, value: str) -> int | None:
    """``--jobs`` as the user wrote it: ``auto`` (any case) gives None, an integer >= 0 that integer; anything
    else raises :class:`InputError` with one line about the option."""
    text = value.strip()
    if text.lower() == "auto":
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    raise InputError(f"{name} must be 'auto' or an integer >= 0 (0 = one worker per CPU), not {value!r}")


def check_number(
    name: str,
    value: float,
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    above: bool = False,
) -> float:
    """``value`` when it is a finite number from ``minimum`` to ``maximum``; else raise :class:`InputError`.

    ``name`` is the option as the user wrote it (``--offset``); ``above`` excludes ``minimum``
    itself. The message is one line about the option: ``--offset must be a finite number from
    -10000000 to 10000000, not nan``.
    """
    import math

    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok and minimum is not None:
        ok = value > minimum if above else value >= minimum
    if ok and maximum is not None:
        ok = value <= maximum
    if ok:
        return value
    def num(x: float) -> str:
        return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"

    if minimum is not None and maximum is not None:
        span = f" above {num(minimum)} and at most {num(maximum)}" if above else \
            f" from {num(minimum)} to {num(maximum)}"
    elif minimum is not None:
        span = f" {'>' if above else '>='} {num(minimum)}"
    elif maximum is not None:
        span = f" <= {num(maximum)}"
    else:
        span = ""
    kind = "an integer" if isinstance(value, int) and not isinstance(value, bool) else "a finite number"
    raise InputError(f"{name} must be {kind}{span}, not {value!r}")


def check_device(name: str, value: str, *, auto: bool = False) -> str:
    """``value`` when it names a device the model backends take: ``cpu``, ``cuda`` or ``cuda:N``
    (and ``auto`` when ``auto``); else raise :class:`InputError` naming the option
    (``--device must be cpu, cuda or cuda:N, not 'gpu'``)."""
    import re

    if value in ("cpu", "cuda") or (auto and value == "auto") or re.fullmatch(r"cuda:\d+", value or ""):
        return value
    choices = ("auto, " if auto else "") + "cpu, cuda or cuda:N"
    raise InputError(f"{name} must be {choices}, not {value!r}")


class BackendUnavailable(AnimError):
    """A backend whose optional dependency or weights are not installed."""

    def __init__(self, backend: str, extra: str | None = None, hint: str = "") -> None:
        msg = f"backend '{backend}' is not available"
        if extra:
            msg += f": install it with `pip install 'anim400k[{extra}]'`"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


class ModelRequired(InputError):
    """A backend built without the local model (folder, file or config) it needs: nothing is downloaded.

    The backend raises it with the option's Python name (``model``, ``pipeline``...); a command
    that runs the backend under :func:`backend_flags` turns it into its own flag, so the message
    names the flag the user can pass: ``--separator-model is required for demucs (a local .th file
    or folder)``. Not :class:`BackendUnavailable`: the package is installed, the model is missing.
    """

    def __init__(self, backend: str, what: str, option: str = "model", env: str | None = None,
                 flag: str | None = None) -> None:
        self.backend, self.what, self.option, self.env, self.flag = backend, what, option, env, flag
        given = flag or f"the option {option}="
        also = f", or set {env}" if env else ""
        super().__init__(f"{given} is required for {backend} ({what}{also}; nothing is downloaded)")

    def naming(self, flag: str) -> ModelRequired:
        """The same error naming the command's ``flag``."""
        return ModelRequired(self.backend, self.what, self.option, self.env, flag)


@contextmanager
def backend_flags(flags: Mapping[str, str]) -> Iterator[None]:
    """Inside, a :class:`ModelRequired` of a backend in ``flags`` (backend name -> the running
    command's flag, e.g. ``{"demucs": "--model"}``) names that flag instead of the Python option."""
    try:
        yield
    except ModelRequired as exc:
        flag = flags.get(exc.backend)
        if flag is None or exc.flag is not None:
            raise
        raise exc.naming(flag) from None


class DiskFull(AnimError):
    """The disk (or quota) filled up while writing: not a fault of the input."""


_DISK_FULL_TEXT = ("no space left on device", "disk quota exceeded", "database or disk is full", "file too large")


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from or during (``__cause__``, else ``__context__``), each once."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_disk_full(exc: BaseException | None) -> bool:
    """True if ``exc`` (or an exception it was raised from) says the disk or quota is full.

    Looks at ``errno`` (ENOSPC, EDQUOT, and EFBIG: a file past a size limit, :func:`disk_full_words`) and, for
    errors that lost it on the way (SQLite,
    messages from worker processes), at the text.
    """
    import errno

    return any(isinstance(e, DiskFull) or (isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT,
                                                                                  errno.EFBIG))
               or any(t in str(e).lower() for t in _DISK_FULL_TEXT) for e in _chain(exc))


def disk_full_words(exc: BaseException | None) -> tuple[str, str]:
    """How a :func:`is_disk_full` error's message begins, and what it advises: ``the disk is full`` / ``free space
    there``, or for a file past a size limit (EFBIG: a FAT32 drive's 4 GiB, ``ulimit -f``) ``a file is too large for
    this file system or the file-size limit (ulimit -f)`` / ``lift the limit or write to another file system``
    (it read as a bare "File too large", or as an internal error of the stage)."""
    import errno

    if any((isinstance(e, OSError) and e.errno == errno.EFBIG) or "file too large" in str(e).lower()
           for e in _chain(exc)):
        return ("a file is too large for this file system or the file-size limit (ulimit -f)",
                "lift the limit or write to another file system")
    return "the disk is full", "free space there"


def disk_full_path(exc: BaseException | None) -> str | None:
    """The file named by ``exc`` (or an exception it was raised from), if any."""
    for e in _chain(exc):
        name = getattr(e, "filename", None) or getattr(e, "path", None)
        if name:
            return str(name)
    return None
