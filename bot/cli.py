"""The `newsbot` command: ingest, ask, chat, sources, forget.

Only typer, rich and the settings load at start-up; each command imports the heavy libraries
(torch, sentence-transformers, chromadb) it needs, so `newsbot --help` answers at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from bot.settings import Settings
from bot.texts import ingest_counts, interval
from bot.wiring import (
    bot_config,
    chunk_limits,
    configure_logging,
    feed_registry,
    fetch_policy,
    open_index,
    poll_limits,
)

if TYPE_CHECKING:
    from retrieval import NewsIndex, SearchFilters

app = typer.Typer(
    help="Answer questions about news coverage, quoting and citing the articles it has read.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _settings() -> Settings:
    try:
        settings = Settings()
    except Exception as exc:  # pydantic's ValidationError lists every bad setting
        err.print(f"[red]Invalid settings:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    configure_logging(settings)
    return settings


@contextmanager
def _index(
    settings: Settings, *, as_json: bool = False, as_of: date | None = None
) -> Iterator[NewsIndex]:
    """Open the index, turning the errors a user can fix into one clear line (exit code 2);
    with `as_json` that line is printed as {"error": ...}, so a script always gets JSON."""
    from retrieval import DataDirBusyError, EmbedderError, StoreError

    try:
        index = open_index(settings, as_of=as_of)
    except (DataDirBusyError, StoreError, EmbedderError) as exc:
        _fail(str(exc), as_json=as_json, cause=exc)
    try:
        yield index
    except (StoreError, EmbedderError) as exc:
        _fail(str(exc), as_json=as_json, cause=exc)
    finally:
        index.close()


def _fail(message: str, *, as_json: bool, cause: BaseException | None = None) -> NoReturn:
    """Print an error the user can act on, as JSON or as one line, and exit with code 2."""
    if as_json:
        out.print_json(json.dumps({"error": message}, ensure_ascii=False))
    else:
        err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(2) from cause


def _filters(outlet: list[str] | None, since: str | None, until: str | None) -> SearchFilters:

    from retrieval import option_filters

    try:
        return option_filters(
            outlet or (), since, until, date.today(), names=("--since", "--until")
        )
    except ValueError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from exc


@app.command()
def ingest(
    paths: Annotated[
        list[str], typer.Argument(help="Files, folders (searched recursively) and article URLs.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Add articles from files, folders (.txt .md .html .json .jsonl) and web pages."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from ingest.pipeline import ingest_paths, ingest_urls, is_url

    urls = [p for p in paths if is_url(p)]
    files = [Path(p) for p in paths if not is_url(p)]

    settings = _settings()
    with (
        _index(settings, as_json=as_json) as index,
        Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files · {task.fields[stored]} articles"),
            console=err,
            transient=True,
            disable=as_json or not err.is_terminal,
        ) as progress,
    ):
        task = progress.add_task("Ingesting", total=None, stored=0)
        try:
            report = ingest_paths(
                index,
                files,
                limits=chunk_limits(settings),
                max_bytes=settings.max_file_bytes,
                on_start=lambda n: progress.update(task, total=n),
                on_file=lambda name: progress.advance(task),
                on_stored=lambda n: progress.update(
                    task, stored=progress.tasks[task].fields["stored"] + n
                ),
            )
            if urls:
                policy = fetch_policy(settings)
                report.merge(ingest_urls(index, urls, policy=policy, limits=chunk_limits(settings)))
        except KeyboardInterrupt:
            err.print(
                "[yellow]Interrupted.[/yellow] Articles already stored are complete; "
                "run the same command again to finish the rest."
            )
            raise typer.Exit(130) from None
    if as_json:
        out.print_json(json.dumps(report.as_dict()))
    else:
        style = "red" if report.failed else "green"
        out.print(f"{report.files} file(s): {ingest_counts(report)}", style=style, highlight=False)
        for origin, reason in report.failed:
            out.print(f"  [red]✗[/red] {escape(f'{origin}: {reason}')}", highlight=False)
        for origin, note in report.warnings:
            out.print(f"  [yellow]![/yellow] {escape(f'{origin}: {note}')}", highlight=False)
        if report.error:
            err.print(f"[red]error:[/red] {escape(report.error)}", highlight=False)
    if report.error:
        raise typer.Exit(2)
    if report.failed:
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    outlet: Annotated[list[str] | None, typer.Option(help="Only this outlet (repeatable).")] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Published on or after: 2025-12-06, 'November 2023', 'last week'…"),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Published on or before: 2025-12-06, 'November 2023'…")
    ] = None,
) -> None:
    """Answer a question with quotes and numbered citations."""
    from bot.render import answer_text

    filters = _filters(outlet, since, until)
    settings = _settings()
    with _index(settings, as_json=as_json) as index:
        answer = index.ask(question, filters=filters)
    if as_json:
        out.print_json(json.dumps(answer.as_dict(), ensure_ascii=False))
    else:
        out.print(answer_text(answer), markup=False, highlight=False)


@app.command()
def chat() -> None:
    """Talk with the index in the terminal (an empty line, 'exit' or Ctrl-D ends)."""
    from bot.render import answer_text

    settings = _settings()
    with _index(settings) as index:
        count = len(index.articles())
        out.print(f"newsbot — {count} article(s) indexed. Ask about the coverage; 'exit' ends.")
        history: list[tuple[str, str]] = []
        while True:
            try:
                question = out.input("[bold cyan]you>[/bold cyan] ").strip()
            except (EOFError, KeyboardInterrupt):
                out.print()
                return
            if question.lower() in {"", "exit", "quit"}:
                return
            answer = index.ask(question, history=history)
            out.print(answer_text(answer), markup=False, highlight=False)
            out.print()
            history.extend([("user", question), ("assistant", answer.text)])


@app.command()
def run(
    chat_without_token: Annotated[
        bool,
        typer.Option(
            "--chat-without-token", help="Open the terminal chat when no Discord token is set."
        ),
    ] = False,
) -> None:
    """Start the Discord bot (NEWSBOT_DISCORD_TOKEN); see the README for the setup."""
    settings = _settings()
    if settings.discord_token is None:
        if chat_without_token:
            chat()
            return
        err.print(
            "[red]error:[/red] NEWSBOT_DISCORD_TOKEN is not set. Create a bot in Discord's "
            "developer portal (see the README) and put its token in .env."
        )
        raise typer.Exit(2)
    from bot.discord_app import NewsBot, point_at
    from bot.feedback import FeedbackStore

    point_at(settings.discord_api_base, settings.discord_gateway_url)
    config = bot_config(settings)
    with _index(settings) as index:
        index.warm_up()  # the model and the keyword index, before the first question
        feedback = FeedbackStore(settings.data_dir / "feedback.sqlite3")
        bot = NewsBot(index, feedback, config, feeds=feed_registry(settings))
        bot.run(settings.discord_token.get_secret_value(), log_handler=None)


@app.command()
def sources(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the ingested articles, newest first."""
    from bot.render import article_row

    settings = _settings()
    with _index(settings, as_json=as_json) as index:
        rows = [article_row(info) for info in index.articles()]
    if as_json:
        out.print_json(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(
        "id",
        "date",
        "outlet",
        "headline",
        "passages",
        "also published by",
        title=f"{len(rows)} article(s)",
    )
    for row in rows:
        date = str(row["published_at"] or "")[:10]
        # Text, not str: a headline's "[/]" or "[bold]" is shown as written, never as markup.
        table.add_row(
            str(row["article_id"]),
            date,
            Text(str(row["outlet"] or "")),
            Text(str(row["title"])),
            str(row["passages"]),
            Text(", ".join(str(p["outlet"] or p["url"]) for p in row["also_published"])),  # type: ignore[attr-defined]
        )
    out.print(table)


@app.command()
def forget(
    article_id: Annotated[str, typer.Argument(help="An id from `newsbot sources`.")],
) -> None:
    """Remove one article and all its passages."""
    settings = _settings()
    with _index(settings) as index:
        removed = index.forget(article_id)
        if removed:
            index.refresh()
    if not removed:
        err.print(f"[red]error:[/red] no article with id {article_id!r} (see `newsbot sources`)")
        raise typer.Exit(1)
    out.print(f"Removed article {article_id} and its passages.")


eval_app = typer.Typer(help="Measure retrieval and answers on a benchmark.")
app.add_typer(eval_app, name="eval")


@eval_app.command("multihop")
def eval_multihop(  # noqa: PLR0917 - typer passes each option positionally
    corpus: Annotated[Path, typer.Option(help="MultiHop-RAG corpus.json.")],
    queries: Annotated[Path, typer.Option(help="MultiHop-RAG queries (e.g. queries-dev.json).")],
    index_dir: Annotated[
        Path | None,
        typer.Option("--index", help="Data directory of the index (default: temporary)."),
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write one JSON line per query here.")
    ] = None,
    k: Annotated[int, typer.Option(help="Passages retrieved per query.")] = 10,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Resolve relative dates against this day.")
    ] = None,
) -> None:
    """Score the bot's search on MultiHop-RAG with the authors' rules (Hits@k, MRR, MAP)."""
    import tempfile
    import time

    from ingest.pipeline import ingest_paths
    from retrieval import evaluate, iso_date

    base = _settings()
    day = iso_date(as_of) if as_of else None
    if as_of and not day:
        err.print(f"[red]error:[/red] --as-of wants a date like 2023-12-31, not {as_of!r}")
        raise typer.Exit(2)
    data_dir = index_dir or Path(tempfile.mkdtemp(prefix="newsbot-eval-"))
    settings = base.model_copy(
        update={"data_dir": data_dir, "chroma_path": None, "chroma_host": None}
    )
    items = json.loads(queries.read_text(encoding="utf-8"))
    with _index(settings, as_of=date.fromisoformat(day) if day else None) as index:
        started = time.perf_counter()
        report = ingest_paths(index, [corpus], limits=chunk_limits(settings), max_bytes=1 << 30)
        err.print(
            f"index {data_dir}: {report.added} added, {report.unchanged} unchanged, "
            f"{len(report.failed)} failed ({time.perf_counter() - started:.0f} s)"
        )
        run = evaluate(index, items, k=k)
    if out_file:
        lines = [json.dumps(line) for line in run.retrieved]
        out_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary, per_query = run.summary, run.seconds_per_query
    table = Table("queries", "n", "Hits@4", "Hits@10", "MRR@10", "MAP@10", title="MultiHop-RAG")
    for name, n, h4, h10, mrr, mapk in summary.table():
        table.add_row(name, str(n), f"{h4:.3f}", f"{h10:.3f}", f"{mrr:.3f}", f"{mapk:.3f}")
    out.print(table)
    refused = summary.null_refused / summary.null_total if summary.null_total else 0.0
    out.print(
        f"null queries answered 'the coverage doesn't say': {summary.null_refused}/"
        f"{summary.null_total} ({refused:.0%}); {per_query * 1000:.0f} ms per query"
    )


feeds_app = typer.Typer(help="Subscribe to RSS/Atom feeds; new entries are fetched and ingested.")
app.add_typer(feeds_app, name="feeds")


@feeds_app.command("add")
def feeds_add(
    url: Annotated[str, typer.Argument(help="The feed's URL (RSS or Atom).")],
    every: Annotated[
        str | None, typer.Option(help="How often to poll: 30m, 2h, 1d (default: setting).")
    ] = None,
) -> None:
    """Subscribe to a feed (re-adding changes its interval)."""
    from ingest.subscriptions import parse_interval

    settings = _settings()
    try:
        seconds = parse_interval(every or settings.feed_default_every)
        feed = feed_registry(settings).add(url, seconds)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    out.print(
        f"Subscribed to {feed.url}, polled every {interval(feed.every_seconds)}.", markup=False
    )


@feeds_app.command("list")
def feeds_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the subscribed feeds."""
    feeds = feed_registry(_settings()).list()
    if as_json:
        rows = [
            {
                "url": f.url,
                "title": f.title,
                "every_seconds": f.every_seconds,
                "last_polled": f.last_polled,
                "seen": len(f.seen),
            }
            for f in feeds
        ]
        out.print_json(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("url", "title", "every", "last polled", "entries seen")
    for f in feeds:
        table.add_row(
            Text(f.url),
            Text(f.title or ""),  # a feed's own title: shown as written, never as markup
            interval(f.every_seconds),
            f.last_polled or "never",
            str(len(f.seen)),
        )
    out.print(table)


@feeds_app.command("remove")
def feeds_remove(url: Annotated[str, typer.Argument(help="The feed's URL.")]) -> None:
    """Unsubscribe from a feed (its articles stay in the index)."""
    if not feed_registry(_settings()).remove(url):
        err.print(f"[red]error:[/red] not subscribed to {escape(url)} (see `newsbot feeds list`)")
        raise typer.Exit(1)
    out.print(f"Unsubscribed from {url}.", markup=False)


@feeds_app.command("poll")
def feeds_poll() -> None:
    """Poll every subscribed feed once, now, and ingest the new entries."""
    from ingest.feeds import poll_feed

    settings = _settings()
    registry = feed_registry(settings)
    failed = False
    with _index(settings) as index:
        for feed in registry.list():
            report = poll_feed(
                registry,
                feed.url,
                sink=index,
                limits=chunk_limits(settings),
                policy=fetch_policy(settings),
                poll_limits=poll_limits(settings),
            )
            out.print(
                f"{feed.url}: {ingest_counts(report)}, {report.skipped} seen before, "
                f"{report.deferred} left for later",
                markup=False,
            )
            for note in report.notes:
                out.print(f"  note: {note}", markup=False, highlight=False)
            for origin, reason in report.failed:
                out.print(f"  [red]✗[/red] {escape(f'{origin}: {reason}')}", highlight=False)
            failed = failed or bool(report.failed)
    if failed:
        raise typer.Exit(1)


if __name__ == "__main__":  # pragma: no cover
    app()
