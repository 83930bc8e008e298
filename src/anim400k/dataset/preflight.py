"""Checks of a build's backends before it plans any stage (a bad model path is one line, not a failed episode).

Each backend is checked as it will be built by its stage, without loading a model: the registry knows
the name, its Python package is installed, its local model (``--asr-model``, ``--separator-model``,
``--diarizer-model`` or the backend's environment variable) is there and complete, and a CUDA device
asked for is visible. Loading the weights is left to the stages.
"""

from __future__ import annotations

import os

from ..errors import BackendUnavailable, InputError
from ..model import EN, JP
from ..registry import ASR, SEPARATORS, Registry
from .options import BuildOptions

#: The ``anim400k build`` flag that gives each backend's model (for :func:`anim400k.errors.backend_flags`).
BUILD_FLAGS = {"faster-whisper": "--asr-model", "demucs": "--separator-model", "anime": "--diarizer-model",
               "pyannote": "--diarizer-model"}


def _installed(registry: Registry, name: str) -> None:
    backend = registry[name]  # an unknown name: InputError listing the choices
    missing = registry.missing(name)
    if missing:
        raise BackendUnavailable(name, backend.extra, f"missing Python module {missing[0]}")


def check_backends(options: BuildOptions) -> None:
    """Raise a one-line :class:`~anim400k.errors.AnimError` when a backend ``options`` names cannot run:
    the ASR of both languages, the diarizer and the separator (see the module docstring)."""
    from .stages import asr_backend

    check_runner(options)
    check_unused_models(options)
    if options.asr_device.startswith("cuda") and options.runner == "local":
        check_cuda(options.asr_device)
    for lang in (EN, JP):
        name, opts = asr_backend(options, lang)
        if name == "auto":  # the backend auto gives this language (whisper-base for JP: its two wheels)
            _check_auto(lang)
            continue
        _installed(ASR, name)
        if name in ("faster-whisper", "whisper-base"):
            from ..asr import get_transcriber

            get_transcriber(name, **opts).check()
    from ..diarize import check_diarizer

    check_diarizer(options.diarizer, options.diarizer_model)
    _installed(SEPARATORS, options.separator)
    if options.separator == "demucs":
        from ..separate import get_separator

        get_separator("demucs", model=options.separator_model).check()


def check_unused_models(options: BuildOptions) -> None:
    """Raise :class:`InputError` for a backend that cannot do the work it is named for, or a model option no backend
    of the build uses: an English-only ASR for Japanese (it failed each episode after its English ASR, naming the
    ``transcribe`` command's flags), ``--separator-model`` beside ``dualtrack``/``hpss`` (an internal error after
    the ASR), ``--diarizer-model`` beside the embedded diarizer and ``--asr-model`` where neither language builds
    faster-whisper (both ignored), as the ``separate``, ``diarize`` and ``transcribe`` commands refuse them."""
    from ..asr.languages import ENGLISH_ONLY_ASR

    if options.asr_ja in ENGLISH_ONLY_ASR:
        raise InputError(f"--asr-ja {options.asr_ja} decodes English only: use --asr-ja auto, whisper-base or vad, "
                         "or faster-whisper with a multilingual --asr-model")
    from .stages import asr_backend

    name, opts = asr_backend(options, JP)
    if name == "faster-whisper" and opts.get("model"):
        from pathlib import Path

        from ..asr.faster_whisper_backend import english_only_folder

        if english_only_folder(Path(str(opts["model"])).expanduser()):  # failed each episode after its EN ASR
            raise InputError("is an English-only Whisper model: it cannot transcribe the Japanese track (give a "
                             "multilingual --asr-model, or --asr-ja auto or vad)", str(opts["model"]))
    if options.separator_model and options.separator != "demucs":
        raise InputError(f"--separator-model applies to --separator demucs, not '{options.separator}'")
    if options.diarizer_model and options.diarizer not in ("anime", "pyannote"):
        raise InputError(f"--diarizer-model applies to --diarizer anime or pyannote, not '{options.diarizer}'")
    asr = {options.asr_en, options.asr_ja}
    if options.asr_model and not asr & {"auto", "faster-whisper"}:
        raise InputError(f"--asr-model applies to --asr-en/--asr-ja auto or faster-whisper, not "
                         f"'{options.asr_en}'/'{options.asr_ja}'")


def check_cuda(device: str) -> None:
    """Raise :class:`InputError` when ``--device cuda`` is asked for and this machine has no CUDA GPU: each
    episode ran probe, sync, ASR and separation first and then failed its diarize stage with an internal
    error (the ``anime`` diarizer blamed its checkpoint). A Ray build's GPUs are the cluster's: not checked."""
    try:
        import torch
    except ImportError:  # the torch backends are not installed: the ASR's own check (CTranslate2) says it
        return
    if not torch.cuda.is_available():
        raise InputError(f"--device {device}: this machine has no CUDA GPU (PyTorch sees none): use --device cpu "
                         "or auto")


#: The runners :func:`anim400k.dataset.runners.make_runner` makes.
RUNNERS = ("local", "ray")


def check_runner(options: BuildOptions) -> None:
    """Raise :class:`InputError` for a runner that is not one of :data:`RUNNERS` (``--runner slurm`` was a
    ``ValueError`` traceback after ``catalog.sqlite`` was made) and for a Ray address without the Ray runner
    (it was ignored); :class:`BackendUnavailable` when the Ray runner's package is missing."""
    if options.runner not in RUNNERS:
        raise InputError(f"--runner: unknown runner {options.runner!r} (use {' or '.join(map(repr, RUNNERS))})")
    if options.ray_address and options.runner != "ray":
        raise InputError(f"--address applies to --runner ray, not {options.runner!r}")
    if options.runner == "ray":
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise BackendUnavailable("ray", "ray", "missing Python module ray")
        address = ray_address(options.ray_address)
        if address:
            check_ray_address(address, "--address" if options.ray_address else "RAY_ADDRESS")


def ray_address(given: str | None) -> str | None:
    """The cluster a Ray build joins: ``--address``, else ``$RAY_ADDRESS`` as Ray itself reads it (a build run as a
    Ray job, or on a node whose environment names its cluster), else None (a private local cluster). ``ray.init``
    read ``RAY_ADDRESS`` anyway and, given the local cluster's CPU count too, stopped with a traceback."""
    return given or os.environ.get("RAY_ADDRESS") or None


#: seconds :func:`check_ray_address` waits for the cluster's port to answer
RAY_CONNECT_TIMEOUT_S = 5.0


def check_ray_address(address: str, flag: str = "--address") -> None:
    """Raise :class:`InputError` for a Ray address a build cannot join, in one line naming ``flag``.

    Taken: ``auto`` (the cluster of this node) and ``local`` (a new one), left to Ray, and ``HOST:PORT`` (the
    head's GCS address) where something answers. ``ray.init`` retries a cluster that is not there for many
    minutes with no word (measured: still waiting after 10 minutes for ``--address 127.0.0.1:6399`` with nothing
    listening), and the build holds SIGTERM while it runs
    (:func:`anim400k.dataset.runners._init_keeping_sigterm`), so ``timeout``/a scheduler could not stop it: a
    TCP connection is tried first. Refused: a Ray Client address (``ray://HOST:PORT``: the actor pool's
    callbacks run on Ray Client's receiving thread and wait there for a reply only that thread delivers; the
    build hung for good and ignored SIGTERM) and anything that is not ``HOST:PORT`` (``foo``, ``127.0.0.1``,
    ``http://...`` were tracebacks from ``ray.init``).
    """
    import socket

    if address in ("auto", "local"):
        return
    if address.startswith("ray://"):
        raise InputError(f"{flag} {address}: Ray Client addresses (ray://) are not supported (the build would hang "
                         "waiting on Ray Client's own thread): run the build on a node of the cluster, where the "
                         "shared output folder is mounted, with --address HOST:PORT of the head (its GCS port, "
                         "6379 by default)")
    host, sep, port = address.rpartition(":")
    if "://" in address or not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"{flag} {address!r}: give HOST:PORT of the cluster's head (its GCS port, 6379 by default, "
                         "as `ray start --head` prints it) or auto")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=RAY_CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        why = exc.strerror or str(exc) or type(exc).__name__  # a timeout has no strerror: 'timed out', its text
        raise InputError(f"{flag} {address}: no Ray cluster answers there ({why.lower()}): start one with "
                         f"`ray start --head --port PORT` on that machine, or leave {flag} out for a local "
                         "cluster") from None


#: The backend ``auto`` gives each language of a build (:class:`anim400k.asr.auto.AutoTranscriber`).
_AUTO_BACKENDS = {EN: "whisper-tiny-en", JP: "whisper-base"}


def _check_auto(lang: str) -> None:
    """Check the backend that ``auto`` runs for ``lang`` as if it were named (for JP ``whisper-base``: both
    wheels installed, halves of the right size): a missing wheel is one line naming the package, the
    backend and the flag that does without it."""
    name = _AUTO_BACKENDS[lang]
    flag = "--asr-ja" if lang == JP else "--asr-en"
    without = "; --asr-ja vad builds without JP text" if lang == JP else ""
    missing = ASR.missing(name)
    if missing:
        raise BackendUnavailable(name, None, f"missing Python module {missing[0]} (pip install "
                                 f"{missing[0].replace('_', '-')}), needed by the default {flag} auto{without}")
    if name == "whisper-base":
        from ..asr import get_transcriber

        get_transcriber(name).check()  # a half missing or of the wrong size: InputError naming the file
