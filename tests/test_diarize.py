"""The embedded diarizer end to end on synthetic episodes, bad inputs, the registry and the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from anim400k.diarize import Turn, available_diarizers, get_diarizer
from anim400k.diarize.metrics import der
from anim400k.diarize.run import load_reference
from anim400k.errors import BackendUnavailable, InputError

# DER measured on these episodes when the test was written: 3 speakers 0.068, 1 speaker 0.03;
# the bounds leave a wide margin for changes in the synthetic voices.
MAX_DER_3 = 0.25
MAX_DER_1 = 0.15


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def episode3(tmp_path_factory):
    from anim400k.synth import make_episode

    return make_episode(tmp_path_factory.mktemp("dia3"), duration=30.0, seed=7, n_speakers=3, video=False)


@pytest.fixture(scope="session")
def episode1(tmp_path_factory):
    from anim400k.synth import make_episode

    return make_episode(tmp_path_factory.mktemp("dia1"), duration=15.0, seed=3, n_speakers=1, video=False)


@pytest.fixture(scope="session")
def diarizer():
    return get_diarizer("embedded")


def _mix(ep):
    audio, sr = sf.read(ep.out_dir / "jp_mix.wav", dtype="float32")
    return audio, sr


def _check_turns(turns, duration):
    assert all(isinstance(t, Turn) for t in turns)
    assert all(0 <= t.start < t.end <= duration + 1e-6 for t in turns)
    assert turns == sorted(turns)


def test_three_speakers_with_overlaps(episode3, diarizer):
    audio, sr = _mix(episode3)
    ref = load_reference(episode3.truth)
    assert len({t.speaker for t in ref}) == 3
    hyp = diarizer.diarize(audio, sr)  # 48 kHz input: resampled inside
    _check_turns(hyp, len(audio) / sr)
    assert len({t.speaker for t in hyp}) == 3
    assert der(ref, hyp) <= MAX_DER_3
    # a known speaker count is honoured
    fixed = get_diarizer("embedded", num_speakers=2).diarize(audio, sr)
    assert len({t.speaker for t in fixed}) == 2


def test_one_speaker(episode1, diarizer):
    audio, sr = _mix(episode1)
    hyp = diarizer.diarize(audio, sr)
    _check_turns(hyp, len(audio) / sr)
    assert {t.speaker for t in hyp} == {"spk0"}
    assert der(load_reference(episode1.truth), hyp) <= MAX_DER_1


def test_silence_and_tiny_inputs(diarizer):
    assert diarizer.diarize(np.zeros(16000 * 5, np.float32), 16000) == []
    assert diarizer.diarize(np.zeros(100, np.float32), 16000) == []
    assert diarizer.diarize(np.zeros(0, np.float32), 44100) == []


def test_music_only_gives_valid_output(episode3, diarizer):
    music, sr = sf.read(episode3.out_dir / "backing.wav", dtype="float32")
    turns = diarizer.diarize(music, sr)
    _check_turns(turns, len(music) / sr)
    # whatever VAD lets through must be a small part of the track
    assert sum(t.duration for t in turns) < 0.5 * len(music) / sr


def test_registry_and_bad_options():
    assert available_diarizers() == ["embedded", "pyannote"]
    with pytest.raises(InputError, match="unknown diarizer 'nope'"):
        get_diarizer("nope")
    with pytest.raises(ValueError):
        get_diarizer("embedded", num_speakers=0)


def test_pyannote_missing_extra_is_clear():
    pytest.importorskip("pyannote.core")
    try:
        import pyannote.audio  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("pyannote.audio is installed")
    with pytest.raises(BackendUnavailable) as info:
        get_diarizer("pyannote", pipeline="/nowhere/config.yaml")
    assert "pip install 'anim400k[pyannote]'" in info.value.message


def test_pyannote_output_conversion():
    from pyannote.core import Annotation, Segment

    from anim400k.diarize.pyannote_backend import output_annotation
    from anim400k.formats.rttm import annotation_to_turns

    ann = Annotation()
    ann[Segment(1.0, 2.0)] = "SPEAKER_01"
    ann[Segment(0.0, 1.5)] = "SPEAKER_00"

    class Wrapped:  # pyannote.audio 4 wraps the annotation in a DiarizeOutput
        speaker_diarization = ann

    for out in (ann, Wrapped()):
        assert annotation_to_turns(output_annotation(out)) == [
            Turn(0.0, 1.5, "SPEAKER_00"), Turn(1.0, 2.0, "SPEAKER_01")
        ]


def test_der_basics():
    ref = [Turn(0, 5, "a"), Turn(5, 10, "b")]
    assert der(ref, [Turn(0, 5, "x"), Turn(5, 10, "y")]) == pytest.approx(0.0)
    assert der(ref, [Turn(0, 10, "x")], collar=0.0) == pytest.approx(0.5)
    assert der(ref, []) == pytest.approx(1.0)
    assert der([], []) == 0.0


def test_cli_writes_rttm_and_prints_der(episode3, tmp_path, capsys):
    from anim400k.cli import main
    from anim400k.formats.rttm import read_rttm

    out = tmp_path / "jp.rttm"
    rc = main(["diarize", str(episode3.media), "--out", str(out), "--reference", str(episode3.truth)])
    assert rc == 0
    assert "DER" in capsys.readouterr().out
    assert len({t.speaker for t in read_rttm(out)}) >= 2


def test_cli_bad_media(tmp_path, capsys):
    from anim400k.cli import main

    bad = tmp_path / "broken.mkv"
    bad.write_text("not a video")
    out = tmp_path / "x.rttm"
    assert main(["diarize", str(bad), "--out", str(out)]) == 2
    assert "broken.mkv" in capsys.readouterr().err
    assert not out.exists()
