"""Tests of the synthetic episode generator (anim400k.synth)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import av
import numpy as np
import pysubs2
import pytest

from anim400k.errors import InputError
from anim400k.synth import load_truth, make_episode
from anim400k.synth.video import read_number

DUR = 20.0


def _decode(path: Path, language: str) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as c:
        st = next(s for s in c.streams.audio if s.metadata.get("language") == language)
        parts = [f.to_ndarray().astype(np.float32).reshape(-1) for f in c.decode(st)]
        sr = st.rate
    x = np.concatenate(parts)
    return (x / 32768.0 if np.abs(x).max() > 2 else x), sr


@pytest.fixture(scope="session")
def episodes(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("synth")
    return {
        "a": make_episode(root / "a", DUR, seed=3),
        "a2": make_episode(root / "a2", DUR, seed=3),
        "b": make_episode(root / "b", DUR, seed=4, video=False, voices="espeak"),
        "shift": make_episode(
            root / "shift", DUR, seed=5, offset=2.5, drift=0.03, separate_files=True, voices="espeak"
        ),
        "neg": make_episode(root / "neg", DUR, seed=6, offset=-3.0, drift=-0.04, video=False, voices="espeak"),
    }


def test_media_streams(episodes: dict) -> None:
    ep = episodes["a"]
    with av.open(str(ep.media)) as c:
        assert len(c.streams.video) == 1 and c.streams.video[0].codec_context.name == "h264"
        langs = sorted(s.metadata.get("language") for s in c.streams.audio)
        assert langs == ["eng", "jpn"]
        assert all(s.rate == 48000 for s in c.streams.audio)
        assert c.duration / 1e6 == pytest.approx(DUR, abs=0.1)
    jp, sr = _decode(ep.media, "jpn")
    assert sr == 48000 and len(jp) / sr == pytest.approx(DUR, abs=0.05)


def test_frame_counter_readable(episodes: dict) -> None:
    with av.open(str(episodes["a"].media)) as c:
        frames = []
        for f in c.decode(video=0):
            frames.append((round(f.time * 25), read_number(f.to_ndarray(format="rgb24"))))
            if len(frames) >= 60:
                break
    assert all(k == n for k, n in frames), frames[:5]


def test_truth_content(episodes: dict) -> None:
    tr = episodes["a"].load_truth()
    assert tr.sample_rate == 48000 and tr.duration == DUR and tr.seed == 3
    # neural by default: Kokoro's Japanese voices, the neural English pool, one voice per speaker
    assert tr.voices["spk0"] == {"jp": "kokoro:jm_kumo", "en": "kokoro:jm_kumo"}
    assert tr.voices["spk1"] == {"jp": "kokoro:jf_alpha", "en": "hibari:heart"}
    assert len({v["jp"] for v in tr.voices.values()}) == len({v["en"] for v in tr.voices.values()}) == 3
    assert 0.4 <= tr.speech_fraction() <= 0.6
    assert len(tr.speakers) >= 3 and len({ln.speaker for ln in tr.lines}) >= 3
    lines = sorted(tr.lines, key=lambda ln: ln.jp_start)
    pairs = list(zip(lines, lines[1:], strict=False))
    assert any(b.jp_start < a.jp_end and a.speaker != b.speaker for a, b in pairs), "no overlapping speakers"
    assert any(0 <= b.jp_start - a.jp_end < 0.125 for a, b in pairs), "no pair closer than 125 ms"
    assert sum(b.jp_start - a.jp_end > 0.3 for a, b in pairs) > len(pairs) / 2
    jp_d = np.array([ln.jp_end - ln.jp_start for ln in tr.lines])
    en_d = np.array([ln.en_end - ln.en_start for ln in tr.lines])
    assert np.mean(np.abs(jp_d - en_d) / jp_d) > 0.1
    for ln in tr.lines:
        assert abs(ln.en_start - ln.jp_start) <= 0.3 + 1e-6  # offset 0, drift 0
        assert ln.jp_text and ln.en_text and ln.subtitle


def test_stems_are_consistent(episodes: dict) -> None:
    tr = episodes["a"].load_truth()
    back, jp, mix = tr.load_stem("backing"), tr.load_stem("jp_speech"), tr.load_stem("jp_mix")
    assert len(back) == len(jp) == len(mix) == int(DUR * 48000)
    np.testing.assert_allclose(back + jp, mix, atol=1e-6)
    dec, _ = _decode(episodes["a"].media, "jpn")
    np.testing.assert_allclose(dec[: len(mix)], mix, atol=2e-4)  # 16-bit FLAC in the MKV
    # speech at about -20..-16 LUFS, the backing 10-15 dB quieter
    import pyloudnorm

    meter = pyloudnorm.Meter(48000)
    speech_lufs = meter.integrated_loudness(jp.astype(np.float64))
    back_lufs = meter.integrated_loudness(back.astype(np.float64))
    assert -22 < speech_lufs < -15
    assert 9 < speech_lufs - back_lufs < 16
    # speech is where the truth says, silent elsewhere
    sr = tr.sample_rate
    mask = np.zeros(len(jp), bool)
    for ln in tr.lines:
        mask[int(ln.jp_start * sr) : int(ln.jp_end * sr)] = True
    assert np.max(np.abs(jp[~mask])) == 0.0
    assert np.mean(np.abs(jp[mask]) > 1e-4) > 0.5


def _locate(needle: np.ndarray, hay: np.ndarray) -> int:
    """Sample index in ``hay`` where ``needle`` matches best (normalised cross-correlation)."""
    from scipy.signal import fftconvolve

    c = fftconvolve(hay, needle[::-1], mode="valid")
    csum = np.concatenate([[0.0], np.cumsum(hay.astype(np.float64) ** 2)])
    energy = np.sqrt(np.maximum(csum[len(needle) :] - csum[: -len(needle)], 1e-12))
    return int(np.argmax(c / energy))


@pytest.mark.parametrize("key", ["shift", "neg"])
def test_offset_and_drift_applied(episodes: dict, key: str) -> None:
    ep = episodes[key]
    tr = ep.load_truth()
    sr = tr.sample_rate
    assert tr.en_duration == pytest.approx(tr.offset + tr.duration * (1 + tr.drift), abs=1e-3)
    back = tr.load_stem("backing")
    en_media = ep.en_media or ep.media
    en, _ = _decode(en_media, "eng")
    assert len(en) / sr == pytest.approx(tr.en_duration, abs=0.05)
    for t_jp in (7.0, 13.0):
        piece = back[int(t_jp * sr) : int((t_jp + 3.0) * sr)]
        # the EN medium plays the content (1 + drift) times slower: stretch the piece alike
        m = int(len(piece) * (1 + tr.drift))
        piece = np.interp(np.arange(m) / (1 + tr.drift), np.arange(len(piece)), piece)
        found = _locate(piece, en) / sr
        assert found == pytest.approx(tr.time_map.jp_to_en(t_jp), abs=0.02)
    for ln in tr.lines:
        assert ln.en_start == pytest.approx(tr.time_map.jp_to_en(ln.jp_start), abs=0.3 * 1.05)
        assert 0 <= ln.en_start < ln.en_end <= tr.en_duration


def test_separate_files(episodes: dict) -> None:
    ep = episodes["shift"]
    with av.open(str(ep.jp_media)) as c:
        assert len(c.streams.video) == 1 and [s.metadata.get("language") for s in c.streams.audio] == ["jpn"]
    with av.open(str(ep.en_media)) as c:
        assert len(c.streams.video) == 0 and [s.metadata.get("language") for s in c.streams.audio] == ["eng"]


def test_srt_matches_truth(episodes: dict) -> None:
    ep = episodes["a"]
    tr = load_truth(ep.truth)
    subs = pysubs2.load(str(ep.subtitles))
    assert len(subs) == len(tr.subtitles) == len(tr.lines)
    for ev, s in zip(subs, tr.subtitles, strict=True):
        assert ev.start == round(s.start * 1000) and ev.end == round(s.end * 1000)
        assert ev.plaintext == s.text
    for s, ln in zip(tr.subtitles, sorted(tr.lines, key=lambda x: x.jp_start), strict=True):
        assert s.start <= ln.jp_start and s.end >= ln.jp_end and s.text == ln.subtitle


def _md5(p: Path) -> str:
    return hashlib.md5(p.read_bytes()).hexdigest()


def test_deterministic(episodes: dict) -> None:
    a, a2, b = episodes["a"], episodes["a2"], episodes["b"]
    assert a.truth.read_bytes() == a2.truth.read_bytes()
    assert _md5(a.media) == _md5(a2.media)
    for lang in ("jpn", "eng"):
        np.testing.assert_array_equal(_decode(a.media, lang)[0], _decode(a2.media, lang)[0])
    ta, tb = json.loads(a.truth.read_text()), json.loads(b.truth.read_text())
    assert ta["lines"] != tb["lines"]
    assert not np.array_equal(
        load_truth(a.truth).load_stem("backing"), load_truth(b.truth).load_stem("backing")
    )


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        make_episode(tmp_path, 1.0)
    with pytest.raises(ValueError, match=r"\[2, 1800\]"):  # a 24-minute episode (1440 s) is allowed
        make_episode(tmp_path, 1800.5)
    with pytest.raises(ValueError):
        make_episode(tmp_path, 10.0, offset=-12.0)
    with pytest.raises(ValueError, match="voices"):
        make_episode(tmp_path, 10.0, voices="flite")
    (tmp_path / "truth.json").write_text("{not json")
    with pytest.raises(InputError):
        load_truth(tmp_path / "truth.json")


SHOW_FIELDS = (
    "show season link type status genres themes score scored_by rank popularity members favorites "
    "episode_num "
    "aired premiered broadcast producers licensors studios source avg_duration rating related_anime "
    "opening_themes ending_themes staff background synopsis characters episodes"
).split()


def test_show_metadata(tmp_path: Path) -> None:
    from PIL import Image

    from anim400k.synth import make_show_metadata

    m = make_show_metadata("show_x", 4, seed=1, pic_dir=tmp_path)
    assert set(SHOW_FIELDS) <= set(m) and m["episode_num"] == 4
    assert sorted(m["episodes"], key=int) == ["1", "2", "3", "4"]
    for ep in m["episodes"].values():
        assert set(ep["ratings"]) == {"1", "2", "3", "4", "5"}
        assert sum(r["ratio"] for r in ep["ratings"].values()) == pytest.approx(100, abs=0.5)
        assert ep["url"] and ep["synopsis"]
    roles = {c["role"] for c in m["characters"].values()}
    assert roles <= {"main", "supporting"} and "main" in roles  # FORMAT.md: role (main/supporting)
    for c in m["characters"].values():
        assert c["pic_urls"] == [] and c["Voice Actors"] and c["pic_files"]
        for f in c["pic_files"]:
            with Image.open(f) as im:
                assert im.format == "PNG" and im.size[0] > 0
    json.dumps(m)  # plain JSON types only
    again = make_show_metadata("show_x", 4, seed=1)
    for c in m["characters"].values():
        c.pop("pic_files")
    assert again == m
    assert make_show_metadata("show_x", 4, seed=2) != m
    assert make_show_metadata("show_y", 4, seed=1) != m


def test_show_metadata_pictures_relative(tmp_path: Path) -> None:
    """With ``relative_to`` the picture paths are relative to the metadata's folder, so a moved
    input folder still finds its pictures (the demo's and make_show's inputs)."""
    from anim400k.synth import make_show_metadata

    m = make_show_metadata("show_x", 2, seed=1, pic_dir=tmp_path / "pics", relative_to=tmp_path)
    files = [f for c in m["characters"].values() for f in c["pic_files"]]
    assert files and all(not Path(f).is_absolute() and f.startswith("pics") for f in files)
    moved = tmp_path.rename(tmp_path.with_name(tmp_path.name + "_moved"))
    assert all((moved / f).is_file() for f in files)


def test_embedded_subtitle_stream(episodes: dict) -> None:
    ep = episodes["a"]
    tr = ep.load_truth()
    with av.open(str(ep.media)) as c:
        (st,) = c.streams.subtitles
        assert st.metadata.get("language") == "eng"
        events = [
            (round(float(p.pts * p.time_base), 3), bytes(p).decode())
            for p in c.demux(st)
            if p.dts is not None
        ]
    assert events == [(s.start, s.text) for s in tr.subtitles]


def test_too_short_for_lines_still_valid(tmp_path: Path) -> None:
    ep = make_episode(tmp_path, 2.0, seed=0, video=False, voices="espeak")
    tr = ep.load_truth()
    assert tr.lines == [] and tr.subtitles == []
    assert len(tr.load_stem("jp_mix")) == 2 * 48000


def test_make_show(tmp_path: Path) -> None:
    from anim400k.synth import make_show

    show = make_show(tmp_path, "demo", n_episodes=2, duration=6.0, seed=2, video=False, voices="espeak")
    assert json.loads(show.metadata_path.read_text()) == show.metadata
    assert sorted(show.episodes) == ["1", "2"] and show.metadata["episode_num"] == 2
    seeds = {load_truth(ep.truth).seed for ep in show.episodes.values()}
    assert seeds == {2001, 2002}
    pics = [f for c in show.metadata["characters"].values() for f in c["pic_files"]]
    # listed relative to the metadata file (metadata.json in tmp_path), so the folder can be moved
    assert pics and all(not Path(f).is_absolute() and (tmp_path / f).is_file()
                        and (tmp_path / f).parent == tmp_path / "pics" for f in pics)
