"""Malformed inputs through the CLI and the MUSHRA server: one clear line, a failing exit, nothing escapes.

Every CLI case runs ``anim400k.cli.main`` in this process (no subprocess per case) in a folder of
its own, and checks: a non-zero exit, exactly one line on stderr (``anim400k: error: ...``, naming
the bad file where there is one), no traceback, no file created or changed outside ``--out``,
and nothing half-written inside it (no temporary ``.part`` file, no partial output file). Every
HTTP case posts or fetches a malformed request with FastAPI's TestClient and checks for a 4xx
JSON answer and an unchanged ratings store.
"""

from __future__ import annotations

import io
import json
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from anim400k.cli import main
from anim400k.testing.release import complete

# ------------------------------------------------------------------------------------- inputs


def _wav(seconds: float = 1.0, sr: int = 16000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(b"\x10\x00\xf0\xff" * int(seconds * sr / 2))
    return buf.getvalue()


WAV = _wav()
WAV_HEADER_ONLY = _wav()[:44]
WAV_NO_SAMPLES = _wav(0.0)
MKV_GARBAGE = b"\x1aE\xdf\xa3" + bytes(range(256)) * 8
SRT_OK = b"1\n00:00:00,100 --> 00:00:00,900\nHello\n\n"
WHISPER_OK = json.dumps({"language": "en", "segments": [{"start": 0.1, "end": 0.9, "text": "Hello"}]}).encode()
WHISPER_JA_OK = json.dumps({"language": "ja", "segments": [{"start": 0.1, "end": 0.9, "text": "こんにちは"}]}).encode()


# "billion laughs": 9 levels of 10 references each, 10**9 strings once expanded (a few hundred bytes)
_ALIAS_BOMB = b"a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
    f"a{i + 1}: &a{i + 1} [{', '.join([f'*a{i}'] * 10)}]\n".encode() for i in range(8)) + b"shows: *a8\n"


def _manifest(episodes: object) -> bytes:
    return json.dumps({"shows": [{"key": "s", "episodes": episodes}]}).encode()


def _release(obj: object) -> bytes:
    """Annotations as bytes; a dict gets every FORMAT.md show/episode field (unknown ones null) it lacks."""
    if isinstance(obj, bytes):
        return obj
    return json.dumps(complete(obj) if isinstance(obj, dict) else obj).encode()


@dataclass
class Case:
    """One malformed input: files to write under ``in/``, the command (``{in}``, ``{out}`` filled in)."""

    id: str
    files: dict[str, bytes]
    argv: list[str]
    names: str | None = None  # text the error line must contain (the bad file's name)
    before: dict[str, bytes] = field(default_factory=dict)  # files beside in/ (e.g. an --out that is a file)
    extra: Callable[[Path], None] | None = field(default=None, repr=False)
    lines: int = 1  # error lines expected (`anim400k metadata` lists every problem, one line each)


MEDIA_CASES = [
    Case("empty-wav", {"a.wav": b""}, ["transcribe", "{in}/a.wav", "-l", "ja", "--asr", "vad", "--out", "{out}/t.json"],
         "a.wav"),
    Case("random-bytes-mkv", {"a.mkv": bytes(range(256)) * 16},
         ["transcribe", "{in}/a.mkv", "-l", "en", "--asr", "vad", "--out", "{out}/t.json"], "a.mkv"),
    Case("wav-header-only", {"a.wav": WAV_HEADER_ONLY},
         ["transcribe", "{in}/a.wav", "-l", "ja", "--asr", "vad", "--out", "{out}/t.json"], "a.wav"),
    Case("wav-no-samples", {"a.wav": WAV_NO_SAMPLES},
         ["diarize", "{in}/a.wav", "--stream", "0", "--out", "{out}/d.rttm"], "a.wav"),
    Case("text-as-mp4", {"a.mp4": b"this is not a video\n" * 50},
         ["separate", "{in}/a.mp4", "--out-backing", "{out}/b.flac"], "a.mp4"),
    Case("mkv-garbage-sync", {"jp.wav": WAV, "en.mkv": MKV_GARBAGE},
         ["sync", "{in}/jp.wav", "{in}/en.mkv", "--jp-stream", "0", "--en-stream", "0", "--out", "{out}/s.json"],
         "en.mkv"),
    Case("media-is-a-folder", {"dir/x": b""},
         ["transcribe", "{in}/dir", "-l", "ja", "--asr", "vad", "--out", "{out}/t.json"], "dir"),
    Case("missing-media", {}, ["diarize", "{in}/nope.wav", "--out", "{out}/d.rttm"], "nope.wav"),
    Case("mp3-garbage-after-id3", {"a.mp3": b"ID3\x04\x00\x00\x00\x00\x00\x10" + b"\xff" * 300},
         ["transcribe", "{in}/a.mp3", "-l", "en", "--asr", "vad", "--out", "{out}/t.json"], "a.mp3"),
    Case("png-as-media", {"a.mp4": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64},
         ["transcribe", "{in}/a.mp4", "-l", "ja", "--asr", "vad", "--out", "{out}/t.json"], "a.mp4"),
    Case("stream-that-does-not-exist", {"a.wav": WAV},
         ["transcribe", "{in}/a.wav", "-l", "ja", "--asr", "vad", "--stream", "7", "--out", "{out}/t.json"], "a.wav"),
    Case("dub-garbage-video", {"v.mkv": MKV_GARBAGE}, ["dub", "{in}/v.mkv", "--out", "{out}/dub.mkv"], "v.mkv"),
]

_ALIGN = ["align", "--en", "{in}/en.json", "--jp", "{in}/ja.json"]
SUBTITLE_CASES = [
    Case("srt-binary", {"s.srt": bytes(range(256)) * 4, "en.json": WHISPER_OK, "ja.json": WHISPER_JA_OK},
         _ALIGN + ["--subtitles", "{in}/s.srt", "--out", "{out}/c.json"],
         "s.srt"),
    Case("srt-end-before-start", {"s.srt": b"1\n00:00:05,000 --> 00:00:01,000\nx\n\n", "en.json": WHISPER_OK,
                                  "ja.json": WHISPER_JA_OK},
         _ALIGN + ["--subtitles", "{in}/s.srt", "--out", "{out}/c.json"],
         "s.srt"),
    Case("srt-nonsense-text", {"s.srt": b"hello\nworld\nno cues here\n", "en.json": WHISPER_OK,
                               "ja.json": WHISPER_JA_OK},
         _ALIGN + ["--subtitles", "{in}/s.srt", "--out", "{out}/c.json"],
         "s.srt"),
    # UTF-16 without a byte-order mark is read now (tests/test_subtitles.py); Shift-JIS is refused
    Case("srt-shift-jis", {"s.srt": "1\n00:00:01,000 --> 00:00:02,000\nこんにちは\n".encode("shift_jis"),
                           "en.json": WHISPER_OK, "ja.json": WHISPER_JA_OK},
         _ALIGN + ["--subtitles", "{in}/s.srt", "--out", "{out}/c.json"],
         "s.srt"),
    Case("ass-broken", {"s.ass": b"[Script Info]\n[Events]\nFormat: Start, End\nDialogue: zz,yy\n",
                        "en.json": WHISPER_OK, "ja.json": WHISPER_JA_OK},
         _ALIGN + ["--subtitles", "{in}/s.ass", "--out", "{out}/c.json"],
         "s.ass"),
    Case("subtitles-missing", {"en.json": WHISPER_OK, "ja.json": WHISPER_JA_OK},
         _ALIGN + ["--subtitles", "{in}/no.srt", "--out", "{out}/c.json"],
         "no.srt"),
]


TRANSCRIPT_CASES = [
    Case(f"transcript-{i}-{label}", {"en.json": bad, "ja.json": WHISPER_JA_OK},
         ["align", "--en", "{in}/en.json", "--jp", "{in}/ja.json", "--out", "{out}/c.json"], "en.json")
    for i, (label, bad) in enumerate([
        ("empty", b""),
        ("list-of-numbers", b"[1, 2, 3]"),
        ("string-start", json.dumps({"segments": [{"start": "zero", "end": 1, "text": "x"}]}).encode()),
        ("negative-start", json.dumps({"segments": [{"start": -5, "end": 1, "text": "x"}]}).encode()),
        ("end-before-start", json.dumps({"segments": [{"start": 5, "end": 1, "text": "x"}]}).encode()),
        ("nan-start", b'{"segments": [{"start": NaN, "end": 1, "text": "x"}]}'),
        ("infinite-end", b'{"segments": [{"start": 0, "end": Infinity, "text": "x"}]}'),
        ("aws-items-not-list", json.dumps({"results": {"items": "nope"}}).encode()),
        ("trailing-garbage", WHISPER_OK + b"}}}"),
        ("deeply-nested", b"[" * 100_000 + b"]" * 100_000),
        ("not-utf8", b'{"segments": [{"start": 0, "end": 1, "text": "\xff\xfe\xfa"}]}'),
        ("segments-not-list", json.dumps({"segments": {"a": 1}}).encode()),
        ("text-not-string", json.dumps({"segments": [{"start": 0, "end": 1, "text": {"x": 1}}]}).encode()),
        ("huge-number", b'{"segments": [{"start": 1e400, "end": 1e401, "text": "x"}]}'),
    ])
]

MANIFEST_CASES = [
    Case(f"manifest-{label}", {name: data}, ["build", f"{{in}}/{name}", "--out", "{out}/rel", "--no-progress"], name)
    for label, name, data in [
        ("empty", "m.yaml", b""),
        ("yaml-syntax", "m.yaml", b"shows: [\n  - key: s\n    episodes: {\n"),
        ("top-level-list", "m.yaml", b"- a\n- b\n"),
        ("show-without-key", "m.json", json.dumps({"shows": [{"episodes": []}]}).encode()),
        ("episode-without-media", "m.json", _manifest([{"episode": "1"}])),
        ("python-tag", "m.yaml", b"shows: !!python/object/apply:os.system ['echo hi']\n"),
        ("episodes-a-string", "m.json", json.dumps({"shows": [{"key": "s", "episodes": "x"}]}).encode()),
        ("episode-number-a-list", "m.json", _manifest([{"episode": [1], "media": "ep.mkv"}])),
        ("deeply-nested", "m.json", b"[" * 100_000 + b"]" * 100_000),
        ("shows-a-number", "m.json", json.dumps({"shows": 5}).encode()),
        ("binary", "m.yaml", bytes(range(256))),
        ("latin1", "m.yaml", "shows:\n- key: café\n  episodes: []\n".encode("latin-1")),
        ("key-escapes", "m.json", json.dumps({"shows": [{"key": "../../../escaped_show", "episodes": [
            {"episode": "1", "media": "ep.mkv"}]}]}).encode()),
        ("absolute-key", "m.json", json.dumps({"shows": [{"key": "/tmp/x", "episodes": []}]}).encode()),
        ("episode-escapes", "m.json", _manifest([{"episode": "../../../x", "media": "ep.mkv"}])),
        ("alias-bomb", "m.yaml", _ALIAS_BOMB),
    ]
]


_CLIP = {"jp_clip": "ab/ab000000-0000-0000-0000-000000000000", "en_clip": "cd/cd000000-0000-0000-0000-000000000000",
         "jp_text": "x", "en_text": "y", "jp_start_time": "00:00:01.000", "jp_end_time": "00:00:02.000",
         "en_start_time": "00:00:01.000", "en_end_time": "00:00:02.000", "speakers": []}


def _rel(label: str, data: bytes, argv: list[str]) -> Case:
    files = {"rel/anim400k_annotations.json": data, "dubs/.keep": b""}
    return Case(f"release-{label}-{argv[0]}", files, argv, "anim400k_annotations.json")


RELEASE_CASES = [
    _rel("not-json", b"{not json", ["validate", "{in}/rel"]),
    _rel("a-list", b"[1, 2]", ["stats", "{in}/rel"]),
    _rel("empty-file", b"", ["tasks", "{in}/rel", "--out", "{out}/tasks"]),
    _rel("not-utf8", b'{"s": {"show": "\xff\xfe"}}', ["validate", "{in}/rel"]),
    _rel("truncated", b'{"s": {"episodes": {"1": {"clips": [', ["export", "{in}/rel", "-f", "parquet", "--out",
                                                                "{out}/pq"]),
    _rel("show-a-string", _release({"s": "oops"}), ["export", "{in}/rel", "-f", "lhotse", "--out", "{out}/lh"]),
    _rel("bad-clip-times", _release({"s": {"episodes": {"1": {"clips": [_CLIP | {"jp_end_time": "-1"}]}}}}),
         ["export", "{in}/rel", "-f", "webdataset", "--out", "{out}/wds"]),
    _rel("deeply-nested", b"[" * 100_000 + b"]" * 100_000, ["stats", "{in}/rel"]),
    _rel("clips-not-a-list", _release({"s": {"episodes": {"1": {"clips": 5}}}}),
         ["dub", "--dataset", "{in}/rel", "--split", "all", "--out", "{out}/dubs"]),
    _rel("episodes-a-list", _release({"s": {"episodes": [1, 2]}}),
         ["evaluate", "{in}/dubs", "--reference", "{in}/rel", "--out", "{out}/ev"]),
    _rel("nan-in-numbers", b'{"s": {"score": NaN, "episodes": {}}}', ["mushra", "create", "{in}/rel", "--out",
                                                                       "{out}/m", "--systems", "a={in}/rel"]),
    _rel("clip-id-escapes", _release({"s": {"episodes": {"1": {"clips": [_CLIP | {"jp_clip": "../../etc/passwd"}]}}}}),
         ["tasks", "{in}/rel", "--out", "{out}/tasks"]),
    _rel("picture-id-not-an-id", _release({"s": {"characters": {"A": {"pic_urls": ["x"]}}, "episodes": {}}}),
         ["tasks", "{in}/rel", "--out", "{out}/tasks"]),
    Case("export-onto-the-release", {"rel/anim400k_annotations.json": _release({"s": {"episodes": {}}})},
         ["export", "{in}/rel", "-f", "parquet", "--out", "{in}/rel"], "rel"),
    Case("export-into-a-folder-it-did-not-write", {"rel/anim400k_annotations.json": _release({"s": {"episodes": {}}})},
         ["export", "{in}/rel", "-f", "parquet", "--out", "{out}"], "out", before={"out/mine.txt": b"keep me"}),
    Case("release-folder-without-annotations", {"rel/readme.txt": b"hi"}, ["validate", "{in}/rel"], "rel"),
    Case("metadata-yaml-syntax", {"meta.yaml": b"show: [unclosed\n"}, ["metadata", "{in}/meta.yaml"], "meta.yaml"),
    Case("metadata-wrong-types", {"meta.json": json.dumps({"key": "s", "show": 5, "genres": "x"}).encode()},
         ["metadata", "{in}/meta.json", "--out", "{out}/meta.json"], "meta.json", lines=2),
    Case("mushra-analyze-garbage-csv", {"mushra.csv": b"\x00\x01\x02,,,\n\xff\xfe"},
         ["mushra", "analyze", "{in}/mushra.csv", "--out", "{out}/report"], "mushra.csv"),
    Case("mushra-serve-not-a-test", {"t/test.json": b"{]"}, ["mushra", "serve", "{in}/t"], "test.json"),
]

_META = {"key": "s", "show": "S", "characters": {"A": {"pic_files": ["a.jpg"]}}}
MORE_CASES = [
    Case("diarize-reference-garbage-rttm", {"a.wav": WAV, "ref.rttm": b"SPEAKER x 1 zero one <NA> <NA> s1 <NA> <NA>\n"},
         ["diarize", "{in}/a.wav", "--reference", "{in}/ref.rttm", "--out", "{out}/d.rttm"], "ref.rttm"),
    Case("diarize-reference-truth-not-json", {"a.wav": WAV, "truth.json": b"{"},
         ["diarize", "{in}/a.wav", "--reference", "{in}/truth.json", "--out", "{out}/d.rttm"], "truth.json"),
    Case("sync-empty-jp", {"jp.wav": b"", "en.wav": WAV},
         ["sync", "{in}/jp.wav", "{in}/en.wav", "--jp-stream", "0", "--en-stream", "0"], "jp.wav"),
    Case("metadata-picture-not-an-image", {"meta.json": json.dumps(_META).encode(), "a.jpg": b"GIF89a nope"},
         ["metadata", "{in}/meta.json", "--release", "{out}/rel"], "a.jpg"),
    Case("metadata-picture-escapes", {"meta.json": json.dumps(_META | {"characters": {"A": {"pic_files": [
        "../../../../etc/passwd"]}}}).encode()}, ["metadata", "{in}/meta.json", "--release", "{out}/rel"], "passwd"),
    Case("mushra-webmushra-not-yaml", {"w.yaml": b"pages: [\n"},
         ["mushra", "create", "--from-webmushra", "{in}/w.yaml", "--out", "{out}/m"], "w.yaml"),
    Case("mushra-webmushra-missing-audio", {"w.yaml": b"pages:\n- type: mushra\n  id: t\n  reference: nope.wav\n"
                                                     b"  stimuli: {C1: nope2.wav}\n"},
         ["mushra", "create", "--from-webmushra", "{in}/w.yaml", "--out", "{out}/m"], "nope"),
    Case("mushra-analyze-score-inf", {"mushra.csv": b"trial_id,rating_stimulus,rating_score\nt,C1,inf\n"},
         ["mushra", "analyze", "{in}/mushra.csv", "--out", "{out}/report"], "mushra.csv"),
    Case("mushra-invite-not-a-test", {"t/x": b""}, ["mushra", "invite", "{in}/t"], "t"),
    Case("evaluate-dub-garbage-mp3", {"rel/anim400k_annotations.json": _release({"s": {"episodes": {"1": {
        "clips": [_CLIP]}}}}), "dubs/cd/cd000000-0000-0000-0000-000000000000.mp3": b"\xff\xfb" + b"\x00" * 50},
         ["evaluate", "{in}/dubs", "--reference", "{in}/rel", "--split", "all", "--out", "{out}/ev"], None),
    Case("transcript-aws-bad-item", {"en.json": json.dumps({"results": {"items": [{"type": "pronunciation",
        "start_time": "x", "end_time": "1", "alternatives": []}]}}).encode(), "ja.json": WHISPER_JA_OK},
         [*_ALIGN, "--out", "{out}/c.json"], "en.json"),
]

OUT_CASES = [
    Case("out-is-a-file-build", {"m.json": _manifest([{"episode": "1", "media": "ep.mkv"}])},
         ["build", "{in}/m.json", "--out", "{out}", "--no-progress"], "out: --out is a file: give a folder",
         before={"out": b"a file"}),  # was 'out: File exists'
    Case("out-below-a-file-build", {"m.json": _manifest([{"episode": "1", "media": "ep.mkv"}])},
         ["build", "{in}/m.json", "--out", "{out}/b", "--no-progress"], "(a part of its folder path) is a file",
         before={"out": b"a file"}),  # was 'out/b: Not a directory'
    Case("out-is-a-folder-align", {"en.json": WHISPER_OK, "ja.json": WHISPER_JA_OK},
         [*_ALIGN, "--out", "{in}"], "is a folder"),
    Case("out-below-a-file-stats", {"rel/anim400k_annotations.json": _release({"s": {"episodes": {}}})},
         ["stats", "{in}/rel", "--json", "{out}/x/s.json"], "(a part of its folder path) is a file",
         before={"out": b"a file"}),
    Case("out-is-a-file-tasks", {"rel/anim400k_annotations.json": _release({"s": {"episodes": {}}})},
         ["tasks", "{in}/rel", "--out", "{out}"], "out", before={"out": b"a file"}),
]

CLI_CASES = OUT_CASES + MEDIA_CASES + SUBTITLE_CASES + TRANSCRIPT_CASES + MANIFEST_CASES + RELEASE_CASES + MORE_CASES


def _snapshot(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")
            if p.is_file() and skip not in p.parents}


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_malformed_input_through_the_cli(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture) -> None:
    src, out, cwd = tmp_path / "in", tmp_path / "out", tmp_path / "cwd"
    for name, data in case.files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    src.mkdir(exist_ok=True)
    for name, data in case.before.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    argv = [a.replace("{in}", str(src)).replace("{out}", str(out)) for a in case.argv]
    before = _snapshot(tmp_path, out)
    rc = main(argv)
    captured = capsys.readouterr()
    assert rc != 0, captured
    assert "Traceback" not in captured.out + captured.err
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == case.lines, captured.err
    for line in lines:
        assert line.startswith("anim400k: error: "), line
        if case.names:
            assert case.names in line, line
    assert _snapshot(tmp_path, out) == before, "a file outside --out was created or changed"
    if out.is_dir():
        mine = {f"out/{p.relative_to(out)}": p.read_bytes() for p in out.rglob("*") if p.is_file()}
        kept = {name: data for name, data in case.before.items() if name.startswith("out/")}
        assert mine == kept, f"half-written or lost output: {sorted(set(mine) ^ set(kept))}"


# ------------------------------------------------------------------------------------- HTTP


@pytest.fixture(scope="module")
def mushra(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    from fastapi.testclient import TestClient

    from anim400k.evaluate.mushra_app import create_app
    from anim400k.testing.mushra import make_mushra_test

    test_dir = make_mushra_test(tmp_path_factory.mktemp("fuzz_mushra"))
    return test_dir, TestClient(create_app(test_dir))


def _joined(test_dir: Path, client) -> dict:  # noqa: ANN001
    from anim400k.evaluate.mushra_app import make_invite, read_secret

    client.cookies.clear()
    assert client.get(f"/join/{make_invite(read_secret(test_dir))}", follow_redirects=False).status_code == 303
    return client.get("/api/state").json()


def _ratings(state: dict) -> dict[str, int]:
    return {s["id"]: 50 for s in state["trial"]["stimuli"]}


HTTP_CASES: list[tuple[str, Callable[[dict], dict]]] = [
    ("not-json", lambda s: {"content": b"{nope", "headers": {"content-type": "application/json"}}),
    ("json-list", lambda s: {"json": [1, 2, 3]}),
    ("json-string", lambda s: {"json": "ratings"}),
    ("empty-body", lambda s: {"content": b"", "headers": {"content-type": "application/json"}}),
    ("not-utf8", lambda s: {"content": b'{"nonce": "\xff\xfe"}', "headers": {"content-type": "application/json"}}),
    ("missing-ratings", lambda s: {"json": {"nonce": s["trial"]["nonce"]}}),
    ("ratings-a-list", lambda s: {"json": {"nonce": s["trial"]["nonce"], "ratings": [1, 2]}}),
    ("rating-a-string", lambda s: {"json": {"nonce": s["trial"]["nonce"],
                                            "ratings": {k: "x" for k in _ratings(s)}}}),
    ("rating-null", lambda s: {"json": {"nonce": s["trial"]["nonce"], "ratings": {k: None for k in _ratings(s)}}}),
    ("rating-huge", lambda s: {"json": {"nonce": s["trial"]["nonce"], "ratings": {k: 10**30 for k in _ratings(s)}}}),
    ("nonce-a-number", lambda s: {"json": {"nonce": 5, "ratings": _ratings(s)}}),
    ("nonce-wrong", lambda s: {"json": {"nonce": "0" * 40, "ratings": _ratings(s)}}),
    ("deeply-nested", lambda s: {"content": b'{"nonce": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
                                 "headers": {"content-type": "application/json"}}),
    ("times-not-object", lambda s: {"json": {"nonce": s["trial"]["nonce"], "ratings": _ratings(s), "times": [1]}}),
    ("form-encoded", lambda s: {"data": {"nonce": "x"}}),
    ("times-1e100", lambda s: {"content": json.dumps({"nonce": s["trial"]["nonce"], "ratings": _ratings(s),
                                                      "times": {"t": 1}}).encode().replace(b'"t": 1', b'"t": 1e100'),
                               "headers": {"content-type": "application/json"}}),
    ("times-negative", lambda s: {"json": {"nonce": s["trial"]["nonce"], "ratings": _ratings(s),
                                           "times": {k: -5 for k in _ratings(s)}}}),
    ("body-over-the-cap", lambda s: {"content": b'{"nonce": "' + b"x" * 200_000 + b'"}',
                                     "headers": {"content-type": "application/json"}}),
]


@pytest.mark.parametrize(("label", "body"), HTTP_CASES, ids=[c[0] for c in HTTP_CASES])
def test_malformed_submission_is_a_4xx_and_stores_nothing(label: str, body: Callable[[dict], dict],
                                                          mushra: tuple[Path, object]) -> None:
    test_dir, client = mushra
    state = _joined(test_dir, client)
    store = test_dir / "ratings.sqlite"
    before = {p.name: p.read_bytes() for p in test_dir.iterdir() if p.is_file() and p.name != store.name}
    r = client.post("/api/submit", **body(state))  # type: ignore[attr-defined]
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json")
    assert client.get("/api/state").json()["done"] == 0  # type: ignore[attr-defined]
    after = {p.name: p.read_bytes() for p in test_dir.iterdir() if p.is_file() and p.name != store.name}
    assert after == before


@pytest.mark.parametrize("path", ["/join/%00%ff", "/join/" + "a" * 5000, "/api/media/..%2F..%2Fsecret.key",
                                  "/api/media/%2e%2e", "/admin?token=%00", "/admin/export.csv?token[]=x"])
def test_malformed_urls_are_4xx(path: str, mushra: tuple[Path, object]) -> None:
    test_dir, client = mushra
    _joined(test_dir, client)
    r = client.get(path, follow_redirects=False)  # type: ignore[attr-defined]
    assert 400 <= r.status_code < 500, (path, r.status_code)
    assert b"secret" not in r.content.lower() or r.status_code == 404
