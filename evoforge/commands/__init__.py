"""CLI commands that live in their own module; `evoforge/cli.py` registers each with one line."""
