"""The command shell: usage errors are click's short message and exit 2 (never a traceback); --version."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings

import pytest

from anim400k import __version__
from anim400k.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bogus"], "No such option: --bogus"),
        (["nosuch"], "No such command 'nosuch'"),
        (["dub", "--bogus"], "No such option: --bogus"),
        (["dub"], "Missing option '--out'"),
        (["dub", "v.mkv", "--out", "o.mkv", "--min-stretch", "abc"], "Invalid value for '--min-stretch'"),
        (["build", "m.yaml", "--out", "o", "--video-preset", "quick"], "'quick' is not an x264 preset"),
        (["validate", "rel", "--limit", "-1"], "--limit must be an integer >= 0, not -1"),
        (["build", "m.yaml", "--out", "o", "--video-height", "3"],
         "--video-height must be an integer from 16 to 4320, not 3"),
        (["build", "m.yaml", "--out", "o", "--video-height", "99999"], "--video-height must be an integer from 16 to "
                                                                         "4320, not 99999"),
    ],
)
def test_usage_errors_are_one_message_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_usage_error_from_the_installed_command_has_no_traceback():
    done = subprocess.run([sys.executable, "-m", "anim400k", "export", "--nope"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "No such option: --nope" in done.stderr and "Traceback" not in done.stderr


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"anim400k {__version__}"


def test_every_command_module_is_registered_statically():
    """cli.COMMANDS names every module of anim400k.commands (no importlib loop that skips a missing one)."""
    import pkgutil

    from anim400k import cli, commands

    modules = {m.name for m in pkgutil.iter_modules(commands.__path__)}
    assert {c.__name__.rsplit(".", 1)[1] for c in cli.COMMANDS} == modules


def test_help_texts_show_no_rst_markup():
    """`--help` prints docstrings as they are: ``x`` (reST literals) showed its backticks (`evaluate --help`)."""
    import click
    import typer.main

    from anim400k import cli

    def walk(cmd: click.Command, name: str):
        yield name, cmd.help or ""
        for param in cmd.params:
            yield f"{name} {param.name}", getattr(param, "help", None) or ""
        for sub_name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, f"{name} {sub_name}")

    texts = list(walk(typer.main.get_command(cli.app), "anim400k"))
    assert len(texts) > 100  # every command and option was seen
    assert [name for name, text in texts if "``" in text] == []


@pytest.fixture
def two_transcripts(tmp_path):
    en = tmp_path / "en.json"
    en.write_text('{"segments":[{"start":0,"end":2,"text":"hi"}]}')
    jp = tmp_path / "jp.json"
    jp.write_text('{"segments":[{"start":0,"end":2,"text":"a"}]}')
    return en, jp


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--offset", "nan"], "--offset must be a finite number from -10000000 to 10000000, not nan"),
        (["--offset", "inf"], "--offset must be a finite number from -10000000 to 10000000, not inf"),
        (["--offset", "1e300"], "--offset must be a finite number from -10000000 to 10000000, not 1e+300"),
        (["--tolerance-ms", "-5"], "--tolerance-ms must be an integer from 0 to 10000000000, not -5"),
        (["--drift", "nan"], "--drift must be a finite number above -1 and at most 1, not nan"),
        (["--drift", "-1"], "--drift must be a finite number above -1 and at most 1, not -1.0"),
        (["--drift", "inf"], "--drift must be a finite number above -1 and at most 1, not inf"),
    ],
)
def test_align_numeric_options_are_checked(two_transcripts, tmp_path, capsys, options, message):
    """Before, nan blamed the data ('JP segment 0 has a time that is not finite'), 1e300 wrote 00:00:00.000
    for every JP time, and a negative tolerance was taken."""
    en, jp = two_transcripts
    out = tmp_path / "clips.json"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["align", "--en", str(en), "--jp", str(jp), "--out", str(out), *options]) == 2
    assert capsys.readouterr().err.splitlines() == [f"anim400k: error: {message}"]
    assert not out.exists()


def test_align_numeric_options_in_range_work(two_transcripts, tmp_path):
    en, jp = two_transcripts
    out = tmp_path / "clips.json"
    args = ["--offset", "-10000000", "--drift", "0.999", "--tolerance-ms", "0"]
    assert main(["align", "--en", str(en), "--jp", str(jp), "--out", str(out), *args]) == 0
    assert out.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["build", "m.yaml", "--out", "OUT", "--frames-fps", "inf"],
         "--frames-fps must be a finite number above 0 and at most 1000, not inf"),
        (["build", "m.yaml", "--out", "OUT", "--frames-fps", "nan"],
         "--frames-fps must be a finite number above 0 and at most 1000, not nan"),
        (["build", "m.yaml", "--out", "OUT", "--frames-fps", "0"],
         "--frames-fps must be a finite number above 0 and at most 1000, not 0.0"),
        (["build", "m.yaml", "--out", "OUT", "--tolerance-ms", "-1"],
         "--tolerance-ms must be an integer from 0 to 10000000000, not -1"),
        (["demo", "--out", "OUT", "--duration", "nan"], "--duration must be a finite number from 5 to 1800, not nan"),
        (["demo", "--out", "OUT", "--duration", "2"], "--duration must be a finite number from 5 to 1800, not 2.0"),
        (["demo", "--out", "OUT", "--episodes", "0"], "--episodes must be an integer >= 1, not 0"),
        (["diarize", "MEDIA", "--out", "OUT", "--collar", "nan"],
         "--collar must be a finite number from 0 to 10000000, not nan"),
        (["diarize", "MEDIA", "--out", "OUT", "--collar", "-0.5"],
         "--collar must be a finite number from 0 to 10000000, not -0.5"),
        (["dub", "MEDIA", "--out", "OUT", "--max-stretch", "inf"],
         "--max-stretch must be a finite number >= 1, not inf"),
        (["dub", "MEDIA", "--out", "OUT", "--min-stretch", "nan"],
         "--min-stretch must be a finite number above 0 and at most 1, not nan"),
        # named the dataclass field (dub option min_stretch), without the range the flag allows
        (["dub", "MEDIA", "--out", "OUT", "--min-stretch", "0"],
         "--min-stretch must be a finite number above 0 and at most 1, not 0.0"),
        (["dub", "--dataset", "MEDIA", "--out", "OUT", "--min-stretch", "1.2"],
         "--min-stretch must be a finite number above 0 and at most 1, not 1.2"),
        (["dub", "MEDIA", "--out", "OUT", "--max-stretch", "0.9"],
         "--max-stretch must be a finite number >= 1, not 0.9"),
        # --num-speakers 0 was read as 'not given' (the speakers counted) without a word
        (["dub", "MEDIA", "--out", "OUT", "--num-speakers", "0"],
         "--num-speakers must be an integer >= 1 (omit it to count the speakers), not 0"),
        (["dub", "MEDIA", "--out", "OUT", "--anchor", "end"], "--anchor must be one of start, centre, not 'end'"),
        # a device name no backend takes was accepted (the TTS and ASR ran on the CPU, or failed late)
        (["dub", "MEDIA", "--out", "OUT", "--device", "gpu"], "--device must be cpu, cuda or cuda:N, not 'gpu'"),
        (["build", "m.yaml", "--out", "OUT", "--device", "cuda:x"],
         "--device must be auto, cpu, cuda or cuda:N, not 'cuda:x'"),
        # an unknown backend name was found only after the video was probed
        (["dub", "MEDIA", "--out", "OUT", "--tts", "bogus"],
         "unknown TTS backend 'bogus' (choose from: espeak, neural, xtts)"),
        (["dub", "MEDIA", "--out", "OUT", "--translator", "bogus"],
         "unknown translator 'bogus' (choose from: auto, subtitles, text, whisper)"),
        (["mushra", "create", "--out", "OUT", "--lufs", "nan"],
         "--lufs must be a finite number from -70 to 0, not nan"),
        (["mushra", "create", "--out", "OUT", "--lufs", "3"],
         "--lufs must be a finite number from -70 to 0, not 3.0"),
        (["mushra", "invite", "T", "-n", "0"], "--count must be an integer >= 1, not 0"),
        (["mushra", "invite", "T", "--base-url", "notaurl"],
         "--base-url must be an http:// or https:// URL with a host (the server listeners open), not 'notaurl'"),
        # ran as sequential decoding / as one worker per CPU, exit 0
        (["transcribe", "MEDIA", "-l", "en", "--asr", "faster-whisper", "--batch-size", "0", "--out", "OUT"],
         "--batch-size must be an integer >= 1, not 0"),
        (["transcribe", "MEDIA", "-l", "en", "--batch-size", "-3", "--out", "OUT"],
         "--batch-size must be an integer >= 1, not -3"),
        (["build", "m.yaml", "--out", "OUT", "--jobs", "-1"],
         "--jobs must be 'auto' or an integer >= 0 (0 = one worker per CPU), not '-1'"),
        (["demo", "--out", "OUT", "--jobs", "-2"],
         "--jobs must be 'auto' or an integer >= 0 (0 = one worker per CPU), not '-2'"),
        (["build", "m.yaml", "--out", "OUT", "--jobs", "two"],
         "--jobs must be 'auto' or an integer >= 0 (0 = one worker per CPU), not 'two'"),
        (["demo", "--out", "OUT", "--jobs", "1.5"],
         "--jobs must be 'auto' or an integer >= 0 (0 = one worker per CPU), not '1.5'"),
        # options the chosen backend does not read were ignored, exit 0
        (["diarize", "MEDIA", "--out", "OUT", "--diarizer", "campplus", "--model", "/nope"],
         "--model applies to --diarizer anime, not 'campplus'"),
        (["diarize", "MEDIA", "--out", "OUT", "--model", "/nope"],
         "--model applies to --diarizer anime, not 'embedded'"),
        (["diarize", "MEDIA", "--out", "OUT", "--pipeline", "/nope"],
         "--pipeline applies to --diarizer pyannote, not 'embedded'"),
        # refused only after the pipeline was checked (a user without one saw the pipeline's error instead)
        (["diarize", "MEDIA", "--out", "OUT", "--diarizer", "pyannote", "--subtitles", "MEDIA"],
         "the pyannote diarizer takes no subtitles (--subtitles needs embedded, campplus or anime)"),
        (["diarize", "MEDIA", "--out", "OUT", "--diarizer", "pyannote", "--pipeline", "/nope", "--model", "/nope"],
         "--model applies to --diarizer anime, not 'pyannote'"),
        (["diarize", "MEDIA", "--out", "OUT", "--diarizer", "anime", "--model", "/nope", "--pipeline", "/nope"],
         "--pipeline applies to --diarizer pyannote, not 'anime'"),
        (["separate", "MEDIA", "--out-backing", "OUT", "--method", "hpss", "--model", "/x"],
         "--model applies to --method demucs, not 'hpss'"),
        (["separate", "MEDIA", "--out-backing", "OUT", "--model-name", "htdemucs"],
         "--model-name applies to --method demucs, not 'dualtrack'"),
        # a reference the single-track separator never reads was ignored
        (["separate", "MEDIA", "--out-backing", "OUT", "--method", "hpss", "--en-media", "MEDIA"],
         "--en-media applies to --method dualtrack, not 'hpss'"),
    ],
)
def test_float_options_of_other_commands_are_checked(tmp_path, capsys, argv, message):
    """nan/inf/negative where meaningless: one line about the option, exit 2, nothing written (demo --duration
    nan and --episodes 0 were tracebacks; build --frames-fps inf extracted frames without end). Also values
    and options that were accepted silently: --batch-size 0, --jobs -1, a --model no backend of the command
    reads."""
    (tmp_path / "m.yaml").write_text("shows: []\n")
    (tmp_path / "MEDIA").write_bytes(b"")
    argv = [str(tmp_path / a) if a in ("m.yaml", "OUT", "MEDIA") else a for a in argv]
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [f"anim400k: error: {message}"]
    assert not (tmp_path / "OUT").exists()


def test_check_number_messages():
    from anim400k.errors import InputError, check_number

    assert check_number("--x", 0.5, 0, 1) == 0.5
    assert check_number("--x", 0, 0) == 0
    with pytest.raises(InputError, match=r"^--x must be a finite number > 0, not 0\.0$"):
        check_number("--x", 0.0, 0, above=True)
    with pytest.raises(InputError, match=r"^--x must be a finite number <= 1, not 2\.0$"):
        check_number("--x", 2.0, maximum=1)
    with pytest.raises(InputError, match=r"^--x must be a finite number, not inf$"):
        check_number("--x", float("inf"))


@pytest.fixture
def video(tmp_path):
    """A tiny file that passes the commands' existence checks (backends are checked before it is read)."""
    import numpy as np
    import soundfile as sf

    path = tmp_path / "clip.wav"
    sf.write(path, np.zeros(1600, np.float32), 16000)
    (tmp_path / "s.srt").write_text("1\n00:00:00,000 --> 00:00:00,080\nHi.\n")
    return path


@pytest.mark.parametrize(("args", "message"), [
    (["dub", "{v}", "--out", "{t}/o.mkv", "--diarizer", "anime"], "--diarizer-model is required for anime"),
    (["dub", "{v}", "--out", "{t}/o.mkv", "--diarizer", "pyannote"], "--pipeline is required for pyannote"),
    (["dub", "{v}", "--out", "{t}/o.mkv", "--subtitles", "{t}/s.srt", "--tts", "xtts"],
     "--tts-model is required for xtts"),
    (["diarize", "{v}", "--out", "{t}/o.rttm", "--diarizer", "pyannote"], "--pipeline is required for pyannote"),
    (["diarize", "{v}", "--out", "{t}/o.rttm", "--diarizer", "anime"], "--model is required for anime"),
])
def test_missing_models_name_the_flag_of_the_command(args, message, video, tmp_path, capsys, monkeypatch):
    """Messages named ``model=... (CLI --model)``, ``give --model``, ``pipeline=PATH`` or an install hint.
    (dub --translator whisper without a model silently used the name large-v3, then was refused; it now
    uses the embedded Whisper base: tests/test_dub_whisper_base.py.)"""
    monkeypatch.delenv("ANIM400K_ANIME_SPEAKER_MODEL", raising=False)
    monkeypatch.delenv("ANIM400K_PYANNOTE_PIPELINE", raising=False)
    assert main([a.format(v=video, t=tmp_path) for a in args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"anim400k: error: {message} (") and "\n" not in err and "pip install" not in err


@pytest.mark.parametrize(("args", "message"), [
    (["dub", "{v}", "--out", "{t}/o.mkv", "--tts-model", "{t}/x"], "--tts-model applies to --tts xtts, not 'neural'"),
    (["dub", "{v}", "--out", "{t}/o.mkv", "--diarizer-model", "{t}/x"],
     "--diarizer-model applies to --diarizer anime or pyannote, not 'embedded'"),
    (["dub", "{v}", "--out", "{t}/o.mkv", "--pipeline", "{t}/x"],
     "--pipeline applies to --diarizer pyannote, not 'embedded'"),
    (["dub", "{v}", "--out", "{t}/o.mkv", "--translator", "subtitles", "--subtitles", "{t}/s.srt", "--whisper-model",
      "{t}/x"], "--whisper-model applies to --translator whisper or auto, not 'subtitles'"),
    (["transcribe", "{v}", "-l", "en", "--asr", "vad", "--compute-type", "float16", "--out", "{t}/o.json"],
     "--compute-type applies to --asr faster-whisper, not 'vad'"),
    (["transcribe", "{v}", "-l", "en", "--batch-size", "4", "--out", "{t}/o.json"],
     "--batch-size applies to --asr faster-whisper, not 'auto'"),
    (["transcribe", "{v}", "-l", "en", "--device", "cuda", "--out", "{t}/o.json"],
     "--device applies to --asr faster-whisper, not 'auto'"),
])
def test_options_no_backend_of_the_command_reads_are_refused(args, message, video, tmp_path, capsys):
    """They were accepted and ignored (a dub with --diarizer-model beside the embedded diarizer exited 0; `transcribe
    --device cuda` ran the embedded Whisper on the CPU)."""
    assert main([a.format(v=video, t=tmp_path) for a in args]) == 2
    assert capsys.readouterr().err.strip() == f"anim400k: error: {message}"
    assert not (tmp_path / "o.mkv").exists() and not (tmp_path / "o.json").exists()


def test_dub_diarizer_model_reaches_the_anime_backend(video, tmp_path, capsys):
    """``dub --diarizer-model`` (new) is checked before any work: a missing folder is named."""
    assert main(["dub", str(video), "--out", str(tmp_path / "o.mkv"), "--diarizer", "anime",
                 "--diarizer-model", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"anim400k: error: {tmp_path / 'nope'}: anime speaker embedding model not found")


def test_import_disables_onnxruntime_telemetry():
    """onnxruntime 1.32's native library starts a 1DS telemetry client (DNS lookups of
    mobile.events.data.microsoft.com) unless ORT_DISABLE_TELEMETRY is set when it loads."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    code = "import os, anim400k; print(os.environ.get('ORT_DISABLE_TELEMETRY'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "1"


def test_no_help_text_loses_square_brackets_to_rich_markup():
    """Typer renders help through rich, which takes ``[default: the English dialogue stream]`` for a style tag
    and drops it: ``align --help`` read ``index or language tag .`` and never said the default. Every help
    text of every command keeps what it has in square brackets; the defaults are shown by typer."""
    import re

    import click
    import typer
    from rich.markup import render
    from typer.testing import CliRunner

    from anim400k.cli import app

    root = typer.main.get_command(app)
    lost, seen = [], []
    for name in root.list_commands(click.Context(root)):
        cmd = root.get_command(click.Context(root), name)
        subs = [(name, cmd)]
        if hasattr(cmd, "list_commands"):  # mushra: typer's own click classes are not click.Group
            ctx = click.Context(cmd)
            subs = [(f"{name} {s}", cmd.get_command(ctx, s)) for s in cmd.list_commands(ctx)]
        for label, c in subs:
            seen.append(label)
            for where, text in [("help", c.help or "")] + [(p.name, getattr(p, "help", None) or "") for p in c.params]:
                shown = render(text).plain
                lost += [(label, where, m) for m in re.findall(r"\[[^\]]*\]", text) if m not in shown]
    assert lost == [] and "mushra serve" in seen
    out = CliRunner().invoke(app, ["diarize", "--help"], env={"COLUMNS": "200"}).output
    assert "the English dialogue stream" in out and "the media file's name without suffix" in out


def test_every_option_of_every_command_says_what_it_does():
    """`build --help` listed --video-clips, --backing-clips and --progress with a default and no word of what
    they do (also `demo --progress`, `mushra serve --port`): every option of every command has a help text."""
    import click
    import typer

    from anim400k.cli import app

    def options(cmd: click.Command, label: str):
        if hasattr(cmd, "list_commands"):  # a group (typer's own click classes are not click.Group)
            ctx = click.Context(cmd)
            for name in cmd.list_commands(ctx):
                yield from options(cmd.get_command(ctx, name), f"{label} {name}".strip())
            return
        for p in cmd.params:
            if getattr(p, "param_type_name", "") == "option":
                yield label, p

    found = list(options(typer.main.get_command(app), ""))
    assert len({label for label, _ in found}) >= 18 and any(p.name == "backing_clips" for _, p in found)
    assert [(label, p.opts[0]) for label, p in found if not (p.help or "").strip()] == []


def test_build_retries_help_names_the_local_pool_too(capsys):
    """`build --help` said --retries is '(ray)': the local pool retries a task whose worker died as often
    (runners.LocalRunner), so a user of the default runner read that it did not apply to them."""
    import click
    import typer

    from anim400k.cli import app

    root = typer.main.get_command(app)
    build = root.get_command(click.Context(root), "build")
    text = next(p.help for p in build.params if p.name == "retries")
    assert "(ray)" not in text and "local pool" in text and "Ray" in text


def test_command_summaries_are_one_line():
    """`anim400k --help` lists each command with its docstring's first paragraph, newlines kept: transcribe's,
    wrapped in the source, showed as a line broken half-way (`... the same file, stream, backend` / `settings ...`)."""
    import click
    import typer

    from anim400k.cli import app

    def summaries(cmd: click.Command, label: str):
        if hasattr(cmd, "list_commands"):
            ctx = click.Context(cmd)
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                yield f"{label} {name}".strip(), (sub.help or "").strip().split("\n\n")[0]
                yield from summaries(sub, f"{label} {name}".strip())

    found = dict(summaries(typer.main.get_command(app), ""))
    assert "transcribe" in found and "mushra serve" in found
    assert {label: text for label, text in found.items() if "\n" in text or not text} == {}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--runner", "slurm"], "anim400k: error: --runner: unknown runner 'slurm' (use 'local' or 'ray')"),
        (["--address", "10.0.0.1:6379"], "anim400k: error: --address applies to --runner ray, not 'local'"),
        (["--retries", "-1"], "anim400k: error: --retries must be an integer from 0 to 1000, not -1"),
    ],
)
def test_build_runner_options_are_checked_before_anything_is_written(tmp_path, capsys, options, message):
    """`build --runner slurm` was a ValueError traceback (exit 1) after catalog.sqlite was made in --out;
    `--address` without `--runner ray` was ignored. Both are one line now, exit 2, and --out is not made."""
    manifest = tmp_path / "m.yaml"
    manifest.write_text("shows:\n  - key: s\n    episodes:\n      - episode: '1'\n        media: ep.mkv\n")
    out = tmp_path / "out"
    assert main(["build", str(manifest), "--out", str(out), "--asr-en", "vad", "--asr-ja", "vad", *options]) == 2
    err = capsys.readouterr().err.strip()
    assert err == message and not out.exists()


def _commands_with_help() -> list[tuple[list[str], object]]:
    """(argv before ``--help``, click command) for every command and mushra subcommand."""
    from anim400k.cli import _command

    root, found = _command(), []
    todo = [([], root)]
    while todo:
        argv, cmd = todo.pop()
        subs = getattr(cmd, "commands", {})
        todo += [([*argv, name], sub) for name, sub in subs.items()]
        if argv and not subs:
            found.append((argv, cmd))
    return found


def test_help_on_an_80_column_terminal_shows_every_option_name_whole(capsys, monkeypatch):
    """`build --help` in an 80-column terminal cut option names (`--diarizer-mod…`, `--separator-mo…`,
    `--no-video-cli…`, `--no-backing-c…`): typer's `<int range> [x>=2]` of --video-height took the room."""
    monkeypatch.setenv("COLUMNS", "80")
    cut = []
    for argv, cmd in _commands_with_help():
        assert main([*argv, "--help"]) == 0
        out = capsys.readouterr().out
        names = [o for p in cmd.params for o in (*p.opts, *getattr(p, "secondary_opts", ())) if o.startswith("--")]
        cut += [(" ".join(argv), o) for o in names if not re.search(re.escape(o) + r"(?![\w-]|…)", out)]
    assert cut == []


def test_help_paragraphs_are_wrapped_as_one_text(capsys, monkeypatch):
    """A docstring's later paragraphs kept their source line breaks and were wrapped again at the terminal's
    width: `transcribe --help` showed `... AWS JSON) is refused,` then `not replaced; ...` on a line of its own."""
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["transcribe", "--help"]) == 0
    out = capsys.readouterr().out
    assert "(a user's Whisper or AWS JSON) is refused, not replaced; an empty one is written over." in out
    assert main(["tasks", "--help"]) == 0
    out = capsys.readouterr().out
    assert "and speech-translation rows without subtitles, are left out" in out
