"""Property-based requests against the OpenAPI schema: no input makes the service answer 500.

An equivalent of a schemathesis run, written with hypothesis: for every operation the schema
declares, parameters and bodies are drawn from the declared JSON schemas (and, now and then,
from arbitrary JSON), sent with an admin token, and every answer must be below 500; every
error must have the one error shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.store.db import upgrade
from tests.app.api.conftest import Client, load_example, make_app, token
from tests.app.api.test_errors import assert_shape

JSON_LEAF = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=20)
ANY_JSON = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Values that reach deeper than random text: real ids, periods, years, digests' look.
KNOWN = ["nanyue", "hengshan", "nanyue-levy-1", "f1", "f2", "2025Q1", "2025", "2024", "1",
         "county", "county_bureaus", "inspection_issue", "2025-02-14"]  # fmt: skip
TEXT = st.sampled_from(KNOWN) | st.text(max_size=24)


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def from_schema(schema: dict[str, Any], spec: dict[str, Any], depth: int = 0) -> Any:
    """A strategy for values of a JSON schema (roughly: types, required keys, enums)."""
    schema = _resolve(schema, spec)
    if depth > 4:
        return JSON_LEAF
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([from_schema(s, spec, depth + 1) for s in schema[key]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        if schema.get("pattern", "").startswith("^(reader"):
            return st.sampled_from(["reader", "recorder", "auditor", "admin"]) | TEXT
        return TEXT
    if kind == "integer":
        return st.integers(-5, 2**33)
    if kind == "number":
        return st.integers(-1000, 1000) | st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        items = schema.get("items", {})
        return st.lists(from_schema(items, spec, depth + 1), max_size=3)
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        fields = {k: from_schema(v, spec, depth + 1) for k, v in props.items() if k in required}
        optional = {
            k: from_schema(v, spec, depth + 1) for k, v in props.items() if k not in required
        }
        if not props:
            return st.dictionaries(st.text(max_size=8), JSON_LEAF, max_size=3)
        return st.fixed_dictionaries(fields, optional=optional)
    return ANY_JSON


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """The app on SQLite with the handworked example, and an admin client."""
    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    app = make_app(url)
    client = Client(app, token(app, "admin"))
    load_example(client, "handworked")
    yield client
    app.state.services.engine.dispose()


def _operations() -> list[tuple[str, str]]:
    from app.main import create_app
    from app.settings import Settings

    # No rules folder: nothing is loaded, so building the schema needs no database.
    bare = Settings(database_url="sqlite://", rules_dir=Path("/nonexistent"), demo=True)
    spec = create_app(bare).openapi()
    ops = [(path, method) for path, item in spec["paths"].items() for method in item]
    return sorted(op for op in ops if op != ("/v1/rulesets/reload", "post"))


OPERATIONS = _operations()


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_no_input_makes_a_500(fuzz_client: Client, path: str, method: str) -> None:
    spec = fuzz_client.app.openapi()
    op = spec["paths"][path][method]
    params = op.get("parameters", [])
    body_schema = (
        op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    )

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        url = path
        query: dict[str, Any] = {}
        for p in params:
            value = data.draw(from_schema(p.get("schema", {}), spec) | TEXT)
            if p["in"] == "path":
                text = quote(str(value), safe="") or "x"
                url = url.replace("{" + p["name"] + "}", text)
            elif p["in"] == "query" and value is not None:
                wanted = p.get("required") or data.draw(st.booleans())
                shown = str(value).lower() if isinstance(value, bool) else str(value)
                query.update({p["name"]: shown} if wanted else {})
        kw: dict[str, Any] = {"params": query}
        if body_schema is not None:
            kw["json"] = data.draw(from_schema(body_schema, spec) | ANY_JSON)
        r = fuzz_client.request(method.upper(), url, **kw)
        assert r.status_code < 500, (method, url, query, kw.get("json"), r.text)
        if r.status_code >= 400:
            assert_shape(r.json())

    run()
