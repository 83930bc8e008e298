"""End to end: a real listener drives the MUSHRA page in headless Chromium (Playwright).

Screenshots go to a temporary folder, or to ``$ANIM400K_SCREENSHOTS`` (e.g. docs/screenshots).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

from anim400k.evaluate.mushra_analysis import analyze
from anim400k.evaluate.mushra_app import admin_token, make_invite, read_secret
from anim400k.evaluate.mushra_config import STORE_FILE
from anim400k.evaluate.mushra_create import create_test
from anim400k.evaluate.mushra_server import BackgroundServer
from anim400k.evaluate.mushra_store import MushraStore
from anim400k.testing.demo_release import make_demo_release, make_demo_systems

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

GOOD = {"reference": 100, "anchor70": 55, "anchor35": 20, "close": 85, "tts": 45}
BAD = {"reference": 60, "anchor70": 95, "anchor35": 50, "close": 70, "tts": 70}

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")


@pytest.fixture(scope="module")
def test_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mushra_e2e")
    release = make_demo_release(root / "release", n_clips=3, sr=16000, video=True)
    systems = make_demo_systems(release, root / "systems")
    out = root / "test"
    create_test(
        release.root, systems, out, trials=2, seed=1, training_trials=1, sample_rate=16000, split="all"
    )
    return out


@pytest.fixture(scope="module")
def server(test_dir: Path):
    with BackgroundServer(test_dir) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    try:
        pw = sync_api.sync_playwright().start()
    except Exception as exc:  # the bundled node driver did not start
        pytest.fail(f"playwright driver failed to start: {exc}")
    b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    yield b
    b.close()
    pw.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("ANIM400K_SCREENSHOTS")
    path = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _rate_current_trial(page, store: MushraStore, scores: dict[str, int], shot: Path | None = None) -> str:
    """Play every stimulus, set the sliders to ``scores`` by condition, submit; returns the title."""
    page.wait_for_selector("#view-trial:not([hidden])")
    title = page.text_content("#trial-title")
    page.click("#btn-ref")
    assert page.is_disabled("#submit")
    sliders = page.locator("input.rating-slider")
    buttons = page.locator(".column:not(.ref) button.stim")
    n = sliders.count()
    assert n == len(scores) and buttons.count() == n
    for i in range(n):
        buttons.nth(i).click()
        token = sliders.nth(i).get_attribute("data-stim")
        target = store.resolve(token)
        assert target is not None and target.kind == "stimulus"
        if i < n - 1:
            assert page.is_disabled("#submit")  # not everything played and rated yet
        sliders.nth(i).fill(str(scores[target.condition]))
    assert page.locator("button.stim.played").count() == n
    page.wait_for_selector("#submit:not([disabled])")
    if shot is not None:
        page.wait_for_timeout(300)
        page.screenshot(path=str(shot), full_page=True)
    page.click("#submit")
    # The next trial (or the end) replaces this one asynchronously: wait for it, or a loaded machine
    # lets the next call see this trial's enabled submit button before the page moves on.
    page.wait_for_function(
        "t => document.querySelector('#view-trial').hidden"
        " || document.querySelector('#trial-title').textContent !== t",
        arg=title,
    )
    return title


def _listener_of_page(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "mushra_session")


def _listener_page(browser, server: BackgroundServer, test_dir: Path) -> tuple[object, object, list[str]]:
    """A new listener's browser context and page at a fresh invitation, and the list its page errors go to."""
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.url}/join/{make_invite(read_secret(test_dir))}")
    return ctx, page, errors


def test_listener_flow_resume_and_analysis(
    test_dir: Path, server: BackgroundServer, browser, shots: Path
) -> None:
    secret = read_secret(test_dir)
    store = MushraStore(test_dir / STORE_FILE)

    # --- a good listener, in the browser, reloading mid-way -----------------------------------
    ctx, page, errors = _listener_page(browser, server, test_dir)
    page.wait_for_selector("#view-instructions:not([hidden])")
    assert "Excellent 80–100" in page.text_content("#view-instructions")
    page.screenshot(path=str(shots / "instructions.png"), full_page=True)
    page.click("#start")
    html = page.content()
    for secret_name in ("anchor35", "anchor70", "tts.wav", "close.wav", "reference.wav"):
        assert secret_name not in html
    assert _rate_current_trial(page, store, GOOD, shots / "training.png").startswith("Training 1 of 1")
    page.wait_for_selector("#view-break:not([hidden])")
    page.click("#start-test")
    first = _rate_current_trial(page, store, GOOD, shots / "trial.png")
    assert first == "Trial 1 of 2"
    page.wait_for_selector("#view-trial:not([hidden])")
    page.wait_for_selector("#trial-title:text-is('Trial 2 of 2')")
    page.locator(".column:not(.ref) button.stim").first.click()  # start the trial, then leave
    page.reload()
    page.wait_for_selector("#view-trial:not([hidden])")
    assert page.text_content("#trial-title") == "Trial 2 of 2"  # resumed where it left off
    assert page.locator("button.stim.played").count() == 1  # the draft survived the reload
    _rate_current_trial(page, store, GOOD)
    page.wait_for_selector("#view-finished:not([hidden])")
    page.screenshot(path=str(shots / "finish.png"), full_page=True)
    assert errors == []
    ctx.close()

    # --- a careless listener (post-screening must exclude), also in the browser ----------------
    ctx2 = browser.new_context(viewport={"width": 1200, "height": 900})
    page2 = ctx2.new_page()
    page2.goto(f"{server.url}/join/{make_invite(secret)}")
    page2.click("#start")
    _rate_current_trial(page2, store, BAD)
    page2.click("#start-test")
    _rate_current_trial(page2, store, BAD)
    _rate_current_trial(page2, store, BAD)
    page2.wait_for_selector("#view-finished:not([hidden])")
    ctx2.close()

    # --- admin page and export ----------------------------------------------------------------
    ctx3 = browser.new_context(viewport={"width": 1100, "height": 700})
    page3 = ctx3.new_page()
    resp = page3.goto(f"{server.url}/admin")
    assert resp.status == 403
    page3.goto(f"{server.url}/admin?token={admin_token(secret)}")
    assert page3.locator("#progress tbody tr").count() == 2
    assert page3.text_content("#n-ratings") == "20"  # 2 listeners x 2 trials x 5 conditions
    page3.screenshot(path=str(shots / "admin.png"), full_page=True)
    ctx3.close()
    csv_text = httpx.get(
        f"{server.url}/admin/export.csv", headers={"Authorization": f"Bearer {admin_token(secret)}"}
    ).text
    assert csv_text.splitlines()[0].startswith(
        "session_test_id,listener,session_uuid,trial_id,rating_stimulus,rating_score"
    )
    assert len(csv_text.strip().splitlines()) == 21

    # --- analysis reproduces what was entered ------------------------------------------------
    analysis = analyze(test_dir, test_dir.parent / "report")
    progress = store.progress()
    assert len(progress) == 2 and all(p.finished for p in progress)
    assert len(analysis.excluded) == 1
    bad = analysis.excluded[0]
    good = next(p.listener for p in progress if p.listener != bad)
    assert all(r.score == BAD[r.condition] for r in store.ratings() if r.listener == bad)
    means = {s.condition: s.mean for s in analysis.stats}
    assert means == {k: float(v) for k, v in GOOD.items()}
    assert all(s.n == 2 for s in analysis.stats)
    assert {r.listener for r in store.ratings()} == {good, bad}
    assert (test_dir.parent / "report" / "report.html").is_file()
    assert (test_dir.parent / "report" / "ratings.png").stat().st_size > 1000
    if os.environ.get("ANIM400K_SCREENSHOTS"):
        shutil.copyfile(test_dir.parent / "report" / "ratings.png", shots / "report_plot.png")


def test_rating_zero_a_failed_submit_listening_times_and_the_loop(
    test_dir: Path, server: BackgroundServer, browser
) -> None:
    """What an outside tester found driving the page (2026-12-07): an untouched slider clicked at 0 or set by
    Home stayed unrated; a submit the network dropped left the button disabled for good; ``rating_time`` was the
    time since the trial was shown (0 after a reload), not the time the stimulus was heard; unticking Loop
    moved the playhead back to the start."""
    store = MushraStore(test_dir / STORE_FILE)
    ctx, page, errors = _listener_page(browser, server, test_dir)
    page.click("#start")
    page.wait_for_selector("#view-trial:not([hidden])")
    sliders = page.locator("input.rating-slider")
    values = page.locator(".column:not(.ref) output.value")
    buttons = page.locator(".column:not(.ref) button.stim")
    n = sliders.count()

    box = sliders.nth(0).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] - 1)  # its bottom end (vertical): 0
    assert values.nth(0).text_content() == "0" and "unrated" not in sliders.nth(0).get_attribute("class")
    sliders.nth(1).focus()
    page.keyboard.press("Home")  # already at 0: no input event, still a rating
    assert values.nth(1).text_content() == "0"
    assert page.locator("input.rating-slider.unrated").count() == n - 2

    token = sliders.nth(2).get_attribute("data-stim")
    buttons.nth(2).click()
    page.wait_for_timeout(700)
    page.click("#stop")
    heard = page.evaluate("() => Object.fromEntries(heardTimes())")
    assert 500 <= heard[token] <= 5000 and all(v == 0 for k, v in heard.items() if k != token)
    page.reload()  # the time heard is kept with the draft
    page.wait_for_selector("#view-trial:not([hidden])")
    assert page.evaluate("() => Object.fromEntries(heardTimes())")[token] == pytest.approx(heard[token], abs=1)
    assert page.locator(".column:not(.ref) output.value").nth(0).text_content() == "0"

    # the loop: unticking it while playing continues from where the loop had got to
    page.evaluate("() => { const a = document.querySelector('#loop-start'), b = document.querySelector('#loop-end');"
                  " a.value = 400; b.value = 600; document.querySelector('#loop').checked = true;"
                  " a.dispatchEvent(new Event('input')); }")
    page.locator(".column:not(.ref) button.stim").nth(2).click()
    duration = page.evaluate("() => S.duration")
    page.wait_for_timeout(int(1000 * 0.2 * duration * 1.5))  # past the loop's end at least once
    before = page.evaluate("() => position()")
    page.click("#loop")
    after = page.evaluate("() => position()")
    assert 0.4 * duration - 0.05 <= before <= 0.6 * duration + 0.05
    assert after >= before - 0.05, (before, after)  # it jumped back towards the start
    page.click("#stop")

    # a submit the network drops: an error, the button usable again, nothing lost
    sliders = page.locator("input.rating-slider")
    buttons = page.locator(".column:not(.ref) button.stim")
    for i in range(n):
        buttons.nth(i).click()
        if i >= 2:
            sliders.nth(i).fill(str(10 * i))
    page.click("#stop")
    page.route("**/api/submit", lambda route: route.abort())
    page.click("#submit")
    page.wait_for_selector("#error:not([hidden])")
    assert "Could not reach the server" in page.text_content("#error")
    assert not page.is_disabled("#submit")
    page.unroute("**/api/submit")
    title = page.text_content("#trial-title")
    page.click("#submit")
    page.wait_for_function("t => document.querySelector('#view-trial').hidden"
                           " || document.querySelector('#trial-title').textContent !== t", arg=title)
    target = store.resolve(token)
    stored = [r for r in store.ratings(include_training=True)
              if (r.listener, r.trial) == (target.listener, target.trial)]
    assert len(stored) == n
    by_condition = {r.condition: r for r in stored}
    assert sorted(r.score for r in stored)[:2] == [0, 0]
    assert by_condition[target.condition].time_ms >= 500  # the time heard, kept over the reload
    assert errors == []
    ctx.close()
