"""``anim400k mushra create``: stimuli, loudness, anchors, webMUSHRA export, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from anim400k.cli import main
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
