"""Interrupted pool builds against an independent reference: kill, resume, compare (docs/scaling.md,
"Interrupted builds, checked").

    python benchmarks/check_kill_resume.py MANIFEST WORK [--jobs 2] [--runner local|ray] [--checks ...]

Drives ``anim400k build`` with :mod:`subprocess` only (it does not import anim400k) and compares what it
writes itself:

1. ``reference``: an uninterrupted ``--jobs 1`` build -> release R1; the SHA-256 of every release file
   (annotations, MP3s, MP4s, build_report.json without its timing fields) and ``anim400k validate``.
2. ``kill-*``: the pool build's *driver* killed (SIGKILL, SIGTERM, SIGINT) after 2, 5, 10 s, once 4
   stages are done (analysis stages in flight), in the middle of the cut (clip files appearing) and
   while the release is written (its temporary names in ``--out``); then the same command again.
   Checked after the kill: no process of the build left (its process group, and every process it was
   seen to start; 60 s allowed), nothing in ``--out`` changed in the 3 s after the driver's death,
   ``catalog.sqlite`` readable (integrity_check ok, every done stage's dependencies done). After the
   re-run: exit 0, release == R1 file for file, ``validate`` valid, no temporary file in ``--out``.
3. ``worker-kill``: one pool worker killed with SIGKILL in the middle of a stage: the build retries it
   (exit 0, release == R1) or fails with one line naming episode and stage, never hangs; a re-run
   gives R1. ``worker-kill-all``: every worker killed, in three rounds (more than ``--retries 2``): the build
   must end (no hang) and never report success with clips missing; a re-run gives R1.
4. ``concurrent``: a second build into the same ``--out`` while the first runs: refused in one line
   (or waits); the first's release == R1.
5. ``rerun``: a re-run after success skips every stage and changes no byte of ``--out``.

Every build gets ``--asr-en vad --asr-ja vad --no-progress`` (short runs); ``--runner ray`` runs the same
checks on a local Ray cluster. Prints one ``PASS``/``FAIL`` line per check and exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

PY = sys.executable
BASE_ARGS = ["--asr-en", "vad", "--asr-ja", "vad", "--no-progress"]
#: stage -> the stages it reads (anim400k.dataset.stages.STAGES; frames/score are off in these builds)
DEPS = {"probe": (), "subtitles": ("probe",), "audio": ("probe",), "sync": ("audio",), "asr_en": ("audio",),
        "asr_ja": ("audio",), "separate": ("sync",), "diarize": ("audio", "separate", "subtitles"),
        "align": ("sync", "asr_en", "asr_ja", "subtitles", "diarize", "separate"), "cut": ("align",)}
#: build_report.json fields that measure time or the machine, not the release
TIMING_KEYS = {"seconds", "stage_seconds", "stage_cpu_seconds", "wall_seconds", "cpu_seconds", "started",
               "finished", "elapsed", "jobs", "workers", "skipped_stages", "peak_rss", "peak_rss_mb",
               "created", "runner", "timing", "duration_s", "throughput", "out_dir", "resumed_stages"}
#: a build's own files in --out that are not the release (compared separately)
NOT_RELEASE = {"catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm", ".anim400k.lock"}
TIMEOUT = 900.0
#: seconds a killed build's processes get to end by themselves (Ray's agents poll for their raylet)
LINGER = 60.0
#: Ray's per-node agents (dashboard, runtime env): started by the raylet, they write nothing into --out
RAY_AGENT = "Agent"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes


def build_cmd(manifest: Path, out: Path, jobs: int, runner: str) -> list[str]:
    return [PY, "-m", "anim400k", "build", str(manifest), "--out", str(out), "--jobs", str(jobs),
            "--runner", runner, *BASE_ARGS]


def start(cmd: list[str]) -> subprocess.Popen[str]:
    """A build in a process group of its own, SIGINT at its default action (as a shell's foreground job)."""
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def finish(proc: subprocess.Popen[str], timeout: float = TIMEOUT) -> tuple[int | None, str, str]:
    """Exit status (None: hung, killed after ``timeout``), stdout, stderr."""
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return None, out, err


def proc_table() -> dict[int, tuple[int, int, str, str]]:
    """pid -> (ppid, pgid, state, cmdline) of every process (from /proc)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state, ppid, pgid = stat[stat.rindex(")") + 2:].split()[:3]
        table[int(entry)] = (int(ppid), int(pgid), state, cmd)
    return table


def descendants(root: int, table: dict[int, tuple[int, int, str, str]] | None = None) -> set[int]:
    table = table if table is not None else proc_table()
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, (ppid, *_rest) in table.items() if ppid in frontier and pid not in found}
        found |= frontier
    return found


def workers(root: int, target: str = "worker") -> list[int]:
    """The build's pool workers (multiprocessing spawn children, not the resource tracker) or Ray actors
    (``ray::StageWorker``, ``ray::STAGE:EPISODE`` while busy; not Ray's agents, whose death takes the raylet
    along); ``target="raylet"``: its local cluster's raylet."""
    table = proc_table()
    out = []
    for pid in descendants(root, table):
        cmd = table[pid][3]
        if table[pid][2] in "ZX":
            continue
        if target == "raylet":
            if "/raylet/raylet " in cmd:
                out.append(pid)
        elif ("spawn_main" in cmd and "resource_tracker" not in cmd) or (
                cmd.startswith("ray::") and "Agent" not in cmd and "IDLE" not in cmd):
            out.append(pid)
    return sorted(out)


def alive(pids: set[int], pgid: int) -> list[str]:
    """Live (not zombie) processes among ``pids`` or in process group ``pgid``."""
    table = proc_table()
    return [f"{pid} {table[pid][3][:100]}" for pid in sorted(table)
            if (pid in pids or table[pid][1] == pgid) and table[pid][2] not in "ZX"]


class Watched:
    """A running build whose descendants are noted every poll (to find orphans after its driver dies)."""

    def __init__(self, cmd: list[str]) -> None:
        self.proc = start(cmd)
        self.seen: set[int] = set()
        self.t0 = time.monotonic()

    def poll(self) -> bool:
        """Note its descendants; True while the driver runs."""
        if self.proc.poll() is None:
            self.seen |= descendants(self.proc.pid)
        return self.proc.poll() is None

    def wait_for(self, cond: Callable[[], bool], limit: float, step: float = 0.05) -> bool:
        """Poll until ``cond()`` (True) or the driver ended / ``limit`` s passed (False)."""
        while self.poll() and time.monotonic() - self.t0 < limit:
            if cond():
                return True
            time.sleep(step)
        return False


# ---------------------------------------------------------------- outputs


def sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def strip_timing(obj: object) -> object:
    if isinstance(obj, dict):
        return {k: strip_timing(v) for k, v in obj.items() if k not in TIMING_KEYS and "second" not in k
                and "time" not in k and not k.endswith("_s")}
    if isinstance(obj, list):
        return [strip_timing(v) for v in obj]
    return obj


def release(out: Path) -> dict[str, str]:
    """relative path -> SHA-256 of every release file in ``out`` (not work/, not the catalog; the report
    without its timing fields)."""
    found = {}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out)
        if not path.is_file() or rel.parts[0] == "work" or rel.name in NOT_RELEASE:
            continue
        if rel.name == "build_report.json":
            text = json.dumps(strip_timing(json.loads(path.read_text())), sort_keys=True)
            found[str(rel)] = hashlib.sha256(text.encode()).hexdigest()
        else:
            found[str(rel)] = sha(path)
    return found


def everything(out: Path) -> dict[str, tuple[str, int]]:
    """relative path -> (SHA-256, mtime_ns) of every file in ``out`` (the catalog's WAL side files excluded)."""
    return {str(p.relative_to(out)): (sha(p), p.stat().st_mtime_ns) for p in sorted(out.rglob("*"))
            if p.is_file() and p.name not in {"catalog.sqlite-wal", "catalog.sqlite-shm"}}


def sizes(out: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for p in out.rglob("*"):
        try:
            if p.is_file():
                st = p.stat()
                found[str(p.relative_to(out))] = (st.st_size, st.st_mtime_ns)
        except OSError:
            continue
    return found


def temps(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if ".part" in p.name or p.name.endswith(".tmp"))


def validate(out: Path) -> tuple[bool, str]:
    r = subprocess.run([PY, "-m", "anim400k", "validate", str(out)], capture_output=True, text=True, timeout=600)
    text = (r.stdout + r.stderr).strip()
    return r.returncode == 0, text.splitlines()[-1] if text else ""


def catalog_problem(out: Path) -> str | None:
    """Why ``out``'s catalog is unreadable or inconsistent (a done stage whose dependency is not done), or None."""
    path = out / "catalog.sqlite"
    if not path.exists():
        return None  # killed before the catalog was made: nothing to be inconsistent
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            check = db.execute("PRAGMA integrity_check").fetchone()[0]
            rows = db.execute("SELECT episode, stage, status FROM stages").fetchall()
    except sqlite3.Error as exc:
        return f"unreadable: {exc}"
    if check != "ok":
        return f"integrity_check: {check}"
    state = {(e, s): st for e, s, st in rows}
    for (ep, stage), st in state.items():
        if st not in ("done", "failed"):
            return f"{ep}/{stage}: status {st!r}"
        if st == "done":
            missing = [d for d in DEPS.get(stage, ()) if state.get((ep, d)) != "done"]
            if missing:
                return f"{ep}/{stage} done but {missing} not"
    return None


def done_stages(out: Path) -> int:
    try:
        with sqlite3.connect(f"file:{out / 'catalog.sqlite'}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT COUNT(*) FROM stages WHERE status='done'").fetchone()[0])
    except sqlite3.Error:
        return 0


def stage_done(out: Path, stage: str) -> bool:
    try:
        with sqlite3.connect(f"file:{out / 'catalog.sqlite'}?mode=ro", uri=True) as db:
            return db.execute("SELECT COUNT(*) FROM stages WHERE status='done' AND stage=?",
                              (stage,)).fetchone()[0] > 0
    except sqlite3.Error:
        return False


def compare(ref: dict[str, str], got: dict[str, str]) -> list[str]:
    diffs = [f"missing {n}" for n in sorted(set(ref) - set(got))]
    diffs += [f"extra {n}" for n in sorted(set(got) - set(ref))]
    diffs += [f"differs {n}" for n in sorted(set(ref) & set(got)) if ref[n] != got[n]]
    return diffs


# ---------------------------------------------------------------- checks


class Checks:
    def __init__(self, manifest: Path, work: Path, jobs: int, runner: str) -> None:
        self.manifest, self.work, self.jobs, self.runner = manifest, work, jobs, runner
        self.ref: dict[str, str] = {}
        self.results: list[tuple[str, bool, str]] = []

    def record(self, name: str, problems: list[str], note: str = "") -> None:
        ok = not problems
        detail = ("; ".join(problems[:6]) + " | " + note) if problems else note
        self.results.append((name, ok, detail))
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)

    def fresh(self, name: str) -> Path:
        out = self.work / name
        shutil.rmtree(out, ignore_errors=True)
        return out

    def cmd(self, out: Path, jobs: int | None = None, runner: str | None = None) -> list[str]:
        return build_cmd(self.manifest, out, self.jobs if jobs is None else jobs, runner or self.runner)

    def final_problems(self, out: Path, rc: int | None, err: str) -> list[str]:
        """What is wrong with a finished build's ``out`` against R1."""
        problems = []
        if rc != 0:
            problems.append(f"re-run exit {rc}: {err.strip().splitlines()[-1:] if err.strip() else ''}")
        problems += compare(self.ref, release(out))
        ok, line = validate(out)
        if not ok:
            problems.append(f"validate: {line}")
        left = temps(out)
        if left:
            problems.append(f"temporary files: {left[:3]}")
        cat = catalog_problem(out)
        if cat:
            problems.append(f"catalog: {cat}")
        return problems

    def reference(self) -> None:
        out = self.work / "R1"
        if not (out / "build_report.json").exists():
            shutil.rmtree(out, ignore_errors=True)
            t0 = time.monotonic()
            rc, _o, err = finish(start(self.cmd(out, jobs=1, runner="local")))
            log(f"reference --jobs 1: exit {rc} in {time.monotonic() - t0:.1f} s")
            if rc != 0:
                self.record("reference", [f"exit {rc}: {err.strip()[-300:]}"])
                raise SystemExit(1)
        self.ref = release(out)
        ok, line = validate(out)
        n_mp3 = sum(1 for n in self.ref if n.endswith(".mp3"))
        n_mp4 = sum(1 for n in self.ref if n.endswith(".mp4"))
        self.record("reference", [] if ok and n_mp3 else [f"validate: {line}", f"{n_mp3} mp3"],
                    f"{len(self.ref)} files ({n_mp3} mp3, {n_mp4} mp4), validate: {line}")

    def kill_driver(self, name: str, sig: signal.Signals, when: Callable[[Path, Watched], bool],
                    limit: float) -> None:
        """Kill the driver with ``sig`` once ``when(out, build)``; check what is left, re-run, compare with R1."""
        out = self.fresh(name)
        build = Watched(self.cmd(out))
        hit = build.wait_for(lambda: when(out, build), limit, step=0.005)
        if not hit:
            rc, _o, err = finish(build.proc)
            self.record(name, [] if rc == 0 else [f"exit {rc}"], f"moment not hit (build ended, exit {rc}): not tested")
            return
        at = time.monotonic() - build.t0
        build.seen |= descendants(build.proc.pid)
        os.kill(build.proc.pid, sig)
        rc, _o, err = finish(build.proc, timeout=120)
        problems = []
        if rc is None:
            problems.append(f"driver did not exit within 120 s of {sig.name}")
        before = sizes(out)
        t_dead = time.monotonic()
        left, lingered = self.leftovers(build)
        agents = [p for p in left if RAY_AGENT in p or "dashboard/agent.py" in p or "_private/runtime_en" in p]
        if len(agents) < len(left):
            problems.append(f"processes left {LINGER:.0f} s after the driver's end: {left[:3]}")
        elif agents:  # Ray's own per-node agents: they write nothing into --out (said, not failed)
            lingered += f"; Ray's agents still up after {LINGER:.0f} s: {len(agents)}"
        time.sleep(max(0.0, 3.0 - (time.monotonic() - t_dead)))
        changed = [k for k, v in sizes(out).items() if before.get(k) != v]
        changed += [k for k in before if not (out / k).exists()]
        if changed:
            problems.append(f"--out changed after the driver's death: {changed[:3]}")
        cat = catalog_problem(out)
        if cat:
            problems.append(f"catalog after kill: {cat}")
        stages_then = done_stages(out)
        lines = [ln for ln in err.strip().splitlines() if ln.startswith("anim400k:")]
        rc2, _o, err2 = finish(start(self.cmd(out)))
        problems += self.final_problems(out, rc2, err2)
        self.record(name, problems, f"{sig.name} at {at:.1f} s (exit {rc}, {stages_then} stages done"
                                    f"{', ' + lines[-1][:90] if lines else ''}); re-run == R1, validate ok, no temps, "
                                    f"no process left{lingered}")

    def leftovers(self, build: Watched) -> tuple[list[str], str]:
        """Processes of ``build`` still alive :data:`LINGER` s after its driver ended (then killed), and a note
        on those that took longer than 1.5 s to go."""
        t0 = time.monotonic()
        time.sleep(1.5)
        left = alive(build.seen, build.proc.pid)
        while left and time.monotonic() - t0 < LINGER:
            time.sleep(0.5)
            left = alive(build.seen, build.proc.pid)
        waited = time.monotonic() - t0
        for entry in left:  # never leave them running into the next check
            try:
                os.kill(int(entry.split()[0]), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        return left, (f" (some lingered {waited:.1f} s)" if waited > 2.0 else "")

    def worker_kill(self, name: str, times: int, target: str = "worker") -> None:
        """SIGKILL pool workers mid-stage ``times`` times; the build must retry or fail in one line, never hang.
        ``target="raylet"``: SIGKILL the local Ray cluster's raylet instead (once)."""
        out = self.fresh(name)
        build = Watched(self.cmd(out))
        killed: list[str] = []
        rounds = 0
        seen_workers: set[int] = set()
        while rounds < times and build.poll() and time.monotonic() - build.t0 < TIMEOUT:
            ws = [w for w in workers(build.proc.pid, target) if w not in seen_workers]
            if ws and done_stages(out) >= 2 and not stage_done(out, "cut"):
                time.sleep(1.0)  # let it be in the middle of its stage (a replacement pool: started its task)
                rounds += 1
                victims = ws if times > 1 else ws[:1]
                for w in victims:
                    seen_workers.add(w)
                    try:
                        os.kill(w, signal.SIGKILL)
                        killed.append(f"{w}@{time.monotonic() - build.t0:.1f}s/{done_stages(out)}done")
                    except OSError:
                        pass
            time.sleep(0.1)
        rc, _o, err = finish(build.proc, timeout=300)
        problems = []
        errlines = [ln for ln in err.strip().splitlines() if ln.strip()]
        if not killed:
            problems.append("no worker was killed")
        if rc is None:
            problems.append("the build hung")
        elif rc == 0:
            problems += [f"after worker kill: {p}" for p in compare(self.ref, release(out))]
        else:
            fails = [ln for ln in errlines if "failed" in ln or "error" in ln.lower()]
            if not fails:
                problems.append(f"exit {rc} without an error line: {errlines[-2:]}")
            if (out / "anim400k_annotations.json").exists() and not compare(self.ref, release(out)) == []:
                ann = json.loads((out / "anim400k_annotations.json").read_text())
                if ann:
                    problems.append("failed build left annotations")
        left, lingered = self.leftovers(build)
        if left:
            problems.append(f"processes left {LINGER:.0f} s after the driver's end: {left[:3]}")
        rc2, _o, err2 = finish(start(self.cmd(out)))
        problems += self.final_problems(out, rc2, err2)
        first = f"exit {rc}" + (f" '{errlines[-1][:120]}'" if rc not in (0, None) and errlines else "")
        self.record(name, problems, f"killed {len(killed)} process(es) in {rounds} round(s) {killed[:4]}; {first}; "
                                    f"re-run == R1{lingered}")

    def concurrent(self) -> None:
        out = self.fresh("concurrent")
        a = Watched(self.cmd(out))
        a.wait_for(lambda: done_stages(out) >= 1, 300)
        t0 = time.monotonic()
        rc_b, _o, err_b = finish(start(self.cmd(out)), timeout=TIMEOUT)
        b_secs = time.monotonic() - t0
        a_running = a.proc.poll() is None
        rc_a, _o, err_a = finish(a.proc)
        problems = []
        if rc_b == 0 and a_running:
            problems.append(f"second build succeeded in {b_secs:.1f} s while the first ran")
        if rc_b not in (0, None) and "another build" not in err_b:
            problems.append(f"second build: exit {rc_b} without the lock line: {err_b.strip()[-200:]}")
        problems += self.final_problems(out, rc_a, err_a)
        self.record("concurrent", problems, f"second build: exit {rc_b} after {b_secs:.1f} s "
                                            f"'{err_b.strip().splitlines()[-1][:110] if err_b.strip() else ''}'; "
                                            "first == R1")

    def rerun(self) -> None:
        out = self.fresh("rerun")
        rc, _o, err = finish(start(self.cmd(out)))
        problems = self.final_problems(out, rc, err)
        before = everything(out)
        t0 = time.monotonic()
        rc2, _o, err2 = finish(start(self.cmd(out)))
        secs = time.monotonic() - t0
        after = everything(out)
        if rc2 != 0:
            problems.append(f"re-run exit {rc2}")
        report = json.loads((out / "build_report.json").read_text())
        ran = [(ep.get("key"), ep.get("stage_seconds")) for ep in report.get("episodes", []) if ep.get("stage_seconds")]
        if ran:
            problems.append(f"re-run ran stages: {ran[:2]}")
        bytes_changed = [k for k in set(before) | set(after) if k != "build_report.json" and k != "catalog.sqlite"
                         and (before.get(k) or ("",))[0] != (after.get(k) or ("",))[0]]
        if bytes_changed:
            problems.append(f"re-run changed bytes: {sorted(bytes_changed)[:4]}")
        touched = [k for k in set(before) & set(after) if k not in ("build_report.json", "catalog.sqlite")
                   and before[k][1] != after[k][1]]
        cat_same = before.get("catalog.sqlite", ("",))[0] == after.get("catalog.sqlite", ("",))[0]
        rep_same = release(out).get("build_report.json") == self.ref.get("build_report.json")
        if not rep_same:
            problems.append("report (timing aside) differs from R1 after the re-run")
        self.record("rerun", problems, f"re-run {secs:.1f} s, no stage ran, {len(before)} files: no byte changed "
                                       f"({len(touched)} rewritten with the same bytes; catalog "
                                       f"{'unchanged' if cat_same else 'rewritten'})")


def moment_after(seconds: float) -> Callable[[Path, Watched], bool]:
    return lambda _out, build: time.monotonic() - build.t0 >= seconds


def mid_cut(out: Path, _build: Watched) -> bool:
    """The cut is under way: clip files (or their temporaries) in the release's media folders, cut not done."""
    media = [out / "anim400k_audio_clips", out / "anim400k_video_clips"]
    return any(any(d.rglob("*")) for d in media if d.is_dir()) and not stage_done(out, "cut")


def release_swap(out: Path, _build: Watched) -> bool:
    """The release is being written: a temporary name directly in ``out``."""
    try:
        return any(".part" in p.name for p in out.iterdir())
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("work", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--runner", default="local", choices=["local", "ray"])
    ap.add_argument("--checks", nargs="*", default=["kill", "worker", "concurrent", "rerun"],
                    help="kill worker concurrent rerun (or single kill names: kill-KILL-2s ...)")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    c = Checks(args.manifest.resolve(), args.work.resolve(), args.jobs, args.runner)
    c.reference()
    kills = {
        "kill-KILL-2s": (signal.SIGKILL, moment_after(2), 60),
        "kill-TERM-5s": (signal.SIGTERM, moment_after(5), 60),
        "kill-INT-10s": (signal.SIGINT, moment_after(10), 60),
        "kill-KILL-10s": (signal.SIGKILL, moment_after(10), 60),
        "kill-KILL-4stages": (signal.SIGKILL, lambda out, _b: done_stages(out) >= 4, TIMEOUT),
        "kill-KILL-midcut": (signal.SIGKILL, mid_cut, TIMEOUT),
        "kill-TERM-midcut": (signal.SIGTERM, mid_cut, TIMEOUT),
        "kill-KILL-release": (signal.SIGKILL, release_swap, TIMEOUT),
    }
    for name, (sig, when, limit) in kills.items():
        if "kill" in args.checks or name in args.checks:
            log(name)
            c.kill_driver(f"{args.runner}-{name}", sig, when, limit)
    if "worker" in args.checks or "worker-kill" in args.checks:
        log("worker-kill")
        c.worker_kill(f"{args.runner}-worker-kill", 1)
    if "worker" in args.checks or "worker-kill-all" in args.checks:
        log("worker-kill-all")
        c.worker_kill(f"{args.runner}-worker-kill-all", 3)
    if args.runner == "ray" and ("worker" in args.checks or "raylet-kill" in args.checks):
        log("raylet-kill")
        c.worker_kill(f"{args.runner}-raylet-kill", 1, target="raylet")
    if "concurrent" in args.checks:
        log("concurrent")
        c.concurrent()
    if "rerun" in args.checks:
        log("rerun")
        c.rerun()
    failed = [n for n, ok, _ in c.results if not ok]
    print(f"{len(c.results) - len(failed)}/{len(c.results)} checks passed" + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
