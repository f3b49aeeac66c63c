"""Subcommands that score facts: `score`, `explain`, `test` (filled in by the engine)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Adds the engine's subcommands to the `jixiao` parser."""
    _ = (sub, argparse)
