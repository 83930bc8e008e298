"""JA→EN translation backends: ``get_translator("subtitles" | "whisper" | "text", ...)``."""

from .base import Line, Translator, available_translators, get_translator

__all__ = ["Line", "Translator", "available_translators", "get_translator"]
