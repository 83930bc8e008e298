"""Remote storage through fsspec: a build into ``memory://``, resuming from it, inputs given as URLs.

The memory filesystem lives in one process, so these builds use the inline runner (jobs=1).
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
import yaml

from anim400k.dataset.options import BuildOptions
from anim400k.dataset.pipeline import CATALOG_FILE, build_dataset
from anim400k.errors import BackendUnavailable, InputError
from anim400k.formats.ids import ANNOTATIONS_FILE, AUDIO_ARCHIVE
from anim400k.storage import RemoteMirror, filesystem, local_input, put_file_atomic

OPTS = BuildOptions(progress=False, video_clips=False, asr_en="vad", asr_ja="vad")


@pytest.fixture(scope="module")
def memfs() -> Iterator[fsspec.AbstractFileSystem]:
    fs = fsspec.filesystem("memory")
    yield fs
    for bucket in [p for p in fs.ls("/", detail=False) if "anim400k-test-" in p]:
        fs.rm(bucket, recursive=True)


@pytest.fixture(scope="module")
def bucket() -> str:
    return f"anim400k-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def remote_build(short_manifest: Path, memfs: fsspec.AbstractFileSystem, bucket: str,
                 tmp_path_factory: pytest.TempPathFactory) -> tuple[str, object]:
    """The short manifest built into ``memory://BUCKET/release`` (its own cache folder)."""
    url = f"memory://{bucket}/release"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANIM400K_CACHE", str(tmp_path_factory.mktemp("cache1")))
        report = build_dataset(short_manifest, url, OPTS)
    return url, report


def remote_release(fs: fsspec.AbstractFileSystem, root: str) -> dict[str, bytes]:
    """Annotations and clip media under a remote release root."""
    root = root.split("://", 1)[1]
    files = {ANNOTATIONS_FILE: fs.cat_file(f"/{root}/{ANNOTATIONS_FILE}")}
    for p in sorted(fs.find(f"/{root}/{AUDIO_ARCHIVE}")):
        files[p.split(f"/{root}/", 1)[1]] = fs.cat_file(p)
    return files


def test_build_into_memory_url(remote_build: tuple[str, object], memfs: fsspec.AbstractFileSystem) -> None:
    url, report = remote_build
    assert not report.failed, [e.error for e in report.failed]  # type: ignore[attr-defined]
    assert report.out_dir == url  # type: ignore[attr-defined]
    files = remote_release(memfs, url)
    ann = json.loads(files[ANNOTATIONS_FILE])
    clips = [c for ep in ann["test_show"]["episodes"].values() for c in ep["clips"]]
    assert len(clips) == report.clips > 0  # type: ignore[attr-defined]
    from anim400k.formats.ids import id_path

    for c in clips:  # every clip's JP, EN and backing MP3 is in the remote release, non-empty
        for cid in (c["jp_clip"], c["en_clip"], c["backing_clip"]):
            rel = id_path(Path("."), AUDIO_ARCHIVE, cid, "mp3").as_posix()
            assert len(files[rel]) > 1000, rel
    root = url.split("://", 1)[1]
    everything = memfs.find(f"/{root}")
    assert f"/{root}/{CATALOG_FILE}" in everything and f"/{root}/build_report.json" in everything
    assert any("/work/test_show/1/" in p for p in everything), "work state is mirrored for resuming"
    assert not [p for p in everything if ".part" in p], "temporary upload names left behind"


def test_second_build_elsewhere_resumes_from_the_remote_catalog(
    remote_build: tuple[str, object], short_manifest: Path, memfs: fsspec.AbstractFileSystem, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _ = remote_build
    before = remote_release(memfs, url)
    monkeypatch.setenv("ANIM400K_CACHE", str(tmp_path / "other-machine"))  # empty staging: must pull
    report = build_dataset(short_manifest, url, OPTS)
    assert not report.failed
    for e in report.episodes:
        assert {"probe", "audio", "sync", "asr_en", "diarize", "separate", "align", "cut"} <= set(e.skipped_stages)
        assert not e.stage_seconds, f"{e.key} re-ran {sorted(e.stage_seconds)}"
    assert remote_release(memfs, url) == before
    assert not [p for p in memfs.find("/" + url.split("://", 1)[1]) if ".part" in p]


def test_inputs_given_as_memory_urls(short_episodes: list, remote_build: tuple[str, object],
                                     memfs: fsspec.AbstractFileSystem, bucket: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = remote_build
    monkeypatch.setenv("ANIM400K_CACHE", str(tmp_path / "cache"))
    ep = short_episodes[0]
    media, subs = f"memory://{bucket}/inputs/ep1.mkv", f"memory://{bucket}/inputs/ep1.en.srt"
    memfs.put_file(str(ep.media), media.split("://", 1)[1])
    memfs.put_file(str(ep.subtitles), subs.split("://", 1)[1])
    manifest = tmp_path / "m.yaml"
    manifest.write_text(yaml.safe_dump({"shows": [{"key": "test_show", "episodes": [
        {"episode": "1", "media": media, "subtitles": subs}]}]}))
    out = tmp_path / "out"
    report = build_dataset(manifest, out, OPTS)
    assert not report.failed, [e.error for e in report.failed]
    assert {"probe", "audio", "diarize", "separate", "align", "cut"} <= set(report.episodes[0].stage_seconds)
    got = json.loads((out / ANNOTATIONS_FILE).read_text())["test_show"]["episodes"]["1"]["clips"]
    want = json.loads(remote_release(memfs, url)[ANNOTATIONS_FILE])["test_show"]["episodes"]["1"]["clips"]
    assert got == want, "a URL input builds the same clips as the local file"
    cached = list((tmp_path / "cache" / "inputs").rglob("*"))
    assert any(p.name == "ep1.mkv" for p in cached) and not [p for p in cached if ".part" in p.name]


def test_missing_remote_input_is_one_clear_line(bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANIM400K_CACHE", str(tmp_path / "cache"))
    missing = f"memory://{bucket}/inputs/missing.mkv"
    with pytest.raises(InputError) as info:
        local_input(missing)
    assert info.value.message == f"{missing}: file not found"
    manifest = tmp_path / "m.yaml"
    manifest.write_text(yaml.safe_dump({"shows": [{"key": "s", "episodes": [{"episode": "1", "media": missing}]}]}))
    report = build_dataset(manifest, tmp_path / "out", OPTS)
    (failed,) = report.failed
    assert failed.failed_stage == "probe" and failed.error == f"{missing}: file not found"
    assert "\n" not in failed.error


def test_atomic_upload_and_mirror_skip_temporary_files(memfs: fsspec.AbstractFileSystem, bucket: str,
                                                       tmp_path: Path) -> None:
    src = tmp_path / "a.bin"
    src.write_bytes(b"x" * 100)
    fs, root = filesystem(f"memory://{bucket}/atomic")
    put_file_atomic(fs, src, f"{root}/deep/a.bin")
    assert fs.cat_file(f"{root}/deep/a.bin") == b"x" * 100
    assert fs.find(root) == [f"{root}/deep/a.bin"]
    staging = tmp_path / "staging"
    (staging / "d").mkdir(parents=True)
    (staging / "d" / "done.json").write_text("{}")
    (staging / "d" / ".done.abc.part.json").write_text("{")  # a writer in progress
    mirror = RemoteMirror(f"memory://{bucket}/mirror", staging=staging)
    assert mirror.push() == 1
    assert [p.rsplit("/", 1)[1] for p in fs.find(mirror.root)] == ["done.json"]
    fresh = RemoteMirror(f"memory://{bucket}/mirror", staging=tmp_path / "fresh")
    assert fresh.pull() == 1 and (tmp_path / "fresh" / "d" / "done.json").read_text() == "{}"


def test_unknown_or_missing_filesystem_is_backend_unavailable() -> None:
    with pytest.raises(BackendUnavailable, match="nosuchfs://"):
        filesystem("nosuchfs://bucket/x")


def test_cli_keeps_output_urls(short_manifest: Path, tmp_path: Path) -> None:
    """``--out SCHEME://...`` reaches the build as a URL (not a local folder named 'SCHEME:')."""
    result = subprocess.run([sys.executable, "-m", "anim400k", "build", str(short_manifest), "--out",
                             "nosuchfs://bucket/release", "--no-progress"], capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.returncode == 2
    assert "nosuchfs://" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not list(tmp_path.iterdir()), "nothing written locally"


def test_memory_output_with_worker_processes_is_refused(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """memory:// exists in one process only: worker processes would write their clips where nobody reads."""
    from anim400k.cli import main

    manifest = tmp_path / "m.yaml"
    manifest.write_text("shows: []\n")
    assert main(["build", str(manifest), "--out", "memory://nowhere/rel", "--jobs", "2"]) == 2
    err = capsys.readouterr().err
    assert "memory://nowhere/rel" in err and "--jobs 1" in err


def test_missing_cloud_package_names_the_extra(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from anim400k.errors import BackendUnavailable

    monkeypatch.setitem(sys.modules, "s3fs", None)  # as if s3fs were not installed
    with pytest.raises(BackendUnavailable, match=r"pip install 'anim400k\[cloud\]'"):
        filesystem("s3://bucket/release")


@pytest.mark.parametrize(("given", "local"), [
    ("file:///data/out", "/data/out"),
    ("file://localhost/data/out", "/data/out"),  # was the relative localhost/data/out
    ("file://LOCALHOST/data/out", "/data/out"),
    ("file:/data/out", "/data/out"),  # was a folder 'file:' here
    ("file:///data/my%20out", "/data/my out"),  # kept %20 in the name
    ("file:out", "file:out"),  # no file URL: a relative name, as given
    ("data/out", "data/out"),
])
def test_local_path_of_file_urls(given: str, local: str) -> None:
    from anim400k.storage import local_path

    assert local_path(given) == local
    assert local_input(given) == local


def test_a_file_url_of_another_host_is_no_local_path() -> None:
    from anim400k.storage import local_path

    with pytest.raises(InputError, match=r"^file://nas/share/ep1\.mkv: is a file URL of the host 'nas'"):
        local_path("file://nas/share/ep1.mkv")
