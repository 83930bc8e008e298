"""Security audit of the MUSHRA app: tokens, path traversal, input validation, XSS, headers, concurrency."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from anim400k.evaluate.mushra_app import admin_token, create_app, make_invite, read_invite, read_secret
from anim400k.evaluate.mushra_config import load_test, save_test
from anim400k.testing.mushra import make_mushra_test


@pytest.fixture(scope="module")
def test_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-training + 2-trial test (synthetic WAVs)."""
    return make_mushra_test(tmp_path_factory.mktemp("mushra_sec"))


def _join(client: TestClient, test_dir: Path, invite: str | None = None) -> dict:
    r = client.get(f"/join/{invite or make_invite(read_secret(test_dir))}", follow_redirects=False)
    assert r.status_code == 303, r.text
    return client.get("/api/state").json()


def _body(state: dict, value: int = 50) -> dict:
    return {"nonce": state["trial"]["nonce"], "ratings": {s["id"]: value for s in state["trial"]["stimuli"]}}


# -- invitations ------------------------------------------------------------------------------------


def test_invitations_are_random_and_unknown_ones_say_nothing(test_dir: Path) -> None:
    secret = read_secret(test_dir)
    ids = {read_invite(secret, make_invite(secret)) for _ in range(200)}
    assert len(ids) == 200 and all(i and len(i) >= 12 for i in ids)  # 9 random bytes each, plus an HMAC
    client = TestClient(create_app(test_dir))
    forged = make_invite(b"x" * 40, "same-id")
    garbage = "not-a-token"
    answers = [client.get(f"/join/{t}", follow_redirects=False) for t in (forged, garbage)]
    assert {a.status_code for a in answers} == {403}
    assert answers[0].text == answers[1].text  # the same page: nothing says which check failed
    assert "mushra_session" not in client.cookies


# -- path traversal -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "/static/../secret.key", "/static/%2e%2e/secret.key", "/static/..%2fsecret.key", "/static/%2e%2e%2fsecret.key",
    "/static//etc/passwd", "/static/%2fetc%2fpasswd", "/api/media/..%2f..%2fsecret.key", "/api/media/%2e%2e",
    "/api/media/..%2ftest.json", "/../secret.key", "/%2e%2e/test.json",
])
def test_traversal_urls_serve_nothing_of_the_folder(test_dir: Path, url: str) -> None:
    client = TestClient(create_app(test_dir))
    _join(client, test_dir)
    r = client.get(url)
    assert r.status_code in (400, 403, 404, 405), (url, r.status_code)
    assert read_secret(test_dir).decode() not in r.text and "root:" not in r.text and '"trials"' not in r.text


def _copy_test(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("ratings.sqlite*"))
    return dst


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink"])
def test_stimulus_paths_outside_the_folder_refused(test_dir: Path, tmp_path: Path, how: str) -> None:
    """A test.json (e.g. copied from someone else) that points outside its folder is refused at start, in one line."""
    import shutil

    from anim400k.errors import InputError

    t = _copy_test(test_dir, tmp_path / "t")
    outside = tmp_path / "outside.wav"
    test = load_test(t)
    shutil.copyfile(t / test.trials[0].reference, outside)
    if how == "dotdot":
        test.trials[0].stimuli["C1"] = "../outside.wav"
    elif how == "absolute":
        test.trials[0].stimuli["C1"] = str(outside)
    else:
        (t / test.trials[0].stimuli["C1"]).unlink()
        (t / test.trials[0].stimuli["C1"]).symlink_to(outside)
    save_test(t, test)
    with pytest.raises(InputError, match="outside the test folder") as exc:
        create_app(t)
    assert "t1" in str(exc.value) and "\n" not in str(exc.value)


# -- submissions --------------------------------------------------------------------------------------


def test_submit_needs_json_content_type(test_dir: Path) -> None:
    client = TestClient(create_app(test_dir))
    state = _join(client, test_dir)
    body = json.dumps(_body(state))
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        headers = {"content-type": ctype} if ctype else {}
        r = client.post("/api/submit", content=body, headers=headers)
        assert r.status_code == 415, (ctype, r.status_code)
        assert "application/json" in r.json()["error"]
    assert client.get("/api/state").json()["done"] == 0
    ok = client.post("/api/submit", content=body, headers={"content-type": "application/json; charset=utf-8"})
    assert ok.status_code == 200


@pytest.mark.parametrize("raw_value", ["NaN", "Infinity", "-Infinity", "1e400", "50.0", "null", "[50]", "{}", '"50"',
                                       "true", "101", "-1", "9223372036854775808"])
def test_bad_scores_refused_and_nothing_stored(test_dir: Path, raw_value: str) -> None:
    client = TestClient(create_app(test_dir))
    state = _join(client, test_dir)
    body = _body(state)
    first = next(iter(body["ratings"]))
    text = json.dumps(body).replace(f'"{first}": 50', f'"{first}": {raw_value}')
    r = client.post("/api/submit", content=text, headers={"content-type": "application/json"})
    assert r.status_code == 422, (raw_value, r.status_code, r.text)
    assert client.get("/api/state").json()["done"] == 0


def test_malformed_bodies_refused(test_dir: Path) -> None:
    client = TestClient(create_app(test_dir))
    state = _join(client, test_dir)
    good = _body(state)
    first = next(iter(good["ratings"]))
    dup = json.dumps(good)[:-2] + f', "{first}": 101}}}}'  # the same stimulus twice, the second out of range
    cases = {
        "not json": (b"{nonce", 422),
        "a list": (b"[]", 422),
        "no nonce": (json.dumps({"ratings": good["ratings"]}).encode(), 422),
        "unknown nonce": (json.dumps({**good, "nonce": "nope"}).encode(), 404),
        "unknown stimulus": (json.dumps({**good, "ratings": {**good["ratings"], "zz": 5}}).encode(), 422),
        "duplicate key": (dup.encode(), 422),
        "huge": (b'{"nonce": "' + b"a" * 200_000 + b'"}', 413),
        "not utf-8": (b'{"nonce": "\xff"}', 422),
    }
    for name, (raw, status) in cases.items():
        r = client.post("/api/submit", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == status, (name, r.status_code, r.text)
    assert client.get("/api/state").json()["done"] == 0


# -- XSS and headers ----------------------------------------------------------------------------------


def test_admin_page_and_report_escape_what_they_show(test_dir: Path, tmp_path: Path) -> None:
    from anim400k.evaluate.mushra_analysis import analyze_rows, report_html
    from anim400k.evaluate.mushra_app import admin_token
    from anim400k.evaluate.webmushra import RatingRow

    t = _copy_test(test_dir, tmp_path / "t")
    test = load_test(t)
    test.name = "<script>alert(1)</script>"
    save_test(t, test)
    client = TestClient(create_app(t))
    _join(client, t)
    page = client.get(f"/admin?token={admin_token(read_secret(t))}").text
    assert "<script>" not in page and "&lt;script&gt;" in page
    evil = '<img src=x onerror="alert(1)">'
    rows = [RatingRow("t", f"{evil}{k}", "t1", c, s, 0) for k in range(3)
            for c, s in (("reference", 100), ("anchor35", 10), (evil, 60))]
    report = report_html(analyze_rows(rows), "ratings.png")
    assert "<img src=x" not in report and "&lt;img src=x" in report


@pytest.mark.parametrize("path", ["/", "/listen", "/api/state", "/static/app.js", "/admin", "/join/x", "/nowhere"])
def test_security_headers_everywhere(test_dir: Path, path: str) -> None:
    r = TestClient(create_app(test_dir)).get(path, follow_redirects=False)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "unsafe-inline" not in r.headers["content-security-policy"]


def test_cookies_are_secure_over_https(test_dir: Path) -> None:
    from anim400k.evaluate.mushra_app import admin_token

    invite = make_invite(read_secret(test_dir))
    plain = TestClient(create_app(test_dir)).get(f"/join/{invite}", follow_redirects=False)
    assert "secure" not in plain.headers["set-cookie"].lower()  # plain http on localhost still works
    https = TestClient(create_app(test_dir), base_url="https://testserver")
    cookie = https.get(f"/join/{invite}", follow_redirects=False).headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    admin = https.get(f"/admin?token={admin_token(read_secret(test_dir))}").headers["set-cookie"].lower()
    assert "secure" in admin and "httponly" in admin


# -- concurrency and restarts -------------------------------------------------------------------------


def test_two_servers_one_store_and_a_double_submit(test_dir: Path, tmp_path: Path) -> None:
    """Two apps (as two processes would) on one store; the same trial posted twice at once is stored once."""
    t = _copy_test(test_dir, tmp_path / "t")
    a, b = TestClient(create_app(t)), TestClient(create_app(t))
    sa, sb = _join(a, t), _join(b, t)
    results: list[int] = []
    go = threading.Barrier(4)

    def post(client: TestClient, body: dict) -> None:
        go.wait()
        results.append(client.post("/api/submit", json=body).status_code)

    threads = [threading.Thread(target=post, args=(c, _body(s))) for c, s in ((a, sa), (a, sa), (b, sb), (b, sb))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert sorted(results) == [200, 200, 409, 409]
    from anim400k.evaluate.mushra_store import MushraStore

    rows = MushraStore(t / "ratings.sqlite").ratings(include_training=True)
    assert len(rows) == 2 * len(sa["trial"]["stimuli"])


def test_restart_mid_test_keeps_ratings_and_sessions(test_dir: Path, tmp_path: Path) -> None:
    t = _copy_test(test_dir, tmp_path / "t")
    client = TestClient(create_app(t))
    state = _join(client, t)
    assert client.post("/api/submit", json=_body(state, 77)).status_code == 200
    cookies = dict(client.cookies)
    restarted = TestClient(create_app(t))  # a new process on the same folder
    restarted.cookies.update(cookies)
    after = restarted.get("/api/state").json()
    assert after["done"] == 1 and after["trial"]["nonce"] != state["trial"]["nonce"]
    assert restarted.post("/api/submit", json=_body(state, 10)).status_code == 409
    assert restarted.post("/api/submit", json=_body(after, 60)).status_code == 200
    from anim400k.evaluate.mushra_store import MushraStore

    scores = sorted({r.score for r in MushraStore(t / "ratings.sqlite").ratings(include_training=True)})
    assert scores == [60, 77]


# -- serve --------------------------------------------------------------------------------------------


def test_serve_binds_localhost_by_default_and_warns_on_all_interfaces(
    test_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import uvicorn

    from anim400k.cli import main

    bound: list[tuple] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: bound.append(sockets[0].getsockname()))
    assert main(["mushra", "serve", str(test_dir), "--port", "0"]) == 0
    assert bound[-1][0] == "127.0.0.1"
    assert "warning" not in capsys.readouterr().err
    assert main(["mushra", "serve", str(test_dir), "--port", "0", "--host", "0.0.0.0"]) == 0
    assert bound[-1][0] == "0.0.0.0"
    err = capsys.readouterr().err
    assert "warning: listening on 0.0.0.0" in err and "HTTPS" in err


def test_revoked_invitation_neither_joins_nor_keeps_its_session(test_dir: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    from anim400k.cli import main

    t = _copy_test(test_dir, tmp_path / "t")
    app = create_app(t)
    secret = read_secret(t)
    used, unused, other = make_invite(secret), make_invite(secret), make_invite(secret)
    client, bystander = TestClient(app), TestClient(app)
    state = _join(client, t, used)
    assert client.post("/api/submit", json=_body(state, 42)).status_code == 200
    next_state = client.get("/api/state").json()
    _join(bystander, t, other)
    assert main(["mushra", "revoke", str(t), f"https://x.example/join/{used}", unused]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "ratings are kept" in out[0] and "never used" in out[1]
    stranger = TestClient(app)
    for token in (used, unused):  # the same 403 page as a forged link: nothing says it was revoked
        r = stranger.get(f"/join/{token}", follow_redirects=False)
        assert r.status_code == 403 and r.text == stranger.get("/join/forged", follow_redirects=False).text
    assert client.get("/api/state").status_code == 401  # the open session ends at once
    assert client.post("/api/submit", json=_body(next_state)).status_code == 401
    assert client.get(next_state["trial"]["stimuli"][0]["url"]).status_code == 404
    assert bystander.get("/api/state").status_code == 200  # others carry on
    from anim400k.evaluate.mushra_store import MushraStore

    store = MushraStore(t / "ratings.sqlite")
    assert {r.score for r in store.ratings(include_training=True)} == {42}
    assert sorted(p.revoked for p in store.progress()) == [False, True]
    admin = stranger.get(f"/admin?token={admin_token(secret)}").text
    assert admin.count("<td>revoked</td>") == 1 and admin.count("<td>in progress</td>") == 1  # not "in progress"
    assert main(["mushra", "revoke", str(t), make_invite(b"y" * 40)]) == 2
    assert "not an invitation link of this test" in capsys.readouterr().err


def test_a_stimulus_turned_symlink_after_start_is_not_served(test_dir: Path, tmp_path: Path) -> None:
    t = _copy_test(test_dir, tmp_path / "t")
    client = TestClient(create_app(t))  # checked and accepted at start
    state = _join(client, t)
    outside = tmp_path / "outside.wav"
    wavs = [p for p in (t / "stimuli").rglob("*.wav")]
    outside.write_bytes(wavs[0].read_bytes())
    for p in wavs:
        p.unlink()
        p.symlink_to(outside)
    for stim in state["trial"]["stimuli"]:
        assert client.get(stim["url"]).status_code == 404


def test_a_client_gone_mid_body_gets_400_and_nothing_is_stored(test_dir: Path) -> None:
    """A body that ends in a disconnect (``Content-Length: 100``, 4 bytes, gone): Starlette's ClientDisconnect was
    unhandled (uvicorn logged "Exception in ASGI application"); now a 400, and nothing is stored."""
    import asyncio

    app = create_app(test_dir)
    client = TestClient(app)
    _join(client, test_dir)
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items()).encode()
    incoming = [{"type": "http.request", "body": b'{"no', "more_body": True}, {"type": "http.disconnect"}]
    sent: list[dict] = []

    async def receive() -> dict:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/submit", "raw_path": b"/api/submit", "root_path": "", "query_string": b"",
             "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                         (b"content-length", b"100"), (b"cookie", cookie)],
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 400
    assert client.get("/api/state").json()["done"] == 0
