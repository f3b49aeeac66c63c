"""Fixtures of the analysis tests: the hand-worked example, alone or with a few more facts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from dsl.analysis.source import FileSource, sibling_years
from dsl.compile.compiler import compile_path

REPO = Path(__file__).resolve().parents[3]
HANDWORKED = REPO / "tests" / "examples" / "handworked"
RULES = REPO / "rules" / "2025"

Make = Callable[..., FileSource]


def handworked_facts() -> list[dict[str, Any]]:
    """The hand-worked example's facts, in file order."""
    lines = (HANDWORKED / "facts.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines if x.strip()]


@pytest.fixture
def make_source(tmp_path: Path) -> Make:
    """A file source on the hand-worked organisation: its facts without `drop`, plus `extra`."""

    def make(extra: Iterable[dict[str, Any]] = (), drop: Iterable[str] = ()) -> FileSource:
        gone = set(drop)
        facts = [f for f in handworked_facts() if f["id"] not in gone] + list(extra)
        path = tmp_path / f"facts-{len(list(tmp_path.iterdir()))}.jsonl"
        path.write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in facts))
        compiled = compile_path(RULES)
        return FileSource(compiled, sibling_years(RULES, compiled), HANDWORKED / "org.json", path)

    return make
