"""The name a local file is given to FFmpeg (PyAV's ``av.open``) by.

FFmpeg reads a name whose first part looks like a URL scheme as a protocol: ``Re:Zero 01.mkv`` (and
``./Re:Zero 01.mkv``, whose ``./`` Python drops) failed with "Protocol not found" where the same file named by
its absolute path opened. An absolute path starts with ``/`` (or a drive and ``\\`` on Windows), which no
scheme does.
"""

from __future__ import annotations

import os
from pathlib import Path


def av_path(path: str | Path) -> str:
    """``path`` as FFmpeg should open it: absolute for a local file (the working folder joined in front, nothing
    taken out: ``os.path.abspath`` took ``link/..`` out by its text, so ``link/../ep.mkv`` with ``link`` a link to
    another folder opened another file or none, where the system follows the link); a URL (``scheme://...``) as it
    is."""
    text = os.fspath(path)
    if "://" in text or os.path.isabs(text):
        return text
    return os.path.join(os.getcwd(), text)
