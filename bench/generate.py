"""Writes a synthetic province (org.json and facts.jsonl) valid against rules/2025.

    python bench/generate.py --counties 100 --persons 3000 --facts 1000000 --seed 1 \\
        --out bench/out/province

One municipal bureau, the five departments of the reference, `--counties` county bureaus with
three to six sections each, and `--persons` staff spread unevenly over the sections. The facts
cover every 2025 fact type in rough real proportions (work items, then ratings, then the rarer
events); single-valued period facts are at most one live per subject and period, a few facts
are corrected by a later one that supersedes them, and the same seed writes the same files.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

from app.services.demo import COUNTIES, DEPTS

Fact = dict[str, Any]

COUNTY_NAMES = COUNTIES
SECTIONS = [
    ("levy", "征收管理股"), ("service", "纳税服务股"), ("risk", "风险管理股"),
    ("policy", "税政股"), ("office", "办公室"), ("audit", "稽查股"),
]  # fmt: skip
POSTS = ["tax_officer", "tax_officer", "tax_officer", "section_chief", "clerk", "auditor"]
QUARTERS = ["Q1", "Q2", "Q3", "Q4"]
LEVELS3 = ["national", "provincial", "municipal"]
COUNTY_INDICATORS = ["K1", "K2", "K3", "K4", "G1", "G2", "G3"]
RATER_GROUPS = ["leader", "peer", "grassroots", "taxpayer"]

# Share of the fact budget per kind of fact; work items take what is left (about 79%).
SHARE_PERSON_RATINGS = 0.12
SHARE_UNIT_RATINGS = 0.03
SHARE_CORRECTIONS = 0.002
DATED_UNIT = {  # fact type: share of the budget (on county bureaus and departments)
    "risk_step": 0.02,
    "inspection_issue": 0.008,
    "overdue_document": 0.008,
    "commendation": 0.003,
    "leader_instruction": 0.002,
    "criticism_notice": 0.004,
    "info_adopted": 0.006,
}
DATED_PERSON = {"commendation": 0.002, "competition_award": 0.003, "criticism_notice": 0.001}


@dataclass
class Province:
    """The organisation as generated."""

    counties: list[str] = field(default_factory=list)
    depts: list[str] = field(default_factory=list)
    units: list[dict[str, Any]] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    staff_of: dict[str, list[str]] = field(default_factory=dict)  # county → person ids

    @property
    def org_units(self) -> list[str]:
        """Every unit that organisational scorecards score."""
        return self.counties + self.depts


def make_org(rng: random.Random, counties: int, persons: int) -> Province:
    """The municipal bureau, its departments, counties with sections, and staff."""
    pv = Province()
    pv.units.append(
        {"id": "hengyang", "name": "衡阳市税务局", "kind": "municipal_bureau", "parent": None}
    )
    for ident, name in DEPTS:
        pv.units.append({"id": ident, "name": name, "kind": "municipal_dept", "parent": "hengyang"})
        pv.depts.append(ident)
    sections: list[tuple[str, str]] = []  # (section id, county id)
    for i in range(counties):
        cid, cname = COUNTY_NAMES[i] if i < len(COUNTY_NAMES) else (f"county{i:03d}", f"{i}号县")
        pv.units.append(
            {"id": cid, "name": f"{cname}税务局", "kind": "county_bureau", "parent": "hengyang"}
        )
        pv.counties.append(cid)
        pv.staff_of[cid] = []
        for sid, sname in SECTIONS[: rng.randint(3, len(SECTIONS))]:
            pv.units.append(
                {
                    "id": f"{cid}-{sid}",
                    "name": f"{cname}{sname}",
                    "kind": "county_dept",
                    "parent": cid,
                }
            )
            sections.append((f"{cid}-{sid}", cid))
    weights = [rng.uniform(0.5, 2.0) for _ in sections]
    counters: dict[str, int] = {}
    for sid, cid in rng.choices(sections, weights, k=persons):
        counters[sid] = counters.get(sid, 0) + 1
        pid = f"{sid}-{counters[sid]}"
        attrs = {"post": rng.choice(POSTS), "workload": rng.choice([80, 100, 100, 120])}
        pv.persons.append(
            {"id": pid, "name": f"职工{len(pv.persons) + 1}", "unit": sid, "attrs": attrs}
        )
        pv.staff_of[cid].append(pid)
    return pv


class FactWriter:
    """Numbers facts and keeps what corrections need: the single-valued ones and the dated."""

    def __init__(self, rng: random.Random, year: int) -> None:
        self.rng = rng
        self.year = year
        self.facts: list[Fact] = []
        start = date(year, 1, 1)
        days = (date(year + 1, 1, 1) - start).days
        self.dates = [(start + timedelta(d)).isoformat() for d in range(days)]
        self.periods = [f"{year}{q}" for q in QUARTERS] + [str(year)]
        self.quarters = self.periods[:4]

    def add(
        self,
        ftype: str,
        subject: str,
        data: dict[str, Any],
        *,
        when: str | None = None,
        period: str | None = None,
        evidence: str | None = None,
    ) -> Fact:
        """Appends a fact: dated (a random day of the year unless `when`) or for a period."""
        f: Fact = {"id": f"f{len(self.facts) + 1}", "type": ftype, "subject": subject}
        if period is None:
            f["date"] = when or self.rng.choice(self.dates)
        else:
            f["period"] = period
        f["data"] = data
        if evidence is not None:
            f["evidence"] = evidence
        self.facts.append(f)
        return f

    def doc(self, kind: str) -> str:
        """A document number (文号) such as 衡税督〔2025〕37号."""
        return f"衡税{kind}〔{self.year}〕{self.rng.randint(1, 400)}号"


def period_values(w: FactWriter, pv: Province) -> None:
    """K1, K2, G2 for county bureaus and D1 for departments: one per period, a few missing."""
    rng = w.rng
    for p in w.periods:
        for c in pv.counties:
            if rng.random() > 0.02:
                w.add("revenue_completion", c, {"value": round(rng.uniform(88, 112), 1)}, period=p)
            if rng.random() > 0.03:
                w.add("satisfaction", c, {"value": round(rng.uniform(72, 99), 1)}, period=p)
            grade = rng.choices(["excellent", "good", "fair", "poor"], [4, 4, 2, 1])[0]
            w.add("style_grade", c, {"grade": grade}, period=p)
        for d in pv.depts:
            w.add("task_completion", d, {"value": round(rng.uniform(85, 110), 1)}, period=p)


def unit_ratings(w: FactWriter, pv: Province, budget: int) -> None:
    """360° ratings of every unit in every period: several raters per group."""
    cells = [(u, p, g) for u in pv.org_units for p in w.periods for g in RATER_GROUPS]
    rng = w.rng
    for u, p, g in rng.choices(cells, k=max(budget, 0)):
        w.add("rating", u, {"rater_group": g, "value": rng.randint(60, 100)}, period=p)


def person_ratings(w: FactWriter, pv: Province, budget: int) -> None:
    """Ability, attitude and peer ratings per person and quarter; a few person-quarters lack one."""
    rng = w.rng
    slots = max(1, len(pv.persons) * 4)
    per = max(3, budget // slots)
    kinds = ["ability_rating", "attitude_rating"] + ["peer_rating"] * max(1, per - 2)
    for person in pv.persons:
        pid = person["id"]
        level = rng.uniform(65, 95)
        for p in w.quarters:
            for ftype in kinds:
                if rng.random() < 0.01:
                    continue
                value = min(100, max(0, round(rng.gauss(level, 6))))
                w.add(ftype, pid, {"value": value}, period=p)


def work_items(w: FactWriter, pv: Province, count: int) -> None:
    """The bulk: work items spread over persons and the year, sized so scores spread near 100."""
    if not pv.persons or count <= 0:
        return
    rng = w.rng
    per_quarter = count / (len(pv.persons) * 4)
    scale = 95 / (per_quarter * 1.5)  # mean points × factor ≈ 95% of a workload of 100
    steps = [_tidy(max(0.5, round(x * scale * 2) / 2)) for x in (0.5, 1, 1.5, 2, 2.5)]
    weights = [rng.uniform(0.3, 1.5) for _ in pv.persons]
    ids = [p["id"] for p in pv.persons]
    subjects = rng.choices(ids, weights, k=count)
    days = rng.choices(w.dates, k=count)
    points = rng.choices(steps, k=count)
    quality = rng.choices(["excellent", "normal", "poor"], [2, 7, 1], k=count)
    for s, d, pt, q in zip(subjects, days, points, quality, strict=True):
        w.add("work_item", s, {"points": pt, "quality": q}, when=d)


def _tidy(x: float) -> float | int:
    return int(x) if x.is_integer() else x


def dated_unit_facts(w: FactWriter, pv: Province, n: int) -> None:
    """Events on county bureaus and departments: K3, K4, G1, 加减分, vetoes, info adopted."""
    rng = w.rng
    makers: dict[str, Callable[[str], tuple[dict[str, Any], str | None]]] = {
        "risk_step": lambda _: (
            {"step": rng.choice(["identify", "analyze", "dispatch", "respond", "review"])},
            None,
        ),
        "inspection_issue": lambda u: (_issue(rng, pv, u), w.doc("督")),
        "overdue_document": lambda _: ({}, None),
        "commendation": lambda _: (_commendation(rng, LEVELS3), w.doc("发")),
        "leader_instruction": lambda _: (
            {"level": rng.choice(LEVELS3), "tone": rng.choice(["praise", "praise", "criticism"])},
            None,
        ),
        "criticism_notice": lambda _: (_notice(rng), w.doc("办")),
        "info_adopted": lambda _: ({}, None),
    }
    for ftype, share in DATED_UNIT.items():
        on = (
            pv.counties
            if ftype in ("risk_step", "inspection_issue", "overdue_document")
            else (pv.org_units)
        )
        for u in rng.choices(on, k=max(1, round(n * share))):
            data, evidence = makers[ftype](u)
            w.add(ftype, u, data, evidence=evidence if rng.random() < 0.8 else None)
    for u in rng.sample(pv.org_units, k=max(1, len(pv.org_units) // 40)):
        w.add("major_violation", u, {}, evidence=w.doc("纪"))


def _issue(rng: random.Random, pv: Province, county: str) -> dict[str, Any]:
    data: dict[str, Any] = {"level": rng.choice(["provincial", "municipal", "municipal"])}
    staff = pv.staff_of.get(county)
    if staff and rng.random() < 0.6:
        data["responsible"] = rng.choice(staff)
    return data


def _commendation(rng: random.Random, levels: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {"level": rng.choices(levels, [1, 3, 6])[0]}
    if rng.random() < 0.4:
        data["matter"] = f"专项{rng.randint(1, 20)}"
    return data


def _notice(rng: random.Random) -> dict[str, Any]:
    data: dict[str, Any] = {"level": rng.choice(["provincial", "municipal"])}
    if rng.random() < 0.6:
        data["indicator"] = rng.choice(COUNTY_INDICATORS)
    return data


def dated_person_facts(w: FactWriter, pv: Province, n: int) -> None:
    """Events on persons: commendations, competition awards, notices, a few violations."""
    rng = w.rng
    ids = [p["id"] for p in pv.persons]
    if not ids:
        return
    for ftype, share in DATED_PERSON.items():
        for pid in rng.choices(ids, k=max(1, round(n * share))):
            if ftype == "commendation":
                data = _commendation(rng, LEVELS3)
            elif ftype == "competition_award":
                data = {"place": rng.choices(["first", "second", "third"], [1, 2, 4])[0]}
            else:
                data = {"level": rng.choice(["provincial", "municipal"])}
            w.add(ftype, pid, data, evidence=w.doc("人") if rng.random() < 0.5 else None)
    for pid in rng.sample(ids, k=max(1, len(ids) // 200)):
        w.add("discipline_violation", pid, {}, evidence=w.doc("纪"))


def corrections(w: FactWriter, count: int) -> None:
    """Later facts that supersede earlier ones: same type, subject and period, new data."""
    rng = w.rng
    candidates = [
        f
        for f in w.facts
        if f["type"] in ("work_item", "revenue_completion", "satisfaction", "rating", "peer_rating")
    ]
    for old in rng.sample(candidates, k=min(count, len(candidates))):
        data = dict(old["data"])
        if old["type"] == "work_item":
            data["quality"] = rng.choice(["excellent", "normal", "poor"])
        else:
            data["value"] = min(100, round(data["value"] + rng.choice([-2, -1, 1, 2]), 1))
        new = w.add(
            old["type"],
            old["subject"],
            data,
            when=old.get("date"),
            period=old.get("period"),
            evidence=w.doc("更"),
        )
        new["supersedes"] = old["id"]


def generate(
    counties: int, persons: int, facts: int, year: int, seed: int
) -> tuple[dict[str, Any], list[Fact]]:
    """The organisation (as JSON) and the facts, shuffled as systems append them."""
    rng = random.Random(seed)
    pv = make_org(rng, counties, persons)
    w = FactWriter(rng, year)
    period_values(w, pv)
    unit_ratings(w, pv, round(facts * SHARE_UNIT_RATINGS))
    person_ratings(w, pv, round(facts * SHARE_PERSON_RATINGS))
    dated_unit_facts(w, pv, facts)
    dated_person_facts(w, pv, facts)
    n_corrections = round(facts * SHARE_CORRECTIONS)
    work_items(w, pv, facts - len(w.facts) - n_corrections)
    rng.shuffle(w.facts)
    # Renumber in file order, so ids read f1, f2, … down the file; corrections come last.
    for i, f in enumerate(w.facts, 1):
        f["id"] = f"f{i}"
    corrections(w, n_corrections)
    org = {"units": pv.units, "persons": pv.persons}
    return org, w.facts


def prefixed(
    org: dict[str, Any], facts: list[Fact], prefix: str
) -> tuple[dict[str, Any], list[Fact]]:
    """The same province under other ids: every unit, person and fact id starts with
    `prefix` (and the root's name with it), so that several provinces share one database."""
    if not prefix:
        return org, facts
    ids = {u["id"] for u in org["units"]} | {p["id"] for p in org["persons"]}

    def re(x: Any) -> Any:
        return prefix + x if isinstance(x, str) and x in ids else x

    units = [
        {**u, "id": re(u["id"]), "parent": re(u["parent"])}
        | ({"name": f"{prefix}{u['name']}"} if u["parent"] is None else {})
        for u in org["units"]
    ]
    persons = [{**p, "id": re(p["id"]), "unit": re(p["unit"])} for p in org["persons"]]
    out: list[Fact] = []
    for f in facts:
        g = {**f, "id": prefix + f["id"], "subject": re(f["subject"])}
        if "supersedes" in g:
            g["supersedes"] = prefix + g["supersedes"]
        if "data" in g:
            g["data"] = {k: re(v) for k, v in g["data"].items()}
        out.append(g)
    return {"units": units, "persons": persons}, out


def write(out: Path, org: dict[str, Any], facts: list[Fact]) -> None:
    """org.json (indented) and facts.jsonl (one compact object a line)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "org.json").write_bytes(orjson.dumps(org, option=orjson.OPT_INDENT_2))
    with (out / "facts.jsonl").open("wb") as fh:
        fh.writelines(_lines(facts))


def _lines(facts: list[Fact]) -> Iterator[bytes]:
    nl = b"\n"
    for f in facts:
        yield orjson.dumps(f) + nl


def main(argv: list[str] | None = None) -> None:
    """Command line: sizes, year, seed and output folder."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--counties", type=int, default=100)
    ap.add_argument("--persons", type=int, default=3000)
    ap.add_argument("--facts", type=int, default=1_000_000)
    ap.add_argument("--year", type=int, default=2025)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("bench/out/province"))
    ap.add_argument("--prefix", default="", help="ids start with this (several provinces)")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    org, facts = prefixed(*generate(a.counties, a.persons, a.facts, a.year, a.seed), a.prefix)
    write(a.out, org, facts)
    units, persons = len(org["units"]), len(org["persons"])
    print(
        f"{a.out}: {units} units, {persons} persons, {len(facts)} facts "
        f"in {time.perf_counter() - t0:.1f} s"
    )


if __name__ == "__main__":
    main()
