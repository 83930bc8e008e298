"""The dataset build's per-episode stages, in dependency order.

Each stage is a top-level function ``fn(ctx) -> artifact path`` (picklable, so any
runner can execute it in another process or on another machine). A stage reads the
artifacts of the stages it depends on from the episode's work folder and writes its
own artifact atomically; the driver records it in the catalog.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import AnimError, InputError
from ..fsutil.atomic import write_json_atomic
from ..model import EN, JP, EpisodeRef, Subtitle, TimeMap
from ..offline import force_offline
from ..progress import Reporter, accepts_report, no_report
from ..storage import local_input
from .context import EpisodeContext
from .options import ANALYSIS_SR, TRANSCRIPT_IMPORT_VERSION, BuildOptions

if TYPE_CHECKING:
    from ..media.probe import MediaInfo, StreamInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Stage:
    """A build stage: its name, the stages it needs, its function and artifact name."""

    name: str
    deps: tuple[str, ...]
    fn: Callable[..., str]  # fn(ctx), or fn(ctx, report) for a stage that ``reports``
    artifact: str
    resources: str = "cpu"  # "cpu" | "gpu-capable" (ASR, separation, diarization with CUDA backends)
    #: the stage's other files in the work folder (the catalog records and checks them with the artifact)
    extra_outputs: tuple[str, ...] = ()
    #: a long stage that tells a :data:`anim400k.progress.Reporter` how far it is (``fn(ctx, report)``)
    reports: bool = False

    @property
    def outputs(self) -> tuple[str, ...]:
        """Every file the stage writes into the episode's work folder: its artifact first."""
        return (self.artifact, *self.extra_outputs)

    def enabled(self, ctx: EpisodeContext) -> bool:
        """Whether this stage runs for this episode under these options."""
        if self.name == "frames":
            return bool(ctx.options.frames_fps)
        if self.name == "score":
            return bool(ctx.ref.metadata.get("truth"))
        return True


# ---------------------------------------------------------------- stages
def stage_probe(ctx: EpisodeContext) -> str:
    """Check that the media exist, decode, and hold the requested language streams; check the subtitles,
    the transcripts and the ground truth given, so that a bad input fails before the costly stages.

    Each language's stream is picked by :func:`anim400k.media.probe.select_source_stream` (as ``dub``
    picks its source); a note on the choice (several streams tagged with the language, or none) is
    kept in ``probe.json`` and reported as a warning of the build.
    """
    ref = ctx.ref
    out: dict[str, Any] = {}
    chosen: dict[str, tuple[MediaInfo, StreamInfo]] = {}
    for lang, source, sel in ((JP, ref.jp_media, ref.jp_stream), (EN, ref.en_media, ref.en_stream)):
        info, stream, note = _probe_medium(source, sel, STREAM_FIELDS[lang])
        chosen[lang] = (info, stream)
        out[lang] = {"source": source, "stream_index": stream.index, "audio_index": info.audio_streams.index(stream),
                     "duration": info.duration, "sample_rate": stream.sample_rate, "channels": stream.channels,
                     "note": f"{source}: {note}" if note else None}
        if lang == JP:
            out["has_video"] = bool(info.video_streams)
    _check_distinct_streams(ref, chosen)
    # fail early, before the costly stages (the subtitles and score stages check again)
    _check_subtitle_file(ctx)
    if ref.subtitles is None and ref.subtitle_stream is not None:
        from ..formats.subtitles import check_subtitle_stream

        check_subtitle_stream(local_input(ref.jp_media), ref.subtitle_stream)
    check_truth_file(ctx)
    check_transcript_files(ctx)
    dest = ctx.artifact("probe.json")
    write_json_atomic(dest, out)
    return str(dest)


#: The manifest field that picks each language's audio stream.
STREAM_FIELDS = {JP: "jp_stream", EN: "en_stream"}


def _probe_medium(source: str, selector: str | int, field: str) -> tuple[MediaInfo, StreamInfo, str | None]:
    """Probe one medium and pick its audio stream for ``selector`` (the manifest's ``field``): the file's
    description, the stream and a note on the choice (None when plain)."""
    from ..media.probe import probe, select_source_stream

    path = local_input(source)
    if Path(path).is_dir():
        raise InputError("is a directory, expected a media file", source)
    if not Path(path).is_file():
        raise InputError("file not found", source)
    info = probe(path)
    stream, note = select_source_stream(info, selector, option=f"{field}:")
    return info, stream, note


def _is_index(selector: str | int) -> bool:
    """Whether a stream selector is an audio-stream index (an int or digits), not a language tag."""
    return isinstance(selector, int) or str(selector).strip().isdigit()


def _check_distinct_streams(ref: EpisodeRef, chosen: dict[str, tuple[MediaInfo, StreamInfo]]) -> None:
    """Refuse JP and EN resolving to the same audio stream of one file when a language was guessed.

    A file whose only audio stream is untagged would otherwise give the same audio as both languages.
    Indexes, and a stream tagged with the language asked for, are obeyed.
    """
    (info, jp), (_, en) = chosen[JP], chosen[EN]
    if ref.jp_media != ref.en_media or jp.index != en.index:
        return
    from ..media.probe import describe_audio_streams, normalize_language

    selectors = (ref.jp_stream, ref.en_stream)
    if any(not _is_index(sel) and jp.language != normalize_language(str(sel)) for sel in selectors):
        i = info.audio_streams.index(jp)
        raise InputError(f"jp_stream {ref.jp_stream!r} and en_stream {ref.en_stream!r} would both be audio stream {i} "
                         f"(audio streams: {describe_audio_streams(info)}): give jp_stream: N and en_stream: N",
                         ref.jp_media)


def stage_notes(ctx: EpisodeContext) -> list[str]:
    """The episode's warnings that its probe, subtitles and score stages kept in their artifacts: how an
    audio stream was chosen (several tagged with the language, or none), how a subtitle stream was (several
    tagged with the language, or a forced one), how many ASS subtitle events were left out as signs or
    songs, and scores that could not be computed."""
    notes: list[str] = []
    if ctx.artifact("probe.json").is_file():
        probe = ctx.read_json("probe.json")
        notes += [str(probe[lang]["note"]) for lang in (JP, EN) if probe.get(lang, {}).get("note")]
    if ctx.artifact(SUBTITLE_CHOICE).is_file() and (note := ctx.read_json(SUBTITLE_CHOICE).get("note")):
        notes.append(str(note))
    if ctx.artifact("subtitles.json").is_file():
        from ..formats.subtitles import left_out_note

        subs = ctx.read_json("subtitles.json")
        if isinstance(subs, dict):
            note = left_out_note(subs.get("left_out") or {}, str(subs.get("source")),
                                 "set keep_signs: true on the episode")
            notes += [note] if note else []
            if subs.get("source") and not subs.get("events") and not subs.get("left_out"):
                notes.append(f"{subs['source']}: holds no subtitle event: the episode's clips have no en_subtitles")
    if STAGE_BY_NAME["score"].enabled(ctx) and ctx.artifact("score.json").is_file():  # not an earlier build's
        notes += [str(w) for w in ctx.read_json("score.json").get("warnings") or []]
    if (note := unread_subtitles_note(ctx.ref)) is not None:
        notes.append(note)
    return notes


def unread_subtitles_note(ref: EpisodeRef) -> str | None:
    """A warning when the episode names no subtitles (no ``subtitles``, no ``subtitle_stream``) but its JP
    medium holds an English text subtitle stream (a fansub or BD MKV): its clips get no en_subtitles while
    the file has them. Names the stream ``subtitle_stream: eng`` would read; for a stream with no language tag
    (it may be Japanese, and ``subtitle_stream: eng`` does not read it, but fansub MKVs often leave their English
    track untagged) it names the stream and ``subtitle_stream: N``, its index, if it is English. Headers only, of
    a local file (a remote one is not fetched again for a warning); None otherwise."""
    from ..storage import is_url

    if ref.subtitles is not None or ref.subtitle_stream is not None or is_url(ref.jp_media):
        return None
    from ..media.probe import describe_subtitle_streams, probe, select_en_subtitle_stream

    try:
        info = probe(local_input(ref.jp_media))
        stream, _ = select_en_subtitle_stream(info)
    except (InputError, OSError):
        return None
    described = describe_subtitle_streams(info, [stream])
    if stream.language != "eng":  # untagged: it may be Japanese, and subtitle_stream: eng would not read it
        if stream.language not in (None, "", "und"):
            return None
        index = info.subtitle_streams.index(stream)
        return (f"{ref.jp_media}: holds a subtitle stream with no language tag (subtitle stream {described}) and the "
                f"episode names no subtitles: its clips have no en_subtitles; if that stream is English, add "
                f"subtitle_stream: {index} (or subtitles: FILE) to read it")
    return (f"{ref.jp_media}: holds English subtitles (subtitle stream "
            f"{described}) but the episode names none: its clips have no "
            f"en_subtitles; add subtitle_stream: eng (or subtitles: FILE) to read them")


def check_transcript_files(ctx: EpisodeContext) -> None:
    """Raise :class:`InputError` (one line naming it) when a transcript the episode gives (the manifest's
    ``transcripts``) cannot be read as that language's: found only by the ASR stage, after the audio was decoded,
    synced and (for ``ja``) the English transcribed."""
    from ..formats.transcripts import read_transcript

    for lang, given in sorted(ctx.ref.transcripts.items()):
        if given:
            read_transcript(local_input(given), language=lang)


def check_truth_file(ctx: EpisodeContext) -> None:
    """Raise :class:`InputError` (one line naming it) when the episode's ground truth file cannot be read."""
    truth = ctx.ref.metadata.get("truth")
    if truth:
        from ..synth import load_truth

        load_truth(local_input(str(truth)))


def _check_subtitle_file(ctx: EpisodeContext, streams: bool = True) -> None:
    """Raise :class:`InputError` when the episode's subtitle file is a folder or missing, or (``streams``)
    is a media container (a Matroska ``.mks``...) without a text subtitle stream (its first one is read).

    The subtitles stage passes ``streams=False``: reading the stream checks it, from the same opening.
    """
    ref = ctx.ref
    if ref.subtitles is not None and Path(local_input(ref.subtitles)).is_dir():
        raise InputError("is a directory, expected a subtitle file", ref.subtitles)
    if ref.subtitles is not None and not Path(local_input(ref.subtitles)).is_file():
        raise InputError("subtitle file not found", ref.subtitles)
    if ref.subtitles is not None and streams:
        from ..formats.subtitles import check_subtitle_stream, is_media_file

        if is_media_file(local_input(ref.subtitles)):
            # the English dialogue stream, as the subtitles stage reads it; no setting picks another (the
            # manifest's subtitle_stream is a stream of jp_media, not of this file): no "pass ... N" advice
            check_subtitle_stream(local_input(ref.subtitles), None, None)


def stage_audio(ctx: EpisodeContext) -> str:
    """Decode each language's stream once to mono 16 kHz FLAC for the analysis stages."""
    import soundfile as sf

    from .. import media
    from ..fsutil.atomic import atomic_path

    probe = ctx.read_json("probe.json")
    for lang in (JP, EN):
        p = probe[lang]
        audio = media.decode_audio(local_input(p["source"]), stream=p["audio_index"], sr=ANALYSIS_SR, mono=True)
        if audio.size == 0:
            raise InputError(f"the {lang} audio stream decodes to nothing", p["source"])
        with atomic_path(ctx.artifact(f"{lang}.16k.flac"), sync=False) as tmp:  # media: identity-checked
            sf.write(tmp, np.clip(audio, -1.0, 1.0), ANALYSIS_SR, format="FLAC", subtype="PCM_16")
    dest = ctx.artifact("audio.json")
    write_json_atomic(dest, {"sample_rate": ANALYSIS_SR, "files": [f"{JP}.16k.flac", f"{EN}.16k.flac"]})
    return str(dest)


def stage_sync(ctx: EpisodeContext) -> str:
    """Estimate the JP->EN TimeMap from the shared music-and-effects stem.

    An EN track that is the JP audio itself fails the episode (its "EN" clips would be Japanese); an
    unreliable estimate whose coarse windows agree on a line (or on a located edit's two) gives their map, not
    sample-precise (:func:`anim400k.sync.coarse_map.coarse_time_map`), any other the identity map, each with a
    warning naming the reason. An edited
    EN medium mapped piecewise keeps its ``pieces`` in ``sync.json`` (``TimeMap.to_dict``'s) and a
    warning describing the edit; a map that is not sample-precise (EN re-timed with pitch correction)
    its ``precision_ms`` and a warning saying how it was made (the separation then uses one track).
    """
    out: dict[str, object] = {"offset": 0.0, "drift": 0.0, "confidence": 0.0, "applied": False, "warning": None}
    if ctx.options.sync:
        from ..sync.coarse_map import coarse_time_map, describe_coarse
        from ..sync.estimate import analyze_sync

        res = analyze_sync(ctx.analysis_audio(JP), ctx.analysis_audio(EN), ANALYSIS_SR)
        if res.same_audio:
            probe = ctx.read_json("probe.json")
            raise InputError(f"{res.reason}: check the EN medium and its stream (no EN clips can be made from it)",
                             probe[EN]["source"])
        tm = res.time_map
        out.update(offset=float(tm.offset), drift=float(tm.drift), confidence=float(res.confidence),
                   applied=bool(res.reliable), diagnostics=res.to_dict())
        if tm.pieces and res.reliable:  # an edited EN medium, mapped piecewise (model.TimeMap.pieces)
            out["pieces"] = tm.to_dict()["pieces"]
            out["warning"] = res.reason
        if not tm.precise and res.reliable:  # EN re-timed with pitch correction (sync/stretch.py)
            out["precision_ms"] = tm.precision_ms
            out["warning"] = res.reason
        coarse = None if res.reliable else coarse_time_map(res)
        if coarse is not None:  # the windows agree on a line the fine stage could not confirm: used, not precise
            out.update(coarse.to_dict(), confidence=float(res.confidence), applied=True)
            out["warning"] = (f"low sync confidence {res.confidence:.2f}: {res.reason}; used the coarse windows' map "
                              f"instead ({describe_coarse(coarse)}, within ~{coarse.precision_ms:.0f} ms; the "
                              "separation uses one track)")
        elif not res.reliable:
            out["warning"] = (f"low sync confidence {res.confidence:.2f}: {res.reason}; "
                              "assuming zero offset and no drift")
    dest = ctx.artifact("sync.json")
    write_json_atomic(dest, out)
    return str(dest)


def asr_backend(options: BuildOptions, lang: str) -> tuple[str, dict[str, object]]:
    """The ASR backend name and options that the stage of ``lang`` builds under ``options``."""
    name = options.asr_en if lang == EN else options.asr_ja
    opts: dict[str, object] = {}
    if options.asr_model and name in ("auto", "faster-whisper"):
        name = "faster-whisper"  # "auto" with a model means faster-whisper (as runners.gpu_stages_for says)
        opts["model"] = options.asr_model
        opts["device"] = options.asr_device
    return name, opts


@functools.lru_cache(maxsize=32)
def _backend_config(name: str, opts_json: str, lang: str) -> str:
    """The built backend's ``config`` for ``lang`` (model, beam, compute type...) as JSON; "" if it cannot be built.

    For a dispatching backend (``auto``) only the config of the backend that ``lang`` goes to counts.
    """
    from ..asr import get_transcriber

    try:
        transcriber = get_transcriber(name, **json.loads(opts_json))
        backend_for = getattr(transcriber, "backend_for", None)
        config = {"auto": backend_for(lang).config} if callable(backend_for) else transcriber.config
    except (AnimError, ImportError, OSError, ValueError, TypeError):
        return ""  # the stage itself fails with the reason; the key still names the backend and options
    return json.dumps(config, sort_keys=True, default=str)


def backend_settings(stage: str, ctx: EpisodeContext) -> dict[str, object] | None:
    """What a stage's backend would do that its options alone do not say, for the stage's cache key.

    For ``asr_en``/``asr_ja``: the backend name, the options the stage gives it and the built
    backend's ``config`` (model, beam size, compute type, VAD settings...), so a re-run with
    another backend, model or device, or after a backend's defaults changed, transcribes again.
    For a track whose transcript is given: the transcript reader's version
    (:data:`anim400k.dataset.options.TRANSCRIPT_IMPORT_VERSION`), so that the import runs again when the
    reader changed what it makes of the same file. ``None`` for every other stage.
    """
    if stage not in ("asr_en", "asr_ja"):
        return None
    lang = EN if stage == "asr_en" else JP
    if ctx.ref.transcripts.get(lang):
        return {"transcript_import": TRANSCRIPT_IMPORT_VERSION}
    name, opts = asr_backend(ctx.options, lang)
    opts_json = json.dumps(opts, sort_keys=True, default=str)
    return {"backend": name, "options": opts, "config": _backend_config(name, opts_json, lang)}


def _reporting(method: Callable[..., Any], report: Reporter) -> dict[str, Any]:
    """``{"report": report}`` when the backend's ``method`` takes a reporter (a backend of another package
    may not: it then runs silently)."""
    return {"report": report} if report is not no_report and accepts_report(method) else {}


def _asr_stage(ctx: EpisodeContext, lang: str, report: Reporter = no_report) -> str:
    from ..formats.transcripts import read_transcript, write_transcript

    dest = ctx.artifact(f"{lang}.transcript.json")
    given = ctx.ref.transcripts.get(lang)
    if given:
        transcript = read_transcript(local_input(given), language=lang)
    else:
        from ..asr import get_transcriber

        name, opts = asr_backend(ctx.options, lang)
        transcriber = get_transcriber(name, **opts)
        transcript = transcriber.transcribe(ctx.analysis_audio(lang), ANALYSIS_SR, lang,
                                            **_reporting(transcriber.transcribe, report))
    write_transcript(dest, transcript)
    return str(dest)


def stage_asr_en(ctx: EpisodeContext, report: Reporter = no_report) -> str:
    """Transcribe the EN track (or import the given EN transcript); ``report`` hears the seconds transcribed."""
    return _asr_stage(ctx, EN, report)


def stage_asr_ja(ctx: EpisodeContext, report: Reporter = no_report) -> str:
    """Transcribe the JP track (or import the given JP transcript); ``report`` hears the seconds transcribed."""
    return _asr_stage(ctx, JP, report)


#: The subtitles stage's record of the subtitle stream it read (``subtitle_stream``: its index among the
#: subtitle streams, None for a file or none) and the note on that choice (a warning of the build).
SUBTITLE_CHOICE = "subtitle_stream.json"


def stage_subtitles(ctx: EpisodeContext) -> str:
    """Read the EN subtitles for the JP track (a file or a subtitle stream of the JP media).

    ``subtitles.json`` holds the ``events`` (``start``, ``end``, ``text``, and ``speaker`` when the file
    names the event's speaker: an ASS Name field, an SDH label; the diarizer's hint) and, as ``left_out``,
    how many ASS events were left out as signs or songs, by style, with the ``source`` they were read from
    (:func:`stage_notes` warns of them).
    A media file given as ``subtitles`` (an MKV, a ``.mks``) is read through its English dialogue stream
    (:func:`anim400k.media.probe.select_en_subtitle_stream`), recorded as a ``subtitle_stream`` is.
    A ``subtitle_stream`` language tag picks among several streams with
    :func:`anim400k.formats.subtitles.read_subtitle_stream_chosen` (not a forced or signs-and-songs track); the
    stream read and the note on the choice are kept in ``subtitle_stream.json`` (a warning of the build).
    """
    from ..formats import subtitles as subs

    ref = ctx.ref
    # the probe stage's key does not cover the subtitles: it may have run before (the stream is checked as read)
    _check_subtitle_file(ctx, streams=False)
    source: str | None = None
    chosen: dict[str, Any] = {"subtitle_stream": None, "note": None}
    if ref.subtitles and subs.is_media_file(local_input(ref.subtitles)):
        # a media file given as the subtitles (an MKV, a .mks): its English dialogue stream, not the first
        read, index, note = subs.read_subtitle_stream_chosen(local_input(ref.subtitles), None, None,
                                                             keep_signs=ref.keep_signs)
        source = f"{ref.subtitles} (subtitle stream {index})"
        chosen = {"subtitle_stream": index, "note": f"{ref.subtitles}: {note}" if note else None}
    elif ref.subtitles:
        source = ref.subtitles
        read = subs.read_subtitles_counted(local_input(ref.subtitles), keep_signs=ref.keep_signs)
    elif ref.subtitle_stream is not None:
        media = local_input(ref.jp_media)
        read, index, note = subs.read_subtitle_stream_chosen(media, ref.subtitle_stream, keep_signs=ref.keep_signs)
        source = f"{ref.jp_media} (subtitle stream {index})"
        chosen = {"subtitle_stream": index, "note": f"{ref.jp_media}: {note}" if note else None}
    else:
        read = subs.SubtitleRead([], {})
    write_json_atomic(ctx.artifact(SUBTITLE_CHOICE), chosen)
    dest = ctx.artifact("subtitles.json")
    events = [{"start": s.start, "end": s.end, "text": s.text} | ({"speaker": s.speaker} if s.speaker else {})
              for s in read.events]
    write_json_atomic(dest, {"events": events,
                             "left_out": read.left_out, "source": source})
    return str(dest)


def diarization_audio(ctx: EpisodeContext) -> np.ndarray:
    """The JP speech to diarize: the JP mix minus the separate stage's backing estimate.

    The dual-track separation removes the music and effects that both language tracks share
    (loud music halves the embedded diarizer's error, see docs/diarization.md); when the
    separation fell back to a single-track method, or has no backing, the JP mix is used.
    """
    import soundfile as sf

    mix = ctx.analysis_audio(JP)
    sep_json, backing_file = ctx.artifact("separate.json"), ctx.artifact("backing.flac")
    if not (sep_json.exists() and backing_file.exists()) or ctx.read_json("separate.json").get("fallback", True):
        return mix
    backing, _ = sf.read(backing_file, dtype="float32")
    n = min(len(mix), len(backing))
    speech = mix.copy()
    speech[:n] -= backing[:n]
    return speech


def diarization_other(ctx: EpisodeContext, n: int) -> np.ndarray | None:
    """The EN speech on the JP timeline (``n`` samples), the diarizer's second view of each speaker:
    the EN mix mapped through the separation's time map minus the same backing estimate.

    None when the separation fell back to one track (the EN track is missing, out of sync or
    unusable: the diarizer then works on the JP speech alone) or its artifact predates the map.
    """
    import soundfile as sf

    from ..diarize.views import other_speech

    sep_json, backing_file = ctx.artifact("separate.json"), ctx.artifact("backing.flac")
    if not (sep_json.exists() and backing_file.exists()):
        return None
    sep = ctx.read_json("separate.json")
    tm = sep.get("time_map")
    if sep.get("fallback", True) or not isinstance(tm, dict):
        return None
    backing, _ = sf.read(backing_file, dtype="float32")
    time_map = TimeMap.from_dict(tm)
    return other_speech(ctx.analysis_audio(EN), ANALYSIS_SR, n, backing, time_map)


def _torch_threads() -> None:
    """One torch thread for the diarizer, in every runner (pool workers start with one; in-process torch
    would take every core). A second thread did not shorten the embedded diarizer (300 s episode:
    11.7 vs 11.5 s wall, 12.4 vs 12.2 CPU-s) and, next to other busy thread pools, burnt CPU spinning."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch comes with the embedded diarizer
        return
    torch.set_num_threads(1)


def diarizer_model_option(diarizer: str, model: str | None) -> dict[str, object]:
    """The keyword that hands ``model`` (``--diarizer-model``) to ``diarizer``: ``model`` for ``anime``,
    ``pipeline`` for ``pyannote``; nothing when no model is given or the backend takes none."""
    if model is None:
        return {}
    return {"anime": {"model": model}, "pyannote": {"pipeline": model}}.get(diarizer, {})


def diarization_subtitles(ctx: EpisodeContext) -> list[Subtitle]:
    """The episode's EN subtitle events on the JP timeline (the subtitles stage's ``subtitles.json``),
    with the speaker the file names where it names one: the diarizer's speaker cues; none when the
    stage found none."""
    return ctx.subtitles() if ctx.artifact("subtitles.json").is_file() else []


def stage_diarize(ctx: EpisodeContext, report: Reporter = no_report) -> str:
    """Diarize the JP speech (mix minus the separated backing), with the EN speech at the same
    times as a second view when the diarizer takes one, and the EN subtitles as speaker cues when
    it takes them (``uses_subtitles``); the artifact is an RTTM file. ``report`` hears the
    diarizer's steps (when it reports them)."""
    from ..diarize import get_diarizer
    from ..formats.rttm import rttm_file_id, write_rttm

    opts: dict[str, object] = {} if ctx.options.asr_device == "auto" else {"device": ctx.options.asr_device}
    opts |= diarizer_model_option(ctx.options.diarizer, ctx.options.diarizer_model)
    _torch_threads()
    diarizer = get_diarizer(ctx.options.diarizer, **opts)
    speech = diarization_audio(ctx)
    other = diarization_other(ctx, len(speech)) if getattr(diarizer, "uses_other_track", False) else None
    kw = _reporting(diarizer.diarize, report)
    if getattr(diarizer, "uses_subtitles", False):
        kw["subtitles"] = diarization_subtitles(ctx)
    if other is None:
        turns = diarizer.diarize(speech, ANALYSIS_SR, **kw)
    else:
        turns = diarizer.diarize(speech, ANALYSIS_SR, other=other, **kw)  # type: ignore[call-arg]
    dest = ctx.artifact("jp.rttm")
    write_rttm(dest, turns, file_id=rttm_file_id(ctx.ref.key))
    return str(dest)


def stage_separate(ctx: EpisodeContext, report: Reporter = no_report) -> str:
    """Estimate the JP track's backing (music and effects) and write it as FLAC; ``report`` hears the
    separator's blocks (when it reports them)."""
    import soundfile as sf

    from ..fsutil.atomic import atomic_path
    from ..separate import get_separator
    from ..separate.dualtrack import UNMAPPED_WHY, UNSHARED_WHY

    opts: dict[str, object] = {}
    if ctx.options.separator_model:
        opts["model"] = ctx.options.separator_model
    if ctx.options.separator == "demucs" and ctx.options.asr_device != "auto":
        opts["device"] = ctx.options.asr_device
    separator = get_separator(ctx.options.separator, **opts)
    sync = ctx.read_json("sync.json")
    time_map = TimeMap.from_dict(sync) if sync["applied"] else None
    result = separator.separate(ctx.analysis_audio(JP), ANALYSIS_SR, reference=ctx.analysis_audio(EN),
                                time_map=time_map, **_reporting(separator.separate, report))
    with atomic_path(ctx.artifact("backing.flac"), sync=False) as tmp:  # media: identity-checked
        sf.write(tmp, np.clip(result.backing, -1, 1), ANALYSIS_SR, format="FLAC", subtype="PCM_16")
    dest = ctx.artifact("separate.json")
    regions = [{"start": round(a, 3), "end": round(b, 3), "why": why} for a, b, why in result.single_track_regions]
    note = f"separation fell back to {result.method}: {result.reason}" if result.fallback else None
    unshared = [r for r in regions if r["why"] == UNSHARED_WHY]
    if unshared and note is None:
        spans = ", ".join(f"{r['start']:.1f}-{r['end']:.1f} s" for r in unshared)
        note = (f"the JP and EN mixes do not share the backing at JP {spans} (EN music or effects replaced?): "
                "the backing there is a single-track estimate")
    cut = [r for r in regions if r["why"] == UNMAPPED_WHY]
    if cut and not result.fallback:
        spans = ", ".join(f"{r['start']:.1f}-{r['end']:.1f} s" for r in cut)
        cut_note = f"JP {spans} has no EN counterpart (cut from EN): the backing there is a single-track estimate"
        note = cut_note if note is None else f"{note}; {cut_note}"
    tm = result.time_map
    write_json_atomic(dest, {"method": result.method, "fallback": result.fallback, "note": note,
                             "agreement": result.agreement, "sample_rate": ANALYSIS_SR,
                             "single_track_regions": regions,
                             "time_map": None if tm is None else tm.to_dict()})
    return str(dest)


def _json_artifact(ctx: EpisodeContext, stage: str, payload: object) -> str:
    """Write ``payload`` as the stage's JSON artifact (named in :data:`STAGES`) and return its path."""
    dest = ctx.artifact(STAGE_BY_NAME[stage].artifact)
    write_json_atomic(dest, payload)
    return str(dest)


def stage_align(ctx: EpisodeContext) -> str:
    """Align EN and JP segments into clips; attach subtitles, speakers, mixing ratios and IDs."""
    from .episode_clips import make_episode_clips

    return _json_artifact(ctx, "align", make_episode_clips(ctx))


def stage_cut(ctx: EpisodeContext, report: Reporter = no_report) -> str:
    """Cut every clip's media into the release (one decode per stream); ``report`` hears the clip files written."""
    from .cutting import cut_episode

    return _json_artifact(ctx, "cut", cut_episode(ctx, report))


def stage_frames(ctx: EpisodeContext) -> str:
    """Extract frames at ``frames_fps`` from the JP video into the release."""
    from .cutting import extract_episode_frames

    return _json_artifact(ctx, "frames", extract_episode_frames(ctx))


def stage_score(ctx: EpisodeContext) -> str:
    """Score alignment, sync, diarization and separation against the ground truth."""
    from .scoring import score_episode

    return _json_artifact(ctx, "score", score_episode(ctx))


STAGES: tuple[Stage, ...] = (
    Stage("probe", (), stage_probe, "probe.json"),
    # second: reading the subtitles takes milliseconds, so a malformed file fails before minutes of audio work
    Stage("subtitles", ("probe",), stage_subtitles, "subtitles.json", extra_outputs=(SUBTITLE_CHOICE,)),
    Stage("audio", ("probe",), stage_audio, "audio.json", extra_outputs=(f"{JP}.16k.flac", f"{EN}.16k.flac")),
    Stage("sync", ("audio",), stage_sync, "sync.json"),
    Stage("asr_en", ("audio",), stage_asr_en, "en.transcript.json", "gpu-capable", reports=True),
    Stage("asr_ja", ("audio",), stage_asr_ja, "ja.transcript.json", "gpu-capable", reports=True),
    Stage("separate", ("sync",), stage_separate, "separate.json", "gpu-capable", extra_outputs=("backing.flac",),
          reports=True),
    Stage("diarize", ("audio", "separate", "subtitles"), stage_diarize, "jp.rttm", "gpu-capable", reports=True),
    Stage("align", ("sync", "asr_en", "asr_ja", "subtitles", "diarize", "separate"), stage_align, "clips.json"),
    Stage("cut", ("align",), stage_cut, "cut.json", reports=True),
    Stage("frames", ("probe",), stage_frames, "frames.json"),
    Stage("score", ("align",), stage_score, "score.json"),
)
STAGE_BY_NAME = {s.name: s for s in STAGES}


def run_stage(name: str, ctx: EpisodeContext, report: Reporter | None = None) -> tuple[str, float, float]:
    """Run one stage in this process; returns (artifact path, wall seconds, CPU seconds). Used by every runner.

    ``report`` hears how far a long stage (``Stage.reports``: ASR, separation, diarization, cut) is
    (:data:`anim400k.progress.Reporter`); the others do not call it.

    The CPU seconds are this process's (all its threads) while the stage ran: every runner runs one
    stage at a time per process, so they are the stage's own. The BLAS thread pools (NumPy's, SciPy's)
    run one thread during the stage in every runner (``--jobs 1`` included) and the diarizer one
    torch thread: a stage that spreads its work does so itself (:mod:`anim400k.threads`). In-process,
    NumPy's, SciPy's and torch's pools of 2 threads each, busy-waiting between calls once the
    separation had run, made the diarizer of a 300 s episode cost 42.6 instead of 9.6 CPU-s.
    (OpenMP is not limited: CTranslate2's workers would run one at a time.)
    """
    import time

    from threadpoolctl import threadpool_limits

    force_offline()
    t0, c0 = time.perf_counter(), time.process_time()
    with threadpool_limits(limits=1, user_api="blas"):  # one BLAS thread, as OMP_NUM_THREADS=1 gives pool workers
        stage = STAGE_BY_NAME[name]
        artifact = stage.fn(ctx, report) if stage.reports and report is not None else stage.fn(ctx)
    return artifact, time.perf_counter() - t0, time.process_time() - c0
