"""Text files' encodings: told by a byte-order mark (UTF-8, UTF-16, UTF-32), else UTF-8.

One table for every reader of user text files: subtitles and transcripts
(:func:`anim400k.formats.subtitles.decode_text`, which also tells UTF-16 without a mark), show
metadata, build manifests and MUSHRA rating CSVs (:func:`decode_bom_text`). Editors on Windows
(Notepad's "Unicode", Excel's "Unicode Text") save UTF-16 with a mark, and many save UTF-8 with one.
"""

from __future__ import annotations

import codecs
import re
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
#: Shift-JIS and EUC-JP only where they give Japanese text (with kana: :func:`_japanese`), Windows-1251 where it gives
#: Cyrillic words (:func:`_cyrillic`), Windows-1250 where its Central European letters show (:func:`_central_european`),
#: then Windows-1252 (Western Europe's ANSI code page, a superset of Latin-1's printable characters), which decodes
#: nearly any bytes.
#: (Windows' Shift-JIS, CP932, adds NEC and IBM characters such as circled numbers ``①`` that strict Shift-JIS
#: does not decode: such files got no hint)
_LEGACY = (("shift_jis", "Shift-JIS", "SHIFT_JIS"), ("cp932", "Shift-JIS (Windows code page 932)", "CP932"),
           ("euc_jp", "EUC-JP", "EUC-JP"),
           ("cp1251", "Windows-1251", "CP1251"), ("cp1250", "Windows-1250", "CP1250"),
           ("cp1252", "Windows-1252", "CP1252"))


#: The least share of kana (hiragana, katakana) among the non-ASCII characters of Japanese text. Japanese prose
#: is about half kana; Windows-1252 English read as Shift-JIS is kanji only (``don\x92t`` reads ``don稚``: every
#: curly quote, dash and ellipsis byte is a Shift-JIS lead byte), so kana, not kanji, tell the two apart.
KANA_SHARE = 0.2


def _japanese(text: str) -> bool:
    """Whether ``text`` (decoded with a Japanese codec) reads as Japanese: kana make up at least
    :data:`KANA_SHARE` of its non-ASCII characters (half-width katakana not counted: Windows-1252's accented
    capitals are those bytes in Shift-JIS), or it is kanji words (:func:`_kanji_words`: ``東京大学``, ``大丈夫``,
    which read as Windows-1252 before)."""
    foreign = [ch for ch in text if ch > "\x7f"]
    kana = sum("\u3040" <= ch <= "\u30ff" for ch in foreign)
    return (kana > 0 and kana >= KANA_SHARE * len(foreign)) or _kanji_words(text)


_CJK = "\u3000-\u303f\u4e00-\u9fff\uff01-\uff5e"  # CJK punctuation, the common ideographs, full-width forms


def _kanji_words(text: str) -> bool:
    """Whether the non-ASCII characters of ``text`` are all CJK (:data:`_CJK`), at least two ideographs, and no
    ideograph touches an ASCII letter: Windows-1252 English read as Shift-JIS is kanji too, but each one glued to
    the letter before it (``don\x92t`` reads ``don稚``: the quote byte swallows the ``t``)."""
    foreign = [ch for ch in text if ch > "\x7f"]
    ideographs = sum("\u4e00" <= ch <= "\u9fff" for ch in foreign)
    if ideographs < 2 or re.search(f"[^\\x00-\\x7f{_CJK}]", text):
        return False
    return re.search("[A-Za-z][\u4e00-\u9fff]|[\u4e00-\u9fff][A-Za-z]", text) is None


def _cyrillic(text: str) -> bool:
    """Whether ``text`` (decoded as Windows-1251) reads as Cyrillic: Cyrillic letters are at least 80 % of its
    non-ASCII characters, 70 % of them the basic ``А``-``я`` (bytes that are not text read as the rarer
    ``Ѓ Ќ Џ ђ ќ``), and at least 80 % of the words holding one are Cyrillic through (Polish read as Windows-1251
    is Cyrillic too, ``Zaїуіж``, but inside Latin words)."""
    foreign = [ch for ch in text if ch > "\x7f"]
    letters = [ch for ch in foreign if "\u0400" <= ch <= "\u04ff"]
    basic = sum("\u0410" <= ch <= "\u044f" for ch in letters)
    words = [w for w in re.findall(r"[^\W\d_]+", text) if re.search("[\u0400-\u04ff]", w)]
    whole = sum(re.fullmatch("[\u0400-\u04ff]+", w) is not None for w in words)
    return (bool(words) and len(letters) >= 0.8 * len(foreign) and basic >= 0.7 * len(letters)
            and whole >= 0.8 * len(words))


#: Letters of Windows-1250 (Central European: Croatian/Serbian Latin, Polish, Slovak, Czech) whose bytes are, in
#: Windows-1252, characters that Western European text does not have beside a letter: ``Đđ`` (Icelandic ``Ðð``,
#: told apart by ``þ``), ``Łł`` ``Ąą`` ``Ľľ`` ``Źź`` (``£`` ``³`` ``¥`` ``¹`` ``¼`` ``¾`` ``Ÿ``), ``Ťť`` (bytes that
#: Windows-1252 leaves undefined). Letters that are Western letters in Windows-1252 (``č`` ``è``, ``ř`` ``ø``,
#: ``ů`` ``ù``, ``ě`` ``ì``) tell nothing and are not used.
_CENTRAL = frozenset("ĐđŁłĄąĽľŹźŤť")
#: ``ż`` is ``¿`` in Windows-1252, which opens Spanish questions before a letter: a witness between two letters only.
_CENTRAL_INNER = frozenset("Żż")
#: Windows-1252 letters only Icelandic/Faroese have (``þ``): with them, ``ð`` is Icelandic, not ``đ``.
_ICELANDIC = frozenset("þÞ")


def _central_european(data: bytes) -> bool:
    """Whether ``data`` (not UTF-8) reads as Windows-1250 rather than Windows-1252: at least two letters of
    :data:`_CENTRAL` with a letter beside them and no digit (``Đino``, ``dođavola``, ``Łódź``; not ``£5``), or of
    :data:`_CENTRAL_INNER` between two letters, and no Icelandic ``þ`` in its Windows-1252 reading; or bytes that
    Windows-1252 leaves undefined and Windows-1250 reads (``ť`` in ``žluťoučký``)."""
    try:
        text = data.decode("cp1250")
    except UnicodeDecodeError:
        return False
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:  # bytes Windows-1252 leaves undefined: ``Ť`` ``Ź`` ``ť`` in Windows-1250
        return True
    if any(ch in _ICELANDIC for ch in western):
        return False
    witnesses = 0
    for k, ch in enumerate(text):
        if ch not in _CENTRAL and ch not in _CENTRAL_INNER:
            continue
        prev, nxt = text[k - 1: k] or " ", text[k + 1: k + 2] or " "
        if prev.isdigit() or nxt.isdigit():
            continue
        witnesses += (prev.isalpha() and nxt.isalpha()) if ch in _CENTRAL_INNER else (prev.isalpha() or nxt.isalpha())
    return witnesses >= 2


def legacy_encoding(data: bytes) -> tuple[str, str] | None:
    """``(name, iconv name)`` of the legacy encoding that ``data`` (not UTF-8) most likely is, or None.

    Only a hint for an error message (the text is never decoded with it): Shift-JIS or EUC-JP where the
    bytes decode to Japanese text (kana among it, :func:`_japanese`), Windows-1251 where they decode to Cyrillic
    words (:func:`_cyrillic`), Windows-1250 where Central European letters show inside words
    (:func:`_central_european`: ``Đino``, ``dođavola``, which Windows-1252 reads ``Ðino``, ``doðavola``), else
    Windows-1252 where they decode with it.
    """
    for codec, name, iconv in _LEGACY:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if codec in ("shift_jis", "cp932", "euc_jp") and _japanese(text):
            return name, iconv
        if (codec == "cp1251" and _cyrillic(text)) or (codec == "cp1250" and _central_european(data)):
            return name, iconv
        if codec == "cp1252":
            return name, iconv
    return None
