"""``chatops report --from … --to … [--format csv|xlsx] [--output FILE]``: the full log of a period."""

from __future__ import annotations

import argparse


def add_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``chatops report``."""
