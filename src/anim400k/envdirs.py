"""Where the project's caches live when the user's environment is bare: no home folder, a home nobody may write
(containers running as another user), ``ANIM400K_CACHE`` set but empty.

- :func:`cache_dir`: ``$ANIM400K_CACHE``, else ``~/.cache/anim400k``, else (no home folder) a folder of this user's
  in the system's temporary folder.
- :func:`numba_cache_fallback`: librosa's numba functions cache their machine code beside librosa or under
  ``~/.cache``; where neither can be written, numba stopped every command that used librosa with "cannot cache
  function ...: no locator available" (a traceback; in a build "internal error in stage sync"). Unless the user set
  ``NUMBA_CACHE_DIR``, it is pointed at a folder that can be written.
- :func:`writable_cache` for other libraries' caches (Kokoro's assembled model).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def home() -> Path | None:
    """The user's home folder, None when there is none to be found (``HOME`` unset or empty and no passwd entry).

    An empty ``HOME`` is taken as unset (the passwd entry's folder): Python reads it as ``/`` and the caches went
    to ``/.cache``."""
    try:
        if os.environ.get("HOME") == "":
            import pwd

            found = Path(pwd.getpwuid(os.getuid()).pw_dir)
        else:
            found = Path.home()
    except (RuntimeError, KeyError, ImportError):
        return None
    return None if str(found) in ("", "~", ".") else found


def _user_temp() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"anim400k-{uid}"


def cache_dir() -> Path:
    """Local cache for fetched inputs, staging folders and TTS lines: ``$ANIM400K_CACHE`` (an empty value is unset:
    it was the working folder), else ``~/.cache/anim400k``, else a folder of this user's in the temporary folder
    (the home folder was looked up, and its absence raised, even with ``ANIM400K_CACHE`` set)."""
    given = os.environ.get("ANIM400K_CACHE")
    if given:
        return Path(given)
    found = home()
    return found / ".cache" / "anim400k" if found is not None else _user_temp() / "cache"


def can_write_under(folder: Path) -> bool:
    """Whether files can be made in ``folder`` or, where it is missing, in the nearest folder above it."""
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def writable_cache(name: str) -> Path:
    """``cache_dir()/name`` when it can be written, else a folder of this user's in the temporary folder."""
    mine = cache_dir() / name
    return mine if can_write_under(mine) else _user_temp() / name


def numba_cache_fallback() -> None:
    """Point ``NUMBA_CACHE_DIR`` at :func:`writable_cache` when the user did not set it and numba could cache
    librosa's functions neither beside librosa nor under the home folder (see the module's docstring)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    import importlib.util

    spec = importlib.util.find_spec("librosa")
    if spec is None or not spec.origin:
        return
    beside = Path(spec.origin).parent
    user = home()
    if os.access(beside, os.W_OK) or (user is not None and can_write_under(user / ".cache")):
        return
    os.environ["NUMBA_CACHE_DIR"] = str(writable_cache("numba"))
