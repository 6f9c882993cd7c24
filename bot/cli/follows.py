"""`newsbot follow`: saved topics that new articles are matched against."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from bot.cli.common import app, err, fail, load_settings, out
from bot.wiring import follow_store

follow_app = typer.Typer(
    help="Follow a story: new articles that match a saved topic are posted by the bot."
)
app.add_typer(follow_app, name="follow")


@follow_app.command("add")
def follow_add(
    topic: Annotated[str, typer.Argument(help="The story to follow, e.g. 'Riverside dam'.")],
    outlet: Annotated[list[str] | None, typer.Option(help="Only this outlet (repeatable).")] = None,
    channel: Annotated[
        int | None,
        typer.Option(
            help="Discord channel or thread id the bot posts to (default: none, "
            "matches are listed by `newsbot ingest --json`)."
        ),
    ] = None,
) -> None:
    """Save a topic; articles ingested from now on that match it are noticed."""
    from bot.follow_store import CLI_USER

    store = follow_store(load_settings())
    try:
        follow = store.add(CLI_USER, topic, outlets=outlet or (), channel_id=channel)
    except ValueError as exc:
        fail(str(exc), as_json=False, cause=exc)
    out.print(f"following #{follow.id}: {follow.topic}", markup=False, highlight=False)


@follow_app.command("list")
def follow_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List every followed topic (the CLI sees all users' follows)."""
    follows = follow_store(load_settings()).follows()
    if as_json:
        out.print_json(json.dumps([f.as_dict() for f in follows], ensure_ascii=False))
        return
    if not follows:
        err.print("No followed topics. Add one with: newsbot follow add 'TOPIC'")
    for f in follows:
        outlets = f" (only {', '.join(f.outlets)})" if f.outlets else ""
        who = "cli" if f.user_id == 0 else f"user {f.user_id}"
        out.print(f"#{f.id} {escape(f.topic)}{escape(outlets)} — {who}", highlight=False)


@follow_app.command("remove")
def follow_remove(
    follow_id: Annotated[int, typer.Argument(help="The follow's number, from `follow list`.")],
) -> None:
    """Stop following a topic."""
    try:
        removed = follow_store(load_settings()).remove(follow_id)
    except ValueError as exc:  # a read-only data directory
        fail(str(exc), as_json=False, cause=exc)
    if not removed:
        fail(f"no followed topic #{follow_id}", as_json=False)
    out.print(f"removed #{follow_id}")
