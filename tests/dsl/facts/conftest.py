"""What the tests of reading facts share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dsl.facts.index import YearIndex
from tests.conftest import generator


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated province: 3 counties, 60 persons, 6,000 facts (corrections among them)."""
    gen = generator()
    out = tmp_path_factory.mktemp("province")
    gen.write(out, *gen.generate(3, 60, 6000, 2025, 11))
    return out


def index_shape(index: Any) -> Any:
    """An index as nested lists, keys in their order, facts by id; a year merged from its
    quarters as its quarters' and its own."""
    if isinstance(index, YearIndex):
        return ("year", [index_shape(q) for q in index.quarters], index_shape(index.own))
    return [
        (s, [(t, [f.id for f in lst]) for t, lst in by_type.items()])
        for s, by_type in index.items()
    ]
