"""The publish of a checked output (:func:`anim400k.fsutil.no_clobber.refuse_foreign_output` then the final rename of
:func:`anim400k.fsutil.atomic.atomic_path` or a :func:`anim400k.fsutil.output_sets.committed_together` set) never
replaces a file that appeared at the path since the check, nor a file there that another program replaced or
rewrote meanwhile: that file is kept byte for byte, the new output lands beside it, and the command fails with one
line."""

from __future__ import annotations

import ctypes
import errno
import json
import os
from pathlib import Path

import pytest

from anim400k.cli import main
from anim400k.errors import OutputChanged
from anim400k.fsutil import check_notes, rename
from anim400k.fsutil.atomic import atomic_path, write_json_atomic
from anim400k.fsutil.no_clobber import refuse_foreign_output
from anim400k.fsutil.output_sets import committed_together
from anim400k.fsutil.rename import rename_noreplace
from anim400k.fsutil.sniffers import json_object_with
from anim400k.fsutil.temp_files import NAME_MAX

OURS = json_object_with(("kind",))
USERS = b"the user's own file, written while the command worked\n"


def _check(path: Path) -> None:
    refuse_foreign_output("--out", path, OURS, "a test output")


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _appeared(path: Path) -> str:
    return (f"{path}: a file appeared here while anim400k was writing it; it was left as it is and the new output "
            f"is at {path.with_name(path.stem + '.anim400k-new' + path.suffix)}")


# ---- rename_noreplace and its fallbacks ------------------------------------------------------------------


def _no_renameat2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rename, "_libc_renameat2", lambda: None)


def _renameat2_einval(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuses(*_args: object) -> int:  # a file system that does not take RENAME_NOREPLACE
        ctypes.set_errno(errno.EINVAL)
        return -1

    monkeypatch.setattr(rename, "_libc_renameat2", lambda: refuses)


@pytest.mark.parametrize("setup, way", [(None, "renameat2"), (_no_renameat2, "link"), (_renameat2_einval, "link")])
def test_rename_noreplace_renames_onto_a_free_name_and_never_over_a_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup, way: str) -> None:
    if setup is not None:
        setup(monkeypatch)
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_bytes(b"new")
    assert rename_noreplace(src, dst) == way
    assert dst.read_bytes() == b"new" and not src.exists()
    src.write_bytes(b"newer")
    with pytest.raises(FileExistsError) as info:
        rename_noreplace(src, dst)
    assert info.value.filename == str(dst)
    assert (src.read_bytes(), dst.read_bytes()) == (b"newer", b"new")


def test_rename_noreplace_without_links_falls_back_to_a_look_then_a_replace(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_renameat2(monkeypatch)

    def no_links(*_args: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")  # what vfat answers

    monkeypatch.setattr(rename.os, "link", no_links)
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_bytes(b"new")
    assert rename_noreplace(src, dst) == "replace"
    src.write_bytes(b"newer")
    with pytest.raises(FileExistsError):
        rename_noreplace(src, dst)
    assert dst.read_bytes() == b"new"


# ---- atomic_path ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("setup", [None, _no_renameat2])
def test_a_file_created_at_a_checked_free_path_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        setup) -> None:
    if setup is not None:
        setup(monkeypatch)
    out = tmp_path / "out.json"
    _check(out)
    with pytest.raises(OutputChanged) as info, atomic_path(out) as tmp:
        tmp.write_text(json.dumps({"kind": "new"}))
        out.write_bytes(USERS)  # another program, between the check and the rename
    assert str(info.value) == _appeared(out)
    assert "\n" not in str(info.value)
    assert out.read_bytes() == USERS
    assert json.loads((tmp_path / "out.anim400k-new.json").read_text()) == {"kind": "new"}
    assert _names(tmp_path) == ["out.anim400k-new.json", "out.json"]  # no temporary left


def test_the_new_output_takes_the_next_free_name_beside(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    (tmp_path / "out.anim400k-new.json").write_bytes(b"an earlier kept output")
    _check(out)
    with pytest.raises(OutputChanged) as info, atomic_path(out) as tmp:
        tmp.write_text("{}")
        out.write_bytes(USERS)
    assert str(info.value).endswith(f"is at {tmp_path / 'out.anim400k-new-2.json'}")
    assert (tmp_path / "out.anim400k-new.json").read_bytes() == b"an earlier kept output"
    assert (tmp_path / "out.anim400k-new-2.json").read_text() == "{}"


def test_the_new_output_of_a_name_of_255_bytes_is_kept_beside(tmp_path: Path) -> None:
    """NAME.anim400k-new.EXT of an output whose name took the whole 255 bytes failed with 'File name too long'
    and the new output was deleted; its NAME is cut to fit instead."""
    out = tmp_path / ("é" * 125 + ".json")  # 250 + 5 bytes
    assert len(os.fsencode(out.name)) == NAME_MAX
    _check(out)
    with pytest.raises(OutputChanged) as info, atomic_path(out) as tmp:
        tmp.write_text("{}")
        out.write_bytes(USERS)
    aside = Path(str(info.value).rsplit(" is at ", 1)[1])
    assert aside.parent == tmp_path and aside.name.endswith(".anim400k-new.json")
    assert len(os.fsencode(aside.name)) <= NAME_MAX and aside.name.startswith("é" * 100)
    assert aside.read_text() == "{}" and out.read_bytes() == USERS
    assert _names(tmp_path) == sorted([out.name, aside.name])


@pytest.mark.parametrize("how", ["replaced", "rewritten"])
def test_an_own_file_changed_by_another_program_meanwhile_is_kept(tmp_path: Path, how: str) -> None:
    out = tmp_path / "out.json"
    write_json_atomic(out, {"kind": "old"})
    _check(out)
    other = json.dumps({"kind": "theirs", "note": "written by another program"}).encode()
    with pytest.raises(OutputChanged) as info, atomic_path(out) as tmp:
        tmp.write_text(json.dumps({"kind": "new"}))
        if how == "replaced":  # a new file renamed onto the path
            (tmp_path / "x").write_bytes(other)
            os.replace(tmp_path / "x", out)
        else:  # the same file written over in place
            out.write_bytes(other)
    assert str(info.value) == (f"{out}: another program changed this file while anim400k was writing it; it was "
                               f"left as it is and the new output is at {tmp_path / 'out.anim400k-new.json'}")
    assert out.read_bytes() == other
    assert _names(tmp_path) == ["out.anim400k-new.json", "out.json"]


def test_the_normal_path_is_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    _check(out)  # nothing there: written
    write_json_atomic(out, {"kind": "first"})
    _check(out)  # our own file: replaced
    write_json_atomic(out, {"kind": "second"})
    assert json.loads(out.read_text()) == {"kind": "second"}
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    _check(empty)  # an empty file: replaced
    write_json_atomic(empty, {"kind": "x"})
    assert json.loads(empty.read_text()) == {"kind": "x"}
    assert _names(tmp_path) == ["empty.json", "out.json"]


def test_an_unchecked_path_is_replaced_as_before(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    with atomic_path(out) as tmp:
        tmp.write_text("new")
        out.write_bytes(USERS)  # not checked: the rename replaces it, as it always did
    assert out.read_text() == "new"


def test_the_note_serves_one_publish(tmp_path: Path) -> None:
    """A check arms the next publish of its path only: a later write of the path without a check is as before."""
    out = tmp_path / "out.json"
    _check(out)
    write_json_atomic(out, {"kind": "first"})
    out.write_bytes(USERS)
    write_json_atomic(out, {"kind": "second"})  # no check before it: not refused
    assert json.loads(out.read_text()) == {"kind": "second"}


# ---- committed_together ---------------------------------------------------------------------------------


def test_a_file_appearing_in_a_set_keeps_the_whole_set_aside(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    write_json_atomic(a, {"kind": "old a"})
    for p in (a, b):
        _check(p)
    with pytest.raises(OutputChanged) as info, committed_together([a, b]):
        write_json_atomic(a, {"kind": "new a"})
        write_json_atomic(b, {"kind": "new b"})
        b.write_bytes(USERS)
    assert str(info.value) == _appeared(b) + (" (the 1 other new file of this output set likewise, as "
                                              "NAME.anim400k-new.EXT beside their names)")
    assert json.loads(a.read_text()) == {"kind": "old a"}  # no file of the set replaced anything
    assert b.read_bytes() == USERS
    assert json.loads((tmp_path / "a.anim400k-new.json").read_text()) == {"kind": "new a"}
    assert json.loads((tmp_path / "b.anim400k-new.json").read_text()) == {"kind": "new b"}
    assert _names(tmp_path) == ["a.anim400k-new.json", "a.json", "b.anim400k-new.json", "b.json"]


def test_a_set_of_checked_paths_is_written_as_before(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    write_json_atomic(a, {"kind": "old a"})
    for p in (a, b):
        _check(p)
    with committed_together([a, b]):
        write_json_atomic(a, {"kind": "new a"})
        write_json_atomic(b, {"kind": "new b"})
    assert [json.loads(p.read_text())["kind"] for p in (a, b)] == ["new a", "new b"]
    assert _names(tmp_path) == ["a.json", "b.json"]


# ---- a command, end to end ------------------------------------------------------------------------------


def test_align_keeps_a_file_that_appears_at_its_out_while_it_runs(tmp_path: Path, monkeypatch, capsys) -> None:
    import anim400k.align as align

    en, jp = tmp_path / "en.srt", tmp_path / "jp.srt"
    en.write_text("1\n00:00:01,000 --> 00:00:02,000\nHello there.\n", encoding="utf-8")
    jp.write_text("1\n00:00:01,050 --> 00:00:02,050\nこんにちは。\n", encoding="utf-8")
    out = tmp_path / "clips.json"
    real = align.align_files

    def user_saves_meanwhile(*args: object, **kwargs: object):  # after the command's checks, before its write
        out.write_bytes(USERS)
        return real(*args, **kwargs)

    monkeypatch.setattr(align, "align_files", user_saves_meanwhile)
    assert main(["align", "--en", str(en), "--jp", str(jp), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"anim400k: error: {_appeared(out)}"], err
    assert out.read_bytes() == USERS
    assert _names(tmp_path) == ["clips.anim400k-new.json", "clips.json", "en.srt", "jp.srt"]
    monkeypatch.undo()
    ref = tmp_path / "ref" / "clips.json"
    assert main(["align", "--en", str(en), "--jp", str(jp), "--out", str(ref)]) == 0
    kept = (tmp_path / "clips.anim400k-new.json").read_bytes()
    assert kept == ref.read_bytes() and len(json.loads(kept)) == 1  # the run's output, whole


# ---- the note of a check lives as long as its command ------------------------------------------------------


def test_a_failed_command_leaves_no_note_that_refuses_a_later_write(tmp_path: Path, monkeypatch) -> None:
    """A command that failed after its check (not media) left the note 'nothing at t.json' in the process: a
    later write of t.json by a writer with no check of its own (an API user, the next test) refused the file
    that the user had put there since, as if it had appeared during that failed command."""
    monkeypatch.chdir(tmp_path)
    Path("notmedia.mkv").write_text("not media\n")
    assert main(["transcribe", "notmedia.mkv", "--out", "t.json", "--asr", "vad", "-l", "ja"]) == 2
    Path("t.json").write_bytes(USERS)  # the user's own file, after that command ended
    write_json_atomic("t.json", {"kind": "later"})  # no check: replaced as before
    assert json.loads(Path("t.json").read_text()) == {"kind": "later"}
    assert _names(tmp_path) == ["notmedia.mkv", "t.json"]


def test_a_failed_write_or_scope_forgets_its_note(tmp_path: Path) -> None:
    """An API user's failed write (or a failed command block, :func:`output_checks`) drops the note too."""
    out, other = tmp_path / "out.json", tmp_path / "other.json"
    _check(out)
    with pytest.raises(RuntimeError), atomic_path(out):
        raise RuntimeError("the writer failed")
    with pytest.raises(RuntimeError), check_notes.output_checks():
        _check(other)
        raise RuntimeError("the command failed before its write")
    for path in (out, other):
        path.write_bytes(USERS)
        write_json_atomic(path, {"kind": "later"})
        assert json.loads(path.read_text()) == {"kind": "later"}


def test_a_check_inside_the_scope_still_guards_its_publish(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    with check_notes.output_checks():
        _check(out)
        with pytest.raises(OutputChanged), atomic_path(out) as tmp:
            tmp.write_text(json.dumps({"kind": "new"}))
            out.write_bytes(USERS)
    assert out.read_bytes() == USERS


def test_a_failed_replace_fallback_names_the_output_as_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The last fallback's os.replace was given bytes: its error named b'...' -> b'...', which the CLI printed
    as is (and atomic_path could not tell was about its temporary)."""
    _no_renameat2(monkeypatch)

    def no_links(*_args: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(rename.os, "link", no_links)
    dst = tmp_path / "dst.json"
    with pytest.raises(FileNotFoundError) as info:
        rename_noreplace(tmp_path / "gone", dst)
    assert info.value.filename == str(dst) and info.value.filename2 is None
    assert "b'" not in str(info.value)
