"""``chatops digest --period today|yesterday|week [--post]``: the digest in a terminal."""

from __future__ import annotations

import argparse


def add_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``chatops digest``."""
