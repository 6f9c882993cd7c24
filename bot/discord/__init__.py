"""The Discord front end: the bot (`app`), who may use what (`checks`), its buttons, how it
renders (`render`), the slash commands (`cogs/`), its configuration (`config`, kept free of
discord.py so the settings can read its defaults), the votes it keeps (`feedback`) and its
start (`launch`).

Not to be confused with discord.py, imported as the top-level `discord`."""
