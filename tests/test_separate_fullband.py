"""The backing at the clips' 44.1 kHz: the 16 kHz estimate below 7 kHz, a full-rate estimate above it."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import soxr
from scipy.signal import butter, sosfiltfilt

from anim400k.model import MapPiece, TimeMap
from anim400k.separate import get_separator, sdr
from anim400k.separate.dualtrack import align_reference, align_reference_piece, covered_spans
from anim400k.separate.fullband import full_band_possible, fullband_backing, upsample
from anim400k.separate.hpss import HpssSeparator

LOW, SR = 16000, 44100


def _high(x: np.ndarray) -> np.ndarray:
    return sosfiltfilt(butter(8, 8300, "highpass", fs=SR, output="sos"), x)


def _low(x: np.ndarray) -> np.ndarray:
    return sosfiltfilt(butter(8, 6500, "lowpass", fs=SR, output="sos"), x)


@pytest.fixture(scope="module")
def episode(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A 24 s synthetic episode with drift, its stems at 44.1 kHz and 16 kHz and the 16 kHz dual-track backing."""
    from anim400k.synth import make_episode

    offset, drift = -1.5, 0.041
    ep = make_episode(tmp_path_factory.mktemp("fullband"), duration=24.0, seed=22, offset=offset, drift=drift,
                      video=False, voices="espeak")
    d = ep.truth.parent
    out: dict = {"tm": TimeMap(offset, drift, 1.0)}
    for name in ("jp_mix", "en_mix", "backing"):
        x, sr = sf.read(d / f"{name}.wav", dtype="float32")
        out[name] = soxr.resample(x, sr, SR)
        out[f"{name}16"] = soxr.resample(x, sr, LOW)
    out["low"] = get_separator("dualtrack").separate(out["jp_mix16"], LOW, reference=out["en_mix16"],
                                                     time_map=out["tm"]).backing
    out["up"] = soxr.resample(out["low"], LOW, SR)[: out["jp_mix"].size]
    return out


def test_dual_track_high_band_beats_the_upsampled_16k_backing(episode) -> None:  # type: ignore[no-untyped-def]
    e = episode
    full = fullband_backing(e["jp_mix"], SR, e["low"], LOW, en=e["en_mix"], time_map=e["tm"])
    assert full.dtype == np.float32 and full.shape == e["jp_mix"].shape
    ref = e["backing"]
    high_full, high_up = sdr(_high(ref), _high(full)), sdr(_high(ref), _high(e["up"]))
    print(f"above 8.3 kHz: full band {high_full:.2f} dB, upsampled {high_up:.2f} dB")
    assert high_up < 0.5  # the 16 kHz estimate has nothing there
    assert high_full >= high_up + 5.0
    assert sdr(ref, full) > sdr(ref, e["up"])  # over the whole band too
    # below the crossover it is the 16 kHz estimate (what the mixing ratios were measured on)
    assert sdr(_low(e["up"]), _low(full)) > 40.0


def test_single_track_backings_stay_band_limited(episode) -> None:  # type: ignore[no-untyped-def]
    """A fallback's (or demucs') backing is the 16 kHz estimate upsampled: REPET-SIM at 44.1 kHz is no
    better than silence above 8 kHz (here below it) and would bring the dialogue's sibilants."""
    e = episode
    low = HpssSeparator().backing(e["jp_mix16"], LOW)
    up = soxr.resample(low, LOW, SR)[: e["jp_mix"].size]
    full = fullband_backing(e["jp_mix"], SR, low, LOW)
    assert full.shape == e["jp_mix"].shape
    assert sdr(up, full) > 60.0
    repet_44k = HpssSeparator().backing(e["jp_mix"], SR)
    assert sdr(_high(e["backing"]), _high(repet_44k)) < 0.5
    assert full_band_possible("dualtrack", False)
    assert not full_band_possible("hpss/repet-sim", True)  # a dual-track separation that fell back
    assert not full_band_possible("hpss/repet-sim", False) and not full_band_possible("demucs", False)
    with pytest.raises(ValueError, match="needs both"):
        fullband_backing(e["jp_mix"], SR, e["low"], LOW, en=e["en_mix"])


def test_single_track_regions_stay_band_limited(episode) -> None:  # type: ignore[no-untyped-def]
    e = episode
    kw = {"en": e["en_mix"], "time_map": e["tm"]}
    plain = fullband_backing(e["jp_mix"], SR, e["low"], LOW, **kw)
    with_region = fullband_backing(e["jp_mix"], SR, e["low"], LOW, regions=[(8.0, 16.0)], **kw)
    inside, outside = slice(9 * SR, 15 * SR), slice(0, 7 * SR)
    assert sdr(e["up"][inside], with_region[inside]) > 60.0
    assert sdr(plain[inside], with_region[inside]) < 30.0
    np.testing.assert_array_equal(with_region[outside], plain[outside])


def test_blocks_side_by_side_and_only_where_needed(episode, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from anim400k.separate import fullband
    from anim400k.threads import THREADS_ENV

    e = episode
    kw = {"en": e["en_mix"], "time_map": e["tm"]}
    whole = fullband_backing(e["jp_mix"], SR, e["low"], LOW, **kw)  # one 30 s block
    monkeypatch.setattr(fullband, "BLOCK_SECONDS", 5.0)
    results = {}
    for threads in ("1", "3"):
        monkeypatch.setenv(THREADS_ENV, threads)
        results[threads] = fullband_backing(e["jp_mix"], SR, e["low"], LOW, **kw)
    np.testing.assert_array_equal(results["1"], results["3"])
    some = fullband_backing(e["jp_mix"], SR, e["low"], LOW, needed=[(6.0, 7.0)], **kw)
    hop = fullband.frame_length(SR) // 4
    near = slice(6 * SR - hop, 7 * SR + hop)  # the span and a hop either side: only that is computed
    assert not some[: near.start].any() and not some[near.stop :].any() and some[near].any()
    # ... from the frames around it, on its block's frame grid: its block's estimate, within a 16-bit step
    diff = some[near] - results["1"][near]
    print(f"the span's frames against its whole block: {sdr(results['1'][near], some[near]):.1f} dB")
    assert np.abs(diff).max() < 1 / 32768 and sdr(results["1"][near], some[near]) > 70.0
    # 5 s blocks give what one block gives, up to the local means at the blocks' edges
    print(f"5 s blocks against one: {sdr(whole, results['1']):.1f} dB")
    assert sdr(whole, results["1"]) > 30.0


def test_block_pieces_cover_the_spans_on_the_blocks_frame_grid() -> None:
    from anim400k.separate.fullband import CONTEXT_FRAMES, block_pieces

    n_fft, hop, n = 2048, 512, 100 * SR
    s, e = 30 * SR, 60 * SR
    context = CONTEXT_FRAMES * hop
    # a span filling the block: the block itself, computed on its own range
    assert block_pieces(s, e, n, [(0, n)], n_fft, hop) == [(s, e, s - n_fft, e + n_fft)]
    spans = [(29 * SR, 31 * SR), (40 * SR, 41 * SR), (41 * SR + context, 42 * SR), (50 * SR, 50 * SR + 7),
             (61 * SR, 62 * SR)]  # the first reaches into the block before, the last is in the next
    pieces = block_pieces(s, e, n, spans, n_fft, hop)
    assert [(x, y) for x, y, _a, _b in pieces] == [(s, 31 * SR + hop), (40 * SR - hop, 42 * SR + hop),
                                                   (50 * SR - hop, 50 * SR + 7 + hop)]  # close spans merged
    for x, y, a, b in pieces:
        assert s - n_fft <= a <= x - min(context, x - s + n_fft) and y + min(context, e + n_fft - y) <= b
        assert b <= e + n_fft and (a - (s - n_fft)) % hop == 0  # the block's frames
    assert block_pieces(s, e, n, [(70 * SR, 71 * SR)], n_fft, hop) == []


@pytest.mark.parametrize("kind", ["drift", "piecewise"])
def test_the_clips_frames_are_their_blocks_estimate_with_any_map(kind: str, monkeypatch) -> None:
    """Only the frames near the clips are computed, each block's from its own EN reference: with drift (EN
    resampled) or a piecewise map with a fractional shift, a reference resampled or shifted from each piece's
    own start was another interpolation of EN, and the clips' samples moved ~1e-3 off their blocks' estimate
    (clips crossing a block boundary, at the episode's ends, near and inside a single-track region)."""
    from anim400k.separate import fullband

    monkeypatch.setattr(fullband, "BLOCK_SECONDS", 5.0)
    rng = np.random.default_rng(5)
    n = 14 * SR
    b = sosfiltfilt(butter(6, 15000, fs=SR, output="sos"), rng.standard_normal(n + 2 * SR)).astype(np.float32)
    talk = np.repeat(rng.random(140) > 0.5, SR // 10)[:n]
    jp = b[:n] + 0.5 * rng.standard_normal(n).astype(np.float32) * talk
    en = b[SR : SR + n] + 0.5 * rng.standard_normal(n).astype(np.float32)
    low = soxr.resample(b[:n], SR, LOW).astype(np.float32)
    tm = {"drift": TimeMap(1.0, 0.013, 1.0),
          "piecewise": TimeMap(1.0, 0.0, 1.0, (MapPiece(-np.inf, 6.2, 1.0), MapPiece(7.5, np.inf, -0.3 + 0.37 / SR)))}
    kw = {"en": en, "time_map": tm[kind], "regions": [(6.2, 7.5)]}
    clips = [(0.0, 0.4), (4.8, 5.3), (6.0, 6.5), (9.9, 10.05), (11.0, 11.01), (13.7, 14.0)]
    whole = fullband_backing(jp, SR, low, LOW, **kw)
    some = fullband_backing(jp, SR, low, LOW, needed=clips, **kw)
    for a, e in clips:
        i0, i1 = int(round(a * SR)), int(round(e * SR))
        assert np.abs(some[i0:i1] - whole[i0:i1]).max() < 1e-5, (a, e)


def test_pieces_equal_the_whole_resample() -> None:
    rng = np.random.default_rng(0)
    low = sosfiltfilt(butter(6, 7000, fs=LOW, output="sos"), rng.standard_normal(10 * LOW)).astype(np.float32)
    whole = soxr.resample(low, LOW, SR)
    for a, b in ((0, 2 * SR), (3 * SR + 17, 7 * SR + 5), (9 * SR, 10 * SR)):
        np.testing.assert_allclose(upsample(low, LOW, SR, a, b), whole[a:b], atol=2e-4)
    # the EN piece without drift is align_reference's, exactly
    ref = rng.standard_normal(12 * SR).astype(np.float32)
    tm = TimeMap(1.37, 0.0, 1.0)
    aligned, frac, _, _ = align_reference(ref, SR, tm, 10 * SR)
    piece, piece_frac = align_reference_piece(ref, SR, tm, 2 * SR, 5 * SR)
    assert piece_frac == frac
    np.testing.assert_array_equal(piece, aligned[2 * SR : 5 * SR])


def test_a_piecewise_map_windows_like_the_whole_alignment() -> None:
    """An edited EN medium (a piecewise map): each window is the whole-episode alignment's samples,
    zeros in the JP span cut from EN, with no fractional remainder left for the STFT."""
    rng = np.random.default_rng(1)  # band-limited (a fractional shift of full-band noise is ill-posed at its edges)
    ref = sosfiltfilt(butter(8, 12000, fs=SR, output="sos"), rng.standard_normal(20 * SR)).astype(np.float32)
    ref /= ref.std()
    for drift in (0.0, 0.01):
        tm = TimeMap(0.5, drift, 1.0, (MapPiece(-np.inf, 8.0, 0.5), MapPiece(11.0, np.inf, -2.5 + 0.37 / SR)))
        aligned, _, _, _ = align_reference(ref, SR, tm, 18 * SR)
        for a, b in ((2 * SR, 6 * SR), (7 * SR, 12 * SR), (13 * SR + 5, 17 * SR)):
            piece, frac = align_reference_piece(ref, SR, tm, a, b)
            assert frac == 0.0
            np.testing.assert_allclose(piece[400:-400], aligned[a + 400 : b - 400], atol=5e-3)
        cut, _ = align_reference_piece(ref, SR, tm, int(8.2 * SR), int(10.8 * SR))
        assert not cut.any()


def test_covered_spans_reach_the_last_resampled_reference_sample() -> None:
    """With drift the reference is resampled to ``ref_size / (1 + drift)`` samples, a half rounded up
    (soxr); :func:`covered_spans` counted them with ``round()``, which rounds a half to even, so for
    1105 samples at +4 % (1062.5: 1063 samples) the coverage ended a sample early and a piecewise
    alignment left the reference's last sample out (zero)."""
    sr = 100
    ref = np.ones(1105, dtype=np.float32)
    linear = TimeMap(0.0, 0.04, 1.0)
    z = soxr.resample(ref, sr, sr / 1.04)
    assert z.size == 1063
    _, _, lo, hi = align_reference(ref, sr, linear, 1200)
    assert (lo, hi) == (0, z.size) and covered_spans(ref.size, sr, linear, 1200) == [(0, z.size)]
    # the same line as the second piece of a piecewise map: its reference ends where the linear one does
    tm = TimeMap(0.0, 0.04, 1.0, (MapPiece(-np.inf, 2.0, 1.0), MapPiece(5.0, np.inf, 0.0)))
    spans = covered_spans(ref.size, sr, tm, 1200)
    assert spans[1] == (500, z.size)
    aligned, _, _, hi = align_reference(ref, sr, tm, 1200)
    assert hi == z.size and aligned[z.size - 1] == z[-1] != 0.0


def test_a_drifting_piece_is_the_reference_at_the_mapped_times() -> None:
    """With drift, ``piece[k - a]`` is the reference at EN time ``offset + (k - frac) / sr * (1 + drift)``."""
    tm = TimeMap(-0.8, 0.041, 1.0)
    t = np.arange(30 * SR) / SR

    def tone(t: np.ndarray) -> np.ndarray:
        return np.sin(2 * np.pi * 440.0 * t) + 0.5 * np.sin(2 * np.pi * 2930.0 * t + 1.0)

    ref = tone(t).astype(np.float32)
    for a, b in ((2 * SR, 4 * SR), (20 * SR + 333, 21 * SR)):
        piece, frac = align_reference_piece(ref, SR, tm, a, b)
        k = np.arange(a, b)
        expected = tone(tm.offset + (k - frac) / SR * (1.0 + tm.drift))
        assert 0.0 <= frac < 1.0
        np.testing.assert_allclose(piece[1000:-1000], expected[1000:-1000], atol=2e-3)
    # before the reference starts the piece is silent
    piece, _ = align_reference_piece(ref, SR, tm, 0, SR)
    assert not piece[: int(0.7 * SR)].any() and piece[SR // 2 + int(0.3 * SR) :].any()


def test_the_cut_stage_backing_follows_the_separation(episode, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``release_backing``: full band after a dual-track separation (its regions single-track), the 16 kHz
    backing upsampled after a fallback or when ``separate.json`` predates the time map."""
    import json

    from anim400k.dataset.backing import release_backing
    from anim400k.dataset.context import EpisodeContext
    from anim400k.dataset.options import BuildOptions
    from anim400k.model import EpisodeRef

    e = episode
    ctx = EpisodeContext(EpisodeRef("s", "1", "jp.mkv", "jp.mkv"), str(tmp_path / "w"), str(tmp_path / "r"),
                         BuildOptions(progress=False))
    sf.write(ctx.artifact("backing.flac"), e["low"], LOW, subtype="PCM_16")
    low, _ = sf.read(ctx.artifact("backing.flac"), dtype="float32")
    tm = {"offset": e["tm"].offset, "drift": e["tm"].drift, "confidence": 1.0}
    regions = [{"start": 8.0, "end": 16.0, "why": "the mixes do not share the backing"}]
    clips = [(1.0, 3.0), (9.0, 12.5)]

    def backing(**sep: object) -> np.ndarray:
        ctx.artifact("separate.json").write_text(json.dumps(sep))
        return release_backing(ctx, e["jp_mix"], e["en_mix"], SR, clips)

    dual = backing(method="dualtrack", fallback=False, time_map=tm, single_track_regions=regions)
    expected = fullband_backing(e["jp_mix"], SR, low, LOW, en=e["en_mix"], time_map=e["tm"],
                                regions=[(8.0, 16.0)], needed=clips)
    np.testing.assert_array_equal(dual, expected)
    band_limited = fullband_backing(e["jp_mix"], SR, low, LOW, needed=clips)
    inner = np.concatenate([np.arange(int((a + 0.1) * SR), int((b - 0.1) * SR)) for a, b in clips])  # off the edges
    assert np.abs(_high(dual)[inner]).max() > 10 * np.abs(_high(band_limited)[inner]).max()
    for sep in ({"method": "hpss/repet-sim", "fallback": True, "time_map": tm},  # the EN track was unusable
                {"method": "hpss/repet-sim", "fallback": False, "time_map": None},  # --separator hpss
                {"method": "dualtrack", "fallback": False}):  # a separate.json from before the time map
        np.testing.assert_array_equal(backing(**sep), band_limited)


def test_the_single_precision_stft_equals_the_double_one() -> None:
    from anim400k.separate.stft import stft

    x = np.random.default_rng(1).standard_normal(3 * SR).astype(np.float32)
    double, single = stft(x, 2048, 512), stft(x, 2048, 512, single=True)
    assert single.dtype == double.dtype == np.complex64 and single.shape == double.shape
    np.testing.assert_allclose(single, double, atol=1e-5 * np.abs(double).max())
