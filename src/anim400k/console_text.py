"""Text from a user's file printed on a rich console: its markup and control characters shown, not obeyed."""

from __future__ import annotations


def shown(text: str) -> str:
    """``text`` to put into rich output: rich markup escaped (a condition named ``[/bold]`` ended ``mushra analyze``
    with a MarkupError after its report was written; ``T[bold]X`` printed as ``TX``) and control characters written
    as escapes (``\\x1b``: an ESC sequence from a ratings CSV reached the terminal)."""
    from rich.markup import escape

    return escape("".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text))
