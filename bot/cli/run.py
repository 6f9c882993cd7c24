"""newsbot run: the Discord bot, started from the terminal (the bot itself: `bot.discord`)."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.answers import chat
from bot.cli.common import app, err, load_settings, open_cli_index


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
    from bot.discord.launch import serve

    with open_cli_index(settings, writing=True) as index:  # it ingests, polls, saves feedback
        serve(settings, index, settings.discord.token.get_secret_value())
