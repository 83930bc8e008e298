"""The device benchmark's CPU smoke mode runs (tiny models, seconds of audio) and prints its table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_device_bench_quick_cpu_prints_its_table() -> None:
    script = ROOT / "benchmarks" / "device" / "bench_device.py"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, str(script), "--device", "cpu", "--quick", "--seconds", "8", "--skip", "build", "diarize"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=True).stdout
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| component | device |")
    names = [line.split(" | ")[0] for line in table[1:]]
    assert names == ["| faster-whisper tiny (random)", "| demucs tiny (random)"], out
    assert all(float(line.split(" | ")[4]) > 0 for line in table[1:])  # an RTF was measured
