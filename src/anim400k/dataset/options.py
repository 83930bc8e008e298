"""Build options and the per-stage configuration hashes derived from them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from ..model import DEFAULT_TOLERANCE_MS
from ..signal import ANALYSIS_SR

__all__ = ["ANALYSIS_SR", "STAGE_OPTION_KEYS", "STAGE_VERSIONS", "X264_PRESETS", "BuildOptions", "stage_config"]

#: ``video_preset`` choices: x264's presets, fastest first (as ``anim400k.media.video.X264_PRESETS``; kept
#: here too so the CLI need not import the media package)
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


@dataclass(slots=True)
class BuildOptions:
    """Everything that changes what a build produces (plus how it is scheduled).

    Backend names are looked up in each capability's registry (``asr``, ``diarize``,
    ``separate``). ``asr_model`` is a local path or cached model name for production ASR;
    ``separator_model`` the local demucs model (file or folder), ``diarizer_model`` the diarizer's
    (anime folder, pyannote config). :func:`anim400k.dataset.preflight.check_backends` checks them
    all before a build plans any stage. ``asr_device`` (``auto``,
    ``cpu``, ``cuda``) goes to every backend that runs on a device: the ASR, the diarizer
    (``cpu``/``cuda`` only; ``auto`` keeps its default) and demucs. ``video_preset`` is the
    video clips' x264 preset (CRF 23; :data:`X264_PRESETS`).
    """

    asr_en: str = "auto"
    asr_ja: str = "auto"
    asr_model: str | None = None
    asr_device: str = "auto"
    tolerance_ms: int = DEFAULT_TOLERANCE_MS
    sync: bool = True
    diarizer: str = "embedded"
    #: the diarizer's local model: the ``anime`` folder or the ``pyannote`` pipeline config (or its folder);
    #: ``None``: the backend's environment variable
    diarizer_model: str | None = None
    separator: str = "dualtrack"
    separator_model: str | None = None
    video_clips: bool = True
    video_height: int | None = None
    video_preset: str = "fast"
    backing_clips: bool = True
    frames_fps: float | None = None
    archive: bool = False
    audio_bitrate: str = "128k"
    #: workers of the local runner: 1 runs every stage in this process, N a pool of N, 0 one per CPU, None
    #: (``--jobs auto``) picks by the work left and the machine (:mod:`anim400k.dataset.auto_jobs`)
    jobs: int | None = None
    runner: str = "local"
    ray_address: str | None = None
    retries: int = 2
    progress: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """Plain dict of the options."""
        return asdict(self)


# Which options each stage's output depends on (scheduling options never count).
STAGE_OPTION_KEYS: dict[str, tuple[str, ...]] = {
    "probe": (),
    "audio": (),
    "sync": ("sync",),
    "asr_en": ("asr_en", "asr_model"),
    "asr_ja": ("asr_ja", "asr_model"),
    "subtitles": (),
    "diarize": ("diarizer", "diarizer_model"),
    "separate": ("separator", "separator_model"),
    "align": ("tolerance_ms", "backing_clips"),
    "cut": ("video_clips", "video_height", "video_preset", "backing_clips", "audio_bitrate"),
    "frames": ("frames_fps",),
    "score": (),
}


#: Bumped when a stage's output changes for the same options (diarize 2: the EN dub's speech as a second view of
#: each JP speaker, separate 2: ``separate.json`` stores the EN time map for it; diarize 10: a cluster of
#: overlapped lines left out, ``crowded_cluster_seconds``; asr_en 2-3: ``auto`` English is
#: Whisper tiny.en, 4: its windows keep 0.3 s of context; score 2: the English WER against the
#: truth, 3: contractions normalised as Whisper's normaliser does; cut 2: MP3 clips at LAME ``-q 5``;
#: align 2: EN times clipped to the EN medium; subtitles 2: a subtitle stream's times counted from the
#: container's start time, as the decoded audio's are, 3: of several subtitle streams tagged with the
#: language, not a forced or signs-and-songs one; 4: ASS signs and songs left out and counted,
#: ``subtitles.json`` an object; cut 3: video clips in square pixels at the display aspect,
#: tagged with the source's colour properties, at the pictures' rate when the nominal one is far above it;
#: cut 4: backing clips full band at the JP clips' 44.1 kHz, not the 16 kHz separation's backing;
#: sync 2: an edited EN medium mapped piecewise (``pieces``, applied) instead of unreliable; separate 3: the
#: map's pieces applied, a JP span cut from EN single-track, ``time_map`` with its pieces; align 3: clips
#: aligned piece by piece, ``edited_en`` counts; subtitles 5: ASS escaped braces ``\{`` ``\}`` read as text,
#: as libass renders them, not as an override block hiding the words after them; sync 3: EN re-timed with pitch
#: correction mapped from short unresampled segments, applied, with ``precision_ms`` (not sample-precise: the
#: separation uses one track), instead of unreliable; align 4: each medium's length is its decoded stream's,
#: not the container's, which in a file holding both languages is the longer stream's; align 5: ``mixing_ratio``
#: from the separated backing with its Wiener shrinkage undone, ``mixing.estimated_mixing_ratios``); diarize 3:
#: the EN subtitles (the subtitles stage) are the diarizer's speaker cues, the stage depends on that stage;
#: subtitles 6: YouTube rolling and Whisper highlight captions read once, positioned lines of a per-character
#: ASS style kept, ASS time fractions as FFmpeg/libass read them, Matroska SRT/WebVTT read from the cue text;
#: diarize 4: a two-speaker dash event read as one from ``subtitles.json``'s text, its line breaks made spaces;
#: subtitles 7: a Whisper highlight line said twice in a row read as two events, not one spanning both;
#: subtitles 8: each event's ``speaker`` where the file names one (ASS Name field, SDH label), the diarizer's hint.
#: diarize 5: subtitle events holding no speech and naming no speaker (SDH sound descriptions, lyrics) are no cue.
#: subtitles 9: an SDH label with an aside before its colon (``HARUHI (O.S.):``) is the event's speaker.
#: subtitles 10: an SDH label is a name-like name with text after its colon (``OK: fine`` names no speaker); a
#: media file given as ``subtitles`` read through its English dialogue stream (as ``subtitle_stream: eng``), not
#: its first.
#: diarize 6: an event starting inside another one-speaker event (two lines on screen at once) adds a second
#: speaker there when the audio's turns have none (``subtitle_overlap``), so the release's clip speakers change.
#: subtitles 11: such a media file whose every ``eng`` text stream is forced or signs-and-songs is read through
#: its first untagged text stream that is neither (the dialogue), not the ``eng`` signs track.
#: subtitles 12: SDH labels of accented, other-script or digit-led capitals (``ÉMILE:``, ``2B:``) and on an empty
#: last dash line (``- KYON: Hi.\n- HARUHI:``) are speakers; ``Q&A:`` is no label.
#: subtitles 13: a WebVTT cue's voice span names its speaker (``<v Roger Bingham>``; one voice per cue).
#: subtitles 14: a label after a closed-caption speaker-change marker (``>> KYON: Hi.``) is a speaker.
#: subtitles 15: an ordinal, a time or a decade (``1ST:``, ``5PM:``, ``90S:``) is no speaker's name.
#: align 6: a clip clamped to the JP medium's end keeps only the subtitle events overlapping its stored JP
#: interval (an event wholly past the medium's end was kept, and ``anim400k validate`` refused it).
#: diarize 7: short runs of speech between pauses re-scored on their own audio and given to the speaker that fits
#: them clearly better (``short_run_margin``), so the turns and the release's clip speakers change.
#: diarize 8: a speaker with no window for a centroid is no candidate for a short run (they scored a cosine of
#: 0 and took any run whose own speaker scored below -``short_run_margin``), and their own runs are left alone.
#: score 4: the Japanese reading CER against the truth (``asr_ja``). No ``asr_ja`` bump when ``auto`` went from
#: ``vad`` to ``whisper-base`` for Japanese: the stage's key holds the config of the backend ``auto`` gives the
#: language (:func:`anim400k.dataset.stages.backend_settings`), so a resumed default build transcribes JP once
#: more while one that named ``--asr-ja vad`` or ``whisper-base`` keeps its finished stage.
#: cut 5: the MP3 clips are encoded by the ``lameenc`` wheel's LAME (same LAME 3.100 and settings, 16-bit input,
#: other bytes; ~0.3x the CPU) with the Info/LAME tag written by ``media.mp3_gapless.lame_info_frame``.
#: asr_ja 2: ``whisper-base`` decodes the first greedy pass of up to 4 windows as one batch (``decode_batch`` in
#: its config, which keys the stage too): the same words measured, but batched float sums may round differently.
#: asr_en 5: ``whisper-tiny-en`` decodes the first beam-search pass of up to 8 windows as one batch (``decode_batch``
#: in its config, which keys the stage too): the same words measured, but batched float sums may round differently.
#: cut 6: the backing clips' high band is estimated on the STFT frames near the clips only, not on whole 30 s
#: blocks (``fullband.block_pieces``): 0.6x its CPU, the same SDR, other bytes (within a 16-bit step).
#: cut 7: those pieces read their block's EN reference (cut 6 resampled or shifted it from each piece's start: with
#: drift or an edited EN medium the clips' samples were ~1e-3 off the block's estimate); other bytes.
#: subtitles 16: ASS/SSA fields read in the order the script's ``Format:`` lines declare, as libass reads them
#: (a reordered or shortened Format line was refused or misread: ``Format: Layer, Start, End, Style, Text``
#: put the text in the Name field).
#: cut 8: the MP3 clips' LAME tag CRC as LAME writes it and FFmpeg's demuxer checks it (the frame up to the CRC
#: field; FFmpeg's muxer's 190 bytes were wrong in mono frames, so the demuxer refused the tag's CRC); two bytes.
#: audio 2, cut 9: the mono downmix of a 5.1 (or other surround) track weighs the centre 1.414 (the BS.775 stereo
#: downmix's sum, FFmpeg's mono downmix), not 0.707 as a surround: the dialogue was 6 dB lower against the music.
#: Mono and stereo sources give the same samples.
#: cut 10, frames 2: pictures the decoder flags interlaced (DVD, 1080i) are deinterlaced (bwdif) before they are
#: scaled and encoded or saved (they were combed); frame JPEGs of an anamorphic source have square pixels at the
#: display aspect, as the clips (720x480 SAR 32:27: 852x480, was 720x480). Progressive square-pixel sources give
#: the same output.
#: diarize 9: windows under two subtitle events at once for >= 1 s (overlapped speech) are left out of the count
#: and the clustering and take the speaker they are most alike (``crowded_seconds``); they made speakers of their own.
#: diarize 11: two clusters alike in both views' centred centroids merge (``merge_views_jp``: a voice split in two).
#: diarize 12: the EN-view split at ``split_other_max`` 0.3 (was -0.2), kept only where the JP halves differ and
#: neither half sounds like another cluster's EN actor (``split_other_jp_max``, ``split_other_neighbour_max``).
#: diarize 13: one cluster is never cut by the EN view (centred over one voice, its halves scored as two actors).
#: diarize 14: guards against over-counting (``split_other_same_actor``, ``small_pitch_gap_override``,
#: ``both_views_pitch_override``, ``straddle_cluster_seconds`` with ``bad_cluster_dissolve``; docs/diarization.md).
#: sync 4: an estimate the fine stage could not confirm, whose coarse windows agree on a line (or a located edit's
#: two), maps by them, not sample-precise (``sync.coarse_map``), instead of the identity map; subtitles 17 and the
#: transcript import 10: docs/asr.md (services' JSON, Japanese lines and brackets, all-caps captions, TTML times).
#: sync 5: an edit's coarse map leaves the located span unmapped and needs the windows' share and a drift within
#: range; a reliable estimate whose fine matches are all off the line over 40 % of the JP track is made unreliable
#: (another episode sharing the opening/ending music). align 7: a clip with under half its EN span inside the EN
#: medium is dropped, not clamped to the tail of its line. cut 11: ``--video-height`` clips' width is the nearest even
#: size at the display aspect from the height made even (1920x1080 at 480: 854x480, was 852x480; 640x360 at 271:
#: 480x270, was 482x270). subtitles 18: lyrics marked by a note at each sung line's start are lyrics line by line
#: (every other one was read as speech, a spoken line after one as a lyric); one ``<u>`` for emphasis no longer
#: makes highlight captions (lines merged across gaps, voices dropped); all-caps sentences opening with a pronoun
#: or article before a colon (``THE PLAN: RUN.``) are no label; TTML read as TTML 1 times it (``formats.ttml``:
#: nested divs, timed spans, DFXP's first namespace).
STAGE_VERSIONS: dict[str, int] = {"asr_ja": 2, "asr_en": 5, "score": 4, "separate": 3, "diarize": 14, "cut": 11,
                                  "align": 7, "subtitles": 18, "sync": 5, "audio": 2, "frames": 2}

#: Bumped when :func:`anim400k.formats.transcripts.read_transcript` reads a given transcript (the manifest's
#: ``transcripts``) differently: an ``asr_en``/``asr_ja`` stage that imports one is keyed on it
#: (:func:`anim400k.dataset.stages.backend_settings`), not on ``STAGE_VERSIONS``, so that a change of the
#: reader does not make every build transcribe again. 2: subtitle files read as spoken (SDH descriptions,
#: speaker labels and lyrics removed; YouTube rolling and Whisper highlight captions read once, with word
#: times; TTML/SBV), AWS channel-identification jobs segmented per channel, the OpenAI API's file-level
#: ``words``, a file stating the other language refused; 3: SDH labels with an aside (``HARUHI (O.S.):``)
#: removed, the OpenAI API's word-only output read; 4: AWS channel-identification jobs without item ids read
#: per channel (from each channel's own items), SDH labels only of name-like names with text after the colon
#: (``OK: fine`` kept); 5: SDH labels of accented or digit-led capitals (``ÉMILE:``, ``2B:``) and on an empty last
#: dash line removed, ``Q&A:`` kept; 6: closed-caption speaker-change markers (``>>``, ``>>>``) removed, and a
#: label after one; 7: an empty last dash line is a label only after labelled dialogue (``- BUT
#: WHY?\n- BECAUSE:`` spoken again), ``1ST:``, ``5PM:``, ``90S:`` no label; 8: ASS/SSA fields in the order of
#: the script's ``Format:`` lines; 9: AWS segments end where the speaker label changes, AWS Call Analytics
#: JSON read (one segment per turn), faster-whisper segments and words dumped as JSON arrays read by position;
#: 10: AssemblyAI (ms) and ElevenLabs Scribe JSON read, an AWS multi-language job's language read, Japanese line
#: breaks joined without a space, Japanese SDH brackets removed, all-caps sentences before a colon kept, a cue
#: number cut off at an SRT's end dropped, TTML tick and frame times read; 11: lyrics marked at each line's start,
#: one ``<u>`` for emphasis, all-caps sentences before a colon (subtitles 18); 12: a Whisper tool's segments
#: that hold no speech dropped (openai-whisper's cleared ones, ``[BLANK_AUDIO]``, ``[Music]``), a space kept
#: between Latin words in Japanese (AssemblyAI, Scribe, AWS), the OpenAI API's ``segments: []`` beside its words,
#: whisperX words with ``null`` times read as unaligned.
TRANSCRIPT_IMPORT_VERSION = 12


#: Options added later to a stage's key: in it only when not their default, so earlier builds' finished
#: stages still match (``backing_clips`` for align: the clips carry a ``backing_clip`` ID only with it).
_KEYED_WHEN_CHANGED = frozenset({"diarizer_model", "backing_clips"})


def _is_default(options: BuildOptions, key: str) -> bool:
    """Whether ``options`` has the default value of ``key``."""
    return bool(getattr(options, key) == BuildOptions.__dataclass_fields__[key].default)


def stage_config(stage: str, options: BuildOptions, upstream: list[str], inputs: str = "",
                 backend: dict[str, object] | None = None) -> str:
    """A short hash of the options a stage depends on, its upstream stages' hashes and its inputs.

    ``backend`` is what the stage's backend does beyond its options (for ASR: the backend's
    name, options and ``config``, see :func:`anim400k.build.stages.backend_settings`).
    """
    payload: dict[str, object] = {
        "stage": stage,
        "options": {k: getattr(options, k) for k in STAGE_OPTION_KEYS.get(stage, ())
                    if not (k in _KEYED_WHEN_CHANGED and _is_default(options, k))},
        "upstream": upstream,
        "inputs": inputs,
        "version": STAGE_VERSIONS.get(stage, 1),
    }
    if backend is not None:
        payload["backend"] = backend
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]
