"""Demo data: the Hengyang bureau with its twelve county bureaus, staff, and a year of facts.

Deterministic (a fixed seed): the same organisation and facts every time, so a newcomer's
rankings match the documentation's. Each county bureau has a character (a strong, average or
struggling performer) so rankings and tiers spread as they do in practice. The facts of each
year are valid against that year's rules. From 2026 the municipal departments have agency staff
(机关人员, scored by the job-coefficient method of《衡阳市税务局2026年度绩效考评办法》§4.1),
recorded as joining on 2026-01-01, and the facts add the closure rates of K3 and the
leader-assigned tasks, so the 2026 pools and bonus amounts have something to share.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine

from app.services import recording
from app.services.org import import_org
from app.services.registry import Registry
from app.services.tokens import DEMO

SEED = 2025
DEPTS = [
    ("hy-revenue", "收入核算科"),
    ("hy-service", "纳税服务科"),
    ("hy-risk", "风险管理科"),
    ("hy-policy", "税政科"),
    ("hy-office", "办公室"),
]
COUNTIES = [
    ("nanyue", "南岳区"), ("hengshan", "衡山县"), ("hengdong", "衡东县"), ("qidong", "祁东县"),
    ("leiyang", "耒阳市"), ("changning", "常宁市"), ("hengnan", "衡南县"), ("hengyangx", "衡阳县"),
    ("zhuhui", "珠晖区"), ("yanfeng", "雁峰区"), ("shigu", "石鼓区"), ("zhengxiang", "蒸湘区"),
]  # fmt: skip
SECTIONS = [
    ("levy", "征收管理股"),
    ("service", "纳税服务股"),
    ("risk", "风险管理股"),
    ("office", "办公室"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["明", "华", "丽", "强", "静", "伟", "芳", "军", "敏", "磊", "婷", "洋", "勇", "艳", "杰"]
GROUPS = ["leader", "peer", "grassroots", "taxpayer"]
STEPS = ["identify", "analyze", "dispatch", "respond", "review"]
AGENCY_FROM = date(2026, 1, 1)
POSTS = ["director", "deputy", "officer", "officer", "clerk"]


def organisation(rng: random.Random) -> dict[str, Any]:
    """The municipal bureau, its five departments, twelve counties with sections, staff."""
    units: list[dict[str, Any]] = [
        {"id": "hengyang", "name": "衡阳市税务局", "kind": "municipal_bureau", "parent": None}
    ]
    units += [
        {"id": i, "name": n, "kind": "municipal_dept", "parent": "hengyang"} for i, n in DEPTS
    ]
    persons: list[dict[str, Any]] = []
    for cid, cname in COUNTIES:
        units.append(
            {"id": cid, "name": f"{cname}税务局", "kind": "county_bureau", "parent": "hengyang"}
        )
        for sid, sname in SECTIONS:
            unit = f"{cid}-{sid}"
            units.append({"id": unit, "name": sname, "kind": "county_dept", "parent": cid})
            for k in range(1, rng.randint(3, 6) + 1):
                name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
                post = "section_chief" if k == 1 else rng.choice(["tax_officer", "clerk"])
                attrs = {"post": post, "workload": rng.choice([80, 100, 100, 120])}
                persons.append({"id": f"{unit}-{k}", "name": name, "unit": unit, "attrs": attrs})
    return {"units": units, "persons": persons}


def agency_staff(rng: random.Random) -> list[dict[str, Any]]:
    """Persons of the municipal departments (机关人员), each with a post of the 2026 table."""
    persons = []
    for did, _ in DEPTS:
        for k in range(1, rng.randint(2, 4) + 1):
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
            post = "director" if k == 1 else rng.choice(POSTS[1:])
            attrs = {"post": post, "workload": rng.choice([90, 100, 110])}
            persons.append({"id": f"{did}-{k}", "name": name, "unit": did, "attrs": attrs})
    return persons


def with_agency(org: dict[str, Any]) -> dict[str, Any]:
    """The organisation from 2026: the same units, and the departments' staff."""
    return {"units": org["units"], "persons": org["persons"] + agency_staff(random.Random(SEED))}


class _Year:
    """Writes one year's facts with ids `d<year>-<n>`."""

    def __init__(self, rng: random.Random, year: int) -> None:
        self.rng, self.year = rng, year
        self.facts: list[dict[str, Any]] = []

    def day(self, q: int) -> str:
        start = date(self.year, 3 * q - 2, 1)
        return (start + timedelta(self.rng.randint(0, 88))).isoformat()

    def add(self, ftype: str, subject: str, data: dict[str, Any], **when: str) -> None:
        fact = {"id": f"d{self.year}-{len(self.facts) + 1}", "type": ftype, "subject": subject}
        self.facts.append({**fact, **when, "data": data})

    def doc(self, kind: str) -> str:
        return f"衡税{kind}〔{self.year}〕{self.rng.randint(1, 300)}号"


def _county(y: _Year, cid: str, skill: float, q: int, staff: list[str]) -> None:
    rng, period = y.rng, f"{y.year}Q{q}"
    if rng.random() > 0.05:
        y.add(
            "revenue_completion",
            cid,
            {"value": round(rng.gauss(96 + 6 * skill, 3), 1)},
            period=period,
        )
    y.add(
        "satisfaction",
        cid,
        {"value": round(min(99.5, rng.gauss(85 + 8 * skill, 3)), 1)},
        period=period,
    )
    grade = ["poor", "fair", "good", "excellent"][
        min(3, max(0, round(2 + skill + rng.gauss(0, 0.6))))
    ]
    y.add("style_grade", cid, {"grade": grade}, period=period)
    for g in GROUPS:
        for _ in range(2):
            value = min(100, max(50, round(rng.gauss(82 + 8 * skill, 5))))
            y.add("rating", cid, {"rater_group": g, "value": value}, period=period)
    for step in rng.sample(STEPS, k=max(1, min(5, round(3 + 1.5 * skill + rng.gauss(0, 1))))):
        y.add("risk_step", cid, {"step": step}, date=y.day(q))
    for _ in range(max(0, round(rng.gauss(1.5 - skill, 1)))):
        data: dict[str, Any] = {"level": rng.choice(["provincial", "municipal", "municipal"])}
        if staff and rng.random() < 0.5:
            data["responsible"] = rng.choice(staff)
        y.add("inspection_issue", cid, data, date=y.day(q), evidence=y.doc("督"))
    for _ in range(max(0, round(rng.gauss(2 - skill, 1.2)))):
        y.add("overdue_document", cid, {}, date=y.day(q))
    if rng.random() < 0.35 + 0.2 * skill:
        level = rng.choices(["national", "provincial", "municipal"], [1, 3, 6])[0]
        y.add(
            "commendation",
            cid,
            {"level": level, "matter": f"专项{rng.randint(1, 6)}"},
            date=y.day(q),
            evidence=y.doc("发"),
        )
    if rng.random() < 0.25:
        tone = "praise" if rng.random() < 0.6 + 0.3 * skill else "criticism"
        y.add(
            "leader_instruction",
            cid,
            {"level": rng.choice(["provincial", "municipal"]), "tone": tone},
            date=y.day(q),
        )
    if rng.random() < 0.2 - 0.1 * skill:
        note = {"level": "municipal", "indicator": rng.choice(["K1", "K4", "G1"])}
        y.add("criticism_notice", cid, note, date=y.day(q), evidence=y.doc("办"))
    if rng.random() < 0.3:
        y.add("info_adopted", cid, {}, date=y.day(q))
    if skill < -0.8 and q == 3 and rng.random() < 0.5:
        y.add("major_violation", cid, {}, date=y.day(q), evidence=y.doc("纪"))


def _dept(y: _Year, did: str, q: int) -> None:
    rng, period = y.rng, f"{y.year}Q{q}"
    y.add("task_completion", did, {"value": round(rng.uniform(86, 104), 1)}, period=period)
    for g in GROUPS:
        y.add("rating", did, {"rater_group": g, "value": rng.randint(75, 98)}, period=period)
    if rng.random() < 0.3:
        y.add("commendation", did, {"level": "municipal"}, date=y.day(q), evidence=y.doc("发"))


def _person(y: _Year, pid: str, workload: int, level: float, q: int) -> None:
    rng, period = y.rng, f"{y.year}Q{q}"
    target = workload * rng.uniform(0.75, 1.05) * (0.9 + 0.15 * level)
    done = 0.0
    while done < target:
        points = rng.choice([5, 8, 10, 12, 15, 20])
        quality = rng.choices(["excellent", "normal", "poor"], [2 + 2 * level, 7, 1])[0]
        y.add("work_item", pid, {"points": points, "quality": quality}, date=y.day(q))
        done += points
    base = 78 + 8 * level
    for ftype, n in (("ability_rating", 1), ("attitude_rating", 1), ("peer_rating", 3)):
        if rng.random() < 0.03:
            continue
        for _ in range(n):
            value = min(100, max(40, round(rng.gauss(base, 5))))
            y.add(ftype, pid, {"value": value}, period=period)
    if rng.random() < 0.05:
        y.add(
            "competition_award",
            pid,
            {"place": rng.choice(["first", "second", "third"])},
            date=y.day(q),
        )
    if rng.random() < 0.01:
        y.add("discipline_violation", pid, {}, date=y.day(q), evidence=y.doc("纪"))


def facts(org: dict[str, Any], year: int, seed: int = SEED) -> list[dict[str, Any]]:
    """A year of facts for the organisation."""
    rng = random.Random(f"{seed}-{year}")
    skill = {cid: rng.uniform(-1, 1) for cid, _ in COUNTIES}
    staff: dict[str, list[str]] = {}
    for p in org["persons"]:
        staff.setdefault(p["unit"].rsplit("-", 1)[0], []).append(p["id"])
    # Agency staff (from 2026) have no county bureau behind them.
    level = {
        p["id"]: rng.uniform(-1, 1) + 0.3 * skill.get(p["unit"].rsplit("-", 1)[0], 0)
        for p in org["persons"]
    }
    y = _Year(rng, year)
    for q in range(1, 5):
        for cid, _ in COUNTIES:
            _county(y, cid, skill[cid], q, staff[cid])
        for did, _ in DEPTS:
            _dept(y, did, q)
        for p in org["persons"]:
            _person(y, p["id"], p["attrs"]["workload"], level[p["id"]], q)
        if year >= 2026:
            _since_2026(y, skill, level, q)
    if year >= 2026:
        for cid, _ in COUNTIES:
            y.add("risk_closure", cid, {"value": _rate(rng, skill[cid])}, period=str(year))
    _whole_year(y, skill)
    return y.facts


def _whole_year(y: _Year, skill: dict[str, float]) -> None:
    """The period values of the year itself, as a bureau records them after the year's close
    (the annual revenue completion, satisfaction survey, style grade and 360° ratings; the
    departments' task completion and ratings): without them the year's results of the
    county bureaus and departments would lack K1, K2, G2, G3, D1 and D2."""
    rng, period = y.rng, str(y.year)
    for cid, _ in COUNTIES:
        s = skill[cid]
        y.add(
            "revenue_completion", cid, {"value": round(rng.gauss(96 + 6 * s, 2), 1)}, period=period
        )
        y.add(
            "satisfaction",
            cid,
            {"value": round(min(99.5, rng.gauss(85 + 8 * s, 2)), 1)},
            period=period,
        )
        grade = ["poor", "fair", "good", "excellent"][min(3, max(0, round(2 + s)))]
        y.add("style_grade", cid, {"grade": grade}, period=period)
        for g in GROUPS:
            for _ in range(2):
                value = min(100, max(50, round(rng.gauss(82 + 8 * s, 4))))
                y.add("rating", cid, {"rater_group": g, "value": value}, period=period)
    for did, _ in DEPTS:
        y.add("task_completion", did, {"value": round(rng.uniform(88, 103), 1)}, period=period)
        for g in GROUPS:
            value = rng.randint(78, 97)
            y.add("rating", did, {"rater_group": g, "value": value}, period=period)


def _rate(rng: random.Random, skill: float) -> float:
    return round(min(100.0, max(0.0, rng.gauss(82 + 10 * skill, 8))), 1)


def _since_2026(y: _Year, skill: dict[str, float], level: dict[str, float], q: int) -> None:
    """K3's closure rates (§2) and leader-assigned tasks (§4.2), with a corrected outcome now
    and then."""
    rng, period = y.rng, f"{y.year}Q{q}"
    for cid, _ in COUNTIES:
        if rng.random() > 0.05:
            y.add("risk_closure", cid, {"value": _rate(rng, skill[cid])}, period=period)
    for pid, lv in level.items():
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            weights = [6 + 3 * lv, 2, max(0.2, 1 - lv)]
            outcome = rng.choices(["completed", "late", "failed"], weights)[0]
            task = f"交办事项{rng.randint(1, 60)}"
            y.add("assigned_task", pid, {"outcome": outcome, "task": task}, date=y.day(q))
            if outcome == "failed" and rng.random() < 0.3:
                first = y.facts[-1]["id"]
                y.add("assigned_task", pid, {"outcome": "late", "task": task}, date=y.day(q))
                y.facts[-1]["supersedes"] = first
                y.facts[-1]["evidence"] = y.doc("办") + "（更正）"


def load(engine: Engine, registry: Registry, by: str = "demo") -> dict[str, int]:
    """Records the demo organisation and the facts of every year with a ruleset in service."""
    org = organisation(random.Random(SEED))
    import_org(engine, org, "demo", by)
    years = sorted(y.compiled.year for y in registry.in_service() if y.compiled.year is not None)
    later = with_agency(org)
    if any(year >= AGENCY_FROM.year for year in years):
        import_org(engine, later, "demo", by, valid_from=AGENCY_FROM)
    counts: dict[str, int] = {}
    for year in years:
        year_org = later if year >= AGENCY_FROM.year else org
        got = recording.post(engine, registry, DEMO, facts(year_org, year), by)
        counts[str(year)] = int(got["added"]) + int(got["unchanged"])
    return counts
