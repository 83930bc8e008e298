"""Exports loaded back with the real libraries (pyarrow, datasets, lhotse, webdataset)."""

from __future__ import annotations

import copy
import io
import json
import os
from pathlib import Path

import av
import pyarrow.parquet as pq
import pytest

from anim400k.cli import main
from anim400k.errors import InputError
from anim400k.exports import export
from anim400k.exports.common import parse_size
from anim400k.formats import ids
from anim400k.testing.release import annotations, make_release
from anim400k.testing.terminal import FakeTerminal

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def rel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_release(tmp_path_factory.mktemp("rel"))


@pytest.fixture(scope="module")
def bad_rel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Original-format annotations with a missing field, an extra field, absent media, a duplicate ID."""
    data = copy.deepcopy(annotations())
    a1 = data["show_a"]["episodes"]["1"]["clips"]
    root = make_release(tmp_path_factory.mktemp("bad"), copy.deepcopy(data))
    del a1[0]["en_text"]
    a1[1]["surprise"] = True
    data["show_c"]["episodes"]["1"]["clips"][0]["jp_clip"] = data["show_b"]["episodes"]["1"]["clips"][0][
        "jp_clip"
    ]
    (root / ids.ANNOTATIONS_FILE).write_text(json.dumps(data), encoding="utf-8")
    gone = data["show_a"]["episodes"]["2"]["clips"][0]["en_clip"]
    ids.id_path(root, ids.AUDIO_ARCHIVE, gone, "mp3").unlink()
    return root


#: the first clip of the hand-made release lasts 2 s (its MP3s as long as its times: make_release)
CLIP0_S = 2.0


def _mp3_seconds(data: bytes) -> float:
    with av.open(io.BytesIO(data)) as c:
        s = c.streams.audio[0]
        return sum(f.samples for f in c.decode(s)) / s.rate


def test_parse_size() -> None:
    assert parse_size("100MB") == 100_000_000 and parse_size("1GiB") == 2**30 and parse_size("512") == 512
    with pytest.raises(InputError):
        parse_size("big")


@pytest.mark.parametrize(("size", "message"), [
    ("12XB", "--shard-size must be a size such as 100MB or 1GiB, not '12XB'"),
    ("0", "--shard-size must be a size above 0, not '0'"),
])
def test_a_bad_shard_size_is_one_line_naming_the_option(rel: Path, tmp_path: Path, capsys, size: str,
                                                        message: str) -> None:
    # the line said "not a size: '12XB'" without the option, after the release had been read
    out = tmp_path / "wds"
    argv = ["export", str(rel), "--format", "webdataset", "--out", str(out), "--shard-size", size, "--no-progress"]
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [f"anim400k: error: {message}"]
    assert not out.exists()


def test_parquet(rel: Path, tmp_path: Path) -> None:
    out = tmp_path / "pq"
    s = export(rel, "parquet", out, embed_audio=True)
    assert (s["clips"], s["episodes"], s["shows"], s["characters"]) == (6, 4, 3, 3)
    clips = pq.read_table(out / "clips.parquet").to_pylist()
    assert clips[0]["jp_text"] == "今日は晴れです。行こう！" and clips[0]["jp_start"] == 10.0
    assert clips[0]["en_subtitles"][0]["text"] == "It is sunny. Let's go!"
    assert (rel / clips[0]["jp_audio_path"]).read_bytes() == clips[0]["jp_audio"]
    assert _mp3_seconds(clips[0]["en_audio"]) == pytest.approx(CLIP0_S, abs=0.06)
    shows = {r["key"]: r for r in pq.read_table(out / "shows.parquet").to_pylist()}
    assert shows["show_a"]["genres"] == ["Action", "Comedy", "Drama"] and shows["show_c"]["score"] is None
    eps = pq.read_table(out / "episodes.parquet").to_pylist()
    assert eps[0]["mean_vote"] == pytest.approx(4.6) and eps[2]["mean_vote"] is None
    chars = pq.read_table(out / "characters.parquet").to_pylist()
    assert all((rel / p).is_file() for c in chars for p in c["pic_paths"])
    plain = export(rel, "parquet", tmp_path / "pq2")
    assert "jp_audio" not in pq.read_schema(tmp_path / "pq2" / "clips.parquet").names and plain["clips"] == 6


def test_hf_load_from_disk(rel: Path, tmp_path: Path) -> None:
    import datasets

    out = tmp_path / "hf"
    assert export(rel, "hf", out, embed_audio=True)["clips"] == 6
    ds = datasets.load_from_disk(str(out))
    assert len(ds) == 6 and isinstance(ds.features["jp_audio"], datasets.Audio)
    raw = ds.cast_column("jp_audio", datasets.Audio(decode=False)).cast_column(
        "en_audio", datasets.Audio(decode=False)
    )
    row = raw[0]
    assert row["jp_text"] == "今日は晴れです。行こう！" and row["speakers"] == ["s1"]
    assert _mp3_seconds(row["jp_audio"]["bytes"]) == pytest.approx(CLIP0_S, abs=0.06)
    # save_to_disk keeps only the file name of the MP3 (its bytes are embedded)
    assert row["jp_audio"]["path"] == row["jp_clip"].split("/")[1] + ".mp3"
    # its place in the release, as the Parquet export's column (the docs said the hf rows had it; they did not)
    assert row["jp_audio_path"] == f"anim400k_audio_clips/{row['jp_clip']}.mp3"
    assert (rel / row["en_audio_path"]).is_file() and row["en_audio_path"].endswith(row["en_clip"] + ".mp3")


def test_hf_audio_decodes_out_of_the_box(rel: Path, tmp_path: Path) -> None:
    """``ds[0]["jp_audio"]`` decodes with what setup.sh installs (torchcodec + FFmpeg's shared libraries)."""
    import datasets

    out = tmp_path / "hf_decode"
    export(rel, "hf", out)
    ds = datasets.load_from_disk(str(out))
    row = ds[0]
    for column in ("jp_audio", "en_audio"):
        samples = row[column].get_all_samples()
        assert samples.sample_rate == 16000
        assert samples.data.shape[-1] / samples.sample_rate == pytest.approx(CLIP0_S, abs=0.06)
        assert float(samples.data.abs().max()) > 0.1  # the sine, not silence


def test_lhotse_manifests_validate(rel: Path, tmp_path: Path) -> None:
    import lhotse

    out = tmp_path / "lh"
    assert export(rel, "lhotse", out)["recordings"] == 12
    recs = lhotse.load_manifest(out / "recordings.jsonl.gz")
    sups = lhotse.load_manifest(out / "supervisions.jsonl.gz")
    cuts = lhotse.load_manifest(out / "cuts.jsonl.gz")
    assert isinstance(recs, lhotse.RecordingSet) and isinstance(cuts, lhotse.CutSet)
    lhotse.validate_recordings_and_supervisions(recs, sups)
    cut = cuts[0]
    assert (
        cut.supervisions[0].language == "Japanese" and cut.supervisions[0].text == "今日は晴れです。行こう！"
    )
    audio = cut.load_audio()
    assert audio.shape[0] == 1 and audio.shape[1] == pytest.approx(CLIP0_S * 16000, abs=1000)


def test_embed_audio_with_lhotse_is_refused(rel: Path, tmp_path: Path, capsys) -> None:
    """`export --format lhotse --embed-audio` exported manifests that point into the release, as if the option were
    not given: it is refused in one line now, before the release is read."""
    out = tmp_path / "e"
    assert main(["export", str(rel), "-f", "lhotse", "-o", str(out), "--embed-audio"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--embed-audio" in err and "absolute path" in err
    assert sorted(tmp_path.iterdir()) == []


def test_webdataset_shards(rel: Path, tmp_path: Path) -> None:
    import webdataset as wds

    out = tmp_path / "wds"
    s = export(rel, "webdataset", out, shard_size=5000)  # 6-130 kB per MP3 pair: several shards
    assert len(s["shards"]) >= 3
    urls = [str(out / n) for n in s["shards"]]
    samples = list(wds.WebDataset(urls, shardshuffle=False))
    assert len(samples) == 6
    meta = json.loads(samples[0]["json"])
    assert meta["jp_clip"].endswith(samples[0]["__key__"]) and meta["en_text"] == "It is sunny. Let's go!"
    assert _mp3_seconds(samples[0]["jp.mp3"]) == pytest.approx(CLIP0_S, abs=0.06)
    # a new shard starts once the current one holds shard_size bytes: 1 byte -> one sample per shard
    assert len(export(rel, "webdataset", tmp_path / "one", shard_size=1)["shards"]) == 6
    assert len(export(rel, "webdataset", tmp_path / "big", shard_size="100MB")["shards"]) == 1
    # a legal name of 250 bytes: the staging folders' hidden names beside it were too long for a name
    long = tmp_path / ("y" * 250)
    assert len(export(rel, "webdataset", long, shard_size="100MB")["shards"]) == 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".y")) == []
    # ShardWriter %-formats its pattern: a '%' in the folder's name was a TypeError traceback
    odd = export(rel, "webdataset", tmp_path / "100% done" / "50%d%%", shard_size="100MB")
    assert odd["shards"] == ["anim400k-000000.tar"]
    assert (tmp_path / "100% done" / "50%d%%" / "anim400k-000000.tar").is_file()


def test_webdataset_shards_load_through_their_card_whatever_the_first_samples_hold(tmp_path: Path) -> None:
    """``datasets``' WebDataset loader types the samples from the first five: a release whose first clips have
    ``speakers: []`` and ``en_subtitles: []`` (a build without subtitles, single-speaker clips) failed to load
    ('Couldn't cast array of type string to null'; an outside tester, 2026-12-07). The card types them from every
    sample."""
    import datasets

    data = copy.deepcopy(annotations())
    for show in ("show_a", "show_b"):
        for ep in data[show]["episodes"].values():
            for clip in ep["clips"]:
                clip["speakers"], clip["en_subtitles"], clip["multi_speaker"] = [], [], False
    rel = make_release(tmp_path / "rel", data)
    out = tmp_path / "wds"
    export(rel, "webdataset", out, shard_size=5000)
    assert "anim400k export --format webdataset" in (out / "README.md").read_text(encoding="utf-8")
    ds = datasets.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "cache"))
    assert len(ds) == 6
    rows = [r["json"] for r in ds.select_columns(["json"])]
    assert [r["speakers"] for r in rows[:5]] == [[]] * 5 and rows[5]["speakers"] == ["s1"]
    assert rows[5]["en_subtitles"][0]["text"] and rows[0]["en_subtitles"] == []


def test_bad_input_stops_without_skip_bad(bad_rel: Path, tmp_path: Path) -> None:
    out = tmp_path / "x"
    with pytest.raises(InputError) as err:
        export(bad_rel, "parquet", out)
    assert "show 'show_a' episode '1' clip 0 field 'en_text': missing field" in err.value.message
    assert "--skip-bad" in err.value.message
    assert not out.exists() and not any(tmp_path.iterdir())  # nothing half-written


@pytest.mark.parametrize("fmt", ["parquet", "webdataset"])
def test_skip_bad_exports_the_rest(bad_rel: Path, tmp_path: Path, fmt: str) -> None:
    s = export(bad_rel, fmt, tmp_path / fmt, skip_bad=True)
    # bad: a1 clip 0 (missing), a1 clip 1 (extra), a2 clip 0 (absent media), c1 clip 0 (duplicate; two problems:
    # the ID is b1 clip 0's, whose 3-s MP3 is no 0.5-s clip's)
    assert s["clips"] == 2 and s["skipped_clips"] == 4 and s["problems"] == 5


def test_export_command(bad_rel: Path, rel: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["export", str(bad_rel), "--format", "parquet", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing field" in err
    assert main(["export", str(bad_rel), "-f", "parquet", "-o", str(tmp_path / "o"), "--skip-bad"]) == 0
    assert pq.read_table(tmp_path / "o" / "clips.parquet").num_rows == 2
    assert main(["export", str(rel), "-f", "tar", "-o", str(tmp_path / "t")]) == 2
    assert "unknown export format" in capsys.readouterr().err


def test_validate_command(bad_rel: Path, rel: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["validate", str(rel)]) == 0
    assert main(["validate", str(bad_rel)]) == 1
    out = capsys.readouterr()
    assert "duplicate clip ID" in out.out and "audio file" in out.out and "5 problem(s)" in out.err
    assert "holds 3.000 s of audio (its Info tag) but the clip's times span 0.500 s" in out.out


@pytest.mark.parametrize("fmt", ["parquet", "hf", "lhotse", "webdataset"])
def test_progress_counts_exported_clips_on_a_terminal(rel: Path, tmp_path: Path, monkeypatch, fmt: str) -> None:
    import sys

    err = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", err)
    s = export(rel, fmt, tmp_path / fmt)
    drawn = err.getvalue()
    # the validation pass counts clips too, then the export bar has its total (percentage, ETA)
    assert s["clips"] > 0 and f"validate: {s['clips']}clip [" in drawn
    assert drawn.rstrip().split("\r")[-1].startswith("export: 100%|") and f" {s['clips']}/{s['clips']} [" in drawn
    quiet = io.StringIO()  # not a terminal: nothing drawn
    monkeypatch.setattr(sys, "stderr", quiet)
    export(rel, fmt, tmp_path / f"{fmt}2")
    assert quiet.getvalue() == ""


def _interrupt(*_args: object, **_kwargs: object) -> None:
    raise KeyboardInterrupt


def _fail_while_interrupted(*_args: object, **_kwargs: object) -> None:
    """What ``datasets`` does on a Ctrl-C in ``cast``: its cleanup writes to the closed Arrow file."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise ValueError("I/O operation on closed file") from None


@pytest.mark.parametrize(
    ("where", "raiser"),
    [("cast", _interrupt), ("cast", _fail_while_interrupted), ("save_to_disk", _interrupt),
     ("save_to_disk", _fail_while_interrupted)],
)
def test_ctrl_c_during_hf_export_is_one_line_and_exit_130(rel: Path, tmp_path: Path, monkeypatch,
                                                          capsys: pytest.CaptureFixture, where: str,
                                                          raiser) -> None:
    import datasets

    monkeypatch.setattr(datasets.Dataset, where, raiser)
    out = tmp_path / "work" / "hf"
    out.parent.mkdir()  # the cache folder goes beside the output folder when its parent exists
    assert main(["export", str(rel), "-f", "hf", "-o", str(out), "--no-progress"]) == 130
    cap = capsys.readouterr()
    assert cap.err.strip().splitlines() == ["anim400k: interrupted"] and "Traceback" not in cap.err
    assert not out.exists() and list((tmp_path / "work").iterdir()) == []  # no stage, no .hf-cache-*


def test_ctrl_c_during_parquet_export_is_one_line_and_exit_130(rel: Path, tmp_path: Path, monkeypatch,
                                                               capsys: pytest.CaptureFixture) -> None:
    import pyarrow.parquet

    monkeypatch.setattr(pyarrow.parquet.ParquetWriter, "write_table", _fail_while_interrupted)
    out = tmp_path / "work" / "pq"
    out.parent.mkdir()
    assert main(["export", str(rel), "-f", "parquet", "-o", str(out), "--no-progress"]) == 130
    assert capsys.readouterr().err.strip().splitlines() == ["anim400k: interrupted"]
    assert list((tmp_path / "work").iterdir()) == []


@pytest.fixture(scope="module")
def conf_rel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made release with ``speaker_confidence`` on two clips (none on the others) and the
    episode-level label ``spk0`` in two episodes of one show."""
    data = copy.deepcopy(annotations())
    ep1, ep2 = (data["show_a"]["episodes"][e]["clips"] for e in ("1", "2"))
    ep1[0]["speaker_confidence"], ep1[1]["speaker_confidence"] = 0.75, 0.25
    ep1[0]["speakers"], ep1[1]["speakers"], ep2[0]["speakers"] = ["spk0"], ["spk0", "spk1"], ["spk0"]
    return make_release(tmp_path_factory.mktemp("conf"), data)


@pytest.mark.parametrize("fmt", ["parquet", "hf", "lhotse", "webdataset"])
def test_every_export_keeps_speaker_confidence(conf_rel: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / fmt
    export(conf_rel, fmt, out)
    if fmt == "parquet":
        rows = pq.read_table(out / "clips.parquet").to_pylist()
    elif fmt == "hf":
        import datasets

        rows = list(datasets.load_from_disk(str(out)).remove_columns(["jp_audio", "en_audio"]))
    elif fmt == "lhotse":
        import lhotse

        sups = [s for s in lhotse.load_manifest(out / "supervisions.jsonl.gz") if s.language == "Japanese"]
        rows = [s.custom | {"jp_text": s.text} for s in sups]
    else:
        import webdataset as wds

        rows = [json.loads(s["json"]) for s in wds.WebDataset([str(p) for p in sorted(out.glob("*.tar"))],
                                                              shardshuffle=False)]
    conf = {(r["show"], r["episode"], r["clip_index"]): r["speaker_confidence"] for r in rows}
    assert len(conf) == 6
    assert conf[("show_a", "1", 0)] == 0.75 and conf[("show_a", "1", 1)] == 0.25
    assert conf[("show_a", "2", 0)] is None and conf[("show_b", "1", 0)] is None


def test_lhotse_speakers_are_unique_per_episode(conf_rel: Path, tmp_path: Path) -> None:
    import lhotse

    from anim400k.exports.lhotse_export import speaker_label

    assert speaker_label("show_a", "1", ["spk0", "spk1"]) == "show_a/1/spk0+show_a/1/spk1"
    assert speaker_label("show_a", "1", []) is None
    assert speaker_label("show_a", "1", ["spk0", "spk0"]) == "show_a/1/spk0"  # one character, not 'spk0+spk0'
    out = tmp_path / "lh"
    export(conf_rel, "lhotse", out)
    sups = {(s.custom["episode"], s.custom["clip_index"], s.language): s
            for s in lhotse.load_manifest(out / "supervisions.jsonl.gz") if s.custom["show"] == "show_a"}
    assert sups[("1", 0, "Japanese")].speaker == "show_a/1/spk0"
    assert sups[("2", 0, "English")].speaker == "show_a/2/spk0"  # not the speaker of episode 1
    assert sups[("1", 1, "Japanese")].speaker == "show_a/1/spk0+show_a/1/spk1"
    assert sups[("1", 1, "Japanese")].custom["speakers"] == ["spk0", "spk1"]  # the raw episode-level IDs
    assert sups[("2", 0, "Japanese")].custom["speakers"] == ["spk0"]


@pytest.mark.parametrize("fmt", ["parquet", "webdataset"])
def test_export_folder_gets_the_mode_of_a_plain_mkdir(rel: Path, tmp_path: Path, monkeypatch, fmt: str) -> None:
    """A staged folder (mkdtemp: 0700) renamed into place gets what mkdir gives under the umask (0755)."""
    import stat

    from anim400k.fsutil import paths

    old = os.umask(0o022)
    try:
        monkeypatch.setattr(paths, "_UMASK", 0o022)
        (tmp_path / "plain").mkdir()
        export(rel, fmt, tmp_path / "out")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "plain").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755


def test_mushra_test_folder_gets_the_mode_of_a_plain_mkdir(tmp_path: Path, monkeypatch) -> None:
    import stat

    from anim400k.evaluate.mushra_config import MushraTest
    from anim400k.evaluate.mushra_create import _TestWriter
    from anim400k.fsutil import paths

    monkeypatch.setattr(paths, "_UMASK", 0o022)
    writer = _TestWriter(tmp_path / "test", 48000, None)
    writer.commit(MushraTest(name="t", test_id="t", sample_rate=48000, systems=[], conditions=[], trials=[]))
    assert stat.S_IMODE((tmp_path / "test").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "test" / "secret.key").stat().st_mode) == 0o600  # the key stays private


@pytest.fixture(scope="module")
def extras_rel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Malformed optional clip extras on three clips (audio and text fine)."""
    data = copy.deepcopy(annotations())
    ep1 = data["show_a"]["episodes"]["1"]["clips"]
    ep1[0]["en_subtitles"] = ["Hello.", "Bye."]  # a list of strings, not of {start, end, text}
    ep1[1]["multi_speaker"], ep1[1]["speakers"] = True, ["spk0"]
    data["show_b"]["episodes"]["1"]["clips"][0]["mixing_ratio"] = "loud"
    return make_release(tmp_path_factory.mktemp("extras"), data)


@pytest.mark.parametrize("fmt", ["parquet", "webdataset"])
def test_skip_bad_drops_a_malformed_optional_extra_not_the_clip(extras_rel: Path, tmp_path: Path, fmt: str) -> None:
    with pytest.raises(InputError, match="--skip-bad"):
        export(extras_rel, fmt, tmp_path / "refused")
    s = export(extras_rel, fmt, tmp_path / fmt, skip_bad=True)
    assert s["clips"] == 6 and s["skipped_clips"] == 0 and s["dropped_fields"] == 3 and s["problems"] == 4
    lines = (tmp_path / fmt / "problems.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["field"] for line in lines) == ["en_subtitles.0", "en_subtitles.1",
                                                                   "mixing_ratio", "multi_speaker"]
    if fmt == "parquet":
        rows = {(r["show"], r["episode"], r["clip_index"]): r
                for r in pq.read_table(tmp_path / fmt / "clips.parquet").to_pylist()}
        assert rows[("show_a", "1", 0)]["en_subtitles"] == []
        assert rows[("show_a", "1", 1)]["multi_speaker"] is False  # dropped, then from the (one) speaker
        assert rows[("show_b", "1", 0)]["mixing_ratio"] is None


def test_skip_bad_summarises_problems_by_kind(rel: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import shutil

    root = tmp_path / "rel"
    shutil.copytree(rel, root)
    for mp3 in (root / ids.AUDIO_ARCHIVE).rglob("*.mp3"):
        mp3.unlink()
    assert main(["export", str(root), "-f", "parquet", "-o", str(tmp_path / "o"), "--skip-bad"]) == 0
    err = capsys.readouterr().err
    problems = (tmp_path / "o" / "problems.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(problems) >= 12  # JP and EN of 6 clips (and any backing clips)
    assert "WARNING" not in err and len(err.splitlines()) <= 12  # not one line per problem
    assert "clip jp_clip: audio file PATH is missing" in err and "clip en_clip: audio file PATH is missing" in err
    assert "first 5:" in err and "skipped 6 clip(s)" in err and "problems.jsonl" in err


def test_metadata_problems_do_not_stop_an_export(tmp_path: Path) -> None:
    from anim400k.release import validate_release

    data = copy.deepcopy(annotations())
    chars = data["show_a"]["characters"]
    chars["Alice"]["description"] = None  # unknown: allowed, as for show and episode strings
    root = make_release(tmp_path / "nulls", copy.deepcopy(data))
    assert validate_release(root) == []
    chars["Bob"]["role"] = 5
    data["show_a"]["score"] = "high"
    (root / ids.ANNOTATIONS_FILE).write_text(json.dumps(data), encoding="utf-8")
    assert {p.field for p in validate_release(root)} == {"characters.Bob.role", "score"}
    for fmt in ("lhotse", "parquet"):  # no --skip-bad needed: the readers tolerate these, the exports drop them
        s = export(root, fmt, tmp_path / fmt)
        assert s["clips"] == 6 and s["problems"] == 2 and s["skipped_clips"] == 0
    shows = {r["key"]: r for r in pq.read_table(tmp_path / "parquet" / "shows.parquet").to_pylist()}
    assert shows["show_a"]["score"] is None
    chars_rows = {r["name"]: r for r in pq.read_table(tmp_path / "parquet" / "characters.parquet").to_pylist()}
    assert chars_rows["Alice"]["description"] is None and chars_rows["Bob"]["role"] is None


def test_no_media_exports_paths_only(rel: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import shutil

    root = tmp_path / "annotations-only"
    shutil.copytree(rel, root)
    shutil.rmtree(root / ids.AUDIO_ARCHIVE)
    with pytest.raises(InputError, match="audio file"):
        export(root, "parquet", tmp_path / "refused")
    s = export(root, "parquet", tmp_path / "p", check_media=False)
    assert s["clips"] == 6 and s["problems"] == 0
    assert pq.read_table(tmp_path / "p" / "clips.parquet").column("jp_audio_path").to_pylist()[0].endswith(".mp3")
    for fmt in ("hf", "lhotse", "webdataset"):
        assert main(["export", str(root), "-f", fmt, "-o", str(tmp_path / fmt), "--no-media"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and fmt in err and "--no-media" in err
    assert main(["export", str(root), "-f", "parquet", "-o", str(tmp_path / "e"), "--no-media", "--embed-audio"]) == 2
    assert "--embed-audio" in capsys.readouterr().err
    assert main(["export", str(root), "-f", "parquet", "-o", str(tmp_path / "ok"), "--no-media"]) == 0


def test_a_symbolic_link_as_out_is_named_as_one(rel: Path, tmp_path: Path, capsys) -> None:
    """A link to an empty folder was refused as 'exists and is not a folder' (an outside tester)."""
    from anim400k.cli import main

    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert main(["export", str(rel), "-f", "parquet", "-o", str(tmp_path / "link"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("is a symbolic link: give the folder itself (an export replaces the whole folder)")
    assert len(err.splitlines()) == 1 and not any((tmp_path / "real").iterdir())


@pytest.mark.parametrize("fmt", ["parquet", "webdataset"])
def test_an_out_path_through_a_file_is_the_one_line_of_every_command(rel: Path, tmp_path: Path, fmt: str,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """`export --out FILE/x` said only 'FILE: File exists' (every other command names the option and the file)."""
    from anim400k.cli import main

    (tmp_path / "afile").write_text("mine")
    assert main(["export", str(rel), "-f", fmt, "-o", str(tmp_path / "afile" / "x")]) == 2
    err = capsys.readouterr().err.strip()
    afile = tmp_path / "afile"
    assert err.endswith(f"--out cannot be written: {afile} (a part of its folder path) is a file")
    assert (tmp_path / "afile").read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


@pytest.mark.parametrize("fmt", ["parquet", "webdataset"])
def test_an_export_into_a_folder_whose_name_ends_in_a_colon(rel: Path, tmp_path: Path, monkeypatch, fmt: str) -> None:
    """``export -o ./Re:/out`` was a pyarrow/webdataset traceback: they read 'Re:/...' as a URL of a scheme 'Re'
    (an outside tester, 2026-12-07; URLs are only schemes fsspec knows since that day, so the path got through)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Re:").mkdir()
    assert main(["export", str(rel), "-f", fmt, "-o", "./Re:/out", "--no-progress"]) == 0
    assert sorted(p.name for p in (tmp_path / "Re:").iterdir()) == ["out"]
    assert any((tmp_path / "Re:" / "out").iterdir())
