"""The commands that answer: ask (one question), chat (a conversation in the terminal), run
(the Discord bot)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.cli.common import app, err, load_settings, open_cli_index, out, parse_filters
from bot.wiring import feed_registry, follow_store


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
    from bot.render import answer_text

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
    settings = load_settings()
    if settings.discord.token is None:
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

    point_at(settings.discord.api_base, settings.discord.gateway_url)
    config = settings.bot_config()
    with open_cli_index(settings, writing=True) as index:  # it ingests, polls, saves feedback
        index.warm_up()  # the model and the keyword index, before the first question
        feedback = FeedbackStore(settings.data_dir / "feedback.sqlite3")
        bot = NewsBot(
            index, feedback, config, feeds=feed_registry(settings), follows=follow_store(settings)
        )
        bot.run(settings.discord.token.get_secret_value(), log_handler=None)
