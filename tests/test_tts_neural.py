"""The neural TTS pool (hibari heart + Kokoro-82M through our own ONNX wrapper) and its disk cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anim400k.dub.voice import pitch_stats
from anim400k.tts import VoiceProfile, get_synthesizer, neural
from anim400k.tts.neural import NeuralSynthesizer, NeuralVoice, parse_voice, speak

TEXT = "Wait for me, we are going to be late!"


@pytest.fixture()
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ANIM400K_CACHE", str(tmp_path))
    monkeypatch.delenv("ANIM400K_TTS_CACHE", raising=False)
    return tmp_path / "tts"


def test_parse_voice() -> None:
    assert parse_voice("kokoro:jf_alpha") == NeuralVoice("kokoro", ("jf_alpha",))
    assert parse_voice("kokoro:jm_kumo+jf_alpha").names == ("jm_kumo", "jf_alpha")
    assert parse_voice("hibari:heart@0.62").f0_scale == pytest.approx(0.62)
    assert parse_voice("hibari:heart@0.62").name == "hibari:heart@0.62"
    for bad in ("hibari:emma", "kokoro:af_bella", "heart", "hibari:heart@5"):
        with pytest.raises(ValueError):
            parse_voice(bad)


def test_pools_are_distinct_and_cover_both_registers() -> None:
    for pool in (neural.JAPANESE_POOL, neural.ENGLISH_POOL, neural.ENGLISH_LOW + neural.ENGLISH_HIGH):
        assert len({v.name for v in pool}) == len(pool)
    assert len(neural.ENGLISH_LOW) >= 2 and len(neural.ENGLISH_HIGH) >= 2
    assert len(neural.ENGLISH_LOW) + len(neural.ENGLISH_HIGH) >= 4


def test_english_voices_speak_in_their_register() -> None:
    """Kokoro's male voice speaks English low, heart high, and heart's F0 scale moves its pitch."""
    f0 = {}
    for spec in ("kokoro:jm_kumo", "hibari:heart", "hibari:heart@0.62"):
        audio = speak(TEXT, spec)
        assert 1.0 < len(audio) / neural.SAMPLE_RATE < 5.0
        assert np.max(np.abs(audio)) > 0.05 and np.all(np.isfinite(audio))
        stats = pitch_stats(audio, neural.SAMPLE_RATE)
        assert stats is not None
        f0[spec] = stats[0]
    assert f0["kokoro:jm_kumo"] < neural.HIGH_VOICE_F0 <= f0["hibari:heart"]
    assert f0["hibari:heart@0.62"] / f0["hibari:heart"] == pytest.approx(0.62, rel=0.1)


def test_kokoro_speaks_japanese_and_speed_shortens() -> None:
    slow = speak("ありがとう、ほんとうにたすかった", "kokoro:jf_alpha", 1.0, language="ja")
    fast = speak("ありがとう、ほんとうにたすかった", "kokoro:jf_alpha", 1.5, language="ja")
    assert 0.8 < len(slow) / neural.SAMPLE_RATE < 4.0
    assert len(fast) < 0.85 * len(slow)


def test_lines_are_cached_on_disk(private_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = neural._render

    def counting(*args: object) -> np.ndarray:
        calls.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(neural, "_render", counting)
    first = speak(TEXT, "hibari:heart@0.8", 1.1)
    again = speak(TEXT, "hibari:heart@0.8", 1.1)
    assert len(calls) == 1
    np.testing.assert_array_equal(first, again)
    files = list(private_cache.rglob("*"))
    assert [f.suffix for f in files if f.is_file()] == [".npy"]  # one entry, no temporary left
    speak(TEXT, "hibari:heart@0.8", 1.2)  # another speed is another line
    speak(TEXT + " Now.", "hibari:heart@0.8", 1.1)
    assert len(calls) == 3
    monkeypatch.setenv("ANIM400K_TTS_CACHE", "0")
    speak(TEXT, "hibari:heart@0.8", 1.1)
    assert len(calls) == 4


def test_synthesizer_gives_each_speaker_one_voice_by_register() -> None:
    tts = get_synthesizer("neural")
    assert isinstance(tts, NeuralSynthesizer)
    low = VoiceProfile("A", 0, f0_median=110.0)
    high = VoiceProfile("B", 1, f0_median=240.0)
    high2 = VoiceProfile("C", 2, f0_median=300.0)
    low2 = VoiceProfile("D", 3, f0_median=120.0)
    names = [tts.voice_name(p) for p in (low, high, high2, low2)]
    assert names[0] == "kokoro:jm_kumo"
    assert names[1].startswith("hibari:heart@") and parse_voice(names[1]).f0_scale > 1.0  # shaped to 240 Hz
    assert names[2] == "kokoro:jf_alpha"  # the high voice least like heart
    assert names[3] == "kokoro:jm_kumo+jf_alpha"  # heart is taken: the next low voice
    assert len(set(names)) == 4
    assert tts.voice_name(VoiceProfile("A", 0, f0_median=300.0)) == names[0]  # kept for the episode
    audio = tts.synthesize("Hello there, friend.", high, 16000)
    assert audio.dtype == np.float32 and 0.5 < len(audio) / 16000 < 3.0


def test_synthesizer_refuses_unspeakable_text() -> None:
    from anim400k.tts import UnspeakableText

    with pytest.raises(UnspeakableText):
        NeuralSynthesizer().synthesize("!!! ...", None, 16000)


def test_tame_peaks_limits_the_crest_factor() -> None:
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(24000)).astype(np.float32)
    x[5000] = 0.95  # one spike, ~20 dB over the speech
    y = neural.tame_peaks(x, 24000)
    rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
    assert 20 * np.log10(np.max(np.abs(y)) / rms) <= neural.MAX_CREST_DB + 0.5
    np.testing.assert_allclose(y[10000:20000], x[10000:20000])  # away from the spike: untouched


def test_dub_speaks_each_neural_line_once_at_the_estimated_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dub asks the neural backend for an estimate and runs Kokoro once per line, at the fitted speed."""
    from anim400k.dub.pipeline import DubOptions
    from anim400k.dub.speak import SPEECH_SR, synthesize

    tts = NeuralSynthesizer()
    speeds: list[float] = []
    real = tts.synthesize

    def counting(text: str, voice: VoiceProfile | None, sr: int, speed: float = 1.0) -> np.ndarray:
        speeds.append(speed)
        return real(text, voice, sr, speed)

    monkeypatch.setattr(tts, "synthesize", counting)
    low = VoiceProfile("A", 0, f0_median=110.0)  # jm_kumo
    text = "Thanks, you really saved me back there."
    natural = tts.estimate_seconds(text, low)
    assert natural is not None and 1.2 < natural < 4.0
    slot = natural / 1.3
    audio, speed = synthesize(tts, text, low, slot, DubOptions())
    assert speeds == [speed] and speed == pytest.approx(1.3, abs=0.01)
    assert len(audio) / SPEECH_SR == pytest.approx(slot, rel=0.25)


def test_a_new_recording_chooses_voices_again_but_keeps_pinned_ones() -> None:
    """Dataset mode: clip 2's S0 is not clip 1's S0 (a low voice was pitch-shifted far up)."""
    tts = NeuralSynthesizer(voices={"P": "kokoro:jf_nezumi"})
    assert tts.voice_name(VoiceProfile("S0", 0, f0_median=110.0)) == "kokoro:jm_kumo"
    tts.new_recording()
    assert parse_voice(tts.voice_name(VoiceProfile("S0", 0, f0_median=300.0))).engine == "hibari"  # high now
    assert tts.voice_name(VoiceProfile("P", 1, f0_median=110.0)) == "kokoro:jf_nezumi"



def test_sixteen_speakers_get_sixteen_distinct_voices_each_in_its_register_first() -> None:
    """More speakers than single voices: derived blends, never a voice already given (it was the 8th that
    silently shared one); a low speaker past the low pool gets a jm_kumo blend, not a woman's voice."""
    tts = NeuralSynthesizer()
    # 5 low speakers (jm_kumo, its blends; heart goes to the first high one) among 11 high ones
    profiles = [VoiceProfile(f"S{i}", i, f0_median=110.0 if i in (0, 2, 4, 6, 8) else 260.0) for i in range(16)]
    voices = [parse_voice(tts.voice_name(p)) for p in profiles]
    identities = [neural.voice_identity(v) for v in voices]
    assert len(set(identities)) == 16
    low = [v for v, p in zip(voices, profiles, strict=True) if p.f0_median == 110.0]
    # every low speaker's voice is jm_kumo's, a blend with it, or heart lowered: none is female-only
    assert all("jm_kumo" in v.names or v.engine == "hibari" for v in low), [v.name for v in low]
    high = [v for v, p in zip(voices, profiles, strict=True) if p.f0_median == 260.0]
    assert all("jm_kumo" not in v.names for v in high), [v.name for v in high]
    # the 17th shares: its register's least-used voice, and the dub report will name it
    extra = parse_voice(tts.voice_name(VoiceProfile("S16", 16, f0_median=110.0)))
    assert neural.voice_identity(extra) in identities and "jm_kumo" in extra.names


def test_blend_order_does_not_make_another_voice() -> None:
    a, b = parse_voice("kokoro:jm_kumo+jf_alpha"), parse_voice("kokoro:jf_alpha+jm_kumo")
    assert neural.voice_identity(a) == neural.voice_identity(b)
    assert neural.voice_identity(parse_voice("hibari:heart@0.62")) == neural.voice_identity(parse_voice("hibari:heart"))
    pools = (*neural.ENGLISH_LOW, *neural.ENGLISH_HIGH, *neural.LOW_BLENDS, *neural.HIGH_BLENDS)
    assert len({neural.voice_identity(v) for v in pools}) == len(pools) - 1  # heart twice (plain and lowered)
