"""A small MUSHRA test (1 training + 2 rated trials) imported from a webMUSHRA config of synthetic WAVs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

from ..evaluate.mushra_create import create_from_webmushra

SR = 16000


def _tone(f0: float, seconds: float, seed: int) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    rng = np.random.default_rng(seed)
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 12)) * (
        0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    )
    return (0.1 * x + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def make_mushra_test(root: Path) -> Path:
    """Write the webMUSHRA config and its WAVs under ``root`` and import them as ``root/test``."""
    res = root / "webmushra" / "configs" / "resources" / "audio"
    res.mkdir(parents=True)
    pages = []
    for k, pid in enumerate(("training1", "t1", "t2")):
        sf.write(res / f"{pid}_ref.wav", _tone(150 + 20 * k, 1.0, k), SR)
        sf.write(res / f"{pid}_c1.wav", _tone(150 + 20 * k, 1.0, k + 10) * 0.5, SR)
        sf.write(res / f"{pid}_c2.wav", np.clip(_tone(150 + 20 * k, 1.0, k) * 8, -0.3, 0.3), SR)
        pages.append(
            {
                "type": "mushra",
                "id": pid,
                "name": pid,
                "content": "rate",
                "reference": f"configs/resources/audio/{pid}_ref.wav",
                "createAnchor35": True,
                "createAnchor70": True,
                "stimuli": {
                    "C1": f"configs/resources/audio/{pid}_c1.wav",
                    "C2": f"configs/resources/audio/{pid}_c2.wav",
                },
            }
        )
    cfg = root / "webmushra" / "configs" / "mine.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "testname": "T",
                "testId": "t",
                "pages": [pages[0], ["random", *pages[1:]], {"type": "finish", "name": "bye"}],
            }
        )
    )
    out = root / "test"
    create_from_webmushra(cfg, out, sample_rate=SR)
    return out
