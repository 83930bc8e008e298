"""``python -m anim400k``."""

from .cli import run

run()
