"""``separate``, ``sync``, ``diarize`` and ``transcribe`` pick their audio streams as ``dub`` and ``build`` do
(``media.probe.select_source_stream``): a plain audio file's one untagged stream is taken, with a note."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from anim400k.cli import main

SR = 16000


def _signal(seconds: float, seed: int, shift: int = 0) -> np.ndarray:
    """Tones with a tremolo plus noise bursts (a shared 'backing'), ``shift`` samples later."""
    n = int(seconds * SR)
    t = (np.arange(n) + shift) / SR
    rng = np.random.default_rng(seed)
    x = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 0.5 * t)) + 0.1 * np.sin(2 * np.pi * 330 * t)
    return (x + 0.02 * rng.standard_normal(n)).astype(np.float32)


@pytest.fixture
def wavs(tmp_path):  # type: ignore[no-untyped-def]
    """Two untagged one-stream WAVs (a JP and an EN 'mix')."""
    jp, en = tmp_path / "jp.wav", tmp_path / "en.wav"
    sf.write(jp, _signal(6, 0), SR)
    sf.write(en, _signal(6, 1, shift=SR // 10), SR)
    return jp, en


def test_separate_takes_an_untagged_wav(wavs, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    jp, en = wavs
    out = tmp_path / "b.flac"
    assert main(["separate", str(jp), "--method", "hpss", "--out-backing", str(out)]) == 0
    assert "used audio stream 0 (untagged" in capsys.readouterr().err
    assert out.is_file()
    assert main(["separate", str(jp), "--en-media", str(en), "--out-backing", str(tmp_path / "d.flac")]) == 0
    assert (tmp_path / "d.flac").is_file()
    assert main(["separate", str(jp), "--stream", "1", "--method", "hpss", "--out-backing", str(out)]) == 2
    assert "no audio stream #1" in capsys.readouterr().err  # an index is obeyed, not replaced


def test_sync_takes_untagged_wavs_and_refuses_one_stream_for_both(wavs, capsys) -> None:  # type: ignore[no-untyped-def]
    jp, en = wavs
    assert main(["sync", str(jp), str(en)]) == 0
    captured = capsys.readouterr()
    assert "offset" in captured.out and "used audio stream 0" in captured.err
    assert main(["sync", str(jp), str(jp)]) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert "jp.wav" in last and "same audio stream" in last


def test_diarize_takes_an_untagged_wav(wavs, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    jp, _ = wavs
    out = tmp_path / "x.rttm"
    assert main(["diarize", str(jp), "--out", str(out)]) == 0
    assert out.is_file() and "used audio stream 0" in capsys.readouterr().err


def test_transcribe_takes_an_untagged_wav_for_a_tag(wavs, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    jp, _ = wavs
    out = tmp_path / "t.json"
    assert main(["transcribe", str(jp), "-l", "ja", "--stream", "jpn", "--asr", "vad", "--out", str(out)]) == 0
    assert out.is_file() and "used audio stream 0" in capsys.readouterr().err


def test_diarize_and_separate_refuse_one_stream_for_both_roles(wavs, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`diarize --other-stream` equal to `--stream`, and `separate` with the same stream as JP and EN (the same
    file, or a link to it), ran and compared a stream with itself; refused as `sync` refuses it."""
    jp, en = wavs
    link = tmp_path / "link.wav"
    link.symlink_to(jp)
    out = tmp_path / "x.rttm"
    assert main(["diarize", str(jp), "--stream", "0", "--other-stream", "0", "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"anim400k: error: {jp}: --stream and --other-stream are the same audio stream (0): --other-stream is the "
        "other language's stream (e.g. eng)")
    assert not out.exists()
    back = tmp_path / "b.flac"
    for other in (jp, link):
        assert main(["separate", str(jp), "--en-media", str(other), "--out-backing", str(back)]) == 2
        assert capsys.readouterr().err.strip().splitlines()[-1] == (
            f"anim400k: error: {jp}: MEDIA and --en-media are the same audio stream (0): --en-media is the other "
            "language's mix (pass --en-stream N for another stream of the same file)")
        assert not back.exists()
    assert main(["separate", str(jp), "--en-media", str(en), "--out-backing", str(back)]) == 0
