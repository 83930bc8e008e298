"""Profile: where a Whisper window's CPU goes in the embedded ASR (``whisper-tiny-en`` or ``whisper-base``).

    python benchmarks/profile_asr_windows.py EPISODE_DIR [EPISODE_DIR ...] [--language en|ja] [--seconds N]
        [--set KEY=VALUE ...]

Each episode's track (``episode.mkv``, stream ``eng`` or ``jpn``) goes through the default transcriber's own path
(one CTranslate2 worker on one thread, the model loaded and warmed up first) with the CTranslate2 model and
faster-whisper's feature extractor behind timing wrappers. Printed: CPU seconds (process time; one thread) of
silero VAD, mel features, encoder passes (the first of each window, and those of a window's tail decoded again),
the first decoding pass (batched or not), the tail passes' decoding, temperature fallbacks (sampling at T > 0),
word alignment (``align``), and the rest (Python around them: prompts, word times, mapping back); with the
number of calls. ``--set`` overrides a transcriber option (``decode_batch=1``, ``pause_s=0.6``).
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

SR = 16000


class Timed:
    """Accumulated CPU seconds and calls per label."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def add(self, label: str, seconds: float, calls: int = 1) -> None:
        self.cpu[label] += seconds
        self.calls[label] += calls


class TimedModel:
    """The CTranslate2 Whisper model with its ``encode``, ``generate`` and ``align`` timed into ``timed``."""

    def __init__(self, real: Any, timed: Timed) -> None:
        self._real = real
        self._timed = timed
        self.encodes = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def encode(self, features: Any, *args: Any, **kwargs: Any) -> Any:
        c0 = time.process_time()
        out = self._real.encode(features, *args, **kwargs)
        self._timed.add("encoder", time.process_time() - c0)
        return out

    def generate(self, encoder_output: Any, prompts: Any, **kwargs: Any) -> Any:
        c0 = time.process_time()
        out = self._real.generate(encoder_output, prompts, **kwargs)
        n = len(prompts)
        if kwargs.get("sampling_temperature", 0) > 0:
            label = "fallback decode (T > 0)"
        elif n > 1:
            label = "first pass decode (batched)"
        else:
            label = "beam decode (one window)"
        self._timed.add(label, time.process_time() - c0, n)
        return out

    def align(self, *args: Any, **kwargs: Any) -> Any:
        c0 = time.process_time()
        out = self._real.align(*args, **kwargs)
        self._timed.add("word alignment (align)", time.process_time() - c0, len(args[2]) if len(args) > 2 else 1)
        return out


class TimedFeatures:
    """faster-whisper's feature extractor with its calls timed."""

    def __init__(self, real: Any, timed: Timed) -> None:
        self._real = real
        self._timed = timed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        c0 = time.process_time()
        out = self._real(*args, **kwargs)
        self._timed.add("mel features", time.process_time() - c0)
        return out


def parse_value(text: str) -> Any:
    """``KEY=VALUE``'s value as an int, float, None or the string."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return None if text == "None" else text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("episodes", nargs="+", type=Path)
    ap.add_argument("--language", default="en", choices=("en", "ja"))
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()

    from anim400k import media
    from anim400k.asr import get_transcriber
    from anim400k.asr.vad import VadOptions, speech_regions

    backend = "whisper-tiny-en" if args.language == "en" else "whisper-base"
    options = {k: parse_value(v) for k, v in (s.split("=", 1) for s in args.set)}
    asr = get_transcriber(backend, num_workers=1, cpu_threads=1, **options)
    model = asr.load()
    timed = Timed()
    real_model, real_features = model.model, model.feature_extractor
    stream = "eng" if args.language == "en" else "jpn"
    tracks = []
    for ep in args.episodes:
        x = media.decode_audio(ep / "episode.mkv", stream=stream, sr=SR)
        tracks.append(x[: int((args.seconds or x.size / SR) * SR)])
    asr.transcribe(tracks[0][: 20 * SR], SR, args.language)  # warm-up
    model.model, model.feature_extractor = TimedModel(real_model, timed), TimedFeatures(real_features, timed)
    opts = VadOptions(threshold=asr.vad_threshold, min_silence_ms=asr.min_silence_ms, max_speech_s=asr.max_region_s)
    import anim400k.asr.vad as vad_module

    def timed_regions(x: Any, sr: int, o: Any = None) -> Any:
        c0 = time.process_time()
        out = speech_regions(x, sr, o or opts)
        timed.add("silero VAD", time.process_time() - c0)
        return out

    vad_module.speech_regions = timed_regions
    total = 0.0
    words = 0
    try:
        for x in tracks:
            c0 = time.process_time()
            t = asr.transcribe(x, SR, args.language)
            total += time.process_time() - c0
            words += sum(len(s.words) for s in t.segments)
    finally:
        model.model, model.feature_extractor = real_model, real_features
    print(f"{backend} {options or ''}: {len(tracks)} track(s), {sum(x.size for x in tracks) / SR:.0f} s, "
          f"{words} words, {total:.2f} CPU-s in all (load {os.getloadavg()[0]:.1f})")
    print("| part | CPU-s | share | calls |\n|---|---|---|---|")
    parts = dict(timed.cpu)
    rest = total - sum(parts.values())
    for label, cpu in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"| {label} | {cpu:.2f} | {cpu / total:.0%} | {timed.calls[label]} |")
    print(f"| the rest (Python: prompts, segments, word times) | {rest:.2f} | {rest / total:.0%} | |")


if __name__ == "__main__":
    main()
