"""A story across articles: newsbot timeline, compare, brief."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

import typer

from bot.cli.common import app, fail, load_settings, open_cli_index, out, parse_filters
from bot.texts import brief_text, comparison_text, timeline_text
from ingest.durations import parse_since

SINCE_HELP = "Published on or after: 2025-12-06, 'November 2023', 'last week'…"
UNTIL_HELP = "Published on or before: 2025-12-06, 'November 2023'…"


@app.command()
def timeline(
    topic: Annotated[str, typer.Argument(help="The story, e.g. 'Riverside dam repairs'.")],
    since: Annotated[str | None, typer.Option(help=SINCE_HELP)] = None,
    until: Annotated[str | None, typer.Option(help=UNTIL_HELP)] = None,
    outlet: Annotated[list[str] | None, typer.Option(help="Only this outlet (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the timeline as JSON.")] = False,
) -> None:
    """The dated developments of a story, oldest first, each line cited."""
    filters = parse_filters(outlet, since, until)
    with open_cli_index(load_settings(), as_json=as_json) as index:
        result = index.timeline(topic, filters if not filters.empty else None)
    show(result, timeline_text, as_json=as_json)


@app.command()
def compare(
    topic: Annotated[str, typer.Argument(help="The story, or 'Did both X and Y report …?'")],
    outlet: Annotated[
        list[str] | None, typer.Option(help="An outlet to compare (repeatable).")
    ] = None,
    since: Annotated[str | None, typer.Option(help=SINCE_HELP)] = None,
    until: Annotated[str | None, typer.Option(help=UNTIL_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """Per outlet, what it reported or quoted on a story; what only one carried is marked."""
    filters = parse_filters(None, since, until)
    with open_cli_index(load_settings(), as_json=as_json) as index:
        result = index.compare(topic, outlet or (), filters if not filters.empty else None)
    show(result, comparison_text, as_json=as_json)


@app.command()
def brief(
    since: Annotated[
        str, typer.Option(help="From when: 24h, 3d, 90m, or a date/time like 2025-12-06T08:00.")
    ] = "24h",
    published: Annotated[
        bool,
        typer.Option("--published", help="By publication date instead of when articles came in."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the brief as JSON.")] = False,
) -> None:
    """The stories that came in since a time, grouped, biggest first, one cited line each."""
    start = parse_since(since)
    if start is None:
        fail(
            f"--since wants 24h, 3d, 90m or a date like 2025-12-06, not {since!r}", as_json=as_json
        )
    with open_cli_index(load_settings(), as_json=as_json) as index:
        result = index.brief(start, by_published=published)
    show(result, brief_text, as_json=as_json)


def show(view: Any, text: Callable[[Any], str], *, as_json: bool) -> None:
    """Print a story view as JSON (its `as_dict`) or as the text the terminal shows."""
    if as_json:
        out.print_json(json.dumps(view.as_dict(), ensure_ascii=False))
    else:
        out.print(text(view), markup=False, highlight=False)
