"""What the tests of reading facts share."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import generator


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated province: 3 counties, 60 persons, 6,000 facts (corrections among them)."""
    gen = generator()
    out = tmp_path_factory.mktemp("province")
    gen.write(out, *gen.generate(3, 60, 6000, 2025, 11))
    return out
