"""Show and episode metadata: load, validate (pydantic), import character pictures.

The input format (``docs/format.md``) is a JSON or YAML file holding one show object or
several (a list, or ``{"shows": [...]}``). A show object has the FORMAT.md show fields
(all optional), an optional ``key`` (the show key; needed when a file holds several
shows), ``episodes`` mapping episode numbers to episode metadata (``url``, ``synopsis``,
``ratings``, ``jp_video_id``, ``en_video_id``), and per character an optional
``pic_files`` list of local image files (relative to the metadata file), which
:func:`import_pictures` re-encodes to JPEG into ``anim400k_character_pics/F/UUID.jpg``
and lists by ID in ``pic_urls``.

Fields that are not given stay absent in the output (never ``null``); a field of the
wrong type, or an unknown field, raises :class:`InputError` naming the file and the
field path, e.g. ``show.json: characters.Alice.role: expected a string``. The pydantic models
are generated from the release schema (:mod:`anim400k.release.schema`), so the input and the
release declare each field once.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model

from ..errors import InputError, yaml_problem
from ..formats import ids
from ..fsutil.atomic import atomic_path
from ..strictload import DuplicateKeyError, check_expanded_size, json_loads_unique, yaml_load_unique
from .polls import poll_problems
from .schema import CHARACTER_FIELDS, CHARACTER_ROLES, EPISODE_FIELDS, RATING_FIELDS, SHOW_FIELDS

# NaN and Infinity (Python's JSON and YAML's ``.nan`` read them) are no numbers of a release: refused.
_CONFIG = ConfigDict(strict=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)

class MetadataError(InputError):
    """Show metadata with problems: the message names the first (and how many more); ``problems`` lists all.

    ``anim400k metadata FILE`` prints every one of ``problems``; the build shows the one-line summary.
    """

    def __init__(self, problems: list[str], path: str | Path) -> None:
        self.problems = list(problems)
        more = len(self.problems) - 1
        first = self.problems[0] if self.problems else "invalid metadata"
        if more:
            first += (f" (and {more} more problem{'s' if more > 1 else ''}: "
                      f"`anim400k metadata {path}` lists them all)")
        super().__init__(first, path)


#: Python type of each schema type word (:mod:`anim400k.release.schema`).
_PYTHON_TYPES: dict[str, Any] = {
    "str": str, "int": int, "float": float, "bool": bool, "[str]": list[str], "object": dict[str, Any], "list": list,
}


def _lower(value: Any) -> Any:
    """A string lower-cased (MyAnimeList writes roles as ``Main``/``Supporting``), anything else as is."""
    return value.lower() if isinstance(value, str) else value


def _release_id(hint: str) -> AfterValidator:
    """A validator keeping a release ID (``F/UUID``, FORMAT.md section 2) as is; anything else raises ValueError."""
    def check(value: str) -> str:
        try:
            ids.parse_id(value)
        except ValueError:
            raise ValueError(f"{value!r} is no ID of the form 'F/UUID' (FORMAT.md){hint}") from None
        return value
    return AfterValidator(check)


# A URL or other string in ``pic_urls`` would make a release that ``anim400k validate`` refuses.
PictureId = Annotated[str, _release_id("; give local picture files in 'pic_files' instead")]


def _local_file(value: str) -> str:
    """A ``pic_files`` entry must be a local file: a URL is refused (nothing is downloaded here)."""
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", value):
        raise ValueError(f"{value!r} is a URL: nothing is downloaded here; save the picture and give its local path")
    return value


PictureFile = Annotated[str, AfterValidator(_local_file)]


def _fields(table: dict[str, str], nested: dict[str, Any] | None = None, skip: tuple[str, ...] = (),
            required: bool = False) -> dict[str, Any]:
    """Pydantic field definitions for a schema table, in its order (``nested`` overrides a field's type).

    A field whose name is no identifier (``Voice Actors``) gets a snake_case name and the table's
    name as its alias. Fields are optional (``None``, left out on output) unless ``required``.
    """
    out: dict[str, Any] = {}
    for name, kind in table.items():
        if name in skip:
            continue
        typ = (nested or {}).get(name, _PYTHON_TYPES[kind])
        attr = name if name.isidentifier() else name.lower().replace(" ", "_")
        if required:
            out[attr] = (typ, Field(alias=name) if attr != name else ...)
        else:
            out[attr] = (typ | None, Field(default=None, alias=name) if attr != name else None)
    return out


# The metadata models are generated from the release schema (the one declaration of the fields).
PollEntry = create_model("PollEntry", __config__=_CONFIG, __doc__="One score of an episode poll.",
                         **_fields(RATING_FIELDS, required=True))


def _percent_poll(ratings: dict[str, Any]) -> dict[str, Any]:
    """An episode poll whose numbers are percents of its voters (:func:`.polls.poll_problems`); else ValueError."""
    problems = poll_problems({score: entry.model_dump() for score, entry in ratings.items()})
    if problems:
        raise ValueError("; ".join(f"{field.removeprefix('ratings.')}: {message}" if field != "ratings" else message
                                   for field, message in problems))
    return ratings


Poll = Annotated[dict[Literal["1", "2", "3", "4", "5"], PollEntry], AfterValidator(_percent_poll)]
EpisodeMetadata = create_model(
    "EpisodeMetadata", __config__=_CONFIG,
    __doc__="Metadata of one episode (FORMAT.md episode object without ``clips``).",
    **_fields(EPISODE_FIELDS, {"ratings": Poll}, skip=("clips",)),
)
CharacterMetadata = create_model(
    "CharacterMetadata", __config__=_CONFIG,
    __doc__="A character: description, role, picture IDs, voice actors; ``pic_files`` only on input.",
    **_fields(CHARACTER_FIELDS, {"role": Annotated[Literal["main", "supporting"], BeforeValidator(_lower)],
                                 "pic_urls": list[PictureId]}),
    pic_files=(list[PictureFile] | None, None),
)


class _ShowBase(BaseModel):
    """Every FORMAT.md show field (all optional), the show key and episode metadata."""

    model_config = _CONFIG

    def show_fields(self) -> dict[str, Any]:
        """The FORMAT.md show fields that are set (no ``key``, ``episodes`` or ``pic_files``)."""
        d = self.model_dump(by_alias=True, exclude_none=True, exclude={"key", "episodes"})
        for c in (d.get("characters") or {}).values():
            c.pop("pic_files", None)
        return d

    def episode_fields(self) -> dict[str, dict[str, Any]]:
        """Episode number -> the episode fields that are set."""
        return {n: e.model_dump(exclude_none=True) for n, e in (getattr(self, "episodes", None) or {}).items()}


ShowMetadata = create_model(
    "ShowMetadata", __base__=_ShowBase, __doc__=_ShowBase.__doc__, key=(str | None, None),
    **_fields(SHOW_FIELDS, {"characters": dict[str, CharacterMetadata], "episodes": dict[str, EpisodeMetadata]}),
)


_MESSAGES = {
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "int_from_float": "expected an integer",
    "float_type": "expected a number",
    "finite_number": "expected a finite number (NaN and Infinity are not JSON numbers; write null for unknown)",
    "bool_type": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected an object",
    "model_type": "expected an object",
    "model_attributes_type": "expected an object",
    "extra_forbidden": "unknown field",
    "missing": "missing field",
    "literal_error": "poll scores must be '1'..'5'",
}


def _error_lines(exc: ValidationError, prefix: str = "") -> list[str]:
    """One line per problem pydantic found (``field.path: what is wrong``), in its order."""
    lines = []
    for err in exc.errors():
        parts = [str(p) for p in err["loc"] if p != "[key]"]
        msg = _MESSAGES.get(err["type"], err["msg"])
        if err["type"] == "value_error":
            msg = str(err.get("ctx", {}).get("error", msg))
        if err["type"] == "literal_error" and parts and parts[-1] == "role":
            msg = (f"{err['input']!r} is not {' or '.join(map(repr, CHARACTER_ROLES))} (FORMAT.md)"
                   if isinstance(err.get("input"), str) else "expected a string")
        loc = prefix + ".".join(parts)
        lines.append(f"{loc}: {msg}" if loc else msg)
    return lines


def _read_file(path: Path) -> Any:
    from ..formats.encoding import decode_bom_text

    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        from ..storage import refuse_url

        refuse_url(path, "the metadata file")  # 's3://b/m.json' was 's3:/b/m.json: metadata file not found'
        raise InputError("metadata file not found", path) from exc
    text = decode_bom_text(raw, path, "save the metadata file as UTF-8 (or UTF-16 with a byte-order mark)")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml_load_unique(text)
            check_expanded_size(data, "show metadata")  # a YAML alias bomb: MemoryError after 90 s at 2.8 GB
            return data
        except DuplicateKeyError as exc:  # plain YAML keeps the last copy and drops the first silently
            raise InputError(str(exc), path) from exc
        except yaml.YAMLError as exc:
            raise InputError(yaml_problem(exc), path) from exc
        except ValueError as exc:  # too large once expanded
            raise InputError(str(exc), path) from None
        except RecursionError:  # nested thousands deep: a traceback
            raise InputError("YAML nested too deeply to be show metadata", path) from None
    import json

    try:
        return json_loads_unique(text)
    except DuplicateKeyError as exc:
        raise InputError(str(exc), path) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc}", path) from exc
    except RecursionError as exc:
        raise InputError("JSON nested too deeply to be show metadata", path) from exc


def _normalise_keys(obj: Any, path: str | Path = "<metadata>", where: str = "") -> Any:
    """YAML turns ``1:`` into an int key; metadata keys are strings (episode numbers, scores).

    Two keys of one mapping that become the same string (``1:`` and ``"1":``) are refused, and so are integers
    past 64 bits.
    """
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            key = str(k)
            if key in out:
                raise InputError(f"{where}{key}: given twice in one mapping", path)
            out[key] = _normalise_keys(v, path, f"{where}{key}.")
        return out
    if isinstance(obj, list):
        return [_normalise_keys(v, path, f"{where}{i}.") for i, v in enumerate(obj)]
    if isinstance(obj, int) and not isinstance(obj, bool) and not -(2**63) <= obj < 2**63:
        # written into the release as it is, where every reader of it (ijson's yajl) said "integer overflow"
        raise InputError(f"{where.rstrip('.') or 'a value'}: {obj} is too large an integer (a 64-bit one at most: "
                         "the release's JSON readers refuse it)", path)
    return obj


def _episode_problems(item: Any, prefix: str) -> list[str]:
    """Episode keys of one show that are no episode number, or the same number twice (``1`` and ``01``)."""
    from .validate import episode_number

    eps = item.get("episodes") if isinstance(item, dict) else None
    if not isinstance(eps, dict):
        return []
    problems, numbers = [], {}
    for key in eps:
        number = episode_number(key)
        if number is None:
            problems.append(f"{prefix}episodes.{key}: not an episode number (digits, e.g. '1' or '12.5')")
        elif number in numbers:
            problems.append(f"{prefix}episodes.{key}: the same episode as {numbers[number]!r} (given twice)")
        else:
            numbers[number] = key
    return problems


def _keyed_shows(data: Any) -> list[dict[str, Any]] | None:
    """The shows of ``anim400k metadata --out``'s output (``{KEY: show object with its episodes}``, the release's
    shape) as a list of show objects with their ``key``, or None when ``data`` is not that: every value an object
    holding ``episodes`` (no field of one show object is: its ``episodes`` holds episodes, its ``show`` a title).
    A key may be a field's name: a file ``show.json`` without a ``key`` is written as ``{"show": {...}}``, which
    was read back as one show whose ``show`` was an object ("expected a string")."""
    if not isinstance(data, dict) or not data or "shows" in data:
        return None
    if not all(isinstance(v, dict) and "episodes" in v for v in data.values()):
        return None
    return [{"key": key, **show} for key, show in data.items()]


def parse_metadata(data: Any, path: str | Path = "<metadata>") -> list[ShowMetadata]:
    """Validate already-parsed metadata (one show, a list, ``{"shows": [...]}``, or ``anim400k metadata --out``'s
    ``{KEY: show}``: its output was refused as input, ``KEY: unknown field``)."""
    data = _normalise_keys(data, path)
    keyed = _keyed_shows(data)
    if keyed is not None:
        data = {"shows": keyed}
    if isinstance(data, dict) and isinstance(data.get("shows"), list):
        items, prefix = data["shows"], "shows."
    elif isinstance(data, list):
        items, prefix = data, ""
    elif isinstance(data, dict):
        items, prefix = [data], None
    else:
        raise InputError("metadata must be a show object, a list of them, or {'shows': [...]}", path)
    shows = []
    problems: list[str] = []
    for i, item in enumerate(items):
        where = "" if prefix is None else f"{prefix}{i}."
        try:
            shows.append(ShowMetadata.model_validate(item))
        except ValidationError as exc:
            problems += _error_lines(exc, where)
        problems += _episode_problems(item, where)
    if problems:
        raise MetadataError(problems, path)
    if len(shows) > 1:
        keys = [s.key for s in shows]
        if any(k is None for k in keys):
            raise InputError("a file with several shows must give each one a 'key'", path)
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise InputError(f"show key {dup[0]!r} appears twice", path)
    return shows


def load_metadata(path: str | Path) -> list[ShowMetadata]:
    """Read and validate a metadata JSON/YAML file; raise :class:`InputError` on any problem.

    Problems of the content raise :class:`MetadataError`, whose ``problems`` lists every one.
    """
    p = Path(path)
    return parse_metadata(_read_file(p), p)


def select_show(shows: list[ShowMetadata], show_key: str, path: str | Path) -> ShowMetadata:
    """The show with ``key == show_key`` (or the only show of the file if it has no key)."""
    for s in shows:
        if s.key == show_key:
            return s
    if len(shows) == 1 and shows[0].key is None:
        return shows[0]
    keys = [repr(s.key) for s in shows if s.key is not None]
    if keys:  # a normalised file keyed 'show' by its input's name: the message said nothing of it
        raise InputError(f"no metadata for show {show_key!r} (it holds {', '.join(keys[:5])}"
                         f"{', ...' if len(keys) > 5 else ''}; `anim400k metadata` keys a show whose input names none "
                         "by the input file's name: give the input a 'key', or use that key in the manifest)", path)
    raise InputError(f"no metadata for show {show_key!r}", path)


def metadata_folder(given: str, local: str | Path) -> str | Path:
    """Where a metadata file's relative ``pic_files`` are: the folder URL of a remote file ``given`` (``local``
    is its cached copy, whose folder they were looked up in), else ``local``'s folder."""
    from ..storage import is_url

    return given.rsplit("/", 1)[0] if is_url(given) else Path(local).parent


def _picture_file(name: str, base_dir: str | Path) -> Path:
    """A ``pic_files`` entry's path: absolute as given, else relative to the metadata file's folder; a URL, or
    a relative name beside remote metadata (``base_dir`` a URL), is fetched (a local copy's path)."""
    from ..storage import is_url, local_input, url_join

    if is_url(name):
        return Path(local_input(name))
    if Path(name).is_absolute():
        return Path(name)
    if isinstance(base_dir, str) and is_url(base_dir):
        return Path(local_input(url_join(base_dir, name)))
    return Path(base_dir) / name


def import_pictures(
    meta: ShowMetadata,
    show_key: str,
    base_dir: str | Path,
    release_root: str | Path,
    source: str | Path = "<metadata>",
    quality: int = 90,
) -> ShowMetadata:
    """Re-encode each character's ``pic_files`` to JPEG into the release's picture archive.

    The picture of character ``name`` at position ``i`` of ``pic_files`` gets the ID
    ``ids.make_id(show_key, "pic", name, i)``; IDs are appended to ``pic_urls``. A picture file that already
    holds the same JPEG bytes (a resumed or repeated build) is not rewritten. Relative
    file names resolve against ``base_dir``. Returns a copy of ``meta`` without ``pic_files``.
    Raises :class:`InputError` (naming the field) for a missing or undecodable image.
    """
    meta = meta.model_copy(deep=True)
    for name, ch in (meta.characters or {}).items():
        if not ch.pic_files:
            continue
        urls = list(ch.pic_urls or [])
        for i, f in enumerate(ch.pic_files):
            src = _picture_file(f, base_dir)
            field = f"characters.{name}.pic_files.{i}"
            pic_id = ids.make_id(show_key, "pic", name, i)
            dest = ids.id_path(release_root, ids.PICS_ARCHIVE, pic_id, "jpg")
            _write_if_changed(dest, _jpeg_bytes(_rgb_picture(src, field, source), quality))
            if pic_id not in urls:
                urls.append(pic_id)
        ch.pic_urls = urls
        ch.pic_files = None
    return meta


def _rgb_picture(src: Path, field: str, source: str | Path) -> Any:
    """The picture file ``src`` decoded as a Pillow RGB image; :class:`InputError` naming ``field`` of the metadata
    file ``source`` when it is missing or is no image Pillow reads."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # past Pillow's 89 M pixels: refused (it printed its warning, used 867 MB)
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(src) as im:
                im.load()
                return im.convert("RGB")
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:  # KBs of PNG decoding to GBs
        said = str(exc).split(", could be")[0]  # "Image size (N pixels) exceeds limit of M pixels"
        raise InputError(f"{field}: {str(src)!r} is too large a picture ({said})", source) from exc
    except FileNotFoundError as exc:
        raise InputError(f"{field}: picture file {str(src)!r} not found", source) from exc
    except IsADirectoryError as exc:
        raise InputError(f"{field}: picture file {str(src)!r} is a folder, not a picture file", source) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{field}: {str(src)!r} is not a readable image ({exc})", source) from exc


def _jpeg_bytes(image: Any, quality: int) -> bytes:
    """``image`` (a Pillow RGB image) encoded as JPEG; the same image and quality give the same bytes."""
    import io

    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _write_if_changed(dest: Path, data: bytes) -> bool:
    """Write ``data`` to ``dest`` atomically unless ``dest`` already holds exactly those bytes (a resumed build:
    the picture is left untouched, its modification time too); whether it was written."""
    try:
        if dest.stat().st_size == len(data) and dest.read_bytes() == data:
            return False
    except OSError:
        pass  # not there (or unreadable): written
    with atomic_path(dest, sync=False) as tmp:  # media: not fsynced
        Path(tmp).write_bytes(data)
    return True


def check_pictures(meta: ShowMetadata, show_key: str, base_dir: str | Path, release_root: str | Path | None,
                   source: str | Path) -> None:
    """Before a build's work: every ``pic_files`` entry is an image file Pillow decodes (a text file named
    ``.png`` failed the build only once every stage was done), and (``release_root`` given) every ``pic_urls`` ID
    has its picture in the release (``anim400k validate`` requires it) or is one that ``pic_files`` will import
    (:func:`import_pictures`); else one :class:`InputError` naming the field."""
    for name, ch in (meta.characters or {}).items():
        for i, f in enumerate(ch.pic_files or []):
            field = f"characters.{name}.pic_files.{i}"
            src = _picture_file(f, base_dir)
            if not src.is_file():
                problem = "is a folder, not a picture file" if src.is_dir() else "not found"
                raise InputError(f"{field}: picture file {str(src)!r} {problem}", source)
            _rgb_picture(src, field, source)
        if release_root is None:
            continue
        imported = {ids.make_id(show_key, "pic", name, i) for i in range(len(ch.pic_files or []))}
        for i, pic in enumerate(ch.pic_urls or []):
            if pic in imported:
                continue
            dest = ids.id_path(release_root, ids.PICS_ARCHIVE, pic, "jpg")
            if not dest.is_file():
                raise InputError(f"characters.{name}.pic_urls.{i}: the picture of {pic!r} is not in the release "
                                 f"({dest}): copy it there, or give the image file in 'pic_files'", source)


def load_show_metadata(
    path: str | Path, show_key: str, release_root: str | Path | None = None
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Metadata of one show for the release writer: ``(show_fields, {episode: episode_fields})``.

    Pictures in ``pic_files`` are imported into ``release_root`` (when given).
    """
    from ..storage import local_input

    p = Path(local_input(str(path)))  # a remote file's local copy (Path('s3://b/m.json') read 's3:/b/m.json')
    meta = select_show(load_metadata(p), show_key, p)
    if release_root is not None:
        meta = import_pictures(meta, show_key, metadata_folder(str(path), p), release_root, p)
    return meta.show_fields(), meta.episode_fields()
