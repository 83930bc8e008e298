"""Output paths are checked before the work: a folder, an extension the writer cannot encode, a folder where no
file can be created. Errors name the path the user gave, never the hidden ``.NAME.XXXXXXXX.part`` temporary."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from anim400k.cli import main
from anim400k.errors import InputError
from anim400k.fsutil.atomic import atomic_path, write_text_atomic
from anim400k.fsutil.writable import check_output_file

SR = 16000
SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    path = tmp_path / "a.wav"
    t = np.arange(SR * 3) / SR
    sf.write(path, (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), SR)
    return path


def _no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make decoding and the sync estimate fail loudly: the commands must stop before them."""
    import anim400k.media
    import anim400k.sync.media

    def boom(*_a: object, **_k: object) -> None:
        raise AssertionError("the work ran before the output was checked")

    monkeypatch.setattr(anim400k.media, "decode_audio", boom)
    monkeypatch.setattr(anim400k.sync.media, "sync_media", boom)


def _denied(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """``tempfile.mkstemp`` in ``folder`` fails as in a read-only folder (EACCES naming the temporary)."""
    real = tempfile.mkstemp

    def mkstemp(suffix=None, prefix=None, dir=None, text=False):  # type: ignore[no-untyped-def]  # noqa: A002
        if dir is not None and Path(dir) == folder:
            raise PermissionError(errno.EACCES, "Permission denied", str(Path(dir) / f"{prefix}w907m1e_{suffix}"))
        return real(suffix, prefix, dir, text)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def test_check_output_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_output_file(tmp_path / "new" / "deeper" / "x.json")  # folders atomic_path would make: fine
    assert not (tmp_path / "new").exists() and os.listdir(tmp_path) == []  # the probe left nothing
    with pytest.raises(InputError, match="is a folder: give the name of a file to write"):
        check_output_file(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="a part of its folder path is a file"):
        check_output_file(tmp_path / "file" / "x.json")
    ro = tmp_path / "ro"
    ro.mkdir()
    _denied(monkeypatch, ro)
    with pytest.raises(InputError) as info:
        check_output_file(ro / "x.json")
    assert info.value.message == (f"{ro / 'x.json'}: cannot be written: its folder {ro} is not writable "
                                  "(permission denied)")
    with pytest.raises(InputError, match=f"its folder {ro} is not writable"):
        check_output_file(ro / "sub" / "x.json")  # the folder it would be made in


def test_atomic_write_errors_name_the_final_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Was `/x/ro/.x.w907m1e_.part.json: Permission denied`, a name the user never gave."""
    ro = tmp_path / "ro"
    ro.mkdir()
    _denied(monkeypatch, ro)
    with pytest.raises(OSError) as info:
        write_text_atomic(ro / "x.json", "{}")
    assert info.value.filename == str(ro / "x.json") and ".part" not in str(info.value)
    assert info.value.strerror == f"cannot be written: its folder {ro} is not writable (permission denied)"
    # an error about the temporary inside the block (a failed rename, a writer) names the final path too
    dest = tmp_path / "out.json"
    with pytest.raises(OSError) as info, atomic_path(dest) as tmp:
        raise OSError(errno.EIO, "Input/output error", str(tmp))
    assert info.value.filename == str(dest) and info.value.errno == errno.EIO
    assert [p.name for p in tmp_path.iterdir()] == ["ro"]


@pytest.mark.parametrize("command", ["transcribe", "sync", "separate", "diarize"])
def test_a_read_only_output_folder_is_refused_before_the_work(wav, tmp_path, capsys, monkeypatch, command) -> None:
    """transcribe/sync/separate/diarize did all the work, then failed naming a hidden .part file."""
    ro = tmp_path / "ro"
    ro.mkdir()
    _denied(monkeypatch, ro)
    _no_work(monkeypatch)
    out = {"transcribe": "x.json", "sync": "s.json", "separate": "b.flac", "diarize": "x.rttm"}[command]
    argv = {
        "transcribe": ["transcribe", str(wav), "-l", "ja", "--asr", "vad", "--out", str(ro / out)],
        "sync": ["sync", str(wav), str(wav), "--jp-stream", "0", "--en-stream", "0", "--out", str(ro / out)],
        "separate": ["separate", str(wav), "--method", "hpss", "--out-backing", str(ro / out)],
        "diarize": ["diarize", str(wav), "--out", str(ro / out)],
    }[command]
    if command == "sync":  # one stream for both is refused (before the output); two links to one file are not
        os.link(wav, tmp_path / "b.wav")
        argv[2] = str(tmp_path / "b.wav")
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"anim400k: error: {ro / out}: cannot be written: its folder {ro} is not writable (permission denied)")


def test_outputs_that_cannot_be_written_are_refused_before_the_work(wav, tmp_path, capsys, monkeypatch) -> None:
    """`sync --out FOLDER` said `is a folder` after the estimate; `separate --out-backing b.ogg` (or no
    extension) said `unsupported audio extension` after the whole separation."""
    _no_work(monkeypatch)
    cases = [
        (["sync", str(wav), str(wav), "--jp-stream", "0", "--en-stream", "0", "--out", str(tmp_path)],
         f"{tmp_path}: is a folder: give the name of a file to write"),
        (["separate", str(wav), "--method", "hpss", "--out-backing", str(tmp_path / "b.ogg")],
         f"{tmp_path / 'b.ogg'}: unsupported audio extension '.ogg' (use .wav, .flac, .mp3, .m4a, .aac, .mp4)"),
        (["separate", str(wav), "--method", "hpss", "--out-backing", str(tmp_path / "bnoext")],
         f"{tmp_path / 'bnoext'}: no file extension to tell the format (use .wav, .flac, .mp3, .m4a, .aac, .mp4)"),
        (["separate", str(wav), "--method", "hpss", "--out-backing", str(tmp_path / "b.flac"), "--out-vocals",
          str(tmp_path / "v.ogg")], f"{tmp_path / 'v.ogg'}: unsupported audio extension '.ogg' (use .wav, .flac, "
                                    ".mp3, .m4a, .aac, .mp4)"),
        (["transcribe", str(wav), "-l", "ja", "--asr", "vad", "--out", str(tmp_path)],
         f"{tmp_path}: is a folder: give the name of a file to write"),
        # a folder (no extension) was 'no file extension to tell the format', saying nothing of what it is
        (["separate", str(wav), "--method", "hpss", "--out-backing", str(tmp_path)],
         f"{tmp_path}: is a folder: give the name of a file to write"),
        (["diarize", str(wav), "--out", str(tmp_path)], f"{tmp_path}: is a folder: give the name of a file to write"),
    ]
    os.link(wav, tmp_path / "b.wav")
    for argv, message in cases:
        if argv[0] == "sync":
            argv[2] = str(tmp_path / "b.wav")
        assert main(argv) == 2, argv
        assert capsys.readouterr().err.splitlines()[-1] == f"anim400k: error: {message}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "b.wav"]


def test_a_really_read_only_folder(wav, tmp_path, unprivileged) -> None:
    """The same with a folder of mode 555 (root runs without its power to ignore modes)."""
    prefix = unprivileged
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        env = {**os.environ, "PYTHONPATH": SRC}
        run = subprocess.run([*prefix, sys.executable, "-m", "anim400k", "transcribe", str(wav), "-l", "ja",
                              "--asr", "vad", "--out", str(ro / "x.json")], capture_output=True, text=True, env=env)
        assert run.returncode == 2, run.stderr
        assert run.stderr.splitlines() == [
            f"anim400k: error: {ro / 'x.json'}: cannot be written: its folder {ro} is not writable (permission denied)"]
        code = f"from anim400k.fsutil.atomic import write_text_atomic; write_text_atomic({str(ro / 'y.json')!r}, 'x')"
        run = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True, env=env)
        assert run.returncode == 1
        assert run.stderr.splitlines()[-1] == (
            f"PermissionError: [Errno 13] cannot be written: its folder {ro} is not writable (permission denied): "
            f"'{ro / 'y.json'}'")
        assert os.listdir(ro) == []
    finally:
        ro.chmod(0o755)


def _one_line(argv: list[str], capsys: pytest.CaptureFixture) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Usage" not in err and "Invalid value" not in err, err
    lines = [line for line in err.splitlines() if not line.startswith("note: ")]
    assert len(lines) == 1, err
    return lines[0]


def test_unreadable_and_folder_inputs_are_the_tools_one_line(wav, tmp_path, capsys, monkeypatch) -> None:
    """A mode-000 MEDIA got click's usage block (`Error: Invalid value for 'media': path ... is not
    readable.`); `transcribe DIR` said `media file not found`."""
    real_access = os.access
    unread = tmp_path / "unread.wav"
    unread.write_bytes(wav.read_bytes())
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == unread else real_access(p, mode, **kw))
    cases = [
        ["transcribe", str(unread), "-l", "ja", "--asr", "vad", "--out", str(tmp_path / "x.json")],
        ["sync", str(unread), str(wav)],
        ["separate", str(unread), "--method", "hpss", "--out-backing", str(tmp_path / "b.flac")],
        ["separate", str(wav), "--en-media", str(unread), "--out-backing", str(tmp_path / "b.flac")],
        ["diarize", str(unread), "--out", str(tmp_path / "x.rttm")],
    ]
    for argv in cases:
        assert _one_line(argv, capsys) == f"anim400k: error: {unread}: cannot be read (permission denied)", argv
    folder = tmp_path / "media-folder"
    folder.mkdir()
    for argv in (["transcribe", str(folder), "-l", "en", "--out", str(tmp_path / "x.json")],
                 ["sync", str(folder), str(wav)], ["diarize", str(folder), "--out", str(tmp_path / "x.rttm")],
                 ["separate", str(folder), "--out-backing", str(tmp_path / "b.flac")]):
        assert _one_line(argv, capsys) == f"anim400k: error: {folder}: is a folder, not a media file", argv
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "media-folder", "unread.wav"]


def test_a_really_unreadable_file(wav, tmp_path, unprivileged) -> None:
    """Mode 000, run without root's power to read anything: each command's own line, for inputs that a
    command does not check itself too (`align`: the OS's `Permission denied`, one line)."""
    unread = tmp_path / "unread.wav"
    unread.write_bytes(wav.read_bytes())
    unread.chmod(0)
    env = {**os.environ, "PYTHONPATH": SRC}
    try:
        for argv, problem in (
            (["transcribe", str(unread), "-l", "ja", "--asr", "vad", "--out", str(tmp_path / "x.json")],
             "cannot be read (permission denied)"),
            (["align", "--en", str(unread), "--jp", str(wav), "--out", str(tmp_path / "c.json")], "Permission denied"),
        ):
            run = subprocess.run([*unprivileged, sys.executable, "-m", "anim400k", *argv], capture_output=True,
                                 text=True, env=env)
            assert run.returncode == 2
            assert run.stderr.splitlines() == [f"anim400k: error: {unread}: {problem}"]
    finally:
        unread.chmod(0o644)


def test_an_output_name_at_the_filesystem_limit_is_written(tmp_path: Path) -> None:
    """A 255-byte name (85 Japanese characters) is legal; the hidden temporary name is cut to fit, and a killed
    run's temporary of that output is still found and removed."""
    from anim400k.fsutil.atomic import write_json_atomic
    from anim400k.fsutil.temp_files import remove_stale_temps, temp_stem

    name = "あ" * 83 + "a.json"  # 249 + 6 bytes = 255
    assert len(name.encode()) == 255
    out = tmp_path / name
    write_json_atomic(out, {"ok": 1})
    assert json.loads(out.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == [name]
    stale = tmp_path / f".{temp_stem(out.stem, '.json')}.anim400k-abcd1234.part.json"
    assert len(stale.name.encode()) <= 255 and temp_stem(out.stem, ".json") != out.stem
    stale.write_text("partial")
    assert remove_stale_temps(out) == 1 and not stale.exists()
    assert temp_stem("short", ".json") == "short"


def test_hidden_names_beside_a_long_output_fit_and_stay_apart(tmp_path: Path) -> None:
    """A lock file or staging folder beside an output of 228-255 bytes failed with "File name too long" naming
    the hidden name (export, tasks, mushra create, dub). Cut names end in a hash: two long outputs sharing a
    beginning get two locks."""
    from anim400k.fsutil.locks import output_lock, output_lock_path
    from anim400k.fsutil.temp_files import fitted_name

    a, b = "あ" * 84 + "a.mkv", "あ" * 84 + "b.mkv"  # 257 bytes: too long for a name, but fine to cut
    assert fitted_name("short", 20) == "short"
    for name in (a, b):
        cut = fitted_name(name, 20)
        assert len(cut.encode()) <= 235 and cut.startswith("あ" * 70) and "~" in cut
    assert fitted_name(a, 20) != fitted_name(b, 20)
    out = tmp_path / ("m" * 250 + ".mkv")  # a legal 254-byte name
    lock = output_lock_path(out)
    assert len(lock.name.encode()) <= 255 and lock.name.endswith(".anim400k.lock")
    with output_lock(out):
        assert lock.exists()
    assert output_lock_path(tmp_path / ("m" * 250 + ".mka")) != lock


def test_atomic_files_and_staged_folders_follow_the_one_umask_of_fsutil(tmp_path: Path, monkeypatch) -> None:
    """The umask read at import lives in ``fsutil.paths`` (:func:`mkdtemp_like_mkdir`'s folders); since the split
    of fsutil, ``atomic`` kept its own copy taken when it was imported, so the files and the folders of one
    output could follow two different values (a test patching ``paths._UMASK`` reached the folders only)."""
    import stat

    from anim400k.fsutil import paths

    monkeypatch.setattr(paths, "_UMASK", 0o077)
    write_text_atomic(tmp_path / "a.json", "{}")
    folder = paths.mkdtemp_like_mkdir("staged", dir=tmp_path)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    monkeypatch.setattr(paths, "_UMASK", 0o002)
    write_text_atomic(tmp_path / "b.json", "{}")
    assert stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == 0o664


def test_a_broken_symbolic_link_in_the_output_path_is_named_as_one(tmp_path: Path) -> None:
    """``--out`` through a symbolic link to nothing was said to be "a file"."""
    from anim400k.errors import InputError
    from anim400k.fsutil.atomic import atomic_path
    from anim400k.fsutil.writable import check_output_file, check_writable

    link = tmp_path / "dangl"
    link.symlink_to(tmp_path / "gone")
    for check in (lambda: check_output_file(link / "o.json"), lambda: check_writable({"--out": link / "o.json"}),
                  lambda: atomic_path(link / "o.json").__enter__()):
        with pytest.raises(InputError, match=r"dangl \(a part of its folder path\) is a symbolic link to .*gone, "
                                             r"which does not exist"):
            check()
    with pytest.raises(InputError, match=r"--out cannot be written: it is a symbolic link to .*gone, which does not"):
        check_writable({}, {"--out": link})
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InputError, match="a part of its folder path is a file"):
        check_output_file(tmp_path / "afile" / "o.json")
