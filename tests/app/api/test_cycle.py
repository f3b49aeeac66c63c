"""The evaluation cycle over HTTP on the handworked 2025 example (SQLite and PostgreSQL):
publish, appeals by nanyue and by hy-policy (lead department of K4, charged through joint
liability), one rejected and one upheld with a correction, approval refused while one is open,
approval, approved score reads, a late batch refused whole, a reopening; the receipts replay and
a webhook receiver gets every event, signed, after being down for the first attempts.

The expected values are worked by hand from the rulebook (§2.1, §2.4):
- nanyue's K4 with f16 provincial (−3) and f17 municipal (−1.5) is 25.5; f16 corrected to
  municipal makes it 27. key = 25.5 + 19 + 12 + 27 = 83.5, general = 36 + 25.5 + 25.275 =
  86.775, base = 0.7 × 83.5 + 0.3 × 86.775 = 84.4825, final = 84.4825 + 4 − 0.5 = 87.9825 →
  87.98 (was 86.9325 → 86.93). hengshan (104.55) stays first, hengdong (vetoed) third: nanyue
  keeps rank 2, tier second (n = 3: first = round(0.9) = 1, third = round(0.3) = 0, veto).
- nanyue-levy-1: 0.9 × (85.8 + 2 − 0 − 0.5) + 0.1 × county = 78.57 + 8.69325 = 87.26325 →
  87.26, after: 78.57 + 8.79825 = 87.36825 → 87.37. nanyue-levy-2: 0.9 × (84.5 − 2) = 74.25;
  82.94325 → 82.94, after 83.04825 → 83.05.
- hy-policy's joint liability is 7.75 before the cap (0.6 × 12 + 0.3 + 0.25) and 7.45 after the
  correction: capped at 3 either way, so its final (87.50) does not move.
"""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import update

from app.cli import main as cli_main
from app.services import trail, webhooks
from app.store.db import transaction
from app.store.models import Cycle, ReceiptResult
from tests.app.api.conftest import RULES, Client, load_example, make_app, token
from tests.dsl.helpers import copy_rules, edit

Q = {"ruleset": "2025"}


class Receiver:
    """A local HTTP server that keeps every event it is sent (by id) and each signature."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.got: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                outer.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def result(api: Client, subject: str) -> dict[str, Any]:
    r = api.get(f"/v1/scores/{subject}", params={"period": "2025Q1"})
    assert r.status_code == 200, r.text
    return dict(r.json()["results"][0])


def effect_of(ruling: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["subject"]: e for e in ruling["effect"]}


@pytest.fixture
def loaded(app: FastAPI, api: Client) -> FastAPI:
    load_example(api, "handworked")
    return app


def test_the_whole_cycle(
    loaded: FastAPI, api: Client, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = loaded.state.services.engine
    nanyue = Client(loaded, token(loaded, "recorder", units=["nanyue"]))
    policy = Client(loaded, token(loaded, "recorder", units=["hy-policy"]))
    committee = Client(loaded, token(loaded, "committee"))
    reader = Client(loaded, token(loaded, "reader"))

    # A receiver subscribes; it is down for the first attempts.
    port = free_port()
    sub = api.post("/v1/webhooks", json={"url": f"http://127.0.0.1:{port}/hook"})
    assert sub.status_code == 201, sub.text
    secret, sub_id = sub.json()["secret"], sub.json()["id"]
    assert sub.json()["events"] == list(webhooks.EVENTS)
    assert reader.post("/v1/webhooks", json={"url": "http://x.test/"}).status_code == 403

    # 公示
    assert reader.post("/v1/cycles/2025Q1/publish", params=Q).status_code == 403
    r = api.post("/v1/cycles/2025Q1/publish", params=Q)
    assert r.status_code == 200, r.text
    pub = r.json()
    assert pub["state"] == "published"
    assert pub["notice_until"] == (datetime.now(UTC).date() + timedelta(days=5)).isoformat()
    published_receipt = pub["receipt"]
    assert api.post("/v1/cycles/2025Q1/publish", params=Q).status_code == 409
    first = webhooks.deliver_due(engine, backoff=timedelta(seconds=1))
    assert (first.delivered, first.retried) == (0, 1)  # refused: nobody listens yet

    # 申诉: nanyue on its own K4 line; hy-policy on what it was charged for nanyue's notice.
    appeal_nanyue = {
        "ruleset": "2025",
        "period": "2025Q1",
        "subject": "nanyue",
        "indicator": "K4",
        "facts": ["f16"],
        "reason": "督察问题经省局复查认定为市级问题",
        "evidence": "湘税督〔2025〕18号",
    }
    r = nanyue.post("/v1/appeals", json=appeal_nanyue)
    assert r.status_code == 201, r.text
    a1 = r.json()
    assert (a1["state"], a1["subject"], a1["facts"]) == ("open", "nanyue", ["f16"])
    appeal_policy = {
        "period": "2025Q1",
        "subject": "hy-policy",
        "facts": ["f42"],
        "reason": "通报批评所涉事项不属本科室牵头",
        "evidence": "衡税办〔2025〕7号",
    }
    r = policy.post("/v1/appeals", json=appeal_policy)
    assert r.status_code == 201, r.text
    a2 = r.json()
    # Outside the token's units, and not the lead of the indicator named: refused.
    r = nanyue.post("/v1/appeals", json={**appeal_nanyue, "subject": "hengshan", "facts": []})
    assert r.status_code == 403
    # The lead department of K4 may appeal nanyue's K4 line.
    lead = {**appeal_nanyue, "facts": ["f17"], "reason": "复核"}
    assert policy.post("/v1/appeals", json={**lead, "indicator": "K1"}).status_code == 403
    # A fact that does not count in the subject's result cannot be disputed.
    r = policy.post("/v1/appeals", json={**appeal_policy, "facts": ["f42", "f1"]})
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "body.facts[1]"
    assert committee.post("/v1/appeals", json=appeal_policy).status_code == 403

    # 裁定: hy-policy's is rejected.
    assert nanyue.post(f"/v1/appeals/{a2['id']}/ruling", json={}).status_code in (403, 422)
    r = committee.post(
        f"/v1/appeals/{a2['id']}/ruling",
        json={"decision": "rejected", "reason": "通报批评明确指向K4，牵头科室承担连带责任"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "rejected" and r.json()["ruling"]["effect"] == []

    # 审定 is refused while nanyue's appeal is open.
    r = api.post("/v1/cycles/2025Q1/approve", params=Q)
    assert r.status_code == 409 and str(a1["id"]) in r.json()["message"]

    # nanyue's is upheld: f16 corrected to a municipal issue.
    before = result(api, "nanyue")
    assert (before["final"], before["rank"], before["tier"]) == ("86.93", 2, "second")
    ruling = {
        "decision": "upheld",
        "reason": "复核属实，改按市级问题扣分",
        "corrections": [{"supersedes": "f16", "data": {"level": "municipal"}}],
    }
    r = committee.post(f"/v1/appeals/{a1['id']}/ruling", json=ruling)
    assert r.status_code == 200, r.text
    ruled = r.json()
    assert ruled["state"] == "upheld"
    effect = effect_of(ruled["ruling"])
    assert set(effect) == {"nanyue", "nanyue-levy-1", "nanyue-levy-2"}
    assert effect["nanyue"]["old"] == {"final": "86.93", "rank": 2, "tier": "second", "grade": None}
    assert effect["nanyue"]["new"] == {"final": "87.98", "rank": 2, "tier": "second", "grade": None}
    assert (effect["nanyue-levy-1"]["old"]["final"], effect["nanyue-levy-1"]["new"]["final"]) == (
        "87.26",
        "87.37",
    )
    assert effect["nanyue-levy-2"]["new"]["final"] == "83.05"
    after = result(api, "nanyue")
    assert (after["final"], after["rank"], after["tier"]) == ("87.98", 2, "second")
    assert result(api, "hy-policy")["final"] == "87.50"
    fixed = api.get("/v1/facts/appeal-1-1").json()
    assert fixed["supersedes"] == "f16" and fixed["data"]["level"] == "municipal"
    assert fixed["data"]["responsible"] == "nanyue-levy-1"
    assert f"申诉第{a1['id']}号裁定" in fixed["evidence"]
    assert committee.post(f"/v1/appeals/{a1['id']}/ruling", json=ruling).status_code == 409

    # Filing after the notice period: refused with the date it ended.
    ended = date.today() - timedelta(days=1)
    with transaction(engine) as session:
        session.execute(update(Cycle).values(notice_until=ended))
    r = nanyue.post("/v1/appeals", json=appeal_nanyue)
    assert r.status_code == 409 and ended.isoformat() in r.json()["message"]

    listed = api.get("/v1/appeals", params={"state": "upheld"}).json()["appeals"]
    assert [a["id"] for a in listed] == [a1["id"]]
    assert api.get(f"/v1/appeals/{a2['id']}").json()["ruling"]["decision"] == "rejected"

    # 审定
    assert committee.post("/v1/cycles/2025Q1/approve", params=Q).status_code == 403
    r = api.post("/v1/cycles/2025Q1/approve", params=Q)
    assert r.status_code == 200, r.text
    approved = r.json()
    assert approved["state"] == "approved"
    approved_receipt = approved["receipt"]
    assert approved_receipt != published_receipt

    r = reader.get("/v1/scores/nanyue", params={"period": "2025Q1"})
    assert r.status_code == 200
    assert r.headers["x-jixiao-state"] == "approved"
    assert r.headers["x-jixiao-receipt"] == str(approved_receipt)
    assert r.json()["state"] == "approved" and r.json()["results"][0]["final"] == "87.98"
    ranking = reader.get("/v1/rankings/county_bureaus", params={"period": "2025Q1"}).json()
    assert ranking["approved"]["receipt"] == approved_receipt
    assert [x["subject"] for x in ranking["ranking"]] == ["hengshan", "nanyue", "hengdong"]

    # A batch with one fact of the approved quarter is refused whole (409, naming the cycle).
    late = [
        {"id": "q2-ok", "type": "overdue_document", "subject": "nanyue", "date": "2025-04-03"},
        {"id": "q1-late", "type": "overdue_document", "subject": "nanyue", "date": "2025-03-30"},
    ]
    r = api.post("/v1/facts", json=late)
    assert r.status_code == 409, r.text
    msg = r.json()["message"]
    assert "2025Q1" in msg and "approved by" in msg and approved["approved_at"][:19] in msg
    assert api.get("/v1/facts/q2-ok").status_code == 404
    assert api.get("/v1/facts/q1-late").status_code == 404
    assert api.post("/v1/facts/f17/retract", json={"reason": "x"}).status_code == 409
    assert api.post("/v1/facts", json=late[:1]).status_code == 201  # Q2 alone is open

    # Both receipts replay.
    monkeypatch.setenv("JIXIAO_DATABASE_URL", db_url)
    assert cli_main(["replay", str(published_receipt)]) == 0
    assert cli_main(["replay", str(approved_receipt)]) == 0

    # Reopen (admin, with a reason): facts of the quarter are taken again.
    assert api.post("/v1/cycles/2025Q1/reopen", params=Q, json={}).status_code == 422
    r = api.post("/v1/cycles/2025Q1/reopen", params=Q, json={"reason": "省局通知补录"})
    assert r.status_code == 200 and r.json()["state"] == "open"
    assert api.post("/v1/facts", json=late[1:]).status_code == 201
    assert "x-jixiao-state" not in reader.get("/v1/scores", params={"period": "2025Q1"}).headers
    assert result(api, "nanyue")["final"] == "87.38"  # G1 36 → 34: 87.9825 − 0.3 × 2 = 87.3825

    st = api.get("/v1/cycles/2025Q1", params=Q).json()
    assert st["state"] == "open"
    kinds = [h["kind"] for h in st["history"]]
    assert kinds == [
        "cycle.published",
        "appeal.filed",
        "appeal.filed",
        "appeal.ruled",
        "appeal.ruled",
        "cycle.approved",
        "cycle.reopened",
    ]
    assert st["history"][-1]["why"] == "省局通知补录"
    assert all(h["by"] and h["at"] for h in st["history"])
    assert [(x["kind"], x["receipt"]) for x in st["receipts"]] == [
        ("published", published_receipt),
        ("approved", approved_receipt),
    ]
    assert [a["state"] for a in st["appeals"]] == ["upheld", "rejected"]

    # The receiver comes up; every event arrives once, signed.
    with Receiver(port) as rx:
        later = datetime.now(UTC) + timedelta(minutes=10)
        sent = webhooks.deliver_due(engine, now=later)
        assert sent.delivered == 7 and sent.failed == 0
        assert webhooks.deliver_due(engine, now=later + timedelta(hours=1)).delivered == 0
    events: dict[str, str] = {}
    for headers, body in rx.got:
        assert webhooks.verify(secret, body, headers["x-jixiao-signature"])
        payload = json.loads(body)
        assert payload["id"] == headers["x-jixiao-event-id"]
        events[payload["id"]] = payload["event"]
    assert sorted(events.values()) == sorted(kinds)
    log = api.get(f"/v1/webhooks/{sub_id}/deliveries").json()["deliveries"]
    assert all(d["state"] == "delivered" for d in log)
    published_log = next(d for d in log if d["event"] == "cycle.published")
    assert [x["status"] for x in published_log["log"]] == [None, 204]
    assert published_log["log"][0]["error"]

    # Every step is in the audit trail, the ruling's correction as a write of facts, and the
    # chains hold.
    entries: list[dict[str, Any]] = api.get("/v1/audit", params={"limit": trail.MAX_PAGE}).json()[
        "entries"
    ]
    kinds_seen = [e["kind"] for e in entries]
    for kind in ("cycle.published", "appeal.filed", "appeal.ruled", "cycle.approved"):
        assert kind in kinds_seen, kind
    rulings = [i for i, e in enumerate(entries) if e["kind"] == "appeal.ruled"]
    assert len(rulings) == 2
    # the upheld ruling's correction is written, and recorded, just before the ruling
    prior = [entries[i - 1] for i in rulings]
    wrote = [e for e in prior if e["kind"] in ("fact.correct", "facts.record")]
    assert len(wrote) == 1 and wrote[0]["target"].startswith("fact:")
    assert trail.verify(engine).ok


def test_year_needs_its_quarters(loaded: FastAPI, api: Client) -> None:
    """The year is approved after its four quarters, from their approved finals: a person's
    year is the mean of the approved quarterly finals (§2.4)."""
    assert api.post("/v1/cycles/2025/publish", params=Q).status_code == 200
    r = api.post("/v1/cycles/2025/approve", params=Q)
    assert r.status_code == 409
    assert "2025Q1, 2025Q2, 2025Q3, 2025Q4" in r.json()["message"]
    receipts = {}
    for q in ("2025Q1", "2025Q2", "2025Q3", "2025Q4"):
        assert api.post(f"/v1/cycles/{q}/publish", params=Q).status_code == 200
        r = api.post(f"/v1/cycles/{q}/approve", params=Q)
        assert r.status_code == 200, r.text
        receipts[q] = r.json()["receipt"]

    # A quarter's approved final that the year would not reproduce: the year is refused.
    engine = loaded.state.services.engine
    with transaction(engine) as session:
        row = session.get(ReceiptResult, (receipts["2025Q1"], "person", "nanyue-levy-1"))
        assert row is not None and row.final == Decimal("87.26")
        row.final = Decimal("90.00")
    r = api.post("/v1/cycles/2025/approve", params=Q)
    assert r.status_code == 409 and "nanyue-levy-1 (person)" in r.json()["message"]
    with transaction(engine) as session:
        row = session.get(ReceiptResult, (receipts["2025Q1"], "person", "nanyue-levy-1"))
        assert row is not None
        row.final = Decimal("87.26")

    r = api.post("/v1/cycles/2025/approve", params=Q)
    assert r.status_code == 200, r.text
    year = api.get("/v1/scores/nanyue-levy-1", params={"period": "2025"}).json()
    assert year["state"] == "approved"
    # Q1 87.26; Q2–Q4 without facts: 0.9 × 0 + 0.1 × 60 (nanyue's floor) = 6.00 each;
    # the year is their mean, (87.26 + 18) / 4 = 26.315 → 26.32 (as expected-2025.json says)
    assert year["results"][0]["quarters"] == ["87.26", "6.00", "6.00", "6.00"]
    assert year["results"][0]["final"] == "26.32"
    # A quarter of an approved year is not reopened before the year.
    assert api.post("/v1/cycles/2025Q1/reopen", params=Q, json={"reason": "x"}).status_code == 409
    assert api.post("/v1/cycles/2025/reopen", params=Q, json={"reason": "x"}).status_code == 200


def test_open_cycle_refuses_appeals_and_approval(loaded: FastAPI, api: Client) -> None:
    body = {"period": "2025Q1", "subject": "nanyue", "reason": "x"}
    assert api.post("/v1/appeals", json=body).status_code == 409
    assert api.post("/v1/cycles/2025Q1/approve", params=Q).status_code == 409
    st = api.get("/v1/cycles/2025Q1", params=Q).json()
    assert (st["state"], st["history"], st["appeals"]) == ("open", [], [])
    assert api.post("/v1/cycles/2025Q9/publish", params=Q).status_code == 422


def test_late_facts_count_in_the_next_open_period(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `counts_in next open period` on overdue_document, a late one of the approved
    2025Q1 is recorded into 2025Q2 (the next open quarter); other late facts are still refused,
    and Q1's approved results do not move."""
    rules = tmp_path / "rules"
    copy_rules(RULES / "2025", rules / "2025")
    edit(
        rules / "2025" / "facts.jx",
        'fact overdue_document "公文办理超期" dated on unit {}',
        'fact overdue_document "公文办理超期" dated on unit {} counts_in next open period',
    )
    app = make_app(db_url, rules)
    try:
        api = Client(app, token(app, "admin"))
        load_example(api, "handworked")
        assert api.post("/v1/cycles/2025Q1/publish", params=Q).status_code == 200
        assert api.post("/v1/cycles/2025Q1/approve", params=Q).status_code == 200
        q2_before = api.get("/v1/scores/nanyue", params={"period": "2025Q2"}).json()
        assert q2_before["results"][0]["indicators"]["G1"] == "40.00"
        late = {"id": "late-1", "type": "overdue_document", "subject": "nanyue",
                "date": "2025-03-28"}  # fmt: skip
        refused = {"id": "late-2", "type": "inspection_issue", "subject": "nanyue",
                   "date": "2025-03-28", "data": {"level": "municipal"}}  # fmt: skip
        assert api.post("/v1/facts", json=[late, refused]).status_code == 409
        assert api.get("/v1/facts/late-1").status_code == 404
        r = api.post("/v1/facts", json=[late])
        assert r.status_code == 201, r.text
        assert api.get("/v1/facts/late-1").json()["date"] == "2025-03-28"
        q1 = api.get("/v1/scores/nanyue", params={"period": "2025Q1"}).json()
        assert q1["state"] == "approved" and q1["results"][0]["final"] == "86.93"
        q2 = api.get("/v1/scores/nanyue", params={"period": "2025Q2"}).json()
        assert q2["results"][0]["indicators"]["G1"] == "38.00"  # 40 − 2 for the late document
        # Q2 approved too: the next open quarter is Q3.
        assert api.post("/v1/cycles/2025Q2/publish", params=Q).status_code == 200
        assert api.post("/v1/cycles/2025Q2/approve", params=Q).status_code == 200
        late3 = {**late, "id": "late-3", "date": "2025-01-20"}
        assert api.post("/v1/facts", json=[late3]).status_code == 201
        q3 = api.get("/v1/scores/nanyue", params={"period": "2025Q3"}).json()
        assert q3["results"][0]["indicators"]["G1"] == "38.00"
        q2_after = api.get("/v1/scores/nanyue", params={"period": "2025Q2"}).json()
        assert q2_after["results"][0]["indicators"]["G1"] == "38.00"
        # The year counts each late document once, in the quarter it was placed in.
        year = api.get("/v1/scores/nanyue", params={"period": "2025"}).json()
        assert year["results"][0]["indicators"]["G1"] == "32.00"  # 40 − 2 × (2 + 2)
    finally:
        app.state.services.engine.dispose()


def test_lead_departments_appeal_their_indicator(loaded: FastAPI, api: Client) -> None:
    """税政科 leads K4 (§2.1): it may appeal nanyue's K4 line; 收入核算科 leads K1 only."""
    assert api.post("/v1/cycles/2025Q1/publish", params=Q).status_code == 200
    policy = Client(loaded, token(loaded, "recorder", units=["hy-policy"]))
    revenue = Client(loaded, token(loaded, "recorder", units=["hy-revenue"]))
    k4 = {"period": "2025Q1", "subject": "nanyue", "indicator": "K4", "facts": ["f17"],
          "reason": "该问题已由省局撤销"}  # fmt: skip
    r = policy.post("/v1/appeals", json=k4)
    assert r.status_code == 201, r.text
    assert revenue.post("/v1/appeals", json=k4).status_code == 403
    k1 = {**k4, "indicator": "K1", "facts": ["f2"], "reason": "完成率按更正后口径"}
    assert revenue.post("/v1/appeals", json=k1).status_code == 201
    # f1 was superseded by f2: it no longer counts, so it cannot be disputed.
    r = revenue.post("/v1/appeals", json={**k1, "facts": ["f1"]})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "body.facts[0]"
    # An item (加减分) is a line too; an unknown one is refused, naming the field.
    item = {**k4, "indicator": "criticism_notice", "facts": ["f42"], "reason": "通报已撤销"}
    nanyue = Client(loaded, token(loaded, "recorder", units=["nanyue"]))
    assert nanyue.post("/v1/appeals", json=item).status_code == 201
    r = nanyue.post("/v1/appeals", json={**item, "indicator": "K9"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "body.indicator"
    listed = api.get("/v1/appeals", params={"subject": "nanyue", "state": "open"}).json()
    assert len(listed["appeals"]) == 3
    # A ruling acts on the cycle's period only.
    q2 = {"id": "q2-doc", "type": "overdue_document", "subject": "nanyue", "date": "2025-05-06"}
    assert api.post("/v1/facts", json=[q2]).status_code == 201
    first = listed["appeals"][0]["id"]
    for fix, field in (
        ({"retract": "q2-doc"}, "body.corrections[0].retract"),
        ({"supersedes": "f17", "date": "2025-04-02"}, "body.corrections"),
        ({"supersedes": "f17", "data": ["municipal"]}, "body.corrections[0].data"),
        ({"retract": "nothing"}, "body.corrections[0].retract"),
    ):
        body = {"decision": "upheld", "reason": "x", "corrections": [fix]}
        r = api.post(f"/v1/appeals/{first}/ruling", json=body)
        assert r.status_code == 422, (fix, r.text)
        assert r.json()["details"][0]["field"] == field
    assert api.get(f"/v1/appeals/{first}").json()["state"] == "open"
    assert api.get("/v1/facts/q2-doc").json()["status"] == "live"
    assert api.get("/v1/appeals/999").status_code == 404
