"""The `newsbot` command. Each module adds its commands to the one typer app:

- common.py: the app, the consoles, loading settings and opening the index (errors → exit 2)
- articles.py: ingest, sources, forget
- answers.py: ask, chat
- run.py: run (the Discord bot, which lives in bot/discord/)
- stories.py: timeline, compare, brief (a story across articles)
- follows.py: newsbot follow add|list|remove
- feeds.py: newsbot feeds add|list|remove|poll
- evaluation.py: newsbot eval multihop
"""

from bot.cli import articles, answers, run, stories, follows, feeds, evaluation  # noqa: F401, I001 - register, in this order
from bot.cli.common import app

__all__ = ["app"]
