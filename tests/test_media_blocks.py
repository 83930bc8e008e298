"""media.blocks.BlockJoiner: the decoder's pieces joined in order, with about one copy of the track in memory."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import weakref

import numpy as np
import pytest

from anim400k.media.blocks import BlockJoiner


@pytest.mark.parametrize("channels", [1, 2])
def test_join_is_the_concatenation(channels: int) -> None:
    rng = np.random.default_rng(0)
    pieces = [rng.standard_normal((channels, int(n))).astype(np.float32) for n in rng.integers(0, 50, 200)]
    joiner = BlockJoiner(small_pieces=4, big_samples=300)
    for p in pieces:
        joiner.append(p)
    assert joiner.samples == sum(p.shape[1] for p in pieces)
    assert joiner.first_channels() == channels
    out = joiner.join(channels)
    np.testing.assert_array_equal(out, np.concatenate(pieces, axis=1))
    assert out.dtype == np.float32 and len(joiner) == 0 and joiner.samples == 0


def test_empty_and_single_piece() -> None:
    joiner = BlockJoiner()
    assert joiner.first_channels() is None
    assert joiner.join(2).shape == (2, 0)
    one = np.ones((1, 10), np.float32)
    joiner.append(one)
    assert joiner.join(1) is one  # nothing to copy


def test_blocks_are_let_go_while_joining() -> None:
    """Every block is freed once copied: no reference outlives the join (the old path kept all until the end)."""
    joiner = BlockJoiner(small_pieces=2, big_samples=8)
    for k in range(40):
        joiner.append(np.full((1, 3), k, np.float32))
    refs = [weakref.ref(b) for b in joiner._big + joiner._medium + joiner._pieces]
    assert len(joiner._big) >= 4  # big blocks formed as the pieces came
    out = joiner.join(1)
    assert all(r() is None for r in refs)
    np.testing.assert_array_equal(out[0], np.repeat(np.arange(40, dtype=np.float32), 3))


def test_join_peak_is_about_one_copy() -> None:
    """Joining 256 MB of decoder-sized pieces raises the process's peak RSS by about one copy plus a block,
    not two copies (one np.concatenate of the pieces: +256 MB on top of the pieces). Linux: peak RSS reset
    through /proc/self/clear_refs, read as VmHWM."""
    code = textwrap.dedent("""
        import numpy as np
        from anim400k.media.blocks import BlockJoiner

        def hwm():
            for line in open("/proc/self/status"):
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024

        joiner = BlockJoiner()
        piece = np.ones((1, 1024), np.float32)
        for _ in range(65536):  # 256 MB of AAC-frame-sized pieces
            joiner.append(piece.copy())
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak RSS to the current RSS
        before = hwm()
        out = joiner.join(1)
        print(hwm() - before, out.nbytes)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rise, nbytes = map(int, result.stdout.split())
    assert rise < 0.5 * nbytes, f"joining raised the peak RSS by {rise / 1e6:.0f} MB for {nbytes / 1e6:.0f} MB"
