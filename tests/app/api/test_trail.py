"""The audit trail over the API: one entry per write with actor, role and request id;
X-Request-ID; GET /v1/audit (roles, filters, cursor)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from app.services import trail
from tests.app.api.conftest import Client, example_facts, example_org, token
from tests.app.conftest import RULES

ADMIN = "test admin"  # the name `token()` gives the admin token of `api`


def _entries(api: Client, **params: Any) -> list[dict[str, Any]]:
    r = api.get("/v1/audit", params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return list(r.json()["entries"])


def _one_more(api: Client, method: str, url: str, rid: str, **kw: Any) -> dict[str, Any]:
    """Makes the request with X-Request-ID `rid`; asserts it left exactly one entry, in
    that request, and returns it."""
    before = _entries(api)
    r = api.request(method, url, headers={"X-Request-ID": rid}, **kw)
    assert r.status_code < 300, r.text
    assert r.headers["x-request-id"] == rid
    after = _entries(api)
    assert after[: len(before)] == before
    new = after[len(before) :]
    assert len(new) == 1, new
    entry = new[0]
    assert (entry["actor"], entry["role"], entry["request_id"]) == (ADMIN, "admin", rid)
    return entry


def test_every_write_kind_leaves_one_entry(api: Client) -> None:
    org = example_org("handworked")
    e = _one_more(api, "PUT", "/v1/org", "r-org", json=org)
    assert e["kind"] == "org.import" and e["target"] == "org:revision:1"
    assert e["change"]["unit_versions"] == len(org["units"])
    assert e["change"]["person_versions"] == len(org.get("persons", []))

    facts = example_facts("handworked")
    e = _one_more(api, "POST", "/v1/facts", "r-facts", json=facts)
    assert e["kind"] == "facts.record"
    assert e["change"]["count"] == len(facts)
    assert (e["change"]["first_seq"], e["change"]["last_seq"]) == (1, len(facts))
    assert e["change"]["ids"] == [f["id"] for f in facts]

    assert e["change"]["corrections"] == sum("supersedes" in f for f in facts)

    body = {"id": "fix-1", "data": {"value": 100}, "evidence": "recounted"}
    e = _one_more(api, "POST", "/v1/facts/f3/supersede", "r-fix", json=body)
    assert e["kind"] == "fact.correct" and e["target"] == "fact:f3"
    assert e["change"]["ids"] == ["fix-1"] and e["change"]["supersedes"] == ["f3"]
    assert e["change"]["first_seq"] == e["change"]["last_seq"] == len(facts) + 1

    e = _one_more(api, "POST", "/v1/facts/f5/retract", "r-retract", json={"reason": "twice"})
    assert e["kind"] == "fact.retract" and e["target"] == "fact:f5"
    assert e["change"]["reason"] == "twice" and e["change"]["seq"] == 5

    e = _one_more(api, "POST", "/v1/tokens", "r-token", json={"role": "reader", "name": "读者"})
    assert e["kind"] == "token.create" and e["change"]["name"] == "读者"
    tid = int(e["target"].split(":")[1])
    e = _one_more(api, "DELETE", f"/v1/tokens/{tid}", "r-revoke")
    assert (e["kind"], e["target"]) == ("token.revoke", f"token:{tid}")

    e = _one_more(api, "POST", "/v1/rulesets/reload", "r-reload")
    assert e["kind"] == "rulesets.reload"
    assert {f["status"] for f in e["change"]["folders"]} == {"unchanged"}

    e = _one_more(api, "POST", "/v1/receipts", "r-receipt", json={"period": "2025Q1"})
    assert e["kind"] == "receipt.keep" and e["change"]["period"] == "2025Q1"


def test_writes_that_change_nothing_record_nothing(api: Client) -> None:
    api.put("/v1/org", json=example_org("handworked"))
    facts = example_facts("handworked")
    api.post("/v1/facts", json=facts)
    before = _entries(api)
    assert api.put("/v1/org", json=example_org("handworked")).status_code == 200
    assert api.post("/v1/facts", json=facts).status_code in (200, 201)
    assert _entries(api) == before


def test_a_request_id_is_kept_when_sane_and_made_otherwise(api: Client) -> None:
    ok = "Abc-123_x.y:z"
    assert api.get("/v1/health", headers={"X-Request-ID": ok}).headers["x-request-id"] == ok
    for bad in ("has space", "x" * 129, "-leading", "引号".encode()):
        got = api.get("/v1/version", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", got)
    made = api.get("/v1/health").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert made != api.get("/v1/health").headers["x-request-id"]
    # an error's answer names its request too
    assert api.get("/v1/nothing-here").headers["x-request-id"]


def test_who_may_read_the_trail(app: Any, api: Client) -> None:
    for role, status in (("reader", 403), ("recorder", 403), ("auditor", 200), ("admin", 200)):
        assert Client(app, token(app, role)).get("/v1/audit").status_code == status
    assert Client(app, None).get("/v1/audit").status_code == 401


def test_filters_and_cursor(app: Any, api: Client) -> None:
    api.put("/v1/org", json=example_org("handworked"))
    recorder = Client(app, token(app, "recorder"))
    facts = example_facts("handworked")
    for f in facts[2:5]:
        body = {k: v for k, v in f.items() if k != "id"}
        r = recorder.put(f"/v1/facts/{f['id']}", json=body)
        assert r.status_code in (200, 201), r.text
    everything = _entries(api)
    # the server's start registered each year's ruleset and recorded the load; `token()`
    # makes its tokens locally (actor "tester", role local)
    years = len([p for p in RULES.iterdir() if p.is_dir() and p.name.isdigit()])
    assert [e["kind"] for e in everything] == [
        *["ruleset.register"] * years,
        "rulesets.reload",
        "token.create",
        "org.import",
        "token.create",
        "facts.record",
        "facts.record",
        "facts.record",
    ]
    n = len(everything)
    assert [e["id"] for e in everything] == list(range(1, n + 1))
    assert {e["role"] for e in everything[: years + 2]} == {trail.LOCAL}
    by_recorder = _entries(api, actor="test recorder")
    assert [e["change"]["ids"] for e in by_recorder] == [["f3"], ["f4"], ["f5"]]
    assert all(e["role"] == "recorder" for e in by_recorder)
    assert [e["id"] for e in _entries(api, kind="token.create")] == [years + 2, years + 4]
    assert [e["id"] for e in _entries(api, kind="facts.*")] == [n - 2, n - 1, n]
    assert _entries(api, kind="fact.*") == []
    # paging: two at a time, each page continuing after the last
    seen: list[dict[str, Any]] = []
    cursor = 0
    while True:
        page = api.get("/v1/audit", params={"limit": 2, "cursor": cursor}).json()
        seen.extend(page["entries"])
        if page["next"] is None:
            break
        assert page["next"] == page["entries"][-1]["id"]
        cursor = page["next"]
    assert seen == everything
    # time range: from the fifth entry's time on; nothing before the first
    fifth = datetime.fromisoformat(everything[4]["at"])
    assert _entries(api, since=fifth.isoformat())[0]["id"] <= 5
    assert all(
        datetime.fromisoformat(e["at"]) >= fifth for e in _entries(api, since=fifth.isoformat())
    )
    assert _entries(api, until=datetime.fromisoformat(everything[0]["at"]).isoformat()) == []
    later = (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None).isoformat()
    assert _entries(api, since=later) == []
    assert len(_entries(api, until=later)) == n


def test_bad_filters_are_4xx_naming_the_field(api: Client) -> None:
    r = api.get("/v1/audit", params={"since": "yesterday"})
    assert r.status_code == 422 and "since" in r.text
    r = api.get("/v1/audit", params={"cursor": -1})
    assert r.status_code == 422 and "cursor" in r.text
    r = api.get("/v1/audit", params={"since": "2026-02-01", "until": "2026-01-01"})
    assert r.status_code == 422 and "until" in r.text
