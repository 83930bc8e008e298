"""Automatic dub metrics: VAD timing, overlap, text scores, and ``anim400k evaluate`` end to end."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from anim400k.cli import main
from anim400k.errors import InputError
from anim400k.evaluate.content import text_scores
from anim400k.evaluate.metrics import evaluate_dubs
from anim400k.evaluate.speech_timing import energy_vad, intersection, timing
from anim400k.testing.demo_release import make_demo_release, make_demo_systems
from anim400k.testing.terminal import FakeTerminal

SR = 16000


def _bursts(spans: list[tuple[float, float]], seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(int(seconds * SR)) * 1e-4).astype(np.float32)
    t = np.arange(x.size) / SR
    for s, e in spans:
        m = (t >= s) & (t < e)
        x[m] += (0.3 * np.sin(2 * np.pi * 220 * t[m]) * (1 + 0.5 * np.sin(2 * np.pi * 4 * t[m]))).astype(
            np.float32
        )
    return x


def test_energy_vad_finds_bursts() -> None:
    regions = energy_vad(_bursts([(0.5, 1.2), (2.0, 2.6)]), SR)
    assert len(regions) == 2
    for (s, e), (ts, te) in zip(regions, [(0.5, 1.2), (2.0, 2.6)], strict=True):
        assert abs(s - ts) < 0.005 and abs(e - te) < 0.005  # to the sample (5 ms window); frames were ~20 ms wide
    # a tone from the clip's first sample to its last: the whole clip (the frames stop short of the end)
    t = np.arange(2 * SR) / SR
    whole = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    assert energy_vad(whole, SR) == [(0.0, 2.0)]
    late = whole * (t >= 1.2)
    src, dub = energy_vad(whole * ((t >= 0.5) & (t < 1.0)), SR), energy_vad(whole * ((t >= 0.7) & (t < 1.3)), SR)
    assert energy_vad(late, SR) == [(pytest.approx(1.2, abs=0.003), 2.0)]
    m = timing(src, dub)
    assert m["overlap"] == pytest.approx(0.3 / 0.8, abs=0.01) and m["voiced_ratio"] == pytest.approx(1.2, abs=0.01)


def test_timing_metrics() -> None:
    src = [(0.5, 1.5), (2.0, 3.0)]
    dub = [(0.7, 1.5), (2.0, 3.4)]
    assert intersection(src, dub) == pytest.approx(1.8)
    t = timing(src, dub)
    assert t["onset_error"] == pytest.approx(0.2) and t["end_error"] == pytest.approx(0.4)
    assert t["overlap"] == pytest.approx(1.8 / 2.4, abs=1e-4)
    assert t["voiced_ratio"] == pytest.approx(2.2 / 2.0)
    assert math.isnan(timing([], dub)["onset_error"]) and timing([], dub)["overlap"] == 0.0


def test_text_scores() -> None:
    same = text_scores("It will rain tomorrow.", "it will rain tomorrow")
    assert same["wer"] == 0.0 and same["chrf"] > 50
    worse = text_scores("it will snow today", "it will rain tomorrow")
    assert worse["wer"] == pytest.approx(0.5) and worse["bleu"] < same["bleu"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    root = tmp_path_factory.mktemp("evaluate")
    release = make_demo_release(root / "release", n_clips=2, sr=SR)
    return release.root, make_demo_systems(release, root / "systems")


def test_text_scores_are_the_reference_implementations() -> None:
    """BLEU/chrF are sacrebleu's (sentence: effective order; corpus: not), WER is jiwer's on the normalised
    texts; metrics.json quotes the sacrebleu signatures and the normalisation."""
    import jiwer
    import sacrebleu
    from sacrebleu.metrics import BLEU

    from anim400k.evaluate.content import corpus_text_scores, text_signatures
    from anim400k.textnorm import normalize_english

    hyps = ["I don't know, it's 5 o'clock.", "good morning to you"]
    refs = ["I do not know it is five o'clock", "good evening to you all"]
    s = text_scores(hyps[0], refs[0])
    assert s["bleu"] == pytest.approx(sacrebleu.sentence_bleu(hyps[0], [refs[0]]).score, abs=0.005)
    assert s["chrf"] == pytest.approx(sacrebleu.sentence_chrf(hyps[0], [refs[0]]).score, abs=0.005)
    assert s["wer"] == 0.0 and jiwer.wer(refs[0], hyps[0]) > 0.5  # normalised: contractions, numbers, punctuation
    c = corpus_text_scores(hyps, refs)
    assert c["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score, abs=0.005)
    assert c["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score, abs=0.005)
    normalised = jiwer.wer([normalize_english(r) for r in refs], [normalize_english(h) for h in hyps])
    assert c["wer"] == pytest.approx(normalised, abs=5e-5)
    sig = text_signatures()
    assert "eff:yes" in sig["bleu"] and "tok:13a" in sig["bleu"] and "eff:no" in sig["bleu_corpus"]
    bleu = BLEU()
    bleu.corpus_score(hyps, [refs])
    assert sig["bleu_corpus"] == str(bleu.get_signature()) and "nw:0" in sig["chrf"]
    assert "normalize_english" in sig["wer"]


def test_evaluate_ranks_the_closer_dub(demo: tuple[Path, dict[str, Path]]) -> None:
    import torch

    torch.set_num_threads(1)
    release, systems = demo
    close = evaluate_dubs(systems["close"], release, vad="silero")
    tts = evaluate_dubs(systems["tts"], release, vad="silero")
    assert len(close.clips) == 2 and len(tts.clips) == 2
    sc, st = close.summary, tts.summary
    # the close dub is the gold EN 80 ms late: EN speech starts 50 ms after the JP source
    assert 0.0 < sc["onset_error"]["mean"] < 0.25
    assert st["onset_error"]["mean"] > sc["onset_error"]["mean"]  # the TTS dub starts later
    assert sc["overlap"]["mean"] > st["overlap"]["mean"]
    assert abs(sc["loudness_diff"]["mean"]) < 1.0
    assert sc["speaker_similarity"]["mean"] > 0.95 > st["speaker_similarity"]["mean"]


def test_evaluate_cli_writes_outputs(demo: tuple[Path, dict[str, Path]], tmp_path: Path, monkeypatch) -> None:
    release, systems = demo
    out = tmp_path / "m"
    err = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", err)
    rc = main(
        [
            "evaluate",
            str(systems["tts"]),
            "--reference",
            str(release),
            "--out",
            str(out),
            "--vad",
            "energy",
            "--no-speaker",
        ]
    )
    assert rc == 0
    data = json.loads((out / "metrics.json").read_text())
    assert len(data["clips"]) == 2 and data["summary"]["onset_error"]["n"] == 2
    assert data["clips"][0]["speaker_similarity"] is None
    assert err.getvalue().rstrip().split("\r")[-1].startswith("evaluate: 2clip [")  # the clip counter
    assert (out / "metrics.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "metrics.csv").read_text().startswith("clip,duration,onset_error")
    assert main(["evaluate", str(tmp_path / "nothing"), "--reference", str(release), "--out", str(out)]) == 2


def test_intelligibility_wer_against_the_dub_script(demo: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    """With the dub's script (dub_dataset_report.json), evaluate scores what tiny.en hears against it."""
    import shutil

    from anim400k.dub.dataset_mode import REPORT_NAME

    release, systems = demo
    dubs = tmp_path / "dubs"
    shutil.copytree(systems["tts"], dubs)
    ann = json.loads((release / "anim400k_annotations.json").read_text())
    clips = [c for ep in ann["demo_show"]["episodes"].values() for c in ep["clips"]]
    said = {c["en_clip"]: c["en_text"] for c in clips}
    report = {"clips": [{"en_clip": k, "text": v} for k, v in said.items()]}
    (dubs / REPORT_NAME).write_text(json.dumps(report))
    good = evaluate_dubs(dubs, release, asr="auto", vad="energy", speaker=False)
    assert all(c.script_text == said[c.clip] for c in good.clips)
    assert good.corpus["intelligibility_wer"] < 0.5  # fast espeak-ng speech
    assert good.summary["intelligibility_wer"]["n"] == 2
    assert "tok:13a" in good.signatures["bleu"] and "normalize_english" in good.signatures["wer"]
    # the wrong script: the metric says so
    report = {"clips": [{"en_clip": k, "text": "completely unrelated words spoken elsewhere"} for k in said]}
    (dubs / REPORT_NAME).write_text(json.dumps(report))
    bad = evaluate_dubs(dubs, release, asr="auto", vad="energy", speaker=False)
    assert bad.corpus["intelligibility_wer"] > 0.8


def _dub_copy(src: Path, dst: Path, make) -> list[str]:
    """Write ``make(gold-like samples at 48 kHz, clip)`` as DIR/F/UUID.wav for every dub in ``src``."""
    from anim400k.evaluate.stimuli import load_mono, save_wav

    ids = []
    for p in sorted(src.glob("*/*.mp3")):
        clip = f"{p.parent.name}/{p.stem}"
        save_wav(dst / p.parent.name / f"{p.stem}.wav", make(load_mono(p, 48000), clip), 48000)
        ids.append(clip)
    return ids


def test_partial_dubs_are_listed_as_missing(
    demo: tuple[Path, dict[str, Path]], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Dubs for 1 of 2 clips: the undubbed clip is in ``missing`` and the title says so (was "1 clips", [])."""
    import shutil

    release, systems = demo
    dubs = tmp_path / "partial"
    shutil.copytree(systems["tts"], dubs)
    gone = sorted(dubs.glob("*/*.mp3"))[0]
    gone.unlink()
    out = tmp_path / "m"
    argv = ["evaluate", str(dubs), "--reference", str(release), "--out", str(out), "--asr", "none"]
    assert main([*argv, "--vad", "energy", "--no-speaker", "--no-progress"]) == 0
    data = json.loads((out / "metrics.json").read_text())
    assert data["missing"] == [f"{gone.parent.name}/{gone.stem}"] and (data["n_clips"], data["n_dubbed"]) == (2, 1)
    printed = " ".join(capsys.readouterr().out.split())
    assert "1 of 2 clips dubbed (1 missing)" in printed
    # one clip has no spread (its std was 0.0), and figures not measured are null, not missing keys
    assert data["summary"]["onset_error"]["n"] == 1 and data["summary"]["onset_error"]["std"] is None
    assert "onset_error │ 1 │" in printed and "│ – │" in printed
    assert data["corpus"] == {"bleu": None, "chrf": None, "wer": None, "intelligibility_wer": None}
    assert "corpus:" not in printed


def test_loudness_diff_hears_content_above_8_khz(demo: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    """Hiss above 9 kHz makes a 48 kHz dub louder: measured at 48 kHz, not on the 16 kHz analysis copy (was 0.0)."""
    import pyloudnorm as pyln
    from scipy.signal import butter, sosfilt

    from anim400k.evaluate.dataset import load_clips
    from anim400k.evaluate.stimuli import load_mono

    release, _ = demo
    gold = {c.en_clip: c.en_audio for c in load_clips(release, "all")}
    sos = butter(8, 9000, btype="high", fs=48000, output="sos")
    expected = {}

    def hiss(_: np.ndarray, clip: str) -> np.ndarray:
        x = load_mono(gold[clip], 48000)
        noise = sosfilt(sos, np.random.default_rng(0).standard_normal(x.size))
        noise *= 0.5 * np.sqrt(np.mean(x.astype(float) ** 2) / np.mean(noise**2))
        y = (x + noise).astype(np.float32)
        meter = pyln.Meter(48000)
        expected[clip] = meter.integrated_loudness(y.astype(float)) - meter.integrated_loudness(x.astype(float))
        return y

    _dub_copy(next(iter(demo[1].values())), tmp_path / "hiss", hiss)
    report = evaluate_dubs(tmp_path / "hiss", release, vad="energy", speaker=False)
    for c in report.clips:
        assert expected[c.clip] > 0.5
        assert c.loudness_diff == pytest.approx(expected[c.clip], abs=0.1)


def test_silent_dub_is_flagged_without_warnings(
    demo: tuple[Path, dict[str, Path]], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A silent dub: no RuntimeWarning from resemblyzer, flagged per clip and counted in the summary."""
    import warnings

    release, systems = demo
    ids = _dub_copy(systems["tts"], tmp_path / "silent", lambda x, _: np.zeros_like(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # numpy maths on silence (import-time DeprecationWarnings aside)
        report = evaluate_dubs(tmp_path / "silent", release, vad="energy", speaker=True)
    assert sorted(report.silent) == sorted(ids) and all(c.silent for c in report.clips)
    assert all(math.isnan(c.speaker_similarity) and math.isnan(c.loudness_diff) for c in report.clips)
    out = tmp_path / "m"
    argv = ["evaluate", str(tmp_path / "silent"), "--reference", str(release), "--out", str(out), "--asr", "none"]
    assert main([*argv, "--vad", "energy", "--no-progress"]) == 0
    text = capsys.readouterr()
    assert "silent: 2 clips" in text.out and "Warning" not in text.err
    data = json.loads((out / "metrics.json").read_text())
    assert all(c["silent"] for c in data["clips"])
    assert (out / "metrics.csv").read_text().splitlines()[0].endswith(",silent")


@pytest.mark.parametrize("limit", ["0", "-3"])
def test_limit_below_one_is_refused_before_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture, limit: str
) -> None:
    """``--limit 0`` measured every dub and a negative limit was taken: refused in one line, nothing read or written."""
    out = tmp_path / "m"
    argv = ["evaluate", str(tmp_path / "no-dubs"), "--reference", str(tmp_path / "no-release"), "--out", str(out)]
    assert main([*argv, "--limit", limit, "--asr", "none", "--no-speaker", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"anim400k: error: --limit must be an integer >= 1, not {limit}" and not out.exists()
    with pytest.raises(InputError, match="limit must be an integer >= 1"):
        evaluate_dubs(tmp_path, tmp_path, limit=0)


def test_dub_of_dc_offset_or_infrasound_is_silent() -> None:
    """Silence + DC (or 5 Hz): nothing reaches BS.1770's -70 LUFS gate once K-weighted; the un-K-weighted
    fallback read it as -51 LUFS, so the dub was not flagged silent and got a loudness difference."""
    from anim400k.evaluate.metrics import clip_metrics, is_silent
    from anim400k.signal import resample

    gold16 = _bursts([(0.5, 2.0)])
    gold48 = resample(gold16, SR, 48000)
    t = np.arange(gold48.size) / 48000
    for offset in (np.full(gold48.size, 0.003), 0.003 * np.sin(2 * np.pi * 5 * t)):
        dub48 = offset.astype(np.float32)
        dub16 = resample(dub48, 48000, SR)
        assert is_silent(dub48, 48000) and is_silent(dub16, SR)
        m = clip_metrics("c", dub16, gold16, gold16, SR, "energy", loudness_audio=(dub48, gold48, 48000))
        assert m.silent and math.isnan(m.loudness_diff)
    assert not is_silent(gold48, 48000)


def test_silent_dub_has_no_timing_with_the_energy_vad() -> None:
    """A DC-offset dub is silent (flagged) and so holds no speech: the energy VAD, relative to the clip's own
    peak, found 'speech' all through it and gave it perfect timing (overlap 1.0, onset error 0)."""
    from anim400k.evaluate.metrics import clip_metrics

    source = _bursts([(0.5, 2.0)])
    dub = np.full(source.size, 0.003, np.float32)
    m = clip_metrics("c", dub, source, source, SR, "energy")
    assert m.silent
    assert math.isnan(m.onset_error) and math.isnan(m.end_error)
    assert m.overlap == 0.0 and m.voiced_ratio == 0.0


@pytest.mark.parametrize("freq", [100.0, 1000.0, 4000.0])
def test_loudness_difference_measures_short_and_long_clips_alike(freq: float) -> None:
    """The same tone as a 0.35 s gold clip (under one 400 ms gating block) and a 0.45 s dub: 0 LU apart. The
    short clip was measured without K-weighting and the long one with it: +3.9 LU at 4 kHz, -1.2 LU at 100 Hz."""
    import pyloudnorm

    from anim400k.evaluate.metrics import clip_metrics, loudness_difference

    sr = 48000

    def tone(seconds: float) -> np.ndarray:
        return (0.1 * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)).astype(np.float32)

    gold, dub = tone(0.35), tone(0.45)
    assert loudness_difference(dub, gold, sr) == pytest.approx(0.0, abs=0.05)
    m = clip_metrics("c", dub, dub, gold, sr, "energy", loudness_audio=(dub, gold, sr))
    assert m.loudness_diff == pytest.approx(0.0, abs=0.05)
    # both long enough to gate: BS.1770's gated loudness, as pyloudnorm measures it
    long_gold, louder = tone(1.0), 2 * tone(1.2)
    meter = pyloudnorm.Meter(sr)
    expected = meter.integrated_loudness(louder.astype(np.float64)) - meter.integrated_loudness(
        long_gold.astype(np.float64))
    assert loudness_difference(louder, long_gold, sr) == pytest.approx(expected, abs=0.01)
    assert expected == pytest.approx(6.02, abs=0.05)


def test_downmix_cannot_cancel_opposite_channels() -> None:
    from anim400k.evaluate.stimuli import downmix

    x = _bursts([(0.5, 2.0)])
    np.testing.assert_array_equal(downmix(np.stack([x, -x]), ["FL", "FR"]), x)  # anti-phase: the loudest channel
    np.testing.assert_array_equal(downmix(np.stack([0.8 * x, -x]), ["FL", "FR"]), -x)  # -16 dB: cancelled
    np.testing.assert_allclose(downmix(np.stack([0.5 * x, -x]), ["FL", "FR"]), -0.25 * x)  # -7 dB: kept
    np.testing.assert_allclose(downmix(np.stack([x, x]), ["FL", "FR"]), x)  # the mean downmix otherwise
    np.testing.assert_allclose(downmix(np.stack([x, 0 * x]), ["FL", "FR"]), x / 2)  # one channel alone: not cancelled
    surround = np.zeros((6, x.size), np.float32)
    surround[2] = x  # speech in the 5.1 centre only
    weights = [1, 1, 1.4142, 0, 0.7071, 0.7071]  # BS.775's stereo downmix summed: the centre's dialogue kept
    np.testing.assert_allclose(downmix(surround, ["FL", "FR", "FC", "LFE", "SL", "SR"]), x * 1.4142 / sum(weights),
                               rtol=1e-5)
    music = _bursts([(0.0, 3.0)])
    dialogue_51 = np.zeros((6, x.size), np.float32)
    dialogue_51[2], dialogue_51[0], dialogue_51[1] = x, music, music  # dialogue centre, music front left/right
    stereo = np.stack([music + 0.7071 * x, music + 0.7071 * x])  # its BS.775 stereo downmix (Lo = L + 0.707 C)
    mono_51 = downmix(dialogue_51, ["FL", "FR", "FC", "LFE", "SL", "SR"])
    mono_2 = downmix(stereo, ["FL", "FR"])
    # the same dialogue-to-music balance as the stereo downmix (the centre at 0.707 had the dialogue 6 dB low)
    ratio_51 = float(np.dot(mono_51, x) / np.dot(mono_51, music))
    ratio_2 = float(np.dot(mono_2, x) / np.dot(mono_2, music))
    assert ratio_51 == pytest.approx(ratio_2, rel=0.02)
    assert downmix(x[None], ["FC"]) is not None and downmix(np.zeros((2, 0), np.float32), ["FL", "FR"]).size == 0


def test_stereo_dub_loudness_is_measured_on_its_channels(demo: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    """Dual-mono is 3.01 LU above its mono gold (BS.1770 sums channels; the mono downmix read 0), and an
    anti-phase copy (L = x, R = -x) is the same (the downmix cancelled: reported silent, nothing measured)."""
    import pyloudnorm as pyln

    from anim400k.evaluate.dataset import load_clips
    from anim400k.evaluate.stimuli import load_mono
    from anim400k.media import write_audio

    release, _ = demo
    clips = load_clips(release, "all")
    meter = pyln.Meter(48000)
    expected, mono = {}, {}
    for clip, sign in zip(clips, (1.0, -1.0), strict=True):
        g = load_mono(clip.en_audio, 48000)
        y = np.stack([g, sign * g])
        write_audio(tmp_path / "stereo" / f"{clip.en_clip}.wav", y, 48000)
        y = np.stack([load_mono(tmp_path / "stereo" / f"{clip.en_clip}.wav", 48000)] * 2)  # as written (16 bit)
        expected[clip.en_clip] = meter.integrated_loudness(y.T.astype(float)) - meter.integrated_loudness(
            g.astype(float))
        write_audio(tmp_path / "mono" / f"{clip.en_clip}.wav", g, 48000)
    mono = {c.clip: c for c in evaluate_dubs(tmp_path / "mono", release, vad="energy", speaker=False).clips}
    report = evaluate_dubs(tmp_path / "stereo", release, vad="energy", speaker=False)
    assert not report.silent and len(report.clips) == 2
    for c in report.clips:
        assert expected[c.clip] == pytest.approx(3.01, abs=0.05)
        assert c.loudness_diff == pytest.approx(expected[c.clip], abs=0.02)
        assert (c.onset_error, c.end_error, c.overlap) == (mono[c.clip].onset_error, mono[c.clip].end_error,
                                                           mono[c.clip].overlap)


def test_corpus_wer_counts_the_dub_words_of_clips_with_an_empty_reference(
    demo: tuple[Path, dict[str, Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A gold clip heard as "Hmm..." was left out of the corpus WER, so the dub's words there never counted
    (0.0 where jiwer says 2.0); the clips with an empty reference are now listed and the words count."""
    import jiwer

    import anim400k.asr as asr
    from anim400k.model import Segment, Transcript
    from anim400k.textnorm import normalize_english

    release, systems = demo
    heard = iter(["hello world", "hello world", "la la la la", "Hmm..."])  # per clip: the dub, then the gold

    class Fake:
        def transcribe(self, audio: np.ndarray, sr: int, language: str) -> Transcript:
            return Transcript(language, [Segment(0.0, audio.size / sr, next(heard))], source="fake")

    monkeypatch.setattr(asr, "get_transcriber", lambda name, **opts: Fake())
    out = tmp_path / "m"
    rc = main(["evaluate", str(systems["tts"]), "--reference", str(release), "--out", str(out), "--asr", "fake",
               "--vad", "energy", "--no-speaker", "--no-progress"])
    assert rc == 0
    data = json.loads((out / "metrics.json").read_text())
    expected = jiwer.wer([normalize_english(c["gold_text"]) for c in data["clips"]],
                         [normalize_english(c["dub_text"]) for c in data["clips"]])
    assert data["corpus"]["wer"] == pytest.approx(expected) == pytest.approx(2.0)
    empty = [c["clip"] for c in data["clips"] if c["gold_text"] == "Hmm..."]
    assert len(empty) == 1 and data["empty_reference"] == empty
    assert [c["wer"] for c in data["clips"] if c["clip"] in empty] == [None]  # NaN per clip
    assert data["summary"]["wer"]["n"] == 1
    assert "empty reference: 1 of 2 clips" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(("command", "flag"), [
    (["evaluate", "DUBS", "--reference", "REL", "--asr", "none", "--no-speaker", "--no-progress"], "--out"),
    (["mushra", "analyze", "DUBS"], "--out"),
    (["stats", "REL"], "--figures"),
])
def test_an_output_folder_that_is_a_file_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, command: list[str], flag: str
) -> None:
    """``evaluate --out F`` with F a file measured every clip, then failed with ``F: File exists``."""
    import anim400k.evaluate.metrics as metrics
    import anim400k.evaluate.mushra_analysis as mushra_analysis
    import anim400k.stats as stats
    from anim400k.testing.release import make_release

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("the work ran before the output was checked")

    monkeypatch.setattr(metrics, "evaluate_dubs", no_work)
    monkeypatch.setattr(mushra_analysis, "analyze", no_work)
    monkeypatch.setattr(stats, "compute_stats", no_work)
    rel = make_release(tmp_path / "rel")
    (tmp_path / "dubs").mkdir()
    taken = tmp_path / "taken.txt"
    taken.write_text("the user's file")
    argv = [{"DUBS": str(tmp_path / "dubs"), "REL": str(rel)}.get(a, a) for a in command]
    assert main([*argv, flag, str(taken)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"anim400k: error: {taken}: {flag} is a file: give a folder to write into"]
    assert taken.read_text() == "the user's file"


def test_dubs_given_as_a_file_is_named_as_a_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A file given as the dubs folder was 'no such dubs folder', though it is there."""
    dub = tmp_path / "one_dub.mp3"
    dub.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00")
    argv = ["evaluate", str(dub), "--reference", str(tmp_path / "rel"), "--out", str(tmp_path / "m"),
            "--asr", "none", "--no-speaker", "--no-progress"]
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"anim400k: error: {dub}: is a file, not a folder of dubs (DIR/F/UUID.mp3 keyed by the EN clip ID)"]
    assert not (tmp_path / "m").exists()


def test_evaluate_never_replaces_a_metrics_file_it_did_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``evaluate --out U`` replaced U's own ``metrics.csv`` (another tool's) with its table."""
    import anim400k.evaluate.metrics as metrics
    from anim400k.evaluate.metrics import MetricsReport
    from anim400k.testing.release import make_release

    runs: list[str] = []

    def measured(dubs: Path, reference: Path, *args: object, **kwargs: object) -> MetricsReport:
        runs.append(str(dubs))
        return MetricsReport(dubs=str(dubs), reference=str(reference), vad="energy", asr=None, clips=[])

    monkeypatch.setattr(metrics, "evaluate_dubs", measured)
    rel = make_release(tmp_path / "rel")
    (tmp_path / "dubs").mkdir()
    out = tmp_path / "U"
    out.mkdir()
    theirs = out / "metrics.csv"
    theirs.write_text("my,own,metrics\n")
    (out / "notes.txt").write_text("kept")
    argv = ["evaluate", str(tmp_path / "dubs"), "--reference", str(rel), "--asr", "none", "--no-speaker",
            "--no-progress", "--out", str(out)]
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"anim400k: error: {theirs}: --out holds metrics.csv, which no anim400k evaluate wrote (no metrics.json "
        "of an earlier evaluation beside it): the evaluation would replace it; give --out a new folder, or an "
        "earlier evaluation's"]
    assert theirs.read_text() == "my,own,metrics\n" and runs == []
    assert sorted(p.name for p in out.iterdir()) == ["metrics.csv", "notes.txt"]

    theirs.unlink()  # a folder with none of the names, then the same folder again (an earlier evaluation's)
    for _ in range(2):
        assert main(argv) == 0
        assert sorted(p.name for p in out.iterdir()) == ["metrics.csv", "metrics.json", "metrics.png", "notes.txt"]
    assert (out / "notes.txt").read_text() == "kept" and len(runs) == 2


def test_outputs_parse_strictly_and_loudness_is_pyloudnorms(demo: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    """metrics.csv: a header of ClipMetrics' fields, read by pandas, NaN written empty; metrics.json: standard JSON
    (no NaN/Infinity tokens); loudness_diff is pyloudnorm's integrated loudness of dub minus gold EN at 48 kHz."""
    import dataclasses

    import pandas as pd
    import pyloudnorm as pyln

    from anim400k.evaluate.dataset import load_clips, system_audio
    from anim400k.evaluate.metrics import LOUDNESS_SR, ClipMetrics
    from anim400k.evaluate.stimuli import load_channels

    release, systems = demo
    out = tmp_path / "m"
    assert main(["evaluate", str(systems["tts"]), "--reference", str(release), "--out", str(out), "--vad", "energy",
                 "--no-speaker", "--asr", "none"]) == 0

    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON token {token}")

    data = json.loads((out / "metrics.json").read_text(), parse_constant=refuse)
    df = pd.read_csv(out / "metrics.csv")
    assert list(df.columns) == [f.name for f in dataclasses.fields(ClipMetrics)]
    assert len(df) == len(data["clips"]) and df["speaker_similarity"].isna().all()
    assert all(c["speaker_similarity"] is None for c in data["clips"])
    meter = pyln.Meter(LOUDNESS_SR)
    for clip in load_clips(release, "all"):
        dub = system_audio(systems["tts"], clip.en_clip)
        row = df[df["clip"] == clip.en_clip].iloc[0]
        lufs = [meter.integrated_loudness(load_channels(p, LOUDNESS_SR).samples.T.astype(np.float64))
                for p in (dub, clip.en_audio)]
        assert row["loudness_diff"] == pytest.approx(lufs[0] - lufs[1], abs=0.006)


def test_evaluate_locks_its_folder_and_removes_a_killed_runs_temporaries(demo: tuple[Path, dict[str, Path]],
                                                                         tmp_path: Path, capsys) -> None:
    """``evaluate`` took no lock (two runs into one --out renamed their sets into place in turn, mixed) and left the
    temporaries of a killed run (one per metrics file) in --out for good."""
    from anim400k.fsutil.locks import output_lock

    release, systems = demo
    out = tmp_path / "m"
    out.mkdir()
    stale = out / ".metrics.anim400k-ab12cd34.part.json"  # what a SIGKILL while metrics.json was written leaves
    users = out / ".notes.abcdefgh.part"  # a user's file named like an unmarked temporary: not ours
    stale.write_text("half", encoding="utf-8")
    users.write_text("mine", encoding="utf-8")
    argv = ["evaluate", str(systems["tts"]), "--reference", str(release), "--out", str(out), "--vad", "energy",
            "--no-speaker", "--asr", "none"]
    with output_lock(out, "evaluate", noun="folder"):  # another evaluate is writing this folder
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "another evaluate" in err and "is writing this folder" in err and len(err.strip().splitlines()) == 1
        assert not (out / "metrics.json").exists() and stale.exists()
    assert main(argv) == 0
    assert not stale.exists() and users.read_text() == "mine"
    assert {"metrics.json", "metrics.csv", "metrics.png"} <= {p.name for p in out.iterdir()}


def test_dub_scripts_come_from_each_dubs_own_entry_when_the_report_lists_fewer(tmp_path: Path) -> None:
    """A later ``dub --dataset`` run with a smaller ``--limit`` rewrote the report with its clips only while the
    earlier dubs stayed: ``evaluate`` lost their scripts (``intelligibility_wer`` of 2 clips of 37, no word said).
    Each dub's own entry beside its MP3 (of the same MP3) gives its script now; a stale entry does not."""
    import json

    from anim400k.dub.dataset_mode import REPORT_NAME, _save_entry
    from anim400k.evaluate.metrics import dub_scripts

    def dub(clip: str, text: str) -> Path:
        mp3 = tmp_path / clip[:2] / f"{clip}.mp3"
        mp3.parent.mkdir(exist_ok=True)
        mp3.write_bytes(b"ID3" + text.encode())
        _save_entry(mp3, {"jp_clip": "jp" + clip, "en_clip": f"{clip[:2]}/{clip}", "text": text, "problems": []})
        return mp3

    dub("aa-1", "Hello there.")
    dub("bb-2", "Not again.")
    stale = dub("cc-3", "Old words.")
    stale.write_bytes(b"ID3 another dub")  # its entry is of another MP3 now
    (tmp_path / REPORT_NAME).write_text(json.dumps({"clips": [{"en_clip": "aa/aa-1", "text": "Hello there."}]}))
    assert dub_scripts(tmp_path) == {"aa/aa-1": "Hello there.", "bb/bb-2": "Not again."}
