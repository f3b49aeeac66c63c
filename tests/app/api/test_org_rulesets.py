"""Organisation and rulesets over HTTP: validation, bulk puts, reload refusing a broken year."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.app.api.conftest import RULES, Client, example_org, load_example, make_app, token


def test_org_validation_names_the_item(api: Client) -> None:
    org = example_org("handworked")
    org["units"][2]["parent"] = "atlantis"
    r = api.put("/v1/org", json=org)
    assert r.status_code == 422
    assert r.json()["details"] == [
        {"field": "body.units[2].parent", "message": "unknown unit 'atlantis'"}
    ]


def test_org_changes_need_a_date_and_bulk_puts_keep_the_rest(api: Client) -> None:
    load_example(api, "handworked")
    unit = {"id": "nanyue-audit", "name": "稽查股", "kind": "county_dept", "parent": "nanyue"}
    r = api.put("/v1/org/units", json=[unit])
    assert r.status_code == 409  # the change conflicts with the recorded organisation
    assert r.json()["details"][0]["field"] == "query.from"
    r = api.put("/v1/org/units", params={"from": "2025-04-01"}, json=[unit])
    assert r.status_code == 200 and r.json()["units"] == 1
    assert api.get("/v1/org/units/nanyue-audit", params={"at": "2025-03-31"}).status_code == 404
    assert api.get("/v1/org/units/nanyue-audit").json()["parent"] == "nanyue"
    persons = api.get("/v1/org/persons").json()
    assert len(persons) == len(example_org("handworked")["persons"])
    assert api.get("/v1/org/persons/nanyue-levy-1").json()["attrs"]["workload"] == 100


def test_rulesets_listed_and_described(api: Client) -> None:
    listed = api.get("/v1/rulesets").json()["rulesets"]
    assert [r["year"] for r in listed] == [2024, 2025, 2026]
    one = api.get("/v1/rulesets/2025").json()
    assert one["digest"] == listed[1]["digest"]
    assert api.get(f"/v1/rulesets/{one['digest'][:10]}").json()["year"] == 2025
    county = next(c for c in one["scorecards"] if c["id"] == "county")
    k1 = county["parts"][0]["indicators"][0]
    assert (k1["id"], k1["points"], k1["lead"]) == ("K1", 30, "hy-revenue")


def test_check_returns_diagnostics_and_loads_nothing(api: Client) -> None:
    text = (RULES / "2025" / "facts.jx").read_text(encoding="utf-8")
    r = api.post("/v1/rulesets/check", json={"files": {"facts.jx": text + "\nfact bad {"}})
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is False and body["errors"] >= 1
    assert body["diagnostics"][0]["path"] == "facts.jx"
    assert len(api.get("/v1/rulesets").json()["rulesets"]) == 3


def test_reload_refuses_a_broken_year_and_keeps_the_old(sqlite_url: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES / "2025", rules / "2025", ignore=shutil.ignore_patterns("tests"))
    app = make_app(sqlite_url, rules)
    admin = Client(app, token(app, "admin"))
    load_example(admin, "handworked")
    before = admin.get("/v1/rulesets/2025").json()["digest"]
    county = rules / "2025" / "county.jx"
    county.write_text(county.read_text(encoding="utf-8") + "\nscorecard {", encoding="utf-8")
    r = admin.post("/v1/rulesets/reload")
    assert r.status_code == 422
    detail = r.json()["details"][0]
    assert detail["folder"].endswith("2025") and detail["path"].endswith("county.jx")
    assert admin.get("/v1/rulesets/2025").json()["digest"] == before
    r = admin.get("/v1/scores/nanyue", params={"period": "2025Q1"})
    assert r.json()["results"][0]["final"] == "86.93"
    text = county.read_text(encoding="utf-8").replace("\nscorecard {", "")
    county.write_text(text.replace("points 30", "points 30 ", 1), encoding="utf-8")
    assert admin.post("/v1/rulesets/reload").json()["folders"][0]["status"] == "unchanged"


def test_receipts_keep_and_replay(api: Client) -> None:
    load_example(api, "handworked")
    seen = api.get("/v1/scores", params={"period": "2025Q1"})
    wm = seen.headers["x-jixiao-watermark"]
    kept = api.post("/v1/receipts", json={"period": "2025Q1", "watermark": wm, "publish": True})
    assert kept.status_code == 201, kept.text
    rid = kept.json()["id"]
    assert api.get(f"/v1/receipts/{rid}").json()["published"] is True
    assert api.post(f"/v1/receipts/{rid}/replay").json()["same"] is True
    api.post("/v1/facts/f5/retract", json={"reason": "duplicate"})
    stale = api.post("/v1/receipts", json={"period": "2025Q1", "watermark": wm})
    assert stale.status_code == 409
