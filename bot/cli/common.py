"""What every `newsbot` command shares: the app, the consoles, settings, opening the index.

Only typer, rich and the settings load at start-up; each command imports the heavy libraries
(torch, sentence-transformers, chromadb) it needs, so `newsbot --help` answers at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from bot.settings import Settings
from bot.wiring import configure_logging, open_index

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bot.follows import FollowPost
    from retrieval import NewsIndex, SearchFilters

logger = logging.getLogger(__name__)

app = typer.Typer(
    help="Answer questions about news coverage, quoting and citing the articles it has read.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def load_settings() -> Settings:
    try:
        settings = Settings()
    except Exception as exc:  # pydantic's ValidationError lists every bad setting
        err.print(f"[red]Invalid settings:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    configure_logging(settings)
    return settings


@contextmanager
def open_cli_index(
    settings: Settings,
    *,
    as_json: bool = False,
    as_of: date | None = None,
    writing: bool = False,
) -> Iterator[NewsIndex]:
    """Open the index, turning the errors a user can fix into one clear line (exit code 2);
    with `as_json` that line is printed as {"error": ...}, so a script always gets JSON.
    A command `writing` to it is refused at once where the data directory is read-only."""
    from retrieval import DataDirBusyError, EmbedderError, StoreError

    try:
        index = open_index(settings, as_of=as_of)
    except (DataDirBusyError, StoreError, EmbedderError) as exc:
        fail(str(exc), as_json=as_json, cause=exc)
    if writing and index.read_only:
        index.close()
        fail(
            f"the data directory {settings.data_dir} is read-only: this command writes to it "
            "(reading commands such as `sources` and `ask` work); make it writable first",
            as_json=as_json,
        )
    try:
        yield index
    except (StoreError, EmbedderError) as exc:
        fail(str(exc), as_json=as_json, cause=exc)
    except Exception as exc:
        if (damaged := index.damage(exc)) is None:
            raise
        logger.debug("the store failed", exc_info=True)
        fail(str(damaged), as_json=as_json, cause=exc)
    finally:
        index.close()


def fail(message: str, *, as_json: bool, cause: BaseException | None = None) -> NoReturn:
    """Print an error the user can act on, as JSON or as one line, and exit with code 2."""
    if as_json:
        out.print_json(json.dumps({"error": message}, ensure_ascii=False))
    else:
        err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(2) from cause


def parse_filters(outlet: list[str] | None, since: str | None, until: str | None) -> SearchFilters:

    from retrieval import option_filters

    try:
        return option_filters(
            outlet or (), since, until, date.today(), names=("--since", "--until")
        )
    except ValueError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from exc


def catch_up_follows(settings: Settings, index: NewsIndex) -> list[FollowPost]:
    """Match the articles committed since matching last got this far (by this run, or by a run
    that died before matching) against the followed topics and queue the bot's posts."""
    from bot.wiring import follow_store

    try:
        return follow_store(settings).catch_up(index)
    except Exception as exc:  # the articles are stored; a failed match must not hide that
        logger.exception("matching followed topics failed")
        err.print(
            f"[yellow]warning:[/yellow] followed topics not checked ({escape(str(exc))}); "
            "the next ingest checks them"
        )
        return []


def follows_json(posts: Sequence[FollowPost]) -> list[dict[str, object]]:
    """The "follows" list of `ingest --json` and `feeds poll --json`."""
    return [
        {
            "topic": p.follow.topic,
            "article_id": p.article_id,
            "follow_id": p.follow.id,
            "text": p.text,
        }
        for p in posts
    ]


def print_follows(posts: Sequence[FollowPost]) -> None:
    for post in posts:
        out.print(
            f"  followed #{post.follow.id} ({post.follow.topic}): {post.text}",
            markup=False,
            highlight=False,
        )
