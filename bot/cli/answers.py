"""The commands that answer in the terminal: ask (one question), chat (a conversation)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.cli.common import app, load_settings, open_cli_index, out, parse_filters
from bot.texts import answer_text


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
    filters = parse_filters(outlet, since, until)
    settings = load_settings()
    with open_cli_index(settings, as_json=as_json) as index:
        answer = index.ask(question, filters=filters)
    if as_json:
        out.print_json(json.dumps(answer.as_dict(), ensure_ascii=False))
    else:
        out.print(answer_text(answer), markup=False, highlight=False)


@app.command()
def chat() -> None:
    """Talk with the index in the terminal (an empty line, 'exit' or Ctrl-D ends)."""
    settings = load_settings()
    with open_cli_index(settings) as index:
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
