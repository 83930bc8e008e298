"""The cut and frames stages: clip media and frames written into the release, one decode per stream."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..formats.ids import AUDIO_ARCHIVE, FRAMES_ARCHIVE, VIDEO_ARCHIVE, id_path, make_id
from ..model import EN, JP
from ..progress import Counter, Reporter
from ..storage import local_input
from .context import EpisodeContext

RELEASE_AUDIO_SR = 44100
#: episodes longer than this (seconds, the probed JP medium) keep the cut's 44.1 kHz tracks (JP, EN, backing)
#: in unnamed temporary files, memory-mapped (:mod:`anim400k.media.scratch`; the same clips): a movie's
#: tracks are then page cache the system may drop, not the stage's memory. Shorter ones (a 24-minute
#: episode's three tracks are ~0.75 GB) stay in memory and write nothing to the cache folder's disk.
TRACKS_ON_DISK_ABOVE_S = 1800.0


def tracks_on_disk(probe: dict[str, Any]) -> bool:
    """Whether the cut keeps its tracks on disk (:data:`TRACKS_ON_DISK_ABOVE_S`) for this ``probe.json``."""
    duration = probe.get(JP, {}).get("duration")
    return duration is None or float(duration) > TRACKS_ON_DISK_ABOVE_S


#: the cut stage's note of what it is about to write, kept while it cuts (see :func:`cut_episode`)
CUT_PENDING = "cut.pending.json"
#: the cut stage's artifact
CUT_ARTIFACT = "cut.json"


def _listed(data: Any, key: str) -> list[str]:
    """The strings under ``key`` of a JSON object read from a cut artifact (nothing if malformed)."""
    value = data.get(key) if isinstance(data, dict) else None
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _read_state(ctx: EpisodeContext, name: str) -> Any:
    """A cut state file of the episode (``cut.json`` or the pending note); ``None`` if absent or unreadable."""
    try:
        return ctx.read_json(name)
    except (OSError, ValueError):
        return None


def previous_clip_files(ctx: EpisodeContext) -> list[str]:
    """Release files an earlier cut of this episode wrote or was writing (relative to the release root).

    The previous ``cut.json`` (its ``files`` and the ``stale`` files it had still to delete) and the
    note :data:`CUT_PENDING` that a cut killed mid-way left.
    """
    seen: dict[str, None] = {}
    for name in (CUT_ARTIFACT, CUT_PENDING):
        data = _read_state(ctx, name)
        for rel in (*_listed(data, "files"), *_listed(data, "stale")):
            seen[rel] = None
    return list(seen)


def recorded_clip_files(work_dir: Path) -> set[str]:
    """The clip files (relative to the release root) that the cut records in the work folder ``work_dir`` list:
    ``cut.json``'s and ``cut.pending.json``'s ``files`` and ``stale`` (nothing for a missing or unreadable one)."""
    found: set[str] = set()
    for name in (CUT_ARTIFACT, CUT_PENDING):
        try:
            data = json.loads((work_dir / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        found.update(_listed(data, "files"), _listed(data, "stale"))
    return found


def remove_clip_files(root: Path, files: Iterable[str]) -> int:
    """Delete the release files ``files`` (relative to ``root``) that lie inside the clip media folders, and the
    folders they leave empty; anything else named is left alone. Returns how many were deleted."""
    removed = 0
    for rel in sorted(files):
        path = _safe_release_file(root, rel)
        if path is not None and _remove_release_file(root, path):
            removed += 1
    return removed


def _safe_release_file(root: Path, rel: str, folders: tuple[str, ...] = (AUDIO_ARCHIVE, VIDEO_ARCHIVE)
                       ) -> Path | None:
    """``root / rel`` when ``rel`` names a file inside one of the media ``folders`` (the clips'), else None."""
    parts = Path(rel).parts
    if Path(rel).is_absolute() or ".." in parts or len(parts) < 2 or parts[0] not in folders:
        return None
    return root / rel


def _remove_release_file(root: Path, path: Path) -> bool:
    """Delete the release file ``path`` and the (one- or two-level) folders it leaves empty; False if it was gone."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    for folder in (path.parent, path.parent.parent):
        if folder == root:
            break
        try:
            folder.rmdir()  # only when empty
        except OSError:
            break
    return True


def cut_episode(ctx: EpisodeContext, report: Reporter | None = None) -> dict[str, Any]:
    """Cut the episode's clip media; return ``{"files", "sizes", "stale"}`` for ``cut.json``.

    ``report`` hears the clip files written (unit ``clip``, out of every file the cut writes).

    ``files`` are the release files written (relative to the release root), ``sizes`` their sizes
    in bytes (a resumed build re-cuts the episode when one is missing or differs,
    :func:`cut_outputs_problem`), ``stale`` the files of an earlier cut of the episode that this one
    did not write (another ``--tolerance-ms``, ``--no-video-clips``...): the driver deletes them once
    this artifact is recorded (:func:`remove_stale_clips`). Before cutting, the files an earlier cut
    left are noted in :data:`CUT_PENDING`, so a cut killed half-way loses track of nothing.
    """
    from ..fsutil.atomic import write_json_atomic

    root = Path(ctx.release_dir)
    earlier = previous_clip_files(ctx)
    planned = planned_clip_files(ctx)
    write_json_atomic(ctx.artifact(CUT_PENDING), {"stale": earlier, "files": planned})
    written_count = Counter(report, len(planned), "clip")
    written_count.add(0)
    files = _cut_media(ctx, written_count.tick) if ctx.clips() else []
    written_count.add(len(planned))
    written = set(files)
    stale = [rel for rel in earlier if rel not in written and (p := _safe_release_file(root, rel)) is not None
             and p.is_file()]
    return {"files": files, "sizes": [(root / f).stat().st_size for f in files], "stale": stale}


def cuts_video(ctx: EpisodeContext, probe: dict[str, Any] | None = None) -> bool:
    """Whether the episode's clips get an MP4 each: video clips are asked for and its JP medium has video.

    The release marks an episode without them (``"video_clips": false``), so that ``validate`` does not ask
    for MP4s that were never cut (an audio-only episode in a release whose other episodes have video).
    """
    probe = ctx.read_json("probe.json") if probe is None else probe
    return bool(ctx.options.video_clips and probe.get("has_video"))


def planned_clip_files(ctx: EpisodeContext) -> list[str]:
    """The release files (relative to the release root) that cutting this episode writes."""
    probe = ctx.read_json("probe.json")
    files: list[str] = []
    clips = ctx.clips()
    root = Path(ctx.release_dir)
    for c in clips:
        files.append(str(id_path(root, AUDIO_ARCHIVE, c.jp_clip, "mp3").relative_to(root)))
        files.append(str(id_path(root, AUDIO_ARCHIVE, c.en_clip, "mp3").relative_to(root)))
        if ctx.options.backing_clips and c.backing_clip:
            files.append(str(id_path(root, AUDIO_ARCHIVE, str(c.backing_clip), "mp3").relative_to(root)))
        if cuts_video(ctx, probe):
            files.append(str(id_path(root, VIDEO_ARCHIVE, c.jp_clip, "mp4").relative_to(root)))
    return files


def cut_outputs_problem(ctx: EpisodeContext, check_files: bool = True) -> str | None:
    """Why the episode's finished cut is not intact (``cut.json`` unreadable, a file missing or of
    another size than when it was written), or None when it is. A ``cut.json`` of an older build
    without sizes is checked for existence only; without ``check_files`` only ``cut.json`` is."""
    data = _read_state(ctx, CUT_ARTIFACT)
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        return f"{ctx.artifact(CUT_ARTIFACT)} is missing or unreadable"
    root = Path(ctx.release_dir)
    files, sizes = data["files"], data.get("sizes")
    if not isinstance(sizes, list) or len(sizes) != len(files):
        sizes = [None] * len(files)
    for rel, size in zip(files, sizes, strict=True):
        path = _safe_release_file(root, rel) if isinstance(rel, str) else None
        if path is None:
            return f"{ctx.artifact(CUT_ARTIFACT)} lists {rel!r}, not a clip file of the release"
        if not check_files:
            continue
        try:
            actual = path.stat().st_size
        except OSError:
            return f"clip file {rel} is missing"
        if isinstance(size, int) and actual != size:
            return f"clip file {rel} has {actual} bytes, {size} when it was cut"
    return None


def remove_stale_clips(ctx: EpisodeContext) -> int:
    """Delete the clip files of earlier cuts that the recorded ``cut.json`` lists as stale; return how many.

    Only files inside the clip media folders, never one the current cut wrote; a folder left empty
    is removed. Run by the driver after the cut is recorded in the catalog (a crash before that
    re-cuts, which carries the stale list over; a crash after it deletes them on the next run).
    """
    data = _read_state(ctx, CUT_ARTIFACT)
    root = Path(ctx.release_dir)
    keep = set(_listed(data, "files"))
    removed = 0
    for rel in _listed(data, "stale"):
        path = _safe_release_file(root, rel)
        if rel not in keep and path is not None and _remove_release_file(root, path):
            removed += 1
    ctx.artifact(CUT_PENDING).unlink(missing_ok=True)
    return removed


def _cut_media(ctx: EpisodeContext, on_clip: Callable[[Path], None] | None = None) -> list[str]:
    """Write every clip's JP/EN (and backing) MP3 and JP MP4; return the list of files written
    (``on_clip`` is told each file's path as it is written, from the encoding threads).

    The audio clips (JP, then EN and backing, each track decoded once) are cut in a thread of
    their own while the video clips encode, so the two overlap on a machine with spare cores
    (each side also spreads its encoders over threads); a task with one thread
    (:func:`anim400k.threads.task_threads`) cuts the video clips, then the audio clips. The files
    are the same either way; the list keeps the order JP audio, video, EN audio, backing.

    Above :data:`TRACKS_ON_DISK_ABOVE_S` the 44.1 kHz JP and EN tracks and the backing are memory maps of
    unnamed temporary files (``decode_audio(..., on_disk=True)``, :mod:`anim400k.media.scratch`): a 2-hour
    movie's three tracks (3.8 GB of float32) are page cache the system can drop, not memory the stage holds.
    """
    from concurrent.futures import ThreadPoolExecutor

    from .. import media
    from ..threads import task_threads

    clips = ctx.clips()
    probe = ctx.read_json("probe.json")
    root = Path(ctx.release_dir)
    jp_iv = [(c.jp_start, c.jp_end) for c in clips]
    jp_audio = media.decode_audio(local_input(probe[JP]["source"]), stream=probe[JP]["audio_index"],
                                   sr=RELEASE_AUDIO_SR, on_disk=tracks_on_disk(probe))
    video_paths: list[Path] = []
    if cuts_video(ctx, probe):
        video_paths = [id_path(root, VIDEO_ARCHIVE, c.jp_clip, "mp4") for c in clips]

    def cut_video() -> None:
        if video_paths:
            media.cut_video_clips(local_input(probe[JP]["source"]), jp_iv, video_paths,
                                  audio=(jp_audio, RELEASE_AUDIO_SR), height=ctx.options.video_height,
                                  preset=ctx.options.video_preset, on_clip=on_clip)

    if task_threads() == 1:  # a one-thread task (a pool worker's share of the cores): one side after the other
        cut_video()
        jp_paths, other_paths = _cut_audio_tracks(ctx, clips, jp_audio, probe, root, on_clip)
    else:
        with ThreadPoolExecutor(1, thread_name_prefix="cut-audio") as pool:
            audio_job = pool.submit(_cut_audio_tracks, ctx, clips, jp_audio, probe, root, on_clip)
            cut_video()
            jp_paths, other_paths = audio_job.result()
    files = [*map(str, jp_paths), *map(str, video_paths), *map(str, other_paths)]
    return [str(Path(f).relative_to(root)) for f in files]


def _cut_audio_tracks(ctx: EpisodeContext, clips: list[Any], jp_audio: Any, probe: dict[str, Any],
                      root: Path, on_clip: Callable[[Path], None] | None = None) -> tuple[list[Path], list[Path]]:
    """The audio side of :func:`cut_episode`: JP clips, then EN and backing clips; returns (JP, EN+backing).

    The backing clips are full band at the JP clips' rate (:func:`.backing.release_backing`, from the
    JP and EN tracks decoded here and the separate stage's 16 kHz backing).
    """
    from .. import media
    from .backing import release_backing

    bitrate = ctx.options.audio_bitrate
    jp_iv = [(c.jp_start, c.jp_end) for c in clips]
    jp_paths = [id_path(root, AUDIO_ARCHIVE, c.jp_clip, "mp3") for c in clips]
    media.cut_audio_clips(jp_audio, RELEASE_AUDIO_SR, jp_iv, jp_paths, bitrate=bitrate, on_clip=on_clip)
    en_audio = media.decode_audio(local_input(probe[EN]["source"]), stream=probe[EN]["audio_index"],
                                   sr=RELEASE_AUDIO_SR, on_disk=tracks_on_disk(probe))
    en_paths = [id_path(root, AUDIO_ARCHIVE, c.en_clip, "mp3") for c in clips]
    media.cut_audio_clips(en_audio, RELEASE_AUDIO_SR, [(c.en_start, c.en_end) for c in clips], en_paths,
                          bitrate=bitrate, on_clip=on_clip)
    b_paths: list[Path] = []
    if ctx.options.backing_clips:
        backing = release_backing(ctx, jp_audio, en_audio, RELEASE_AUDIO_SR, jp_iv, on_disk=tracks_on_disk(probe))
        del en_audio
        b_paths = [id_path(root, AUDIO_ARCHIVE, str(c.backing_clip), "mp3") for c in clips]
        media.cut_audio_clips(backing, RELEASE_AUDIO_SR, jp_iv, b_paths, bitrate=bitrate, on_clip=on_clip)
    return jp_paths, en_paths + b_paths


def extract_episode_frames(ctx: EpisodeContext) -> dict[str, Any]:
    """Extract JP-video frames at ``options.frames_fps`` into ``anim400k_frames/F/UUID.jpg``.

    The frames of the episode's earlier extraction (another ``--frames-fps``: other IDs) that this one
    did not write are deleted afterwards (:func:`remove_earlier_frames`).
    """
    data = extract_frames_of(ctx)
    remove_earlier_frames(ctx, {row["path"] for row in data["frames"]})
    return data


def remove_earlier_frames(ctx: EpisodeContext, keep: set[str]) -> int:
    """Delete the frame files the episode's previous ``frames.json`` lists but ``keep`` does not; return how many.

    Run before the new ``frames.json`` replaces the old one, so a stage killed on the way deletes them on
    its next run. Only files inside ``anim400k_frames``.
    """
    earlier = listed_frame_files(ctx.artifact("frames.json"))
    return remove_frame_files(Path(ctx.release_dir), earlier - keep)


def listed_frame_files(frames_json: Path) -> set[str]:
    """The frame files (relative to the release root) that a frames stage's ``frames.json`` lists: those it
    wrote. Empty when the file is missing or does not read."""
    try:
        rows = json.loads(frames_json.read_text(encoding="utf-8")).get("frames")
    except (OSError, ValueError, AttributeError):
        return set()
    return {r["path"] for r in rows if isinstance(r, dict) and isinstance(r.get("path"), str)} \
        if isinstance(rows, list) else set()


def remove_frame_files(root: Path, files: Iterable[str]) -> int:
    """Delete the release files ``files`` (relative to ``root``) that lie inside ``anim400k_frames``, and the
    folders they leave empty; anything else named is left alone. Returns how many were deleted."""
    removed = 0
    for rel in sorted(files):
        path = _safe_release_file(root, rel, (FRAMES_ARCHIVE,))
        if path is not None and _remove_release_file(root, path):
            removed += 1
    return removed


def extract_frames_of(ctx: EpisodeContext) -> dict[str, Any]:
    """Extract the episode's frames; return ``{"fps", "frames"}`` (the rows of ``frames.json``)."""
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
