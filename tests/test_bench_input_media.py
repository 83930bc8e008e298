"""benchmarks/check_input_media.py refuses a variant name it does not know before it makes anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "check_input_media.py"


def test_an_unknown_variant_is_one_line_before_anything_is_made(tmp_path):
    """`check_input_media.py WORK notags` (the variant is `mkv_no_tags`) made the 40 s episode, built the plain
    MKV and then died with a KeyError traceback: now one line naming the name and the variants, exit 1."""
    work = tmp_path / "work"
    done = subprocess.run([sys.executable, str(SCRIPT), str(work), "mkv_en_first", "notags"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown variant(s) notags;" in lines[0] and "mkv_no_tags" in lines[0]
    assert "Traceback" not in done.stderr and not work.exists()
