"""CLI commands that live beside cli.py, each registered there with one line."""
