"""The analysis endpoints on the hand-worked example, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl

from app.api.schemas_analysis import LostPointsOut
from tests.app.api.conftest import EXAMPLES, Client, example_facts, load_example
from tests.conftest import REPO_ROOT

PARAMS = {"ruleset": "2025", "period": "2025Q1", "scorecard": "county"}


def test_lost_points_shape_and_values(api: Client) -> None:
    load_example(api, "handworked")
    r = api.get("/v1/analysis/lost-points", params=PARAMS)
    assert r.status_code == 200, r.text
    body = r.json()
    LostPointsOut.model_validate(body)  # every key declared, none missing
    nanyue = next(s for s in body["subjects"] if s["subject"] == "nanyue")
    assert (nanyue["name"], nanyue["final"], nanyue["lost"]) == ("南岳区税务局", "86.93", "16.57")
    k4 = next(i for i in nanyue["indicators"] if i["indicator"] == "K4")
    assert (k4["title"], k4["points"], k4["score"], k4["lost"]) == (
        "减税降费落实",
        "30.00",
        "25.50",
        "4.50",
    )
    assert k4["facts"] == ["f16", "f17"]
    assert k4["causes"][0]["evidence"] == "湘税督〔2025〕12号"
    policy = next(d for d in body["departments"] if d["department"] == "hy-policy")
    assert policy["joint"]["received"] == "3.00"
    assert [c["period"] for c in body["compared"]] == ["2024Q4", "2024Q1"]
    assert body["watermark"]["token"]


def test_lost_points_as_a_workbook(api: Client) -> None:
    """`format=xlsx`: the workbook of the same analysis; nanyue's K4 lost 4.50 (30 − 25.50:
    f16 provincial 3.00, f17 municipal 1.50), its total 16.57 as in the JSON above."""
    load_example(api, "handworked")
    r = api.get("/v1/analysis/lost-points", params={**PARAMS, "format": "xlsx"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "lost-points-county-2025Q1.xlsx" in r.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    ws = wb["失分汇总"]
    head = [c.value for c in ws[1]]
    rows = {row[1]: row for row in ws.iter_rows(min_row=3, values_only=True)}
    nanyue = rows["nanyue"]
    assert nanyue[2] == "南岳区税务局"
    assert Decimal(str(nanyue[head.index("失分")])) == Decimal("16.57")
    k4 = next(i for i, h in enumerate(head) if isinstance(h, str) and h.startswith("K4"))
    assert Decimal(str(nanyue[k4])) == Decimal("4.50")


def test_a_warm_read_is_kept_and_a_new_fact_makes_it_anew(api: Client) -> None:
    load_example(api, "handworked")
    svc = api.app.state.services
    first = api.get("/v1/analysis/lost-points", params=PARAMS)
    fills = svc.cache.fills
    again = api.get("/v1/analysis/lost-points", params=PARAMS)
    assert again.content == first.content and svc.cache.fills == fills
    fact = {"id": "n1", "type": "inspection_issue", "subject": "nanyue", "date": "2025-03-30",
            "data": {"level": "municipal"}}  # fmt: skip
    assert api.post("/v1/facts", json=[fact]).status_code == 201
    body = api.get("/v1/analysis/lost-points", params=PARAMS).json()
    nanyue = next(s for s in body["subjects"] if s["subject"] == "nanyue")
    k4 = next(i for i in nanyue["indicators"] if i["indicator"] == "K4")
    assert (k4["lost"], k4["facts"]) == ("6.00", ["f16", "f17", "n1"])


def test_unknown_scorecard_and_bad_period_are_refused(api: Client) -> None:
    load_example(api, "handworked")
    r = api.get("/v1/analysis/lost-points", params={**PARAMS, "scorecard": "nope"})
    assert r.status_code == 404 and "county" in r.json()["message"]
    r = api.get("/v1/analysis/lost-points", params={**PARAMS, "period": "2025Q5"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "query.period"
    r = api.get("/v1/analysis/lost-points", params={**PARAMS, "ruleset": "1999"})
    assert r.status_code == 404


def test_persons_lost_points_read_their_traces(api: Client) -> None:
    load_example(api, "handworked")
    r = api.get("/v1/analysis/lost-points", params={**PARAMS, "scorecard": "person"})
    assert r.status_code == 200, r.text
    body = r.json()
    levy2 = next(s for s in body["subjects"] if s["subject"] == "nanyue-levy-2")
    ability = next(i for i in levy2["indicators"] if i["indicator"] == "ability")
    assert (ability["lost"], ability["missing"]) == ("100.00", True)
    assert [c["fact"] for c in levy2["items"]] == ["f69"]  # the discipline violation, −2


def test_warnings_of_an_open_quarter(api: Client) -> None:
    from app.api.schemas_analysis import WarningsOut

    load_example(api, "handworked")
    params = {"ruleset": "2025", "period": "2025Q1", "as_of": "2025-03-20"}
    r = api.get("/v1/warnings", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    WarningsOut.model_validate(body)
    assert (body["as_of"], body["days_left"]) == ("2025-03-20", 11)
    missing = {(w["subject"], w["indicator"]) for w in body["warnings"]
               if w["kind"] == "missing_value"}  # fmt: skip
    assert ("hengdong", "K1") in missing and ("nanyue-levy-2", "ability") in missing
    r = api.get("/v1/warnings", params={**params, "as_of": "2025-04-02"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "query.as_of"
    r = api.get("/v1/warnings", params={**params, "as_of": "2025-02-30"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "query.as_of"


def test_risk_grades(api: Client) -> None:
    from app.api.schemas_analysis import RiskOut

    load_example(api, "handworked")
    params = {"period": "2025Q1", "as_of": "2025-03-20", "scorecard": "county", "subject": "nanyue"}
    r = api.get("/v1/analysis/risk", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    RiskOut.model_validate(body)
    (nanyue,) = body["subjects"]
    k4 = next(g for g in nanyue["indicators"] if g["indicator"] == "K4")
    assert (k4["grade"], k4["score"]) == ("medium", 2)  # deduction per event 1, lost 15% 1
    r = api.get("/v1/analysis/risk", params={**params, "subject": "nobody"})
    assert r.status_code == 404


def test_risk_and_the_warnings_page_as_of_a_day_score_the_day_not_the_period(api: Client) -> None:
    """Risk grades and the warnings page's parts as of a day read the day's own evaluation
    (and the quarters before): the quarter is not scored whole for them, and they are what a
    reader holding the whole quarter gets."""
    from datetime import date

    from app.services import analysis
    from app.services.cache import ScoreCache
    from app.web import analysis_view
    from dsl.facts.periods import Period

    load_example(api, "random-2025")
    svc = api.app.state.services
    q2, day = Period(2025, 2), date(2025, 5, 20)
    dated = [f["date"] for f in example_facts("random-2025") if f.get("date")]
    assert any("2025-05-20" < d <= "2025-06-30" for d in dated)  # the day leaves facts out
    whole = analysis.DbSource(ScoreCache(svc.engine), svc.registry)
    whole.require(q2)
    cold = analysis.DbSource(ScoreCache(svc.engine), svc.registry)
    for card in ("county", None):
        assert analysis.risk(cold, q2, day, card, None) == analysis.risk(whole, q2, day, card, None)
    views = (analysis_view.warnings_view, analysis_view.risk_view)
    assert views[0](cold, q2, day, None) == views[0](whole, q2, day, None)
    assert views[1](cold, q2, day, "county", None) == views[1](whole, q2, day, "county", None)
    assert cold.cache.kept(svc.registry.for_year(2025), q2) is None
    assert cold.cache.fills == 2  # Q2 as of the day, and Q1 (the risk's earlier losses)


def test_trends(api: Client) -> None:
    from app.api.schemas_analysis import IndicatorTrendOut, SubjectTrendOut

    load_example(api, "handworked")
    r = api.get("/v1/analysis/trends/nanyue", params={"period": "2025Q1"})
    assert r.status_code == 200, r.text
    body = SubjectTrendOut.model_validate(r.json())
    assert len(body.quarters) == 8 and body.quarters[-1].final == "86.93"
    assert not body.quarters[-2].available  # 2024Q4: no facts
    r = api.get("/v1/analysis/indicator-trends/K4", params={"period": "2025Q1"})
    assert IndicatorTrendOut.model_validate(r.json()).quarters[-1].mean == "18.50"
    assert api.get("/v1/analysis/trends/nobody", params={"period": "2025Q1"}).status_code == 404


def test_feedback_report_as_json_html_and_pdf(api: Client) -> None:
    import io

    from pypdf import PdfReader

    from app.api.schemas_analysis import FeedbackOut

    load_example(api, "handworked")
    params = {"ruleset": "2025", "period": "2025Q1"}
    r = api.get("/v1/reports/nanyue", params=params)
    assert r.status_code == 200, r.text
    report = FeedbackOut.model_validate(r.json())
    s = report.standing
    assert (s.final, s.rank, s.tier) == ("86.93", 2, "second")
    assert report.peers.mean == "83.83"  # (86.93 + 104.55 + 60.00) / 3
    assert [i.indicator for i in report.lost][:1] == ["K3"]  # 8 lost × 70% = 5.60, the most
    page = api.get("/v1/reports/nanyue", params={**params, "format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "南岳区税务局2025年第一季度绩效反馈报告" in page.text and "@page" in page.text
    pdf = api.get("/v1/reports/hy-policy", params={**params, "format": "pdf"})
    assert pdf.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''hy-policy-2025Q1-" in pdf.headers["content-disposition"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "税政科2025年第一季度绩效反馈报告" in text.replace(" ", "")
    assert "衡东县税务局" in text  # where its joint liability came from
    assert api.get("/v1/reports/nanyue-levy-1", params=params).status_code == 404  # a person
    bad = api.get("/v1/reports/nanyue", params={**params, "format": "doc"})
    assert bad.status_code == 422


def test_what_if_nanyue_completes_its_revenue_plan(api: Client) -> None:
    from app.api.schemas_analysis import WhatIfOut

    load_example(api, "handworked")
    before = api.get("/v1/facts", params={"subject": "nanyue"}).json()
    body = {"period": "2025Q1", "add": [{"type": "revenue_completion", "subject": "nanyue",
            "period": "2025Q1", "data": {"value": 100}}]}  # fmt: skip
    r = api.post("/v1/what-if", json=body)
    assert r.status_code == 200, r.text
    got = WhatIfOut.model_validate(r.json())
    (change,) = got.changes
    assert (change.action, change.replaces) == ("replace", "f2")
    nanyue = next(s for s in got.subjects if s.subject == "nanyue")
    # K1 25.5 → 30: base + 0.7 × 4.5 = 86.9325 + 3.15 = 90.0825
    assert nanyue.old is not None and nanyue.new is not None
    assert (nanyue.old.final, nanyue.new.final, nanyue.delta) == ("86.93", "90.08", "3.15")
    assert nanyue.new.rank == 2 and not nanyue.moved
    # persons under nanyue take 10% of its final: levy-1 0.1 × 3.15 = +0.315 → +0.31/0.32
    assert {s.subject for s in got.subjects} >= {"nanyue", "nanyue-levy-1", "nanyue-levy-2"}
    assert api.get("/v1/facts", params={"subject": "nanyue"}).json() == before  # recorded nothing


def test_what_if_refuses_what_does_not_fit(api: Client) -> None:
    load_example(api, "handworked")
    body = {"period": "2025Q1", "retract": ["nope"],
            "add": [{"type": "revenue_completion", "subject": "nanyue", "period": "2025Q1",
                     "data": {"value": -5}}]}  # fmt: skip
    r = api.post("/v1/what-if", json=body)
    assert r.status_code == 422, r.text
    fields = sorted(d["field"] for d in r.json()["details"])
    assert fields == ["body.add[0].data.value", "body.retract[0]"]
    empty = api.post("/v1/what-if", json={"period": "2025Q1"})
    assert empty.status_code == 422


def test_feedback_report_says_draft_published_or_approved(api: Client) -> None:
    """The report names the state of the period's results from its cycle: a draft while the
    cycle is open, 公示 with the published receipt, 已审定 with the approved one; a fact
    recorded after publication makes the numbers differ from the receipt, and it says so."""
    import io

    from pypdf import PdfReader

    load_example(api, "handworked")
    params = {"ruleset": "2025", "period": "2025Q1"}

    def cycle() -> dict[str, object]:
        r = api.get("/v1/reports/nanyue", params=params)
        assert r.status_code == 200, r.text
        got: dict[str, object] = r.json()["cycle"]
        return got

    draft = cycle()
    assert (draft["state"], draft["title"], draft["receipt"], draft["same"]) == (
        "draft", "草稿（尚未公示）", None, None
    )  # fmt: skip
    assert "结果状态：草稿（尚未公示）" in api.get(
        "/v1/reports/nanyue", params={**params, "format": "html"}
    ).text.replace("<b>", "").replace("</b>", "")

    pub = api.post("/v1/cycles/2025Q1/publish", params={"ruleset": "2025"})
    assert pub.status_code == 200, pub.text
    published = cycle()
    assert (published["state"], published["title"]) == ("published", "公示")
    assert published["receipt"] == pub.json()["receipt"] and published["same"] is True
    assert published["notice_until"] == pub.json()["notice_until"]

    fact = {"id": "n1", "type": "inspection_issue", "subject": "nanyue", "date": "2025-03-30",
            "data": {"level": "municipal"}}  # fmt: skip
    assert api.post("/v1/facts", json=[fact]).status_code == 201
    changed = cycle()
    assert (changed["state"], changed["same"]) == ("published", False)
    page = api.get("/v1/reports/nanyue", params={**params, "format": "html"}).text
    assert "本报告的数字与回执不同" in page

    ok = api.post("/v1/cycles/2025Q1/approve", params={"ruleset": "2025"})
    assert ok.status_code == 200, ok.text
    approved = cycle()
    assert (approved["state"], approved["title"], approved["same"]) == ("approved", "已审定", True)
    assert approved["receipt"] == ok.json()["receipt"] != published["receipt"]
    assert approved["approved_by"] == ok.json()["approved_by"]
    pdf = api.get("/v1/reports/nanyue", params={**params, "format": "pdf"})
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert f"已审定（审定回执#{approved['receipt']}" in text.replace(" ", "")


def test_warnings_as_of_any_day_are_those_of_the_period_rescored(api: Client) -> None:
    """The warnings as of a day, made without scoring the whole period first (an entry of its
    own per day), are byte for byte those made the old way (the period's entry, then the
    period scored again from the facts dated by the day), on random days of the quarter."""
    from datetime import date, timedelta

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from app.services import analysis
    from app.services.cache import ScoreCache
    from dsl.analysis.source import FileSource, sibling_years
    from dsl.compile.compiler import compile_path
    from dsl.engine.report import results_json
    from dsl.facts.periods import Period

    load_example(api, "handworked")
    svc = api.app.state.services
    q1 = Period(2025, 1)
    rules = REPO_ROOT / "rules" / "2025"
    main = compile_path(rules)
    here = EXAMPLES / "handworked"
    files = FileSource(main, sibling_years(rules, main), here / "org.json", here / "facts.jsonl")
    days = st.integers(0, 89).map(lambda n: date(2025, 1, 1) + timedelta(days=n))

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(day=days)
    def same(day: date) -> None:
        cold = analysis.DbSource(ScoreCache(svc.engine), svc.registry)
        new = analysis.warnings(cold, q1, day)
        old_way = analysis.DbSource(ScoreCache(svc.engine), svc.registry)
        old_way.require(q1)  # the period's entry first: the old path
        assert analysis.warnings(old_way, q1, day) == new
        now, then = cold.as_of(q1, day), old_way.as_of(q1, day)
        assert results_json(now.evaluation) == results_json(then.evaluation)
        assert (now.recorded, now.note) == (then.recorded, then.note)
        # and what the files give, scored by the engine from the facts dated by the day
        assert results_json(files.as_of(q1, day).evaluation) == results_json(now.evaluation)
        # Nothing dated after the day: the period's own entry was scored and serves.
        # Otherwise only the day's own evaluation was made, not the whole period's.
        dated = [f["date"] for f in example_facts("handworked") if f.get("date")]
        later = any(str(day) < d <= "2025-03-31" for d in dated)
        kept = cold.cache.kept(svc.registry.for_year(2025), q1)
        assert (kept is None) == later and cold.cache.fills == 1

    same()
    # The facts the grade conditions read come from the period's entry when it is in memory:
    # the same facts, in the same order, as read from the database.
    warm = analysis.DbSource(ScoreCache(svc.engine), svc.registry)
    warm.require(q1)
    kinds = {"discipline_violation", "inspection_issue", "revenue_completion"}
    read = analysis.DbSource(ScoreCache(svc.engine), svc.registry).facts_of(q1, kinds)
    assert warm.cache.live_inputs(svc.registry.for_year(2025), q1) is not None
    assert [f.id for f in warm.facts_of(q1, kinds)] == [f.id for f in read]
    assert {f.type for f in read} == kinds


def test_lost_points_of_units_score_no_person(api: Client) -> None:
    """Cold, a unit scorecard's lost points read an evaluation of the units' scorecards only
    (one evaluation for the county bureaus and the departments); the answers are those made
    from the quarter scored whole. With the whole quarter in memory, it serves."""
    from app.services import analysis
    from app.services.cache import ScoreCache
    from dsl.facts.periods import Period

    load_example(api, "random-2025")
    svc = api.app.state.services
    loaded = svc.registry.for_year(2025)
    for q in (Period(2025, 1), Period(2025, 3)):
        whole = analysis.DbSource(ScoreCache(svc.engine), svc.registry)
        whole.require(q)
        cold = analysis.DbSource(ScoreCache(svc.engine), svc.registry)
        for card in ("county", "dept"):
            assert analysis.lost_points(cold, q, card) == analysis.lost_points(whole, q, card)
            assert analysis.lost_points_data(cold, q, card) == analysis.lost_points_data(
                whole, q, card
            )
        _, entry = analysis.lost_source(cold, q, "dept")
        assert entry.cards == frozenset({"county", "dept"}) and cold.cache.kept(loaded, q) is None
        # the quarter before (compared in the report) is read the same way: two evaluations
        assert cold.cache.fills == (1 if q.quarter == 1 else 2)
        assert all(r.scorecard != "person" for r in entry.evaluation.results)
        # a reader of every scorecard gets the whole quarter, which then serves the units too
        full = cold.require(q)
        assert full.cards is None and analysis.lost_source(cold, q, "county")[1] is full
        # the persons' lost points read the whole quarter, traced
        persons = analysis.lost_points(cold, q, "person")
        assert persons == analysis.lost_points(whole, q, "person")
