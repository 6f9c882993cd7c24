"""Slash commands and events, thin: acknowledge, call the services, render."""
