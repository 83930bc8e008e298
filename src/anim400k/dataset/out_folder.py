"""Which output folders a build may write into: never over a release that no build wrote there.

A build adds its own files to ``--out`` and replaces only those it writes itself (the annotations,
the clip media and their archives, ``catalog.sqlite``, ``build_report.json``, ``work/``); other files
stay untouched. So ``--out`` may be a new or empty folder, one that holds anything else, or an earlier
build's folder (a resumed or re-run build: it has the build's ``catalog.sqlite`` or ``build_report.json``).
A folder that holds a release (``anim400k_annotations.json`` or clip media, as folders or ``.tar.gz``
archives) without either, e.g. a downloaded Anim-400K release or a copy of one, is refused in one line
before anything is written: its annotations would be replaced. ``anim400k export`` follows the same
rule for its folders (it replaces the whole folder, so it takes only a new, empty or earlier-export one).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import InputError
from ..formats.ids import ANNOTATIONS_FILE, AUDIO_ARCHIVE, FRAMES_ARCHIVE, PICS_ARCHIVE, VIDEO_ARCHIVE
from .catalog import CATALOG_FILE
from .report import REPORT_FILE

#: names in an output folder that make it a release (the annotations, the clip media and their archives)
RELEASE_NAMES = (ANNOTATIONS_FILE, AUDIO_ARCHIVE, VIDEO_ARCHIVE, f"{AUDIO_ARCHIVE}.tar.gz", f"{VIDEO_ARCHIVE}.tar.gz")
#: names a build writes beside its release: a folder holding one is a build's own (it may build there again)
BUILD_NAMES = (CATALOG_FILE, REPORT_FILE)


def foreign_release(exists: Callable[[str], bool]) -> str | None:
    """The first name of a release that no build wrote in the folder (``exists(name)`` looks in it), or None."""
    if any(exists(name) for name in BUILD_NAMES):
        return None
    return next((name for name in RELEASE_NAMES if exists(name)), None)


def check_out_folder(exists: Callable[[str], bool], out_dir: str) -> None:
    """Raise :class:`InputError` when the output folder holds a release that no build wrote there."""
    found = foreign_release(exists)
    if found is not None:
        raise InputError(f"holds a release ({found}) that no build wrote here (no {CATALOG_FILE} or {REPORT_FILE} "
                         f"beside it): building would replace it; give --out a new or empty folder, or an earlier "
                         f"build's", out_dir)


#: the folders a build writes into its output folder, and the files
BUILD_FOLDERS = ("work", AUDIO_ARCHIVE, VIDEO_ARCHIVE, FRAMES_ARCHIVE, PICS_ARCHIVE)
BUILD_FILES = (ANNOTATIONS_FILE, CATALOG_FILE, REPORT_FILE)


def check_out_kinds(out: Path) -> None:
    """Raise :class:`InputError` (naming the path) when a local output folder holds a file where the build
    writes one of its folders (:data:`BUILD_FOLDERS`: a file ``work`` failed every episode with 'internal error
    in stage probe: NotADirectoryError', leaving a catalog and a report behind), or a folder where it writes one
    of its files (:data:`BUILD_FILES`). Checked before anything is written."""
    for name in BUILD_FOLDERS:
        path = out / name
        if path.exists() and not path.is_dir():
            raise InputError(f"is a file, where the build writes its {name} folder: move it away or give --out "
                             "another folder", path)
    for name in BUILD_FILES:
        path = out / name
        if path.is_dir():
            raise InputError(f"is a folder, where the build writes its {name}: move it away or give --out "
                             "another folder", path)
