"""YAML and JSON loading that refuses a key given twice in one mapping.

Plain ``yaml.safe_load`` and ``json.loads`` keep the last of two equal keys and drop the
first without a word (``media:`` twice in a manifest episode, ``show:`` twice in show
metadata). Inputs the user writes by hand (manifests, show metadata) are read with these
instead; a repeated key raises :class:`DuplicateKeyError`, whose message names the key
(and, for YAML, the line).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml


class DuplicateKeyError(ValueError):
    """A mapping of the input holds the same key twice."""


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` whose mappings refuse a key given twice (merge keys ``<<`` may still be overridden)."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        """Construct the mapping after checking that no key is written twice in it."""
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # keys brought in by `<<: *alias` may be overridden: that is what merge is for
                key = self.construct_object(key_node, deep=True)
                try:
                    repeated = key in seen
                except TypeError:  # an unhashable key: SafeLoader reports it below
                    continue
                if repeated:
                    raise DuplicateKeyError(f"key {key!r} appears twice in one mapping "
                                            f"(line {key_node.start_mark.line + 1})")
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


#: integers as YAML 1.2 writes them: decimal (leading zeros kept decimal: ``010`` is 10), ``0o17``, ``0x1f``. PyYAML
#: follows YAML 1.1, where ``010`` is octal 8 and ``1:20`` is sexagesimal 80: a manifest's ``episode: 010`` or
#: zero-padded episode keys (``008:``, ``010:``) became episodes 8 and... 8, metadata landing on the wrong episode
_INT_12 = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_INT_TAG = "tag:yaml.org,2002:int"


def _construct_int_12(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text, 10)


UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _INT_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
UniqueKeyLoader.add_implicit_resolver(_INT_TAG, _INT_12, list("-+0123456789"))
UniqueKeyLoader.add_constructor(_INT_TAG, _construct_int_12)


def yaml_load_unique(text: str) -> Any:
    """``yaml.safe_load(text)``, but a key repeated in one mapping raises :class:`DuplicateKeyError`, and integers are
    YAML 1.2's (``010`` is 10, not octal 8: :data:`_INT_12`)."""
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKeyError(f"key {key!r} appears twice in one object")
        out[key] = value
    return out


def json_loads_unique(text: str) -> Any:
    """``json.loads(text)``, but a key repeated in one object raises :class:`DuplicateKeyError`."""
    return json.loads(text, object_pairs_hook=_unique_pairs)


def is_json_object_with(path: Path, keys: set[str]) -> bool:
    """Whether ``path`` reads as a JSON object holding every one of ``keys`` (False when it cannot be read or
    parsed): how a command recognises a report file it wrote itself before it replaces the folder's files."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and keys <= data.keys()


#: limits on a hand-written YAML/JSON input (a few hundred bytes of YAML aliases can expand to billions of values)
MAX_EXPANDED_NODES = 2_000_000  # values (mappings, lists, scalars) after aliases are expanded
MAX_EXPANDED_CHARS = 256 * 2**20  # characters of all strings after aliases are expanded


def check_expanded_size(data: Any, what: str, nodes_limit: int = MAX_EXPANDED_NODES,
                        chars_limit: int = MAX_EXPANDED_CHARS) -> None:
    """Raise :class:`ValueError` (``too large to be WHAT``) when ``data``'s values, with YAML aliases expanded,
    exceed the limits; a walk that stops there, so a "billion laughs" costs no more than the limit."""
    nodes, chars = 0, 0
    stack = [data]
    while stack:
        value = stack.pop()
        nodes += 1
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            chars += len(value)
        if nodes > nodes_limit or chars > chars_limit:
            raise ValueError(f"expands to more than {nodes_limit:,} values or {chars_limit // 2**20} M characters "
                             f"(YAML aliases repeat what they refer to): too large to be {what}")
