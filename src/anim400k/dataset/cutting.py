"""The cut and frames stages: clip media and frames written into the release, one decode per stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..formats.ids import AUDIO_ARCHIVE, FRAMES_ARCHIVE, VIDEO_ARCHIVE, id_path, make_id
from ..model import EN, JP
from ..storage import local_input
from .context import EpisodeContext

RELEASE_AUDIO_SR = 44100


def cut_episode(ctx: EpisodeContext) -> dict[str, Any]:
    """Write every clip's JP/EN (and backing) MP3 and JP MP4; return the list of files written.

    The audio clips (JP, then EN and backing, each track decoded once) are cut in a thread of
    their own while the video clips encode, so the two overlap on a machine with spare cores
    (each side also spreads its encoders over threads); a task with one thread
    (:func:`anim400k.threads.task_threads`) cuts the video clips, then the audio clips. The files
    are the same either way; the list keeps the order JP audio, video, EN audio, backing.
    """
    from concurrent.futures import ThreadPoolExecutor

    from .. import media
    from ..threads import task_threads

    clips = ctx.clips()
    probe = ctx.read_json("probe.json")
    root = Path(ctx.release_dir)
    if not clips:
        return {"files": []}
    jp_iv = [(c.jp_start, c.jp_end) for c in clips]
    jp_audio = media.decode_audio(local_input(probe[JP]["source"]), stream=probe[JP]["audio_index"],
                                   sr=RELEASE_AUDIO_SR)
    video_paths: list[Path] = []
    if ctx.options.video_clips and probe.get("has_video"):
        video_paths = [id_path(root, VIDEO_ARCHIVE, c.jp_clip, "mp4") for c in clips]

    def cut_video() -> None:
        if video_paths:
            media.cut_video_clips(local_input(probe[JP]["source"]), jp_iv, video_paths,
                                  audio=(jp_audio, RELEASE_AUDIO_SR), height=ctx.options.video_height,
                                  preset=ctx.options.video_preset)

    if task_threads() == 1:  # a one-thread task (a pool worker's share of the cores): one side after the other
        cut_video()
        jp_paths, other_paths = _cut_audio_tracks(ctx, clips, jp_audio, probe, root)
    else:
        with ThreadPoolExecutor(1, thread_name_prefix="cut-audio") as pool:
            audio_job = pool.submit(_cut_audio_tracks, ctx, clips, jp_audio, probe, root)
            cut_video()
            jp_paths, other_paths = audio_job.result()
    files = [*map(str, jp_paths), *map(str, video_paths), *map(str, other_paths)]
    return {"files": [str(Path(f).relative_to(root)) for f in files]}


def _cut_audio_tracks(ctx: EpisodeContext, clips: list[Any], jp_audio: Any, probe: dict[str, Any],
                      root: Path) -> tuple[list[Path], list[Path]]:
    """The audio side of :func:`cut_episode`: JP clips, then EN and backing clips; returns (JP, EN+backing)."""
    import soundfile as sf

    from .. import media

    bitrate = ctx.options.audio_bitrate
    jp_iv = [(c.jp_start, c.jp_end) for c in clips]
    jp_paths = [id_path(root, AUDIO_ARCHIVE, c.jp_clip, "mp3") for c in clips]
    media.cut_audio_clips(jp_audio, RELEASE_AUDIO_SR, jp_iv, jp_paths, bitrate=bitrate)
    en_audio = media.decode_audio(local_input(probe[EN]["source"]), stream=probe[EN]["audio_index"],
                                   sr=RELEASE_AUDIO_SR)
    en_paths = [id_path(root, AUDIO_ARCHIVE, c.en_clip, "mp3") for c in clips]
    media.cut_audio_clips(en_audio, RELEASE_AUDIO_SR, [(c.en_start, c.en_end) for c in clips], en_paths,
                          bitrate=bitrate)
    del en_audio
    b_paths: list[Path] = []
    if ctx.options.backing_clips:
        backing, sr = sf.read(ctx.artifact("backing.flac"), dtype="float32")
        b_paths = [id_path(root, AUDIO_ARCHIVE, str(c.backing_clip), "mp3") for c in clips]
        media.cut_audio_clips(backing, sr, jp_iv, b_paths, bitrate=bitrate)
    return jp_paths, en_paths + b_paths


def extract_episode_frames(ctx: EpisodeContext) -> dict[str, Any]:
    """Extract JP-video frames at ``options.frames_fps`` into ``anim400k_frames/F/UUID.jpg``."""
    from .. import media

    root = Path(ctx.release_dir)
    fps = float(ctx.options.frames_fps or 1.0)
    show, ep = ctx.ref.show_key, ctx.ref.episode

    def path_for(index: int) -> Path:
        return id_path(root, FRAMES_ARCHIVE, make_id(show, ep, "frame", fps, index), "jpg")

    rows = []
    for index, t, path in media.extract_frames(local_input(ctx.ref.jp_media), fps, path_for):
        fid = make_id(show, ep, "frame", fps, index)
        rows.append({"show": show, "episode": ep, "index": index, "time": round(float(t), 3), "frame_id": fid,
                     "path": str(Path(path).relative_to(root))})
    return {"fps": fps, "frames": rows}
