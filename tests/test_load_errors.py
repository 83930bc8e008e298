"""One clean line for a backend's model-loading failure (``anim400k.errors.reason`` and friends)."""

from __future__ import annotations

import pytest

from anim400k.errors import described, reason, shape_mismatch, torch_load_failure


def _raised(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return exc
    raise AssertionError("nothing raised")


def test_reason_is_the_first_meaningful_line_without_ansi_codes_and_capped():
    exc = RuntimeError("\n  \x1b[1mWeights only load failed\x1b[0m. do this\n\t(1) and that\n" + "x" * 500)
    assert reason(exc) == "Weights only load failed. do this"
    long = reason(ValueError("word " * 200), limit=50)
    assert len(long) == 50 and long.endswith("...")


def test_reason_of_a_bare_value_or_nothing_says_what_failed(tmp_path):
    import importlib.util

    assert reason(KeyError("klass")) == "KeyError: 'klass'"
    assert reason(KeyError(174812789)) == "KeyError: 174812789"
    # a library's bare assert (demucs' BagOfModels: `assert other.samplerate == first.samplerate`)
    source = tmp_path / "lib" / "apply.py"
    source.parent.mkdir()
    source.write_text("def bag(first, other):\n    assert other.samplerate == first.samplerate\n")
    spec = importlib.util.spec_from_file_location("lib_apply", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    class M:
        def __init__(self, sr):
            self.samplerate = sr

    exc = _raised(lambda: module.bag(M(44100), M(16000)))
    assert str(exc) == ""
    assert reason(exc) == "AssertionError: failed check `other.samplerate == first.samplerate` in lib/apply.py"
    assert reason(ValueError("")) == "ValueError (the library gave no reason)"


def test_reason_of_a_yaml_error_is_its_problem_and_line():
    import yaml

    exc = _raised(lambda: yaml.safe_load("a: 1\n: : [\n"))
    assert str(exc).count("\n") >= 2
    assert reason(exc) == "not valid YAML: expected <block end>, but found ':' (line 2, column 1)"


def test_a_state_dict_shape_mismatch_is_summarised():
    torch = pytest.importorskip("torch")
    small, big = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 2)), \
        torch.nn.Sequential(torch.nn.Linear(2, 5), torch.nn.Linear(5, 2))
    exc = _raised(lambda: big.load_state_dict(small.state_dict()))
    assert str(exc).count("size mismatch") == 3
    assert shape_mismatch(exc) == reason(exc) == (
        "weights do not fit the model's settings (3 tensors differ in shape, e.g. 0.weight: [3, 2] in the "
        "file, [5, 2] in the model)")
    exc = _raised(lambda: big.load_state_dict({"0.weight": small.state_dict()["0.weight"], "extra": torch.zeros(1)}))
    assert shape_mismatch(exc) == ("weights do not fit the model's settings (1 tensor differs in shape, e.g. "
                                   "0.weight: [3, 2] in the file, [5, 2] in the model; 3 missing keys (e.g. 0.bias); "
                                   "1 unexpected key (e.g. extra))")
    assert shape_mismatch(ValueError("other")) is None


def test_torch_load_failures_say_what_the_file_should_be(tmp_path):
    torch = pytest.importorskip("torch")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"junk\n")
    exc = _raised(lambda: torch.load(junk, weights_only=True))
    assert str(exc) == "174812789"  # all torch says
    assert torch_load_failure(exc, "an XTTS checkpoint") == (
        "not a PyTorch file that torch.load can read (expected an XTTS checkpoint)", str(junk))
    other = tmp_path / "other.pth"
    torch.save(torch.nn.Linear(2, 2), other)  # a pickled module: another program's model file
    exc = _raised(lambda: torch.load(other, weights_only=True))
    assert "\x1b[" in str(exc) and str(exc).count("\n") > 3
    assert torch_load_failure(exc, "an XTTS checkpoint") == (
        "not an XTTS checkpoint (it holds a pickled torch.nn.modules.linear.Linear)", str(other))
    with open(other, "rb") as f:  # read through an open file: still named
        exc = _raised(lambda: torch.load(f, weights_only=True))
    assert torch_load_failure(exc, "x")[1] == str(other)
    assert torch_load_failure(ValueError("not from torch.load"), "x") is None


def test_described_names_the_type_once():
    """``f"{type}: {reason}"`` said ``KeyError: KeyError: 'pyannote.audio'`` (pyannote's load errors)."""
    assert described(KeyError("pyannote.audio")) == "missing key 'pyannote.audio' (KeyError)"
    assert described(KeyError("mu is not a file in the archive")) == "mu is not a file in the archive (KeyError)"
    assert described(KeyError(7)) == "missing key 7 (KeyError)"
    assert described(TypeError("f() got an unexpected keyword argument 'x'")) == (
        "TypeError: f() got an unexpected keyword argument 'x'")
    assert described(IndexError(3)) == "IndexError: 3"
    assert described(AssertionError()).startswith("AssertionError")
    assert described(AssertionError()).count("AssertionError") == 1
