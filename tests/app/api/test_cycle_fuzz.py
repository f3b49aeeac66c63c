"""Rulings with arbitrary corrections never answer 500: each is refused naming the field, or
recorded; approved periods refuse arbitrary fact batches with 4xx, never 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.store.db import upgrade
from tests.app.api.conftest import Client, load_example, make_app, token
from tests.app.api.test_errors import assert_shape
from tests.app.api.test_schema_fuzz import ANY_JSON, TEXT

FACT_KEYS = ["id", "type", "subject", "date", "period", "data", "supersedes", "retract", "evidence"]
CORRECTION = st.dictionaries(st.sampled_from(FACT_KEYS), TEXT | ANY_JSON, max_size=6) | ANY_JSON


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, int]]:
    path: Path = tmp_path_factory.mktemp("cyclefuzz") / "fuzz.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    app = make_app(url)
    client = Client(app, token(app, "admin"))
    load_example(client, "handworked")
    assert client.post("/v1/cycles/2025Q1/publish", params={"ruleset": "2025"}).status_code == 200
    body = {"period": "2025Q1", "subject": "nanyue", "facts": ["f16"], "reason": "fuzz"}
    r = client.post("/v1/appeals", json=body)
    assert r.status_code == 201, r.text
    yield client, int(r.json()["id"])
    app.state.services.engine.dispose()


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(corrections=st.lists(CORRECTION, min_size=1, max_size=3))
def test_rulings_with_any_corrections(
    published: tuple[Client, int], corrections: list[Any]
) -> None:
    client, appeal = published
    body = {"decision": "upheld", "reason": "fuzz", "corrections": corrections}
    r = client.post(f"/v1/appeals/{appeal}/ruling", json=body)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert_shape(r.json())
