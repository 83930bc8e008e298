"""Object-store outputs and inputs: what an outside tester found with a local S3 (moto) and s3fs (2026-12-07),
checked here on fsspec's ``memory://`` filesystem and stand-ins for the S3 client's errors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
import yaml

from anim400k.cli import main
from anim400k.dataset.manifest import load_manifest
from anim400k.dataset.options import BuildOptions
from anim400k.dataset.pipeline import build_dataset
from anim400k.dataset.remote import listed_release_files, prune_release, remove_remote_parts
from anim400k.errors import InputError
from anim400k.formats.ids import ANNOTATIONS_FILE, AUDIO_ARCHIVE, PICS_ARCHIVE, VIDEO_ARCHIVE
from anim400k.storage import RemoteMirror, check_bucket, local_input, remote_errors, url_given

OPTS = BuildOptions(progress=False, video_clips=False, asr_en="vad", asr_ja="vad")
CLIP = "ab/ab0c5e4a-1111-5222-8333-444455556666"
OTHER = "cd/cd0c5e4a-1111-5222-8333-444455556666"
PIC = "ef/ef0c5e4a-1111-5222-8333-444455556666"


@pytest.fixture
def memfs() -> Iterator[tuple[fsspec.AbstractFileSystem, str]]:
    fs = fsspec.filesystem("memory")
    bucket = f"anim400k-test-{uuid.uuid4().hex[:8]}"
    yield fs, bucket
    if fs.exists(f"/{bucket}"):
        fs.rm(f"/{bucket}", recursive=True)


def test_an_input_rewritten_at_the_same_size_is_fetched_again(memfs: tuple, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The input cache was keyed on the URL and the size: a subtitle file edited at the same size was read from the
    old copy while the stages, keyed on its ETag, ran again and recorded the stale result as done."""
    fs, bucket = memfs
    monkeypatch.setenv("ANIM400K_CACHE", str(tmp_path / "cache"))
    url = f"memory://{bucket}/in/a.srt"
    fs.pipe_file(f"/{bucket}/in/a.srt", b"It's a promise.")
    assert Path(local_input(url)).read_bytes() == b"It's a promise."
    fs.pipe_file(f"/{bucket}/in/a.srt", b"ZZZZZZZZZZZZZZZ")
    assert Path(local_input(url)).read_bytes() == b"ZZZZZZZZZZZZZZZ"


def test_push_uploads_again_what_the_remote_lost(memfs: tuple, tmp_path: Path) -> None:
    """A bucket prefix wiped (or one object deleted) and the build run again: the staging folder's unchanged files
    (the character pictures) were taken for uploaded, and the release in the bucket lacked them (exit 0)."""
    fs, bucket = memfs
    staging = tmp_path / "staging"
    (staging / PICS_ARCHIVE).mkdir(parents=True)
    (staging / PICS_ARCHIVE / "p.jpg").write_bytes(b"jpeg")
    (staging / "kept.json").write_text("{}")
    mirror = RemoteMirror(f"memory://{bucket}/rel", staging=staging)
    assert mirror.push() == 2
    assert mirror.push() == 0  # nothing changed on either side
    fs.rm_file(f"/{bucket}/rel/{PICS_ARCHIVE}/p.jpg")
    assert mirror.push() == 1 and fs.cat_file(f"/{bucket}/rel/{PICS_ARCHIVE}/p.jpg") == b"jpeg"


def _annotations(clip: str, pic: str) -> dict:
    return {"show": {"characters": {"A": {"pic_urls": [pic]}},
                     "episodes": {"1": {"clips": [{"jp_clip": clip, "en_clip": clip, "backing_clip": None}]}}}}


def test_the_bucket_keeps_only_what_the_release_names(memfs: tuple, tmp_path: Path) -> None:
    """An episode dropped from the manifest kept its clips in the bucket, a build without ``--archive`` kept an
    earlier build's archives of other clips, and a killed upload's ``.part-`` objects stayed in the media
    folders: a local build deletes all of them."""
    fs, bucket = memfs
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / ANNOTATIONS_FILE).write_text(json.dumps(_annotations(CLIP, PIC)))
    root = f"/{bucket}/rel"
    named = [f"{AUDIO_ARCHIVE}/{CLIP}.mp3", f"{VIDEO_ARCHIVE}/{CLIP}.mp4", f"{PICS_ARCHIVE}/{PIC}.jpg"]
    stale = [f"{AUDIO_ARCHIVE}/{OTHER}.mp3", f"{AUDIO_ARCHIVE}.tar.gz"]
    parts = [f"{AUDIO_ARCHIVE}/{OTHER}.mp3.part-15274-6b121250"]
    for rel in [*named, *stale, *parts, ANNOTATIONS_FILE]:
        fs.pipe_file(f"{root}/{rel}", b"x")
    assert listed_release_files(staging) == set(named)
    mirror = RemoteMirror(f"memory://{bucket}/rel", staging=staging)
    assert prune_release(mirror) == 2
    assert remove_remote_parts(mirror) == 1
    left = sorted(p[len(root) + 1:] for p in fs.find(root))
    assert left == sorted([*named, ANNOTATIONS_FILE])


def test_a_kept_archive_stays(memfs: tuple, tmp_path: Path) -> None:
    """An archive the staging folder holds (this build's, or an earlier one still current) is not deleted."""
    fs, bucket = memfs
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / ANNOTATIONS_FILE).write_text(json.dumps(_annotations(CLIP, PIC)))
    (staging / f"{AUDIO_ARCHIVE}.tar.gz").write_bytes(b"tar")
    fs.pipe_file(f"/{bucket}/rel/{AUDIO_ARCHIVE}.tar.gz", b"tar")
    assert prune_release(RemoteMirror(f"memory://{bucket}/rel", staging=staging)) == 0


@pytest.mark.parametrize("args", [["validate", "s3://bucket/rel"], ["stats", "{rel}", "--json", "s3://bucket/s.json"],
                                  ["export", "{rel}", "-f", "parquet", "--out", "s3://bucket/x"],
                                  ["tasks", "{rel}", "--out", "s3://bucket/t"]])
def test_commands_that_read_and_write_local_files_refuse_a_url(args: list[str], tmp_path: Path, capsys,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """``export``/``tasks``/``stats`` wrote into a local folder named ``s3:`` (exit 0) or crashed (pyarrow,
    webdataset), and the readers called a bucket's release 's3:/bucket/rel: no such release folder'."""
    from anim400k.testing.release import make_release

    rel = make_release(tmp_path / "rel")
    monkeypatch.chdir(tmp_path)
    assert main([a.format(rel=rel) for a in args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("anim400k: error: s3://bucket/") and "is a URL: this command reads and writes local " \
        "files only" in err
    assert not (tmp_path / "s3:").exists()


def test_url_given_sees_through_pathlib() -> None:
    assert url_given("s3://b/x") == url_given(Path("s3://b/x")) == "s3://b/x"
    assert url_given("file:///data") is None and url_given("C:/data") is None and url_given("rel/x") is None
    assert url_given(Path("./Re:/rel")) is None and url_given("Re:/ep1.mkv") is None  # a local folder 'Re:'
    assert url_given(Path("gs://b/x")) == "gs://b/x" and url_given("https:/h/x") == "https://h/x"


def test_a_local_folder_whose_name_ends_in_a_colon_is_no_url(short_episodes: list, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """``sync Re:/ep1.mkv ... --out ./Re:/s.json`` was refused as 'Re://s.json: the output is a URL' (an outside
    tester, 2026-12-07), and ``build --out Re:/rel`` as 'did you mean Re://rel?'."""
    import shutil

    monkeypatch.chdir(tmp_path)
    (tmp_path / "Re:").mkdir()
    shutil.copy(short_episodes[0].media, tmp_path / "Re:" / "ep1.mkv")
    assert main(["sync", "Re:/ep1.mkv", "Re:/ep1.mkv", "--out", "./Re:/s.json"]) == 0
    assert (tmp_path / "Re:" / "s.json").is_file()


@pytest.mark.parametrize("command", [["sync", "{url}", "{url}"], ["separate", "{url}", "--out-backing", "b.flac"],
                                     ["metadata", "{url}"]])
def test_url_inputs_of_local_commands_are_refused_as_urls(command: list[str], tmp_path: Path, capsys,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``sync s3://b/ep1.mkv`` said 's3:/b/ep1.mkv: media file not found' (a slash lost), and a ``file:///`` URL of a
    file that exists 'not found' too."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.json").write_text("{}")
    assert main([a.format(url="s3://b/ep1.mkv") for a in command]) == 2
    err = capsys.readouterr().err
    assert "s3://b/ep1.mkv: the " in err and "is a URL: this command reads and writes local files only" in err, err
    assert main([a.format(url=f"file://{tmp_path}/m.json") for a in command]) == 2
    assert f"is a file: URL: give the local path itself ({tmp_path}/m.json)" in capsys.readouterr().err


def test_a_remote_manifests_relative_paths_are_beside_it_in_the_bucket(tmp_path: Path) -> None:
    """A manifest at ``s3://bucket/in/`` with ``media: ep01/episode.mkv`` was resolved against the local cache
    folder of its copy ('.../cache/inputs/5fa6.../ep01/episode.mkv: file not found')."""
    copy = tmp_path / "m.yaml"
    copy.write_text(yaml.safe_dump({"shows": [{"key": "s", "metadata": "show.json", "episodes": [
        {"episode": "1", "media": "ep01/episode.mkv", "subtitles": "../subs/1.srt"}]}]}))
    manifest = load_manifest(copy, "s3://bucket/in")
    ref = manifest.episodes()[0]
    assert ref.jp_media == "s3://bucket/in/ep01/episode.mkv" and ref.subtitles == "s3://bucket/subs/1.srt"
    assert manifest.resolve("show.json") == "s3://bucket/in/show.json"
    assert load_manifest(copy).episodes()[0].jp_media == str(tmp_path / "ep01" / "episode.mkv")


def test_a_remote_manifest_with_relative_paths_builds(short_episodes: list, memfs: tuple, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    fs, bucket = memfs
    monkeypatch.setenv("ANIM400K_CACHE", str(tmp_path / "cache"))
    ep = short_episodes[0]
    fs.put_file(str(ep.media), f"/{bucket}/in/ep1/episode.mkv")
    fs.put_file(str(ep.subtitles), f"/{bucket}/in/ep1/episode.en.srt")
    fs.pipe_file(f"/{bucket}/in/m.yaml", yaml.safe_dump({"shows": [{"key": "s", "episodes": [
        {"episode": "1", "media": "ep1/episode.mkv", "subtitles": "ep1/episode.en.srt"}]}]}).encode())
    report = build_dataset(f"memory://{bucket}/in/m.yaml", tmp_path / "out", OPTS)
    assert not report.failed, [e.error for e in report.failed]
    assert json.loads((tmp_path / "out" / ANNOTATIONS_FILE).read_text())["s"]["episodes"]["1"]["clips"]


class _ClientError(Exception):
    """Stands for botocore's errors (``EndpointConnectionError``), which share no base with Python's."""


_ClientError.__module__ = "botocore.exceptions"


def test_storage_failures_are_one_line() -> None:
    """The endpoint down was a traceback (``EndpointConnectionError``), wrong credentials a bare 'Forbidden' or
    'internal error in stage probe: PermissionError: Forbidden'."""
    with pytest.raises(InputError) as err, remote_errors("s3://bucket/rel"):
        raise PermissionError("Forbidden")
    assert err.value.message.startswith("s3://bucket/rel: access refused by the storage (Forbidden): check the "
                                        "credentials")
    with pytest.raises(InputError) as err, remote_errors("s3://bucket/rel"):
        raise _ClientError('Could not connect to the endpoint URL: "http://127.0.0.1:5999/bucket"')
    assert "the storage cannot be reached or refused the request (_ClientError: Could not connect" in err.value.message
    with pytest.raises(KeyError), remote_errors("s3://bucket/rel"):  # anything else is not the storage's
        raise KeyError("x")


class _ObjectStore:
    protocol = ("s3", "s3a")

    def __init__(self, buckets: set[str], reachable: bool = True) -> None:
        self.buckets = buckets
        self.reachable = reachable

    def exists(self, path: str) -> bool:  # s3fs's: False also for an endpoint it cannot reach
        return self.reachable and path in self.buckets

    def ls(self, path: str, detail: bool = False) -> list[str]:
        if not self.reachable:
            raise _ClientError('Could not connect to the endpoint URL: "http://127.0.0.1:5999/relb"')
        if path not in self.buckets:
            raise FileNotFoundError(path)
        return []


def test_a_missing_bucket_is_refused_not_made() -> None:
    """``--out s3://nobucket/rel`` made the bucket (s3fs's ``makedirs``) and exited 0."""
    check_bucket(_ObjectStore({"bucket"}), "bucket/rel", "s3://bucket/rel")
    with pytest.raises(InputError, match="s3://nobucket/rel: no bucket 'nobucket' at this storage: create it first"):
        check_bucket(_ObjectStore({"bucket"}), "nobucket/rel", "s3://nobucket/rel")
    check_bucket(fsspec.filesystem("memory"), "anything/rel", "memory://anything/rel")  # no buckets there
    with pytest.raises(InputError, match="the storage cannot be reached"):  # it said 'no bucket ...: create it'
        check_bucket(_ObjectStore({"bucket"}, reachable=False), "bucket/rel", "s3://bucket/rel")


def test_the_users_own_files_in_the_media_folders_and_other_prefixes_parts_are_left(memfs: tuple,
                                                                                    tmp_path: Path) -> None:
    """The bucket prune deleted a README.txt in the audio folder and a picture under a folder of the user's, and a
    build into the bucket's root deleted another release's in-flight ``.part-`` uploads."""
    fs, bucket = memfs
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / ANNOTATIONS_FILE).write_text(json.dumps(_annotations(CLIP, PIC)))
    mine = [f"{AUDIO_ARCHIVE}/README.txt", f"{PICS_ARCHIVE}/extra/mine.jpg", "rel2/a.mp3.part-4242-deadbeef"]
    ours = [f"{AUDIO_ARCHIVE}/{OTHER}.mp3", f"{AUDIO_ARCHIVE}/{OTHER}.mp3.part-15274-6b121250"]
    for rel in [*mine, *ours]:
        fs.pipe_file(f"/{bucket}/{rel}", b"x")
    (staging / AUDIO_ARCHIVE / "cd").mkdir(parents=True)
    (staging / f"{AUDIO_ARCHIVE}/{OTHER}.mp3").write_bytes(b"x")  # pulled by an --archive build: goes too
    mirror = RemoteMirror(f"memory://{bucket}", staging=staging)  # the bucket's root
    assert prune_release(mirror) == 1 and remove_remote_parts(mirror) == 1
    assert sorted(p.split("/", 2)[2] for p in fs.find(f"/{bucket}")) == sorted(mine)
    assert not (staging / f"{AUDIO_ARCHIVE}/{OTHER}.mp3").exists()


def test_a_cut_whose_clips_the_bucket_lost_is_cut_again(tmp_path: Path) -> None:
    """An episode dropped from the manifest (its clips pruned) and added back kept its cut as done: the release named
    16 files the bucket did not have, exit 0."""
    from anim400k.dataset.remote import missing_clip_files

    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps({"files": [f"{AUDIO_ARCHIVE}/{CLIP}.mp3", f"{AUDIO_ARCHIVE}/{OTHER}.mp3"]}))
    assert missing_clip_files(cut, {f"{AUDIO_ARCHIVE}/{CLIP}.mp3"}) == [f"{AUDIO_ARCHIVE}/{OTHER}.mp3"]
    assert missing_clip_files(cut, {f"{AUDIO_ARCHIVE}/{CLIP}.mp3", f"{AUDIO_ARCHIVE}/{OTHER}.mp3"}) == []


def test_a_prefix_given_as_an_input_file_is_said(memfs: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fs, bucket = memfs
    monkeypatch.setenv("ANIM400K_CACHE", str(tmp_path / "cache"))
    fs.pipe_file(f"/{bucket}/in/ep01/a.mkv", b"x")
    with pytest.raises(InputError, match="is a folder \\(a prefix of objects\\), not a file"):
        local_input(f"memory://{bucket}/in/ep01")


@pytest.mark.parametrize(("out", "said"), [("s3://", "s3://: names no bucket or folder"),
                                           ("s3:/relb/x5", "s3:/relb/x5: is not a URL (one '/' after the scheme): did "
                                                           "you mean s3://relb/x5?")])
def test_an_output_url_without_a_bucket_or_with_one_slash_is_refused(out: str, said: str, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    manifest = tmp_path / "m.yaml"
    manifest.write_text(yaml.safe_dump({"shows": [{"key": "s", "episodes": [{"episode": "1", "media": "x.mkv"}]}]}))
    assert main(["build", str(manifest), "--out", out]) == 2
    assert said in capsys.readouterr().err and not (tmp_path / "s3:").exists()


def test_dub_refuses_url_inputs(tmp_path: Path, capsys) -> None:
    """``dub s3://b/x.mkv`` said 's3:/b/x.mkv: video not found'."""
    assert main(["dub", "s3://inb/in/ep01/episode.mkv", "--out", str(tmp_path / "d.mkv")]) == 2
    assert "s3://inb/in/ep01/episode.mkv: the video is a URL" in capsys.readouterr().err


class _PrefixListing:
    """An object store's listing: every key that starts with the path, ``b/rel2/...`` under ``b/rel`` included."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.protocol = ("s3",)

    def find(self, path: str, detail: bool = False) -> object:
        found = [k for k in self.keys if k.startswith(path.lstrip("/"))]
        return {k: {"name": k, "size": 1, "type": "file", "ETag": "x"} for k in found} if detail else found


def test_another_release_whose_name_starts_alike_is_never_listed(tmp_path: Path) -> None:
    """``s3://b/rel``'s pruning must not see ``s3://b/rel2``'s objects (the store lists by prefix)."""
    mirror = RemoteMirror("memory://b/rel", staging=tmp_path / "staging")
    keys = ["b/rel/a.json", "b/rel/x.mp3.part-1-0123abcd", "b/rel2/y.mp3.part-2-0123abcd", "b/rel2/z.json"]
    mirror.fs, mirror.root = _PrefixListing(keys), "b/rel"
    assert set(mirror.listing()) == {"a.json"}
    assert mirror.part_objects() == ["x.mp3.part-1-0123abcd"]


def test_a_file_url_where_only_local_paths_work_is_refused_with_its_path(tmp_path: Path, capsys,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``tasks REL --out file:///x`` wrote into a local folder ``file:`` (exit 0); the build alone reads file URLs."""
    from anim400k.testing.release import make_release

    rel = make_release(tmp_path / "rel")
    monkeypatch.chdir(tmp_path)
    assert main(["tasks", str(rel), "--out", f"file://{tmp_path}/t"]) == 2
    assert f"--out is a file: URL: give the local path itself ({tmp_path}/t)" in capsys.readouterr().err
    assert not (tmp_path / "file:").exists()
