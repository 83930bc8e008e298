"""Whisper's language codes, and the one mapping from the codes anim400k takes to them.

The build, the manifests and media streams name languages by ISO 639-2 code (``jpn``, ``eng``) or
ISO 639-1 code (``ja``, ``en``), sometimes with a region (``en-US``, ``pt_BR``) or as an English name
(``Japanese``); Whisper wants its own code (ISO 639-1 for almost all, ``haw``/``yue`` for Hawaiian and
Cantonese, ``jw`` for Javanese) and faster-whisper fails deep inside decoding on anything else.
Every Whisper-family backend (``faster-whisper``, ``whisper-tiny-en``, ``whisper-base``) and the dub's
Whisper translator go through :func:`whisper_language`; the table of Whisper's languages is
:data:`anim400k.formats.languages.WHISPER_LANGUAGE_TABLE` (also the names a transcript file states).
"""

from __future__ import annotations

from ..errors import InputError
from ..formats.languages import WHISPER_CODES, WHISPER_LANGUAGE_TABLE, WHISPER_LANGUAGES

__all__ = ["ENGLISH_ONLY_ASR", "WHISPER_LANGUAGES", "WHISPER_LANGUAGE_TABLE", "known_whisper_language",
           "whisper_language"]

#: the ASR backends that decode English only (their models are English models)
ENGLISH_ONLY_ASR = ("pocketsphinx", "whisper-tiny-en")


def known_whisper_language(language: str) -> str | None:
    """Whisper's code for ``language`` (``jpn`` -> ``ja``, ``en-US`` -> ``en``, ``Japanese`` -> ``ja``,
    ``yue`` -> ``yue``), or None when Whisper does not know it."""
    key = language.strip().lower().replace("_", "-")
    return WHISPER_CODES.get(key) or WHISPER_CODES.get(key.split("-")[0])


def whisper_language(language: str) -> str:
    """Whisper's code for ``language`` (as :func:`known_whisper_language`); a code Whisper does not know is
    an :class:`~anim400k.errors.InputError` naming it."""
    code = known_whisper_language(language)
    if code is None:
        raise InputError(f"language '{language}' is not one Whisper knows (give an ISO 639-1 or 639-2 code "
                         "such as ja/jpn or en/eng)")
    return code
