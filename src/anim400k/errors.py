"""Errors that the CLI turns into one clear line and exit code 2."""

from __future__ import annotations

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


class BackendUnavailable(AnimError):
    """A backend whose optional dependency or weights are not installed."""

    def __init__(self, backend: str, extra: str | None = None, hint: str = "") -> None:
        msg = f"backend '{backend}' is not available"
        if extra:
            msg += f": install it with `pip install 'anim400k[{extra}]'`"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)
