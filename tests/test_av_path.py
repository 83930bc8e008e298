"""Local files whose names FFmpeg would read as a protocol (``Re:Zero 01.mkv``, ``Steins;Gate``) open and are
written by their absolute paths (they failed with "Protocol not found" when named relatively)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from anim400k.media.av_path import av_path
from anim400k.media.probe import probe
from anim400k.synth.writer import write_wav


def test_a_relative_name_with_a_colon_is_probed_and_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    tone = np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000).astype(np.float32)
    write_wav("Re:Zero 01.wav", tone, 16000)  # a relative name: FFmpeg took "Re" for a protocol
    assert (tmp_path / "Re:Zero 01.wav").is_file()
    with pytest.raises(av.FFmpegError):
        av.open("Re:Zero 01.wav")  # what PyAV does with the name as given
    info = probe("Re:Zero 01.wav")
    assert info.duration == pytest.approx(1.0, abs=0.01) and len(info.audio_streams) == 1
    info = probe("./Re:Zero 01.wav")
    assert info.duration == pytest.approx(1.0, abs=0.01)


def test_av_path_keeps_urls_and_makes_local_names_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert av_path("Re:Zero.mkv") == str(tmp_path / "Re:Zero.mkv")
    assert av_path(Path("a/b.mkv")) == str(tmp_path / "a" / "b.mkv")
    assert av_path("/abs/x.mkv") == "/abs/x.mkv"
    assert av_path("https://example.org/x.mkv") == "https://example.org/x.mkv"


def test_a_name_through_a_link_and_dotdot_opens_what_the_system_opens(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """``link/../ep.wav`` with ``link`` a link into another folder: the absolute path was made by its text (``link/..``
    taken out), so a file of that name in the working folder was opened instead, or none ('No such file')."""
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "link").symlink_to(tmp_path / "real" / "sub")
    write_wav(tmp_path / "real" / "ep.wav", np.zeros(16000, np.float32), 16000)  # 1 s: the file meant
    write_wav(tmp_path / "work" / "ep.wav", np.zeros(8000, np.float32), 16000)  # 0.5 s: another one
    monkeypatch.chdir(tmp_path / "work")
    assert probe("link/../ep.wav").duration == pytest.approx(1.0, abs=0.01)
