"""webMUSHRA configs imported (``mushra create --from-webmushra``) and written (``webmushra.yaml``): what an outside
tester found (2026-12-07) against webMUSHRA's own rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from anim400k.errors import InputError
from anim400k.evaluate.mushra_create import create_from_webmushra
from anim400k.evaluate.stimuli import make_anchor
from anim400k.evaluate.webmushra import to_webmushra

SR = 16000


def _sound(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    return (0.1 * np.sin(2 * np.pi * 220 * t) + 0.03 * rng.standard_normal(t.size)).astype(np.float32)


def _config(root: Path, pages: list[dict]) -> Path:
    cfg = root / "configs" / "t.yaml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(yaml.safe_dump({"testname": "T", "pages": pages}))
    return cfg


def _page(pid: str, ref: str = "ref.wav", **stimuli: str) -> dict:
    return {"type": "mushra", "id": pid, "reference": ref, "stimuli": stimuli or {"C1": "c1.wav"}}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for name, seconds, seed in (("ref.wav", 2.0, 0), ("c1.wav", 2.0, 1), ("long.wav", 13.0, 2)):
        sf.write(tmp_path / name, _sound(seconds, seed), SR)
    return tmp_path


@pytest.mark.parametrize(("ids", "said"), [(("t1", "t1"), "two mushra pages have the id 't1'"),
                                            (("x/y", "x_y"), "two mushra pages have the id 'x/y' and 'x_y' (both "
                                                             "'x_y' as names)")])
def test_pages_with_one_id_are_refused(root: Path, ids: tuple[str, str], said: str) -> None:
    """Two pages of one id (or ids alike as file names) made two trials sharing one stimulus folder: the first
    trial's hidden reference was the second page's, and every listener's join failed on the server."""
    cfg = _config(root, [_page(ids[0]), _page(ids[1], ref="long.wav", C1="long.wav")])
    with pytest.raises(InputError) as err:
        create_from_webmushra(cfg, root / "out", sample_rate=SR)
    assert said in str(err.value) and not (root / "out").exists()


def test_stimuli_named_like_the_reference_or_an_anchor_must_be_them(root: Path) -> None:
    """A stimulus called ``reference`` was dropped and one called ``anchor35`` replaced by the rendered anchor,
    without a word: the user's file was in no trial."""
    for stimuli, said in (({"reference": "c1.wav", "C1": "c1.wav"}, "a stimulus named 'reference' that is not"),
                          ({"anchor35": "c1.wav", "C1": "c1.wav"}, "stimulus 'anchor35' is not the reference "
                                                                   "low-passed at 3.5 kHz")):
        with pytest.raises(InputError, match=said):
            create_from_webmushra(_config(root, [_page("t1", **stimuli)]), root / "out", sample_rate=SR)
    # the reference itself, and its anchor rendered (as this tool's own webmushra.yaml names them), are taken
    sf.write(root / "a35.wav", 0.5 * make_anchor(_sound(2.0, 0), SR, "anchor35"), SR)
    test = create_from_webmushra(_config(root, [_page("t1", reference="ref.wav", anchor35="a35.wav", C1="c1.wav")]),
                                 root / "out", sample_rate=SR)
    assert set(test.trials[0].stimuli) == {"reference", "anchor35", "C1"}


def test_a_trial_over_12_s_is_marked_not_strict_and_warned(root: Path) -> None:
    """webMUSHRA's MushraPage stops on a stimulus over 12 s unless its page says ``strict: false``: the written
    config of a 13 s trial could not run in webMUSHRA, as the docs say it does."""
    warned: list[str] = []
    cfg = _config(root, [_page("short"), _page("long", ref="long.wav", C1="long.wav")])
    create_from_webmushra(cfg, root / "out", sample_rate=SR, warn=warned.append)
    doc = yaml.safe_load((root / "out" / "webmushra.yaml").read_text())
    pages = {p["id"]: p for block in doc["pages"] for p in (block if isinstance(block, list) else [block])
             if isinstance(p, dict) and p.get("type") == "mushra"}
    assert pages["long"]["strict"] is False and "strict" not in pages["short"]
    assert len(warned) == 1 and "1 trial(s) last longer than 12 s (long)" in warned[0]


def test_a_prefix_without_a_slash_is_still_a_folder(root: Path) -> None:
    """``--webmushra-prefix configs/resources/t`` wrote ``configs/resources/tstimuli/...``."""
    test = create_from_webmushra(_config(root, [_page("t1")]), root / "out", sample_rate=SR)
    for prefix in ("configs/resources/t", "configs/resources/t/"):
        page = [p for p in to_webmushra(test, prefix)["pages"][-2] if isinstance(p, dict)][0]
        assert page["reference"].startswith("configs/resources/t/stimuli/")
