"""Joint liability, complete: link targets (`ancestor`, a fact's field, a subject's attribute,
`lead`), chains of joint blocks (each with its ratio and cap, amounts after the earlier caps),
`once per FIELD` on links, and deductions imported from another scorecard with a multiplier.

The ruleset is the example of docs/language.md §13; every expected value is worked by hand in
the comments beside it, from the rules and the facts below (not from the engine's output).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dsl.check.checker import check
from dsl.compile.compiler import compile_path
from dsl.fmt.formatter import format_source
from dsl.syntax.parser import parse_text
from dsl.syntax.program import load
from tests.dsl.helpers import REPO, run_cli, score_json, write_facts

DOC = (REPO / "docs" / "language.md").read_text(encoding="utf-8")
START = DOC.index('ruleset "连带责任链（示例）"')
RULES = DOC[START : DOC.index("```", START)]

ORG = {
    "units": [
        {"id": "hy", "name": "市局", "kind": "municipal_bureau", "parent": None},
        {"id": "hy-policy", "name": "税政科", "kind": "municipal_dept", "parent": "hy"},
        {"id": "hy-risk", "name": "风险管理科", "kind": "municipal_dept", "parent": "hy"},
        {
            "id": "nanyue",
            "name": "南岳区税务局",
            "kind": "county_bureau",
            "parent": "hy",
            "attrs": {"counterpart": "hy-policy"},
        },
        {
            "id": "hengshan",
            "name": "衡山县税务局",
            "kind": "county_bureau",
            "parent": "hy",
            "attrs": {"counterpart": "hy-risk"},
        },
        {"id": "nanyue-levy", "name": "南岳征收股", "kind": "county_dept", "parent": "nanyue"},
        {"id": "nanyue-office", "name": "南岳办公室", "kind": "county_dept", "parent": "nanyue"},
        {"id": "hengshan-levy", "name": "衡山征收股", "kind": "county_dept", "parent": "hengshan"},
    ],
    "persons": [
        {"id": "p1", "name": "李明", "unit": "nanyue-levy", "attrs": {"supervisor": "p2"}},
        {"id": "p2", "name": "王芳", "unit": "nanyue-levy", "attrs": {}},
    ],
}


def _issue(i: int, subject: str, level: str, matter: str, **more: str) -> dict[str, Any]:
    data = {"level": level, "matter": matter, **more}
    return {"id": f"f{i}", "type": "inspection_issue", "subject": subject,
            "date": "2025-02-0" + str(i), "data": data}  # fmt: skip


FACTS = [
    _issue(1, "nanyue-levy", "provincial", "A", responsible="p1"),
    _issue(2, "nanyue-levy", "municipal", "A"),
    _issue(3, "nanyue-levy", "municipal", "B"),
    _issue(4, "nanyue-office", "provincial", "C"),
    _issue(5, "hengshan-levy", "municipal", "D"),
]


def _write(tmp: Path, rules: str = RULES, facts: list[dict[str, Any]] = FACTS) -> tuple[Path, Path]:
    folder = tmp / "rules" / "2025"
    folder.mkdir(parents=True)
    (folder / "ruleset.jx").write_text(rules, encoding="utf-8")
    data = tmp / "data"
    data.mkdir()
    (data / "org.json").write_text(json.dumps(ORG, ensure_ascii=False), encoding="utf-8")
    write_facts(data / "facts.jsonl", facts)
    return folder, data


def _results(
    capsys: pytest.CaptureFixture[str], ex: tuple[Path, Path]
) -> dict[tuple[str, str], Any]:
    got = score_json(capsys, ex[0], ex[1], "2025Q1")
    return {(r["scorecard"], r["subject"]): r for r in got["results"]}


def test_the_example_checks_and_formats_unchanged(tmp_path: Path) -> None:
    folder, _ = _write(tmp_path)
    assert [d for d in check(load(folder)) if d.is_error] == []
    assert format_source(RULES, "x.jx") == RULES


@pytest.mark.parametrize(
    ("card", "subject", "joint", "final"),
    [
        # muni_depts Q1: levy 100 − 2 − 1 − 1 = 96, office 100 − 2 = 98, hengshan levy 99;
        # no penalty, no joint: nothing of their own to pass on but Q1's per-fact amounts
        ("muni_depts", "nanyue-levy", "0.00", "96.00"),
        ("muni_depts", "hengshan-levy", "0.00", "99.00"),
        # to_bureau, 50% once per matter, cap 2: nanyue A max(50% × 2, 50% × 1) = 1,
        # B 0.5, C 1 → 2.5, capped at 2
        ("county", "nanyue", "2.00", "98.00"),
        # hengshan: D 50% × 1 = 0.5
        ("county", "hengshan", "0.50", "99.50"),
        # to_dept, 50% of what the bureau received after its cap: 50% × 2 = 1, capped at 0.8
        ("dept", "hy-policy", "0.80", "99.20"),
        # 50% × 0.5 = 0.25 (hengshan's counterpart), under the cap
        ("dept", "hy-risk", "0.25", "99.75"),
        # to_person: f1 names p1, 0.5
        ("person", "p1", "0.50", "99.50"),
        # to_supervisor: 50% of p1's 0.5 to p1's supervisor p2
        ("person", "p2", "0.25", "99.75"),
        # doubled: 2 × what the municipal assessment deducted: levy 2 × 4, office 2 × 2,
        # hengshan levy 2 × 1
        ("county_depts_card", "nanyue-levy", "8.00", "92.00"),
        ("county_depts_card", "nanyue-office", "4.00", "96.00"),
        ("county_depts_card", "hengshan-levy", "2.00", "98.00"),
    ],
)
def test_the_worked_quarter(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    card: str,
    subject: str,
    joint: str,
    final: str,
) -> None:
    got = _results(capsys, _write(tmp_path))[(card, subject)]
    assert (got["joint"], got["final"]) == (joint, final)


def test_no_supervisor_no_counterpart_passes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # f6 names p2 (no supervisor): p2 gets 0.5 from to_person and nothing passes further;
    # hengshan without a counterpart: its 0.5 stays with it, hy-risk gets nothing
    org_rules = RULES
    facts = [*FACTS, _issue(6, "hengshan-levy", "municipal", "E", responsible="p2")]
    ex = _write(tmp_path, org_rules, facts)
    org = json.loads((ex[1] / "org.json").read_text("utf-8"))
    org["units"][4]["attrs"] = {}
    (ex[1] / "org.json").write_text(json.dumps(org), "utf-8")
    got = _results(capsys, ex)
    # hengshan: D 0.5 + E 0.5 = 1
    assert got[("county", "hengshan")]["joint"] == "1.00"
    assert got[("dept", "hy-risk")]["joint"] == "0.00"
    # p2: 0.5 (f6) + 50% × p1's 0.5 = 0.75
    assert got[("person", "p2")]["joint"] == "0.75"
    # levy of hengshan: Q1 100 − 1 − 1 = 98, doubled 2 × 2 = 4
    assert got[("county_depts_card", "hengshan-levy")]["joint"] == "4.00"


def test_once_per_is_per_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # matter A on hengshan's levy too: another target (hengshan), so it counts there; nanyue
    # is unchanged (2.5 before its cap)
    facts = [*FACTS, _issue(6, "hengshan-levy", "provincial", "A")]
    got = _results(capsys, _write(tmp_path, RULES, facts))
    # hengshan: D 0.5 + A 50% × 2 = 1.5
    assert got[("county", "hengshan")]["joint"] == "1.50"
    assert got[("county", "nanyue")]["joint"] == "2.00"
    # hy-risk: 50% × 1.5 = 0.75
    assert got[("dept", "hy-risk")]["joint"] == "0.75"


def test_without_once_per_every_fact_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = RULES.replace(" once per matter", "").replace("cap 2 per period", "cap 5 per period")
    got = _results(capsys, _write(tmp_path, rules))
    # nanyue: 50% × (2 + 1 + 1 + 2) = 3, under the cap of 5; hy-policy 50% × 3 = 1.5 → 0.8
    assert got[("county", "nanyue")]["joint"] == "3.00"
    assert got[("dept", "hy-policy")]["joint"] == "0.80"


def test_an_item_link_honours_the_items_once_per(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = RULES.replace(
        "# the municipal assessment of county departments",
        'items muni_items "加减分" {\n  penalty issue: inspection_issue 1 once per matter\n}\n\n'
        "# the municipal assessment of county departments",
    ).replace("category work", "items muni_items\n\n  category work", 1)
    old = "indicator Q1 -> ancestor(county_bureau) ratio 50% once per matter"
    rules = rules.replace(old, "item issue -> ancestor(county_bureau) ratio 50%")
    rules = rules.replace("cap 2 per period", "cap 9 per period")
    folder, data = _write(tmp_path, rules)
    assert [d.code for d in check(load(folder)) if d.is_error] == []
    got = _results(capsys, (folder, data))
    # the item counts A once, B, C: nanyue 50% × (1 + 1 + 1) = 1.5 (not 2 with f2)
    assert got[("county", "nanyue")]["joint"] == "1.50"
    # nanyue levy's penalty: A and B, 2; its Q1 96; deductions 4 + 2 = 6, doubled 12
    assert got[("muni_depts", "nanyue-levy")]["penalty"] == "2.00"
    assert got[("county_depts_card", "nanyue-levy")]["joint"] == "12.00"


def test_explain_shows_the_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, data = _write(tmp_path)
    code, out, _ = run_cli(
        capsys, "explain", folder, "--subject", "hy-policy", "--org", data / "org.json",
        "--facts", data / "facts.jsonl", "--period", "2025Q1",
    )  # fmt: skip
    assert code == 0, out
    # the chained amount, where it came from (nanyue, after to_bureau's cap of 2), and the facts
    # nanyue received them from, one level deeper
    assert "joint to_dept.passed from joint to_bureau at nanyue" in out
    assert "50% of 2" in out
    assert "joint to_bureau.issue from inspection_issue at nanyue-levy (to nanyue)" in out
    assert "same matter 'A' counted once: f2 not" in out
    assert "2.5 received, capped at 2" in out
    assert "1.0 received, capped at 0.8" in out


def test_explain_shows_the_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, data = _write(tmp_path)
    code, out, _ = run_cli(
        capsys, "explain", folder, "--subject", "nanyue-levy", "--org", data / "org.json",
        "--facts", data / "facts.jsonl", "--period", "2025Q1",
    )  # fmt: skip
    assert code == 0, out
    assert "joint doubled.twice: deductions in muni_depts" in out
    assert "2 × 4 (Q1 4)" in out


# ---- checker --------------------------------------------------------------------------------


def _codes(tmp_path: Path, rules: str) -> list[str]:
    folder, _ = _write(tmp_path / str(len(list(tmp_path.iterdir()))), rules)
    loaded = load(folder)
    return [f"{d.code}@{d.span.line}:{d.message}" for d in check(loaded) if d.is_error]


def test_a_cycle_of_blocks_is_refused(tmp_path: Path) -> None:
    rules = RULES.replace(
        "  link up: person joint to_person -> attr(supervisor) ratio 50%",
        "  link up: person joint to_person -> attr(supervisor) ratio 50%\n"
        "  link back: person joint to_supervisor -> attr(supervisor) ratio 50%",
    ).replace(
        "  link responsible: muni_depts fact inspection_issue -> responsible amount 0.5",
        "  link responsible: muni_depts fact inspection_issue -> responsible amount 0.5\n"
        "  link again: person joint to_supervisor -> attr(supervisor) ratio 10%",
    )
    got = _codes(tmp_path, rules)
    cycles = [g for g in got if g.startswith("E402")]
    assert len(cycles) == 2, got  # to_supervisor on itself, to_person <-> to_supervisor
    assert any("to_person -> to_supervisor -> to_person" in g for g in cycles), cycles
    assert any("to_supervisor passes on what it passes itself" in g for g in cycles), cycles


def test_chain_errors_name_the_block(tmp_path: Path) -> None:
    rules = RULES.replace(
        "link passed: county joint to_bureau -> attr(counterpart) ratio 50%",
        "link passed: dept joint to_buraeu -> attr(counterpart) amount 1",
    )
    got = _codes(tmp_path, rules)
    assert any(g.startswith("E311") and "did you mean 'to_bureau'" in g for g in got), got
    assert any(g.startswith("E311") and "not an amount" in g for g in got), got
    rules = RULES.replace(
        "link passed: county joint to_bureau -> attr(counterpart) ratio 50%",
        "link passed: dept joint to_bureau -> attr(counterpart) ratio 50% once per matter",
    )
    got = _codes(tmp_path, rules)
    assert any(g.startswith("E311") and "passes liability into 'county'" in g for g in got), got
    assert any(g.startswith("E311") and "`once per` counts facts" in g for g in got), got


def test_import_errors(tmp_path: Path) -> None:
    got = _codes(
        tmp_path,
        RULES.replace("import twice: deductions from muni_depts times 2",
                      "import twice: deductions from person times 0"),
    )  # fmt: skip
    assert any(g.startswith("E312") and "times must be positive" in g for g in got), got
    want = "'person' scores persons, but 'county_depts_card' scores units"
    assert any(g.startswith("E208") and want in g for g in got), got


def test_import_into_itself_is_a_cycle(tmp_path: Path) -> None:
    got = _codes(
        tmp_path,
        RULES.replace("import twice: deductions from muni_depts times 2",
                      "import twice: deductions from county_depts_card times 2"),
    )  # fmt: skip
    assert any(g.startswith("E401") for g in got), got


def test_once_per_names_an_unknown_field(tmp_path: Path) -> None:
    got = _codes(tmp_path, RULES.replace("once per matter", "once per mater"))
    assert any(g.startswith("E107") and "did you mean 'matter'" in g for g in got), got


def test_formatter_round_trips_the_new_forms() -> None:
    messy = (
        'joint a  "x" into dept {\n'
        "  link  l: county   joint b ->  attr( counterpart )  times 2\n"
        "  link m: muni_depts indicator Q1 -> lead(Q1) ratio 20%   once per matter\n"
        "  import   i :  deductions  from muni_depts  times 1.5\n"
        "}\n"
    )
    want = (
        'joint a "x" into dept {\n'
        "  link l: county joint b -> attr(counterpart) times 2\n"
        "  link m: muni_depts indicator Q1 -> lead(Q1) ratio 20% once per matter\n"
        "  import i: deductions from muni_depts times 1.5\n"
        "}\n"
    )
    assert format_source(messy, "x.jx") == want
    assert format_source(want, "x.jx") == want
    parse_text(want, "x.jx")


def test_the_feedback_report_lists_chained_and_imported_sources(tmp_path: Path) -> None:
    from dsl.analysis.feedback import feedback, shared
    from dsl.analysis.source import FileSource, sibling_years
    from dsl.compile.compiler import compile_path
    from dsl.facts.periods import Period

    folder, data = _write(tmp_path)
    compiled = compile_path(folder)
    source = FileSource(
        compiled, sibling_years(folder, compiled), data / "org.json", data / "facts.jsonl"
    )
    ps = shared(source, Period(2025, 1))
    # hy-policy: 50% of the 2 nanyue received (after to_bureau's cap), capped at 0.8
    joint = feedback(ps, "hy-policy")["joint"]
    assert (joint["received"], joint["before_cap"]) == ("0.80", "1.00")
    assert [(s["source"], s["link"], s["amount"]) for s in joint["sources"]] == [
        ("nanyue", "to_dept.passed", "1.00")
    ]
    # hy-risk: 50% of hengshan's 0.5, under the cap
    joint = feedback(ps, "hy-risk")["joint"]
    assert (joint["received"], joint["before_cap"]) == ("0.25", "0.25")
    assert [(s["source"], s["link"]) for s in joint["sources"]] == [("hengshan", "to_dept.passed")]


def test_a_chained_block_capped_per_year(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = RULES.replace("cap 0.8 per period", "cap 1.2 per year")
    q2 = {**_issue(7, "nanyue-levy", "provincial", "E"), "date": "2025-05-07"}
    folder, data = _write(tmp_path, rules, [*FACTS, q2])
    got = score_json(capsys, folder, data, "2025Q1")
    q1 = {(r["scorecard"], r["subject"]): r["joint"] for r in got["results"]}
    # Q1: hy-policy 50% × 2 = 1, under the year's 1.2
    assert q1[("dept", "hy-policy")] == "1.00"
    got = score_json(capsys, folder, data, "2025Q2")
    q2r = {(r["scorecard"], r["subject"]): r["joint"] for r in got["results"]}
    # Q2: nanyue 50% × 2 = 1 (f7); hy-policy 50% × 1 = 0.5, but 1.2 − 1 = 0.2 is left
    assert q2r[("county", "nanyue")] == "1.00"
    assert q2r[("dept", "hy-policy")] == "0.20"


def test_a_chain_of_an_import_is_scored_after_the_imported_card(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `a_dept` (first by name) depends on nothing but, through `doubled`, muni_depts' results:
    # it must be scored after muni_depts
    rules = RULES.replace("scorecard dept ", "scorecard a_dept ").replace(
        "into dept", "into a_dept"
    ) + (
        "\njoint up into a_dept {\n"
        "  link doubled_up: county_depts_card joint doubled -> lead(Q1) ratio 50%\n"
        "}\n"
    )
    folder, data = _write(tmp_path, rules)
    order = compile_path(folder).order
    assert order.index("muni_depts") < order.index("a_dept"), order
    got = _results(capsys, (folder, data))
    # hy-policy (Q1's lead): to_dept 0.8 + 50% × (8 + 4 + 2) = 7.8
    assert got[("a_dept", "hy-policy")]["joint"] == "7.80"


def test_impact_of_adding_a_chain_scores_it_with_its_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the old rules lack to_bureau and to_dept; the chain cannot be applied without its source
    start, end = RULES.index("# half of each issue's Q1"), RULES.index("joint to_person")
    old, data = _write(tmp_path / "old", RULES[:start] + RULES[end:])
    new, _ = _write(tmp_path / "new")
    code, out, err = run_cli(
        capsys, "impact", old, new, "--org", data / "org.json",
        "--facts", data / "facts.jsonl", "--period", "2025Q1",
    )  # fmt: skip
    assert code == 0, err
    # nanyue −2, hengshan −0.5, hy-policy −0.8, hy-risk −0.25: −3.55 in all
    assert "to_dept with to_bureau (#1, #2): 4 subject(s), total -3.55" in out
