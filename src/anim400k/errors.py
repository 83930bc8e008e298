"""Errors that the CLI turns into one clear line and exit code 2."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


def one_line(exc: BaseException, limit: int = 300) -> str:
    """``exc``'s message on one line, at most ``limit`` characters (library errors can be pages long)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


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


_DISK_FULL_TEXT = ("no space left on device", "disk quota exceeded", "database or disk is full")


def is_disk_full(exc: BaseException | None) -> bool:
    """True if ``exc`` (or an exception it was raised from) says the disk or quota is full.

    Looks at ``errno`` (ENOSPC, EDQUOT) and, for errors that lost it on the way (SQLite,
    messages from worker processes), at the text.
    """
    import errno

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, DiskFull):
            return True
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(t in str(exc).lower() for t in _DISK_FULL_TEXT):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def disk_full_path(exc: BaseException | None) -> str | None:
    """The file named by ``exc`` (or an exception it was raised from), if any."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        name = getattr(exc, "filename", None) or getattr(exc, "path", None)
        if name:
            return str(name)
        exc = exc.__cause__ or exc.__context__
    return None
