"""Compiles a checked program into a `CompiledRuleset`: one generated Python module per rule file.

Generated code is built as stdlib `ast` nodes stamped with rule-file lines, compiled with the
rule file as its filename, and executed with no builtins and a single global, `rt`
(`dsl.compile.runtime`), so a traceback from a rule points into `rules/<year>/<file>.jx`.
"""

from __future__ import annotations

import ast
import linecache
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from dsl.compile import cache
from dsl.compile.canonical import digest
from dsl.compile.deps import dependency_order, scorecard_refs, uses_rank
from dsl.compile.genmodule import FileModule
from dsl.compile.ir import (
    CBand,
    CBands,
    CDirect,
    CIndicator,
    CItem,
    CItemTable,
    CJoint,
    CLink,
    CompiledRuleset,
    CPart,
    CRank,
    CScorecard,
    CSequence,
    CVeto,
    PerSpec,
)
from dsl.compile.pools import compile_pool, compile_table
from dsl.compile.pyast import Scope, at, const, field_read, inline_lets, name
from dsl.facts.validate import FactSchema
from dsl.syntax import nodes as n
from dsl.syntax.errors import RulesetInvalid
from dsl.syntax.program import Loaded, Program, load, read_sources

_CACHE: dict[tuple[str, tuple[tuple[str, str], ...]], CompiledRuleset] = {}


class _Compiler:
    def __init__(self, program: Program) -> None:
        self.program = program
        self.files: dict[str, FileModule] = {}
        self.pending: list[Callable[[], None]] = []
        self.per_specs: dict[tuple[str, str], PerSpec] = {}

    def file(self, span: n.Span) -> FileModule:
        if span.path not in self.files:
            self.files[span.path] = FileModule(self.program, span.path)
        return self.files[span.path]

    # ---- per-fact rules ---------------------------------------------------------------------
    def per(
        self,
        kind: str,
        fact: str,
        where: n.Expr | None,
        amount: n.Amount,
        limit: Decimal | None,
        once: str | None,
        span: n.Span,
    ) -> Callable[[dict[str, Any]], PerSpec]:
        fm = self.file(span)
        decl = self.program.facts[fact]
        fscope = Scope("fact", fact=decl)
        sel = fm.expr_fn("_sel", "f", where, fscope) if where is not None else None
        if amount.value is not None:
            amt_expr, _ = fm.gen.decimal(amount.value.value)
            amt_body: ast.expr = amt_expr
        else:
            assert amount.by is not None and amount.table is not None
            keys: list[ast.expr | None] = [const(t.key) for t in amount.table.entries]
            vals = [fm.gen.decimal(t.value.value)[0] for t in amount.table.entries]
            table = fm.gen.hoist(f"T:{id(amount)}", ast.Dict(keys, vals))
            optional = any(fd.type.optional for fd in decl.fields if fd.name == amount.by.name)
            key = field_read(name("f"), amount.by.name, optional)
            # The checker proved the table names every value of the enum.
            amt_body = ast.Subscript(table, key, ast.Load())
        amt = fm.add("_amt", "f", [at(ast.Return(amt_body), amount.span)], amount.span)  # type: ignore[list-item]

        def make(ns: dict[str, Any]) -> PerSpec:
            return PerSpec(kind, fact, ns[sel] if sel else None, ns[amt], limit, once)

        return make

    # ---- scorecards -------------------------------------------------------------------------
    def scorecard(self, sc: n.Scorecard) -> Callable[[dict[str, dict[str, Any]]], CScorecard]:
        fm = self.file(sc.span)
        part_ids = frozenset(
            [c.id for c in sc.categories]
            + [c.id for c in sc.components]
            + [i.id for c in sc.categories for i in c.indicators]
        )
        rscope = Scope("result", parts=part_ids)
        parts: list[Callable[[dict[str, dict[str, Any]]], CPart]] = []
        for cat in sc.categories:
            inds = [
                self.indicator(
                    sc, i.id, i.title, i.points.value, i.lead, i.lets, i.rule, i.span, i.applies
                )
                for i in cat.indicators
            ]
            parts.append(
                self._part(
                    cat.id, cat.title, cat.weight.value, cat.max.value, inds, False, cat.span
                )
            )
        for comp in sc.components:
            ind = self.indicator(
                sc, comp.id, comp.title, comp.max.value, None, comp.lets, comp.rule, comp.span
            )
            parts.append(
                self._part(
                    comp.id, comp.title, comp.weight.value, comp.max.value, [ind], True, comp.span
                )
            )
        final = fm.expr_fn("_final", "r", sc.final, rscope) if sc.final is not None else None
        annual = fm.expr_fn("_annual", "r", sc.annual, rscope) if sc.annual is not None else None
        withins = [
            fm.expr_fn("_within", "c", r.within, Scope("subject")) if r.within else None
            for r in sc.ranks
        ]
        tiers = self._bands(fm, sc.tiers, rscope)
        grades = self._bands(fm, sc.grades, rscope)
        vetoes = [(v, self._veto_fn(fm, v, rscope)) for v in sc.vetoes]
        directs = [(d, fm.expr_fn("_direct", "r", d.cond, rscope)) for d in sc.direct]
        rounds = {r.result.name: (r.places, r.mode.name) for r in sc.rounds}
        seq = self.program.sequences[sc.sequence.name]
        seq_make = self.sequence(seq)
        table = self.program.item_tables.get(sc.items.name) if sc.items else None
        items = self.items(table) if table is not None else None
        refs = frozenset(scorecard_refs(sc, self.program))

        def make(nss: dict[str, dict[str, Any]]) -> CScorecard:
            ns = nss[sc.span.path]
            ranks = [
                CRank(
                    r.period,
                    ns[w] if w else None,
                    tuple((k.name.name, k.order == "desc") for k in r.keys),
                )
                for r, w in zip(sc.ranks, withins, strict=True)
            ]
            rank = ranks[0] if ranks else None
            return CScorecard(
                id=sc.id,
                title=sc.title,
                sequence=seq_make(nss),
                periods=frozenset(sc.periods),
                annual=ns[annual] if annual else None,
                parts=tuple(p(nss) for p in parts),
                items=items(nss) if items else None,
                final=ns[final] if final else None,
                floor=sc.floor.value if sc.floor is not None else None,
                rank=rank,
                vetoes=tuple(
                    CVeto(
                        v.fact.name if v.fact is not None and v.quant is None else None,
                        v.band_kind,
                        v.band.name,
                        ns[f] if f else None,
                        veto_text(v),
                        v.span,
                    )
                    for v, f in vetoes
                ),
                direct=tuple(
                    CDirect(d.band_kind, d.band.name, ns[f], f"{d.band_kind} {d.band.name}", d.span)
                    for d, f in directs
                ),
                rounds=rounds,
                tiers=tiers(ns) if tiers else None,
                grades=grades(ns) if grades else None,
                refs=refs,
                span=sc.span,
                uses_peers=uses_rank(sc),
                more_ranks=tuple(ranks[1:]),
            )

        return make

    def sequence(self, seq: n.SequenceDecl) -> Callable[[dict[str, dict[str, Any]]], CSequence]:
        """A sequence, its `where` compiled in the file that declares it."""
        where = None
        if seq.where is not None:
            where = self.file(seq.span).expr_fn("_where", "c", seq.where, Scope("subject"))
        return lambda nss: CSequence(
            seq.id,
            seq.subject,
            frozenset(k.name for k in seq.kinds),
            nss[seq.span.path][where] if where else None,
            seq.title,
            frozenset(k.name for k in seq.under),
            tuple(p.name for p in seq.parts),
            seq.span,
        )

    def _part(
        self,
        ident: str,
        title: str | None,
        weight: Decimal,
        maximum: Decimal,
        inds: list[Callable[[dict[str, dict[str, Any]]], CIndicator]],
        comp: bool,
        span: n.Span,
    ) -> Callable[[dict[str, dict[str, Any]]], CPart]:
        return lambda nss: CPart(
            ident, title, weight, maximum, tuple(i(nss) for i in inds), comp, span
        )

    def indicator(
        self,
        sc: n.Scorecard,
        ident: str,
        title: str | None,
        points: Decimal,
        lead: n.Ref | None,
        lets: tuple[n.Let, ...],
        rule: n.Rule,
        span: n.Span,
        applies: n.Expr | None = None,
    ) -> Callable[[dict[str, dict[str, Any]]], CIndicator]:
        fm = self.file(span)
        lead_id = lead.name if lead else None
        when = fm.expr_fn("_applies", "c", applies, Scope("rule")) if applies else None
        if isinstance(rule, n.PerRule):
            limit = rule.limit.value if rule.limit is not None else None
            mk = self.per(
                rule.kind, rule.fact.name, rule.where, rule.amount, limit, None, rule.span
            )

            def make_per(nss: dict[str, dict[str, Any]]) -> CIndicator:
                spec = mk(nss[span.path])
                self.per_specs[(sc.id, ident)] = spec
                cond = nss[span.path][when] if when else None
                return CIndicator(ident, title, points, lead_id, None, spec, span, cond)

            return make_per
        scope = Scope("rule")
        body: list[ast.stmt] = []
        for let in lets:
            code, ty = fm.gen.expr(let.value, scope)
            pyname = f"v_{fm.gen.fresh('l')[1:]}"
            body.append(at(ast.Assign([ast.Name(pyname, ast.Store())], code), let.span))  # type: ignore[arg-type]
            scope.lets[let.name] = (pyname, ty)
            scope.let_exprs[let.name] = inline_lets(let.value, scope.let_exprs)
        code, _ = fm.gen.expr(rule.expr, scope)
        body.append(at(ast.Return(code), rule.span))  # type: ignore[arg-type]
        fname = fm.add("_ind", "c", body, span)
        return lambda nss: CIndicator(
            ident,
            title,
            points,
            lead_id,
            nss[span.path][fname],
            None,
            span,
            nss[span.path][when] if when else None,
        )

    def _veto_fn(self, fm: FileModule, v: n.Veto, scope: Scope) -> str | None:
        """The test of a veto over descendants or by a condition (None: the own-facts form)."""
        if v.when is not None:
            return fm.expr_fn("_veto", "r", v.when, scope)
        if v.quant is None or v.fact is None:
            return None
        kinds = tuple(n.Arg(n.Name(k.name, k.span), span=k.span) for k in v.below)
        below = n.Attr(n.Call("descendant", kinds, v.span), v.fact, v.span)
        test = n.Call(v.quant, (n.Arg(below, span=v.span),), v.span)
        return fm.expr_fn("_veto", "r", test, scope)

    def _bands(
        self, fm: FileModule, bands: n.Bands | None, scope: Scope
    ) -> Callable[[dict[str, Any]], CBands] | None:
        if bands is None:
            return None
        conds = [
            (b, fm.expr_fn("_band", "r", b.cond, scope) if b.cond is not None else None)
            for b in bands.bands
        ]

        def make(ns: dict[str, Any]) -> CBands:
            cb = tuple(CBand(b.id, ns[f] if f else None, b.span) for b, f in conds)
            return CBands(bands.kind, bands.period, bands.round_mode.name, cb)

        return make

    def items(self, table: n.ItemTable) -> Callable[[dict[str, dict[str, Any]]], CItemTable]:
        key = f"items:{table.id}"
        made: dict[str, CItemTable] = {}
        mks = [
            (
                it,
                self.per(
                    it.kind,
                    it.fact.name,
                    it.where,
                    it.amount,
                    None,
                    it.once_per.name if it.once_per else None,
                    it.span,
                ),
            )
            for it in table.items
        ]
        caps = {c.kind: c.value.value for c in table.caps if c.kind != "item" and c.per == "period"}
        year: dict[str, Decimal] = {
            c.kind: c.value.value for c in table.caps if c.kind != "item" and c.per == "year"
        }
        per_item = {(c.item.name, c.per): c.value.value for c in table.caps if c.item is not None}

        def make(nss: dict[str, dict[str, Any]]) -> CItemTable:
            if key not in made:
                # Each item's code lives in the file that declares the item: the table's own
                # file in a written ruleset, possibly another in a hybrid of two rulesets.
                made[key] = CItemTable(
                    table.id,
                    tuple(CItem(it.id, mk(nss[it.span.path]), it.span) for it, mk in mks),
                    caps.get("bonus"),
                    caps.get("penalty"),
                    {i: v for (i, per), v in per_item.items() if per == "period"},
                    year,
                    {i: v for (i, per), v in per_item.items() if per == "year"},
                )
            return made[key]

        return make

    # ---- joint liability --------------------------------------------------------------------
    def joint(
        self, j: n.Joint
    ) -> Callable[[dict[str, dict[str, Any]], dict[str, CScorecard]], CJoint]:
        fm = self.file(j.span)
        links = []
        for link in j.links:
            if link.source_kind == "joint" and link.source.name not in self.program.joints:
                # only in a hybrid of two rulesets (`jixiao impact`): the checker refuses it
                raise KeyError(link.source.name)
            tgt = None
            if link.target is not None:
                sc = self.program.scorecards[link.scorecard.name]
                fact_decl = self._link_fact(sc, link)
                # A target sees the fact's fields and the source subject's context
                # (`ancestor(...)`, `attr(...)`); a `joint` link's target, the subject alone.
                scope = Scope("fact", fact=fact_decl)
                tgt = fm.expr_fn("_target", "f, c", link.target, scope)
            links.append((link, tgt))

        def make(nss: dict[str, dict[str, Any]], cards: dict[str, CScorecard]) -> CJoint:
            ns = nss[j.span.path]
            out = []
            for link, tgt in links:
                spec = self._link_spec(link, cards)
                out.append(
                    CLink(
                        link.id,
                        link.scorecard.name,
                        link.source_kind,
                        spec,
                        ns[tgt] if tgt is not None else _same_subject,
                        link.ratio.value if link.ratio else None,
                        link.amount.value if link.amount else None,
                        link.span,
                        link.times.value if link.times else None,
                        link.once_per.name if link.once_per else None,
                        link.source.name,
                    )
                )
            cap = j.cap.value if j.cap else None
            return CJoint(j.id, j.into.name, tuple(out), cap, j.cap_per)

        return make

    def _link_fact(self, sc: n.Scorecard, link: n.Link) -> n.FactDecl | None:
        if link.source_kind in ("joint", "deductions"):
            return None
        if link.source_kind == "fact":
            return self.program.facts[link.source.name]
        if link.source_kind == "indicator":
            for cat in sc.categories:
                for ind in cat.indicators:
                    if ind.id == link.source.name and isinstance(ind.rule, n.PerRule):
                        return self.program.facts[ind.rule.fact.name]
        table = self.program.item_tables[sc.items.name] if sc.items else None
        for it in table.items if table else ():
            if it.id == link.source.name:
                return self.program.facts[it.fact.name]
        raise KeyError(link.source.name)

    def _link_spec(self, link: n.Link, cards: dict[str, CScorecard]) -> PerSpec:
        card = cards[link.scorecard.name]
        if link.source_kind == "indicator":
            for part in card.parts:
                for ind in part.indicators:
                    if ind.id == link.source.name and ind.per is not None:
                        return ind.per
        if link.source_kind == "item" and card.items is not None:
            for item in card.items.items:
                if item.id == link.source.name:
                    return item.per
        zero: Callable[[Any], Decimal] = lambda f: Decimal(0)  # noqa: E731
        return PerSpec("fact", link.source.name, None, zero, None)


def _same_subject(f: Any, c: Any) -> str:
    """An import's target: the subject whose deductions are imported."""
    return str(c.subject)


def veto_text(v: n.Veto) -> str:
    """A veto as written (without its band), for traces and explanations."""
    if v.when is not None:
        return "when"
    assert v.fact is not None
    if v.quant is None:
        return v.fact.name
    return f"{v.quant} descendant({' | '.join(k.name for k in v.below)}).{v.fact.name}"


def compile_program(program: Program, sources: dict[str, str] | None = None) -> CompiledRuleset:
    """Generates and compiles the evaluators of a checked program."""
    comp = _Compiler(program)
    card_makers = {sc.id: comp.scorecard(sc) for sc in program.scorecards.values()}
    seq_makers = {k: comp.sequence(seq) for k, seq in program.sequences.items()}
    table_makers = {k: compile_table(comp, t) for k, t in program.tables.items()}
    pool_makers = {k: compile_pool(comp, p) for k, p in program.pools.items()}
    joint_makers = [comp.joint(j) for j in program.joints.values()]
    nss: dict[str, dict[str, Any]] = {}
    for path, fm in comp.files.items():
        if sources and path in sources:
            lines = sources[path].splitlines(keepends=True)
            linecache.cache[path] = (len(sources[path]), None, lines, path)
        nss[path] = fm.build()
    cards = {k: mk(nss) for k, mk in card_makers.items()}
    org = program.organisation
    joints = tuple(mk(nss, cards) for mk in joint_makers)
    header = program.header
    indicators = frozenset(i.id for _, _, i in program.indicators())
    return CompiledRuleset(
        name=header.name if header else "",
        year=header.year if header else None,
        places=header.round_places if header and header.round_places is not None else 2,
        round_mode=header.round_mode.name if header and header.round_mode else "half_up",
        digest=digest(program),
        schema=FactSchema(dict(program.facts), indicators),
        scorecards=cards,
        joints=joints,
        order=dependency_order(cards, joints),
        sequences={k: mk(nss) for k, mk in seq_makers.items()},
        persons=tuple(p.name for p in org.persons) if org is not None else (),
        tables={k: mk(nss) for k, mk in table_makers.items()},
        pools={k: mk(nss) for k, mk in pool_makers.items()},
        program=program,
        sources=dict(sources or {}),
        generated={p: fm.unparse() for p, fm in comp.files.items()},
    )


def compile_path(path: Path) -> CompiledRuleset:
    """Loads, checks and compiles a ruleset folder or file; cached by digest and source text.

    Rule files that checked without errors before are not parsed and checked again: their
    parsed modules come from the cache on disk (`dsl.compile.cache`)."""
    sources = read_sources(path)
    modules = cache.get(sources)
    if modules is None:
        from dsl.check.checker import check

        loaded: Loaded = load(path, sources)
        diags = check(loaded)
        if any(d.is_error for d in diags):
            raise RulesetInvalid(diags, loaded.sources)
        modules = loaded.modules
        cache.put(sources, modules)
    program = Program.from_modules(modules)
    # The digest alone is not enough: a reformatted copy elsewhere has the same digest but its
    # own paths, lines and tests, which runtime errors, traces and `jixiao test` must report.
    key = (digest(program), tuple(sorted(sources.items())))
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    compiled = compile_program(program, sources)
    _CACHE[key] = compiled
    return compiled
