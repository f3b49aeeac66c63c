"""Monotonicity: deductions only lower a final, bonuses only raise it, joint liability only
lowers the receiver's. Proved from the form of the rules (`signs`) where it tells; else by
randomised search over one more fact (`search`). Every row says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from dsl.check.exprs import Exprs, card_subject
from dsl.check.intervals import Interval
from dsl.check.scope import Scope
from dsl.fmt.expr import format_expr
from dsl.syntax import nodes as n
from dsl.verify import signs
from dsl.verify.evaluate import evaluate
from dsl.verify.search import Atom, search
from dsl.verify.signs import Sign

SYMBOLIC = "proved from the form of the rules"


@dataclass(frozen=True)
class Verdict:
    """The sign found, how, and a counterexample if the search found one."""

    sign: Sign
    how: str
    counterexample: str | None = None


def default_final() -> n.Expr:
    """final = base + bonus - penalty - joint, as the engine computes it without `final`."""
    plus = n.Binary("+", n.Name("base"), n.Name("bonus"))
    return n.Binary("-", n.Binary("-", plus, n.Name("penalty")), n.Name("joint"))


def _reads(e: object, fact: str) -> bool:
    return any(isinstance(x, n.Name) and x.id == fact for x in n.walk(e))


class Monotone:
    """Signs of scorecards' finals in their results and in fact types."""

    def __init__(self, ex: Exprs) -> None:
        self.ex, self.prog = ex, ex.ctx.prog
        self.searched: list[str] = []

    # ---- in a result of the same scorecard (base, bonus, penalty, joint, a part) ----------
    def in_result(self, card: n.Scorecard, var: str) -> Sign:
        """The sign of the card's final in one of its results."""
        final = card.final or default_final()
        inside = self._inside(card)

        def atom(e: n.Expr) -> Sign:
            if isinstance(e, n.Name):
                return 1 if e.id == var or var in inside.get(e.id, ()) else 0
            return 0

        return signs.sign(final, atom, self._bounds(card))

    def _inside(self, card: n.Scorecard) -> dict[str, set[str]]:
        """What each result adds up: base holds every part, a category its indicators."""
        out: dict[str, set[str]] = {"base": set()}
        for cat in card.categories:
            out[cat.id] = {i.id for i in cat.indicators}
            out["base"] |= {cat.id, *out[cat.id]}
        out["base"] |= {c.id for c in card.components}
        return out

    def _bounds(self, card: n.Scorecard) -> signs.Bounds:
        def bounds(e: n.Expr) -> Interval | None:
            if isinstance(e, n.Num):
                return Interval.point(e.value)
            if isinstance(e, n.Name | n.Attr | n.Binary | n.Call):
                sc = Scope("final", card_subject(self.ex.ctx, card), card)
                from dsl.check.scorecards import env_for

                sc.env.update(env_for(card, "final"))
                return self.ex.check(e, sc).iv
            return None

        return bounds

    # ---- in a fact type ------------------------------------------------------------------
    def in_fact(self, card: n.Scorecard, fact: str, seen: frozenset[str] = frozenset()) -> Verdict:
        """The sign of the card's final in the number of facts of one type."""
        final = card.final or default_final()
        how = [SYMBOLIC]
        examples: list[str] = []

        def atom(e: n.Expr) -> Sign:
            if isinstance(e, n.Name):
                return self._result_in_fact(card, e.id, fact, how, examples)
            if isinstance(e, n.Attr) and isinstance(e.obj, n.Index):
                other = self.prog.scorecards.get(getattr(e.obj.obj, "id", ""))
                if other is None or other.id in seen or e.name.name != "final":
                    return 0 if other is None else None
                v = self.in_fact(other, fact, seen | {card.id})
                how.append(v.how)
                examples.extend([v.counterexample] if v.counterexample else [])
                return v.sign
            return self._aggregate(e, fact)

        s = signs.sign(final, atom, self._bounds(card))
        return Verdict(s, "; ".join(dict.fromkeys(how)), "; ".join(examples) or None)

    def _result_in_fact(
        self, card: n.Scorecard, name: str, fact: str, how: list[str], examples: list[str]
    ) -> Sign:
        if name in ("bonus", "penalty"):
            table = self.prog.item_tables.get(card.items.name) if card.items else None
            mine = [i for i in table.items if i.kind == name] if table else []
            return 1 if any(i.fact.name == fact for i in mine) else 0
        if name == "joint":
            return 1 if fact in self.joint_facts(card) else 0
        children = self._children(card)
        if name in children:
            return signs.combine(
                self._result_in_fact(card, p, fact, how, examples) for p in children[name]
            )
        part = self._part(card, name)
        if part is None:
            return 0
        v = self.rule_in_fact(card, part, fact)
        how.append(v.how)
        examples.extend([v.counterexample] if v.counterexample else [])
        return v.sign

    def _children(self, card: n.Scorecard) -> dict[str, list[str]]:
        """The results each result adds up (with positive weights)."""
        out = {"base": [c.id for c in card.categories] + [c.id for c in card.components]}
        out.update({c.id: [i.id for i in c.indicators] for c in card.categories})
        return out

    def _part(self, card: n.Scorecard, ident: str) -> n.Indicator | n.Component | None:
        for cat in card.categories:
            for ind in cat.indicators:
                if ind.id == ident:
                    return ind
        return next((c for c in card.components if c.id == ident), None)

    def joint_facts(self, card: n.Scorecard) -> set[str]:
        """The fact types whose facts pass joint liability into a scorecard."""
        out: set[str] = set()
        for j in self.prog.joints.values():
            if j.into.name != card.id:
                continue
            for link in j.links:
                src = self.prog.scorecards.get(link.scorecard.name)
                if link.source_kind in ("joint", "deductions"):
                    continue  # amounts passed on, or results: no fact of their own
                if link.source_kind == "fact":
                    out.add(link.source.name)
                elif src is not None and link.source_kind == "indicator":
                    ind = self._part(src, link.source.name)
                    if ind is not None and isinstance(ind.rule, n.PerRule):
                        out.add(ind.rule.fact.name)
                elif src is not None and src.items is not None:
                    table = self.prog.item_tables.get(src.items.name)
                    for item in table.items if table else ():
                        if item.id == link.source.name:
                            out.add(item.fact.name)
        return out

    def rule_in_fact(
        self, card: n.Scorecard, part: n.Indicator | n.Component, fact: str
    ) -> Verdict:
        """The sign of an indicator's or component's score in a fact type."""
        rule = part.rule
        if isinstance(rule, n.PerRule):
            if rule.fact.name != fact:
                return Verdict(0, SYMBOLIC)
            return Verdict(-1 if rule.kind == "deduct" else 1, SYMBOLIC)
        if not isinstance(rule, n.ScoreRule):
            return Verdict(None, "not analysed (a kind of rule this does not know)")
        lets = {let.name: let.value for let in part.lets}

        def atom(e: n.Expr) -> Sign:
            if isinstance(e, n.Name) and e.id in lets:
                return signs.sign(lets[e.id], atom, lambda x: None)
            return self._aggregate(e, fact)

        s = signs.sign(rule.expr, atom, self._rule_bounds(card, part))
        if s is not None:
            return Verdict(s, SYMBOLIC)
        return self._search(card, part, rule.expr, lets, fact)

    def _rule_bounds(self, card: n.Scorecard, part: n.Indicator | n.Component) -> signs.Bounds:
        sc = Scope("rule", card_subject(self.ex.ctx, card), card)
        for let in part.lets:
            sc.env[let.name] = self.ex.check(let.value, sc)
        return lambda e: self.ex.check(e, sc).iv

    def _aggregate(self, e: n.Expr, fact: str) -> Sign:
        """count and distinct of a fact type rise with its facts; a sum of non-negatives too."""
        if not _reads(e, fact):
            return 0
        if isinstance(e, n.Call) and e.func in ("count", "distinct"):
            return 1
        if isinstance(e, n.Call) and e.func == "sum":
            return 1 if self._step(e, fact) is not None else None
        return None

    def _step(self, e: n.Call, fact: str) -> Interval | None:
        """What one more fact adds to a sum: the field's or expression's range, if >= 0."""
        decl = self.prog.facts.get(fact)
        if decl is None:
            return None
        sc = Scope("fact", None, fact=decl)
        arg = e.args[-1].value
        value = arg if len(e.args) == 2 else (arg.name if isinstance(arg, n.Attr) else None)
        if isinstance(value, n.Ref):
            value = n.Name(value.name)
        if value is None:
            return None
        iv = self.ex.check(value, sc).iv
        return iv if iv.lo >= 0 else None

    def _search(
        self,
        card: n.Scorecard,
        part: n.Indicator | n.Component,
        expr: n.Expr,
        lets: dict[str, n.Expr],
        fact: str,
    ) -> Verdict:
        bounds = self._rule_bounds(card, part)
        atoms: dict[str, Atom] = {}
        for e in _atoms(expr, lets):
            key = format_expr(e)
            step: Interval | None = None
            if _reads(e, fact):
                if isinstance(e, n.Call) and e.func in ("count", "distinct"):
                    step = Interval(
                        Fraction(0 if e.func == "distinct" or len(e.args) > 1 else 1), Fraction(1)
                    )
                elif isinstance(e, n.Call) and e.func == "sum":
                    step = self._step(e, fact)
                if step is None:
                    return Verdict(None, f"not analysed ({key} is not a count or sum)")
            iv = bounds(e)
            atoms[key] = Atom(e, iv if iv is not None else Interval(Fraction(0), Fraction(0)), step)
        found: dict[int, str | None] = {}
        for want in (-1, 1):
            found[want] = search(atoms, lambda env: evaluate(expr, env, lets), want)
        how = f"by randomised search ({len(atoms)} reads, not a proof)"
        if found[-1] is None:
            return Verdict(-1, how)
        example = f"{part.id}: {found[-1]}"
        return Verdict(1 if found[1] is None else None, how, example)


def _atoms(e: n.Expr, lets: dict[str, n.Expr]) -> list[n.Expr]:
    """The reads of an expression that the exact evaluator takes as given values."""
    if isinstance(e, n.Num | n.Str):
        return []
    if isinstance(e, n.Name) and e.id in lets:
        return _atoms(lets[e.id], lets)
    if isinstance(e, n.Unary):
        return _atoms(e.operand, lets)
    if isinstance(e, n.Binary):
        return _atoms(e.left, lets) + _atoms(e.right, lets)
    if isinstance(e, n.If):
        return _atoms(e.cond, lets) + _atoms(e.then, lets) + _atoms(e.else_, lets)
    if isinstance(e, n.Call) and e.func in ("max", "min", "abs"):
        return [x for a in e.args for x in _atoms(a.value, lets)]
    return [e]
