"""Device benchmark: production backends (random weights of the real shape) and a full build, on CUDA or CPU.

Rows (each prints its real-time factor RTF = processing seconds / audio seconds; lower is faster):

* ``faster-whisper large-v3 arch``: a randomly initialised Whisper with large-v3's shape
  (d_model 1280, 32+32 layers, 20 heads, 128 mel bins, 51866 tokens; float16 on CUDA),
  built offline by ``anim400k.testing.random_whisper``, through the project's faster-whisper
  backend (batched 8, beam 5, ``max_new_tokens`` bounded: random weights never stop);
* ``demucs htdemucs arch``: a random ``HTDemucs`` with the pretrained htdemucs
  hyper-parameters (4 sources, 44.1 kHz, 48 channels, depth 4, 5 transformer layers,
  bottom channels 512), through the project's demucs backend;
* ``embedded diarizer``: the default diarizer (silero-vad + Resemblyzer) on ``--device``;
* ``anim400k build``: the full build of a synthetic episode with video, ``--device``, the two
  random models above as ASR and separator (their text and stems are meaningless; the
  timings are real).

``--quick`` (what ``DEVICE=cpu run.sh`` uses): tiny models and seconds of audio, to check that
the script works on a machine without a GPU. Baselines: the audio's own duration (RTF 1 =
real time); no figure here is compared with a GPU elsewhere. Usage::

    python benchmarks/device/bench_device.py --device cuda [--seconds 600] [--build-seconds 60]

The 10 minutes of audio are a 60 s synthetic episode repeated (making 10 minutes takes
minutes of CPU); the build row makes its own episode.
    python benchmarks/device/bench_device.py --device cpu --quick
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SR = 16000


def device_name(device: str) -> str:
    """The GPU's name (``nvidia-smi`` or torch), or the CPU count."""
    if device == "cuda":
        try:
            import torch

            return torch.cuda.get_device_name(0)
        except Exception as exc:  # noqa: BLE001
            return f"cuda ({exc})"
    return f"CPU x{os.cpu_count()}"


def episode_audio(work: Path, seconds: float, made: float = 60.0) -> tuple[np.ndarray, np.ndarray]:
    """JP and EN mixes (16 kHz mono), ``seconds`` long: a synthetic episode of at most ``made``
    seconds (synthesis is slow), repeated to length."""
    import soundfile as sf
    import soxr

    from anim400k.synth import make_episode

    ep = make_episode(work / "audio_ep", duration=min(seconds, made), seed=3, offset=1.5, video=False)
    d = ep.truth.parent

    def load(name: str) -> np.ndarray:
        x, sr = sf.read(d / f"{name}.wav", dtype="float32")
        x = x.mean(axis=1) if x.ndim == 2 else x
        y = soxr.resample(x, sr, SR).astype(np.float32)
        n = int(seconds * SR)
        return np.tile(y, -(-n // y.size))[:n]

    return load("jp_mix"), load("en_mix")


def whisper_model(work: Path, quick: bool, device: str) -> Path:
    from anim400k.testing.random_whisper import build_random_whisper

    if quick:
        return build_random_whisper(work / "whisper", n_mels=128)
    return build_random_whisper(
        work / "whisper", d_model=1280, layers=32, heads=20, n_mels=128, quantization="float16"
    )


def demucs_model(work: Path, quick: bool) -> Path:
    import torch
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(0)
    sources = ["drums", "bass", "other", "vocals"]
    if quick:
        model = HTDemucs(sources=sources, channels=8, depth=2, t_layers=0, nfft=512, segment=2, samplerate=16000)
    else:  # the pretrained htdemucs' hyper-parameters (demucs/remote/htdemucs.yaml)
        model = HTDemucs(sources=sources, samplerate=44100, segment=7.8, channels=48, depth=4, nfft=4096,
                         t_layers=5, bottom_channels=512, dconv_mode=3, cac=True)
    args, kwargs = model._init_args_kwargs
    path = work / "htdemucs.th"
    torch.save({"klass": HTDemucs, "args": args, "kwargs": kwargs, "state": model.state_dict()}, path)
    print(f"  demucs: {sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters", flush=True)
    return path


def timed(fn, *args, **kwargs) -> float:  # noqa: ANN001, ANN002, ANN003
    t = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--quick", action="store_true", help="tiny models, seconds of audio (a smoke run)")
    ap.add_argument("--seconds", type=float, default=None, help="audio for the ASR/demucs/diarizer rows")
    ap.add_argument("--build-seconds", type=float, default=None, help="episode length for the build row")
    ap.add_argument("--skip", nargs="*", default=[], choices=["whisper", "demucs", "diarize", "build"])
    args = ap.parse_args()
    seconds = args.seconds or (20.0 if args.quick else 600.0)
    build_seconds = args.build_seconds or (20.0 if args.quick else 60.0)
    dev = args.device
    rows: list[tuple[str, str, float, float, str]] = []

    def row(name: str, audio_s: float, wall: float, note: str = "") -> None:
        rows.append((name, dev, audio_s, wall, note))
        print(f"  {name}: {wall:.1f} s for {audio_s:.0f} s of audio (RTF {wall / audio_s:.4f}) {note}", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench_device_") as tmp:
        work = Path(tmp)
        print(f"device: {device_name(dev)}; {'quick smoke run' if args.quick else 'full run'}", flush=True)
        t = time.perf_counter()
        jp, en = episode_audio(work, seconds)
        print(f"  synthetic episode audio: {seconds:.0f} s made in {time.perf_counter() - t:.1f} s", flush=True)
        whisper = demucs = None
        if "whisper" not in args.skip or "build" not in args.skip:
            t = time.perf_counter()
            whisper = whisper_model(work, args.quick, dev)
            print(f"  random Whisper built in {time.perf_counter() - t:.1f} s", flush=True)
        if "demucs" not in args.skip or "build" not in args.skip:
            demucs = demucs_model(work, args.quick)
        if "whisper" not in args.skip:
            from anim400k.asr import get_transcriber

            fw = get_transcriber("faster-whisper", model=str(whisper), device=dev, beam_size=5, batch_size=8,
                                 max_new_tokens=100, temperature=0.0)
            load = timed(fw.load)
            fw.transcribe(en[: 5 * SR], SR, "en")  # warm-up
            wall = timed(fw.transcribe, en, SR, "en")
            row("faster-whisper " + ("tiny (random)" if args.quick else "large-v3 arch (random)"), seconds, wall,
                f"[{fw.compute_type}, batch 8, beam 5, max_new_tokens 100; load {load:.1f} s]")
        if "demucs" not in args.skip:
            from anim400k.separate import get_separator

            sep = get_separator("demucs", model=demucs, device=dev)
            sep.load()
            sep.separate(jp[: 3 * SR], SR)  # warm-up
            wall = timed(sep.separate, jp, SR)
            row("demucs " + ("tiny (random)" if args.quick else "htdemucs arch (random)"), seconds, wall)
        if "diarize" not in args.skip:
            from anim400k.diarize import get_diarizer

            dia = get_diarizer("embedded", device=dev)
            dia.diarize(jp[: 5 * SR], SR)  # warm-up (loads the models)
            wall = timed(dia.diarize, jp, SR)
            row("embedded diarizer", seconds, wall)
        if "build" not in args.skip:
            from anim400k.demo import prepare_demo_inputs

            manifest = prepare_demo_inputs(work / "demo", episodes=1, duration=build_seconds)
            cmd = [sys.executable, "-m", "anim400k", "build", str(manifest), "--out", str(work / "release"),
                   "--device", dev, "--asr-en", "faster-whisper", "--asr-model", str(whisper),
                   "--separator", "demucs", "--separator-model", str(demucs), "--no-progress"]
            t = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - t
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] if proc.returncode else []
            row("anim400k build (1 episode, video 320x180)", build_seconds, wall,
                f"[exit {proc.returncode}{': ' + tail[0] if tail else ''}]")
    print()
    print(f"| component | device | audio (s) | wall (s) | RTF | notes |  ({device_name(dev)})")
    print("|---|---|---|---|---|---|")
    for name, d, audio_s, wall, note in rows:
        print(f"| {name} | {d} | {audio_s:.0f} | {wall:.1f} | {wall / audio_s:.4f} | {note} |")


if __name__ == "__main__":
    main()
