"""Text files' encodings: told by a byte-order mark (UTF-8, UTF-16, UTF-32), else UTF-8.

One table for every reader of user text files: subtitles and transcripts
(:func:`anim400k.formats.subtitles.decode_text`, which also tells UTF-16 without a mark), show
metadata, build manifests and MUSHRA rating CSVs (:func:`decode_bom_text`). Editors on Windows
(Notepad's "Unicode", Excel's "Unicode Text") save UTF-16 with a mark, and many save UTF-8 with one.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from ..errors import InputError

#: Byte-order marks and the codec of the text after them. UTF-32-LE's mark starts with UTF-16-LE's,
#: so it is tried first.
BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def bom_encoding(data: bytes) -> tuple[str, int] | None:
    """``(codec, length of the mark)`` of the byte-order mark that ``data`` starts with, or None."""
    for bom, name in BOMS:
        if data.startswith(bom):
            return name, len(bom)
    return None


def encoding_label(codec: str) -> str:
    """The name an error gives for ``codec``: ``utf-16-le`` -> ``UTF-16``."""
    return codec.upper().replace("-LE", "").replace("-BE", "")


def decode_bom_text(data: bytes, path: str | Path, advice: str = "") -> str:
    """``data`` decoded by its byte-order mark (dropped), else as UTF-8; line endings made ``\\n``.

    Bytes that do not decode (Shift-JIS, Latin-1 text without a mark) raise :class:`InputError`
    naming ``path`` in one line: ``not UTF-8 text (invalid start byte at byte 3)``, then ``: advice``
    if given. CRLF and lone CR become LF, as Python's text mode reads them.
    """
    found = bom_encoding(data)
    codec, skip = found if found is not None else ("utf-8", 0)
    try:
        text = data[skip:].decode(codec)
    except UnicodeDecodeError as exc:
        tail = f": {advice}" if advice else ""
        raise InputError(f"not {encoding_label(codec)} text ({exc.reason} at byte {exc.start + skip}){tail}",
                         path) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


#: Legacy encodings of subtitle files (fansubs and old rips), tried in this order on bytes that are not UTF-8:
#: Shift-JIS and EUC-JP only where they give Japanese text (with kana: :func:`_japanese`), then Windows-1252 (Western
#: Europe's ANSI code page, a superset of Latin-1's printable characters), which decodes nearly any bytes.
_LEGACY = (("shift_jis", "Shift-JIS", "SHIFT_JIS"), ("euc_jp", "EUC-JP", "EUC-JP"),
           ("cp1252", "Windows-1252", "CP1252"))


#: The least share of kana (hiragana, katakana) among the non-ASCII characters of Japanese text. Japanese prose
#: is about half kana; Windows-1252 English read as Shift-JIS is kanji only (``don\x92t`` reads ``don稚``: every
#: curly quote, dash and ellipsis byte is a Shift-JIS lead byte), so kana, not kanji, tell the two apart.
KANA_SHARE = 0.2


def _japanese(text: str) -> bool:
    """Whether ``text`` (decoded with a Japanese codec) reads as Japanese: kana make up at least
    :data:`KANA_SHARE` of its non-ASCII characters (half-width katakana not counted: Windows-1252's accented
    capitals are those bytes in Shift-JIS)."""
    foreign = [ch for ch in text if ch > "\x7f"]
    kana = sum("\u3040" <= ch <= "\u30ff" for ch in foreign)
    return kana > 0 and kana >= KANA_SHARE * len(foreign)


def legacy_encoding(data: bytes) -> tuple[str, str] | None:
    """``(name, iconv name)`` of the legacy encoding that ``data`` (not UTF-8) most likely is, or None.

    Only a hint for an error message (the text is never decoded with it): Shift-JIS or EUC-JP where the
    bytes decode to Japanese text (kana among it, :func:`_japanese`), else Windows-1252 where they decode
    with it.
    """
    for codec, name, iconv in _LEGACY:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if codec == "cp1252" or _japanese(text):
            return name, iconv
    return None
