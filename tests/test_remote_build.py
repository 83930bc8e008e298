"""Builds into a remote output without a shared filesystem: every worker stages episodes on its own "node".

The remote is a ``local://`` URL (a local folder that fsspec serves and the build treats
as remote, so separate processes see it, unlike ``memory://``). With
``ANIM400K_SIMULATE_NODES`` every worker process of the local pool gets its own cache
folder, i.e. its own staging folder, as if it ran on another machine.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from anim400k.dataset.options import BuildOptions
from anim400k.dataset.pipeline import CATALOG_FILE, build_dataset
from anim400k.dataset.runners import SIMULATE_NODES_ENV
from anim400k.formats.ids import ANNOTATIONS_FILE, AUDIO_ARCHIVE
from anim400k.release import validate_release
from anim400k.storage import RemoteMirror, staging_dir

OPTS = BuildOptions(progress=False, video_clips=False, asr_en="vad", asr_ja="vad")
POOL = BuildOptions(progress=False, video_clips=False, asr_en="vad", asr_ja="vad", jobs=2)
ALL_STAGES = {"probe", "audio", "sync", "asr_en", "asr_ja", "subtitles", "diarize", "separate", "align", "cut"}


def files_under(folder: Path) -> dict[str, bytes]:
    """Every visible file under ``folder`` by relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


@pytest.fixture(scope="module")
def local_annotations(short_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The reference: annotations of the short manifest built into a local folder."""
    out = tmp_path_factory.mktemp("local")
    report = build_dataset(short_manifest, out, OPTS)
    assert not report.failed, [e.error for e in report.failed]
    return json.loads((out / ANNOTATIONS_FILE).read_text())


@pytest.fixture(scope="module")
def nodes_build(short_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The short manifest built by a 2-process pool into ``local://.../release``, each worker its own node."""
    root = tmp_path_factory.mktemp("remote")
    remote_dir = root / "bucket" / "release"
    url = f"local://{remote_dir}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANIM400K_CACHE", str(root / "driver"))
        mp.setenv(SIMULATE_NODES_ENV, str(root / "nodes"))
        report = build_dataset(short_manifest, url, POOL)
        driver_staging = staging_dir(url)
    return {"url": url, "remote_dir": remote_dir, "report": report, "driver_staging": driver_staging,
            "nodes": root / "nodes", "root": root}


def test_workers_without_a_shared_folder_build_a_complete_release(nodes_build: dict, local_annotations: dict
                                                                  ) -> None:
    report, remote_dir = nodes_build["report"], nodes_build["remote_dir"]
    assert not report.failed, [e.error for e in report.failed]
    assert report.out_dir == nodes_build["url"]
    assert validate_release(remote_dir) == [], "the remote release is complete (every clip's media) and valid"
    assert json.loads((remote_dir / ANNOTATIONS_FILE).read_text()) == local_annotations
    mp3s = [p for p in (remote_dir / AUDIO_ARCHIVE).rglob("*.mp3")]
    assert len(mp3s) == 3 * report.clips > 0  # JP, EN, backing per clip
    assert (remote_dir / CATALOG_FILE).is_file() and (remote_dir / "build_report.json").is_file()
    assert not [p for p in remote_dir.rglob("*") if ".part" in p.name], "temporary upload names left behind"
    # the workers really were elsewhere: their own staging folders held the episodes' audio
    nodes = [p for p in nodes_build["nodes"].iterdir() if list(p.rglob("*.16k.flac"))]
    assert nodes, "no worker staged an episode in its own folder"
    for node in nodes_build["nodes"].iterdir():
        assert not list(node.rglob("*.mp3")), "clip media stay on a node after their upload"
    # the driver kept the catalog and work state only: no clip media, no work audio
    driver = nodes_build["driver_staging"]
    assert (driver / CATALOG_FILE).is_file() and (driver / ANNOTATIONS_FILE).is_file()
    assert not [p for p in driver.rglob("*") if p.suffix in (".mp3", ".mp4", ".flac")]


def test_fresh_driver_resumes_without_downloading_media(nodes_build: dict, short_manifest: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    url, remote_dir = nodes_build["url"], nodes_build["remote_dir"]
    before = files_under(remote_dir / AUDIO_ARCHIVE)
    monkeypatch.setenv("ANIM400K_CACHE", str(tmp_path / "other-driver"))
    monkeypatch.setenv(SIMULATE_NODES_ENV, str(tmp_path / "nodes"))
    report = build_dataset(short_manifest, url, POOL)
    assert not report.failed, [e.error for e in report.failed]
    for e in report.episodes:
        assert ALL_STAGES <= set(e.skipped_stages) and not e.stage_seconds, e
    staged = [p for p in staging_dir(url).rglob("*") if p.is_file()]
    assert {p.name for p in staged} >= {CATALOG_FILE, "clips.json", "cut.json", ANNOTATIONS_FILE}
    assert not [p for p in staged if p.suffix in (".mp3", ".flac")], "resuming fetched media"
    assert not (tmp_path / "nodes").exists(), "no task ran"
    assert files_under(remote_dir / AUDIO_ARCHIVE) == before


def test_archive_pulls_the_media_it_packs(nodes_build: dict, short_manifest: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    url, remote_dir = nodes_build["url"], nodes_build["remote_dir"]
    monkeypatch.setenv("ANIM400K_CACHE", str(tmp_path / "archiver"))
    opts = BuildOptions(progress=False, video_clips=False, asr_en="vad", asr_ja="vad", archive=True)
    report = build_dataset(short_manifest, url, opts)
    assert not report.failed
    with tarfile.open(remote_dir / f"{AUDIO_ARCHIVE}.tar.gz") as tar:
        packed = sorted(m.name for m in tar.getmembers())
    want = sorted(f"{AUDIO_ARCHIVE}/{rel}" for rel in files_under(remote_dir / AUDIO_ARCHIVE))
    assert packed == want and want


def test_pull_fetches_only_missing_or_changed_files(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    (remote / "work" / "e").mkdir(parents=True)
    (remote / "work" / "e" / "a.json").write_text('{"v": 1}')
    (remote / "work" / "e" / "b.flac").write_bytes(b"f" * 10)
    (remote / "work" / "e" / "c.json.part-1-x").write_text("{")  # an upload in progress
    mirror = RemoteMirror(f"local://{remote}", staging=tmp_path / "node")
    assert mirror.pull("work", want=lambda rel: not rel.endswith(".flac")) == 1
    assert mirror.pull("work") == 1, "only the FLAC was missing"
    assert mirror.pull("work") == 0
    (remote / "work" / "e" / "a.json").write_text('{"v": 2}')  # same size, new content
    assert mirror.pull("work") == 1 and (tmp_path / "node" / "work" / "e" / "a.json").read_text() == '{"v": 2}'
    (tmp_path / "node" / "work" / "e" / "b.flac").write_bytes(b"g" * 10)  # a local copy changed
    assert not mirror.synced("work/e/b.flac")
    assert mirror.pull("work") == 1 and (tmp_path / "node" / "work" / "e" / "b.flac").read_bytes() == b"f" * 10
    assert sorted(p.name for p in (tmp_path / "node" / "work" / "e").iterdir()) == [
        ".remote-versions.json", "a.json", "b.flac"]
    (tmp_path / "node" / "work" / "e" / "new.json").write_text("{}")
    assert mirror.push() == 1 and (remote / "work" / "e" / "new.json").read_text() == "{}"
    assert mirror.push() == 0, "pulled and pushed files are not uploaded again"
    (remote / "work" / "e" / "new.json").unlink()  # gone from the remote: a pruning pull drops the local copy
    assert mirror.pull("work", prune=True) == 0
    assert not (tmp_path / "node" / "work" / "e" / "new.json").exists()
    assert (tmp_path / "node" / "work" / "e" / "b.flac").exists()


@pytest.mark.parametrize("form", ["file://{}", "file://localhost{}", "file:{}", "file://{}%20x"])
def test_a_file_url_output_is_the_local_folder(short_manifest: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch, form: str) -> None:
    """``--out file:///abs/rel`` builds into ``/abs/rel`` (it made a folder ``file:`` in the working folder and
    failed with a traceback, sqlite's ``unable to open database file``); so do ``file://localhost/abs/rel`` and
    ``file:/abs/rel`` (they built into ``localhost/abs/rel`` and ``file:/abs/rel`` below the working folder), and
    ``%20`` is a space (it stayed in the folder's name)."""
    import anim400k.dataset.pipeline as pipeline

    seen: list[Path] = []

    class Planned(Exception):
        pass

    def stop(manifest: object, contexts: dict, out: Path, *args: object) -> None:
        seen.append(out)
        raise Planned

    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(pipeline, "_build_locked", stop)
    with pytest.raises(Planned):
        build_dataset(short_manifest, form.format(tmp_path / "rel"), OPTS)
    want = tmp_path / ("rel x" if "%20" in form else "rel")
    assert seen == [want] and want.is_dir()
    assert list(work.iterdir()) == [], "nothing made in the working folder"


def test_a_file_url_of_another_host_is_refused(short_manifest: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """``file://server/share/out`` built into ``server/share/out`` below the working folder; it is one line now."""
    from anim400k.errors import InputError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="is a file URL of the host 'server', not of this machine"):
        build_dataset(short_manifest, "file://server/share/out", OPTS)
    assert not (tmp_path / "server").exists()
