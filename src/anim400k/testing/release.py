"""A small hand-made Anim-400K release for the release/stats/tasks/export tests.

Every number in it is chosen so the statistics can be worked out by hand (see
``HAND_STATS``). Audio clips are tiny real MP3s written with PyAV.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

from ..formats import ids
from ..media.av_path import av_path
from ..release.schema import EPISODE_FIELDS, SHOW_FIELDS, complete_fields

SR = 16000


def write_mp3(path: Path, seconds: float, freq: float = 440.0) -> None:
    """A mono sine MP3 of ``seconds`` at 16 kHz."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(SR * seconds)) / SR
    x = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    with av.open(av_path(path), "w") as c:
        s = c.add_stream("mp3", rate=SR, layout="mono")
        frame = av.AudioFrame.from_ndarray(x[None, :], format="flt", layout="mono")
        frame.sample_rate = SR
        for p in s.encode(frame):
            c.mux(p)
        for p in s.encode(None):
            c.mux(p)


def write_jpg(path: Path, color: tuple[int, int, int] = (200, 30, 30)) -> None:
    """A 16x16 JPEG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (16, 16), color).save(path, "JPEG")


def _clip(
    show: str, ep: str, i: int, start: float, dur: float, jp: str, en: str, speakers: list[str]
) -> dict:
    def ts(s: float) -> str:
        ms = round(s * 1000)
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"

    return {
        "jp_clip": ids.clip_id(show, ep, "jp", start, start + dur),
        "en_clip": ids.clip_id(show, ep, "en", start, start + dur),
        "jp_text": jp,
        "en_text": en,
        "jp_start_time": ts(start),
        "jp_end_time": ts(start + dur),
        "en_start_time": ts(start + 0.5),
        "en_end_time": ts(start + 0.5 + dur),
        "speakers": speakers,
        "en_subtitles": [{"start": ts(start), "end": ts(start + dur), "text": en}],
        "multi_speaker": len(speakers) > 1,
        "mixing_ratio": 0.5,
    }


def complete(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (annotations) with every FORMAT.md show and episode field, unknown ones null/[]/{}.

    Shows keep their key order then get the missing fields; ``episodes`` and ``clips`` stay last.
    Values that are not objects (deliberately broken test data) are left as they are.
    """
    def episode(e: Any) -> Any:
        if not isinstance(e, dict):
            return e
        fields = complete_fields({k: v for k, v in e.items() if k != "clips"}, EPISODE_FIELDS, ("clips",))
        return {**fields, "clips": e.get("clips", [])}

    out: dict[str, Any] = {}
    for key, show in data.items():
        if not isinstance(show, dict):
            out[key] = show
            continue
        eps = show.get("episodes", {})
        eps = {n: episode(e) for n, e in eps.items()} if isinstance(eps, dict) else eps
        out[key] = {**complete_fields({k: v for k, v in show.items() if k != "episodes"}, SHOW_FIELDS,
                                      ("episodes",)), "episodes": eps}
    return out


def annotations() -> dict[str, Any]:
    """The hand-made annotations: 3 shows, 4 episodes, 6 clips (see HAND_STATS).

    Metadata not given below is written as unknown (``null``, ``[]``, ``{}``; see :func:`complete`).
    """
    return complete(_annotations())


def _annotations() -> dict[str, Any]:
    pic_a = ids.make_id("show_a", "pic", "Alice", 0)
    pic_b = ids.make_id("show_a", "pic", "Bob", 0)
    pic_c = ids.make_id("show_a", "pic", "Bob", 1)
    pic_d = ids.make_id("show_b", "pic", "Carol", 0)
    return {
        "show_a": {
            "show": "Show A",
            "season": "Season 1",
            "genres": ["Action", "Comedy", "Drama"],
            "themes": ["School"],
            "score": 8.5,
            "episode_num": 2,
            "synopsis": "A boy meets a girl.",
            "characters": {
                "Alice": {
                    "description": "The hero of the show.",
                    "role": "main",
                    "pic_urls": [pic_a],
                    "Voice Actors": ["VA 1"],
                },
                "Bob": {
                    "description": "A friend.",
                    "role": "supporting",
                    "pic_urls": [pic_b, pic_c],
                    "Voice Actors": [],
                },
            },
            "episodes": {
                "1": {
                    "url": "https://example.org/a/1",
                    # mean vote = 5*0.6 + 4*0.4 = 4.6 ; voters = 6 + 4 = 10
                    "ratings": {
                        "5": {"ratio": 60.0, "number_of_voters": 6.0},
                        "4": {"ratio": 40.0, "number_of_voters": 4.0},
                    },
                    "jp_video_id": "a1jp",
                    "en_video_id": "a1en",
                    "synopsis": "They meet at school today.",  # 5 words
                    "clips": [
                        # JP: 2 sentences, words 今日(1)は(1)晴れ(1)です(1) / 行こう(1) -> see HAND_STATS
                        _clip(
                            "show_a",
                            "1",
                            0,
                            10.0,
                            2.0,
                            "今日は晴れです。行こう！",
                            "It is sunny. Let's go!",
                            ["s1"],
                        ),
                        _clip("show_a", "1", 1, 20.0, 4.0, "はい", "Yes, well-known.", ["s1", "s2"]),
                    ],
                },
                "2": {
                    "url": "https://example.org/a/2",
                    # mean vote = 3*1.0 = 3.0 ; voters = 30
                    "ratings": {"3": {"ratio": 100.0, "number_of_voters": 30.0}},
                    "jp_video_id": "a2jp",
                    "en_video_id": "a2en",
                    "synopsis": "A test begins.",  # 3 words
                    "clips": [
                        _clip("show_a", "2", 0, 5.0, 1.0, "", "Hello there.", ["s3"]),
                    ],
                },
            },
        },
        "show_b": {
            "show": "Show B",
            "season": "Season 1",
            "genres": ["Action"],
            "themes": ["School", "Space", "Music"],
            "synopsis": "Ships fly.",
            "characters": {
                "Carol": {"description": "", "role": "main", "pic_urls": [pic_d], "Voice Actors": []}
            },
            "episodes": {
                "1": {
                    "url": "https://example.org/b/1",
                    "jp_video_id": "b1jp",
                    "en_video_id": "b1en",
                    "synopsis": "",
                    "clips": [
                        _clip("show_b", "1", 0, 1.0, 3.0, "はい。", "OK.", ["s1"]),
                        _clip("show_b", "1", 1, 9.0, 1.5, "いいえ", "No", ["s1", "s2", "s3"]),
                    ],
                }
            },
        },
        "show_c": {
            "show": "Show C",
            "genres": ["Drama", "Comedy"],
            "themes": [],
            "episodes": {
                "1": {
                    "url": "https://example.org/c/1",
                    "clips": [_clip("show_c", "1", 0, 3.0, 0.5, "元気", "Fine.", ["s1"])],
                }
            },
        },
    }


def _span(clip: dict[str, Any], lang: str, default: float = 0.3) -> float:
    """Seconds between a clip's ``{lang}_start_time`` and ``{lang}_end_time`` (``default`` if they are no times)."""
    from ..release.codec import timestamp_seconds

    span = timestamp_seconds(clip.get(f"{lang}_end_time")) - timestamp_seconds(clip.get(f"{lang}_start_time"))
    return span if span > 0 else default


def make_release(root: Path, data: dict[str, Any] | None = None) -> Path:
    """Write the annotations, one MP3 per clip ID and one JPEG per picture under ``root``.

    Each clip MP3 lasts as long as its clip's times say (JP or EN; 0.3 s when they are no times): ``validate``
    refuses an MP3 whose length is far from its clip's (another clip's file).
    """
    data = annotations() if data is None else data
    root.mkdir(parents=True, exist_ok=True)
    (root / ids.ANNOTATIONS_FILE).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    for show in data.values():
        for ch in (show.get("characters") or {}).values():
            for pic in ch.get("pic_urls", []):
                write_jpg(ids.id_path(root, ids.PICS_ARCHIVE, pic, "jpg"))
        for ep in show["episodes"].values():
            for c in ep["clips"]:
                write_mp3(ids.id_path(root, ids.AUDIO_ARCHIVE, c["jp_clip"], "mp3"), _span(c, "jp"), 440.0)
                write_mp3(ids.id_path(root, ids.AUDIO_ARCHIVE, c["en_clip"], "mp3"), _span(c, "en"), 660.0)
    return root


def release_files(out: Path) -> dict[str, bytes]:
    """Every file of the release proper in ``out`` (annotations and clip media), by relative path: what two
    builds that should agree are compared on."""
    files = {ids.ANNOTATIONS_FILE: (out / ids.ANNOTATIONS_FILE).read_bytes()}
    for archive in (ids.AUDIO_ARCHIVE, ids.VIDEO_ARCHIVE):
        for p in sorted((out / archive).rglob("*")):
            if p.is_file():
                files[str(p.relative_to(out))] = p.read_bytes()
    return files
