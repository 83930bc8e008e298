"""``anim400k mushra create``: stimuli, loudness, anchors, webMUSHRA export, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from anim400k.cli import main
from anim400k.errors import InputError
from anim400k.evaluate.mushra_config import load_test
from anim400k.evaluate.stimuli import integrated_loudness, lowpass
from anim400k.evaluate.webmushra import read_webmushra
from anim400k.testing.demo_release import make_demo_release, make_demo_systems


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    root = tmp_path_factory.mktemp("mushra_create")
    release = make_demo_release(root / "release", n_clips=3, sr=16000)
    return release.root, make_demo_systems(release, root / "systems")


def test_create_from_release(demo: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    release, systems = demo
    out = tmp_path / "test"
    args = [
        "mushra",
        "create",
        str(release),
        "--out",
        str(out),
        "--trials",
        "2",
        "--seed",
        "3",
        "--split",
        "all",
        "--sample-rate",
        "16000",
    ]
    for name, d in systems.items():
        args += ["--systems", f"{name}={d}"]
    assert main(args) == 0
    test = load_test(out)
    assert len(test.trials) == 2 and len(test.training) == 1
    assert test.conditions == ["reference", "anchor35", "anchor70", "close", "tts"]
    clips = {t.clip for t in test.all_trials()}
    assert len(clips) == 3  # training and rated trials use different clips
    for trial in test.all_trials():
        lengths = set()
        for cond, rel in trial.stimuli.items():
            x, sr = sf.read(out / rel, dtype="float32")
            assert sr == 16000
            lengths.add(x.size)
            assert integrated_loudness(x, sr) == pytest.approx(-23.0, abs=0.6), cond
        assert len(lengths) == 1  # padded to a common length for the shared playhead
        ref, _ = sf.read(out / trial.stimuli["reference"])
        a35, _ = sf.read(out / trial.stimuli["anchor35"])
        f = np.fft.rfftfreq(ref.size, 1 / 16000)
        band = (f > 4500) & (f < 6500)
        assert np.abs(np.fft.rfft(a35))[band].sum() < 0.05 * np.abs(np.fft.rfft(ref))[band].sum()
    wm = read_webmushra(out / "webmushra.yaml")
    assert [p.id for p in wm.pages] == ["training01", "trial01", "trial02"]
    assert set(wm.pages[1].stimuli) == {"anchor35", "anchor70", "close", "tts"}
    assert not wm.pages[1].create_anchor35 and not wm.pages[1].create_anchor70
    # same seed, same trials
    out2 = tmp_path / "again"
    assert main([*args[:4], str(out2), *args[5:]]) == 0
    assert [t.clip for t in load_test(out2).trials] == [t.clip for t in test.trials]


def test_create_bad_input(
    demo: tuple[Path, dict[str, Path]], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    release, systems = demo
    base = ["mushra", "create", str(release), "--split", "all", "--sample-rate", "16000"]
    assert main([*base, "--out", str(tmp_path / "a"), "--systems", "nodir"]) == 2
    assert "NAME=DIR" in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "b"), "--systems", f"reference={systems['close']}"]) == 2
    assert "reserved" in capsys.readouterr().err
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "x").write_text("occupied")
    assert main([*base, "--out", str(tmp_path / "c"), "--systems", f"close={systems['close']}"]) == 2
    assert "not empty" in capsys.readouterr().err
    empty = tmp_path / "empty_sys"
    empty.mkdir()
    assert main([*base, "--out", str(tmp_path / "d"), "--systems", f"x={empty}"]) == 2
    assert not (tmp_path / "d").exists()  # nothing half-written


def test_lowpass_attenuates_above_cutoff() -> None:
    sr = 16000
    t = np.arange(sr) / sr
    x = (np.sin(2 * np.pi * 1000 * t) + np.sin(2 * np.pi * 6000 * t)).astype(np.float32)
    y = lowpass(x, sr, 3500)
    spec = np.abs(np.fft.rfft(y))
    assert spec[6000] < 1e-3 * spec[1000]


@pytest.mark.parametrize("sr", [16000, 44100, 48000])
@pytest.mark.parametrize("name", ["anchor35", "anchor70"])
def test_anchors_meet_the_bs1534_filter_mask(sr: int, name: str) -> None:
    """ITU-R BS.1534-3 §5.1: pass band ripple within ±0.1 dB up to f_c, >= 25 dB down at f_c + 0.5 kHz, >= 50 dB
    from f_c + 1 kHz (the 3.5 kHz mask; the 7 kHz anchor the same moved up). The anchor stays sample-aligned.
    The 10th-order Butterworth run forwards and backwards was -6 dB at f_c (-1 dB from 3.16 kHz at 48 kHz)."""
    from anim400k.evaluate.stimuli import ANCHORS, make_anchor

    fc = ANCHORS[name]
    n = 1 << 16
    impulse = np.zeros(n)
    impulse[n // 2] = 1.0
    h = make_anchor(impulse, sr, name).astype(np.float64)
    assert int(np.argmax(np.abs(h))) == n // 2  # zero phase: no delay against the reference
    f = np.fft.rfftfreq(n, 1 / sr)
    db = 20 * np.log10(np.maximum(np.abs(np.fft.rfft(h)), 1e-12))
    assert np.all(np.abs(db[f <= fc]) <= 0.1)
    assert np.all(db[(f >= fc + 500) & (f < fc + 1000)] <= -25.0)
    assert np.all(db[f >= fc + 1000] <= -50.0)


def test_short_stimulus_is_loudness_matched_by_the_one_rule():
    """A 300 ms stimulus (under one BS.1770 gating block) is matched too (was left at its own level)."""
    from anim400k.evaluate.stimuli import match_loudness
    from anim400k.signal import loudness

    sr = 16000
    t = np.arange(int(0.3 * sr)) / sr
    x = (0.01 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    y, gain = match_loudness(x, sr, -23.0)
    assert gain > 10.0
    assert loudness(y, sr) == pytest.approx(-23.0, abs=0.01)
    silent, gain0 = match_loudness(np.zeros(sr, np.float32), sr, -23.0)
    assert gain0 == 0.0 and not silent.any()


def _args(release: Path, systems: dict[str, Path], out: Path, *extra: str) -> list[str]:
    args = ["mushra", "create", str(release), "--out", str(out), "--split", "all", "--sample-rate", "16000"]
    for name, d in systems.items():
        args += ["--systems", f"{name}={d}"]
    return [*args, *extra]


def _served_loudness(out: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """pyloudnorm's integrated loudness and the peak of every written stimulus."""
    import pyloudnorm as pyln

    res = {}
    for trial in load_test(out).all_trials():
        for cond, rel in trial.stimuli.items():
            x, sr = sf.read(out / rel, dtype="float64")
            res[(trial.id, cond)] = (pyln.Meter(sr).integrated_loudness(x), float(np.max(np.abs(x))))
    return res


def test_stimuli_are_matched_as_served(demo: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    """Loudness is matched after padding: pyloudnorm on the written WAVs reads the target (was 0.1-1 LU off)."""
    release, systems = demo
    assert main(_args(release, systems, tmp_path / "t", "--trials", "2")) == 0
    for key, (lufs, _) in _served_loudness(tmp_path / "t").items():
        assert lufs == pytest.approx(-23.0, abs=0.03), key


def test_unreachable_loudness_is_refused_not_unmatched(
    demo: tuple[Path, dict[str, Path]], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """--lufs -1 would need limiting (which unmatched the trial by up to 6 LU): refused, naming the loudest target."""
    import re

    release, systems = demo
    assert main(_args(release, systems, tmp_path / "loud", "--trials", "2", "--lufs", "-1")) == 2
    err = "\n".join(x for x in capsys.readouterr().err.splitlines() if not x.startswith("  "))  # not progress
    assert err.count("\n") == 0 and "cannot be reached without clipping" in err
    assert not (tmp_path / "loud").exists()
    loudest = float(re.search(r"the loudest target every trial reaches is (-?[\d.]+) LUFS", err).group(1))
    assert -30 < loudest < -1
    assert main(_args(release, systems, tmp_path / "ok", "--trials", "2", "--lufs", str(loudest))) == 0
    for key, (lufs, peak) in _served_loudness(tmp_path / "ok").items():
        assert lufs == pytest.approx(loudest, abs=0.03), key
        assert peak <= 0.98 + 1e-4, key


def test_default_loudness_is_lowered_for_the_whole_test_when_a_stimulus_would_clip(
    demo: tuple[Path, dict[str, Path]], tmp_path: Path, capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No --lufs: a default that some stimulus cannot reach (here made -1 LUFS) lowers every stimulus to
    the loudest level all reach, with one warning; matched and unclipped all the same."""
    import re

    from anim400k.evaluate import stimuli

    release, systems = demo
    monkeypatch.setattr(stimuli, "DEFAULT_LUFS", -1.0)
    assert main(_args(release, systems, tmp_path / "t", "--trials", "2")) == 0
    warnings = [x for x in capsys.readouterr().err.splitlines() if x.startswith("warning:")]
    assert len(warnings) == 1 and "would clip at -1 LUFS" in warnings[0]
    level = float(re.search(r"matched at (-?[\d.]+) LUFS instead", warnings[0]).group(1))
    assert -30 < level < -1
    assert load_test(tmp_path / "t").loudness_lufs == level
    for key, (lufs, peak) in _served_loudness(tmp_path / "t").items():
        assert lufs == pytest.approx(level, abs=0.03), key
        assert peak <= 0.98 + 1e-4, key


def test_fewer_eligible_clips_than_trials_warns(
    demo: tuple[Path, dict[str, Path]], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    release, systems = demo
    assert main(_args(release, systems, tmp_path / "t", "--trials", "12")) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "only 3 clips" in warnings[0] and "2 rated trials (asked 12)" in warnings[0]
    assert len(load_test(tmp_path / "t").trials) == 2


def test_stimulus_files_carry_no_condition_names(demo: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    """webMUSHRA fetches stimuli by file name: only the reference is named so; the import round-trips."""
    import yaml

    release, systems = demo
    out = tmp_path / "t"
    assert main(_args(release, systems, out, "--trials", "2")) == 0
    doc = yaml.safe_load((out / "webmushra.yaml").read_text())
    pages = [p for p in doc["pages"] if isinstance(p, dict) and p.get("type") == "mushra"]
    pages += [p for block in doc["pages"] if isinstance(block, list) for p in block if isinstance(p, dict)]
    assert len(pages) == 3
    for page in pages:
        assert page["reference"].endswith("/reference.wav")
        assert set(page["stimuli"]) == {"anchor35", "anchor70", "close", "tts"}
        files = [Path(f).name for f in page["stimuli"].values()]
        assert len(set(files)) == 4
        for f in files:
            assert not any(c in f for c in ("anchor", "close", "tts", "reference", "ours"))
    # the export imports again, conditions keyed as before
    assert main(["mushra", "create", "--from-webmushra", str(out / "webmushra.yaml"), "--out",
                 str(tmp_path / "again"), "--sample-rate", "16000"]) == 0
    again = load_test(tmp_path / "again")
    assert again.conditions == ["reference", "anchor35", "anchor70", "close", "tts"]
    assert [t.id for t in again.training] == ["training01"]


def test_short_system_is_matched_after_padding() -> None:
    """A 0.45 s system padded to a 3 s trial: measured as served (matched before padding it read ~1 LU off)."""
    import pyloudnorm as pyln

    from anim400k.evaluate.stimuli import prepare_trial

    sr = 16000
    rng = np.random.default_rng(0)
    t = np.arange(3 * sr) / sr
    ref = (0.1 * np.sin(2 * np.pi * 300 * t) * (1 + np.sin(2 * np.pi * 2 * t)) + 0.01 * rng.standard_normal(t.size))
    short = np.arange(int(0.45 * sr)) / sr
    sys_ = 0.05 * np.sin(2 * np.pi * 150 * short) * np.exp(-3 * short)
    out = prepare_trial(ref.astype(np.float32), {"short": sys_.astype(np.float32)}, sr, -23.0)
    assert {x.size for x in out.values()} == {3 * sr}
    for name, x in out.items():
        assert pyln.Meter(sr).integrated_loudness(x.astype(float)) == pytest.approx(-23.0, abs=0.03), name


def test_a_killed_runs_temporary_folder_is_removed_and_a_second_run_is_refused(
    demo: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    from anim400k.errors import InputError
    from anim400k.evaluate.mushra_create import create_test
    from anim400k.fsutil.locks import output_lock

    release, systems = demo
    out = tmp_path / "test"
    stale = tmp_path / ".test.anim400k-ab12cd_9.part"  # SIGKILL while rendering leaves this (WAVs of every trial)
    (stale / "stimuli").mkdir(parents=True)
    (stale / "stimuli" / "reference.wav").write_bytes(b"RIFF")
    other = tmp_path / ".other.anim400k-ab12cd_9.part"  # another test's
    other.mkdir()
    unmarked = tmp_path / ".test.ab12cd_9.part"  # no anim400k- mark: maybe the user's
    unmarked.mkdir()
    busy = "another mushra create .*is writing this folder"
    with output_lock(out, "mushra create"), pytest.raises(InputError, match=busy):
        create_test(release, systems, out, trials=1, split="all", sample_rate=16000)
    assert stale.is_dir() and not out.exists()  # the running one's folder is left alone
    create_test(release, systems, out, trials=1, split="all", sample_rate=16000)
    assert load_test(out).trials and not stale.exists() and other.is_dir()
    kept = [".other.anim400k-ab12cd_9.part", ".test.ab12cd_9.part", "test"]
    assert sorted(p.name for p in tmp_path.iterdir()) == kept


def test_a_system_folder_without_dubs_is_named(
    demo: tuple[Path, dict[str, Path]], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """An empty (or wrong) system folder was refused naming the release: 'REL: no clip of split ... every system'."""
    release, systems = demo
    empty = tmp_path / "not-dubbed-yet"
    empty.mkdir()
    out = tmp_path / "t"
    argv = ["mushra", "create", str(release), "--systems", f"ours={systems['close']}", "--systems",
            f"new={empty}", "--out", str(out), "--split", "all"]
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"anim400k: error: {empty}: system 'new' has no dub of a clip of split 'all' (DIR/F/UUID.mp3 keyed by the "
        "EN clip ID, as `anim400k dub --dataset` writes)"]
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".t.")]


def test_an_empty_mount_point_or_working_folder_is_refused_before_any_trial(
    demo: tuple[Path, dict[str, Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty mount point as --out (a container volume) rendered every trial, then failed with 'Device or
    resource busy' (it cannot be replaced by the rendered folder); an empty working folder ('--out .') was
    refused as 'exists and is not empty' (its own lock file, beside '.', lies in it)."""
    import anim400k.evaluate.stimuli as stimuli
    from anim400k.errors import InputError
    from anim400k.evaluate.mushra_create import create_test

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("a trial was rendered before --out was checked")

    monkeypatch.setattr(stimuli, "match_trial", no_work)
    release, systems = demo
    volume = tmp_path / "volume"
    volume.mkdir()
    monkeypatch.setattr("anim400k.exports.common.is_mount_point", lambda p: Path(p) == volume)
    with pytest.raises(InputError, match=r"volume: is a mount point: a run replaces its output folder as a whole"):
        create_test(release, systems, volume, trials=1, split="all", sample_rate=16000)
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    with pytest.raises(InputError, match=r"^\.: is the working folder or holds it: .*\(cd \.\.\)$"):
        create_test(release, systems, Path("."), trials=1, split="all", sample_rate=16000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here", "volume"]
    assert list(volume.iterdir()) == [] and list(here.iterdir()) == []
    taken = tmp_path / "taken"  # a file: was 'taken: Not a directory'
    taken.write_text("the user's file")
    for out, said in ((taken, "--out is a file: give a folder to write into"),
                      (taken / "t", "--out cannot be written: .*taken \\(a part of its folder path\\) is a file")):
        with pytest.raises(InputError, match=f"^{out}: {said}$"):
            create_test(release, systems, out, trials=1, split="all", sample_rate=16000)
    assert taken.read_text() == "the user's file"


def test_a_video_clip_linked_out_of_the_release_is_not_served(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A release whose video clips were links to another file (/etc/passwd): `mushra create` copied that file into
    the test and `serve` gave it to every listener. Links within the video folder, and real clips, still work."""
    release = make_demo_release(tmp_path / "release", n_clips=2, sr=16000, video=True)
    systems = make_demo_systems(release, tmp_path / "systems")
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    clips = sorted((release.root / "anim400k_video_clips").rglob("*.mp4"))
    kept = tmp_path / "kept.mp4"
    kept.write_bytes(clips[0].read_bytes())
    clips[0].unlink()
    clips[0].symlink_to(secret)
    out = tmp_path / "test"
    assert main(_args(release.root, systems, out, "--trials", "2", "--training-trials", "0")) == 2
    err = capsys.readouterr().err
    assert f"{clips[0]}: is a link to {secret}, outside the release's video folder" in err
    assert not out.exists() and not any(p.name.startswith(".test") for p in tmp_path.iterdir())
    clips[0].unlink()
    inside = clips[0].parent / "real.bin"
    inside.write_bytes(kept.read_bytes())
    clips[0].symlink_to(inside)  # a link inside the video folder: a clip like any other
    assert main(_args(release.root, systems, out, "--trials", "2", "--training-trials", "0")) == 0
    videos = sorted(out.rglob("video.mp4"))
    assert videos and all(v.read_bytes()[4:8] == b"ftyp" and not v.is_symlink() for v in videos)


@pytest.mark.parametrize("where", ["absolute", "dotdot"])
def test_a_webmushra_config_cannot_reach_audio_outside_its_folders(
    tmp_path: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An untrusted config's stimulus ``/home/you/private.wav`` (or ``../../../private.wav``) was put into the
    test and served to every listener; webMUSHRA itself only serves files under its root."""
    import yaml

    private = tmp_path / "private.wav"
    sf.write(private, np.zeros(16000, np.float32), 16000)
    root = tmp_path / "a" / "b" / "c" / "d" / "webmushra"
    (root / "configs").mkdir(parents=True)
    sf.write(root / "ref.wav", np.zeros(16000, np.float32), 16000)
    monkeypatch.chdir(root)
    value = str(private) if where == "absolute" else "../../../../../../private.wav"
    cfg = root / "configs" / "x.yaml"
    cfg.write_text(yaml.safe_dump({"pages": [{"type": "mushra", "id": "t1", "reference": "ref.wav",
                                               "stimuli": {"C1": value}}]}))
    with pytest.raises(InputError, match="relative to the webMUSHRA root" if where == "absolute" else "leads out"):
        read_webmushra(cfg)
    # the same file inside the root is found
    sf.write(root / "c1.wav", np.zeros(16000, np.float32), 16000)
    cfg.write_text(yaml.safe_dump({"pages": [{"type": "mushra", "id": "t1", "reference": "ref.wav",
                                               "stimuli": {"C1": "../c1.wav"}}]}))
    assert read_webmushra(cfg).pages[0].stimuli["C1"] == (root / "c1.wav").resolve()
