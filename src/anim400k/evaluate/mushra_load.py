"""Load test of the MUSHRA server: many simulated listeners (httpx async) take the whole test.

Each simulated listener joins through its own invitation, then per trial fetches the state,
downloads the trial's audio, and submits integer ratings derived from its index. The result
lists every request's latency and compares what was submitted with what the store holds.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .mushra_app import make_invite, read_secret
from .mushra_config import STORE_FILE
from .mushra_store import MushraStore


@dataclass
class LoadResult:
    """Outcome of :func:`run_load`."""

    listeners: int
    submitted: int
    stored: int
    lost: int
    duplicated: int
    mismatched: int
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile (ms) over every request."""
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")


async def _listener(
    base: str,
    invite: str,
    index: int,
    fetch_media: bool,
    result: LoadResult,
    expected: dict[tuple[str, str], int],
) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:

        async def timed(method: str, url: str, **kw: object) -> httpx.Response:
            t0 = time.perf_counter()
            r = await client.request(method, url, **kw)  # type: ignore[arg-type]
            result.latencies_ms.append(1000 * (time.perf_counter() - t0))
            return r

        r = await timed("GET", f"/join/{invite}")
        if r.status_code != 303:
            result.errors.append(f"listener {index}: join answered {r.status_code}")
            return
        while True:
            st = (await timed("GET", "/api/state")).json()
            if st["finished"]:
                return
            trial = st["trial"]
            if fetch_media:
                for s in [{"url": trial["reference"]}, *trial["stimuli"]]:
                    m = await timed("GET", s["url"])
                    if m.status_code != 200:
                        result.errors.append(f"listener {index}: media answered {m.status_code}")
            ratings = {
                s["id"]: (index * 7 + k * 13 + st["done"] * 5) % 101 for k, s in enumerate(trial["stimuli"])
            }
            r = await timed("POST", "/api/submit", json={"nonce": trial["nonce"], "ratings": ratings})
            if r.status_code != 200:
                result.errors.append(f"listener {index}: submit answered {r.status_code} {r.text[:80]}")
                return
            for token, score in ratings.items():
                expected[(token, trial["nonce"])] = score
            result.submitted += len(ratings)


async def _run(
    base: str, invites: list[str], fetch_media: bool, result: LoadResult, expected: dict[tuple[str, str], int]
) -> None:
    await asyncio.gather(
        *(_listener(base, inv, i, fetch_media, result, expected) for i, inv in enumerate(invites))
    )


def run_load(
    base_url: str, test_dir: str | Path, listeners: int = 50, fetch_media: bool = True
) -> LoadResult:
    """Drive ``listeners`` concurrent listeners through the whole test served at ``base_url``."""
    test_dir = Path(test_dir)
    secret = read_secret(test_dir)
    store = MushraStore(test_dir / STORE_FILE)
    before = {(r.listener, r.trial, r.condition) for r in store.ratings(include_training=True)}
    invites = [make_invite(secret) for _ in range(listeners)]
    result = LoadResult(listeners, 0, 0, 0, 0, 0)
    expected: dict[tuple[str, str], int] = {}
    t0 = time.perf_counter()
    asyncio.run(_run(base_url.rstrip("/"), invites, fetch_media, result, expected))
    result.wall_s = time.perf_counter() - t0
    rows = [
        r for r in store.ratings(include_training=True) if (r.listener, r.trial, r.condition) not in before
    ]
    result.stored = len(rows)
    keys = {(r.listener, r.trial, r.condition) for r in rows}
    result.duplicated = len(rows) - len(keys)
    # map each submitted (token, nonce) back to (listener, trial, condition) and compare scores
    stored = {(r.listener, r.trial, r.condition): r.score for r in rows}
    lost = mismatched = 0
    for (token, _nonce), score in expected.items():
        target = store.resolve(token)
        key = (target.listener, target.trial, target.condition) if target else None
        if key not in stored:
            lost += 1
        elif stored[key] != score:
            mismatched += 1
    result.lost, result.mismatched = lost, mismatched
    return result
