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

#: Whisper's languages: (Whisper's code, ISO 639-2/T code, ISO 639-2/B code or "", English name), in
#: the order of openai/whisper's ``tokenizer.LANGUAGES`` (MIT; faster-whisper's ``_LANGUAGE_CODES``, sorted).
WHISPER_LANGUAGE_TABLE: tuple[tuple[str, str, str, str], ...] = (
    ("en", "eng", "", "english"), ("zh", "zho", "chi", "chinese"), ("de", "deu", "ger", "german"),
    ("es", "spa", "", "spanish"), ("ru", "rus", "", "russian"), ("ko", "kor", "", "korean"),
    ("fr", "fra", "fre", "french"), ("ja", "jpn", "", "japanese"), ("pt", "por", "", "portuguese"),
    ("tr", "tur", "", "turkish"), ("pl", "pol", "", "polish"), ("ca", "cat", "", "catalan"),
    ("nl", "nld", "dut", "dutch"), ("ar", "ara", "", "arabic"), ("sv", "swe", "", "swedish"),
    ("it", "ita", "", "italian"), ("id", "ind", "", "indonesian"), ("hi", "hin", "", "hindi"),
    ("fi", "fin", "", "finnish"), ("vi", "vie", "", "vietnamese"), ("he", "heb", "", "hebrew"),
    ("uk", "ukr", "", "ukrainian"), ("el", "ell", "gre", "greek"), ("ms", "msa", "may", "malay"),
    ("cs", "ces", "cze", "czech"), ("ro", "ron", "rum", "romanian"), ("da", "dan", "", "danish"),
    ("hu", "hun", "", "hungarian"), ("ta", "tam", "", "tamil"), ("no", "nor", "", "norwegian"),
    ("th", "tha", "", "thai"), ("ur", "urd", "", "urdu"), ("hr", "hrv", "", "croatian"),
    ("bg", "bul", "", "bulgarian"), ("lt", "lit", "", "lithuanian"), ("la", "lat", "", "latin"),
    ("mi", "mri", "mao", "maori"), ("ml", "mal", "", "malayalam"), ("cy", "cym", "wel", "welsh"),
    ("sk", "slk", "slo", "slovak"), ("te", "tel", "", "telugu"), ("fa", "fas", "per", "persian"),
    ("lv", "lav", "", "latvian"), ("bn", "ben", "", "bengali"), ("sr", "srp", "", "serbian"),
    ("az", "aze", "", "azerbaijani"), ("sl", "slv", "", "slovenian"), ("kn", "kan", "", "kannada"),
    ("et", "est", "", "estonian"), ("mk", "mkd", "mac", "macedonian"), ("br", "bre", "", "breton"),
    ("eu", "eus", "baq", "basque"), ("is", "isl", "ice", "icelandic"), ("hy", "hye", "arm", "armenian"),
    ("ne", "nep", "", "nepali"), ("mn", "mon", "", "mongolian"), ("bs", "bos", "", "bosnian"),
    ("kk", "kaz", "", "kazakh"), ("sq", "sqi", "alb", "albanian"), ("sw", "swa", "", "swahili"),
    ("gl", "glg", "", "galician"), ("mr", "mar", "", "marathi"), ("pa", "pan", "", "punjabi"),
    ("si", "sin", "", "sinhala"), ("km", "khm", "", "khmer"), ("sn", "sna", "", "shona"),
    ("yo", "yor", "", "yoruba"), ("so", "som", "", "somali"), ("af", "afr", "", "afrikaans"),
    ("oc", "oci", "", "occitan"), ("ka", "kat", "geo", "georgian"), ("be", "bel", "", "belarusian"),
    ("tg", "tgk", "", "tajik"), ("sd", "snd", "", "sindhi"), ("gu", "guj", "", "gujarati"),
    ("am", "amh", "", "amharic"), ("yi", "yid", "", "yiddish"), ("lo", "lao", "", "lao"),
    ("uz", "uzb", "", "uzbek"), ("fo", "fao", "", "faroese"), ("ht", "hat", "", "haitian creole"),
    ("ps", "pus", "", "pashto"), ("tk", "tuk", "", "turkmen"), ("nn", "nno", "", "nynorsk"),
    ("mt", "mlt", "", "maltese"), ("sa", "san", "", "sanskrit"), ("lb", "ltz", "", "luxembourgish"),
    ("my", "mya", "bur", "burmese"), ("bo", "bod", "tib", "tibetan"), ("tl", "tgl", "", "tagalog"),
    ("mg", "mlg", "", "malagasy"), ("as", "asm", "", "assamese"), ("tt", "tat", "", "tatar"),
    ("haw", "haw", "", "hawaiian"), ("ln", "lin", "", "lingala"), ("ha", "hau", "", "hausa"),
    ("ba", "bak", "", "bashkir"), ("jw", "jav", "", "javanese"), ("su", "sun", "", "sundanese"),
    ("yue", "yue", "", "cantonese"),
)

#: Whisper's codes of its languages.
WHISPER_LANGUAGES: frozenset[str] = frozenset(row[0] for row in WHISPER_LANGUAGE_TABLE)

#: Other English names of Whisper's languages (openai/whisper ``TO_LANGUAGE_CODE``'s aliases, MIT).
_NAME_ALIASES = {
    "myanmar": "my", "valencian": "ca", "flemish": "nl", "haitian": "ht", "letzeburgesch": "lb", "pushto": "ps",
    "panjabi": "pa", "moldavian": "ro", "moldovan": "ro", "sinhalese": "si", "castilian": "es", "mandarin": "zh",
}

#: Whisper's language names (what the OpenAI API writes in ``verbose_json``; spaces as ``_``) -> codes.
_WHISPER_NAMES = {row[3].replace(" ", "_"): row[0] for row in WHISPER_LANGUAGE_TABLE} | _NAME_ALIASES

#: Every spelling of one of Whisper's languages (lower case, no region) -> Whisper's code: its code, ISO 639-2
#: codes (T and B), English names, ``jp`` as the rest of anim400k takes it, ``jv`` (ISO 639-1 for Javanese,
#: which Whisper calls ``jw``), ``iw``/``in``/``ji`` (Hebrew's, Indonesian's and Yiddish's old codes), Norwegian
#: Bokmål (``nb``/``nob``, how media tag Norwegian: Whisper's ``no``, as Nynorsk is its ``nn``) and Filipino
#: (``fil``: Whisper's ``tl``). :mod:`anim400k.asr.languages` uses it.
WHISPER_CODES: dict[str, str] = {
    **{name: row[0] for row in WHISPER_LANGUAGE_TABLE for name in row if name},
    **_NAME_ALIASES, "jp": "ja", "jv": "jw", "iw": "he", "in": "id", "ji": "yi", "nb": "no", "nob": "no",
    "fil": "tl",
}


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
