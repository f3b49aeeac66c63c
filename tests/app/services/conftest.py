"""Fixtures of the service tests: the analysis tests' file sources (hand-worked example)."""

from __future__ import annotations

from tests.dsl.analysis.conftest import make_source

__all__ = ["make_source"]
