"""A tiny synthetic release and dub systems for demos and tests of the evaluation tools.

Speech is real espeak-ng speech (the embedded TTS), so VAD, loudness and speaker
embeddings behave as on speech. The "JP source" of each clip is a different voice
speaking a different line with its own timing; the gold EN is a third voice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..formats import ids
from ..media.av_path import av_path
from ..model import Clip

LINES = [
    ("konnichiwa, ogenki desu ka", "Hello there, how have you been?"),
    ("kore wa watashi no tomodachi desu", "This is my friend from school."),
    ("ashita wa ame ga furu deshou", "It will probably rain tomorrow."),
    ("isoide kudasai, jikan ga nai", "Please hurry, we are out of time."),
    ("sore wa hontou ni sugoi", "That is really amazing, you know."),
    ("mou ichido itte kudasai", "Could you say that one more time?"),
]


@dataclass
class DemoRelease:
    """Paths of a demo release and the EN clip IDs in it."""

    root: Path
    en_clips: list[str]
    jp_clips: list[str]
    sr: int


def _speak(text: str, sr: int, index: int, speed: float = 1.0) -> np.ndarray:
    from ..tts import get_synthesizer
    from ..tts.base import VoiceProfile

    synth = get_synthesizer("espeak")
    return synth.synthesize(text, VoiceProfile(speaker=f"spk{index}", index=index), sr, speed=speed)


def _place(speech: np.ndarray, sr: int, lead: float, duration: float, rng: np.random.Generator) -> np.ndarray:
    n = int(round(duration * sr))
    out = (rng.standard_normal(n) * 1e-4).astype(np.float32)
    start = int(round(lead * sr))
    seg = speech[: max(0, n - start)]
    out[start : start + seg.size] += seg
    return out


def make_demo_release(
    out: str | Path, n_clips: int = 3, sr: int = 16000, seed: int = 0, video: bool = False,
    subtitles: bool = False,
) -> DemoRelease:
    """Write a one-show release with ``n_clips`` clips (EN and JP audio as MP3) under ``out``.

    With ``video`` a small JP video clip (H.264, the JP audio) is written for each clip too; with
    ``subtitles`` each clip carries its EN line as ``en_subtitles`` (over the JP speech), so
    ``anim400k dub --dataset`` has a script to speak.
    """
    from ..media import write_audio
    from ..model import Subtitle

    root = Path(out)
    rng = np.random.default_rng(seed)
    clips = []
    en_ids: list[str] = []
    jp_ids: list[str] = []
    t = 10.0
    for i in range(n_clips):
        jp_text, en_text = LINES[i % len(LINES)]
        jp = _speak(jp_text, sr, 1, speed=1.1)
        en = _speak(en_text, sr, 0)
        dur = round(max(jp.size, en.size) / sr + 0.6, 3)
        jp_audio = _place(jp, sr, 0.25, dur, rng)
        en_audio = _place(en, sr, 0.3, dur, rng)
        jp_id = ids.clip_id("demo_show", "1", "jp", t, t + dur)
        en_id = ids.clip_id("demo_show", "1", "en", t, t + dur)
        write_audio(ids.id_path(root, ids.AUDIO_ARCHIVE, jp_id, "mp3"), jp_audio, sr)
        write_audio(ids.id_path(root, ids.AUDIO_ARCHIVE, en_id, "mp3"), en_audio, sr)
        if video:
            _write_video(ids.id_path(root, ids.VIDEO_ARCHIVE, jp_id, "mp4"), jp_audio, sr, i)
        subs = [Subtitle(t + 0.25, round(t + 0.25 + jp.size / sr, 3), en_text)] if subtitles else []
        clips.append(Clip(en_start=t, en_end=t + dur, jp_start=t, jp_end=t + dur, en_text=en_text, jp_text=jp_text,
                          speakers=["spk0"], jp_clip=jp_id, en_clip=en_id, en_subtitles=subs))
        en_ids.append(en_id)
        jp_ids.append(jp_id)
        t += dur + 1.0
    from ..release import clip_to_release_dict, write_annotations

    episode = {"url": "", "ratings": {}, "jp_video_id": "", "en_video_id": "", "synopsis": ""}
    episodes = [("1", episode, (clip_to_release_dict(c) for c in clips))]
    show = {"show": "Demo Show", "season": "Demo Show"}
    write_annotations(root / ids.ANNOTATIONS_FILE, [("demo_show", show, episodes)])
    return DemoRelease(root, en_ids, jp_ids, sr)


def _write_video(path: Path, audio: np.ndarray, sr: int, index: int) -> None:
    """A small H.264 + AAC clip: a coloured frame with a moving bar, ``audio`` as its track."""
    import av

    from ..fsutil.atomic import atomic_path

    fps, w, h = 10, 160, 96
    n_frames = max(1, int(audio.size / sr * fps))
    with atomic_path(path) as tmp, av.open(av_path(tmp), "w", format="mp4") as c:
        vs = c.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        aus = c.add_stream("aac", rate=sr)
        aus.layout = "mono"
        base = np.array([(40 + 60 * index) % 255, 90, 160], np.uint8)
        for k in range(n_frames):
            img = np.empty((h, w, 3), np.uint8)
            img[:] = base
            x = int(k / n_frames * (w - 10))
            img[:, x : x + 10] = 255
            for pkt in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(pkt)
        for pkt in vs.encode():
            c.mux(pkt)
        frame_size = 1024
        pcm = audio.astype(np.float32)
        for s in range(0, pcm.size, frame_size):
            chunk = pcm[s : s + frame_size]
            if chunk.size < frame_size:
                chunk = np.pad(chunk, (0, frame_size - chunk.size))
            fr = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
            fr.sample_rate = sr
            fr.pts = s
            for pkt in aus.encode(fr):
                c.mux(pkt)
        for pkt in aus.encode():
            c.mux(pkt)


def make_demo_systems(release: DemoRelease, out: str | Path, seed: int = 0) -> dict[str, Path]:
    """Two dub systems for ``release`` in the dub engineer's layout ``DIR/F/UUID.mp3``.

    ``close``: the gold EN, 80 ms late, with light noise (a good dub).
    ``tts``: a different voice, faster, starting late (a weaker dub).
    """
    from ..media import decode_audio, write_audio

    rng = np.random.default_rng(seed + 1)
    out = Path(out)
    systems = {"close": out / "close", "tts": out / "tts"}
    from ..release import load

    texts = {c.en_clip: c.en_text for c in load(release.root).clips()}
    for en_id in release.en_clips:
        gold = decode_audio(ids.id_path(release.root, ids.AUDIO_ARCHIVE, en_id, "mp3"), sr=release.sr)
        shift = int(0.08 * release.sr)
        close = np.concatenate([np.zeros(shift, np.float32), gold])[: gold.size]
        close = close + (rng.standard_normal(close.size) * 0.003).astype(np.float32)
        tts = _place(
            _speak(texts[en_id], release.sr, 2, speed=1.25), release.sr, 0.5, gold.size / release.sr, rng
        )
        folder, u = ids.parse_id(en_id)
        write_audio(systems["close"] / folder / f"{u}.mp3", close, release.sr)
        write_audio(systems["tts"] / folder / f"{u}.mp3", tts, release.sr)
    return systems
