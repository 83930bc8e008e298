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

The 10 minutes of audio are the JP and EN tracks of the build row's 60 s synthetic episode,
repeated (making 10 minutes takes minutes of CPU).
    python benchmarks/device/bench_device.py --device cpu --quick

A GPU machine without the TTS packages (or without time to synthesize) takes its inputs made
elsewhere: ``--prepare DIR`` synthesizes them (the build's demo episode and its manifest) and
exits; ``--inputs DIR`` reads them instead of synthesizing::

    python benchmarks/device/bench_device.py --prepare inputs --build-seconds 60   # on any machine
    python benchmarks/device/bench_device.py --device cuda --inputs inputs          # on the GPU
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import traceback
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


def demo_manifest(folder: Path, seconds: float) -> Path:
    """The build's inputs (one synthetic demo episode with video), made in ``folder`` unless there."""
    manifest = folder / "manifest.yaml"
    if manifest.exists():
        return manifest.resolve()
    from anim400k.demo import prepare_demo_inputs

    return prepare_demo_inputs(folder, episodes=1, duration=seconds)


def episode_media(manifest: Path) -> Path:
    """The media file of the manifest's first episode."""
    import yaml

    entry = yaml.safe_load(manifest.read_text())["shows"][0]["episodes"][0]
    return (manifest.parent / entry["media"]).resolve()


def copies_manifest(manifest: Path, copies: int, work: Path) -> Path:
    """``manifest`` (one episode) as ``copies`` shows of that one episode (absolute paths)."""
    import yaml

    if copies == 1:
        return manifest
    show = yaml.safe_load(manifest.read_text())["shows"][0]
    entry = show["episodes"][0]
    paths = {k: str((manifest.parent / entry[k]).resolve()) for k in ("media", "subtitles")}
    meta = str((manifest.parent / show["metadata"]).resolve())
    shows = [{"key": f"{show['key']}_copy{i}", "metadata": meta, "episodes": [{"episode": entry["episode"], **paths}]}
             for i in range(copies)]
    path = work / f"manifest_x{copies}.yaml"
    path.write_text(yaml.safe_dump({"shows": shows}, sort_keys=False))
    return path


def episode_audio(media: Path, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """JP and EN tracks of ``media`` (16 kHz mono), repeated to ``seconds``."""
    from anim400k.media.audio import decode_audio

    def load(lang: str) -> np.ndarray:
        y = decode_audio(media, stream=lang, sr=SR)
        n = int(seconds * SR)
        return np.tile(y, -(-n // y.size))[:n].astype(np.float32)

    return load("jpn"), load("eng")


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
    ap.add_argument("--build-copies", type=int, nargs="*", default=[1],
                    help="build rows: the episode as N episodes (N shows of one episode each), one row per N")
    ap.add_argument("--jobs", type=int, default=1, help="--jobs of the builds of more than one episode")
    ap.add_argument("--prepare", type=Path, default=None, help="synthesize the inputs into this folder and exit")
    ap.add_argument("--inputs", type=Path, default=None, help="read the inputs --prepare made instead of synthesizing")
    args = ap.parse_args()
    seconds = args.seconds or (20.0 if args.quick else 600.0)
    build_seconds = args.build_seconds or (20.0 if args.quick else 60.0)
    dev = args.device
    rows: list[tuple[str, str, float, float, str]] = []

    def row(name: str, audio_s: float, wall: float, note: str = "") -> None:
        rows.append((name, dev, audio_s, wall, note))
        print(f"  {name}: {wall:.1f} s for {audio_s:.0f} s of audio (RTF {wall / audio_s:.4f}) {note}", flush=True)

    if args.prepare:
        print(f"inputs written: {demo_manifest(args.prepare, build_seconds)}")
        return
    def attempt(name: str, fn) -> object:  # noqa: ANN001
        """Run one step; a failure becomes a table row with its error, and the next step still runs."""
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            rows.append((name, dev, float("nan"), float("nan"), f"[failed: {type(exc).__name__}: {exc}]"[:300]))
            return None

    with tempfile.TemporaryDirectory(prefix="bench_device_") as tmp:
        work = Path(tmp)
        print(f"device: {device_name(dev)}; {'quick smoke run' if args.quick else 'full run'}", flush=True)
        t = time.perf_counter()
        manifest = demo_manifest(args.inputs or work / "demo", build_seconds)
        media = episode_media(manifest)
        jp, en = episode_audio(media, seconds)
        print(f"  synthetic episode: {seconds:.0f} s of audio from {media.name} in {time.perf_counter() - t:.1f} s",
              flush=True)
        from anim400k.media.probe import probe

        build_seconds = probe(media).duration or build_seconds
        whisper = demucs = None
        if "whisper" not in args.skip or "build" not in args.skip:
            t = time.perf_counter()
            whisper = attempt("random Whisper", lambda: whisper_model(work, args.quick, dev))
            print(f"  random Whisper built in {time.perf_counter() - t:.1f} s", flush=True)
        if "demucs" not in args.skip or "build" not in args.skip:
            demucs = attempt("random HTDemucs", lambda: demucs_model(work, args.quick))
        whisper_name = "faster-whisper " + ("tiny (random)" if args.quick else "large-v3 arch (random)")
        if "whisper" not in args.skip and whisper is not None:
            def run_whisper() -> bool:
                from anim400k.asr import get_transcriber

                fw = get_transcriber("faster-whisper", model=str(whisper), device=dev, beam_size=5, batch_size=8,
                                     max_new_tokens=100, temperature=0.0)
                load = timed(fw.load)
                fw.transcribe(en[: 5 * SR], SR, "en")  # warm-up
                wall = timed(fw.transcribe, en, SR, "en")
                row(whisper_name, seconds, wall,
                    f"[{fw.compute_type}, batch 8, beam 5, max_new_tokens 100; load {load:.1f} s]")
                return True

            if attempt(whisper_name, run_whisper) is None:
                whisper = None  # the backend failed on this device: the build row uses the VAD-only English ASR
        demucs_name = "demucs " + ("tiny (random)" if args.quick else "htdemucs arch (random)")
        if "demucs" not in args.skip and demucs is not None:
            def run_demucs() -> None:
                from anim400k.separate import get_separator

                sep = get_separator("demucs", model=demucs, device=dev)
                sep.load()
                sep.separate(jp[: 3 * SR], SR)  # warm-up
                wall = timed(sep.separate, jp, SR)
                row(demucs_name, seconds, wall)

            attempt(demucs_name, run_demucs)
        if "diarize" not in args.skip:
            def run_diarizer() -> None:
                from anim400k.diarize import get_diarizer

                dia = get_diarizer("embedded", device=dev)
                dia.diarize(jp[: 5 * SR], SR)  # warm-up (loads the models)
                wall = timed(dia.diarize, jp, SR)
                row("embedded diarizer", seconds, wall)

            attempt("embedded diarizer", run_diarizer)
        if "build" not in args.skip:
            def run_build(copies: int) -> None:
                jobs = args.jobs if copies > 1 else 1
                cmd = [sys.executable, "-m", "anim400k", "build", str(copies_manifest(manifest, copies, work)),
                       "--out", str(work / f"release{copies}"), "--device", dev, "--no-progress", "--jobs", str(jobs)]
                if whisper is not None:
                    cmd += ["--asr-en", "faster-whisper", "--asr-model", str(whisper)]
                else:
                    cmd += ["--asr-en", "vad"]
                if demucs is not None:
                    cmd += ["--separator", "demucs", "--separator-model", str(demucs)]
                t = time.perf_counter()
                proc = subprocess.run(cmd, capture_output=True, text=True)
                wall = time.perf_counter() - t
                print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n", flush=True)
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] if proc.returncode else []
                backends = ("random Whisper" if whisper is not None else "VAD-only English ASR") + (
                    " + random HTDemucs" if demucs is not None else " + embedded separation")
                row(f"anim400k build ({copies} x {build_seconds:.0f} s episode, --jobs {jobs}, video 320x180; "
                    f"{backends})", build_seconds * copies, wall,
                    f"[exit {proc.returncode}{': ' + tail[0] if tail else ''}]")

            for copies in args.build_copies:
                attempt(f"anim400k build x{copies}", lambda copies=copies: run_build(copies))
    print()
    print(f"| component | device | audio (s) | wall (s) | RTF | notes |  ({device_name(dev)})")
    print("|---|---|---|---|---|---|")
    for name, d, audio_s, wall, note in rows:
        print(f"| {name} | {d} | {audio_s:.0f} | {wall:.1f} | {wall / audio_s:.4f} | {note} |")


if __name__ == "__main__":
    main()
