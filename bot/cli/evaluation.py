"""`newsbot eval`: score the search (and answers) on a benchmark."""

from __future__ import annotations

import json
import tempfile
import time
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bot.cli.common import app, err, load_settings, open_cli_index, out

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
    answers: Annotated[
        bool,
        typer.Option(
            "--answers",
            help="Also score what the answers cite: the share of each query's gold evidence "
            "articles cited by `ask`, and by `compare` (comparison queries) and `timeline` "
            "(temporal queries).",
        ),
    ] = False,
    limit: Annotated[
        int | None, typer.Option(help="Score only the first N queries (a quick look).")
    ] = None,
) -> None:
    """Score the bot's search on MultiHop-RAG with the authors' rules (Hits@k, MRR, MAP)."""

    from ingest.pipeline import ingest_paths
    from retrieval import evaluate, evaluate_answers, iso_date

    base = load_settings()
    day = iso_date(as_of) if as_of else None
    if as_of and not day:
        err.print(f"[red]error:[/red] --as-of wants a date like 2023-12-31, not {as_of!r}")
        raise typer.Exit(2)
    items = json.loads(queries.read_text(encoding="utf-8"))[:limit]
    with ExitStack() as cleanup:
        if index_dir is None:  # a temporary index goes when the scores are in
            index_dir = Path(
                cleanup.enter_context(tempfile.TemporaryDirectory(prefix="newsbot-eval-"))
            )
        settings = base.embedded_in(index_dir)
        with open_cli_index(settings, as_of=date.fromisoformat(day) if day else None) as index:
            started = time.perf_counter()
            report = ingest_paths(
                index, [corpus], limits=settings.chunks.build(), max_bytes=1 << 30
            )
            err.print(
                f"index {index_dir}: {report.added} added, {report.unchanged} unchanged, "
                f"{len(report.failed)} failed ({time.perf_counter() - started:.0f} s)"
            )
            run = evaluate(index, items, k=k)
            answer_scores = evaluate_answers(index, items) if answers else None
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
    if answer_scores is not None:
        out.print("What the answers cite:")
        for measure, n, value in answer_scores.table():
            out.print(f"  {measure}: {value:.3f} (n={n})", markup=False, highlight=False)
        out.print(f"answers scored in {answer_scores.seconds:.0f} s")
