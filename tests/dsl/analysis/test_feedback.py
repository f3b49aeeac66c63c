"""Feedback reports of the hand-worked example: the data, the page and the PDF's text."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from dsl.analysis.feedback import all_feedback, cycle_json, feedback, shared
from dsl.analysis.render import render_html, write_all
from dsl.facts.periods import Period
from dsl.syntax.errors import DslError
from tests.dsl.analysis.conftest import Make

Q1 = Period(2025, 1)
EXTRA = [
    # 2024Q4 under the 2024 rules: one provincial issue, revenue in full, a style grade
    {"id": "p1", "type": "inspection_issue", "subject": "nanyue", "date": "2024-11-05",
     "data": {"level": "provincial"}},
    {"id": "p2", "type": "revenue_completion", "subject": "nanyue", "period": "2024Q4",
     "data": {"value": 100}},
]  # fmt: skip


def test_hy_policy_report(make_source: Make) -> None:
    r = feedback(shared(make_source(), Q1), "hy-policy")
    assert (r["name"], r["scorecard"]) == ("税政科", "dept")
    s = r["standing"]
    assert (s["final"], s["rank"], s["n"], s["tier_title"]) == ("87.50", 3, 5, "第二段")
    # D1 70 × 95% = 66.5 (3.5 lost); D2 30 × 80 / 100 = 24 (6 lost); base 90.5
    assert [(i["indicator"], i["lost"]) for i in r["lost"]] == [("D2", "6.00"), ("D1", "3.50")]
    assert r["lost_total"] == "9.50"
    assert (r["joint"]["received"], r["joint"]["before_cap"]) == ("3.00", "7.75")
    # departments: 97 + 89.10 + 87.50 + 70 + 60 = 403.6, / 5
    assert r["peers"]["mean"] == "80.72"
    assert r["peers"]["best"] == {"subject": "hy-office", "name": "办公室", "final": "97.00"}
    assert r["outlook"]["period"] == "2025Q2"


def test_change_since_the_previous_quarter(make_source: Make) -> None:
    r = feedback(shared(make_source(extra=EXTRA), Q1), "nanyue")
    c = r["change"]
    # 2024Q4, 2024 rules (no floor): K1 30, K4 27, G1 40, others missing:
    # 0.7 × 57 + 0.3 × 40 = 51.9; the two other bureaus 0.7 × 30 + 0.3 × 40 = 33
    assert (c["final"], c["rank"]) == ("51.90", 1)
    assert (c["final_change"], c["rank_change"]) == ("35.03", -1)  # 86.93 − 51.90; 1st → 2nd
    risk = {g["indicator"]: g for g in r["outlook"]["risk"]}
    # K4 lost in 2024Q4 and in 2025Q1: history 2, deduction per event 1, the whole period 1
    assert (risk["K4"]["score"], risk["K4"]["grade"]) == (4, "high")


def test_every_report_renders_with_chinese_text(make_source: Make, tmp_path: Path) -> None:
    reports = all_feedback(shared(make_source(), Q1))
    names = {r["subject"]: r["name"] for r in reports}
    assert set(names) == {
        "hengdong", "hengshan", "nanyue", "hy-office", "hy-policy", "hy-revenue", "hy-risk",
        "hy-service",
    }  # fmt: skip
    page = render_html(reports[0])
    assert "<style>" in page and "&#34;" not in page.split("</style>")[0]  # styles unescaped
    paths = write_all(reports, tmp_path / "pdf", "pdf")
    assert len(paths) == 8
    for path, r in zip(paths, reports, strict=True):
        assert path.name.startswith(f"{r['subject']}-2025Q1-") and path.suffix == ".pdf"
        reader = PdfReader(io.BytesIO(path.read_bytes()))
        text = "".join(p.extract_text() for p in reader.pages).replace(" ", "")
        assert f"{r['name']}2025年第一季度绩效反馈报告" in text
        assert "失分指标及原因" in text and r["standing"]["final"] in text


def test_reports_rendered_on_processes_are_those_rendered_in_one(
    make_source: Make, tmp_path: Path
) -> None:
    """`write_all` on two processes writes the same files, byte for byte and in the same
    order, as in one; and a PDF with the styles parsed once is the self-contained page's."""
    from weasyprint import HTML

    from dsl.analysis.render import TEMPLATES, PdfWriter, font_face, font_file

    reports = all_feedback(shared(make_source(), Q1))
    one = write_all(reports, tmp_path / "one", "pdf")
    two = write_all(reports, tmp_path / "two", "pdf", jobs=2)
    assert [p.name for p in one] == [p.name for p in two] and len(one) == len(reports) == 8
    assert [p.read_bytes() for p in one] == [p.read_bytes() for p in two]
    assert len({p.read_bytes() for p in one}) == 8  # every report its own
    page = render_html(reports[0], font_face(font_file()))
    assert "@font-face" in page
    whole = HTML(string=page, base_url=str(TEMPLATES)).write_pdf()
    assert PdfWriter().pdf(reports[0]) == whole == one[0].read_bytes()


def test_the_cycle_state_is_printed(make_source: Make) -> None:
    """From files nothing is published: a draft. Given a cycle's state, the page says it with
    its receipt (the database's cycles are tested in tests/app/api/test_analysis.py)."""
    sh = shared(make_source(), Q1)
    draft = feedback(sh, "nanyue")["cycle"]
    assert (draft["state"], draft["title"], draft["receipt"]) == ("draft", "草稿（尚未公示）", None)
    assert "（本期结果尚未公示，数字可能随事实记录而变化）" in render_html(feedback(sh, "nanyue"))
    approved = cycle_json("approved", 7, None, "审定人", "2025-04-10T09:00:00", True)
    page = render_html(feedback(sh, "nanyue", approved))
    assert "<b>已审定</b>（审定回执 #7，审定人 于 2025-04-10 审定）" in page
    published = cycle_json("published", 3, "2025-04-15", same=False)
    page = render_html(feedback(sh, "nanyue", published))
    assert "<b>公示</b>（公示回执 #3，公示期至 2025-04-15）" in page
    assert "本报告的数字与回执不同" in page
    with pytest.raises(DslError, match="unknown cycle state 'appealed'"):
        cycle_json("appealed")
