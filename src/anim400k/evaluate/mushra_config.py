"""The listening-test configuration ``TEST/test.json`` (pydantic models, read/write)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from ..errors import InputError
from ..fsutil.atomic import write_text_atomic

CONFIG_FILE = "test.json"
STORE_FILE = "ratings.sqlite"
SECRET_FILE = "secret.key"
STIMULI_DIR = "stimuli"
WEBMUSHRA_FILE = "webmushra.yaml"


class Trial(BaseModel):
    """One MUSHRA page: an open reference and the stimuli to rate (paths relative to TEST)."""

    id: str
    reference: str
    stimuli: dict[str, str]
    clip: str | None = None
    text: str = ""
    video: str | None = None


class MushraTest(BaseModel):
    """A listening test: training and rated trials, and how the stimuli were prepared."""

    format: str = "anim400k-mushra"
    version: int = 1
    name: str
    test_id: str
    sample_rate: int
    loudness_lufs: float | None = None
    seed: int = 0
    systems: list[str]
    conditions: list[str]
    instructions: str = ""
    training: list[Trial] = Field(default_factory=list)
    trials: list[Trial]

    def all_trials(self) -> list[Trial]:
        """Training trials first, then rated trials."""
        return [*self.training, *self.trials]

    def trial(self, trial_id: str) -> Trial:
        """A trial by ID (KeyError if absent)."""
        for t in self.all_trials():
            if t.id == trial_id:
                return t
        raise KeyError(trial_id)

    def is_training(self, trial_id: str) -> bool:
        """Whether ``trial_id`` is a training trial."""
        return any(t.id == trial_id for t in self.training)


def load_test(test_dir: str | Path) -> MushraTest:
    """Read ``TEST/test.json``; :class:`InputError` if missing or invalid."""
    path = Path(test_dir) / CONFIG_FILE
    if not path.is_file():
        raise InputError(f"not a listening test folder (no {CONFIG_FILE})", test_dir)
    try:
        return MushraTest.model_validate(json.loads(path.read_text("utf-8")))
    except (json.JSONDecodeError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise InputError(f"invalid test config: {first}", path) from exc


def save_test(test_dir: str | Path, test: MushraTest) -> Path:
    """Write ``TEST/test.json`` atomically."""
    path = Path(test_dir) / CONFIG_FILE
    write_text_atomic(path, test.model_dump_json(indent=2) + "\n")
    return path


def is_training_trial(trial_id: str) -> bool:
    """Whether a webMUSHRA trial (page) id names a training page: it contains ``train`` (any case).

    ``mushra create --from-webmushra`` and ``analyze`` of a CSV use it; our own store marks training trials itself.
    """
    return "train" in trial_id.lower()
