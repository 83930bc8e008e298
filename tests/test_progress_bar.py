"""Progress bars on a terminal that reports no width (``anim400k.progress.progress_bar``)."""

from __future__ import annotations

import os
import pty

import pytest

from anim400k.progress import progress_bar


def _drawn(fd: int) -> str:
    """What was written to the pty so far (without waiting: nothing drawn reads as "")."""
    import select

    out = b""
    while select.select([fd], [], [], 0.2)[0]:
        out += os.read(fd, 4096)
    return out.decode()


def _bar_lines(main: int, other: int, steps: int, postfix: str | None = None) -> list[str]:
    """Draw a bar of 8 steps advanced ``steps`` on the pty ``other`` and return the lines read from ``main``
    (both closed after)."""
    try:
        with open(other, "w", closefd=False) as term, progress_bar(True, total=8, desc="dub", file=term) as bar:
            if postfix:
                bar.set_postfix_str(postfix)
            bar.update(steps)
            bar.refresh()  # an update within tqdm's minimum interval is drawn at the next one
            term.flush()
            shown = _drawn(main)
    finally:
        os.close(main)
        os.close(other)
    return [part for part in shown.split("\r") if part.strip()]


@pytest.mark.parametrize("columns", [None, "100"])
def test_a_bar_on_a_terminal_of_zero_columns_is_drawn(monkeypatch: pytest.MonkeyPatch, columns: str | None) -> None:
    """A pseudo-terminal nobody sized reports 0 columns (``script`` run from a job, ``docker exec -t``): tqdm's
    dynamic width then drew an empty line for the whole of a 24-minute dub; now it is drawn at $COLUMNS or 80."""
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    main, other = pty.openpty()  # a new pty: 0 x 0 until someone sets its size
    assert os.get_terminal_size(other).columns == 0
    lines = _bar_lines(main, other, 3, "separate")
    assert lines and "dub" in lines[-1] and "3/8" in lines[-1] and "separate" in lines[-1], lines
    assert max(len(part.rstrip("\n")) for part in lines) <= int(columns or 80)


def test_a_bar_keeps_to_a_sized_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal that reports its width is followed (as before): 60 columns wide, the bar is at most 60."""
    import fcntl
    import struct
    import termios

    monkeypatch.delenv("COLUMNS", raising=False)
    main, other = pty.openpty()
    fcntl.ioctl(other, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 60, 0, 0))
    lines = _bar_lines(main, other, 2)
    assert lines and "2/8" in lines[-1]
    assert max(len(part.rstrip("\n")) for part in lines) <= 60


def test_a_bar_on_a_terminal_of_zero_rows_is_drawn_as_it_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same pty says 0 rows, and tqdm hides a bar below the screen's last row: with the width alone an export
    under ``script`` drew nothing but two carriage returns (only an explicit refresh drew)."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    main, other = pty.openpty()
    try:
        with open(other, "w", closefd=False) as term, progress_bar(True, total=8, desc="export", file=term,
                                                                   mininterval=0) as bar:
            for _ in range(3):
                bar.update(1)
            term.flush()
            shown = _drawn(main)
    finally:
        os.close(main)
        os.close(other)
    assert "3/8" in shown, repr(shown)
