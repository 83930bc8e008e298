"""The SQLite build catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from anim400k.dataset.catalog import Catalog
from anim400k.dataset.options import BuildOptions, stage_config


def test_done_requires_same_config_and_existing_artifact(tmp_path: Path) -> None:
    art = tmp_path / "a.json"
    art.write_text("{}")
    with Catalog(tmp_path / "c.sqlite") as cat:
        cat.add_episode("s/1", "s", "1", "a.mkv", "a.mkv")
        assert not cat.is_done("s/1", "asr_en", "cfg1")
        cat.mark_done("s/1", "asr_en", "cfg1", str(art), 1.5)
        assert cat.is_done("s/1", "asr_en", "cfg1")
        assert not cat.is_done("s/1", "asr_en", "cfg2")
        art.unlink()
        assert not cat.is_done("s/1", "asr_en", "cfg1")
        cat.mark_failed("s/1", "align", "cfg", "boom")
        assert cat.get("s/1", "align").error == "boom"
    with Catalog(tmp_path / "c.sqlite") as cat:  # persisted
        assert {r.stage for r in cat.records("s/1")} == {"asr_en", "align"}


def test_stage_config_tracks_relevant_options_only() -> None:
    a, b = BuildOptions(), BuildOptions(jobs=8, asr_ja="vad")
    assert stage_config("asr_en", a, []) == stage_config("asr_en", b, [])
    assert stage_config("asr_ja", a, []) != stage_config("asr_ja", b, [])
    assert stage_config("align", a, ["x"]) != stage_config("align", a, ["y"])


def test_asr_stage_key_follows_backend_settings(tmp_path: Path) -> None:
    """Model, device (so compute type) and backend change the ASR keys; a given transcript is not keyed on them."""
    from anim400k.dataset.context import EpisodeContext
    from anim400k.dataset.schedule import stage_configs
    from anim400k.dataset.stages import STAGES
    from anim400k.model import EpisodeRef

    def keys(transcripts: dict[str, str] | None = None, **options: object) -> dict[str, str]:
        ref = EpisodeRef("s", "1", str(tmp_path / "a.mkv"), str(tmp_path / "a.mkv"), transcripts=transcripts or {})
        ctx = EpisodeContext(ref, str(tmp_path / "w"), str(tmp_path / "r"), BuildOptions(progress=False, **options))
        return stage_configs(ctx, list(STAGES))

    base = keys(asr_model="/models/large-v3", asr_device="cpu")
    assert keys(asr_model="/models/large-v3", asr_device="cpu") == base
    cuda = keys(asr_model="/models/large-v3", asr_device="cuda")
    assert cuda["asr_en"] != base["asr_en"] and cuda["asr_ja"] != base["asr_ja"]
    assert cuda["sync"] == base["sync"] and cuda["separate"] == base["separate"]
    other = keys(asr_model="/models/medium", asr_device="cpu")
    assert other["asr_en"] != base["asr_en"]
    assert keys(asr_en="pocketsphinx")["asr_en"] != keys()["asr_en"]
    assert keys(asr_device="cuda")["asr_en"] == keys()["asr_en"]  # the embedded tiny.en runs on the CPU anyway
    given = {"en": str(tmp_path / "en.json")}
    m = "/models/large-v3"
    assert keys(given, asr_model=m, asr_device="cuda")["asr_en"] == keys(given, asr_model=m, asr_device="cpu")["asr_en"]
    # a given transcript's stage holds the defaults of the ASR options it does not use: naming them, or another
    # model or backend, re-ran the import and every stage after it
    both = {"en": str(tmp_path / "en.json"), "ja": str(tmp_path / "ja.json")}
    plain = keys(both)
    for options in ({"asr_model": m}, {"asr_en": "pocketsphinx", "asr_ja": "vad"}, {"asr_en": "auto"}):
        assert keys(both, **options) == plain, options
    assert keys(given, asr_ja="vad")["asr_en"] == keys(given)["asr_en"]
    assert keys(given, asr_ja="vad")["asr_ja"] != keys(given)["asr_ja"]  # JP is transcribed: its backend counts


def test_default_jp_asr_change_reruns_asr_ja_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``auto`` giving Japanese to whisper-base (not vad, the earlier default) changes the default build's
    ``asr_ja`` key and those after it, so a resumed build transcribes JP once; ``--asr-ja vad`` and ``asr_en``
    keep theirs."""
    from anim400k.asr import auto
    from anim400k.dataset import stages as st
    from anim400k.dataset.context import EpisodeContext
    from anim400k.dataset.schedule import stage_configs
    from anim400k.model import EpisodeRef

    def keys(**options: object) -> dict[str, str]:
        ref = EpisodeRef("s", "1", str(tmp_path / "a.mkv"), str(tmp_path / "a.mkv"))
        ctx = EpisodeContext(ref, str(tmp_path / "w"), str(tmp_path / "r"), BuildOptions(progress=False, **options))
        return stage_configs(ctx, list(st.STAGES))

    st._backend_config.cache_clear()
    now, vad = keys(), keys(asr_ja="vad")
    monkeypatch.setattr(auto, "WHISPER_BASE_LANGUAGES", frozenset())  # auto as it was: vad for Japanese
    st._backend_config.cache_clear()
    try:
        before, vad_before = keys(), keys(asr_ja="vad")
    finally:
        st._backend_config.cache_clear()
    assert now["asr_ja"] != before["asr_ja"] and now["align"] != before["align"]
    assert now["asr_en"] == before["asr_en"] and now["sync"] == before["sync"]
    assert vad == vad_before


def test_given_transcript_stage_key_follows_the_transcript_reader(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A given transcript's import runs again when the reader changed what it makes of the same file (SDH
    descriptions removed, rolling captions read once...), without a bump of the ASR stages that transcribe."""
    from anim400k.dataset import options as opts
    from anim400k.dataset import stages as st
    from anim400k.dataset.context import EpisodeContext
    from anim400k.dataset.schedule import stage_configs
    from anim400k.model import EpisodeRef

    (tmp_path / "en.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\n[DOOR SLAMS] Hi.\n", encoding="utf-8")

    def keys(transcripts: dict[str, str]) -> dict[str, str]:
        ref = EpisodeRef("s", "1", str(tmp_path / "a.mkv"), str(tmp_path / "a.mkv"), transcripts=transcripts)
        ctx = EpisodeContext(ref, str(tmp_path / "w"), str(tmp_path / "r"), BuildOptions(progress=False))
        return stage_configs(ctx, list(st.STAGES))

    given = {"en": str(tmp_path / "en.srt")}
    before, plain = keys(given), keys({})
    monkeypatch.setattr(st, "TRANSCRIPT_IMPORT_VERSION", opts.TRANSCRIPT_IMPORT_VERSION + 1)
    after = keys(given)
    assert after["asr_en"] != before["asr_en"] and after["align"] != before["align"]
    assert after["asr_ja"] == before["asr_ja"] and keys({}) == plain  # transcribed tracks keep their keys


def test_done_requires_every_recorded_output_unchanged(tmp_path: Path) -> None:
    """A stage's other outputs count too: a missing, truncated or same-size-edited one makes it not done."""
    from anim400k.dataset.identity import HASH_LIMIT, output_identities

    art, flac, big = tmp_path / "a.json", tmp_path / "x.flac", tmp_path / "big.flac"
    art.write_text('{"k": "promise"}')
    flac.write_bytes(b"f" * 100)
    big.write_bytes(b"b" * (HASH_LIMIT + 1))
    with Catalog(tmp_path / "c.sqlite") as cat:
        def record() -> None:
            cat.mark_done("s/1", "audio", "cfg", str(art), 1.0, output_identities(tmp_path, [art.name, flac.name,
                                                                                              big.name]))
        record()
        assert cat.is_done("s/1", "audio", "cfg")
        flac.unlink()
        assert not cat.is_done("s/1", "audio", "cfg")
        flac.write_bytes(b"f" * 100)
        assert cat.is_done("s/1", "audio", "cfg")  # small files: the same content is the same file
        flac.write_bytes(b"f" * 50)
        assert not cat.is_done("s/1", "audio", "cfg")
        flac.write_bytes(b"f" * 100)
        art.write_text('{"k": "PROMISE"}')  # same size, other content
        assert not cat.is_done("s/1", "audio", "cfg")
        art.write_text('{"k": "promise"}')
        assert cat.is_done("s/1", "audio", "cfg")
        with open(big, "r+b") as f:  # a large file rewritten in place: its modification time changes
            f.write(b"c")
        import os

        st = big.stat()
        os.utime(big, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        assert not cat.is_done("s/1", "audio", "cfg")
        record()
        assert cat.is_done("s/1", "audio", "cfg")


def test_truncated_json_artifact_without_recorded_outputs_is_not_done(tmp_path: Path) -> None:
    """A record from an older catalog (no outputs): a JSON artifact that does not parse is redone."""
    art = tmp_path / "clips.json"
    art.write_text('{"clips": []}')
    with Catalog(tmp_path / "c.sqlite") as cat:
        cat.mark_done("s/1", "align", "cfg", str(art), 1.0)
        assert cat.is_done("s/1", "align", "cfg")
        art.write_text('{"clips": [')
        assert not cat.is_done("s/1", "align", "cfg")


def test_catalog_of_an_older_build_gets_the_outputs_column(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "c.sqlite"
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE stages (episode TEXT NOT NULL, stage TEXT NOT NULL, config TEXT NOT NULL, "
                     "status TEXT NOT NULL, artifact TEXT, seconds REAL, error TEXT, updated REAL NOT NULL, "
                     "PRIMARY KEY (episode, stage));"
                     "INSERT INTO stages VALUES ('s/1', 'sync', 'cfg', 'done', NULL, 1.0, NULL, 0);")
    db.commit()
    db.close()
    with Catalog(path) as cat:
        assert cat.is_done("s/1", "sync", "cfg")
        cat.mark_done("s/1", "align", "cfg", None, 1.0, {})
        cat.mark_failed("s/1", "cut", "cfg", "boom")
        assert {r.stage for r in cat.records()} == {"sync", "align", "cut"}


def test_corrupt_catalog_is_one_line_naming_it(tmp_path: Path) -> None:
    """A truncated or overwritten catalog: InputError naming the file and how to recover, no sqlite traceback."""
    import os

    import pytest

    from anim400k.errors import InputError

    good = tmp_path / "good.sqlite"
    with Catalog(good) as cat:
        for i in range(300):
            cat.mark_done(f"s/{i}", "align", "cfg" * 20, None, 1.0)
        cat.checkpoint()
    data = good.read_bytes()
    cases = {"random.sqlite": os.urandom(len(data)), "truncated.sqlite": data[: len(data) // 2]}
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(InputError) as err:
            with Catalog(path) as cat:
                cat.records()
                cat.is_done("s/299", "align", "cfg")
        assert str(path) in str(err.value) and "move it away" in str(err.value), str(err.value)


def test_each_stage_key_holds_only_the_inputs_it_reads(tmp_path: Path) -> None:
    """A subtitle edit (same size) changes only subtitles and what reads it; a medium's mtime, every stage;
    a given transcript, its ASR stage and what follows."""
    import os

    from anim400k.dataset.context import EpisodeContext
    from anim400k.dataset.schedule import stage_configs
    from anim400k.dataset.stages import STAGES
    from anim400k.model import EpisodeRef

    media, subs, given, truth = (tmp_path / n for n in ("a.mkv", "a.srt", "en.json", "truth.json"))
    media.write_bytes(b"m" * 1000)
    subs.write_text("1\n00:00:01,000 --> 00:00:02,000\nI promise\n")
    given.write_text('{"segments": []}')
    truth.write_text('{"stems": {"backing": "backing.wav"}}')
    (tmp_path / "backing.wav").write_bytes(b"w" * 10)
    ref = EpisodeRef("s", "1", str(media), str(media), subtitles=str(subs), transcripts={"en": str(given)},
                     metadata={"truth": str(truth)})
    ctx = EpisodeContext(ref, str(tmp_path / "w"), str(tmp_path / "r"), BuildOptions(progress=False))

    def changed_by(edit: object) -> set[str]:
        before = stage_configs(ctx, list(STAGES))
        edit()  # type: ignore[operator]
        after = stage_configs(ctx, list(STAGES))
        return {k for k in before if before[k] != after[k]}

    assert changed_by(lambda: None) == set()
    assert changed_by(lambda: subs.write_text(subs.read_text().replace("promise", "PROMISE"))) == {
        "subtitles", "diarize", "align", "cut", "score"}  # the events are the diarizer's speaker cues
    assert changed_by(lambda: given.write_text('{"segments":[] }')) == {"asr_en", "align", "cut", "score"}

    def rewrite_media_in_place() -> None:
        st = media.stat()
        media.write_bytes(b"x" * 1000)
        os.utime(media, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))

    assert changed_by(rewrite_media_in_place) == {s.name for s in STAGES}

    def touch_subtitles() -> None:  # the same content, a later time (a copy, a `touch`): the same input
        st = subs.stat()
        os.utime(subs, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))

    assert changed_by(touch_subtitles) == set()
    assert changed_by(lambda: truth.write_text('{"stems": {"backing": "backing.wav"}} ')) == {"score"}


def test_another_programs_catalog_sqlite_is_refused_unchanged(tmp_path: Path) -> None:
    """A `catalog.sqlite` of another program in `--out` (a media library's) was taken for the build's: the
    build turned it to WAL mode and added its `stages` and `episodes` tables to it."""
    import sqlite3

    from anim400k.errors import InputError

    theirs = tmp_path / "catalog.sqlite"
    db = sqlite3.connect(theirs)
    db.execute("CREATE TABLE movies (title TEXT)")
    db.execute("INSERT INTO movies VALUES ('Akira')")
    db.commit()
    db.close()
    before = theirs.read_bytes()
    with pytest.raises(InputError) as err:
        Catalog(theirs)
    assert str(err.value) == (f"{theirs}: is a SQLite database that no build wrote (its tables: movies): building "
                              "would change it; give --out a new or empty folder, or an earlier build's")
    assert theirs.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.sqlite"]  # no -wal/-shm beside it

    ours = tmp_path / "build" / "catalog.sqlite"
    for _ in range(2):  # a new catalog, then the same one again (a resumed build)
        with Catalog(ours) as cat:
            cat.add_episode("s/1", "s", "1", "jp.mkv", "en.mkv")


def test_a_medium_is_keyed_on_its_content_not_its_times(tmp_path: Path) -> None:
    """Through the catalog's media tokens: a medium touched, copied back or renamed over with the same content
    changes no stage's key (every stage ran again); another encode of the same size put back with its old
    modification time (``touch -r``) changes every stage's (nothing ran again: stale clips)."""
    import os
    import shutil

    import numpy as np

    from anim400k.dataset.context import EpisodeContext
    from anim400k.dataset.identity import input_identity
    from anim400k.dataset.schedule import stage_configs
    from anim400k.dataset.stages import STAGES
    from anim400k.model import EpisodeRef

    rng = np.random.default_rng(0)
    media = tmp_path / "a.mkv"
    media.write_bytes(rng.bytes(6 << 20))  # above the fingerprint's 3 MiB of samples
    ref = EpisodeRef("s", "1", str(media), str(media))
    ctx = EpisodeContext(ref, str(tmp_path / "w"), str(tmp_path / "r"), BuildOptions(progress=False))
    catalog = Catalog(tmp_path / "c.sqlite")
    assert catalog.media_token(str(media)) == input_identity(str(media), hash_small=False)  # an earlier build's key

    def changed_by(edit: object) -> set[str]:
        before = stage_configs(ctx, list(STAGES), catalog.media_token)
        edit()  # type: ignore[operator]
        after = stage_configs(ctx, list(STAGES), catalog.media_token)
        return {k for k in before if before[k] != after[k]}

    def other_encode_same_size_and_time() -> None:
        st = media.stat()
        data = bytearray(media.read_bytes())
        data[len(data) // 2: len(data) // 2 + 4096] = rng.bytes(4096)  # inside a sampled block
        data[:16] = rng.bytes(16)  # and the header
        media.write_bytes(bytes(data))
        os.utime(media, ns=(st.st_atime_ns, st.st_mtime_ns))

    assert changed_by(lambda: None) == set()
    assert changed_by(other_encode_same_size_and_time) == {s.name for s in STAGES}  # the token of first sight too
    st = media.stat()
    assert changed_by(lambda: os.utime(media, ns=(st.st_atime_ns, st.st_mtime_ns + 3_600_000_000_000))) == set()

    def copied_back() -> None:
        shutil.copyfile(media, tmp_path / "copy")
        os.replace(tmp_path / "copy", media)

    assert changed_by(copied_back) == set()

    assert changed_by(other_encode_same_size_and_time) == {s.name for s in STAGES}
    catalog.close()
