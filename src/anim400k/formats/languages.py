"""The language a transcript file states, as a short code: ``ja-JP``, ``japanese``, ``Japanese`` -> ``ja``.

Transcript tools write their language in different ways: openai-whisper, whisperX and whisper.cpp a
code (``"ja"``), AWS Transcribe a locale (``"ja-JP"``), the OpenAI Whisper API's ``verbose_json`` the
language's English name in lower case (``"japanese"``, ``"english"``, ``"haitian creole"``). They are
compared with the language a transcript is given as (the EN or the JP transcript), so each is brought
to one form here: the names Whisper writes (openai/whisper ``tokenizer.LANGUAGES`` and its aliases,
MIT) are mapped to their codes, a locale is cut to its language.
"""

from __future__ import annotations

from ..model import LANGUAGE_ALIASES

#: Whisper's language names (what the OpenAI API writes in ``verbose_json``) -> codes, as
#: ``"name:code"`` pairs; openai/whisper ``tokenizer.LANGUAGES`` and ``TO_LANGUAGE_CODE`` aliases.
_WHISPER_NAMES = dict(pair.split(":") for pair in (
    "english:en chinese:zh german:de spanish:es russian:ru korean:ko french:fr japanese:ja portuguese:pt "
    "turkish:tr polish:pl catalan:ca dutch:nl arabic:ar swedish:sv italian:it indonesian:id hindi:hi "
    "finnish:fi vietnamese:vi hebrew:he ukrainian:uk greek:el malay:ms czech:cs romanian:ro danish:da "
    "hungarian:hu tamil:ta norwegian:no thai:th urdu:ur croatian:hr bulgarian:bg lithuanian:lt latin:la "
    "maori:mi malayalam:ml welsh:cy slovak:sk telugu:te persian:fa latvian:lv bengali:bn serbian:sr "
    "azerbaijani:az slovenian:sl kannada:kn estonian:et macedonian:mk breton:br basque:eu icelandic:is "
    "armenian:hy nepali:ne mongolian:mn bosnian:bs kazakh:kk albanian:sq swahili:sw galician:gl marathi:mr "
    "punjabi:pa sinhala:si khmer:km shona:sn yoruba:yo somali:so afrikaans:af occitan:oc georgian:ka "
    "belarusian:be tajik:tg sindhi:sd gujarati:gu amharic:am yiddish:yi lao:lo uzbek:uz faroese:fo "
    "haitian_creole:ht pashto:ps turkmen:tk nynorsk:nn maltese:mt sanskrit:sa luxembourgish:lb myanmar:my "
    "tibetan:bo tagalog:tl malagasy:mg assamese:as tatar:tt hawaiian:haw lingala:ln hausa:ha bashkir:ba "
    "javanese:jw sundanese:su cantonese:yue burmese:my valencian:ca flemish:nl haitian:ht letzeburgesch:lb "
    "pushto:ps panjabi:pa moldavian:ro moldovan:ro sinhalese:si castilian:es mandarin:zh"
).split())


def language_code(text: str | None) -> str:
    """The short code of a language as a file states it; ``''`` for None or an empty string.

    ``ja``/``en`` for every spelling :data:`anim400k.model.LANGUAGE_ALIASES` accepts (``jpn``,
    ``Japanese``, ``ja-JP``, ``en_US``...), the code of a language name Whisper writes (``french`` ->
    ``fr``, ``haitian creole`` -> ``ht``), else the text lower-cased and cut before a region
    (``pt-BR`` -> ``pt``).
    """
    key = (text or "").strip().lower().replace("_", "-")
    if not key:
        return ""
    base = key.split("-")[0]
    return (LANGUAGE_ALIASES.get(key) or LANGUAGE_ALIASES.get(base)
            or _WHISPER_NAMES.get(key.replace(" ", "_").replace("-", "_")) or base)
