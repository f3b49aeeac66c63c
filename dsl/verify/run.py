"""Verifies a checked ruleset: each scorecard's table of properties, and the findings."""

from __future__ import annotations

from fractions import Fraction

from dsl.check.context import Ctx
from dsl.check.exprs import Exprs
from dsl.check.intervals import show
from dsl.syntax import nodes as n
from dsl.syntax.program import Loaded
from dsl.verify import bands, limits, links, signs
from dsl.verify.model import Report, Row
from dsl.verify.monotone import SYMBOLIC, Monotone, Verdict
from dsl.verify.ranges import CardRanges, Range, card_ranges

Claim = tuple[str, int, Verdict, n.Span]
_EXPECT = {"deduct": -1, "add": 1, "penalty": -1, "bonus": 1, "joint": -1}


def order(ctx: Ctx) -> list[n.Scorecard]:
    """Scorecards after those whose results or liability they read."""
    cards = ctx.prog.scorecards
    needs: dict[str, set[str]] = {c: set() for c in cards}
    for c in cards.values():
        for x in n.walk(c.final):
            if isinstance(x, n.Index) and isinstance(x.obj, n.Name) and x.obj.id in cards:
                needs[c.id].add(x.obj.id)
    for j in ctx.prog.joints.values():
        if j.into.name in needs:
            needs[j.into.name] |= {lk.scorecard.name for lk in j.links} & set(cards)
    done: list[str] = []
    while len(done) < len(cards):
        ready = [c for c in cards if c not in done and needs[c] <= set(done)]
        done.extend(ready or [next(c for c in cards if c not in done)])
    return [cards[c] for c in done]


def _span_text(r: Range) -> str:
    if not r.analysed:
        return "not analysed"
    return f"{show(r.iv.lo)} .. {show(r.iv.hi)}".replace("-no limit", "no limit below")


def _ranges(rep: Report, card: n.Scorecard, r: CardRanges) -> None:
    how = {True: "exact", False: "at most"}
    for cat in card.categories:
        for ind in cat.indicators:
            word = "points" if ind.ceiling is None else f"points, max {ind.ceiling.text}"
            _part(rep, ind, r.parts[ind.id], ind.points, word)
        short = any(r.parts[i.id].iv.hi < i.points.value for i in cat.indicators)
        _part(rep, cat, r.parts[cat.id], cat.max, "max", quiet=short)
    for comp in card.components:
        _part(rep, comp, r.parts[comp.id], comp.max, "max")
    for key in ("base", "bonus", "penalty", "joint", "final"):
        got = r.results[key]
        declared = f"floor {card.floor.text}" if key == "final" and card.floor else ""
        rep.row(card.id, Row("ranges", key, _span_text(got), declared, how[got.exact]))


def _part(
    rep: Report,
    node: n.Indicator | n.Category | n.Component,
    r: Range,
    top: n.Num,
    word: str,
    quiet: bool = False,
) -> None:
    """A part's row; V103 when it can never reach its points or max."""
    card = _card_of(rep, node)
    kind = ("exact" if r.exact else "at most") if r.analysed else "not analysed"
    what = f"{node.id} {node.title or ''}".strip()
    rep.row(card, Row("ranges", what, _span_text(r), f"{top.text} {word}", kind))
    if r.analysed and r.iv.hi < Fraction(top.value) and not quiet:
        rep.find(
            "V103",
            rep.ctx.name_after(node.span, node.id),
            f"{node.id} can never reach its {top.text} {word}: it scores at most {show(r.iv.hi)}",
        )


def _card_of(rep: Report, node: object) -> str:
    for card in rep.ctx.prog.scorecards.values():
        if any(x is node for x in n.walk(card)):
            return card.id
    return ""


def _claims(rep: Report, mono: Monotone, card: n.Scorecard) -> list[Claim]:
    """What should only lower or only raise the final, with what the analysis found."""
    claims: list[Claim] = []
    for cat in card.categories:
        for ind in cat.indicators:
            if isinstance(ind.rule, n.PerRule):
                want = _EXPECT[ind.rule.kind]
                found = signs.times(want, mono.in_result(card, ind.id))
                what = f"{ind.id}: {ind.rule.kind} per {ind.rule.fact.name}"
                claims.append((what, want, Verdict(found, SYMBOLIC), ind.rule.fact.span))
    table = rep.ctx.prog.item_tables.get(card.items.name) if card.items else None
    for item in table.items if table is not None else ():
        found = mono.in_result(card, item.kind)
        what = f"{item.kind} {item.id}"
        claims.append((what, _EXPECT[item.kind], Verdict(found, SYMBOLIC), item.span))
    for fact in sorted(_deduction_facts(rep)):
        v = mono.in_fact(card, fact)
        if v.sign != 0:
            claims.append((f"fact {fact}, every use", -1, v, card.span))
    if mono.joint_facts(card):
        v = Verdict(mono.in_result(card, "joint"), SYMBOLIC)
        claims.append(("joint liability", -1, v, card.span))
    return claims


def _monotone(rep: Report, mono: Monotone, card: n.Scorecard) -> None:
    for what, want, v, span in _claims(rep, mono, card):
        word = {1: "raises", -1: "lowers", 0: "does not change"}.get(v.sign or 0, "may move")
        shown = f"{word} final" if v.sign is not None else "not shown"
        rep.row(card.id, Row("monotonic", what, shown, "lowers" if want < 0 else "raises", v.how))
        if v.sign in (want, 0) or "not analysed" in v.how:
            continue
        code = "V202" if what == "joint liability" else "V201"
        if v.sign is None:
            verb = "lower" if want < 0 else "raise"
            msg = f"{what} cannot be shown to only {verb} the final of '{card.id}'"
            rep.find(code, span, msg, v.counterexample or "its parts move the final both ways")
        else:
            rep.find(code, span, f"{what} {word} the final of '{card.id}'")


def _deduction_facts(rep: Report) -> set[str]:
    """Fact types that only deduct: counted by `deduct per` rules and penalty items alone."""
    deduct: set[str] = set()
    other: set[str] = set()
    for card in rep.ctx.prog.scorecards.values():
        for cat in card.categories:
            for ind in cat.indicators:
                if isinstance(ind.rule, n.PerRule):
                    (deduct if ind.rule.kind == "deduct" else other).add(ind.rule.fact.name)
    for table in rep.ctx.prog.item_tables.values():
        for item in table.items:
            (deduct if item.kind == "penalty" else other).add(item.fact.name)
    return deduct - other


def _bands(rep: Report, card: n.Scorecard) -> None:
    # a band a veto or a direct statement gives is reachable whatever the conditions say
    vetoed = {v.band.name for v in card.vetoes} | {d.band.name for d in card.direct}
    for spec in (card.tiers, card.grades):
        if spec is None:
            continue
        over = bands.overfull(spec)
        quotas = "holds for n = 1 .. 200" if over is None else f"fails at n = {over[0]}"
        rep.row(
            card.id,
            Row(
                f"{spec.kind}s",
                "quotas add up to <= 100 %",
                quotas,
                f"round {spec.round_mode.name}",
            ),
        )
        if over is not None:
            parts = ", ".join(f"{b} {k}" for b, k in over[1])
            rep.find(
                "V401",
                spec.span,
                f"the {spec.kind} quotas of '{card.id}' take more than "
                f"n = {over[0]} subjects: {parts}",
            )
        for band, ok in bands.reachable(spec, vetoed).items():
            rep.row(card.id, Row(f"{spec.kind}s", band, "reachable" if ok else "unreachable"))
            if not ok:
                where = next(b.span for b in spec.bands if b.id == band)
                rep.find(
                    "V402",
                    where,
                    f"no subject can get {spec.kind} '{band}' for any n up to {bands.MAX_N}",
                )
    if card.ranks:
        rep.row(card.id, Row("ranking", "ties", bands.ties(card)))


def verify(loaded: Loaded) -> Report:
    """Every property of every scorecard of a ruleset that `jixiao check` accepts."""
    ctx = Ctx(loaded, loaded.program)
    ex, rep = Exprs(ctx), Report(ctx)
    mono = Monotone(ex)
    computed: dict[str, CardRanges] = {}
    for card in order(ctx):
        r = computed[card.id] = card_ranges(ex, card, computed)
        _ranges(rep, card, r)
        _monotone(rep, mono, card)
        limits.rule_limits(rep, card)
        limits.item_caps(rep, card, r)
        limits.card_floor(rep, card, r)
        limits.joint_caps(rep, card, r)
        _bands(rep, card)
    links.cycles(rep)
    links.targets(rep)
    rep.findings.sort()
    return rep
