"""A fansub or BD MKV given as an episode's media with no ``subtitles``/``subtitle_stream``: the build warned of
nothing and its clips had no en_subtitles although the file holds them; now a warning names the English
dialogue stream and ``subtitle_stream: eng``. Found by ``benchmarks/check_input_media.py`` (docs/media.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_subtitle_en_stream import _mkv as mkv_with_subtitles

from anim400k.dataset.stages import unread_subtitles_note
from anim400k.model import EpisodeRef

LINES = "1\n00:00:01,000 --> 00:00:02,000\nHello.\n"


def _mkv(tmp_path: Path, name: str, subs: list[tuple[str, str, str]]) -> Path:
    """An MKV with silence and one SRT stream of :data:`LINES` per ``(language, title, disposition)``."""
    return mkv_with_subtitles(tmp_path, name, [(LINES, *sub) for sub in subs])


def _ref(media: Path, **kw: object) -> EpisodeRef:
    return EpisodeRef("s", "1", str(media), str(media), **kw)  # type: ignore[arg-type]


def test_an_episode_naming_no_subtitles_is_warned_of_the_english_stream_its_media_holds(tmp_path: Path) -> None:
    fansub = _mkv(tmp_path, "fansub", [("eng", "Signs & Songs", "default+forced"), ("eng", "Full Dialogue", "0")])
    note = unread_subtitles_note(_ref(fansub))
    assert note is not None
    assert note.startswith(f"{fansub}: holds English subtitles (subtitle stream 1: eng 'Full Dialogue') but the "
                           "episode names none: its clips have no en_subtitles; add subtitle_stream: eng"), note
    # named: no warning
    assert unread_subtitles_note(_ref(fansub, subtitle_stream="eng")) is None
    assert unread_subtitles_note(_ref(fansub, subtitles=str(tmp_path / "lines.srt"))) is None
    # nothing English to read: no warning
    assert unread_subtitles_note(_ref(_mkv(tmp_path, "bare", []))) is None
    assert unread_subtitles_note(_ref(_mkv(tmp_path, "japanese", [("jpn", "Japanese", "default")]))) is None


def test_an_untagged_subtitle_stream_is_not_called_english(tmp_path: Path) -> None:
    """A JP medium whose one text subtitle stream has no language tag (it may well be Japanese) was warned of as
    "holds English subtitles" with the advice ``subtitle_stream: eng``, which the build then refuses ("no subtitle
    stream in language 'eng'"): the warning is for streams tagged English only, as docs/manifest.md says."""
    from anim400k.errors import InputError
    from anim400k.formats.subtitles import check_subtitle_stream

    untagged = _mkv(tmp_path, "untagged", [("und", "", "default")])
    with pytest.raises(InputError, match="no subtitle stream in language 'eng'"):  # the advice would not work
        check_subtitle_stream(str(untagged), "eng")
    note = unread_subtitles_note(_ref(untagged))  # named for what it is, with the advice that does read it
    assert note == (f"{untagged}: holds a subtitle stream with no language tag (subtitle stream 0: und (default)) "
                    "and the episode names no subtitles: its clips have no en_subtitles; if that stream is English, "
                    "add subtitle_stream: 0 (or subtitles: FILE) to read it")
    check_subtitle_stream(str(untagged), "0")  # the advice works
    assert unread_subtitles_note(_ref(untagged, subtitle_stream="0")) is None
