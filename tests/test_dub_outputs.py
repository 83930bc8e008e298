"""``anim400k dub``'s outputs: no partial file left behind by SIGTERM. Small media are made here with
PyAV; the dub's work (separation, speech, mix) is replaced by silence where only the mux matters."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

SR = 16000


def plain_mkv(path: Path, dur: float = 2.0) -> Path:
    """An MKV with one JP mono AAC track (a 440 Hz tone)."""
    with av.open(str(path), "w") as out:
        st = out.add_stream("aac", rate=SR, layout="mono")
        st.metadata["language"] = "jpn"
        x = (0.3 * np.sin(2 * np.pi * 440.0 * np.arange(int(SR * dur)) / SR)).astype(np.float32)[None]
        frame = av.AudioFrame.from_ndarray(x, format="fltp", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = SR, 0, Fraction(1, SR)
        out.mux(st.encode(frame))
        out.mux(st.encode(None))
    return path


def _srt(path: Path) -> Path:
    path.write_text("1\n00:00:00,500 --> 00:00:01,500\nHello there.\n", encoding="utf-8")
    return path


#: ``dub`` with its work replaced by silence (only the checks and the mux run), then ``anim400k dub``
_SILENT_DUB = """
import numpy as np
from anim400k.dub import pipeline
from anim400k.dub.report import DubReport

def silent(mix, sr, translator, tts, options=None, source="", **kwargs):
    report = DubReport(source=source, output=None, duration=len(mix) / sr, sample_rate=sr, tts=tts.name,
                       translator=translator.name, diarizer="none")
    zeros = np.zeros_like(mix)
    return pipeline.DubResult(zeros, zeros, zeros, zeros, [], report)

pipeline.dub_audio = silent
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_during_the_mux_removes_the_partial_output_and_exits_143(tmp_path: Path) -> None:
    """SIGTERM while the output was written left a hidden `.NAME.xxxx.part.mkv` (Ctrl-C cleaned up)."""
    src = plain_mkv(tmp_path / "in.mkv")
    srt = _srt(tmp_path / "en.srt")
    out = tmp_path / "out" / "dubbed.mkv"
    script = _SILENT_DUB + textwrap.dedent(f"""
        import os, signal, sys, time
        from anim400k.cli import main
        from anim400k.media import mux

        def remux(src, dst, *args):  # the output is open, being written: SIGTERM now
            assert any(p.name.endswith(".part.mkv") for p in os.scandir({str(out.parent)!r}))
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(30)

        mux._remux = remux
        sys.exit(main(["dub", {str(src)!r}, "--out", {str(out)!r}, "--subtitles", {str(srt)!r},
                       "--tts", "espeak", "--no-progress"]))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env,
                          preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))
    assert proc.returncode == 143, proc.stderr
    assert proc.stderr.strip().splitlines() == ["anim400k: interrupted by SIGTERM"]
    assert list(out.parent.iterdir()) == []
