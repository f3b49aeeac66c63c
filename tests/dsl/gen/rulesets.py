"""Random well-formed rulesets, and an organisation and facts for them (hypothesis strategies).

`rulesets()` draws a ruleset that uses every construct of the grammar in random compositions:
the header, the organisation schema (with `persons` and `unit attrs`), sequences of units and
persons (`in`, `under`, `where`, unions), fact types of every kind and field type (dates
included), scorecards with categories or components, indicators with risk, `applies when`,
`points N max M`, lets and score / deduct per / add per rules, expressions of every form
(arithmetic, if, match over enums and unions, `steps`, comparisons, every built-in: peers'
mean, best and least, `share_of_best`, `deviation`, `trunc`, `days`, `present`/`missing`,
`any`/`all`/`count` over descendants; cross-scorecard references, tables), items, final, floor,
annual (means, `q1`..`q4`, blended with the year's own results), rank (one per period kind),
vetoes (own facts, descendants', `veto when`), bands given directly, tiers and grades,
`round RESULT`, item tables with caps per item and per year, joint liability (capped per
period or year), tables, pools and tests; spread over several files. Most drawn
rulesets check without errors (they are built to); the property test keeps those that do.

`Drawn.files` maps a relative path to its text; `Drawn.org` and `Drawn.facts` are the inputs.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hypothesis import strategies as st

T = TypeVar("T")
KINDS = ("mb", "md", "cb", "cd")
MODES = ("half_up", "half_even", "down", "up", "ceiling", "floor")
POSTS = ("director", "officer", "clerk")

# The organisation: a municipal bureau with two departments, three county bureaus, two with a
# department; persons in county departments and in municipal departments.
UNITS = (
    ("hy", "mb", None),
    ("hy-a", "md", "hy"),
    ("hy-b", "md", "hy"),
    ("c1", "cb", "hy"),
    ("c2", "cb", "hy"),
    ("c3", "cb", "hy"),
    ("c1-d", "cd", "c1"),
    ("c2-d", "cd", "c2"),
)
PERSONS = (("p1", "c1-d"), ("p2", "c1-d"), ("p3", "c2-d"), ("p4", "hy-a"), ("p5", "hy-b"))
# Expected-results files a test may name, well-formed or not (a test fails; nothing crashes).
EXPECTED = {
    "expected.json": '{"results": [{"subject": "c1", "scorecard": "card1", "final": "60",'
    ' "indicators": {"card1c0i0": "1"}, "missing": []}, {"subject": "zz", "final": 1}]}',
    "shape.json": '{"results": [{"subject": "c1", "final": {"a": 1}, "missing": "x"}]}',
    "list.json": "[1, 2]",
    "rows.json": '{"results": [1, {"final": 2}]}',
    "broken.json": '{"results": [',
}
PERIODS = ("2025Q1", "2025Q2", "2025Q3", "2025Q4", "2025")


@dataclass
class Field:
    name: str
    kind: str  # number | text | person | unit | indicator | enum
    optional: bool = False
    low: int | None = None
    high: int | None = None
    values: tuple[str, ...] = ()


@dataclass
class Fact:
    id: str
    kind: str  # dated | period | many
    subjects: tuple[str, ...]
    fields: list[Field]
    unscored: bool = False

    def numbers(self) -> list[Field]:
        """Number fields, optional ones included: a fact may lack them."""
        return [f for f in self.fields if f.kind == "number"]

    def enums(self) -> list[Field]:
        return [f for f in self.fields if f.kind == "enum"]


@dataclass
class Seq:
    id: str
    subject: str
    text: str
    kinds: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()


@dataclass
class Card:
    id: str
    seq: Seq
    periods: tuple[str, ...]
    annual: bool
    parts: list[str] = field(default_factory=list)
    per_indicators: list[tuple[str, Fact]] = field(default_factory=list)
    leads: list[str] = field(default_factory=list)
    items: str | None = None
    tiers: list[str] = field(default_factory=list)
    grades: list[str] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return self.seq.subject

    @property
    def scores_year(self) -> bool:
        return "year" in self.periods or self.annual


@dataclass
class Drawn:
    """A drawn ruleset: its files (relative path → text), organisation and facts."""

    files: dict[str, str]
    org: dict[str, Any]
    facts: list[dict[str, Any]]

    def show(self) -> str:
        """Everything, for a failing example's report."""
        parts = [f"# ---- {p}\n{t}" for p, t in sorted(self.files.items())]
        parts.append("# ---- org.json\n" + json.dumps(self.org))
        parts.append("# ---- facts.jsonl\n" + "\n".join(json.dumps(f) for f in self.facts))
        return "\n".join(parts)


class _Gen:
    """One drawing: the declarations so far, so that later ones refer to earlier ones."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.facts: list[Fact] = []
        self.seqs: list[Seq] = []
        self.cards: list[Card] = []
        self.joints: list[tuple[str, Card]] = []  # joint blocks and the card they go into
        self.item_tables: dict[str, tuple[str, list[tuple[str, Fact]]]] = {}
        self.tables: list[tuple[str, Seq | None]] = []
        self.decls: list[str] = []
        self.attrs: dict[str, str] = {}
        self.n = 0

    # ---- small helpers -----------------------------------------------------------------
    def pick(self, xs: Iterable[T]) -> T:
        return self.draw(st.sampled_from(list(xs)))

    def chance(self, p: float = 0.5) -> bool:
        # Scrambled: hypothesis favours the bounds of a range (0, 999), which would make a
        # rare choice common.
        return (self.draw(st.integers(0, 999)) * 7919 + 499) % 1000 < p * 1000

    def fresh(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def split(self, total: int, k: int) -> list[int]:
        """`total` as `k` positive whole parts."""
        cuts = sorted(self.draw(st.sets(st.integers(1, total - 1), min_size=k - 1, max_size=k - 1)))
        bounds = [0, *cuts, total]
        return [b - a for a, b in itertools.pairwise(bounds)]

    def title(self) -> str:
        return ' "标题"' if self.chance(0.3) else ""

    # ---- header and organisation ---------------------------------------------------------
    def header(self) -> None:
        periods = self.pick([("quarter", "year"), ("quarter",), ("year",)])
        self.periods = periods
        mode = self.pick(MODES)
        places = self.draw(st.integers(0, 3))
        self.places = places
        self.decls.append(
            f'ruleset "随机" {{\n  year 2025\n  periods {", ".join(periods)}\n'
            f"  round {places} {mode}\n}}\n"
        )

    def organisation(self) -> None:
        kinds = "\n".join(f"    {k}" + self.title() for k in KINDS)
        self.attrs = {"post": "text", "workload": "number", "grade": "enum"}
        opt = {a: "?" if self.chance(0.3) else "" for a in self.attrs}
        self.attr_optional = {a: bool(v) for a, v in opt.items()}
        attrs = (
            f"    post: text{opt['post']}\n    workload: number > 0{opt['workload']}\n"
            f"    grade: senior | junior{opt['grade']}\n"
        )
        self.org_decl = (
            f"organisation {{\n  unit kinds {{\n{kinds}\n  }}\n  person attrs {{\n{attrs}  }}\n"
        )
        # unit attributes (a class and a staff count), optional: only some units carry them
        self.unit_attrs = self.chance(0.5)
        if self.unit_attrs:
            self.org_decl += "  unit attrs {\n    cls: big | small?\n    staff: integer?\n  }\n"

    def organisation_done(self) -> None:
        text = self.org_decl
        person_seqs = [s for s in self.seqs if s.subject == "person" and not s.parts]
        if person_seqs and self.chance(0.05):
            chosen = self.draw(st.lists(st.sampled_from(person_seqs), min_size=1, max_size=2,
                                        unique_by=lambda s: s.id))  # fmt: skip
            text += "  persons " + " | ".join(s.id for s in chosen) + "\n"
        self.decls.append(text + "}\n")

    # ---- sequences -------------------------------------------------------------------------
    def where(self, subject: str) -> str:
        if subject == "person":
            return self.pick(
                [
                    'attr(post) == "officer"',
                    "attr(workload) > 50",
                    "attr(grade) == senior",
                    'not (attr(post) == "clerk")',
                    "ancestor(cb) == ancestor(cb)",
                ]
            )
        units = [
            "count(ev0) == 0",
            "ancestor(mb) == ancestor(mb)",
            "ancestor(cb | mb) == ancestor(mb)",
        ]
        if self.unit_attrs:
            units += ["attr(cls) == big", "attr(staff) >= 50", "missing(attr(cls))"]
        return self.pick(units)

    def sequences(self) -> None:
        for _ in range(self.draw(st.integers(1, 4))):
            sid = self.fresh("s")
            if self.chance(0.5):
                kinds = self.draw(st.lists(st.sampled_from(KINDS), max_size=2, unique=True))
                text = "unit " + " | ".join(kinds)
                if self.chance(0.2):
                    text += " under " + self.pick(["mb", "cb"])
                seq = Seq(sid, "unit", text, tuple(kinds))
            else:
                text = "person"
                kinds = []
                if self.chance(0.6):
                    kinds = self.draw(st.lists(st.sampled_from(["cd", "md"]), min_size=1,
                                               max_size=2, unique=True))  # fmt: skip
                    text += " in " + " | ".join(kinds)
                    if self.chance(0.3):
                        text += " under " + self.pick(["cb", "mb"])
                seq = Seq(sid, "person", text, tuple(kinds))
            if self.chance(0.25):
                seq.text += " where " + self.where(seq.subject)
            self.seqs.append(seq)
        person = [s for s in self.seqs if s.subject == "person"]
        if len(person) >= 2 and self.chance(0.5):
            parts = tuple(s.id for s in person[:2])
            self.seqs.append(Seq(self.fresh("u"), "person", " | ".join(parts), parts=parts))
        for s in self.seqs:
            self.decls.append(f"sequence {s.id}{self.title()} = {s.text}\n")

    # ---- fact types ------------------------------------------------------------------------
    def field(self, name: str) -> Field:
        kind = self.pick(
            ["number", "number", "enum", "enum", "text", "person", "unit", "indicator", "date"]
        )
        opt = self.chance(0.2)
        if kind == "number":
            low = self.draw(st.integers(0, 10))
            return Field(name, kind, opt, low, low + self.draw(st.integers(1, 100)))
        if kind == "enum":
            n = self.draw(st.integers(2, 3))
            return Field(name, kind, opt, values=tuple(f"{name}v{i}" for i in range(n)))
        return Field(name, kind, opt)

    def fact_types(self) -> None:
        # ev0: a dated unit fact used by `where` clauses of unit sequences
        self.facts.append(Fact("ev0", "dated", ("unit",), [], False))
        for _ in range(self.draw(st.integers(2, 6))):
            fid = self.fresh("f")
            kind = self.pick(["dated", "period", "many"])
            subjects = self.pick([("unit",), ("person",), ("unit", "person")])
            fields = [self.field(f"{fid}x{i}") for i in range(self.draw(st.integers(0, 3)))]
            self.facts.append(Fact(fid, kind, subjects, fields, self.chance(0.1)))
        for f in self.facts:
            self.decls.append(self.fact_text(f))

    def fact_text(self, f: Fact) -> str:
        kind = {"dated": "dated", "period": "period", "many": "period many"}[f.kind]
        lines = []
        for fd in f.fields:
            if fd.kind == "number":
                ty = self.pick(
                    [f"number in {fd.low}..{fd.high}", f"number >= {fd.low}", f"number > {fd.low}"]
                )
                if "in" not in ty:
                    fd.high = None
                if ty.startswith("number >") and ">=" not in ty:
                    fd.low = (fd.low or 0) + 1  # values drawn at the bound must fit
            elif fd.kind == "enum":
                ty = " | ".join(v + self.title() for v in fd.values)
            else:
                ty = fd.kind
            lines.append(f"  {fd.name}{self.title()}: {ty}{'?' if fd.optional else ''}\n")
        tail = " unscored" if f.unscored else ""
        body = "".join(lines)
        return f"fact {f.id}{self.title()} {kind} on {' | '.join(f.subjects)} {{\n{body}}}{tail}\n"

    def facts_on(
        self, subject: str, kinds: tuple[str, ...] = ("dated", "period", "many")
    ) -> list[Fact]:
        return [
            f for f in self.facts if subject in f.subjects and f.kind in kinds and f.id != "ev0"
        ]

    # ---- expressions -----------------------------------------------------------------------
    def num(self) -> str:
        return self.pick(["0", "1", "2", "3.5", "10", "25%", "100", "0.5", "-1", "0.001", "7"])

    def cond(self, sc: dict[str, Any], depth: int) -> str:
        options = ["cmp", "cmp", "logic", "not", "count", "text", "presence"]
        if sc.get("band_refs"):
            options.append("band")
        below = [f for f in self.facts_on("unit") if f.kind == "dated"]
        if sc.get("below") and sc["subject"] == "unit" and below:
            options += ["below", "below"]
        if sc.get("quarters"):
            options.append("quarters")
        kind = self.pick(options if depth > 0 else ["cmp", "count", "text"])
        if kind == "cmp":
            op = self.pick(["<", "<=", ">", ">=", "==", "!="])
            return f"{self.expr(sc, depth - 1)} {op} {self.expr(sc, depth - 1)}"
        if kind == "logic":
            op = self.pick(["and", "or"])
            return f"({self.cond(sc, depth - 1)}) {op} ({self.cond(sc, depth - 1)})"
        if kind == "not":
            return f"not ({self.cond(sc, depth - 1)})"
        if kind == "band":
            card = self.pick([c for c in sc["band_refs"]])
            bands = card.tiers or card.grades
            what = "tier" if card.tiers else "grade"
            op = self.pick(["==", "!="])
            return (
                f"{card.id}[{self.ref_subject(card, sc['subject'])}].{what} {op} {self.pick(bands)}"
            )
        if kind == "text":
            if sc["subject"] == "person" and self.chance(0.5):
                return f'attr(post) {self.pick(["==", "!="])} "{self.pick(POSTS)}"'
            texts = [(f, fd) for f in self.facts_on(sc["subject"]) for fd in f.fields
                     if fd.kind == "text"]  # fmt: skip
            if not texts or not sc.get("facts", True):
                return "1 == 1"
            f, fd = self.pick(texts)
            return f'count({f.id}, {fd.name} == "{self.pick(["a", "p1", "c1"])}") > 0'
        if kind == "quarters":
            q = self.pick(["mean(quarters)", "q1", "q4", "(q3 + q4) / 2"])
            return f"{q} {self.pick(['>', '<='])} {self.num()}"
        if kind == "below":
            # the facts of the units below: any / all / count of a kind or two
            f = self.pick(below)
            kinds = " | ".join(self.draw(st.lists(st.sampled_from(KINDS), min_size=1,
                                                  max_size=2, unique=True)))  # fmt: skip
            quant = self.pick(["any", "all", "count"])
            arg = f"descendant({kinds}).{f.id}"
            if f.enums() and self.chance(0.3):
                e = self.pick(f.enums())
                arg += f", {e.name} == {self.pick(e.values)}"
            if quant == "count":
                return f"count({arg}) >= {self.pick(['1', '2'])}"
            return f"{quant}({arg})"
        if kind == "presence" and sc.get("facts", True):
            period = [f for f in self.facts_on(sc["subject"], ("period",)) if f.numbers()]
            if period:
                f = self.pick(period)
                what = self.pick(["present", "missing"])
                return f"{what}(value({f.id}.{self.pick(f.numbers()).name}))"
        facts = self.facts_on(sc["subject"]) if sc.get("facts", True) else []
        if not facts:
            return f"{self.num()} > {self.num()}"
        f = self.pick(facts)
        if f.enums() and self.chance(0.5):
            e = self.pick(f.enums())
            return f"count({f.id}, {e.name} == {self.pick(e.values)}) >= 1"
        return f"count({f.id}) == 0"

    def fact_expr(self, sc: dict[str, Any]) -> str | None:
        subject = sc["subject"]
        choices = []
        period = [f for f in self.facts_on(subject, ("period",)) if f.numbers()]
        periodish = [f for f in self.facts_on(subject, ("period", "many")) if f.numbers()]
        anyf = self.facts_on(subject)
        if period:
            choices.append("value")
        if periodish:
            choices.append("mean")
        if [f for f in anyf if f.numbers()]:
            choices += ["sum", "sumexpr", "distinct"]
        if [f for f in periodish if f.enums()]:
            choices.append("wmean")
        if [f for f in period if f.enums()]:
            choices.append("match")
        if anyf:
            choices.append("count")
        dated = [f for f in anyf if any(fd.kind == "date" for fd in f.fields)]
        if dated:
            choices.append("days")
        if not choices:
            return None
        c = self.pick(choices)
        if c == "days":
            # per-day amounts: whole days between two date fields of each fact
            f = self.pick(dated)
            ds = [fd.name for fd in f.fields if fd.kind == "date"]
            return f"sum({f.id}, days({self.pick(ds)}, {self.pick(ds)}))"
        if c == "value":
            f = self.pick(period)
            return f"value({f.id}.{self.pick(f.numbers()).name})"
        if c == "mean":
            f = self.pick(periodish)
            return f"mean({f.id}.{self.pick(f.numbers()).name})"
        if c == "distinct" and self.chance(0.5):
            f = self.pick([f for f in anyf if f.fields] or [f for f in anyf if f.numbers()])
            return f"distinct({f.id}.{self.pick(f.fields).name})"
        if c in ("sum", "distinct"):
            f = self.pick([f for f in anyf if f.numbers()])
            return f"{c}({f.id}.{self.pick(f.numbers()).name})"
        if c == "sumexpr":
            f = self.pick([f for f in anyf if f.numbers()])
            x = self.pick(f.numbers()).name
            return f"sum({f.id}, {x} * {self.num()})"
        if c == "wmean":
            f = self.pick([f for f in periodish if f.enums()])
            e = self.pick(f.enums())
            table = ", ".join(f"{v}: {self.draw(st.integers(1, 50))}" for v in e.values)
            return f"weighted_mean({f.id}.{self.pick(f.numbers()).name} by {e.name} {{ {table} }})"
        if c == "match":
            f = self.pick([f for f in period if f.enums()])
            e = self.pick(f.enums())
            arms = [f"{v}: {self.num()}" for v in e.values]
            if self.chance(0.4):
                arms = [*arms[:-1], f"else: {self.num()}"]
            return f"(match value({f.id}.{e.name}) {{ {', '.join(arms)} }})"
        f = self.pick(anyf)
        return f"count({f.id})"

    def expr(self, sc: dict[str, Any], depth: int) -> str:
        """A number in scope `sc`: {subject, where, lets, card, peers, refs}."""
        atoms = ["num", "num"]
        if sc.get("facts", True):
            atoms += ["fact", "fact", "fact"]
        if sc.get("lets"):
            atoms += ["let", "let"]
        if sc["subject"] == "person":
            atoms.append("attr")
            if self.tables and sc.get("tables", True):
                atoms.append("table")
        if sc.get("results"):
            atoms += ["result", "result"]
        if sc.get("refs"):
            atoms.append("ref")
        if sc.get("band_refs"):
            atoms.append("bandmatch")
        if sc.get("peers"):
            atoms += ["peer"]
        if sc.get("union"):
            atoms.append("union")
        if depth > 0:
            atoms += ["bin", "bin", "if", "maxmin", "floor", "neg", "steps", "deviation"]
        kind = self.pick(atoms)
        if kind == "fact":
            e = self.fact_expr(sc)
            return e if e is not None else self.num()
        if kind == "let":
            return str(self.pick(sc["lets"]))
        if kind == "attr":
            return "attr(workload)"
        if kind == "table":
            return self.pick([t for t, _ in self.tables])
        if kind == "result":
            return str(self.pick(sc["results"]))
        if kind == "ref":
            card, what = self.pick(sc["refs"])
            return f"{card.id}[{self.ref_subject(card, sc['subject'])}].{what}"
        if kind == "bandmatch":
            card = self.pick(sc["band_refs"])
            bands = card.tiers or card.grades
            what = "tier" if card.tiers else "grade"
            arms = [f"{b}: {self.num()}" for b in bands]
            if self.chance(0.4):
                arms = [*arms[:-1], f"else: {self.num()}"]
            subject = self.ref_subject(card, sc["subject"])
            return f"(match {card.id}[{subject}].{what} {{ {', '.join(arms)} }})"
        if kind == "peer":
            inner = self.fact_expr({**sc, "lets": None}) or "1"
            how = self.pick(["peer_mean", "rank", "share_of_best", "peer_max", "peer_min"])
            if how == "rank":
                return f"rank({inner} {self.pick(['desc', 'asc'])})"
            return f"{how}({inner})"
        if kind == "union":
            union = sc["union"]
            arms = [f"{p}: {self.expr(sc, 0)}" for p in union.parts]
            if self.chance(0.3):
                arms = [*arms[:-1], f"else: {self.num()}"]
            return f"(match {union.id} {{ {', '.join(arms)} }})"
        if kind == "bin":
            op = self.pick(["+", "-", "*", "/", "*"])
            right = self.expr(sc, depth - 1)
            if op == "/" and self.chance(0.7):
                right = self.pick(["2", "4", "100", "(1 + 1)"])
            return f"({self.expr(sc, depth - 1)} {op} {right})"
        if kind == "if":
            c = self.cond(sc, depth - 1)
            return f"(if {c} then {self.expr(sc, depth - 1)} else {self.expr(sc, depth - 1)})"
        if kind == "maxmin":
            args = [self.expr(sc, depth - 1) for _ in range(self.draw(st.integers(2, 3)))]
            return f"{self.pick(['max', 'min'])}({', '.join(args)})"
        if kind == "floor":
            return f"floor({self.expr(sc, depth - 1)})"
        if kind == "neg":
            return f"(-{self.expr(sc, depth - 1)})"
        if kind == "steps":
            x = self.expr(sc, depth - 1)
            arms = [f">= {b}: {self.num()}" for b in self.pick([["90", "50"], ["1"], ["10", "0"]])]
            return f"(steps {x} {{ {', '.join(arms)}, else: {self.num()} }})"
        if kind == "deviation":
            x = self.expr(sc, depth - 1)
            ref = self.pick(["90", "50", "-2", self.expr(sc, depth - 1)])
            got = f"deviation({x}, {ref})"
            return f"trunc({got} / 5%)" if self.chance(0.5) else got
        return self.num()

    def ref_subject(self, card: Card, subject: str) -> str:
        """A subject of `card` reached from a subject of kind `subject`: an ancestor unit."""
        kinds = card.seq.kinds or KINDS
        return f"ancestor({self.pick(kinds)})"

    # ---- scorecards ------------------------------------------------------------------------
    def rule(
        self, card: Card, ident: str, points: int, sc: dict[str, Any], indicator: bool = True
    ) -> str:
        lets = []
        names: list[str] = []
        for i in range(self.draw(st.integers(0, 2))):
            name = f"{ident.lower()}l{i}"
            lets.append(
                f"      let {name} = {self.expr({**sc, 'lets': names, 'peers': True}, 2)}\n"
            )
            names.append(name)
        per_facts = [f for f in self.facts_on(card.subject)]
        if per_facts and self.chance(0.35):
            f = self.pick(per_facts)
            where = ""
            if self.chance(0.3) and f.enums():
                e = self.pick(f.enums())
                where = f" where {e.name} == {self.pick(e.values)}"
            elif self.chance(0.2) and f.numbers():
                x = self.pick(f.numbers())
                where = f" where {x.name} >= {x.low}"
            if f.enums() and self.chance(0.4):
                e = self.pick(f.enums())
                amount = (
                    "by "
                    + e.name
                    + " { "
                    + ", ".join(f"{v}: {self.pick(['1', '0.5', '2'])}" for v in e.values)
                    + " }"
                )
            else:
                amount = self.pick(["1", "0.5", "3"])
            if indicator:  # links name indicators, not components
                card.per_indicators.append((ident, f))
            if self.chance(0.5):
                return "".join(lets) + f"      deduct per {f.id}{where} {amount} floor 0\n"
            return "".join(lets) + f"      add per {f.id}{where} {amount} ceiling {points}\n"
        score = self.expr({**sc, "lets": names, "peers": True}, 3)
        return "".join(lets) + f"      score max(0, min({points}, {score}))\n"

    def scorecard(self, seq: Seq) -> Card:
        cid = self.fresh("card")
        kinds = self.draw(st.lists(st.sampled_from(self.periods), min_size=1, unique=True))
        annual = False
        if kinds == ["quarter"] and "year" in self.periods and self.chance(0.5):
            annual = True
        # the year's own assessment blended with its quarters (`periods quarter, year`)
        blend = sorted(kinds) == ["quarter", "year"] and self.chance(0.25)
        card = Card(cid, seq, tuple(kinds), annual)
        refs = [(c, w) for c in self.cards if c.subject == "unit"
                for w in ("final", "base", "rank", *c.parts[:1])]  # fmt: skip
        band_refs = [c for c in self.cards if c.subject == "unit" and (c.tiers or c.grades)]
        sc: dict[str, Any] = {"subject": seq.subject, "refs": refs, "band_refs": band_refs}
        if seq.parts:
            sc["union"] = seq
        body = [f"  periods {', '.join(kinds)}\n"]
        if annual:
            year = ["mean(quarters)", "max(quarters)", "min(quarters)"]
            year += ["0.2 * q1 + 0.2 * q2 + 0.3 * q3 + 0.3 * q4", "(q1 + q2) / 2"]
            body.append(f"  annual {self.pick(year)}\n")
        if blend:
            body.append("  annual 0.5 * final + 0.5 * mean(quarters)\n")
        if self.chance(0.6):
            for part, weight in zip(*self._parts(), strict=False):
                pid = f"{cid}c{part}"
                card.parts.append(pid)
                m = self.pick([10, 50, 100])
                k = self.draw(st.integers(1, min(3, m)))
                inds = []
                for i, pts in enumerate(self.split(m, k) if k > 1 else [m]):
                    iid = f"{pid}i{i}"
                    card.parts.append(iid)
                    lead = ""
                    if self.chance(0.4):
                        lead = f" lead {self.pick(['hy-a', 'hy-b', 'c1'])}"
                        card.leads.append(iid)
                    risk = ""
                    if self.chance(0.2):
                        risk = (
                            "      risk "
                            + self.pick(
                                ["difficulty high control medium", "control low", "difficulty low"]
                            )
                            + "\n"
                        )
                    top = pts
                    ceiling = ""
                    if self.chance(0.15):  # 个性指标: may score above its points
                        top = pts + self.pick([1, 3])
                        ceiling = f" max {top}"
                    applies = ""
                    if self.chance(0.2):
                        applies = f"      applies when {self._applies(seq.subject, sc)}\n"
                    inds.append(
                        f"    indicator {iid}{self.title()} points {pts}{ceiling}{lead} {{\n"
                        f"{risk}{applies}{self.rule(card, iid, top, sc)}    }}\n"
                    )
                body.append(
                    f"  category {pid}{self.title()} weight {weight}% max {m} {{\n"
                    f"{''.join(inds)}  }}\n"
                )
        else:
            for part, weight in zip(*self._parts(), strict=False):
                pid = f"{cid}p{part}"
                card.parts.append(pid)
                m = self.pick([10, 100])
                rule = self.rule(card, pid, m, sc, False).replace("\n      ", "\n    ")
                body.append(
                    f"  component {pid} weight {weight}% max {m} {{\n  {rule.lstrip()}  }}\n"
                )
        unit_items = [t for t, (subj, _) in self.item_tables.items() if subj == seq.subject]
        if unit_items and self.chance(0.6):
            card.items = self.pick(unit_items)
            body.append(f"  items {card.items}\n")
        results = ["base", "bonus", "penalty", "joint", *card.parts]
        if self.chance(0.4):
            fsc = {**sc, "results": results, "facts": False, "tables": True}
            body.append(f"  final base + bonus - penalty - joint + 0 * {self.expr(fsc, 2)}\n")
        if self.chance(0.5):
            body.append(f"  floor {self.pick(['0', '60', '10.5'])}\n")
        has_rank = False
        if self.chance(0.7):
            keys = self.draw(st.lists(st.sampled_from(["final", "base", "bonus", *card.parts]),
                                      min_size=1, max_size=3, unique=True))  # fmt: skip
            keys_text = ", ".join(f"{k} {self.pick(['desc', 'asc'])}" for k in keys)
            within = ""
            if self.chance(0.3):
                kinds_w = self.draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=2,
                                             unique=True))  # fmt: skip
                within = f" within ancestor({' | '.join(kinds_w)})"
            scored = [*kinds, *(["year"] if annual else [])]
            if len(set(scored)) == 2 and self.chance(0.3):
                # one ranking per period kind, each with its own keys
                body.append(f"  rank quarter{within} by {keys_text}\n")
                body.append(f"  rank year by final {self.pick(['desc', 'asc'])}\n")
            else:
                period = f" {self.pick(scored)}" if self.chance(0.2) else ""
                body.append(f"  rank{period}{within} by {keys_text}\n")
            has_rank = True
        bsc = {
            **sc,
            "results": ["final", *(["rank", "n"] if has_rank else [])],
            "quarters": annual,
            "below": True,
        }
        for kind in ("tiers", "grades"):
            if not self.chance(0.5):
                continue
            bands = [f"{cid}{kind[0]}{i}" for i in range(self.draw(st.integers(1, 3)))]
            lines = []
            for b in bands[:-1]:
                cond = self.cond(bsc, 2)
                if has_rank and self.chance(0.5):
                    cond = f"rank <= quota({self.pick(['30%', '50%', '0%', '100%'])})"
                lines.append(f"    {b}{self.title()}: {cond}\n")
            lines.append(f"    {bands[-1]}: otherwise\n")
            scored = [*kinds, *(["year"] if annual else [])]
            period = f" {self.pick(scored)}" if self.chance(0.2) else ""
            body.append(f"  {kind}{period} round {self.pick(MODES)} {{\n{''.join(lines)}  }}\n")
            (card.tiers if kind == "tiers" else card.grades).extend(bands)
            vetoes = self.facts_on(seq.subject, ("dated",))
            if vetoes and self.chance(0.3):
                body.append(f"  veto {self.pick(vetoes).id} {kind[:-1]} {self.pick(bands)}\n")
            below = [f for f in self.facts_on("unit", ("dated",))]
            if seq.subject == "unit" and below and self.chance(0.3):
                kinds_b = " | ".join(self.draw(st.lists(st.sampled_from(KINDS), min_size=1,
                                                        max_size=2, unique=True)))  # fmt: skip
                quant = self.pick(["any", "all"])
                f = self.pick(below)
                what = f"{quant} descendant({kinds_b}).{f.id}"
                body.append(f"  veto {what} {kind[:-1]} {self.pick(bands)}\n")
            if self.chance(0.2):
                body.append(f"  veto when {self.cond(bsc, 1)} {kind[:-1]} {self.pick(bands)}\n")
            if self.chance(0.25):
                # a band given directly (outside the quota)
                body.append(f"  {kind[:-1]} {self.pick(bands)} when {self.cond(bsc, 1)}\n")
        if self.chance(0.25):
            names = ["final", "base", "bonus", "penalty", "joint", *card.parts]
            for what in self.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3,
                                           unique=True)):  # fmt: skip
                places = self.draw(st.integers(0, self.places))
                body.append(f"  round {what} {places} {self.pick(MODES)}\n")
        self.decls.append(f"scorecard {cid}{self.title()} for {seq.id} {{\n{''.join(body)}}}\n")
        self.cards.append(card)
        return card

    def _applies(self, subject: str, sc: dict[str, Any]) -> str:
        """A condition for `applies when`: a unit's class or staff, a person's grade, or any
        condition of the rule's scope."""
        options = [self.cond({**sc, "peers": False}, 1)]
        if subject == "unit" and self.unit_attrs:
            options += ["attr(cls) == big", "attr(staff) >= 50"]
        if subject == "person":
            options.append("attr(grade) == senior")
        return self.pick(options)

    def _parts(self) -> tuple[range, list[int]]:
        k = self.draw(st.integers(1, 3))
        return range(k), self.split(100, k) if k > 1 else [100]

    # ---- items, joint, tables, pools, tests --------------------------------------------------
    def item_table(self, subject: str) -> None:
        facts = self.facts_on(subject, ("dated",))
        if not facts:
            return
        tid = self.fresh("items")
        items: list[tuple[str, Fact]] = []
        lines = []
        for i in range(self.draw(st.integers(1, 3))):
            f = self.pick(facts)
            iid = f"{tid}it{i}"
            items.append((iid, f))
            amount = self.pick(["1", "0.5"])
            if f.enums() and self.chance(0.5):
                e = self.pick(f.enums())
                amount = "by " + e.name + " { " + ", ".join(f"{v}: 1" for v in e.values) + " }"
            once = ""
            if f.fields and self.chance(0.3):
                once = f" once per {self.pick(f.fields).name}"
            where = ""
            if f.enums() and self.chance(0.3):
                e = self.pick(f.enums())
                where = f" where {e.name} != {self.pick(e.values)}"
            kind = self.pick(["bonus", "penalty"])
            lines.append(f"  {kind} {iid}: {f.id}{where} {amount}{once}\n")
        if self.chance(0.5):
            lines.append(f"  cap bonus {self.pick(['3', '5'])}\n")
        if self.chance(0.5):
            lines.append(f"  cap penalty {self.pick(['2', '4'])}\n")
        if self.chance(0.3):  # one item's cap, in a period or over the year
            per = self.pick(["", " per period", " per year"])
            lines.append(f"  cap {self.pick([i for i, _ in items])} {self.pick(['1', '2'])}{per}\n")
        if self.chance(0.2):
            lines.append(f"  cap {self.pick(['bonus', 'penalty'])} 4 per year\n")
        self.item_tables[tid] = (subject, items)
        self.decls.append(f"items {tid}{self.title()} {{\n{''.join(lines)}}}\n")

    def joint(self) -> None:
        if len(self.cards) < 2:
            return
        low = 1
        if self.joints and self.chance(0.6):
            # after an earlier block's card, so that a chain can pass on what it passed
            low = max(1, min(self.cards.index(c) for _, c in self.joints))
        i = self.draw(st.integers(low, len(self.cards) - 1))
        into = self.cards[i]
        links = []
        for src in self.cards[:i]:
            targets = []
            if into.subject == "unit":
                targets.append(f"ancestor({self.pick(into.seq.kinds or KINDS)})")
            sources: list[tuple[str, str, Fact]] = [
                ("indicator", ind, f) for ind, f in src.per_indicators
            ]
            if src.items is not None:
                sources += [("item", iid, f) for iid, f in self.item_tables[src.items][1]]
            sources += [("fact", f.id, f) for f in self.facts_on(src.subject)]
            if not sources:
                continue
            kind, ident, fact = self.pick(sources)
            for fd in fact.fields:
                if fd.kind == into.subject:
                    targets.append(fd.name)
                if fd.kind == "indicator" and into.subject == "unit":
                    targets.append(f"lead({fd.name})")
            leads = [ld for c in self.cards for ld in c.leads]
            if leads and into.subject == "unit":
                targets.append(f"lead({self.pick(leads)})")
            if not targets:
                continue
            if kind == "fact":
                amount = "amount 0.5"
            else:
                amount = self.pick(["ratio 20%", "ratio 100%", "times 2", "times 0.5"])
            once = ""
            if kind != "fact" and fact.fields and self.chance(0.3):
                once = f" once per {self.pick(fact.fields).name}"
            links.append(
                f"  link {self.fresh('l')}: {src.id} {kind} {ident} -> "
                f"{self.pick(targets)} {amount}{once}\n"
            )
        # chains: what an earlier block into an earlier card passed, passed on (acyclic: the
        # blocks are drawn in order, and every dependency goes to an earlier card)
        for jid, jcard in self.joints:
            if self.cards.index(jcard) > i or not self.chance(0.6):
                continue
            targets = []
            if into.subject == "unit":
                targets.append(f"ancestor({self.pick(into.seq.kinds or KINDS)})")
                leads = [ld for c in self.cards for ld in c.leads]
                if leads:
                    targets.append(f"lead({self.pick(leads)})")
            if not targets:
                continue
            amount = self.pick(["ratio 50%", "times 2"])
            target = self.pick(targets)
            links.append(f"  link {self.fresh('l')}: {jcard.id} joint {jid} -> {target} {amount}\n")
        # imports: a card of the same subject's deductions, multiplied
        same = [c for c in self.cards[:i] if c.subject == into.subject]
        if same and self.chance(0.4):
            src = self.pick(same)
            amount = self.pick(["times 2", "ratio 50%"])
            links.append(f"  import {self.fresh('im')}: deductions from {src.id} {amount}\n")
        if not links:
            return
        per = self.pick(["period", "year"])
        cap = f"  cap {self.pick(['3', '1.5'])} per {per}\n" if self.chance(0.5) else ""
        jid = self.fresh("j")
        self.joints.append((jid, into))
        self.decls.append(f"joint {jid} into {into.id} {{\n{''.join(links)}{cap}}}\n")
        if self.chance(0.8):
            self.chain(jid, into)

    def chain(self, source: str, card: Card) -> None:
        """A block passing on what `source` passed to the subjects of `card`, into `card` or
        a later card of units (the targets are their ancestors, or a lead)."""
        later = [c for c in self.cards[self.cards.index(card) :] if c.subject == "unit"]
        if not later:
            return
        into = self.pick(later)
        targets = [f"ancestor({self.pick(into.seq.kinds or KINDS)})"]
        leads = [ld for c in self.cards for ld in c.leads]
        if leads:
            targets.append(f"lead({self.pick(leads)})")
        amount = self.pick(["ratio 50%", "ratio 100%", "times 2"])
        link = (
            f"  link {self.fresh('l')}: {card.id} joint {source} -> {self.pick(targets)} {amount}\n"
        )
        cap = f"  cap {self.pick(['1', '2'])} per {self.pick(['period', 'year'])}\n"
        jid = self.fresh("j")
        self.joints.append((jid, into))
        self.decls.append(
            f"joint {jid} into {into.id} {{\n{link}{cap if self.chance(0.5) else ''}}}\n"
        )

    def band_table(self) -> None:
        """A table keyed by another scorecard's band, read by later scorecards."""
        cards = [c for c in self.cards if c.subject == "unit" and (c.tiers or c.grades)]
        if not cards:
            return
        card = self.pick(cards)
        bands = card.tiers or card.grades
        what = "tier" if card.tiers else "grade"
        rows = bands if self.chance(0.6) else bands[:-1]
        body = "".join(f"  {b}: {self.pick(['25%', '1', '-2'])}\n" for b in rows)
        tid = self.fresh("bt")
        tail = f" else {self.pick(['0', '1'])}" if len(rows) < len(bands) else ""
        person = [s for s in self.seqs if s.subject == "person"]
        pop = self.pick(person) if person and (tail or self.chance(0.3)) else None
        head = f"table {tid} by {card.id}[{self.ref_subject(card, 'unit')}].{what}"
        if pop is not None:
            head += f" for {pop.id}" + (tail or f" else {self.pick(['0', '1'])}")
        elif tail:
            return
        self.decls.append(f"{head} {{\n{body}}}\n")
        self.tables.append((tid, pop))

    def table(self) -> None:
        tid = self.fresh("t")
        person = [s for s in self.seqs if s.subject == "person"]
        pop = self.pick(person) if person and self.chance(0.6) else None
        rows = "".join(f"  {p}: {self.pick(['1.2', '1', '0.9'])}\n" for p in POSTS)
        head = f"table {tid}{self.title()} by attr(post)"
        if pop is not None:
            head += f" for {pop.id}"
            if self.chance(0.7):
                head += f" else {self.pick(['1', '0.5'])}"
        self.decls.append(f"{head} {{\n{rows}}}\n")
        self.tables.append((tid, pop))

    def pool(self) -> None:
        cards = [c for c in self.cards if c.scores_year]
        if not cards:
            return
        card = self.pick(cards)
        kinds = self.draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=2, unique=True))
        within = f"ancestor({' | '.join(kinds)})"
        shows = []
        names: list[str] = []
        if self.chance(0.5):
            shows.append("  show heads = n\n")
            names.append("heads")
        if card.grades and self.chance(0.5):
            shows.append(f"  show q = quota({self.pick(['20%', '50%'])})\n")
            names.append("q")
        # a scorecard's pool comes after it; other scorecards' bands are read as published
        earlier = self.cards[: self.cards.index(card)]
        banded = [c for c in earlier if c.subject == "unit" and c.tiers]
        if banded and self.chance(0.4):
            other = self.pick(banded)
            shows.append(f"  show band = {other.id}[group].tier\n")
            arms = ", ".join(f"{b}: {self.pick(['1', '2', '0.5'])}" for b in other.tiers)
            shows.append(f"  show coef = match {other.id}[group].tier {{ {arms} }}\n")
            names.append("coef")
        if card.seq.parts and self.chance(0.5):
            arms = ", ".join(f"{p}: {self.pick(['1', '2'])}" for p in card.seq.parts)
            shows.append(f"  show part = match {card.seq.id} {{ {arms} }}\n")
            names.append("part")
        amount = self.pick(["1000 * n", "100.50", "10 * n + 0.01", "0", "0.01"])
        if names and self.chance(0.5):
            amount += f" * {self.pick(names)}"
        weight = self.pick(["final", "max(0, final)", "1", "final - 50", "rank"])
        tables = [tid for tid, _ in self.tables] if card.subject == "person" else []
        if tables and self.chance(0.4):
            weight = f"max(0, {weight}) * {self.pick(tables)}"
        if card.grades:
            weight = f"if grade == {card.grades[0]} then 0 else {weight}"
        if card.tiers and self.chance(0.5):
            weight = f"if tier == {card.tiers[-1]} then 1 else {weight}"
        ties = self.pick(["", " by final desc, subject asc", " by subject asc"])
        rounding = ""
        if self.chance(0.3):  # the pool's amount rounded where computed
            rounding = (
                f"  round amount {self.draw(st.integers(0, self.places))} {self.pick(MODES)}\n"
            )
        self.decls.append(
            f"pool {self.fresh('pool')} for {card.id} year within {within} {{\n{''.join(shows)}"
            f"  amount {amount}\n  weight {weight}\n"
            f"  allocate {self.fresh('amt')} unit {self.pick(['0.01', '1', '0.5'])} "
            f"largest remainder{ties}\n{rounding}}}\n"
        )

    def test(self, org: dict[str, Any]) -> None:
        lines = '  org "org.json"\n  facts "facts.jsonl"\n'
        lines += f"  period {self.pick(PERIODS)}\n"
        for c in self.cards[:2]:
            if c.subject == "person" and not org["persons"]:
                continue
            subject = "c1" if c.subject == "unit" else str(org["persons"][0]["id"])
            lines += f"  expect {subject}.final == {self.pick(['0', '60', '100'])}\n"
            if c.parts:
                lines += f"  expect {subject}.{self.pick(c.parts)} == missing\n"
        for name in self.draw(st.lists(st.sampled_from(sorted(EXPECTED)), max_size=2, unique=True)):
            lines += f'  expect "{name}"\n'
        self.decls.append(f"test {self.fresh('test')} {{\n{lines}}}\n")

    # ---- inputs --------------------------------------------------------------------------------
    def org(self) -> dict[str, Any]:
        # Now and then a smaller organisation: no third county bureau, or no persons at all,
        # or a person placed directly in the municipal bureau.
        drop = {"c3"} if self.chance(0.2) else set()
        units: list[dict[str, Any]] = [
            {"id": u, "name": u, "kind": k, "parent": p} for u, k, p in UNITS if u not in drop
        ]
        if self.unit_attrs:
            for u in units:
                attrs: dict[str, Any] = {}
                if self.chance(0.7):
                    attrs["cls"] = self.pick(["big", "small"])
                if self.chance(0.7):
                    attrs["staff"] = self.pick([20, 50, 80])
                if attrs:
                    u["attrs"] = attrs
        persons = []
        placed = list(PERSONS) if self.chance(0.9) else []
        if placed and self.chance(0.2):
            placed[-1] = ("p5", "hy")
        for pid, unit in placed:
            attrs = {}
            if not (self.attr_optional["post"] and self.chance(0.02)):
                attrs["post"] = self.pick(POSTS)
            if not (self.attr_optional["workload"] and self.chance(0.2)):
                attrs["workload"] = self.pick([40, 100, 7.5])
            if not (self.attr_optional["grade"] and self.chance(0.2)):
                attrs["grade"] = self.pick(["senior", "junior"])
            persons.append({"id": pid, "name": pid, "unit": unit, "attrs": attrs})
        return {"units": units, "persons": persons}

    def value(self, fd: Field) -> Any:
        if fd.kind == "number":
            low = fd.low or 0
            high = fd.high if fd.high is not None else low + 50
            return self.pick([low, high, (low + high) / 2, low + 0.25])
        if fd.kind == "enum":
            return self.pick(fd.values)
        if fd.kind == "person":
            return self.pick([p for p, _ in PERSONS])
        if fd.kind == "unit":
            return self.pick([u for u, _, _ in UNITS])
        if fd.kind == "indicator":
            inds = [p for c in self.cards for p in c.parts if "i" in p.removeprefix("card")]
            return self.pick(inds) if inds else "none"
        if fd.kind == "date":
            return self.pick(["2025-01-01", "2025-03-31", "2025-12-31"])
        return self.pick(["a", "b"])

    def fact_records(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        seen: set[tuple[str, str, str]] = set()
        for i in range(self.draw(st.integers(0, 25))):
            f = self.pick(self.facts)
            subject_kind = self.pick(f.subjects)
            subject = (
                self.pick([p for p, _ in PERSONS])
                if subject_kind == "person"
                else self.pick([u for u, _, _ in UNITS])
            )
            rec: dict[str, Any] = {"id": f"x{i}", "type": f.id, "subject": subject}
            if f.kind == "dated":
                rec["date"] = self.pick(["2025-01-15", "2025-05-01", "2025-08-31", "2025-12-31"])
            else:
                rec["period"] = self.pick(PERIODS)
                if f.kind == "period":
                    key = (f.id, subject, rec["period"])
                    if key in seen:
                        continue
                    seen.add(key)
            data = {}
            for fd in f.fields:
                if fd.optional and self.chance(0.3):
                    continue
                data[fd.name] = self.value(fd)
            rec["data"] = data
            earlier = [r for r in out if r["type"] == f.id and r["subject"] == subject]
            if earlier and self.chance(0.3):
                # a correction: the same subject and time as the fact it supersedes
                old = self.pick(earlier)
                rec["supersedes"] = old["id"]
                for when in ("date", "period"):
                    if when in old:
                        rec[when] = old[when]
            out.append(rec)
        return out


@st.composite
def rulesets(draw: st.DrawFn) -> Drawn:
    """A random ruleset over several files, with an organisation and facts for it."""
    g = _Gen(draw)
    g.header()
    g.organisation()
    g.sequences()
    g.organisation_done()
    g.fact_types()
    for subject in ("unit", "person"):
        if g.chance(0.6):
            g.item_table(subject)
    for _ in range(draw(st.integers(0, 2))):
        g.table()
    usable = [s for s in g.seqs]
    for _ in range(draw(st.integers(1, 3))):
        g.scorecard(g.pick(usable))
        if g.chance(0.3):
            g.band_table()
    for _ in range(draw(st.integers(0, 3))):
        g.joint()
    for _ in range(draw(st.integers(0, 2))):
        g.pool()
    org = g.org()
    if g.chance(0.3):
        g.test(org)
    facts = g.fact_records()
    # Spread the declarations over one to four files, some in a subfolder.
    names = ["ruleset.jx", "b.jx", "sub/c.jx", "sub/deeper/d.jx"][: draw(st.integers(1, 4))]
    files: dict[str, list[str]] = {name: [] for name in names}
    for decl in g.decls:
        # a test's paths are relative to its file: tests go in the folder of org.json
        files["ruleset.jx" if decl.startswith("test ") else g.pick(names)].append(decl)
    return Drawn({k: "\n".join(v) for k, v in files.items()}, org, facts)
