"""A re-run of a finished build: stale clips of an earlier cut, damaged clip files, a lost cut state."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tarfile
from pathlib import Path

import pytest

from anim400k.dataset.options import BuildOptions, stage_config
from anim400k.dataset.pipeline import build_dataset
from anim400k.formats.ids import ANNOTATIONS_FILE, AUDIO_ARCHIVE, VIDEO_ARCHIVE, id_path

#: The JP ASR as VAD only: these tests look at clips and archives, not JP text (the default, whisper-base, is
#: built by tests/test_build.py)
OPTS = BuildOptions(progress=False, asr_ja="vad")
CLIP_FOLDERS = (AUDIO_ARCHIVE, VIDEO_ARCHIVE)


def clip_files(out: Path) -> dict[str, bytes]:
    """Every clip media file of the release, by path relative to it."""
    return {str(p.relative_to(out)): p.read_bytes() for folder in CLIP_FOLDERS
            for p in sorted((out / folder).rglob("*")) if p.is_file()}


def referenced(out: Path, video: bool = True) -> set[str]:
    """The clip files the annotations reference (the JP clip's MP4 too, with ``video``)."""
    refs: set[str] = set()
    for show in json.loads((out / ANNOTATIONS_FILE).read_text()).values():
        for ep in show["episodes"].values():
            for c in ep["clips"]:
                for k in ("jp_clip", "en_clip", "backing_clip"):
                    if c.get(k):
                        refs.add(str(id_path(out, AUDIO_ARCHIVE, c[k], "mp3").relative_to(out)))
                if video:
                    refs.add(str(id_path(out, VIDEO_ARCHIVE, c["jp_clip"], "mp4").relative_to(out)))
    return refs


def archived(out: Path, folder: str) -> set[str]:
    with tarfile.open(out / f"{folder}.tar.gz") as tar:
        return {m.name for m in tar.getmembers() if m.isfile()}


@pytest.fixture(scope="module")
def built(short_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release")
    build_dataset(short_manifest, out, OPTS)
    return out


def copy_of(built: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(built, out)
    return out


def test_option_change_removes_the_earlier_cut_and_archives_only_referenced(built: Path, short_manifest: Path,
                                                                           tmp_path: Path) -> None:
    """Another option (no sync) re-cuts with other clips: the old clips go, from the folders and the archives."""
    out = copy_of(built, tmp_path)
    before = set(clip_files(out))
    report = build_dataset(short_manifest, out, BuildOptions(progress=False, asr_ja="vad", sync=False, archive=True))
    assert not report.failed
    files = set(clip_files(out))
    assert files != before  # the clips changed (else this tests nothing)
    assert files == referenced(out)
    assert archived(out, AUDIO_ARCHIVE) == {f for f in files if f.endswith(".mp3")}
    assert archived(out, VIDEO_ARCHIVE) == {f for f in files if f.endswith(".mp4")}
    build_dataset(short_manifest, out, BuildOptions(progress=False, asr_ja="vad", archive=True))  # and back
    assert set(clip_files(out)) == before == referenced(out)
    assert archived(out, AUDIO_ARCHIVE) == {f for f in before if f.endswith(".mp3")}


def test_a_rebuild_stopped_before_its_annotations_keeps_the_clips_they_name(built: Path, short_manifest: Path,
                                                                           tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The earlier cut's clips were deleted before the new annotations were in place: a build killed in between
    left annotations naming missing clips (validate: 'audio file ... is missing') until the next run."""
    from anim400k.dataset import pipeline

    out = copy_of(built, tmp_path)
    before = referenced(out)

    class Killed(Exception):
        pass

    def killed(*_args: object, **_kwargs: object) -> None:
        raise Killed

    with monkeypatch.context() as mp:
        mp.setattr(pipeline, "finish_build", killed)
        with pytest.raises(Killed):
            build_dataset(short_manifest, out, BuildOptions(progress=False, asr_ja="vad", sync=False))
    assert before <= set(clip_files(out))  # every clip the (old) annotations name is still there
    report = build_dataset(short_manifest, out, BuildOptions(progress=False, asr_ja="vad", sync=False))
    assert not report.failed and set(clip_files(out)) == referenced(out) != before  # the next run tidies up


def test_no_backing_no_video_on_a_release_equals_a_fresh_build(built: Path, short_manifest: Path,
                                                               tmp_path: Path) -> None:
    """``--no-backing-clips --no-video-clips`` on an existing release gives what a fresh build with them gives."""
    opts = BuildOptions(progress=False, asr_ja="vad", backing_clips=False, video_clips=False, archive=True)
    out = copy_of(built, tmp_path)
    # archives of the old clips
    build_dataset(short_manifest, out, BuildOptions(progress=False, asr_ja="vad", archive=True))
    assert (out / f"{VIDEO_ARCHIVE}.tar.gz").exists()
    report = build_dataset(short_manifest, out, opts)
    assert not report.failed
    fresh = tmp_path / "fresh"
    build_dataset(short_manifest, fresh, opts)
    ann = (out / ANNOTATIONS_FILE).read_bytes()
    assert ann == (fresh / ANNOTATIONS_FILE).read_bytes()
    assert b"backing_clip" not in ann
    assert clip_files(out) == clip_files(fresh)
    assert set(clip_files(out)) == referenced(out, video=False)
    assert not (out / VIDEO_ARCHIVE).exists() and not (out / f"{VIDEO_ARCHIVE}.tar.gz").exists()
    assert (out / f"{AUDIO_ARCHIVE}.tar.gz").read_bytes() == (fresh / f"{AUDIO_ARCHIVE}.tar.gz").read_bytes()


def test_backing_clips_keys_align_only_when_off() -> None:
    """The align stage's key names ``backing_clips`` only when it is off: earlier builds' align stays done."""
    assert stage_config("align", OPTS, ["u"]) == stage_config("align", BuildOptions(backing_clips=True), ["u"])
    assert stage_config("align", OPTS, ["u"]) != stage_config("align", BuildOptions(backing_clips=False), ["u"])


def test_cut_killed_after_writing_leaves_nothing_behind(built: Path, short_manifest: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A cut that dies after writing its clips but before its ``cut.json``: the next cut (with other
    options again) deletes what it wrote, from the note it kept (``cut.pending.json``)."""
    from anim400k.dataset import cutting

    out = copy_of(built, tmp_path)
    before = clip_files(out)
    real = cutting._cut_media

    def dies(ctx: object, on_clip: object = None) -> list[str]:
        real(ctx, on_clip)  # type: ignore[arg-type]
        raise RuntimeError("killed")

    monkeypatch.setattr(cutting, "_cut_media", dies)
    report = build_dataset(short_manifest, out, BuildOptions(progress=False, asr_ja="vad", sync=False))
    assert report.failed and set(clip_files(out)) > set(before)  # the dead cut's clips are there
    monkeypatch.setattr(cutting, "_cut_media", real)
    report = build_dataset(short_manifest, out, OPTS)
    assert not report.failed
    assert clip_files(out) == before
    assert not list(out.glob("work/*/*/cut.pending.json"))


def test_missing_or_damaged_clip_files_are_cut_again(built: Path, short_manifest: Path, tmp_path: Path) -> None:
    """A clip MP3 or MP4 deleted or cut short: the re-run re-cuts that episode (only) and restores it."""
    out = copy_of(built, tmp_path)
    before = clip_files(out)
    cut = json.loads((out / "work/test_show/1/cut.json").read_text())
    assert len(cut["sizes"]) == len(cut["files"])
    mp3 = next(f for f in cut["files"] if f.endswith(".mp3"))
    mp4 = next(f for f in cut["files"] if f.endswith(".mp4"))
    (out / mp4).unlink()
    (out / mp3).write_bytes((out / mp3).read_bytes()[:100])
    report = build_dataset(short_manifest, out, OPTS)
    by_key = {e.key: e for e in report.episodes}
    assert "cut" not in by_key["test_show/1"].skipped_stages
    assert "cut" in by_key["test_show/2"].skipped_stages
    assert clip_files(out) == before


def test_a_cut_record_pointing_elsewhere_is_cut_again(built: Path, short_manifest: Path, tmp_path: Path) -> None:
    """The catalog's cut row naming another file and ``cut.json`` gone: re-cut, not dropped from the release."""
    out = copy_of(built, tmp_path)
    ann = (out / ANNOTATIONS_FILE).read_bytes()
    with sqlite3.connect(out / "catalog.sqlite") as db:
        db.execute("UPDATE stages SET artifact='work/test_show/1/clips.json' WHERE episode='test_show/1' "
                   "AND stage='cut'")
    db.close()
    (out / "work/test_show/1/cut.json").unlink()
    report = build_dataset(short_manifest, out, OPTS)
    assert not report.failed
    assert (out / ANNOTATIONS_FILE).read_bytes() == ann
    assert (out / "work/test_show/1/cut.json").exists()


def test_release_writer_refuses_an_episode_without_its_cut_state(built: Path, short_manifest: Path,
                                                                 tmp_path: Path) -> None:
    """The release writer never leaves a finished episode out silently."""
    from anim400k.dataset.context import EpisodeContext
    from anim400k.dataset.manifest import load_manifest
    from anim400k.dataset.release_writer import write_release
    from anim400k.errors import AnimError

    out = copy_of(built, tmp_path)
    manifest = load_manifest(short_manifest)
    contexts = [EpisodeContext(ref=r, work_dir=str(out / "work" / r.show_key / r.episode), release_dir=str(out),
                               options=OPTS) for r in manifest.episodes()]
    (out / "work/test_show/2/cut.json").unlink()
    with pytest.raises(AnimError, match="test_show/2.*cut.json is missing"):
        write_release(manifest, contexts, out, OPTS)


def test_validate_finds_missing_video_and_damaged_clips(built: Path, tmp_path: Path) -> None:
    from anim400k.release import validate_release

    out = copy_of(built, tmp_path)
    assert validate_release(out) == []
    clip = json.loads((out / ANNOTATIONS_FILE).read_text())["test_show"]["episodes"]["1"]["clips"][0]
    id_path(out, VIDEO_ARCHIVE, clip["jp_clip"], "mp4").unlink()
    jp = id_path(out, AUDIO_ARCHIVE, clip["jp_clip"], "mp3")
    jp.write_bytes(jp.read_bytes()[:100])
    en = id_path(out, AUDIO_ARCHIVE, clip["en_clip"], "mp3")
    en.write_bytes(b"")
    backing = id_path(out, AUDIO_ARCHIVE, clip["backing_clip"], "mp3")
    backing.write_bytes(b"\0" * 5000)
    messages = sorted(p.message for p in validate_release(out))
    assert len(messages) == 4, messages
    assert any("video file" in m and "is missing" in m for m in messages)
    assert any("is cut short (100 bytes" in m for m in messages)
    assert any("is empty (0 bytes)" in m for m in messages)
    assert any("does not start with an ID3 tag or an MP3 frame" in m for m in messages)
    assert validate_release(out, check_media=False) == []


def test_validate_without_video_folder_does_not_ask_for_mp4(built: Path, tmp_path: Path) -> None:
    from anim400k.release import validate_release

    out = copy_of(built, tmp_path)
    shutil.rmtree(out / VIDEO_ARCHIVE)
    assert validate_release(out) == []


def test_build_without_archive_deletes_clip_archives_older_than_a_cut(built: Path, short_manifest: Path,
                                                                      tmp_path: Path) -> None:
    """Without ``--archive``, a clip archive written before an episode was cut again goes (it holds other
    clips than the annotations); one written after every cut stays."""
    import os
    import time

    out = copy_of(built, tmp_path)
    old, new = out / f"{AUDIO_ARCHIVE}.tar.gz", out / f"{VIDEO_ARCHIVE}.tar.gz"
    old.write_bytes(b"old")
    new.write_bytes(b"new")
    os.utime(old, (0, 0))
    later = time.time() + 3600
    os.utime(new, (later, later))
    assert not build_dataset(short_manifest, out, OPTS).failed
    assert not old.exists() and new.exists()


def test_build_without_archive_deletes_clip_archives_of_other_episodes(built: Path, short_manifest: Path,
                                                                      tmp_path: Path) -> None:
    """Without ``--archive``, clip archives packed from another set of episodes go (they hold clips the
    annotations no longer reference); ones packed from the released episodes' cuts stay."""
    import yaml

    out = copy_of(built, tmp_path)
    archives = [out / f"{AUDIO_ARCHIVE}.tar.gz", out / f"{VIDEO_ARCHIVE}.tar.gz"]
    build_dataset(short_manifest, out, BuildOptions(progress=False, asr_ja="vad", archive=True))
    assert all(a.exists() for a in archives)
    assert not build_dataset(short_manifest, out, OPTS).failed  # the same episodes and cuts: kept
    assert all(a.exists() for a in archives)
    manifest = yaml.safe_load(short_manifest.read_text())
    manifest["shows"][0]["episodes"] = manifest["shows"][0]["episodes"][:1]
    one = tmp_path / "one.yaml"
    one.write_text(yaml.safe_dump(manifest))
    assert not build_dataset(one, out, OPTS).failed
    assert len(json.loads((out / ANNOTATIONS_FILE).read_text())["test_show"]["episodes"]) == 1
    assert not any(a.exists() for a in archives)


def test_audio_only_episode_beside_video_ones_validates(built: Path, short_manifest: Path, short_episodes: list,
                                                        tmp_path: Path) -> None:
    """An episode from audio-only media in a release whose other episodes have video clips: its episode says
    ``"video_clips": false`` (no MP4 was cut for it), the build warns of it, and the build's output passes its own
    validator."""
    import yaml

    from anim400k.release import validate_release

    out = copy_of(built, tmp_path)
    data = yaml.safe_load(short_manifest.read_text())
    stems = short_episodes[0].stems_dir
    data["shows"][0]["episodes"].append({"episode": "3", "jp_media": str(stems / "jp_mix.wav"), "jp_stream": 0,
                                         "en_media": str(stems / "en_mix.wav"), "en_stream": 0,
                                         "subtitles": str(short_episodes[0].subtitles)})
    manifest = tmp_path / "m.yaml"
    manifest.write_text(yaml.safe_dump(data))
    report = build_dataset(manifest, out, OPTS)
    assert not report.failed, report.failed
    episodes = json.loads((out / ANNOTATIONS_FILE).read_text())["test_show"]["episodes"]
    assert episodes["3"]["video_clips"] is False and episodes["3"]["clips"]
    assert "video_clips" not in episodes["1"] and "video_clips" not in episodes["2"]
    # said in the build's warnings (it was silent: a user who gave a WAV by mistake learnt it from the release)
    no_video = [w for w in report.warnings if "has no video stream" in w]
    assert no_video == [f"test_show/3: {stems / 'jp_mix.wav'}: has no video stream: the episode's clips have no "
                        "video clips (audio clips only; video_clips: false in the release)"]
    assert not any(id_path(out, VIDEO_ARCHIVE, c["jp_clip"], "mp4").exists() for c in episodes["3"]["clips"])
    assert validate_release(out) == []
    # the marker exempts only its own episode: a missing MP4 of a video episode is still found
    clip = episodes["1"]["clips"][0]
    id_path(out, VIDEO_ARCHIVE, clip["jp_clip"], "mp4").unlink()
    problems = [str(p) for p in validate_release(out)]
    assert len(problems) == 1 and "episode '1' clip 0 field 'jp_clip': video file" in problems[0], problems


def test_an_episode_removed_from_the_manifest_leaves_no_clip_files(built: Path, short_manifest: Path,
                                                                   tmp_path: Path) -> None:
    """A re-run without episode 2 (removed, or renumbered) gives the clip folders a fresh build of the new manifest
    gives: episode 2's clip files are deleted (they stayed, referenced by no annotation); when it comes back it is
    cut again."""
    import yaml

    out = copy_of(built, tmp_path)
    before = set(clip_files(out))
    data = yaml.safe_load(short_manifest.read_text())
    data["shows"][0]["episodes"] = data["shows"][0]["episodes"][:1]
    one = tmp_path / "one.yaml"
    one.write_text(yaml.safe_dump(data))
    report = build_dataset(one, out, OPTS)
    assert not report.failed
    fresh = tmp_path / "fresh"
    build_dataset(one, fresh, OPTS)
    assert set(clip_files(out)) == referenced(out) == set(clip_files(fresh)) != before
    report = build_dataset(short_manifest, out, OPTS)  # back: episode 2 is cut again, nothing else re-runs
    assert set(clip_files(out)) == before == referenced(out)
    assert report.episodes[1].stage_seconds.keys() == {"cut"}
