"""Which ASS/SSA events are dialogue, and which are typesetting ("signs") or songs.

A fansub or BD ASS script holds more than what is spoken: sign translations placed over the picture
(``{\\pos(960,80)}Tokyo Station``), opening/ending/insert song lyrics (romaji, kanji, translation),
karaoke effects generated one event per syllable and layer (Effect ``fx``), episode title cards.
None of it is the translation of the speech of the moment, so it is left out of clip subtitles and
dubbing (:func:`non_dialogue`). The rules are conservative: dialogue is kept unless an event says
that it is something else.

An event is a sign or song line when

1. its **Effect** field is a karaoke-template kind: its first word is ``fx``, ``template``, ``code``
   or ``karaoke`` (any case): what Aegisub's karaoke templater writes and generates;
2. its text holds a **karaoke tag** (``\\k``, ``\\K``, ``\\kf``, ``\\ko``, ``\\kt`` with a duration):
   a sung line timed by syllable, whatever its style;
3. its **style name** has a word of :data:`SONG_WORDS` (``OP``, ``ED``, ``OP-Romaji``, ``Insert Song``,
   ``Karaoke``, ``Lyrics``...) or :data:`SIGN_WORDS` (``Signs``, ``TS``, ``Typeset``, ``Title``,
   ``Eyecatch``, ``TL Note``...). A name is cut into words at anything that is not a letter or digit,
   at a change from lower to upper case (``OPRomaji`` is ``OP`` + ``Romaji``) and between letters and
   digits (``ED2``); whole words are compared, so ``Subtitle`` is not ``Title`` and ``Edward`` not
   ``ED``. ``OP``/``ED`` count in capitals or lowercase (``OP``, ``ed``) but not as ``Ed`` or ``Op``,
   which are the styles of characters more often than of songs (``Ed-Romaji`` is still a song by
   ``Romaji``);
4. its text is **positioned** (``\\pos``, ``\\move``, ``\\org``, ``\\clip``/``\\iclip`` in an override
   block) and its style is not a known dialogue style (no word of :data:`DIALOGUE_WORDS`: ``Default``,
   ``Main``, ``Dialogue``, ``Italics``, ``Top``, ``Flashback``, ``Alt``, ``Overlap``, ``Narrator``,
   ``Thoughts``...). Dialogue is positioned now and then (a line moved off a hardsub or a face),
   nearly always in a dialogue style, so a positioned ``Default`` line is kept; a positioned line in
   a style named after neither (``Alice``, ``Style1``) is taken for a sign, unless the script itself
   shows the style to be dialogue: a style that also carries unpositioned lines kept as dialogue
   (:func:`dialogue_styles`; fansubs give each character a style, ``Haruhi``, and move one of its
   lines off a face with ``\\pos``) is a dialogue style for this rule.

Top placement alone (``{\\an8}``, or a style aligned to the top) is dialogue: it is how a line is
moved out of the way of burnt-in text or of a second speaker. The Actor (Name) field is not used.
Comments are not events here (they are dropped before), nor are drawings (``{\\p1}``: no text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .subtitle_text import ass_pieces, ass_text

#: Style-name words of opening/ending/insert songs and karaoke.
SONG_WORDS = frozenset({
    "op", "ed", "opening", "ending", "song", "songs", "insert", "karaoke", "kara", "lyric", "lyrics",
    "romaji", "kanji",
})
#: Style-name words of typesetting: signs, title cards, eyecatches, translator notes, credits.
SIGN_WORDS = frozenset({
    "sign", "signs", "ts", "typeset", "typesetting", "title", "titles", "eyecatch", "note", "notes", "tlnote",
    "credits", "staff",
})
#: Style-name words of dialogue: a positioned event in such a style is kept (rule 4).
DIALOGUE_WORDS = frozenset({
    "default", "main", "dialogue", "dialog", "italics", "italic", "top", "flashback", "flash", "alt", "alternate",
    "overlap", "narrator", "narration", "thoughts", "thought", "internal", "speech", "subtitle", "subtitles",
    "secondary",
})
#: The first words of an Effect field that Aegisub's karaoke templater writes or generates.
KARAOKE_EFFECTS = frozenset({"fx", "template", "code", "karaoke"})

_EFFECT_KIND = re.compile(r"[A-Za-z]+")
_KARAOKE_TAG = re.compile(r"\\(?:k[fot]?|K)\s*\d")
_POSITION_TAG = re.compile(r"\\(?:pos|move|org|i?clip)\s*\(")
_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")
_WORD_BREAK = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")


def style_words(style: str) -> list[str]:
    """The words of a style name as written (``OP-Romaji`` -> ``OP``, ``Romaji``; ``DefaultItalic2`` ->
    ``Default``, ``Italic``, ``2``)."""
    return [w for part in _NOT_WORD.split(style) for w in _WORD_BREAK.split(part) if w]


def _lowered(style: str) -> set[str]:
    """The style's words in lowercase, ``Ed``/``Op`` (title case: a character's name) left out."""
    return {w.lower() for w in style_words(style) if w not in ("Ed", "Op")}


def _tags(text: str) -> str:
    """The override blocks of an event's text, joined (the tags only, never the spoken words)."""
    return "".join(piece for is_block, piece in ass_pieces(text) if is_block)


def dialogue_styles(events: Iterable[tuple[str, str, str]]) -> frozenset[str]:
    """The styles that the script's own events show to be dialogue: those of an unpositioned event with
    text that rules 1-4 keep, of the ``(style, effect, raw text)`` of a script's events (comments left out).

    A positioned line in such a style is dialogue (:func:`non_dialogue`'s ``dialogue_styles``)."""
    return frozenset(style for style, effect, text in events
                     if ass_text(text) and not _POSITION_TAG.search(_tags(text))
                     and non_dialogue(style, effect, text) is None)


def non_dialogue(style: str, effect: str, text: str, dialogue_styles: Iterable[str] = frozenset()) -> str | None:
    """Why the ASS event of ``style``, ``effect`` and raw ``text`` is not dialogue (``"karaoke effect"``,
    ``"karaoke"``, ``"song style"``, ``"sign style"``, ``"positioned"``: the module's rules 1-4), or None
    when it is dialogue. ``dialogue_styles`` (:func:`dialogue_styles` of the whole script) are styles that
    rule 4 treats as dialogue whatever their names."""
    kind = _EFFECT_KIND.match(effect.strip())
    if kind and kind.group().lower() in KARAOKE_EFFECTS:
        return "karaoke effect"
    tags = _tags(text)
    if _KARAOKE_TAG.search(tags):
        return "karaoke"
    names = _lowered(style)
    if names & SONG_WORDS:
        return "song style"
    if names & SIGN_WORDS:
        return "sign style"
    if _POSITION_TAG.search(tags) and not names & DIALOGUE_WORDS and style not in dialogue_styles:
        return "positioned"
    return None
