"""TTS backends: espeak-ng synthesis, text checks, registry (XTTS: tests/test_tts_xtts.py)."""

from __future__ import annotations

import numpy as np
import pytest

from anim400k.errors import AnimError
from anim400k.tts import UnspeakableText, VoiceProfile, get_synthesizer
from anim400k.tts.base import clean_text


@pytest.fixture(scope="module")
def espeak():
    return get_synthesizer("espeak")


def test_espeak_speaks_at_requested_rate(espeak):
    y = espeak.synthesize("Hello there, how are you today?", VoiceProfile("a", 0), 24000)
    assert y.dtype == np.float32 and y.ndim == 1
    assert np.all(np.isfinite(y))
    assert 0.8 < len(y) / 24000 < 4.0
    assert np.sqrt(np.mean(y**2)) > 0.01


def test_espeak_speed_shortens_speech(espeak):
    text = "We are going to be late for school again."
    slow = espeak.synthesize(text, None, 16000, speed=0.8)
    fast = espeak.synthesize(text, None, 16000, speed=1.5)
    assert len(fast) < 0.75 * len(slow)


def test_espeak_voices_differ_by_speaker_and_stay_stable(espeak):
    v0, v1 = VoiceProfile("a", 0, f0_median=120.0), VoiceProfile("b", 1, f0_median=120.0)
    assert espeak.voice_for(v0) != espeak.voice_for(v1)
    assert espeak.voice_for(v0) == espeak.voice_for(VoiceProfile("a", 0, f0_median=121.0))
    high = espeak.voice_for(VoiceProfile("c", 0, f0_median=250.0))
    assert high[0].split("+")[1].startswith("f")
    # any mix of low, high and unknown pitch: five speakers get five voices
    for pitches in ([100.0, None, 100.0, None, 100.0], [None] * 5, [250.0, 100.0, None, 250.0, None]):
        names = {espeak.voice_name(VoiceProfile(f"s{i}", i, f0_median=f0)) for i, f0 in enumerate(pitches)}
        assert len(names) == 5, pitches


@pytest.mark.parametrize("text", ["", "   ", "😀🎉", "…!?", "x " * 300])
def test_unspeakable_text_is_refused(espeak, text):
    with pytest.raises(UnspeakableText):
        espeak.synthesize(text, None, 16000)


def test_clean_text_strips_markup():
    assert clean_text("{\\an8}<i>Hi</i>   there", 100) == "Hi there"


def test_unknown_backend():
    with pytest.raises(AnimError, match="unknown TTS backend"):
        get_synthesizer("nope")


def test_every_espeak_voice_has_a_trackable_pitch_in_its_pool(espeak):
    """Pitch matching needs the synthesized pitch: each pooled voice is voiced, low < high, all distinct."""
    from anim400k.dub.voice import pitch_stats
    from anim400k.tts.espeak import HIGH_VOICES, LOW_VOICES

    text = "Where are you going? This is the place."
    medians, sounds = {}, set()
    for pool in (LOW_VOICES, HIGH_VOICES):
        for index in range(len(pool)):
            profile = VoiceProfile("s", index, f0_median=100.0 if pool is LOW_VOICES else 220.0)
            assert espeak.voice_for(profile) == pool[index]
            y = espeak.synthesize(text, profile, 16000)
            sounds.add(y.tobytes())
            stats = pitch_stats(y, 16000)
            assert stats is not None, pool[index]
            medians[pool[index]] = stats[0]
    assert len(sounds) == len(LOW_VOICES) + len(HIGH_VOICES)  # no two entries sound the same
    assert max(medians[v] for v in LOW_VOICES) < min(medians[v] for v in HIGH_VOICES), medians
