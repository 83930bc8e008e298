"""The MUSHRA app: security (forged, out-of-range, replayed, foreign submissions), admin, load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from anim400k.evaluate.mushra_app import admin_token, create_app, make_invite, read_secret
from anim400k.evaluate.mushra_config import load_test
from anim400k.evaluate.mushra_load import run_load
from anim400k.evaluate.mushra_server import BackgroundServer
from anim400k.testing.mushra import SR, make_mushra_test


@pytest.fixture(scope="module")
def test_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-training + 2-trial test imported from a webMUSHRA config of synthetic WAVs."""
    return make_mushra_test(tmp_path_factory.mktemp("mushra_app"))


def _join(client: TestClient, test_dir: Path) -> dict:
    r = client.get(f"/join/{make_invite(read_secret(test_dir))}", follow_redirects=False)
    assert r.status_code == 303 and "mushra_session" in r.cookies
    return client.get("/api/state").json()


def _ratings(state: dict, value: int = 50) -> dict[str, int]:
    return {s["id"]: value for s in state["trial"]["stimuli"]}


def test_import_renders_anchors_and_conditions(test_dir: Path) -> None:
    test = load_test(test_dir)
    assert [t.id for t in test.training] == ["training1"]
    assert [t.id for t in test.trials] == ["t1", "t2"]
    assert test.conditions == ["reference", "anchor35", "anchor70", "C1", "C2"]
    ref, _ = sf.read(test_dir / test.trials[0].stimuli["reference"])
    a35, _ = sf.read(test_dir / test.trials[0].stimuli["anchor35"])
    spec_ref, spec_a35 = np.abs(np.fft.rfft(ref)), np.abs(np.fft.rfft(a35))
    hi = np.fft.rfftfreq(ref.size, 1 / SR) > 5000
    assert spec_a35[hi].sum() < 0.01 * spec_ref[hi].sum()  # the low anchor really is low-passed
    assert (test_dir / "webmushra.yaml").is_file()


def test_forged_invitation_and_session_refused(test_dir: Path) -> None:
    client = TestClient(create_app(test_dir))
    good = make_invite(read_secret(test_dir))
    forged = make_invite(b"not-the-secret-of-this-test-000000000000")
    assert client.get(f"/join/{forged}", follow_redirects=False).status_code == 403
    assert client.get(f"/join/{good[:-3]}xyz", follow_redirects=False).status_code == 403
    client.cookies.set("mushra_session", "bogus.signature")
    assert client.get("/api/state").status_code == 401
    assert client.post("/api/submit", json={"nonce": "x", "ratings": {}}).status_code == 401


def test_stimulus_identities_never_reach_the_page(test_dir: Path) -> None:
    client = TestClient(create_app(test_dir))
    state = _join(client, test_dir)
    text = client.get("/api/state").text + client.get("/listen").text
    trial = state["trial"]
    tokens = [trial["nonce"], trial["reference"] or ""]  # random opaque tokens may contain e.g. "C2" by chance
    tokens += [v for stim in trial["stimuli"] for v in (stim["url"], stim["id"])]
    for token in sorted(filter(None, tokens), key=len, reverse=True):
        text = text.replace(token, "")
    for name in ("anchor35", "anchor70", "C1", "C2", "reference.wav", "stimuli/"):
        assert name not in text
    assert state["trial"]["training"] is True
    assert client.get(state["trial"]["stimuli"][0]["url"]).headers["content-type"] == "audio/wav"


def test_out_of_range_and_incomplete_refused(test_dir: Path) -> None:
    client = TestClient(create_app(test_dir))
    state = _join(client, test_dir)
    nonce = state["trial"]["nonce"]
    for bad in (101, -1, 50.5, "50", True):
        ratings = _ratings(state)
        ratings[next(iter(ratings))] = bad
        r = client.post("/api/submit", json={"nonce": nonce, "ratings": ratings})
        assert r.status_code == 422, bad
    partial = dict(list(_ratings(state).items())[:-1])
    assert client.post("/api/submit", json={"nonce": nonce, "ratings": partial}).status_code == 422
    extra = _ratings(state) | {"made-up-token": 10}
    assert client.post("/api/submit", json={"nonce": nonce, "ratings": extra}).status_code == 422
    assert client.get("/api/state").json()["done"] == 0  # nothing was stored
    assert client.post("/api/submit", json={"nonce": nonce, "ratings": _ratings(state)}).status_code == 200


def test_replay_and_foreign_session_refused(test_dir: Path) -> None:
    app = create_app(test_dir)
    alice, mallory = TestClient(app), TestClient(app)
    a_state, m_state = _join(alice, test_dir), _join(mallory, test_dir)
    body = {"nonce": a_state["trial"]["nonce"], "ratings": _ratings(a_state, 70)}
    # mallory posts alice's trial (with alice's tokens): another session's trial
    assert mallory.post("/api/submit", json=body).status_code == 403
    # mallory cannot fetch alice's audio either
    assert mallory.get(a_state["trial"]["stimuli"][0]["url"]).status_code == 404
    assert alice.post("/api/submit", json=body).status_code == 200
    assert alice.post("/api/submit", json=body).status_code == 409  # replay / double submission
    # mallory's own trial with alice's tokens is refused too
    mixed = {"nonce": m_state["trial"]["nonce"], "ratings": _ratings(a_state, 70)}
    assert mallory.post("/api/submit", json=mixed).status_code == 422
    assert mallory.get("/api/state").json()["done"] == 0


def test_admin_needs_token(test_dir: Path) -> None:
    client = TestClient(create_app(test_dir))
    assert client.get("/admin").status_code == 403
    assert client.get("/admin/export.csv").status_code == 403
    assert client.get("/admin?token=wrong").status_code == 403
    token = admin_token(read_secret(test_dir))
    assert client.get(f"/admin?token={token}").status_code == 200
    r = client.get("/admin/export.csv", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.text.startswith("session_test_id,listener,session_uuid,trial_id,rating_stimulus")


def test_concurrent_listeners_lose_nothing(test_dir: Path) -> None:
    with BackgroundServer(test_dir) as srv:
        res = run_load(srv.url, test_dir, listeners=12)
    assert res.errors == []
    assert res.submitted == 12 * 3 * 5
    assert (res.stored, res.lost, res.duplicated, res.mismatched) == (res.submitted, 0, 0, 0)


def test_serve_on_a_busy_port_fails_before_printing_links(test_dir: Path, capsys: pytest.CaptureFixture) -> None:
    import socket

    from anim400k.cli import main

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["mushra", "serve", str(test_dir), "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert "invite" not in out and "admin" not in out
    assert err.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in err and "another --port" in err
    assert main(["mushra", "serve", str(test_dir), "--port", "70000"]) == 2
    assert "0..65535" in capsys.readouterr().err


def test_serve_serves_on_the_socket_it_checked(test_dir: Path) -> None:
    import subprocess
    import sys
    import urllib.request

    proc = subprocess.Popen(
        [sys.executable, "-m", "anim400k", "mushra", "serve", str(test_dir), "--port", "0", "--invite", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        invite = proc.stdout.readline().split()[-1]
        assert invite.startswith("http://127.0.0.1:") and ":0/" not in invite
        import http.cookiejar

        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with opener.open(invite, timeout=30) as resp:  # the join link sets the session cookie
            assert resp.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_behind_a_proxy_says_where_it_listens(test_dir: Path) -> None:
    """With --public-url every link names the proxy: the port taken by --port 0 was printed nowhere."""
    import queue
    import subprocess
    import sys
    import threading
    import urllib.request

    serve = [sys.executable, "-m", "anim400k", "mushra", "serve", str(test_dir), "--port", "0"]
    bad = subprocess.run([*serve, "--invite", "-1"], capture_output=True, text=True, timeout=60)  # served, before
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == ["anim400k: error: --invite must be an integer >= 0, not -1"]
    proc = subprocess.Popen([*serve, "--public-url", "https://test.example.org/"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    threading.Thread(target=lambda: [lines.put(line.strip()) for line in proc.stdout], daemon=True).start()
    try:
        invite, admin, listening = (lines.get(timeout=60) for _ in range(3))  # queue.Empty: a line is missing
        assert invite.startswith("invite: https://test.example.org/join/")
        assert admin.startswith("admin:  https://test.example.org/admin?token=")
        word, url, *_ = listening.split()
        assert word == "listening:" and url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        direct = admin.split()[-1].replace("https://test.example.org", url)
        with urllib.request.urlopen(direct, timeout=30) as resp:  # the server is there, behind the links
            assert resp.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize(("host", "url"), [
    ("127.0.0.1", "http://127.0.0.1:8000"), ("localhost", "http://localhost:8000"), ("::1", "http://[::1]:8000"),
    ("::", "http://[::]:8000"), ("fe80::1%eth0", "http://[fe80::1%25eth0]:8000"),
])
def test_serve_s_links_name_an_ipv6_address_in_brackets(host: str, url: str) -> None:
    """``mushra serve --host ::1`` (a local address it knows) printed ``http://::1:8000/join/...``: no URL (its port
    does not parse), in every invitation and admin link and the ``listening:`` line."""
    import urllib.parse

    from anim400k.evaluate.mushra_server import http_url

    assert http_url(host, 8000) == url
    parts = urllib.parse.urlsplit(http_url(host, 8000) + "/admin")
    assert parts.port == 8000 and parts.hostname == host.replace("%", "%25")


@pytest.mark.parametrize("public_url", [None, "https://test.example.org"])
def test_serve_on_ipv6_prints_links_with_the_address_in_brackets(
    test_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], public_url: str | None
) -> None:
    """The command's links and its ``listening:`` line (the socket and the server faked: no IPv6 needed)."""
    import urllib.parse

    import uvicorn

    from anim400k.cli import main
    from anim400k.evaluate import mushra_server

    class Sock:
        def getsockname(self) -> tuple[str, int, int, int]:
            return ("::1", 43210, 0, 0)

        def close(self) -> None:
            pass

    class Server:
        def __init__(self, config: object) -> None:
            pass

        def run(self, sockets: list[object]) -> None:
            pass

    monkeypatch.setattr(mushra_server, "listen_socket", lambda host, port: Sock())
    monkeypatch.setattr(uvicorn, "Server", Server)
    extra = ["--public-url", public_url] if public_url else []
    assert main(["mushra", "serve", str(test_dir), "--host", "::1", "--port", "0", *extra]) == 0
    lines = capsys.readouterr().out.splitlines()
    urls = [line.split()[1] if line.startswith("listening:") else line.split()[-1] for line in lines]
    assert len(urls) == (3 if public_url else 2), lines
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        assert parts.port in (43210, None if public_url else 43210), url
    assert any(u.startswith("http://[::1]:43210") for u in urls), lines


def _media_trial(client: TestClient, test_dir: Path) -> tuple[dict, str, str]:
    """A joined listener's trial state, the hidden reference's URL and the open reference's URL."""
    import sqlite3

    state = _join(client, test_dir)
    trial = state["trial"]
    with sqlite3.connect(test_dir / "ratings.sqlite") as c:
        tokens = [s["id"] for s in trial["stimuli"]]
        hidden = c.execute(
            f"SELECT token FROM tokens WHERE condition='reference' AND token IN ({','.join('?' * len(tokens))})",
            tokens,
        ).fetchone()[0]
    return state, f"/api/media/{hidden}", trial["reference"]


def test_hidden_reference_not_identifiable_from_response(test_dir: Path) -> None:
    """No ETag/Last-Modified, no shared bytes or samples (was the same file, ETag and body: found 10/10)."""
    import hashlib
    import io

    client = TestClient(create_app(test_dir))
    state, hidden, ref = _media_trial(client, test_dir)
    urls = [s["url"] for s in state["trial"]["stimuli"]] + [ref]
    responses = {u: client.get(u) for u in urls}
    for r in responses.values():
        assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
        assert "etag" not in r.headers and "last-modified" not in r.headers
    assert len({r.headers["content-length"] for r in responses.values()}) == 1
    assert len({hashlib.sha256(r.content).hexdigest() for r in responses.values()}) == len(urls)
    decoded = {u: sf.read(io.BytesIO(r.content), dtype="int16")[0] for u, r in responses.items()}
    assert len({hashlib.sha256(x.tobytes()).hexdigest() for x in decoded.values()}) == len(urls)
    # what is heard is the file to within 1 LSB (16-bit), and the same URL gives the same bytes
    test = load_test(test_dir)
    on_disk, _ = sf.read(test_dir / test.trial("training1").reference, dtype="int16")
    for u in (hidden, ref):
        diff = np.abs(decoded[u].astype(int) - on_disk.astype(int))
        assert diff.max() == 1 and (diff > 0).mean() > 0.2
        assert not decoded[u][on_disk == 0].any()  # digital silence stays silent
        assert client.get(u).content == responses[u].content
    part = client.get(state["trial"]["stimuli"][0]["url"], headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.headers["content-range"].startswith("bytes 100-199/")
    assert part.content == responses[state["trial"]["stimuli"][0]["url"]].content[100:200]
    assert client.get(ref, headers={"Range": "bytes=999999999-"}).status_code == 416


def test_head_on_media(test_dir: Path) -> None:
    """HEAD /api/media/<token> answers like GET without a body (was 405)."""
    client = TestClient(create_app(test_dir))
    state = _join(client, test_dir)
    url = state["trial"]["stimuli"][0]["url"]
    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(client.get(url).content))
    assert client.head("/api/media/not-a-token").status_code == 404


def test_times_for_unknown_tokens_refused(test_dir: Path) -> None:
    """``times`` for a key that is not one of the trial's stimuli: 422 (was accepted and dropped)."""
    client = TestClient(create_app(test_dir))
    state = _join(client, test_dir)
    body = {"nonce": state["trial"]["nonce"], "ratings": _ratings(state), "times": {"bogus": 5}}
    r = client.post("/api/submit", json=body)
    assert r.status_code == 422 and "times" in r.json()["error"]
    body["times"] = {state["trial"]["stimuli"][0]["id"]: 1234.6}
    assert client.post("/api/submit", json=body).status_code == 200


def test_analyze_does_not_write_into_a_test_without_ratings(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A read-only command: `mushra analyze DIR` of an unserved test says so and creates no ratings.sqlite."""
    from anim400k.cli import main

    fresh = make_mushra_test(tmp_path)
    before = sorted(p.name for p in fresh.iterdir())
    assert main(["mushra", "analyze", str(fresh), "--out", str(tmp_path / "rep")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no ratings yet" in err
    assert sorted(p.name for p in fresh.iterdir()) == before
    # with ratings: read through the store without creating files beside it
    client = TestClient(create_app(fresh))
    state = _join(client, fresh)
    while not state["finished"]:
        body = {"nonce": state["trial"]["nonce"], "ratings": _ratings(state)}
        assert client.post("/api/submit", json=body).is_success
        state = client.get("/api/state").json()
    client.close()
    before = sorted(p.name for p in fresh.iterdir())
    assert main(["mushra", "analyze", str(fresh), "--out", str(tmp_path / "rep")]) == 0
    assert sorted(p.name for p in fresh.iterdir()) == before
