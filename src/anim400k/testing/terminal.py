"""A stand-in for a terminal on stderr: progress bars draw only when stderr is one."""

from __future__ import annotations

import io


class FakeTerminal(io.StringIO):
    """A text buffer that says it is a terminal (``isatty()`` is True)."""

    def isatty(self) -> bool:
        return True


def progress_cases() -> list[tuple[bool, io.StringIO, bool]]:
    """``(progress asked, stderr, bar expected)``: asked on a terminal draws; off a terminal or not asked, nothing."""
    return [(True, FakeTerminal(), True), (True, io.StringIO(), False), (False, FakeTerminal(), False)]
