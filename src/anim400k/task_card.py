"""The dataset card (``README.md``) of ``anim400k tasks``' output: one Hugging Face ``datasets`` config per task.

``datasets.load_dataset("json", data_files={...})`` types each field from the first file it reads: a split whose
rows all hold an empty list in a field (``speakers: []``, ``themes: []``, ``subtitles: []``) is typed
``list<null>`` there, and the other splits' strings then fail to cast (``Couldn't cast array of type string to
null``). The card names each task's splits and the features of its rows, inferred from every row written, so
``datasets.load_dataset(DIR, TASK)`` types every split alike (the card's ``configs`` and ``dataset_info``,
as the Hub's dataset cards hold them).

The features are inferred, not declared: a field only ever empty or ``null`` is typed ``string`` (a list of
strings when it is a list); a field holding kinds that do not mix (a list in one row, a string in another) is
left out of ``dataset_info`` for its task, which ``datasets`` then types itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .fsutil.atomic import atomic_path

#: The card's file name (the Hub's and ``datasets``' name for a dataset card).
CARD_FILE = "README.md"
#: The words of the card that mark it as this command's (a user's README.md of that name is not).
CARD_MARK = "Task manifests written by `anim400k tasks`"


class _Mixed(Exception):
    """Two values of one field whose kinds no one feature holds."""


@dataclass
class _Type:
    """The inferred type of a value: ``null``, a scalar dtype, a list of a type, or a struct of named types."""

    kind: str  # "null", "value", "list", "struct"
    dtype: str = ""
    item: _Type | None = None
    fields: dict[str, _Type] = field(default_factory=dict)


_NULL = _Type("null")


def type_of(value: Any) -> _Type:
    """The type of one JSON value."""
    if value is None:
        return _NULL
    if isinstance(value, bool):
        return _Type("value", "bool")
    if isinstance(value, int):
        return _Type("value", "int64")
    if isinstance(value, float):
        return _Type("value", "float64")
    if isinstance(value, str):
        return _Type("value", "string")
    if isinstance(value, Mapping):
        return _Type("struct", fields={str(k): type_of(v) for k, v in value.items()})
    if isinstance(value, Sequence):
        item = _NULL
        for v in value:
            item = merge(item, type_of(v))
        return _Type("list", item=item)
    raise _Mixed(f"no feature for a {type(value).__name__}")


def merge(a: _Type, b: _Type) -> _Type:
    """The type holding values of both ``a`` and ``b`` (:class:`_Mixed` if there is none)."""
    if a.kind == "null":
        return b
    if b.kind == "null":
        return a
    if a.kind != b.kind:
        raise _Mixed(f"{a.kind} and {b.kind}")
    if a.kind == "value":
        if a.dtype == b.dtype:
            return a
        if {a.dtype, b.dtype} == {"int64", "float64"}:
            return _Type("value", "float64")
        raise _Mixed(f"{a.dtype} and {b.dtype}")
    if a.kind == "list":
        return _Type("list", item=merge(a.item or _NULL, b.item or _NULL))
    names = list(a.fields) + [n for n in b.fields if n not in a.fields]
    return _Type("struct", fields={n: merge(a.fields.get(n, _NULL), b.fields.get(n, _NULL)) for n in names})


def _yaml_type(t: _Type) -> Any:
    """``t`` as ``datasets``' YAML: a dtype name, ``{"list": ...}`` or a list of named fields."""
    if t.kind == "null":
        return "string"  # only ever null or empty: text is the likeliest content
    if t.kind == "value":
        return t.dtype
    if t.kind == "list":
        return {"list": _yaml_type(t.item or _NULL)}
    return [{"name": n, **_yaml_entry(sub)} for n, sub in t.fields.items()]


def _yaml_entry(t: _Type) -> dict[str, Any]:
    """The keys of a named field's entry: ``dtype``, ``list`` or ``struct``."""
    inner = _yaml_type(t)
    if isinstance(inner, str):
        return {"dtype": inner}
    if isinstance(inner, dict):
        return inner
    return {"struct": inner}


class TaskFeatures:
    """Infers each task's row features from the rows written (:meth:`add`), in the order fields first appear."""

    def __init__(self) -> None:
        self._fields: dict[str, dict[str, _Type]] = {}
        self._mixed: dict[str, set[str]] = {}

    def add(self, task: str, row: Mapping[str, Any]) -> None:
        """Take one row of ``task`` into its features."""
        fields = self._fields.setdefault(task, {})
        mixed = self._mixed.setdefault(task, set())
        for name, value in row.items():
            if name in mixed:
                continue
            try:
                fields[name] = merge(fields.get(name, _NULL), type_of(value))
            except _Mixed:
                mixed.add(name)
                fields.pop(name, None)

    def yaml_features(self, task: str) -> list[dict[str, Any]] | None:
        """``task``'s features as a card's ``dataset_info`` lists them (None: a field's kinds do not mix)."""
        if self._mixed.get(task):
            return None
        return [{"name": n, **_yaml_entry(t)} for n, t in self._fields.get(task, {}).items()]


def card_text(files: Mapping[str, Sequence[str]], features: TaskFeatures, title: str) -> str:
    """The card: YAML front matter (``configs``: each task's split files; ``dataset_info``: its features) and a
    short text saying how to load it. ``files``: task -> the split names that have a file."""
    configs = [
        {"config_name": task, "data_files": [{"split": s, "path": f"{task}/{s}.jsonl"} for s in splits]}
        for task, splits in files.items()
        if splits
    ]
    infos = []
    for task, splits in files.items():
        feats = features.yaml_features(task) if splits else None
        if feats:
            infos.append({"config_name": task, "features": feats})
    front = yaml.safe_dump({"configs": configs, "dataset_info": infos}, sort_keys=False, allow_unicode=True)
    first = configs[0]["config_name"] if configs else "speech_translation"
    return (
        f"---\n{front}---\n\n# {title}\n\n"
        f"{CARD_MARK}: one config per task, one JSONL file per split "
        "(`splits.json` records the seed, proportions and counts). Load a task with its features typed alike "
        "in every split:\n\n"
        f"```python\nimport datasets\nds = datasets.load_dataset(\"path/to/this/folder\", \"{first}\")\n```\n"
    )


def is_card(path: Path) -> bool:
    """Whether ``path`` is a card :func:`write_card` wrote (a plain file holding :data:`CARD_MARK`)."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with path.open("rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return False
    return CARD_MARK.encode() in head


def write_card(folder: Path, files: Mapping[str, Sequence[str]], features: TaskFeatures, title: str) -> Path:
    """Write ``folder/README.md`` (atomically) and return its path."""
    path = folder / CARD_FILE
    with atomic_path(path) as tmp:
        tmp.write_text(card_text(files, features, title), encoding="utf-8")
    return path
