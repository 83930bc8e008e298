"""Checks of a build's backends before it plans any stage (a bad model path is one line, not a failed episode).

Each backend is checked as it will be built by its stage, without loading a model: the registry knows
the name, its Python package is installed, its local model (``--asr-model``, ``--separator-model``,
``--diarizer-model`` or the backend's environment variable) is there and complete, and a CUDA device
asked for is visible. Loading the weights is left to the stages.
"""

from __future__ import annotations

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
        if options.ray_address:
            check_ray_address(options.ray_address)


#: seconds :func:`check_ray_address` waits for the cluster's port to answer
RAY_CONNECT_TIMEOUT_S = 5.0


def check_ray_address(address: str) -> None:
    """Raise :class:`InputError` when nothing answers at a ``HOST:PORT`` (or ``ray://HOST:PORT``) Ray address.

    ``ray.init`` retries a cluster that is not there for many minutes with no word (measured: still waiting
    after 10 minutes for ``--address 127.0.0.1:6399`` with nothing listening), and the build holds SIGTERM while
    it runs (:func:`anim400k.dataset.runners._init_keeping_sigterm`), so ``timeout``/a scheduler could not stop
    it. Only a TCP connection is tried: ``auto``, ``local`` and an address without a port are left to Ray.
    """
    import socket

    hostport = address.split("://", 1)[1] if address.startswith("ray://") else address
    host, sep, port = hostport.rpartition(":")
    if "://" in hostport or not sep or not host or not port.isdigit():
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=RAY_CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        why = exc.strerror or str(exc) or type(exc).__name__  # a timeout has no strerror: 'timed out', its text
        raise InputError(f"--address {address}: no Ray cluster answers there ({why.lower()}): start one with "
                         "`ray start --head --port PORT` on that machine, or leave --address out for a local "
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
