"""The faster-whisper backend's real loading and decoding code, on a tiny *random* Whisper.

The model is built offline (``anim400k.testing.random_whisper``: a local byte-level tokenizer,
a random ``transformers`` Whisper, CTranslate2 conversion), so its text is meaningless;
these tests check the pipeline: loading from a folder, batched and sequential decoding,
word timestamps, the translate task, and timings inside the audio.
"""

from __future__ import annotations

import sys

import pytest

from anim400k.testing.speech import SR, speech_track

pytest.importorskip("faster_whisper")
pytest.importorskip("ctranslate2")
pytest.importorskip("transformers")

from anim400k.asr import get_transcriber  # noqa: E402
from anim400k.errors import BackendUnavailable, InputError  # noqa: E402
from anim400k.testing.terminal import progress_cases


@pytest.fixture(scope="module")
def random_model(tmp_path_factory):
    from anim400k.testing.random_whisper import build_random_whisper

    return build_random_whisper(tmp_path_factory.mktemp("whisper") / "random-tiny")


@pytest.fixture(scope="module")
def speech():
    return speech_track(["こんにちは、げんきですか。", "きょうは いい てんきですね。"], "ja", gap=1.0)


def _check(transcript, duration, language):
    assert transcript.language == language
    assert transcript.segments, "the decoder returned no segment"
    starts = [s.start for s in transcript.segments]
    assert starts == sorted(starts)
    words = 0
    for seg in transcript.segments:
        assert 0.0 <= seg.start <= seg.end <= duration + 1e-6
        for w in seg.words:
            assert seg.start <= w.start <= w.end <= seg.end
            assert 0.0 <= w.probability <= 1.0
        words += len(seg.words)
    assert words > 0, "no word timestamps"


def _backend(model, **kw):
    opts = {"model": str(model), "device": "cpu", "beam_size": 1, "temperature": 0.0, "max_new_tokens": 12,
            "cpu_threads": 1}
    return get_transcriber("faster-whisper", **(opts | kw))


def test_batched_transcribe_and_translate(random_model, speech):
    audio, _ = speech
    fw = _backend(random_model, batch_size=2)
    assert fw.device == "cpu" and fw.compute_type == "int8"
    duration = audio.size / SR
    _check(fw.transcribe(audio, SR, "ja"), duration, "ja")
    _check(fw.translate(audio, SR, "ja"), duration, "en")


def test_sequential_decoding_with_word_timestamps(random_model, speech):
    audio, _ = speech
    fw = _backend(random_model, batch_size=1, vad_filter=False)
    _check(fw.transcribe(audio, SR, "en"), audio.size / SR, "en")


def test_translate_task_option(random_model, speech):
    fw = _backend(random_model, batch_size=2, task="translate")
    assert fw.transcribe(speech[0], SR, "ja").language == "en"
    with pytest.raises(InputError, match="task must be"):
        _backend(random_model, task="summarise")


@pytest.mark.parametrize("batch_size", [1, 2])
def test_iso_639_2_codes_are_mapped_to_whisper_codes(random_model, speech, batch_size):
    """The build and manifests name languages ``jpn``/``eng``: they went to Whisper unconverted (faster-whisper:
    ``'jpn' is not a valid language code``), in the transcribe and the translate task alike."""
    audio, _ = speech
    fw = _backend(random_model, batch_size=batch_size)
    _check(fw.transcribe(audio, SR, "jpn"), audio.size / SR, "ja")
    _check(fw.transcribe(audio, SR, "eng"), audio.size / SR, "en")
    _check(fw.translate(audio, SR, "jpn"), audio.size / SR, "en")


def test_a_language_whisper_lacks_is_one_error_naming_it(random_model, speech):
    fw = _backend(random_model)
    for task in (fw.transcribe, fw.translate):
        with pytest.raises(InputError, match="language 'xyz' is not one Whisper knows"):
            task(speech[0], SR, "xyz")


def test_missing_models_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="model folder not found"):
        _backend(tmp_path / "nowhere").load()
    with pytest.raises(InputError, match="no model.bin"):
        _backend(tmp_path).load()
    for name in ("no-such-model-name", "models/nonexist"):  # a typo'd relative folder: not 'backend not available'
        with pytest.raises(InputError, match="no model folder of this name here, nor a model of this name in the "
                                             "local Hugging Face cache") as info:
            get_transcriber("faster-whisper", model=name, device="cpu").load()
        assert not isinstance(info.value, BackendUnavailable) and info.value.path == name


@pytest.mark.parametrize("batch_size", [1, 2])
def test_progress_bar_only_when_asked_and_on_a_terminal(random_model, speech, monkeypatch, batch_size):
    audio, _ = speech
    for progress, err, drawn in progress_cases():
        monkeypatch.setattr(sys, "stderr", err)
        _backend(random_model, batch_size=batch_size, progress=progress).transcribe(audio, SR, "ja")
        assert ("100%" in err.getvalue()) is drawn, (progress, type(err).__name__, err.getvalue())


@pytest.mark.parametrize("removed", ["model.bin", "config.json", "tokenizer.json", "vocabulary.json"])
def test_incomplete_model_folder_names_the_missing_file(random_model, tmp_path, removed):
    """Without config.json CTranslate2 failed with a JSON type_error traceback, without tokenizer.json
    faster-whisper went to the Hugging Face Hub: each is now one line naming the folder and the file."""
    import shutil

    folder = tmp_path / "incomplete"
    shutil.copytree(random_model, folder)
    (folder / removed).unlink()
    with pytest.raises(InputError, match=f"no {removed}") as info:
        _backend(folder).load()
    assert info.value.path == str(folder)


def test_unreadable_config_names_the_file(random_model, tmp_path):
    import shutil

    folder = tmp_path / "bad-config"
    shutil.copytree(random_model, folder)
    (folder / "config.json").write_text("")
    with pytest.raises(InputError, match="not a readable JSON file") as info:
        _backend(folder).load()
    assert info.value.path == str(folder / "config.json")


@pytest.fixture(scope="module")
def random_model_128(tmp_path_factory):
    from anim400k.testing.random_whisper import build_random_whisper

    return build_random_whisper(tmp_path_factory.mktemp("whisper128") / "random-tiny-128", n_mels=128)


def test_mel_bins_without_or_against_preprocessor_config(random_model, random_model_128, tmp_path):
    """A 128-mel model (large-v3) without preprocessor_config.json got 80-bin features and failed at the
    first decoding with ``Invalid input features shape``; a mismatching feature_size likewise."""
    import shutil

    missing = tmp_path / "no-preprocessor"
    shutil.copytree(random_model_128, missing)
    (missing / "preprocessor_config.json").unlink()
    with pytest.raises(InputError, match="takes 128 mel bins but the folder has no preprocessor_config.json"):
        _backend(missing).load()
    wrong = tmp_path / "wrong-preprocessor"
    shutil.copytree(random_model_128, wrong)
    shutil.copy(random_model / "preprocessor_config.json", wrong / "preprocessor_config.json")
    with pytest.raises(InputError, match="feature_size 80 does not match the model's 128 mel bins") as info:
        _backend(wrong).load()
    assert info.value.path == str(wrong / "preprocessor_config.json")
    _backend(random_model_128).load()  # complete: loads


def test_cuda_without_a_gpu_is_a_clear_error(random_model, monkeypatch):
    """Was ``cannot load the Whisper model (CUDA failed with error CUDA driver version is insufficient...)``."""
    import ctranslate2

    from anim400k.errors import AnimError

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 0)
    with pytest.raises(AnimError, match="device 'cuda' was asked for, but CTranslate2 sees no CUDA GPU"):
        _backend(random_model, device="cuda").load()


def test_cli_incomplete_folder_is_one_line_exit_2(random_model, tmp_path, capsys):
    import shutil

    from anim400k.cli import main
    from anim400k.media import write_audio

    audio = tmp_path / "a.wav"
    write_audio(audio, speech_track(["テスト"], "ja")[0], SR)
    folder = tmp_path / "no-tokenizer"
    shutil.copytree(random_model, folder)
    (folder / "tokenizer.json").unlink()
    args = ["transcribe", str(audio), "--language", "ja", "--asr", "faster-whisper", "--model", str(folder),
            "--out", str(tmp_path / "t.json")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"anim400k: error: {folder}: not a complete CTranslate2 Whisper folder: no tokenizer.json "
                   "(a complete one holds model.bin, config.json, tokenizer.json, vocabulary.json and "
                   "preprocessor_config.json; see docs/asr.md)")


def test_cli_transcribes_again_when_a_model_file_is_replaced(random_model, tmp_path, capsys):
    """`transcribe` kept its transcript when the files of --model were replaced at the same path: the
    folder's files (names, sizes, times) are now part of the cache key."""
    import json
    import os
    import shutil

    from anim400k.cli import main
    from anim400k.media import write_audio

    audio = tmp_path / "a.wav"
    write_audio(audio, speech_track(["テスト"], "ja")[0], SR)
    folder = tmp_path / "model"
    shutil.copytree(random_model, folder)
    out = tmp_path / "t.json"
    args = ["transcribe", str(audio), "-l", "ja", "--asr", "faster-whisper", "--model", str(folder),
            "--device", "cpu", "--batch-size", "1", "--out", str(out)]

    def digest():
        return json.loads(out.read_text())["anim400k"]["config_hash"]

    assert main(args) == 0
    first = digest()
    assert main(args) == 0 and digest() == first  # unchanged: re-used
    st = (folder / "model.bin").stat()
    shutil.copyfile(random_model / "model.bin", folder / "model.bin")  # another copy: a new file at the path
    os.utime(folder / "model.bin", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert main(args) == 0 and digest() != first
    capsys.readouterr()


def test_a_folder_of_another_ctranslate2_model_is_not_a_whisper_model(random_model, tmp_path):
    """A CTranslate2 model of another architecture (a GPT-2 converted with TransformersConverter) said
    `cannot load the Whisper model ([json.exception.type_error.302] type must be string, but is null)`."""
    import shutil

    folder = tmp_path / "gpt2"
    shutil.copytree(random_model, folder)
    body = (random_model / "model.bin").read_bytes()
    assert body[6:6 + 11] == b"WhisperSpec"
    name = b"TransformerDecoderSpec\0"
    header = body[:4] + len(name).to_bytes(2, "little") + name
    (folder / "model.bin").write_bytes(header + body[6 + 12:])
    with pytest.raises(InputError) as info:
        _backend(folder).check()
    assert info.value.path == str(folder)
    assert info.value.problem.startswith("not a Whisper model: its model.bin holds a CTranslate2 "
                                         "TransformerDecoderSpec, not a WhisperSpec")


def test_a_json_file_that_is_no_tokenizer_is_named(random_model, tmp_path):
    """`{"x": 1}` as tokenizer.json said `cannot load the Whisper model (expected `,` or `}` at line 1
    column 5)` about the folder: wrong (the file is valid JSON) and the file was not named."""
    import json
    import shutil

    folder = tmp_path / "badtok"
    shutil.copytree(random_model, folder)
    (folder / "tokenizer.json").write_text(json.dumps({"x": 1}))
    with pytest.raises(InputError) as info:
        _backend(folder).check()
    assert info.value.path == str(folder / "tokenizer.json")
    assert info.value.problem.startswith("not a Hugging Face tokenizer file: it has no 'model' section")
    tok = json.loads((random_model / "tokenizer.json").read_text())
    tok["model"] = {"type": "NoSuchModel"}
    (folder / "tokenizer.json").write_text(json.dumps(tok))
    with pytest.raises(InputError) as info:
        _backend(folder).check()
    assert info.value.path == str(folder / "tokenizer.json") and "\n" not in info.value.problem
    assert info.value.problem.startswith("not a tokenizer that the tokenizers library reads: ")


@pytest.mark.parametrize("batch_size", [0, -3])
def test_a_batch_size_below_one_is_refused(random_model, batch_size):
    """Was run as sequential decoding without a word."""
    with pytest.raises(InputError, match=f"batch_size must be an integer >= 1 .*not {batch_size}"):
        _backend(random_model, batch_size=batch_size)


def test_batched_decoding_keeps_whisper_segments(speech_en_lines):
    """faster-whisper's batched pipeline decodes without timestamp tokens by default: one segment per 30 s
    chunk. A build with ``--asr-model`` (batch size 8) then aligned one clip of five (F1 0.00, an outside
    tester). With timestamps tiny.en still gave one segment of 0.3-10.7 s over four lines; cut at the pauses
    between words, the lines are segments of their own, as (or finer than) sequential decoding gives them."""
    from anim400k.asr.faster_whisper_backend import shipped_tiny_en_path

    audio, _lines = speech_en_lines
    duration = audio.size / SR
    opts = {"model": str(shipped_tiny_en_path()), "device": "cpu", "beam_size": 1, "temperature": 0.0,
            "cpu_threads": 1}
    batched = get_transcriber("faster-whisper", **(opts | {"batch_size": 8})).transcribe(audio, SR, "en")
    sequential = get_transcriber("faster-whisper", **(opts | {"batch_size": 1})).transcribe(audio, SR, "en")
    assert len(sequential.segments) >= 3
    assert len(batched.segments) >= len(sequential.segments) and max(s.end - s.start for s in batched.segments) < 4
    _check(batched, duration, "en")


@pytest.fixture(scope="module")
def speech_en_lines():
    return speech_track(["I promised you, didn't I?", "This is our secret.", "It is not over yet.",
                         "Let's go home together."], "en", gap=1.5)


def test_an_english_only_model_refuses_other_languages(speech):
    """faster-whisper only warned ('English-only ... using en instead') and the Japanese track came back as English
    text in a transcript labelled 'ja' (an outside tester)."""
    from anim400k.asr.faster_whisper_backend import shipped_tiny_en_path

    audio, _ = speech
    fw = get_transcriber("faster-whisper", model=str(shipped_tiny_en_path()), device="cpu", beam_size=1,
                         cpu_threads=1, batch_size=1)
    with pytest.raises(InputError, match="the model is English-only: it cannot transcribe 'ja' speech"):
        fw.transcribe(audio, SR, "ja")
