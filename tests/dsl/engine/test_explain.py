"""`jixiao explain`: which facts and rules gave a subject its scores."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest

from tests.dsl.helpers import HANDWORKED, RULES_2025, run_cli

HY_POLICY_ISSUES = [f"f{i}" for i in range(16, 29)]  # f16, f17 at nanyue; f18–f28 at hengdong


def explain(capsys: pytest.CaptureFixture[str], subject: str, *extra: str) -> str:
    """The output of `jixiao explain` on the handworked example for 2025Q1."""
    code, out, err = run_cli(
        capsys,
        "explain",
        RULES_2025,
        "--org",
        HANDWORKED / "org.json",
        "--facts",
        HANDWORKED / "facts.jsonl",
        "--period",
        "2025Q1",
        "--subject",
        subject,
        *extra,
    )
    assert (code, err) == (0, ""), err
    return out


def facts_of(line: str) -> list[str]:
    """The fact ids a trace line cites."""
    m = re.search(r"facts: ([\w, -]+?)(?:  —|$)", line)
    return m.group(1).split(", ") if m else []


def lines_with(text: str, needle: str) -> list[str]:
    """The lines of `text` that contain `needle`."""
    return [line for line in text.splitlines() if needle in line]


def test_joint_liability_of_hy_policy_lists_its_county_facts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = explain(capsys, "hy-policy")
    assert out.splitlines()[0].startswith("hy-policy · dept · 2025Q1 · final 87.50")
    issues = lines_with(out, "joint dept_liability.issue from inspection_issue")
    notices = lines_with(out, "joint dept_liability.notice from criticism_notice")
    assert sorted((f for line in issues for f in facts_of(line)), key=lambda f: int(f[1:])) == (
        HY_POLICY_ISSUES
    )
    assert [facts_of(line) for line in notices] == [["f42"]]
    for line in issues:
        fact = facts_of(line)[0]
        at = "nanyue" if fact in ("f16", "f17") else "hengdong"
        assert f"at {at} " in line
    # 20% of 3 per provincial issue, 20% of 1.5 for the municipal f17, 50% of 0.5 for f42
    amounts = {facts_of(line)[0]: Decimal(line.split()[6]) for line in issues + notices}
    assert amounts["f17"] == Decimal("0.3")
    assert amounts["f42"] == Decimal("0.25")
    assert {amounts[f] for f in HY_POLICY_ISSUES if f != "f17"} == {Decimal("0.6")}
    assert sum(amounts.values()) == Decimal("7.75")
    (total,) = [
        line for line in out.splitlines() if line.split()[:2] == ["joint", "dept_liability"]
    ]
    assert total.split()[2] == "3"
    assert "7.75 received, capped at 3" in total


def test_same_matter_commendations_count_once_at_the_highest_level(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = explain(capsys, "nanyue")
    (merged,) = lines_with(out, "same matter '便民办税春风行动' counted once")
    assert facts_of(merged) == ["f39", "f40"]
    assert "f40 counts at its highest level; f39 not counted" in merged
    (bonus,) = lines_with(out, "bonus commendation")
    assert facts_of(bonus) == ["f40"]
    assert bonus.split()[2] == "3"  # national: 3, not provincial 1.5 + national 3
    # the total, not indented like the items under it: 3 + 1 (f41, provincial praise), below the cap
    (total,) = [m[1] for line in out.splitlines() if (m := re.match(r"  bonus +(\S+)", line))]
    assert total == "4"


def test_indicators_cite_the_facts_they_read(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain(capsys, "nanyue")
    cited = {line.split()[1]: facts_of(line) for line in out.splitlines()
             if line.split()[:1] == ["indicator"]}  # fmt: skip
    # K1 reads the live revenue_completion (f2, which supersedes f1); K2 nanyue's satisfaction
    assert cited["K1"] == ["f2"]
    assert cited["K2"] == ["f4"]
    assert cited["K3"] == ["f7", "f8", "f9", "f10"]
    assert cited["G2"] == ["f31"]
    assert cited["G3"] == ["f34", "f35", "f36", "f37"]
    k4 = lines_with(out, "K4 deducted")
    assert [facts_of(line) for line in k4] == [["f16"], ["f17"]]


def test_json_form_has_a_trace(capsys: pytest.CaptureFixture[str]) -> None:
    got: dict[str, Any] = json.loads(explain(capsys, "hy-policy", "--format", "json"))
    assert got["subject"] == "hy-policy"
    assert got["period"] == "2025Q1"
    (result,) = got["results"]
    assert (result["final"], result["joint"], result["scorecard"]) == ("87.50", "3.00", "dept")
    trace = result["trace"]
    assert isinstance(trace, list)
    assert all(set(t) == {"what", "value", "where", "facts", "note"} for t in trace)
    joint_facts = sorted(
        (
            f
            for t in trace
            if t["what"].strip().startswith("joint dept_liability.")
            for f in t["facts"]
        ),
        key=lambda f: int(f[1:]),
    )
    assert joint_facts == [*HY_POLICY_ISSUES, "f42"]
    (cap,) = [t for t in trace if t["what"] == "joint dept_liability"]
    assert Decimal(cap["value"]) == 3
    assert "7.75" in cap["note"]
    (d1,) = [t for t in trace if t["what"] == "indicator D1"]
    assert d1["facts"] == ["f46"]
    assert d1["where"].endswith("rules/2025/dept.jx:8")


def test_explain_an_unknown_subject(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        capsys, "explain", RULES_2025, "--org", HANDWORKED / "org.json",
        "--facts", HANDWORKED / "facts.jsonl", "--period", "2025Q1", "--subject", "nobody",
    )  # fmt: skip
    assert (code, out) == (1, "")
    assert "unknown subject 'nobody'" in err


def test_a_persons_year_shows_the_group_quota_share_and_the_leftover_cent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 《衡阳市税务局2026年度绩效考评办法》§9, hand computation 2: hengshan-levy-2
    example = HANDWORKED.with_name("handworked-2026")
    code, out, err = run_cli(
        capsys,
        "explain",
        RULES_2025.with_name("2026"),
        "--org",
        example / "org.json",
        "--facts",
        example / "facts.jsonl",
        "--period",
        "2026",
        "--subject",
        "hengshan-levy-2",
    )
    assert (code, err) == (0, "")
    lines = {line.split("  ")[1].strip(): line for line in out.splitlines() if "  " in line}
    assert "county[hengshan].tier is first; excellent_share[first] = 0.25" in lines["grade"]
    assert "quota 25% of 2: half_up → 1" in lines["grade"]
    assert (
        "hengshan 衡山县税务局" in lines["pool: group"]
        and "tier_coefficient 1.10" in lines["pool: group"]
    )
    assert "26400.00" in lines["pool: amount"]
    assert "93.94" in lines["pool: weight"] and "W = 168.96" in lines["pool: weight"]
    assert "14678.125" in lines["pool: exact share"]
    assert "14678.12" in lines["pool: rounded down"]
    assert "0.005" in lines["pool: remainder"]
    assert "14678.13" in lines["pool: bonus_amount"]
    assert "one leftover unit given" in lines["pool: bonus_amount"]
