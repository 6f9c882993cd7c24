"""The commands that change or list what the index holds: ingest, sources, forget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from bot.cli.common import (
    app,
    catch_up_follows,
    err,
    follows_json,
    load_settings,
    open_cli_index,
    out,
    print_follows,
)
from bot.texts import article_row, ingest_counts


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

    settings = load_settings()
    with (
        open_cli_index(settings, as_json=as_json, writing=True) as index,
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
                limits=settings.chunks.build(),
                max_bytes=settings.max_file_bytes,
                on_start=lambda n: progress.update(task, total=n),
                on_file=lambda name: progress.advance(task),
                on_stored=lambda n: progress.update(
                    task, stored=progress.tasks[task].fields["stored"] + n
                ),
            )
            if urls:
                policy = settings.fetch.build()
                report.merge(
                    ingest_urls(index, urls, policy=policy, limits=settings.chunks.build())
                )
        except KeyboardInterrupt:
            err.print(
                "[yellow]Interrupted.[/yellow] Articles already stored are complete; "
                "run the same command again to finish the rest."
            )
            raise typer.Exit(130) from None
        posts = [] if report.error else catch_up_follows(settings, index)
    if as_json:
        out.print_json(json.dumps({**report.as_dict(), "follows": follows_json(posts)}))
    else:
        style = "red" if report.failed else "green"
        out.print(f"{report.files} file(s): {ingest_counts(report)}", style=style, highlight=False)
        for origin, reason in report.failed:
            out.print(f"  [red]✗[/red] {escape(f'{origin}: {reason}')}", highlight=False)
        for origin, note in report.warnings:
            out.print(f"  [yellow]![/yellow] {escape(f'{origin}: {note}')}", highlight=False)
        if report.error:
            err.print(f"[red]error:[/red] {escape(report.error)}", highlight=False)
        print_follows(posts)
    if report.error:
        raise typer.Exit(2)
    if report.failed:
        raise typer.Exit(1)


@app.command()
def sources(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the ingested articles, newest first."""
    settings = load_settings()
    with open_cli_index(settings, as_json=as_json) as index:
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
    settings = load_settings()
    with open_cli_index(settings, writing=True) as index:
        removed = index.forget(article_id)
        if removed:
            index.refresh()
    if not removed:
        err.print(f"[red]error:[/red] no article with id {article_id!r} (see `newsbot sources`)")
        raise typer.Exit(1)
    out.print(f"Removed article {article_id} and its passages.")
