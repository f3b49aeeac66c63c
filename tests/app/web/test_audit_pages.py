"""The auditors' pages: the diff of 2024 and 2025, the impact on the hand-worked facts, and
a receipt kept from a form and replayed."""

from __future__ import annotations

import json
import re

from fastapi import FastAPI

from tests.app.api.conftest import EXAMPLES
from tests.app.web.conftest import signed_in

UNDER_2024 = json.loads(
    (EXAMPLES / "handworked" / "expected-2025Q1-under-2024-rules.json").read_text()
)
UNDER_2025 = json.loads((EXAMPLES / "handworked" / "expected-2025Q1.json").read_text())


def test_diff_shows_each_change_with_both_sides_source(sqlite_example_app: FastAPI) -> None:
    web = signed_in(sqlite_example_app, "auditor")
    r = web.get("/audit/diff?from=2024&to=2025")
    assert r.status_code == 200
    api = sqlite_example_app.state.services.registry
    from app.services.audit import diff

    changes = diff(api, "2024", "2025").changes
    assert r.text.count('class="panel change') == len(changes)
    # K2's points: 25 in 2024, 20 in 2025, each linked to its own year's line
    k2 = re.search(r"指标 K2</h2>|指标 K2 <span", r.text)
    assert k2 is not None
    assert 'href="/rulesets/2024/files/county.jx#L14"' in r.text
    assert 'href="/rulesets/2025/files/county.jx#L14"' in r.text


def test_impact_shows_the_deltas_of_the_hand_worked_facts(sqlite_example_app: FastAPI) -> None:
    web = signed_in(sqlite_example_app, "auditor")
    r = web.get("/audit/impact?from=2024&to=2025&period=2025Q1")
    assert r.status_code == 200
    old = {x["subject"]: x for x in UNDER_2024["results"]}
    new = {x["subject"]: x for x in UNDER_2025["results"]}
    # hengshan: 95.00 under 2024, 104.55 under 2025 (both computed by hand): +9.55
    assert old["hengshan"]["final"] == "95.00" and new["hengshan"]["final"] == "104.55"
    row = re.search(r"衡山县税务局</a>.*?</tr>", r.text, re.S)
    assert row is not None
    assert ">9.55<" in row.group(0)
    chart = re.search(r'class="chart-data">(.*?)</script>', r.text, re.S)
    assert chart is not None
    histogram = json.loads(chart.group(1))
    both = [s for s in new if s in old and old[s]["final"] and new[s]["final"]]
    assert sum(histogram["counts"]) == len(both)


def test_a_receipt_is_kept_from_the_form_and_replays(sqlite_example_app: FastAPI) -> None:
    web = signed_in(sqlite_example_app, "auditor")
    r = web.post_form("/audit/receipts", {"period": "2025Q1", "note": "公示前留存"})
    assert r.status_code == 303
    page = web.get(r.headers["location"])
    assert page.status_code == 200 and "公示前留存" in page.text
    rid = r.headers["location"].rsplit("/", 1)[-1]
    assert web.post_form(f"/audit/receipts/{rid}/replay", {}, csrf=False).status_code == 403
    replayed = web.post_form(f"/audit/receipts/{rid}/replay", {})
    assert replayed.status_code == 200 and "复算一致" in replayed.text
    assert f'href="/audit/receipts/{rid}"' in web.get("/audit").text


def test_readers_cannot_reach_the_auditors_pages(sqlite_example_app: FastAPI) -> None:
    web = signed_in(sqlite_example_app, "reader")
    assert web.get("/audit/diff?from=2024&to=2025").status_code == 403
    r = web.post_form("/audit/receipts", {"period": "2025Q1"})
    assert r.status_code == 403
