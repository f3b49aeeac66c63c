"""One shape per thing, as the OpenAPI document declares it: every answer below is valid against
its operation's response schema, every response schema writes decimals as strings and never a
null where a list is meant, and a fact looks the same from every endpoint that shows it."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
from fastapi import FastAPI
from starlette.routing import compile_path

from tests.app.api.conftest import Client, load_example

# (method, url, body) of answers that have a typed schema; the handworked example is loaded.
CALLS: list[tuple[str, str, Any]] = [
    ("GET", "/v1/health", None),
    ("GET", "/v1/scores?period=2025Q1", None),
    ("GET", "/v1/scores?period=2025", None),  # annual results of persons: quarters
    ("GET", "/v1/scores/nanyue?period=2025Q1", None),
    ("GET", "/v1/scores/nanyue-levy-1?period=2025", None),
    ("GET", "/v1/rankings/county_bureaus?period=2025Q1", None),
    ("GET", "/v1/rankings/person?period=2025", None),
    ("GET", "/v1/explanations/nanyue?period=2025Q1", None),
    ("PUT", "/v1/facts/s1", {"type": "revenue_completion", "subject": "hengdong",
                             "period": "2025Q2", "data": {"value": 99.125}}),
    ("POST", "/v1/facts/s1/supersede", {"id": "s1-fix", "data": {"value": 98}}),
    ("POST", "/v1/facts/f1/retract", {"reason": "recorded twice"}),
    ("GET", "/v1/facts?limit=5", None),
    ("GET", "/v1/facts/s1", None),
    ("GET", "/v1/facts/f1", None),
    ("GET", "/v1/facts/history/hengdong", None),
    ("GET", "/v1/facts/history/nanyue", None),
    ("GET", "/v1/version", None),
    ("GET", "/v1/rulesets", None),
    ("GET", "/v1/org", None),
    ("GET", "/v1/org/units", None),
    ("GET", "/v1/org/units/nanyue", None),
    ("GET", "/v1/org/persons", None),
    ("GET", "/v1/org/persons/nanyue-levy-1", None),
    ("PUT", "/v1/org/units?from=2025-07-01", [{"id": "nanyue-x", "name": "稽查股",
                                              "kind": "county_dept", "parent": "nanyue"}]),
    ("POST", "/v1/tokens", {"name": "南岳区征管系统", "role": "recorder", "units": ["nanyue"]}),
    ("GET", "/v1/tokens", None),
    ("DELETE", "/v1/tokens/2", None),  # the recorder's, made above
    ("POST", "/v1/receipts", {"period": "2025Q1", "publish": True, "note": "一季度"}),
    ("GET", "/v1/receipts/1", None),
    ("POST", "/v1/receipts/1/replay", None),
]  # fmt: skip


# A token's scope: null is "no limit", which an empty list (nothing allowed) is not.
NO_LIMIT = {"TokenOut.properties.fact_types", "TokenOut.properties.units"}


def _operation(spec: dict[str, Any], method: str, url: str) -> dict[str, Any]:
    path = url.split("?", 1)[0]
    for template, item in spec["paths"].items():
        if compile_path(template)[0].match(path) and method.lower() in item:
            op: dict[str, Any] = item[method.lower()]
            return op
    raise AssertionError(f"no operation for {method} {path}")


def _walk(schema: Any, spec: dict[str, Any], where: str, seen: set[str], bad: list[str]) -> None:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                _walk(spec["components"]["schemas"][name], spec, name, seen, bad)
        if schema.get("type") in ("number", ["number"]):
            bad.append(f"{where}: a number (decimals are strings)")
        kinds = [s.get("type") for s in schema.get("anyOf", []) if isinstance(s, dict)]
        if "array" in kinds and "null" in kinds and where not in NO_LIMIT:
            bad.append(f"{where}: a list that may be null (an empty list is [])")
        for key, value in schema.items():
            _walk(value, spec, f"{where}.{key}", seen, bad)
    elif isinstance(schema, list):
        for value in schema:
            _walk(value, spec, where, seen, bad)


@pytest.fixture
def loaded(app: FastAPI, api: Client) -> Client:
    """An admin client with the handworked example recorded."""
    load_example(api, "handworked")
    return api


def test_every_typed_answer_is_valid_against_its_schema(loaded: Client) -> None:
    spec = loaded.get("/openapi.json").json()
    for method, url, body in CALLS:
        r = loaded.request(method, url, **({"json": body} if body is not None else {}))
        assert r.is_success, (method, url, r.text)
        op = _operation(spec, method, url)
        schema = op["responses"][str(r.status_code)]["content"]["application/json"]["schema"]
        validator = jsonschema_rs.validator_for({**schema, "components": spec["components"]})
        errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(r.json())]
        assert errors == [], (method, url, errors[:5])


def test_every_response_schema_has_one_shape_per_thing(loaded: Client) -> None:
    spec = loaded.get("/openapi.json").json()
    bad: list[str] = []
    walked = 0
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for status, response in op["responses"].items():
                content = response.get("content", {}).get("application/json", {})
                if "schema" in content:
                    walked += 1
                    _walk(content["schema"], spec, f"{method} {path} {status}", set(), bad)
    assert bad == []
    assert walked >= 40  # errors of every operation, and the typed answers


def test_a_fact_has_one_shape_everywhere(loaded: Client) -> None:
    loaded.put(
        "/v1/facts/s2",
        json={"type": "revenue_completion", "subject": "hengdong", "period": "2025Q2",
              "data": {"value": 90.1}},
    )  # fmt: skip
    loaded.post("/v1/facts/s2/supersede", json={"id": "s2-fix", "data": {"value": 91}})
    one = loaded.get("/v1/facts/s2").json()
    listed = next(f for f in loaded.get("/v1/facts").json()["facts"] if f["id"] == "s2")
    history = next(
        f for f in loaded.get("/v1/facts/history/hengdong").json()["facts"] if f["id"] == "s2"
    )
    assert one == listed == history
    assert one["data"] == {"value": "90.1"}
    assert (one["status"], one["superseded_by"]) == ("superseded", "s2-fix")
    assert (one["date"], one["period"], one["retraction"]) == (None, "2025Q2", None)
    retracted = loaded.post("/v1/facts/s2-fix/retract", json={"reason": "wrong"}).json()
    assert retracted["status"] == "retracted" and retracted["retraction"]["reason"] == "wrong"
    assert retracted == loaded.get("/v1/facts/s2-fix").json()


def test_a_ranking_s_missing_is_a_list(loaded: Client) -> None:
    rows = loaded.get("/v1/rankings/person", params={"period": "2025"}).json()["ranking"]
    assert rows and all(r["missing"] == [] for r in rows)  # annual results list none


def test_operation_ids_are_names_a_client_would_use(loaded: Client) -> None:
    spec = loaded.get("/openapi.json").json()
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", i) and "_v1_" not in i for i in ids), ids
    by_path = {(m, p): op["operationId"] for p, it in spec["paths"].items() for m, op in it.items()}
    assert by_path["get", "/v1/scores/{subject}"] == "get_scores"
    assert by_path["get", "/v1/scores"] == "list_scores"
    assert by_path["post", "/v1/facts"] == "record_facts"
    assert by_path["get", "/v1/facts"] == "list_facts"
    assert by_path["get", "/v1/rankings/{sequence}"] == "get_ranking"
    assert by_path["get", "/v1/explanations/{subject}"] == "get_explanation"
    typed = spec["paths"]["/v1/scores/{subject}"]["get"]["responses"]["200"]["content"]
    assert typed["application/json"]["schema"] == {"$ref": "#/components/schemas/SubjectScoresOut"}
