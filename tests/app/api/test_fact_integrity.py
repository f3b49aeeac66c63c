"""Fact integrity over HTTP: scope on what a correction touches, a limited recorder's reads,
and inputs that once answered 500 (each now a 4xx naming the field), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from dsl.facts.limits import MAX_FRACTION_DIGITS, MAX_ID, MAX_TEXT
from tests.app.api.conftest import RULES, Client, example_org, load_example, make_app, token

Q1 = {"period": "2025Q1"}


@pytest.fixture
def loaded(app: FastAPI, api: Client) -> FastAPI:
    """The app with the handworked example recorded."""
    load_example(api, "handworked")
    return app


def _final(api: Client, subject: str, period: str = "2025Q1") -> str | None:
    got = api.get(f"/v1/scores/{subject}", params={"period": period}).json()
    finals: list[str | None] = [r["final"] for r in got["results"] if r["scorecard"] == "county"]
    return finals[0]


def _nanyue_documents(app: FastAPI) -> Client:
    """A recorder limited to overdue documents on nanyue (`--types … --units …`)."""
    return Client(app, token(app, "recorder", fact_types=["overdue_document"], units=["nanyue"]))


def _under(unit: str) -> set[str]:
    """The unit, its sub-units and their persons, in the handworked organisation."""
    org = example_org("handworked")
    parent = {u["id"]: u["parent"] for u in org["units"]}

    def inside(u: str | None) -> bool:
        while u is not None:
            if u == unit:
                return True
            u = parent[u]
        return False

    units = {u for u in parent if inside(u)}
    return units | {p["id"] for p in org["persons"] if p["unit"] in units}


def _raw(client: Client, url: str, body: str) -> Any:
    """POST a JSON text as it is (escapes such as a lone surrogate kept)."""
    return client.post(url, content=body.encode(), headers={"content-type": "application/json"})


def _fields(r: Any) -> list[str]:
    return [d["field"] for d in r.json()["details"]]


# ---- authorisation ------------------------------------------------------------------------


BOLA = {
    "id": "a-bola1",
    "type": "overdue_document",
    "subject": "nanyue",
    "date": "2025-03-04",
    "supersedes": "f3",
}


def test_a_scoped_recorder_cannot_cancel_another_units_fact(loaded: FastAPI, api: Client) -> None:
    rec = Client(
        loaded, token(loaded, "recorder", fact_types=["overdue_document"], units=["nanyue"])
    )
    # hengshan's 2025Q1 final in the handworked example (worked by hand): 104.55
    assert _final(api, "hengshan") == "104.55"
    r = rec.post("/v1/facts", json=[BOLA])
    assert r.status_code == 403, r.text
    assert _fields(r) == ["body[0].supersedes"]
    assert "revenue_completion on hengshan" in r.json()["details"][0]["message"]
    assert api.get("/v1/facts/a-bola1").status_code == 404
    assert _final(api, "hengshan") == "104.55"
    # the rightful correction is still possible: K1 is 30 for any value ≥ 100
    fix = {"id": "f3-fix", "type": "revenue_completion", "subject": "hengshan",
           "period": "2025Q1", "data": {"value": 102}, "supersedes": "f3"}  # fmt: skip
    assert api.post("/v1/facts", json=[fix]).status_code == 201
    assert _final(api, "hengshan") == "104.55"


def test_a_correction_keeps_the_type_and_subject_it_corrects(loaded: FastAPI, api: Client) -> None:
    r = api.post("/v1/facts", json=[BOLA])  # even an admin may not turn f3 into another fact
    assert r.status_code == 422, r.text
    assert _fields(r) == ["body[0].subject", "body[0].type"]
    r = api.post(
        "/v1/facts/f3/supersede", json={"id": "x", "subject": "nanyue", "data": {"value": 99}}
    )
    assert r.status_code == 422
    assert "body[0].subject" in _fields(r)
    # within one batch too
    first = {"id": "b1", "type": "overdue_document", "subject": "nanyue", "date": "2025-03-04"}
    second = {**first, "id": "b2", "subject": "hengshan", "supersedes": "b1"}
    r = api.post("/v1/facts", json=[first, second])
    assert r.status_code == 422
    assert _fields(r) == ["body[1].subject"]
    assert _final(api, "hengshan") == "104.55"


def test_retracting_or_correcting_outside_the_scope_is_forbidden(loaded: FastAPI) -> None:
    rec = Client(
        loaded, token(loaded, "recorder", fact_types=["overdue_document"], units=["nanyue"])
    )
    assert rec.post("/v1/facts/f3/retract", json={"reason": "mine"}).status_code == 403
    fix = {"id": "f3-x", "data": {"value": 1}}
    assert rec.post("/v1/facts/f3/supersede", json=fix).status_code == 403


def test_a_limited_recorder_reads_only_what_it_may_write(loaded: FastAPI, api: Client) -> None:
    doc = {"id": "d1", "type": "overdue_document", "subject": "nanyue", "date": "2025-03-04"}
    assert api.post("/v1/facts", json=[doc]).status_code == 201
    by_type = Client(loaded, token(loaded, "recorder", fact_types=["overdue_document"]))
    by_unit = Client(loaded, token(loaded, "recorder", units=["hengshan"]))
    both = Client(
        loaded, token(loaded, "recorder", fact_types=["overdue_document"], units=["nanyue"])
    )
    everything = Client(loaded, token(loaded, "recorder"))

    def listed(c: Client) -> list[tuple[str, str]]:
        facts = c.get("/v1/facts", params={"limit": 1000}).json()["facts"]
        return sorted((f["type"], f["subject"]) for f in facts)

    all_facts = listed(api)
    assert listed(everything) == all_facts
    under_nanyue, under_hengshan = _under("nanyue"), _under("hengshan")
    expected = [f for f in all_facts if f[0] == "overdue_document" and f[1] in under_nanyue]
    assert ("overdue_document", "nanyue") in expected
    assert listed(both) == expected
    assert listed(by_type) == [f for f in all_facts if f[0] == "overdue_document"]
    expected = [f for f in all_facts if f[1] in under_hengshan]
    assert ("revenue_completion", "hengshan") in expected
    assert listed(by_unit) == expected
    # one fact: 404 outside the scope, as if absent
    assert both.get("/v1/facts/f3").status_code == 404
    assert both.get("/v1/facts/d1").status_code == 200
    assert by_unit.get("/v1/facts/f3").status_code == 200
    assert everything.get("/v1/facts/f3").status_code == 200


# ---- inputs that once answered 500 ----------------------------------------------------------


def test_after_beyond_the_largest_sequence_number(loaded: FastAPI, api: Client) -> None:
    r = api.get("/v1/facts", params={"after": 2**63})
    assert r.status_code == 422
    assert _fields(r) == ["query.after"]
    r = api.get("/v1/facts", params={"after": 2**63 - 1})
    assert r.status_code == 200
    assert r.json() == {"facts": [], "next": None}


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("1e999999999", "too large"),
        ("-1e999999999", "too large"),
        ("1e-999999999", "too many digits"),
        ("1e15", "too large"),
        ("0." + "1" * 198, "too many digits"),
        ("0." + "1" * (MAX_FRACTION_DIGITS + 1), "too many digits"),
    ],
)
def test_numbers_beyond_the_bounds_are_refused(
    loaded: FastAPI, api: Client, number: str, message: str
) -> None:
    body = (
        '[{"id": "n1", "type": "revenue_completion", "subject": "hengdong", "period": "2025Q2",'
        f' "data": {{"value": {number}}}}}]'
    )
    r = _raw(api, "/v1/facts", body)
    assert r.status_code == 422, r.text
    assert _fields(r) == ["body[0].data.value"]
    assert message in r.json()["details"][0]["message"]


def test_numbers_within_the_bounds_keep_their_digits(loaded: FastAPI, api: Client) -> None:
    value = "999999999999999." + "9" * MAX_FRACTION_DIGITS
    body = (
        '[{"id": "n2", "type": "revenue_completion", "subject": "hengdong", "period": "2025Q2",'
        f' "data": {{"value": {value}}}}}]'
    )
    assert _raw(api, "/v1/facts", body).status_code == 201
    assert f'"value":{value}' in api.get("/v1/facts/n2").text


def test_points_of_1e400_are_refused(loaded: FastAPI, api: Client) -> None:
    body = (
        '[{"id": "w1", "type": "work_item", "subject": "nanyue-levy-1", "date": "2025-02-03",'
        ' "data": {"points": 1e400, "quality": "normal"}}]'
    )
    r = _raw(api, "/v1/facts", body)
    assert r.status_code == 422, r.text
    assert _fields(r) == ["body[0].data.points"]
    assert _final(api, "hengshan") == "104.55"


@pytest.mark.parametrize(
    ("fact", "field"),
    [
        ('{"id": "s\\ud800", "type": "overdue_document", "subject": "nanyue",'
         ' "date": "2025-03-04"}', "body[0].id"),
        ('{"id": "s1", "type": "overdue_document", "subject": "nanyue",'
         ' "date": "2025-03-04", "evidence": "\\udfff"}', "body[0].evidence"),
        ('{"id": "s2", "type": "commendation", "subject": "nanyue", "date": "2025-03-04",'
         ' "data": {"level": "municipal", "matter": "a\\ud800b"}}', "body[0].data.matter"),
        ('{"id": "s3", "type": "commendation", "subject": "nanyue", "date": "2025-03-04",'
         ' "data": {"level": "\\ud800"}}', "body[0].data.level"),
        ('{"id": "s4", "type": "overdue_document", "subject": "nanyue", "date": "2025-03-04",'
         ' "data": {"\\ud800": 1}}', "body[0].data.'\\ud800'"),
    ],
)  # fmt: skip
def test_a_lone_surrogate_is_refused(loaded: FastAPI, api: Client, fact: str, field: str) -> None:
    r = _raw(api, "/v1/facts", f"[{fact}]")
    assert r.status_code == 422, r.text
    assert field in _fields(r)
    json.dumps(r.json(), ensure_ascii=False).encode()  # the answer itself is valid Unicode


def test_corrections_forward_mutual_and_of_themselves(loaded: FastAPI, api: Client) -> None:
    doc = {"type": "overdue_document", "subject": "nanyue"}
    forward = [
        {**doc, "id": "fw1", "date": "2025-03-04", "supersedes": "fw2"},
        {**doc, "id": "fw2", "date": "2025-03-05"},
    ]
    r = api.post("/v1/facts", json=forward)
    assert r.status_code == 422, r.text
    assert _fields(r) == ["body[0].supersedes"]
    assert "comes later" in r.json()["details"][0]["message"]
    mutual = [
        {**doc, "id": "m1", "date": "2025-03-04", "supersedes": "m2"},
        {**doc, "id": "m2", "date": "2025-03-05", "supersedes": "m1"},
    ]
    r = api.post("/v1/facts", json=mutual)
    assert r.status_code == 422, r.text
    assert _fields(r) == ["body[0].supersedes", "body[1].supersedes"]
    itself = [{**doc, "id": "self1", "date": "2025-03-04", "supersedes": "self1"}]
    r = api.post("/v1/facts", json=itself)
    assert r.status_code == 422, r.text
    assert r.json()["details"][0]["message"] == "a fact cannot supersede itself"
    for ident in ("fw1", "fw2", "m1", "m2", "self1"):
        assert api.get(f"/v1/facts/{ident}").status_code == 404
    # in the right order, the same batch is fine
    assert api.post("/v1/facts", json=forward[::-1]).status_code == 201


@pytest.mark.parametrize("key", ["id", "evidence"])
def test_a_nul_in_a_fact_is_refused(loaded: FastAPI, api: Client, key: str) -> None:
    fact = {"id": "nul1", "type": "overdue_document", "subject": "nanyue", "date": "2025-03-04"}
    fact[key] = "a\x00b"
    r = api.post("/v1/facts", json=[fact])
    assert r.status_code == 422, r.text
    assert f"body[0].{key}" in _fields(r)
    assert "NUL" in r.text


def test_a_nul_elsewhere_is_refused(loaded: FastAPI, api: Client) -> None:
    org = example_org("handworked")
    org["units"][0]["name"] = "衡阳\x00市"
    r = api.put("/v1/org", json=org)
    assert r.status_code == 422, r.text
    assert "NUL" in r.text
    r = api.post("/v1/tokens", json={"name": "a\x00b", "role": "recorder"})
    assert (r.status_code, _fields(r)) == (422, ["name"])
    r = api.post("/v1/facts/f3/retract", json={"reason": "wrong\x00"})
    assert (r.status_code, _fields(r)) == (422, ["reason"])
    assert api.get("/v1/facts/f3").json()["status"] == "live"
    r = api.post("/v1/receipts", json={"ruleset": "2025", "period": "2025Q1", "note": "a\x00"})
    assert (r.status_code, _fields(r)) == (422, ["note"])
    assert api.get("/v1/facts", params={"subject": "a\x00"}).status_code == 422
    assert api.get("/v1/facts/a%00b").status_code == 404


def test_strings_longer_than_their_column(loaded: FastAPI, api: Client) -> None:
    r = api.post("/v1/tokens", json={"name": "x" * 300, "role": "recorder"})
    assert (r.status_code, _fields(r)) == (422, ["name"])
    made = api.post("/v1/tokens", json={"name": "x" * MAX_ID, "role": "recorder"})
    assert made.status_code == 201
    rec = Client(loaded, made.json()["token"])
    doc = {"id": "long1", "type": "overdue_document", "subject": "nanyue", "date": "2025-03-04"}
    assert rec.post("/v1/facts", json=[doc]).status_code == 201
    assert api.get("/v1/facts/long1").json()["recorded_by"] == "x" * MAX_ID
    for key, size in (("kind", 101), ("name", 401), ("id", MAX_ID + 1)):
        org = example_org("handworked")
        org["units"].append({"id": "new-unit", "name": "新", "kind": "county", "parent": None})
        org["units"][-1][key] = "k" * size
        r = api.put("/v1/org", json=org)
        assert r.status_code == 422, (key, r.text)
    r = api.post("/v1/facts", json=[{**doc, "id": "i" * (MAX_ID + 1)}])
    assert r.status_code == 422


def test_evidence_is_bounded(loaded: FastAPI, api: Client) -> None:
    doc = {"id": "ev1", "type": "overdue_document", "subject": "nanyue", "date": "2025-03-04"}
    r = api.post("/v1/facts", json=[{**doc, "evidence": "文" * (10 << 20)}])
    assert r.status_code in (413, 422), r.text
    if r.status_code == 422:
        assert _fields(r) == ["body[0].evidence"]
    r = api.post("/v1/facts", json=[{**doc, "evidence": "文" * (MAX_TEXT + 1)}])
    assert (r.status_code, _fields(r)) == (422, ["body[0].evidence"])
    assert api.post("/v1/facts", json=[{**doc, "evidence": "文" * MAX_TEXT}]).status_code == 201
    assert len(api.get("/v1/facts/ev1").json()["evidence"]) == MAX_TEXT


# ---- one subject's failing rule ------------------------------------------------------------


K1_RULE = "score if v >= 100 then 30 else max(0, 30 - 3 * (100 - v))"
K1_DIVIDING = "score min(30, 30 * 100 / v)"  # fails on a completion rate of 0, a valid value


def test_a_rule_failing_on_one_subject_leaves_the_others_scored(
    db_url: str, tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules, ignore=shutil.ignore_patterns("tests"))
    county = rules / "2025" / "county.jx"
    county.write_text(county.read_text(encoding="utf-8").replace(K1_RULE, K1_DIVIDING), "utf-8")
    app = make_app(db_url, rules)
    try:
        api = Client(app, token(app, "admin"))
        load_example(api, "handworked")
        zero = {"id": "f2-zero", "data": {"value": 0}}
        assert api.post("/v1/facts/f2/supersede", json=zero).status_code == 201
        r = api.get("/v1/scores", params=Q1)
        assert r.status_code == 200, r.text
        county_rows = {x["subject"]: x for x in r.json()["results"] if x["scorecard"] == "county"}
        failed = county_rows["nanyue"]
        assert failed["final"] is None and failed["rank"] is None
        assert failed["error"]["code"] == "R001"
        assert failed["error"]["facts"] == ["f2-zero"]
        assert failed["error"]["at"].startswith(f"{county}:")
        others = [x for s, x in county_rows.items() if s != "nanyue"]
        assert others and all(x["final"] is not None and "error" not in x for x in others)
        # the year's county results read yearly and dated facts, not the quarter's value
        assert api.get("/v1/scores", params={"period": "2025"}).status_code == 200
        ranking = api.get("/v1/rankings/county", params=Q1).json()["ranking"]
        nanyue = next(x for x in ranking if x["subject"] == "nanyue")
        assert nanyue["rank"] is None and "division by zero" in nanyue["error"]["message"]
        ranks = sorted(x["rank"] for x in ranking if x["subject"] != "nanyue")
        assert ranks[0] == 1 and None not in ranks
        # hengshan (K1 = min(30, 3000/101) = 29.70…, not 30 as under the shipped rule): scored
        assert _final(api, "hengshan") is not None
        explained = api.get("/v1/explanations/nanyue", params=Q1)
        assert explained.status_code == 200
        assert "division by zero" in explained.text
    finally:
        app.state.services.engine.dispose()
