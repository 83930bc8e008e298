"""ASS/SSA ``Format:`` lines: fields in the order a script declares them, as libass reads them.

A script's ``[V4+ Styles]``/``[V4 Styles]`` and ``[Events]`` sections each open with a ``Format:`` line that
names the fields of the ``Style:``/``Dialogue:``/``Comment:`` lines after it, in their order (the ASS spec:
"the format line ... allows new fields to be added ... and the fields to be in any order"); libass
(``process_event_tail``, ``process_style``) reads each line by it, the ``Text`` field taking the rest of the
line. pysubs2 and FFmpeg's ASS demuxer ignore it and take the usual order: a script whose events read
``Format: Start, End, Layer, ...`` was refused (``Failed to parse timestamp: '0'``) and FFmpeg dropped every
line of it. :func:`canonical_field_order` rewrites such sections into the usual order first, line for
line, so line numbers in errors stay those of the file.
"""

from __future__ import annotations

import re

#: The usual field order per script type (what pysubs2 and FFmpeg assume), lowercase.
EVENT_FIELDS = {
    "ass": ("layer", "start", "end", "style", "name", "marginl", "marginr", "marginv", "effect", "text"),
    "ssa": ("marked", "start", "end", "style", "name", "marginl", "marginr", "marginv", "effect", "text"),
}
STYLE_FIELDS = {
    "ass": ("name", "fontname", "fontsize", "primarycolour", "secondarycolour", "outlinecolour", "backcolour",
            "bold", "italic", "underline", "strikeout", "scalex", "scaley", "spacing", "angle", "borderstyle",
            "outline", "shadow", "alignment", "marginl", "marginr", "marginv", "encoding"),
    "ssa": ("name", "fontname", "fontsize", "primarycolour", "secondarycolour", "tertiarycolour", "backcolour",
            "bold", "italic", "borderstyle", "outline", "shadow", "alignment", "marginl", "marginr", "marginv",
            "alphalevel", "encoding"),
}
#: Field names written other ways (``Actor`` for Name in old scripts, US spellings of the colours).
_ALIASES = {"actor": "name", "primarycolor": "primarycolour", "secondarycolor": "secondarycolour",
            "outlinecolor": "outlinecolour", "tertiarycolor": "tertiarycolour", "backcolor": "backcolour"}
#: The value of a field that a Format line leaves out (libass's defaults for a new event or style).
_DEFAULTS = {
    "layer": "0", "marked": "Marked=0", "start": "0:00:00.00", "end": "0:00:00.00", "style": "Default",
    "name": "", "marginl": "0", "marginr": "0", "marginv": "0", "effect": "", "text": "",
    "fontname": "Arial", "fontsize": "20", "primarycolour": "&H00FFFFFF", "secondarycolour": "&H000000FF",
    "outlinecolour": "&H00000000", "tertiarycolour": "&H00000000", "backcolour": "&H00000000", "bold": "0",
    "italic": "0", "underline": "0", "strikeout": "0", "scalex": "100", "scaley": "100", "spacing": "0",
    "angle": "0", "borderstyle": "1", "outline": "2", "shadow": "2", "alignment": "2", "encoding": "1",
    "alphalevel": "0",
}
_SECTION = re.compile(r"^\s*\[([^]]*)]\s*$")


def _names(format_value: str) -> tuple[str, ...]:
    """The field names of a ``Format:`` line's value, lowercase, aliases resolved."""
    names = (n.strip().lower().replace(" ", "") for n in format_value.split(","))
    return tuple(_ALIASES.get(n, n) for n in names)


def _reorder(value: str, declared: tuple[str, ...], wanted: tuple[str, ...], last_takes_rest: bool) -> str:
    """``value`` (a line's text after ``Dialogue:``/``Style:``) with its fields, declared in the order
    ``declared``, put in the order ``wanted``; as libass, the ``text`` field takes the rest of the line."""
    fields: dict[str, str] = {}
    rest: str | None = value
    for name in declared:
        if rest is None:
            break
        if last_takes_rest and name == "text":
            fields[name], rest = rest, None
            break
        piece, sep, tail = rest.partition(",")
        fields.setdefault(name, piece)
        rest = tail if sep else None
    return ",".join(fields.get(name, _DEFAULTS.get(name, "")) for name in wanted)


def canonical_field_order(text: str) -> str:
    """``text`` (an ASS/SSA script, ``\\n`` line endings) with every style and event section whose
    ``Format:`` line declares another field order (or fewer fields) than the usual one rewritten into the
    usual order (module docstring); the same number of lines. A script in the usual order comes back as
    it is."""
    lower = text.lower()
    kind = "ssa" if "[v4 styles]" in lower and "[v4+ styles]" not in lower else "ass"
    if "format:" not in lower:
        return text
    lines = text.split("\n")
    section = ""
    declared: tuple[str, ...] | None = None
    changed = False
    for k, line in enumerate(lines):
        stripped = line.strip()
        head = _SECTION.match(stripped)
        if head is not None:
            section, declared = head.group(1).strip().lower(), None
            continue
        is_events = section == "events"
        is_styles = section in ("v4+ styles", "v4 styles")
        if not (is_events or is_styles):
            continue
        wanted = EVENT_FIELDS[kind] if is_events else STYLE_FIELDS[kind]
        prefix, sep, value = stripped.partition(":")
        if not sep:
            continue
        if prefix == "Format":
            names = _names(value)
            declared = None if names == wanted else names
            if declared is not None:
                lines[k] = "Format: " + ", ".join(wanted)
                changed = True
        elif declared is not None and prefix in (("Dialogue", "Comment") if is_events else ("Style",)):
            lines[k] = f"{prefix}: {_reorder(value.lstrip(), declared, wanted, is_events)}"
            changed = True
    return "\n".join(lines) if changed else text
