"""The MUSHRA listening-test web app (FastAPI).

Listeners join through a signed invitation link (``/join/<token>``) that sets a signed
session cookie; the page (``static/index.html``) fetches its trials from ``/api/state``,
plays stimuli through opaque per-session tokens (``/api/media/<token>``) and posts each
trial's ratings to ``/api/submit`` with the trial's one-time nonce. Admin pages
(``/admin``, ``/admin/export.csv``, ``/admin/progress.json``) need the admin token.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import html
import io
import math
import os
import re
import secrets
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel, Field, StrictFloat, ValidationError, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from ..errors import InputError
from .mushra_config import CONFIG_FILE, SECRET_FILE, STORE_FILE, MushraTest, load_test
from .mushra_store import MAX_TIME_MS, MushraStore, SubmitError
from .webmushra import RatingRow, ratings_csv

SESSION_COOKIE = "mushra_session"
ADMIN_COOKIE = "mushra_admin"
_INVITE_SALT = "anim400k-mushra-invite"
_SESSION_SALT = "anim400k-mushra-session"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; media-src 'self' blob:; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def read_secret(test_dir: str | Path) -> bytes:
    """The test's signing secret (``TEST/secret.key``; created if missing, mode 0600)."""
    path = Path(test_dir) / SECRET_FILE
    if not path.is_file():
        path.write_text(secrets.token_hex(32) + "\n", "utf-8")
        path.chmod(0o600)
    value = path.read_text("utf-8").strip()
    if len(value) < 32:
        raise InputError("secret key is too short (delete it to make a new one)", path)
    return value.encode("utf-8")


def make_invite(secret: bytes, invite_id: str | None = None) -> str:
    """A signed invitation token (each token is one listener; reusing it resumes that listener)."""
    return URLSafeSerializer(secret, salt=_INVITE_SALT).dumps({"i": invite_id or secrets.token_urlsafe(9)})


def read_invite(secret: bytes, token: str) -> str | None:
    """The invitation ID in ``token`` (None if the signature or payload is bad)."""
    try:
        data = URLSafeSerializer(secret, salt=_INVITE_SALT).loads(token)
    except BadSignature:
        return None
    return data.get("i") if isinstance(data, dict) and isinstance(data.get("i"), str) else None


def admin_token(secret: bytes) -> str:
    """The admin token of a test (derived from its secret, stable across restarts)."""
    return hmac.new(secret, b"anim400k-mushra-admin", hashlib.sha256).hexdigest()[:32]


#: the largest ``/api/submit`` body read (a trial's ratings are a few hundred bytes)
MAX_SUBMIT_BYTES = 64 * 1024


class Submission(BaseModel):
    """A trial's ratings: ``ratings`` maps stimulus tokens to 0-100 integers.

    ``times`` maps stimulus tokens to the milliseconds spent on them (0 to one day; a
    fraction is rounded); anything else (negative, NaN, 1e100, not a number) is refused.
    """

    nonce: str = Field(max_length=200)
    ratings: dict[str, Any] = Field(max_length=64)
    times: dict[str, StrictFloat] = Field(default_factory=dict, max_length=64)

    @field_validator("times")
    @classmethod
    def _times_in_range(cls, times: dict[str, float]) -> dict[str, float]:
        for value in times.values():
            if not (math.isfinite(value) and 0 <= value <= MAX_TIME_MS):
                raise ValueError(f"times must be milliseconds between 0 and {MAX_TIME_MS}")
        return times


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is known to exceed ``limit`` bytes (never read in full)."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
#: served stimuli kept in memory (a few seconds of audio each)
_WAV_CACHE = 64


@functools.lru_cache(maxsize=_WAV_CACHE)
def dithered_wav(path: str, key: bytes) -> bytes:
    """The WAV at ``path`` with every non-zero sample moved by a random -1, 0 or +1 LSB (seeded by ``key``).

    Served stimuli are re-encoded per token this way, so no two served files, not even the open
    and the hidden reference, share bytes or decoded samples, while what a listener hears is
    unchanged to within 1 LSB (a TPDF-shaped difference about 93 dB below full scale at 16 bit;
    digital silence, e.g. the padding, stays silent). The bit depth of the file is kept (16, 24 or
    32-bit PCM; other encodings are served as 24-bit PCM).
    """
    import numpy as np
    import soundfile as sf

    info = sf.info(path)
    bits = {"PCM_16": 16, "PCM_24": 24, "PCM_32": 32}.get(info.subtype, 24)
    data, sr = sf.read(path, dtype="int32", always_2d=True)  # left-justified: 1 LSB = 2**(32 - bits)
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(key).digest()[:16], "big"))
    step = np.int64(1) << (32 - bits)
    lsb = (rng.integers(0, 2, data.shape, dtype=np.int64) - rng.integers(0, 2, data.shape, dtype=np.int64)) * step
    lsb[data == 0] = 0
    low, high = np.iinfo(np.int32).min, np.iinfo(np.int32).max - step + 1
    out = np.clip(data.astype(np.int64) + lsb, low, high).astype(np.int32)
    buf = io.BytesIO()
    sf.write(buf, out, sr, subtype=f"PCM_{bits}", format="WAV")
    return buf.getvalue()


def bytes_response(body: bytes, media_type: str, request: Request, headers: dict[str, str]) -> Response:
    """``body`` as a 200, or the part one ``Range: bytes=a-b`` asks for as a 206 (416 when out of range).

    A malformed or multi-part range is ignored (the whole body, as RFC 9110 allows); HEAD gets the
    headers only. No ``ETag``/``Last-Modified``: nothing about the file behind a token is told.
    """
    size = len(body)
    status, part = 200, body
    hdrs = {**headers, "Accept-Ranges": "bytes"}
    m = _RANGE_RE.match(request.headers.get("range", "").strip())
    if m and (m.group(1) or m.group(2)):
        first, last = m.group(1), m.group(2)
        if first:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        else:
            start, end = max(0, size - int(last)), size - 1
        if start >= size or start > end:
            return Response(status_code=416, headers={**hdrs, "Content-Range": f"bytes */{size}"})
        status, part = 206, body[start : end + 1]
        hdrs["Content-Range"] = f"bytes {start}-{end}/{size}"
    if request.method == "HEAD":
        hdrs["Content-Length"] = str(len(part))
        return Response(status_code=status, headers=hdrs, media_type=media_type)
    return Response(part, status_code=status, headers=hdrs, media_type=media_type)


@dataclass
class AppContext:
    """What the app serves: the test, its folder, its store and its secret."""

    test_dir: Path
    test: MushraTest
    store: MushraStore
    secret: bytes

    @property
    def admin(self) -> str:
        return admin_token(self.secret)


def _static_dir() -> Path:
    return Path(str(resources.files("anim400k.evaluate") / "static"))


def _json_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def inside(test_dir: Path, rel: str) -> Path | None:
    """``test_dir/rel`` resolved (symlinks followed), or None when it lies outside ``test_dir``.

    A path in ``test.json`` that climbs out (``../x.wav``), is absolute, or is a symlink to a file
    elsewhere would otherwise let the server hand out any file the process can read.
    """
    root = test_dir.resolve()
    path = (root / rel).resolve()
    return path if path.is_relative_to(root) and path != root else None


def check_paths(test_dir: Path, test: MushraTest) -> None:
    """:class:`InputError` (one line) for the first trial file of ``test`` that lies outside ``test_dir``."""
    for trial in test.all_trials():
        for rel in [trial.reference, *trial.stimuli.values(), *([trial.video] if trial.video else [])]:
            if inside(test_dir, rel) is None:
                raise InputError(
                    f"trial {trial.id}: {rel!r} is outside the test folder (only the test's own files are served)",
                    test_dir / CONFIG_FILE,
                )


def create_app(test_dir: str | Path) -> FastAPI:
    """The FastAPI app for the test in ``test_dir`` (ratings go to ``test_dir/ratings.sqlite``)."""
    test_dir = Path(test_dir)
    test = load_test(test_dir)
    check_paths(test_dir, test)
    ctx = AppContext(test_dir, test, MushraStore(test_dir / STORE_FILE), read_secret(test_dir))
    sessions = URLSafeSerializer(ctx.secret, salt=_SESSION_SALT)
    app = FastAPI(title="anim400k MUSHRA", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    static = _static_dir()
    app.mount("/static", StaticFiles(directory=static), name="static")

    @app.middleware("http")
    async def _headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    def listener_of(request: Request) -> str | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            lid = sessions.loads(raw)
        except BadSignature:
            return None
        return lid if isinstance(lid, str) and ctx.store.has_listener(lid) else None

    def is_admin(request: Request) -> bool:
        given = request.query_params.get("token") or request.cookies.get(ADMIN_COOKIE) or ""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        return hmac.compare_digest(given.encode(), ctx.admin.encode())

    def page(name: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse((static / name).read_text("utf-8"), status_code=status)

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        if listener_of(request):
            return RedirectResponse("/listen", status_code=303)
        return page("invite.html", 403)

    @app.get("/join/{token}")
    def join(token: str, request: Request) -> Response:
        invite = read_invite(ctx.secret, token)
        if invite is None:
            return page("invite.html", 403)
        lid = ctx.store.join(invite, ctx.test)
        if lid is None:  # revoked: the same page as a forged or unknown link
            return page("invite.html", 403)
        resp = RedirectResponse("/listen", status_code=303)
        resp.set_cookie(
            SESSION_COOKIE,
            sessions.dumps(lid),
            httponly=True,
            samesite="strict",
            max_age=90 * 86400,
            secure=request.url.scheme == "https",  # behind an HTTPS proxy: X-Forwarded-Proto, as uvicorn trusts it
        )
        return resp

    @app.get("/listen", response_class=HTMLResponse)
    def listen(request: Request) -> Response:
        if not listener_of(request):
            return page("invite.html", 403)
        return page("index.html")

    @app.get("/api/state")
    def state(request: Request) -> Response:
        lid = listener_of(request)
        if lid is None:
            return _json_error(401, "no valid session: open your invitation link again")
        a = ctx.store.next_assignment(lid)
        total = len(ctx.test.all_trials())
        body: dict[str, Any] = {
            "test": ctx.test.name,
            "instructions": ctx.test.instructions,
            "n_training": len(ctx.test.training),
            "n_trials": len(ctx.test.trials),
            "done": total if a is None else a.position,
            "finished": a is None,
            "trial": None,
        }
        if a is not None:
            body["trial"] = {
                "nonce": a.nonce,
                "training": a.training,
                "number": a.position + 1 if a.training else a.position - a.n_training + 1,
                "of": a.n_training if a.training else a.total - a.n_training,
                "reference": f"/api/media/{a.reference}",
                "stimuli": [{"id": t, "url": f"/api/media/{t}"} for t in a.stimuli],
                "video": f"/api/media/{a.video}" if a.video else None,
            }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    @app.api_route("/api/media/{token}", methods=["GET", "HEAD"])
    def media(token: str, request: Request) -> Response:
        lid = listener_of(request)
        target = ctx.store.resolve(token)
        if lid is None or target is None or target.listener != lid:
            return _json_error(404, "no such media")
        trial = ctx.test.trial(target.trial)
        rel = (
            trial.video
            if target.kind == "video"
            else (trial.reference if target.kind == "reference" else trial.stimuli[str(target.condition)])
        )
        if rel is None:
            return _json_error(404, "no such media")
        path = inside(ctx.test_dir, rel)  # checked at start; again here, in case a file became a symlink since
        if path is None:
            return _json_error(404, "no such media")
        cache = {"Cache-Control": "private, no-transform, max-age=3600"}
        if target.kind == "video":  # one per trial, the same for every condition: no validators all the same
            resp = FileResponse(path, media_type="video/mp4", headers=cache, stat_result=os.stat(path))
            del resp.headers["etag"], resp.headers["last-modified"]
            return resp
        key = hmac.new(ctx.secret, b"anim400k-mushra-dither:" + token.encode(), hashlib.sha256).digest()
        body = dithered_wav(str(path), key)
        return bytes_response(body, "audio/wav", request, cache)

    @app.post("/api/submit")
    async def submit(request: Request) -> Response:
        # the session first, then at most MAX_SUBMIT_BYTES of body: a stranger's 50 MB costs nothing
        lid = await run_in_threadpool(listener_of, request)
        if lid is None:
            return _json_error(401, "no valid session")
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":  # a cross-site form can post text/plain or form data, never JSON
            return _json_error(415, "the body must be application/json")
        try:
            raw = await _read_limited(request, MAX_SUBMIT_BYTES)
        except ClientDisconnect:  # the client went away mid-body (nothing is stored; no one reads the answer)
            return _json_error(400, "the client disconnected before the request body was complete")
        if raw is None:
            return _json_error(413, f"request body larger than {MAX_SUBMIT_BYTES} bytes")
        try:
            sub = Submission.model_validate_json(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            return _json_error(422, f"{where + ': ' if where else ''}{err['msg']}")
        times = {k: round(v) for k, v in sub.times.items()}
        try:
            finished = await run_in_threadpool(ctx.store.submit, lid, sub.nonce, sub.ratings, times)
        except SubmitError as exc:
            return _json_error(exc.status, exc.message)
        return JSONResponse({"ok": True, "finished": finished})

    @app.get("/admin", response_class=HTMLResponse)
    def admin(request: Request) -> Response:
        if not is_admin(request):
            return HTMLResponse("<h1>403: admin token required</h1>", status_code=403)
        resp = HTMLResponse(_admin_html(ctx))
        resp.set_cookie(
            ADMIN_COOKIE,
            ctx.admin,
            httponly=True,
            samesite="strict",
            path="/admin",
            secure=request.url.scheme == "https",
        )
        return resp

    @app.get("/admin/progress.json")
    def progress(request: Request) -> Response:
        if not is_admin(request):
            return _json_error(403, "admin token required")
        return JSONResponse([p.__dict__ for p in ctx.store.progress()])

    @app.get("/admin/export.csv")
    def export(request: Request) -> Response:
        if not is_admin(request):
            return _json_error(403, "admin token required")
        return Response(
            ratings_csv(export_rows(ctx)),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{ctx.test.test_id}_mushra.csv"'},
        )

    return app


def export_rows(ctx: AppContext) -> list[RatingRow]:
    """The stored (non-training) ratings as webMUSHRA CSV rows."""
    return [
        RatingRow(ctx.test.test_id, r.listener, r.trial, r.condition, r.score, r.time_ms)
        for r in ctx.store.ratings()
    ]


def _admin_html(ctx: AppContext) -> str:
    rows = []
    for p in ctx.store.progress():
        state = "finished" if p.finished else "in progress"
        if p.revoked:  # a revoked listener can take no further trial: their ratings so far are kept
            state = f"revoked ({state})" if p.finished else "revoked"
        pct = 100 * p.done // max(1, p.total)
        rows.append(
            f"<tr><td><code>{html.escape(p.listener)}</code></td><td>{p.done} / {p.total}</td>"
            f"<td><div class='bar'><div class='fill w{pct // 5 * 5}'></div></div></td>"
            f"<td>{state}</td></tr>"
        )
    n_ratings = len(ctx.store.ratings())
    body = "".join(rows) or "<tr><td colspan='4'>No listener has joined yet.</td></tr>"
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Admin: {html.escape(ctx.test.name)}</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/style.css"></head>
<body class="admin"><main><h1>{html.escape(ctx.test.name)}</h1>
<p>{len(ctx.test.trials)} rated trials, {len(ctx.test.training)} training, conditions:
{html.escape(", ".join(ctx.test.conditions))}.
Ratings stored: <strong id="n-ratings">{n_ratings}</strong>.</p>
<p><a class="button" href="/admin/export.csv">Download ratings (webMUSHRA CSV)</a>
<a class="button secondary" href="/admin/progress.json">Progress (JSON)</a></p>
<table id="progress"><thead><tr><th>Listener</th><th>Trials done</th><th>Progress</th><th>State</th>
</tr></thead>
<tbody>{body}</tbody></table></main></body></html>"""
