"""The build manifest: which shows and episodes to build, and where their inputs are.

Example (YAML; JSON with the same structure works too)::

    shows:
      - key: frieren_s1                 # the show key in the annotations file
        metadata: frieren_s1.json       # optional show/episode metadata (FORMAT.md fields)
        episodes:
          - episode: "1"
            media: ep01.mkv             # one file with both audio tracks ...
            jp_stream: jpn              # ... picked by language tag or audio-stream index
            en_stream: eng
            subtitles: ep01.en.srt      # EN subtitles for the JP track (or subtitle_stream: eng)
          - episode: "2"
            jp_media: ep02.ja.mkv       # ... or one file per language
            en_media: ep02.en.mka
            subtitle_stream: 0          # a subtitle stream inside jp_media (tag or index)
            keep_signs: false           # true: keep ASS signs and songs in the clips' subtitles
            transcripts:                # optional existing transcripts replace the ASR stage
              en: ep02.en.aws.json      # AWS Transcribe JSON, Whisper JSON, SRT/VTT/ASS
            truth: ep02.truth.json      # optional ground truth (synthetic episodes) for scoring

Relative paths are relative to the manifest file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import InputError, yaml_problem
from ..formats.encoding import decode_bom_text
from ..model import EpisodeRef
from ..strictload import DuplicateKeyError, check_expanded_size, json_loads_unique, yaml_load_unique

#: limits on a manifest (a few KB of YAML aliases can expand to millions of entries)
MAX_MANIFEST_BYTES = 64 * 2**20
MAX_MANIFEST_NODES = 2_000_000  # values (mappings, lists, scalars) after aliases are expanded
MAX_MANIFEST_CHARS = 256 * 2**20  # characters of all strings after aliases are expanded

#: the longest folder name (in bytes) of common filesystems (ext4, XFS, btrfs, APFS; NTFS 255 characters)
MAX_FOLDER_NAME_BYTES = 255

_BAD_NAME_CHARS = re.compile(r"[/\\\x00-\x1f\x7f]")


def check_folder_name(value: str, what: str) -> str:
    """``value`` if it can name one folder of the output (a show key, an episode); else ValueError.

    Refused: empty, ``.``/``..``, a ``/`` or ``\\``, control characters, surrounding spaces, so
    no key leaves the output folder and no two keys (``s``, ``s/``, ``s/.``) share a folder; and a name over
    :data:`MAX_FOLDER_NAME_BYTES` bytes, which no common filesystem can hold.
    """
    if not value or value in (".", "..") or _BAD_NAME_CHARS.search(value) or value != value.strip():
        raise ValueError(f"{what} {value!r} must be usable as one folder name: not empty, '.' or '..', "
                         f"no '/', '\\', control characters or surrounding spaces")
    size = len(value.encode("utf-8", "surrogateescape"))
    if size > MAX_FOLDER_NAME_BYTES:  # the episode failed with "File name too long" and so did the build's end
        shown = value[:40] + "..."
        raise ValueError(f"{what} {shown!r} is {size} bytes long in UTF-8: a folder name holds at most "
                         f"{MAX_FOLDER_NAME_BYTES}")
    return value


def _non_empty_path(value: str | None) -> str | None:
    """A manifest path as given; an empty one (``media: ''``) is refused (a traceback, or the manifest's folder
    taken for the file)."""
    if value is not None and not value.strip():
        raise ValueError("is empty: give a file's path, or leave the field out")
    return value


class EpisodeEntry(BaseModel):
    """One episode of a show in the manifest."""

    model_config = ConfigDict(extra="forbid")

    episode: str
    media: str | None = None
    jp_media: str | None = None
    en_media: str | None = None
    jp_stream: str | int = "jpn"
    en_stream: str | int = "eng"
    subtitles: str | None = None
    subtitle_stream: str | int | None = None
    keep_signs: bool = False
    transcripts: dict[str, str] = Field(default_factory=dict)
    truth: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _episode_as_text(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("episode"), bool):
            raise ValueError(f"episode is {data['episode']!r}, not an episode number")
        if isinstance(data, dict) and isinstance(data.get("episode"), int):
            data = {**data, "episode": str(data["episode"])}
        elif isinstance(data, dict) and isinstance(data.get("episode"), float):  # YAML reads 12.5 as a number
            raise ValueError(f"episode {data['episode']!r} is a number with a decimal point: quote it "
                             f"(episode: '{data['episode']}'), as YAML would drop a trailing zero ('1.10' is 1.1)")
        return data

    @field_validator("media", "jp_media", "en_media", "subtitles", "truth")
    @classmethod
    def _path_given(cls, value: str | None) -> str | None:
        return _non_empty_path(value)

    @field_validator("transcripts")
    @classmethod
    def _transcript_paths(cls, value: dict[str, str]) -> dict[str, str]:
        for path in value.values():
            _non_empty_path(path)
        return value

    @field_validator("jp_stream", "en_stream", "subtitle_stream", mode="before")
    @classmethod
    def _stream_selector(cls, value: Any) -> Any:
        if isinstance(value, bool) or isinstance(value, float):  # YAML's true was taken for stream 1
            raise ValueError(f"must be a stream index (0, 1, ...) or a language tag ('jpn', 'eng'), not {value!r}")
        return value

    @field_validator("episode")
    @classmethod
    def _episode_name(cls, value: str) -> str:
        check_folder_name(value, "episode")
        from ..release.validate import episode_number

        if episode_number(value) is None:  # the release keys episodes by number (FORMAT.md)
            raise ValueError(f"episode {value!r} is not an episode number (digits, e.g. '1' or '12.5')")
        return value

    @model_validator(mode="after")
    def _media_given(self) -> EpisodeEntry:
        if self.media is None and (self.jp_media is None or self.en_media is None):
            raise ValueError("give either 'media' (both tracks in one file) or both 'jp_media' and 'en_media'")
        if self.media is not None and (self.jp_media or self.en_media):
            raise ValueError("give either 'media' or 'jp_media'/'en_media', not both")
        for lang in self.transcripts:
            if lang not in ("en", "ja"):
                raise ValueError(f"transcripts: unknown language {lang!r} (use 'en' or 'ja')")
        return self


class ShowEntry(BaseModel):
    """One show (season) in the manifest."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1)
    metadata: str | None = None
    episodes: list[EpisodeEntry] = Field(min_length=1)

    @field_validator("key")
    @classmethod
    def _key_name(cls, value: str) -> str:
        return check_folder_name(value, "show key")

    @field_validator("metadata")
    @classmethod
    def _metadata_path(cls, value: str | None) -> str | None:
        return _non_empty_path(value)


class Manifest(BaseModel):
    """The whole manifest, with paths resolved against ``base_dir``."""

    model_config = ConfigDict(extra="forbid")

    shows: list[ShowEntry] = Field(min_length=1)
    base_dir: str = "."

    def resolve(self, path: str | None) -> str | None:
        """Resolve a manifest path (relative to the manifest's folder, also when that is a URL's); URLs pass
        through."""
        if path is None or "://" in path:
            return path
        p = Path(path).expanduser()
        if p.is_absolute():
            return str(p)
        if "://" in self.base_dir:  # a remote manifest: beside it in the bucket (it was the local cache's folder)
            from ..storage import url_join

            return url_join(self.base_dir, path)
        return str((Path(self.base_dir) / p).resolve())

    def episodes(self) -> list[EpisodeRef]:
        """All episodes as :class:`EpisodeRef` with resolved paths, in manifest order."""
        refs = []
        for show in self.shows:
            for ep in show.episodes:
                jp = self.resolve(ep.media or ep.jp_media)
                en = self.resolve(ep.media or ep.en_media)
                assert jp is not None and en is not None
                refs.append(
                    EpisodeRef(
                        show_key=show.key,
                        episode=ep.episode,
                        jp_media=jp,
                        en_media=en,
                        jp_stream=ep.jp_stream,
                        en_stream=ep.en_stream,
                        subtitles=self.resolve(ep.subtitles),
                        subtitle_stream=ep.subtitle_stream,
                        keep_signs=ep.keep_signs,
                        transcripts={k: self.resolve(v) or v for k, v in ep.transcripts.items()},
                        metadata={"truth": self.resolve(ep.truth)} if ep.truth else {},
                    )
                )
        return refs


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _did_you_mean(err: Any) -> str:
    """`` (did you mean 'subtitles'?)`` for an unknown field close to a known one of the manifest, else ``""``."""
    import difflib

    if err.get("type") != "extra_forbidden" or not err.get("loc") or not isinstance(err["loc"][-1], str):
        return ""
    known = {name for model in (Manifest, ShowEntry, EpisodeEntry) for name in model.model_fields} - {"base_dir"}
    close = difflib.get_close_matches(err["loc"][-1], sorted(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_manifest(path: str | Path, base_url: str | None = None) -> Manifest:
    """Read and validate a YAML/JSON manifest; any problem is an :class:`InputError` naming the field.

    ``base_url``: the folder URL of a remote manifest that ``path`` is a local copy of (its relative paths are
    resolved there)."""
    path = Path(path)
    if not path.is_file():
        said = "is a folder, not a manifest file (a .yaml or .json)" if path.is_dir() else "manifest not found"
        raise InputError(said, path)
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise InputError(f"larger than {MAX_MANIFEST_BYTES // 2**20} MB: too large to be a manifest", path)
    text = decode_bom_text(path.read_bytes(), path, "save the manifest as UTF-8")
    try:
        data = json_loads_unique(text) if path.suffix.lower() == ".json" else yaml_load_unique(text)
    except DuplicateKeyError as exc:  # a plain loader keeps the last and drops the first without a word
        raise InputError(str(exc), path) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc}".splitlines()[0], path) from exc
    except yaml.YAMLError as exc:  # its problem and where (line, column), not the context line alone
        raise InputError(yaml_problem(exc), path) from exc
    except RecursionError as exc:
        raise InputError("nested too deeply to be a manifest", path) from exc
    _check_expanded_size(data, path)
    if not isinstance(data, dict):
        raise InputError("a manifest must be a mapping with a 'shows' list", path)
    data = {**data, "base_dir": base_url or str(path.resolve().parent)}
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = str(err["msg"]).removeprefix("Value error, ") + _did_you_mean(err)
        raise InputError(f"{_format_loc(tuple(err['loc']))}: {msg}", path) from exc
    keys: set[str] = set()
    for i, show in enumerate(manifest.shows):
        if show.key in keys:  # the release would hold the show twice (a duplicate key in the JSON object)
            raise InputError(f"shows[{i}].key: show {show.key!r} is listed twice: list all its episodes "
                             f"under one entry", path)
        keys.add(show.key)
    from ..release.validate import episode_number

    for i, show in enumerate(manifest.shows):
        numbers: dict[Any, str] = {}
        for j, ep in enumerate(show.episodes):
            number = episode_number(ep.episode)
            if number in numbers:  # "1" and "01" are one episode: the release would hold it twice
                same = "" if numbers[number] == ep.episode else f" (as {numbers[number]!r})"
                raise InputError(f"shows[{i}].episodes[{j}]: episode {show.key}/{ep.episode} is listed twice{same}",
                                 path)
            numbers[number] = ep.episode
    return manifest


def _check_expanded_size(data: Any, path: Path) -> None:
    """Refuse a manifest whose values, with YAML aliases expanded, exceed the limits above."""
    try:
        check_expanded_size(data, "a manifest", MAX_MANIFEST_NODES, MAX_MANIFEST_CHARS)
    except ValueError as exc:
        raise InputError(str(exc), path) from None
