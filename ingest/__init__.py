"""Turn files the user points at into `Article`s: find them, read them, parse each format."""
