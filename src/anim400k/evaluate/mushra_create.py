"""Create a MUSHRA listening test folder from a release and dub systems (or a webMUSHRA config).

A test folder holds ``test.json`` (:class:`MushraTest`), ``stimuli/<trial>/<file>.wav``
(padded to a common length, then loudness-matched; ``reference.wav`` and, for every other
condition, a random name, so no condition name shows in a URL), the JP video clip per trial where the
release has one, ``webmushra.yaml`` (the same test for webMUSHRA) and ``secret.key``
(signs invitations; never leaves the server).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..fsutil.locks import output_lock
from ..fsutil.paths import mkdtemp_like_mkdir
from ..fsutil.temp_files import fitted_name, temp_prefix
from ..fsutil.writable import check_writable
from . import stimuli as st
from .dataset import EvalClip, load_clips, system_audio
from .mushra_config import (
    SECRET_FILE,
    STIMULI_DIR,
    WEBMUSHRA_FILE,
    MushraTest,
    Trial,
    is_training_trial,
    save_test,
)
from .webmushra import WEBMUSHRA_STRICT_MAX_S, long_trials, read_webmushra, write_webmushra

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
RESERVED = (st.REFERENCE, *st.ANCHORS)
DEFAULT_INSTRUCTIONS = (
    "You will hear several versions of the same English line. For each trial, first listen to "
    "the Reference, then rate every condition on a scale from 0 to 100 for its overall quality "
    "as an English dub of the Japanese scene: how natural it sounds, how well it is timed to "
    "the video, and how close it is to the Reference. One of the conditions is the Reference "
    "itself, hidden: rate it 100 when you find it. Use headphones in a quiet room."
)


def _check_names(names: list[str], where: str | Path) -> None:
    for n in names:
        if not _NAME_RE.match(n):
            raise InputError(f"system name {n!r} must be letters, digits, '_', '.', '-' (at most 64)", where)
        if n in RESERVED:
            raise InputError(
                f"system name {n!r} is reserved (reference and anchors are added for you)", where
            )
    if len(set(names)) != len(names):
        raise InputError("system names must be distinct", where)


def parse_systems(specs: list[str]) -> dict[str, Path]:
    """Parse ``NAME=DIR`` options into a mapping; :class:`InputError` for malformed ones."""
    out: dict[str, Path] = {}
    for spec in specs:
        name, sep, folder = spec.partition("=")
        if not sep or not name or not folder:
            raise InputError(f"--systems expects NAME=DIR, got {spec!r}")
        if name in out:
            raise InputError(f"system {name!r} given twice")
        p = Path(folder)
        if not p.is_dir():
            raise InputError("system folder does not exist", p)
        out[name] = p
    _check_names(list(out), "--systems")
    return out


@dataclass
class _Pending:
    """A trial rendered in memory (padded, not yet loudness matched), waiting to be written."""

    trial_id: str
    stimuli: dict[str, np.ndarray]
    clip: str | None = None
    text: str = ""
    video: Path | None = None


def _opaque_names(conditions: list[str]) -> dict[str, str]:
    """File stems per condition: ``reference`` for the reference, random hex for the others.

    Condition names never appear in a stimulus URL (webMUSHRA fetches files by name).
    """
    names = {st.REFERENCE: st.REFERENCE}
    for cond in conditions:
        if cond == st.REFERENCE:
            continue
        stem = secrets.token_hex(6)
        while stem in names.values():  # pragma: no cover - 48 random bits
            stem = secrets.token_hex(6)
        names[cond] = stem
    return {c: names[c] for c in conditions}


def _stage_name(name: str) -> str:
    """``name`` as the test's staging folder beside it holds it (``.NAME.anim400k-XXXXXXXX.part`` fits in a name)."""
    return fitted_name(name, len(temp_prefix("")) + 8 + len(".part"))


def checked_video(path: Path) -> Path:
    """``path``, a release's video clip about to be copied into a test that listeners download, once it is one: a
    link that leads out of the release's video folder, or a file that is no MP4 (``media_file_problem``), is an
    :class:`InputError` naming it. A clip linked to ``/etc/passwd`` was copied in and served to every listener."""
    from ..release.validate import media_file_problem

    folder = path.parent.parent  # anim400k_video_clips (the clip is F/UUID.mp4 in it)
    real = path.resolve()
    if path.is_symlink() and not real.is_relative_to(folder.resolve()):
        raise InputError(f"is a link to {real}, outside the release's video folder: not copied into a test", path)
    problem = media_file_problem(real)
    if problem is not None:
        raise InputError(f"video clip {problem}", path)
    return real


def remove_stale_stages(out: Path) -> int:
    """Delete the temporary test folders (``.NAME.anim400k-XXXXXXXX.part`` beside ``out``) that a killed
    ``mushra create`` of ``out`` left; returns how many. Call it holding ``out``'s lock. Unmarked names
    (``.NAME.XXXXXXXX.part``, as versions before :data:`~anim400k.fsutil.temp_files.TEMP_MARK` wrote) are left alone."""
    pattern = re.compile(re.escape(temp_prefix(_stage_name(out.name))) + r"[a-z0-9_]{8}\.part")
    removed = 0
    try:
        entries = list(os.scandir(out.parent))
    except OSError:
        return 0
    for entry in entries:
        if pattern.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
    return removed


class _TestWriter:
    """Writes trials into a temporary folder that becomes the test folder on :meth:`commit`.

    It holds ``out``'s lock (:func:`~anim400k.fsutil.locks.output_lock`) until :meth:`commit` or
    :meth:`abort`, so a second ``mushra create`` of the same folder is refused in one line, and
    first deletes the temporary folders a killed run left beside ``out`` (:func:`remove_stale_stages`).
    """

    def __init__(self, out: Path, sr: int, lufs: float | None) -> None:
        from ..exports.common import check_replaceable

        # an empty mount point failed with 'Device or resource busy' after every trial was rendered, and
        # an empty working folder ('--out .') was 'exists and is not empty' (the lock file beside '.' is in it)
        check_replaceable(out)
        check_writable({}, {"--out": out})  # a file (or a path through one) was 'Not a directory'
        out.parent.mkdir(parents=True, exist_ok=True)
        self._lock = contextlib.ExitStack()
        self._lock.enter_context(output_lock(out, "mushra create", noun="folder"))
        try:
            if out.exists() and any(out.iterdir()):
                raise InputError("output folder exists and is not empty", out)
            remove_stale_stages(out)
            self.tmp = mkdtemp_like_mkdir(prefix=temp_prefix(_stage_name(out.name)), suffix=".part", dir=out.parent)
        except BaseException:
            self._lock.close()
            raise
        self.out = out
        self.sr = sr
        self.lufs = lufs

    @property
    def target(self) -> float:
        """The loudness every stimulus is matched to (LUFS)."""
        return st.DEFAULT_LUFS if self.lufs is None else self.lufs

    def check_reachable(self, pending: list[_Pending], warn: Callable[[str], None] | None = None) -> None:
        """Make sure no stimulus needs limiting at the target (limiting one would unmatch it).

        With the target asked for (``lufs`` given), an unreachable one is refused; with the default
        (``lufs`` None: :data:`anim400k.evaluate.stimuli.DEFAULT_LUFS`), the whole test is matched
        at the loudest target every trial reaches instead, and ``warn`` is told.
        """
        worst: tuple[float, str, str] | None = None
        for p in pending:
            loudest, which = st.loudest_reachable(p.stimuli, self.sr)
            if worst is None or loudest < worst[0]:
                worst = (loudest, which, p.trial_id)
        if worst is not None and self.target > worst[0]:
            loudest, which, tid = worst
            if self.lufs is None:
                self.lufs = math.floor(loudest * 10) / 10
                if warn:
                    warn(f"stimulus '{which}' of {tid} would clip at {st.DEFAULT_LUFS:g} LUFS: every stimulus "
                         f"is matched at {self.lufs:.1f} LUFS instead (--lufs sets the target)")
                return
            raise InputError(
                f"--lufs {self.target:g} cannot be reached without clipping (stimulus '{which}' of {tid} "
                f"would peak above {st.PEAK_CEILING:g}); the loudest target every trial reaches is "
                f"{math.floor(loudest * 10) / 10:.1f} LUFS"
            )

    def trial(self, pending: _Pending) -> Trial:
        """Loudness-match ``pending`` (:func:`anim400k.evaluate.stimuli.match_trial`) and write its files."""
        rendered = st.match_trial(pending.stimuli, self.sr, self.target)
        rel = f"{STIMULI_DIR}/{pending.trial_id}"
        names = _opaque_names(list(rendered))
        stimuli = {}
        for name, audio in rendered.items():
            st.save_wav(self.tmp / rel / f"{names[name]}.wav", audio, self.sr)
            stimuli[name] = f"{rel}/{names[name]}.wav"
        vid = None
        if pending.video is not None:
            vid = f"{rel}/video{pending.video.suffix.lower()}"
            shutil.copyfile(checked_video(pending.video), self.tmp / vid)
        return Trial(
            id=pending.trial_id,
            reference=stimuli[st.REFERENCE],
            stimuli=stimuli,
            clip=pending.clip,
            text=pending.text,
            video=vid,
        )

    def commit(self, test: MushraTest, webmushra_prefix: str = "", warn: Callable[[str], None] | None = None) -> None:
        save_test(self.tmp, test)
        write_webmushra(self.tmp / WEBMUSHRA_FILE, test, webmushra_prefix)
        long = long_trials(self.tmp, test)
        if long and warn:
            warn(f"{len(long)} trial(s) last longer than {WEBMUSHRA_STRICT_MAX_S:g} s ({', '.join(long[:3])}"
                 f"{', ...' if len(long) > 3 else ''}): BS.1534-3 advises stimuli of at most about 10-12 s; "
                 f"{WEBMUSHRA_FILE} marks their pages 'strict: false', which webMUSHRA needs to play them")
        key = self.tmp / SECRET_FILE
        key.write_text(secrets.token_hex(32) + "\n", "utf-8")
        os.chmod(key, 0o600)
        if self.out.exists():
            self.out.rmdir()
        os.replace(self.tmp, self.out)
        self._lock.close()

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._lock.close()


def _test_id(name: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "_", name.lower()).strip("_") or "mushra"


def create_test(
    dataset: str | Path,
    systems: dict[str, Path],
    out: str | Path,
    trials: int = 10,
    seed: int = 0,
    training_trials: int = 1,
    sample_rate: int = 48000,
    loudness_lufs: float | None = None,
    split: str = "test",
    name: str | None = None,
    webmushra_prefix: str = "",
    progress: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> MushraTest:
    """Pick ``trials`` (+ ``training_trials``) clips of ``split`` at random (``seed``) and render a test.

    Each trial rates the hidden reference (the gold EN clip), the 3.5 kHz and 7 kHz anchors and
    every system's dub of the clip (``DIR/F/UUID.mp3`` keyed by the EN clip ID). Only clips that
    every system dubbed are eligible; ``warn`` is told (one line) when fewer trials than asked can be made.
    :class:`InputError` when ``loudness_lufs`` cannot be reached without clipping a stimulus (naming the
    loudest target every trial reaches); nothing is written then. ``loudness_lufs`` None (the default)
    is -23 LUFS, lowered for the whole test (``warn`` is told) where a stimulus would clip there.
    """
    if not systems:
        raise InputError("give at least one system with --systems NAME=DIR")
    _check_names(list(systems), "--systems")
    if sample_rate < 16000:
        raise InputError(f"sample rate {sample_rate} Hz is too low for the 7 kHz anchor (use >= 16000)")
    if trials < 1 or training_trials < 0:
        raise InputError("--trials must be >= 1 and --training-trials >= 0")
    clips = load_clips(dataset, split)
    eligible: list[tuple[EvalClip, dict[str, Path]]] = []
    dubbed = dict.fromkeys(systems, 0)  # clips of the split each system has a dub of
    for clip in clips:
        dubs = {n: system_audio(d, clip.en_clip) for n, d in systems.items()}
        for n, p in dubs.items():
            dubbed[n] += p is not None
        if clip.en_audio.is_file() and all(p is not None for p in dubs.values()):
            eligible.append((clip, {n: p for n, p in dubs.items() if p is not None}))
    if not eligible:
        for n, count in dubbed.items():  # the folder to look at, not the release (an empty or wrong folder)
            if not count:
                raise InputError(f"system '{n}' has no dub of a clip of split '{split}' (DIR/F/UUID.mp3 keyed by "
                                 "the EN clip ID, as `anim400k dub --dataset` writes)", systems[n])
        raise InputError(f"no clip of split '{split}' has gold EN audio and a dub from every system", dataset)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(eligible))
    n_train = min(training_trials, max(0, len(eligible) - 1))
    chosen_train = [eligible[i] for i in order[:n_train]]
    chosen = [eligible[i] for i in order[n_train : n_train + trials]]
    if warn and (len(chosen) < trials or n_train < training_trials):
        warn(
            f"only {len(eligible)} clips of split '{split}' have gold EN audio and a dub from every system: "
            f"making {len(chosen)} rated trials (asked {trials}) and {n_train} training (asked {training_trials})"
        )
    out = Path(out)
    writer = _TestWriter(out, sample_rate, loudness_lufs)
    try:
        pending: dict[str, list[_Pending]] = {"training": [], "trials": []}
        for kind, group, prefix in (("training", chosen_train, "training"), ("trials", chosen, "trial")):
            for k, (clip, dubs) in enumerate(group, start=1):
                tid = f"{prefix}{k:02d}"
                if progress:
                    progress(f"{tid}: {clip.en_clip}")
                ref = st.load_mono(clip.en_audio, sample_rate)
                audio = {n: st.load_mono(p, sample_rate) for n, p in dubs.items()}
                rendered = st.render_trial(ref, audio, sample_rate, tuple(st.ANCHORS))
                pending[kind].append(_Pending(tid, rendered, clip.en_clip, clip.en_text, clip.video))
        writer.check_reachable([*pending["training"], *pending["trials"]], warn)
        done = {kind: [writer.trial(p) for p in group] for kind, group in pending.items()}
        test_name = name or f"Anim-400K dubbing MUSHRA ({', '.join(systems)})"
        test = MushraTest(
            name=test_name,
            test_id=_test_id(name or out.name),
            sample_rate=sample_rate,
            loudness_lufs=writer.target,
            seed=seed,
            systems=list(systems),
            conditions=[*RESERVED, *systems],
            instructions=DEFAULT_INSTRUCTIONS,
            training=done["training"],
            trials=done["trials"],
        )
        writer.commit(test, webmushra_prefix, warn)
    except BaseException:
        writer.abort()
        raise
    return test


#: a stimulus named like an anchor must correlate this well with the anchor rendered from the page's reference
#: (this tool's own webmushra.yaml names its rendered anchors so; a user's file of that name would be replaced)
ANCHOR_MATCH = 0.9


def _check_reserved(
    page: Any, reference: np.ndarray, as_reference: np.ndarray | None, sr: int, config: str | Path
) -> None:
    """Refuse a page's stimulus named ``reference`` that is not its reference, and one named ``anchor35``/``anchor70``
    that is not that anchor of it: the hidden reference and the anchors are made from the reference, so the file
    was dropped or replaced without a word."""
    def similar(x: np.ndarray, y: np.ndarray) -> bool:
        n = min(x.size, y.size)
        x, y = x[:n].astype(np.float64), y[:n].astype(np.float64)
        norm = float(np.linalg.norm(x) * np.linalg.norm(y))
        return norm > 0 and float(np.dot(x, y)) / norm >= ANCHOR_MATCH

    if as_reference is not None and page.stimuli[st.REFERENCE] != page.reference and not similar(as_reference,
                                                                                                 reference):
        raise InputError(f"page {page.id!r}: a stimulus named 'reference' that is not the page's reference: the name "
                         "is reserved for the hidden reference (made from 'reference'); give the file another name",
                         config)
    for name in st.ANCHORS:
        if name in page.stimuli and not similar(st.load_mono(page.stimuli[name], sr), st.make_anchor(reference, sr,
                                                                                                     name)):
            raise InputError(f"page {page.id!r}: stimulus {name!r} is not the reference low-passed at "
                             f"{st.ANCHORS[name] / 1000:g} kHz: the name is reserved for the anchor rendered from "
                             "the reference; give the file another name", config)


def create_from_webmushra(
    config: str | Path,
    out: str | Path,
    sample_rate: int = 48000,
    loudness_lufs: float | None = None,
    training_trials: int = 0,
    webmushra_prefix: str = "",
    warn: Callable[[str], None] | None = None,
) -> MushraTest:
    """Import a webMUSHRA config: each ``mushra`` page becomes a trial (the first ``training_trials``
    pages, or pages whose id contains ``train``, become training trials).

    Anchors are rendered where a page asks for them (``createAnchor35``/``createAnchor70``).
    """
    cfg = read_webmushra(config)
    names = sorted({k for p in cfg.pages for k in p.stimuli if k not in RESERVED})
    _check_names(names, config)
    writer = _TestWriter(Path(out), sample_rate, loudness_lufs)
    try:
        training: list[_Pending] = []
        rated: list[_Pending] = []
        ids: dict[str, str] = {}
        for i, page in enumerate(cfg.pages):
            tid = re.sub(r"[^A-Za-z0-9_.-]+", "_", page.id)
            if tid in ids:
                both = repr(page.id) if ids[tid] == page.id else f"{ids[tid]!r} and {page.id!r} (both {tid!r} as names)"
                raise InputError(f"two mushra pages have the id {both}: each page needs an id of its own", config)
            ids[tid] = page.id
            ref = st.load_mono(page.reference, sample_rate)
            audio = {k: st.load_mono(p, sample_rate) for k, p in page.stimuli.items() if k not in st.ANCHORS}
            _check_reserved(page, ref, audio.pop(st.REFERENCE, None), sample_rate, config)
            anchors = tuple(
                a
                for a, flag in (("anchor35", page.create_anchor35), ("anchor70", page.create_anchor70))
                if flag or a in page.stimuli
            )
            pending = _Pending(tid, st.render_trial(ref, audio, sample_rate, anchors), None, page.content)
            is_train = i < training_trials or is_training_trial(page.id)
            (training if is_train else rated).append(pending)
        if not rated:
            raise InputError("every mushra page would be a training trial; nothing left to rate", config)
        conds = [c for c in RESERVED if any(c in t.stimuli for t in rated)] + names
        writer.check_reachable([*training, *rated], warn)
        test = MushraTest(
            name=cfg.testname,
            test_id=_test_id(cfg.test_id),
            sample_rate=sample_rate,
            loudness_lufs=writer.target,
            systems=names,
            conditions=conds,
            instructions=DEFAULT_INSTRUCTIONS,
            training=[writer.trial(p) for p in training],
            trials=[writer.trial(p) for p in rated],
        )
        writer.commit(test, webmushra_prefix, warn)
    except BaseException:
        writer.abort()
        raise
    return test
