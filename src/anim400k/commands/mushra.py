"""``anim400k mushra``: create, serve, invite and analyse MUSHRA listening tests."""

from __future__ import annotations

from pathlib import Path

import typer

#: connections (and requests in flight) the MUSHRA server holds at once; more are answered 503 at once
MAX_CONNECTIONS = 1000

#: Quietest ``--lufs``: stimuli below it would be close to inaudible (and 0 LUFS is full scale).
MIN_LUFS = -70.0

mushra_app = typer.Typer(
    help="MUSHRA listening tests of dubs: create, serve, invite, revoke, analyze.", no_args_is_help=True
)


@mushra_app.command("create")
def create(
    dataset: Path = typer.Argument(None, help="Release folder (or annotations file) with the gold EN clips."),
    out: Path = typer.Option(..., "--out", help="Test folder to create (must not exist or be empty)."),
    systems: list[str] = typer.Option(
        [], "--systems", help="NAME=DIR of a dub system (DIR/F/UUID.mp3); repeat."
    ),
    trials: int = typer.Option(10, "--trials", help="Rated trials."),
    seed: int = typer.Option(0, "--seed", help="Seed of the trial choice."),
    training_trials: int | None = typer.Option(
        None, "--training-trials", help="Training trials, not analysed (default 1; 0 with --from-webmushra)."
    ),
    split: str = typer.Option("test", "--split", help="Split to draw clips from: train/validation/test/all."),
    sample_rate: int = typer.Option(48000, "--sample-rate", help="Sample rate of the stimuli."),
    lufs: float | None = typer.Option(
        None, "--lufs", help="Loudness every stimulus is matched to (LUFS, -70 to 0; refused if one would clip). "
        "Default -23, lowered for the whole test (with a warning) where a stimulus would clip at -23.",
    ),
    name: str | None = typer.Option(None, "--name", help="Test name shown to listeners."),
    from_webmushra: Path | None = typer.Option(
        None, "--from-webmushra", help="Import a webMUSHRA YAML config."
    ),
    webmushra_prefix: str = typer.Option(
        "", "--webmushra-prefix", help="Prefix of audio paths in webmushra.yaml."
    ),
) -> None:
    """Render a test: hidden reference, 3.5/7 kHz anchors and every system, loudness matched."""
    from ..errors import InputError, check_number
    from ..evaluate.mushra_create import create_from_webmushra, create_test, parse_systems
    from ..fsutil.no_clobber import refuse_overwriting

    refuse_overwriting({"--out": out}, {"DATASET": dataset, "--from-webmushra": from_webmushra})

    if lufs is not None:
        check_number("--lufs", lufs, MIN_LUFS, 0.0)
    warn = lambda m: typer.echo(f"warning: {m}", err=True)  # noqa: E731
    if from_webmushra is not None:
        test = create_from_webmushra(
            from_webmushra, out, sample_rate, lufs, training_trials or 0, webmushra_prefix, warn=warn
        )
    else:
        if dataset is None:
            raise InputError("give a DATASET (or --from-webmushra CONFIG)")
        test = create_test(
            dataset,
            parse_systems(systems),
            out,
            trials,
            seed,
            1 if training_trials is None else training_trials,
            sample_rate,
            lufs,
            split,
            name,
            webmushra_prefix,
            progress=lambda m: typer.echo(f"  {m}", err=True),
            warn=warn,
        )
    typer.echo(
        f"{out}: {len(test.trials)} trials + {len(test.training)} training, "
        f"conditions {', '.join(test.conditions)}"
    )


@mushra_app.command("serve")
def serve(
    test_dir: Path = typer.Argument(..., help="Test folder made by `mushra create`."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Interface to bind (localhost unless told otherwise)."
    ),
    port: int = typer.Option(8000, "--port", help="Port to listen on (0: any free port; the links name it)."),
    invite: int = typer.Option(1, "--invite", help="Invitation links to print at start-up (0 or more)."),
    public_url: str | None = typer.Option(None, "--public-url", help="Base URL printed in links."),
) -> None:
    """Serve the listening test; prints invitation links and the admin link."""
    import uvicorn

    from ..errors import check_number
    from ..evaluate.mushra_app import admin_token, create_app, make_invite, read_secret
    from ..evaluate.mushra_server import http_url, listen_socket

    check_number("--invite", invite, 0)  # a negative count printed no link, silently
    app = create_app(test_dir)
    secret = read_secret(test_dir)
    sock = listen_socket(host, port)  # a busy port fails here, before any link is printed
    port = int(sock.getsockname()[1])
    base = (public_url or http_url(host, port)).rstrip("/")
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(
            f"warning: listening on {host}: anyone who can reach it and holds a link can take part; "
            "the server speaks plain HTTP, so put it behind an HTTPS reverse proxy (--public-url https://...) "
            "before sending links over the internet",
            err=True,
        )
    for _ in range(max(0, invite)):
        typer.echo(f"invite: {base}/join/{make_invite(secret)}")
    typer.echo(f"admin:  {base}/admin?token={admin_token(secret)}")
    if public_url:  # the links name the proxy: say where it must forward to (with --port 0, printed nowhere else)
        typer.echo(f"listening: {http_url(host, port)} (the links use --public-url)")
    # at most MAX_CONNECTIONS open at once: the ones past it get 503 at once, where 19,990 idle sockets used up the
    # process's file descriptors and every other client got 500 with "Too many open files" tracebacks
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           limit_concurrency=MAX_CONNECTIONS))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


@mushra_app.command("invite")
def invite(
    test_dir: Path = typer.Argument(..., help="Test folder."),
    count: int = typer.Option(1, "--count", "-n", help="How many links."),
    base_url: str = typer.Option(
        "http://127.0.0.1:8000", "--base-url", help="Server URL the links point to."
    ),
    admin: bool = typer.Option(False, "--admin", help="Also print the admin link."),
) -> None:
    """Print new invitation links (each link is one listener; reopening it resumes)."""
    from urllib.parse import urlsplit

    from ..errors import InputError, check_number
    from ..evaluate.mushra_app import admin_token, make_invite, read_secret
    from ..evaluate.mushra_config import load_test

    check_number("--count", count, 1 if not admin else 0)
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"--base-url must be an http:// or https:// URL with a host (the server listeners open), "
                         f"not {base_url!r}")
    load_test(test_dir)
    secret = read_secret(test_dir)
    for _ in range(count):
        typer.echo(f"{base_url.rstrip('/')}/join/{make_invite(secret)}")
    if admin:
        typer.echo(f"admin: {base_url.rstrip('/')}/admin?token={admin_token(secret)}")


@mushra_app.command("revoke")
def revoke(
    test_dir: Path = typer.Argument(..., help="Test folder."),
    links: list[str] = typer.Argument(..., help="Invitation links (or their tokens) to revoke."),
) -> None:
    """Revoke invitation links: they no longer join and their sessions stop at once (ratings are kept)."""
    from ..errors import InputError
    from ..evaluate.mushra_app import read_invite, read_secret
    from ..evaluate.mushra_config import STORE_FILE, load_test
    from ..evaluate.mushra_store import MushraStore

    load_test(test_dir)
    secret = read_secret(test_dir)
    invites = []
    for link in links:
        invite = read_invite(secret, link.rstrip("/").rsplit("/", 1)[-1])
        if invite is None:
            raise InputError(f"{link!r} is not an invitation link of this test (nothing was revoked)", test_dir)
        invites.append(invite)
    store = MushraStore(Path(test_dir) / STORE_FILE)
    for link, invite in zip(links, invites, strict=True):
        lid = store.revoke(invite)
        typer.echo(f"revoked: {link}" + (f" (listener {lid}; their ratings are kept)" if lid else " (never used)"))


@mushra_app.command("analyze")
def analyze(
    source: Path = typer.Argument(..., help="Test folder (its ratings) or a webMUSHRA mushra.csv."),
    out: Path = typer.Option(..., "--out", help="Report folder."),
    post_screening: bool = typer.Option(
        True, "--post-screening/--no-post-screening",
        help="Exclude listeners by BS.1534-3 post-screening (off: reported, nobody excluded).",
    ),
) -> None:
    """Post-screen (BS.1534-3), summarise per condition and item, Friedman + Wilcoxon (Holm), write a report."""
    from rich.console import Console
    from rich.table import Table

    from ..console_text import shown
    from ..evaluate.mushra_analysis import analyze as run
    from ..evaluate.mushra_analysis import fmt_num, fmt_p
    from ..fsutil.writable import check_writable

    check_writable({}, {"--out": out})  # a file there was 'OUT: File exists'
    a = run(source, out, post_screening=post_screening)
    table = Table(
        title=f"MUSHRA {shown(a.test_id)}: {a.n_ratings_used} ratings, {len(a.excluded)} listener(s) excluded"
        + ("" if a.post_screening else " (post-screening off)")
    )
    for col in ("condition", "n", "mean", "95% CI", "listeners", "95% CI (listeners)", "median"):
        table.add_column(col)
    for s in a.stats:
        table.add_row(
            shown(s.condition),
            str(s.n),
            fmt_num(s.mean),
            f"\\[{fmt_num(s.ci95_low)}, {fmt_num(s.ci95_high)}]",
            str(s.n_listeners),
            f"\\[{fmt_num(s.ci95_listeners_low)}, {fmt_num(s.ci95_listeners_high)}]",
            fmt_num(s.median),
        )
    console = Console()
    console.print(table)
    for label, f in (("conditions", a.friedman), ("systems", a.friedman_systems)):
        if f is not None:
            console.print(
                f"Friedman across {label} ({len(f.conditions)}, {f.n_listeners} listeners): "
                f"chi2={f.statistic:.2f} p={f.p:.3g}" + (" *" if f.significant else "")
            )
    for t in a.tests:
        console.print(
            f"{shown(t.a)} vs {shown(t.b)}: n={t.n} Δ={fmt_num(t.mean_diff, sign=True)} p={fmt_p(t.p, 3)} "
            f"p_holm={fmt_p(t.p_holm, 3)}"
            + (" *" if t.significant else "")
            + f"; over {t.n_listeners} listeners p_holm={fmt_p(t.p_listeners_holm, 3)}"
            + (" *" if t.significant_listeners else "")
        )
    console.print(f"report: {shown(str(a.files['html']))}")


def register(app: typer.Typer) -> None:
    """Add the ``mushra`` command group."""
    app.add_typer(mushra_app, name="mushra")
