"""Shared fixtures: short synthetic episodes made once per test session."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def short_episodes(tmp_path_factory: pytest.TempPathFactory) -> list:
    """Two 12-second synthetic episodes (the second with a 1.25 s EN offset)."""
    from anim400k.synth import make_episode

    root = tmp_path_factory.mktemp("episodes")
    return [
        make_episode(root / "ep1", duration=12.0, seed=11),
        make_episode(root / "ep2", duration=12.0, seed=12, offset=1.25),
    ]


@pytest.fixture(scope="session")
def short_manifest(short_episodes: list, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A manifest over :func:`short_episodes` with their ground truth."""
    import yaml

    root = tmp_path_factory.mktemp("manifest")
    eps = [
        {"episode": str(i + 1), "media": str(e.media), "subtitles": str(e.subtitles), "truth": str(e.truth)}
        for i, e in enumerate(short_episodes)
    ]
    path = root / "manifest.yaml"
    path.write_text(yaml.safe_dump({"shows": [{"key": "test_show", "episodes": eps}]}))
    return path


@pytest.fixture(scope="module")
def no_network():
    """Fail any Internet connection attempt (a hub download, telemetry) while a module's tests run."""
    attempts: list = []
    real_connect = socket.socket.connect

    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise OSError(f"network access in a test: {address}")
        return real_connect(self, address)

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setattr(socket.socket, "connect", guarded)
        yield attempts
    assert attempts == [], f"a backend tried to reach {attempts}"


@pytest.fixture(scope="session")
def unprivileged() -> list[str]:
    """A command prefix that runs a subprocess without the power to ignore file modes: nothing for a normal
    user, ``setpriv`` dropping root's DAC override for root (a mode 000 file or a 555 folder is then refused
    to it as to anyone). Skips the test where neither works."""
    import os
    import shutil
    import subprocess

    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    drop = "-dac_override,-dac_read_search"
    prefix = [setpriv, "--bounding-set", drop, "--inh-caps", drop] if setpriv else []
    if not prefix or subprocess.run([*prefix, "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot run without root's file-mode override here")
    return prefix


@pytest.fixture(scope="module")
def torch_one_thread():
    """torch on one thread while a module's tests run (the diarizer tests: steady timings and results on a
    shared machine); the earlier thread count is restored afterwards."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
