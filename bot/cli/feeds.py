"""`newsbot feeds`: subscribe to RSS/Atom feeds and poll them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from bot.cli.common import (
    app,
    catch_up_follows,
    err,
    fail,
    follows_json,
    load_settings,
    open_cli_index,
    out,
    print_follows,
)
from bot.texts import ingest_counts, interval
from bot.wiring import feed_registry

if TYPE_CHECKING:
    from ingest.feeds import PollReport

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

    settings = load_settings()
    try:
        seconds = parse_interval(every or settings.feeds.default_every)
        feed = feed_registry(settings).add(url, seconds)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    except OSError as exc:  # a read-only or full data directory
        fail(
            f"cannot save the feed list in {settings.data_dir}: {exc.strerror or exc}",
            as_json=False,
        )
    out.print(
        f"Subscribed to {feed.url}, polled every {interval(feed.every_seconds)}.", markup=False
    )


@feeds_app.command("list")
def feeds_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the subscribed feeds."""
    feeds = feed_registry(load_settings()).list()
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
    settings = load_settings()
    try:
        removed = feed_registry(settings).remove(url)
    except OSError as exc:  # a read-only or full data directory
        fail(
            f"cannot save the feed list in {settings.data_dir}: {exc.strerror or exc}",
            as_json=False,
        )
    if not removed:
        err.print(f"[red]error:[/red] not subscribed to {escape(url)} (see `newsbot feeds list`)")
        raise typer.Exit(1)
    out.print(f"Unsubscribed from {url}.", markup=False)


@feeds_app.command("poll")
def feeds_poll(
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
) -> None:
    """Poll every subscribed feed once, now, and ingest the new entries."""
    from ingest.feeds import poll_feed

    settings = load_settings()
    registry = feed_registry(settings)
    failed = False
    reports: list[PollReport] = []
    with open_cli_index(settings, as_json=as_json, writing=True) as index:
        for feed in registry.list():
            report = poll_feed(
                registry,
                feed.url,
                sink=index,
                limits=settings.chunks.build(),
                policy=settings.fetch.build(),
                poll_limits=settings.feeds.build(),
            )
            reports.append(report)
            failed = failed or bool(report.failed)
            if not as_json:
                print_poll(feed.url, report)
            if report.error:  # the index stopped answering: the other feeds wait their turn
                break
        stopped = next((report.error for report in reports if report.error), None)
        # With the index gone nothing can be matched: as for `ingest`, the articles committed
        # before it stopped are matched by the next run that reaches the index.
        posts = [] if stopped else catch_up_follows(settings, index)
    if as_json:
        feeds = [report.as_dict() for report in reports]
        out.print_json(json.dumps({"feeds": feeds, "follows": follows_json(posts)}))
    else:
        print_follows(posts)
    if stopped:
        if not as_json:
            err.print(f"[red]error:[/red] {escape(stopped)}", highlight=False)
        raise typer.Exit(2)
    if failed:
        raise typer.Exit(1)


def print_poll(url: str, report: PollReport) -> None:
    out.print(
        f"{url}: {ingest_counts(report)}, {report.skipped} seen before, "
        f"{report.deferred} left for later",
        markup=False,
    )
    for note in report.notes:
        out.print(f"  note: {note}", markup=False, highlight=False)
    for origin, reason in report.failed:
        out.print(f"  [red]✗[/red] {escape(f'{origin}: {reason}')}", highlight=False)
