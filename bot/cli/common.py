"""What every `newsbot` command shares: the app, the consoles, settings, opening the index.

Only typer, rich and the settings load at start-up; each command imports the heavy libraries
(torch, sentence-transformers, chromadb) it needs, so `newsbot --help` answers at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console, ConsoleOptions, RenderableType
from rich.markup import escape
from rich.segment import Segment

from bot.settings import Settings, settings_error
from bot.texts import terminal_safe
from bot.wiring import configure_logging, open_index

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bot.follow_store import FollowPost
    from retrieval import NewsIndex, SearchFilters

logger = logging.getLogger(__name__)

app = typer.Typer(
    help="Answer questions about news coverage, quoting and citing the articles it has read.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class SafeConsole(Console):
    """A console that never sends a control character from the text it prints to the terminal.

    Every renderable (strings, Text, tables, JSON) is turned into segments by `render`; the
    text of each is passed through `terminal_safe`, so a feed entry's ESC[2J or a planted
    terminal hyperlink is printed without its escapes. rich's own styling is not in the text
    of segments, so colours still work.
    """

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control or not segment.text:
                yield segment
            else:
                yield Segment(terminal_safe(segment.text), segment.style, segment.control)


out = SafeConsole(soft_wrap=True)
err = SafeConsole(stderr=True, soft_wrap=True)


def load_settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        err.print(f"[red]Invalid settings:[/red] {escape(settings_error(exc))}")
        raise typer.Exit(2) from exc
    configure_logging(settings)
    from retrieval import configure_process

    configure_process(settings.index.embedding_model)  # before any command loads torch
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
    from retrieval import DataDirBusyError, EmbedderError, ReadOnlyError, StoreError

    try:
        # A writer is refused before anything is opened: a read-only index is read from a
        # copy of it, which a command that cannot write would make for nothing.
        index = open_index(settings, as_of=as_of, writing=writing)
    except ReadOnlyError as exc:
        fail(
            f"the data directory {settings.data_dir} is read-only: this command writes to it "
            "(reading commands such as `sources` and `ask` work); make it writable first",
            as_json=as_json,
            cause=exc,
        )
    except (DataDirBusyError, StoreError, EmbedderError) as exc:
        fail(str(exc), as_json=as_json, cause=exc)
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
    """The "follows" list of `ingest --json` and `feeds poll --json`: each post with the
    article's headline, outlet, date and link (those of the passage that matched)."""
    rows: list[dict[str, object]] = []
    for p in posts:
        cited = p.citations[0] if p.citations else {}
        rows.append(
            {
                "topic": p.follow.topic,
                "article_id": p.article_id,
                "follow_id": p.follow.id,
                "title": cited.get("title"),
                "outlet": cited.get("outlet"),
                "published_at": cited.get("published_at"),
                "url": cited.get("url"),
                "text": p.text,
                "citations": p.citations,
            }
        )
    return rows


def print_follows(posts: Sequence[FollowPost]) -> None:
    for post in posts:
        out.print(
            f"  followed #{post.follow.id} ({post.follow.topic}): {post.text}",
            markup=False,
            highlight=False,
        )
