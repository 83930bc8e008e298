"""Text-to-speech backends: ``get_synthesizer("neural" | "espeak" | "xtts", ...)``."""

from .base import Synthesizer, UnspeakableText, VoiceProfile, available_synthesizers, get_synthesizer

__all__ = ["Synthesizer", "UnspeakableText", "VoiceProfile", "available_synthesizers", "get_synthesizer"]
