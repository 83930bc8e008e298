"""Translations given as JSON: ``{segment index or "start-end": text}``.

Index keys (``"0"``, ``"3"``) name segments in time order. Time keys (``"12.5-14.0"``,
seconds) go to the segment they overlap most. A list of strings is read as index keys.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..model import Segment
from .base import Line


def _parse_key(key: str, path: Path | None) -> int | tuple[float, float]:
    key = key.strip()
    if key.isdigit():
        return int(key)
    if "-" in key[1:]:
        a, b = key.rsplit("-", 1) if key.count("-") == 1 else key.split("-", 1)
        try:
            start, end = float(a), float(b)
        except ValueError:
            pass
        else:
            if end > start >= 0:
                return start, end
    raise InputError(f"translation key {key!r} is neither a segment index nor 'start-end' seconds", path)


TranslationKey = int | tuple[float, float]


def load_translations(source: str | Path | dict[str, Any] | list[Any]) -> dict[TranslationKey, str]:
    """Read a translations JSON (path or already-parsed object) into ``{index or (start, end): text}``."""
    path = None
    data: Any = source
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise InputError("translations file not found", path) from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"translations file is not valid JSON: {exc}", path) from exc
    if isinstance(data, list):
        data = {str(i): t for i, t in enumerate(data)}
    if not isinstance(data, dict):
        raise InputError("translations must be a JSON object {segment index or 'start-end': text}", path)
    out: dict[TranslationKey, str] = {}
    for key, text in data.items():
        if not isinstance(text, str):
            raise InputError(f"translation for {key!r} is not a string", path)
        out[_parse_key(str(key), path)] = text
    return out


class TextTranslator:
    """The ``text`` backend: translations given by the user."""

    name = "text"

    def __init__(self, translations: str | Path | dict[str, Any] | list[Any]) -> None:
        self.translations = load_translations(translations)

    def translate(self, segments: Sequence[Segment], audio: np.ndarray | None, sr: int) -> list[Line]:
        """One line per segment; segments without a given translation get a problem."""
        texts: dict[int, list[tuple[float, str]]] = {}
        for key, text in self.translations.items():
            if isinstance(key, int):
                if key < len(segments):
                    texts.setdefault(key, []).append((segments[key].start, text))
                continue
            start, end = key
            overlaps = [min(end, s.end) - max(start, s.start) for s in segments]
            if overlaps and max(overlaps) > 0:
                texts.setdefault(int(np.argmax(overlaps)), []).append((start, text))
        lines = []
        for i, seg in enumerate(segments):
            if i in texts:
                lines.append(Line(" ".join(t for _, t in sorted(texts[i])), source_text=seg.text or None))
            else:
                lines.append(Line(None, problem=f"no translation given for segment {i} ({seg.start:.2f} s)"))
        return lines
