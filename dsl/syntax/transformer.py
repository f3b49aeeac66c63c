"""Turns Lark parse trees into the typed syntax tree of `dsl.syntax.nodes`."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, cast

from lark import Token, Transformer, Tree, v_args
from lark.tree import Meta

from dsl.syntax import nodes as n

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _text(s: str) -> str:
    """The value of a string literal token (escapes: \\n, \\t, \\", \\\\)."""
    body = s[1:-1]
    if "\\" not in body:
        return body
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def _opt_text(tok: Token | None) -> str | None:
    return None if tok is None else _text(str(tok))


class SyntaxProblem(Exception):
    """A construct the grammar accepts but the language does not (reported as E003)."""

    def __init__(self, span: n.Span, message: str) -> None:
        super().__init__(message)
        self.span = span
        self.message = message


class ToNodes(Transformer[Token, n.Module]):
    """Builds nodes; every node gets the span of the tree or token it came from."""

    def __init__(self, path: str) -> None:
        super().__init__(visit_tokens=False)
        self.path = path

    # ---- spans ------------------------------------------------------------------------------
    def _span(self, meta: Meta) -> n.Span:
        if getattr(meta, "empty", True):
            return n.Span(self.path, 0, 0, 0, 0)
        return n.Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok_span(self, tok: Token) -> n.Span:
        return n.Span(
            self.path,
            tok.line or 0,
            tok.column or 0,
            tok.end_line or 0,
            tok.end_column or 0,
        )

    def _ref(self, tok: Token) -> n.Ref:
        return n.Ref(str(tok), self._tok_span(tok))

    def _percent_tok(self, tok: Token) -> n.Num:
        """A bare PERCENT token (weights, ratios) as the `Num` the nodes declare."""
        text = str(tok)
        return n.Num(Decimal(text[:-1]) / 100, text, self._tok_span(tok))

    # ---- top level --------------------------------------------------------------------------
    def start(self, children: list[Any]) -> tuple[n.Decl, ...]:
        return tuple(children)

    @v_args(meta=True)
    def ruleset_decl(self, meta: Meta, ch: list[Any]) -> n.RulesetDecl:
        name, *stmts = ch
        year: int | None = None
        periods: tuple[str, ...] = ()
        places: int | None = None
        mode: n.Ref | None = None
        for kind, value in stmts:
            if kind == "year":
                year = value
            elif kind == "periods":
                periods = value
            else:
                places, mode = value
        return n.RulesetDecl(_text(name), year, periods, places, mode, self._span(meta))

    def year_stmt(self, ch: list[Token]) -> tuple[str, int]:
        return ("year", int(ch[0]))

    def periods_stmt(self, ch: list[str]) -> tuple[str, tuple[str, ...]]:
        return ("periods", tuple(ch))

    def period_kind(self, ch: list[Token]) -> str:
        return str(ch[0])

    def round_stmt(self, ch: list[Token]) -> tuple[str, tuple[int, n.Ref]]:
        return ("round", (int(ch[0]), self._ref(ch[1])))

    @v_args(meta=True)
    def organisation_decl(self, meta: Meta, ch: list[Any]) -> n.OrganisationDecl:
        kinds: list[n.UnitKind] = []
        attrs: list[n.FieldDecl] = []
        persons: list[n.Ref] = []
        unit_attrs: list[n.FieldDecl] = []
        for kind, values in ch:
            if kind == "kinds":
                kinds.extend(values)
            elif kind == "attrs":
                attrs.extend(values)
            elif kind == "unit_attrs":
                unit_attrs.extend(values)
            else:
                persons.extend(values)
        return n.OrganisationDecl(
            tuple(kinds),
            tuple(attrs),
            self._span(meta),
            persons=tuple(persons),
            unit_attrs=tuple(unit_attrs),
        )

    def org_persons(self, ch: list[list[n.Ref]]) -> tuple[str, list[n.Ref]]:
        return ("persons", ch[0])

    def unit_kinds(self, ch: list[n.UnitKind]) -> tuple[str, list[n.UnitKind]]:
        return ("kinds", ch)

    def person_attrs(self, ch: list[n.FieldDecl]) -> tuple[str, list[n.FieldDecl]]:
        return ("attrs", ch)

    def unit_attrs(self, ch: list[n.FieldDecl]) -> tuple[str, list[n.FieldDecl]]:
        return ("unit_attrs", ch)

    @v_args(meta=True)
    def kind_decl(self, meta: Meta, ch: list[Any]) -> n.UnitKind:
        return n.UnitKind(str(ch[0]), _opt_text(ch[1]), self._span(meta))

    @v_args(meta=True)
    def sequence_decl(self, meta: Meta, ch: list[Any]) -> n.SequenceDecl:
        name, title, subject, _in, kinds, under, where = ch
        return n.SequenceDecl(
            str(name),
            _opt_text(title),
            subject,
            tuple(kinds or ()),
            where,
            self._span(meta),
            under=tuple(under or ()),
        )

    @v_args(meta=True)
    def sequence_union(self, meta: Meta, ch: list[Any]) -> n.SequenceDecl:
        """`= a | b`: the subject kind is the parts' (`Program` resolves it)."""
        name, title, parts = ch
        return n.SequenceDecl(
            str(name), _opt_text(title), "person", (), None, self._span(meta), parts=tuple(parts)
        )

    def under(self, ch: list[list[n.Ref]]) -> list[n.Ref]:
        return ch[0]

    def name_alts(self, ch: list[Token]) -> list[n.Ref]:
        return [self._ref(t) for t in ch]

    def subject(self, ch: list[Token]) -> str:
        return str(ch[0])

    def subject_kinds(self, ch: list[str]) -> tuple[str, ...]:
        return tuple(ch)

    def where_clause(self, ch: list[n.Expr]) -> n.Expr:
        return ch[0]

    # ---- facts ------------------------------------------------------------------------------
    @v_args(meta=True)
    def fact_decl(self, meta: Meta, ch: list[Any]) -> n.FactDecl:
        name, title, kind, subjects, *fields, unscored, counts_in = ch
        return n.FactDecl(
            str(name),
            _opt_text(title),
            kind,
            subjects,
            tuple(fields),
            unscored is not None,
            self._span(meta),
            counts_in,
        )

    def counts_in(self, ch: list[Any]) -> str:
        return "next_open_period"

    def fact_kind(self, ch: list[Token | None]) -> str:
        if str(ch[0]) == "dated":
            return "dated"
        return "period_many" if len(ch) > 1 and ch[1] is not None else "period"

    @v_args(meta=True)
    def field_decl(self, meta: Meta, ch: list[Any]) -> n.FieldDecl:
        name, title, ftype, optional = ch
        ftype = n.FieldType(ftype.name, ftype.values, ftype.range, optional is not None, ftype.span)
        return n.FieldDecl(str(name), ftype, self._span(meta), _opt_text(title))

    @v_args(meta=True)
    def named_type(self, meta: Meta, ch: list[Any]) -> n.FieldType:
        return n.FieldType(str(ch[0]), (), ch[1], False, self._span(meta))

    @v_args(meta=True)
    def enum_type(self, meta: Meta, ch: list[n.EnumValue]) -> n.FieldType:
        return n.FieldType(None, tuple(ch), None, False, self._span(meta))

    @v_args(meta=True)
    def enum_value(self, meta: Meta, ch: list[Any]) -> n.EnumValue:
        return n.EnumValue(str(ch[0]), _opt_text(ch[1]), self._span(meta))

    @v_args(meta=True)
    def range_between(self, meta: Meta, ch: list[n.Num]) -> n.Range:
        return n.Range(ch[0].value, True, ch[1].value, True, self._span(meta))

    @v_args(meta=True)
    def range_bound(self, meta: Meta, ch: list[Any]) -> n.Range:
        op, num = str(ch[0]), ch[1].value
        span = self._span(meta)
        if op in (">", ">="):
            return n.Range(num, op == ">=", None, False, span)
        if op in ("<", "<="):
            return n.Range(None, False, num, op == "<=", span)
        raise SyntaxProblem(span, f"a field's range takes <, <=, >, >= or `in a..b`, not '{op}'")

    # ---- scorecards -------------------------------------------------------------------------
    @v_args(meta=True)
    def scorecard_decl(self, meta: Meta, ch: list[Any]) -> n.Scorecard:
        name, title, seq, *stmts = ch
        f: dict[str, Any] = {
            "periods": (),
            "annual": None,
            "items": None,
            "final": None,
            "floor": None,
            "rank": None,
            "tiers": None,
            "grades": None,
        }
        cats: list[n.Category] = []
        comps: list[n.Component] = []
        vetoes: list[n.Veto] = []
        more_ranks: list[n.RankSpec] = []
        direct: list[n.DirectBand] = []
        rounds: list[n.RoundResult] = []
        for s in stmts:
            if isinstance(s, n.Category):
                cats.append(s)
            elif isinstance(s, n.Component):
                comps.append(s)
            elif isinstance(s, n.Veto):
                vetoes.append(s)
            elif isinstance(s, n.DirectBand):
                direct.append(s)
            elif isinstance(s, n.RoundResult):
                if any(r.result.name == s.result.name for r in rounds):
                    msg = f"`round {s.result.name}` is given twice; this is a second"
                    raise SyntaxProblem(s.span, msg)
                rounds.append(s)
            else:
                key: str
                value: Any
                if isinstance(s, n.RankSpec):
                    key, value = "rank", s
                    first = f["rank"]
                    kinds = [r.period for r in (first, *more_ranks) if r is not None]
                    if first is not None and None not in [*kinds, s.period]:
                        if s.period in kinds:
                            raise SyntaxProblem(s.span, f"a second `rank {s.period}` statement")
                        more_ranks.append(s)  # `rank quarter by ...` and `rank year by ...`
                        continue
                elif isinstance(s, n.Bands):
                    key, value = ("tiers" if s.kind == "tier" else "grades"), s
                else:
                    key, value = s
                if f[key] is not None and f[key] != ():
                    where = getattr(value, "span", None) or self._span(meta)
                    raise SyntaxProblem(
                        where, f"a scorecard has one `{key}` statement; this is a second"
                    )
                f[key] = value
        return n.Scorecard(
            id=str(name),
            title=_opt_text(title),
            sequence=self._ref(seq),
            periods=f["periods"],
            annual=f["annual"],
            categories=tuple(cats),
            components=tuple(comps),
            items=f["items"],
            final=f["final"],
            floor=f["floor"],
            rank=f["rank"],
            vetoes=tuple(vetoes),
            tiers=f["tiers"],
            grades=f["grades"],
            span=self._span(meta),
            more_ranks=tuple(more_ranks),
            direct=tuple(direct),
            rounds=tuple(rounds),
        )

    def annual_stmt(self, ch: list[n.Expr]) -> tuple[str, n.Expr]:
        return ("annual", ch[0])

    def items_use(self, ch: list[Token]) -> tuple[str, n.Ref]:
        return ("items", self._ref(ch[0]))

    def final_stmt(self, ch: list[n.Expr]) -> tuple[str, n.Expr]:
        return ("final", ch[0])

    def floor_stmt(self, ch: list[Any]) -> tuple[str, n.Num]:
        return ("floor", ch[1])

    @v_args(meta=True)
    def category_decl(self, meta: Meta, ch: list[Any]) -> n.Category:
        name, title, weight, maximum, *inds = ch
        return n.Category(
            str(name),
            _opt_text(title),
            self._percent_tok(weight),
            maximum,
            tuple(inds),
            self._span(meta),
        )

    @v_args(meta=True)
    def indicator_decl(self, meta: Meta, ch: list[Any]) -> n.Indicator:
        name, title, points, ceiling, lead, risk, applies, *rest = ch
        *lets, rule = rest
        return n.Indicator(
            str(name),
            _opt_text(title),
            points,
            lead,
            tuple(lets),
            rule,
            self._span(meta),
            risk,
            applies,
            ceiling,
        )

    def ceiling(self, ch: list[n.Num]) -> n.Num:
        return ch[0]

    def applies_stmt(self, ch: list[n.Expr]) -> n.Expr:
        return ch[0]

    @v_args(meta=True)
    def risk_stmt(self, meta: Meta, ch: list[tuple[str, n.Ref]]) -> n.Risk:
        given: dict[str, n.Ref] = {}
        for aspect, level in ch:
            if aspect in given:
                raise SyntaxProblem(level.span, f"`risk` gives {aspect} once; this is a second")
            given[aspect] = level
        return n.Risk(given.get("difficulty"), given.get("control"), self._span(meta))

    def risk_part(self, ch: list[Token]) -> tuple[str, n.Ref]:
        return (str(ch[0]), self._ref(ch[1]))

    def lead(self, ch: list[Token]) -> n.Ref:
        return self._ref(ch[0])

    @v_args(meta=True)
    def component_decl(self, meta: Meta, ch: list[Any]) -> n.Component:
        name, title, weight, maximum, *rest = ch
        *lets, rule = rest
        return n.Component(
            str(name),
            _opt_text(title),
            self._percent_tok(weight),
            maximum,
            tuple(lets),
            rule,
            self._span(meta),
        )

    @v_args(meta=True)
    def let_stmt(self, meta: Meta, ch: list[Any]) -> n.Let:
        return n.Let(str(ch[0]), ch[1], self._span(meta))

    @v_args(meta=True)
    def score_rule(self, meta: Meta, ch: list[n.Expr]) -> n.ScoreRule:
        return n.ScoreRule(ch[0], self._span(meta))

    @v_args(meta=True)
    def per_rule(self, meta: Meta, ch: list[Any]) -> n.PerRule:
        kind, fact, where, amount, limit = ch
        limit_kind, limit_num = limit if limit is not None else (None, None)
        return n.PerRule(
            kind, self._ref(fact), where, amount, limit_num, limit_kind, self._span(meta)
        )

    def per_kind(self, ch: list[Token]) -> str:
        return str(ch[0])

    def limit(self, ch: list[Any]) -> tuple[str, n.Num]:
        return (str(ch[0]), cast(n.Num, ch[1]))

    def limit_kind(self, ch: list[Token]) -> str:
        return str(ch[0])

    @v_args(meta=True)
    def amount_by(self, meta: Meta, ch: list[Any]) -> n.Amount:
        return n.Amount(None, self._ref(ch[0]), ch[1], self._span(meta))

    @v_args(meta=True)
    def amount_fixed(self, meta: Meta, ch: list[n.Num]) -> n.Amount:
        return n.Amount(ch[0], None, None, self._span(meta))

    @v_args(meta=True)
    def rank_stmt(self, meta: Meta, ch: list[Any]) -> n.RankSpec:
        period, within, *keys = ch
        return n.RankSpec(period, within, tuple(keys), self._span(meta))

    def within(self, ch: list[n.Expr]) -> n.Expr:
        return ch[0]

    @v_args(meta=True)
    def rank_key(self, meta: Meta, ch: list[Any]) -> n.RankKey:
        return n.RankKey(self._ref(ch[0]), ch[1], self._span(meta))

    def order(self, ch: list[Token]) -> str:
        return str(ch[0])

    @v_args(meta=True)
    def veto_stmt(self, meta: Meta, ch: list[Any]) -> n.Veto:
        what, kind, band = ch
        fact, quant, below, when = what
        return n.Veto(
            fact, kind, self._ref(band), self._span(meta), quant=quant, below=below, when=when
        )

    def veto_fact(self, ch: list[Token]) -> tuple[n.Ref | None, None, tuple[n.Ref, ...], None]:
        return (self._ref(ch[0]), None, (), None)

    def veto_below(self, ch: list[Any]) -> tuple[n.Ref | None, str, tuple[n.Ref, ...], None]:
        quant, kinds, fact = ch
        return (self._ref(fact), str(quant), tuple(kinds), None)

    def veto_when(self, ch: list[n.Expr]) -> tuple[n.Ref | None, None, tuple[n.Ref, ...], n.Expr]:
        return (None, None, (), ch[0])

    @v_args(meta=True)
    def direct_stmt(self, meta: Meta, ch: list[Any]) -> n.DirectBand:
        kind, band, cond = ch
        return n.DirectBand(kind, self._ref(band), cond, self._span(meta))

    @v_args(meta=True)
    def round_result(self, meta: Meta, ch: list[Token]) -> n.RoundResult:
        what, places, mode = ch
        return n.RoundResult(self._ref(what), int(places), self._ref(mode), self._span(meta))

    def band_kind(self, ch: list[Token]) -> str:
        return str(ch[0])

    @v_args(meta=True)
    def tiers_stmt(self, meta: Meta, ch: list[Any]) -> n.Bands:
        period, mode, *bands = ch
        return n.Bands("tier", period, self._ref(mode), tuple(bands), self._span(meta))

    @v_args(meta=True)
    def grades_stmt(self, meta: Meta, ch: list[Any]) -> n.Bands:
        period, mode, *bands = ch
        return n.Bands("grade", period, self._ref(mode), tuple(bands), self._span(meta))

    @v_args(meta=True)
    def band(self, meta: Meta, ch: list[Any]) -> n.Band:
        name, title, body = ch
        cond = None if isinstance(body, Token) and body.type == "OTHERWISE" else body
        return n.Band(str(name), cond, self._span(meta), _opt_text(title))

    # ---- items and links --------------------------------------------------------------------
    @v_args(meta=True)
    def items_decl(self, meta: Meta, ch: list[Any]) -> n.ItemTable:
        name, title, *rest = ch
        items = tuple(x for x in rest if isinstance(x, n.Item))
        caps = tuple(x for x in rest if isinstance(x, n.Cap))
        return n.ItemTable(str(name), _opt_text(title), items, caps, self._span(meta))

    @v_args(meta=True)
    def item_decl(self, meta: Meta, ch: list[Any]) -> n.Item:
        kind, item_id, fact, where, amount, once = ch
        ident = str(item_id) if item_id is not None else str(fact)
        return n.Item(ident, kind, self._ref(fact), where, amount, once, self._span(meta))

    def item_id(self, ch: list[Token]) -> Token:
        return ch[0]

    def item_kind(self, ch: list[Token]) -> str:
        return str(ch[0])

    def once(self, ch: list[Token]) -> n.Ref:
        return self._ref(ch[0])

    @v_args(meta=True)
    def cap_decl(self, meta: Meta, ch: list[Any]) -> n.Cap:
        target, value, per = ch
        span = self._span(meta)
        if isinstance(target, Token) and target.type == "NAME":
            return n.Cap("item", value, span, item=self._ref(target), per=per or "period")
        return n.Cap(target, value, span, per=per or "period")

    def cap_per(self, ch: list[Token]) -> str:
        return str(ch[0])

    @v_args(meta=True)
    def joint_decl(self, meta: Meta, ch: list[Any]) -> n.Joint:
        name, title, into, *rest = ch
        links = tuple(x for x in rest if isinstance(x, n.Link))
        caps = [x for x in rest if isinstance(x, tuple)]
        cap, per = caps[-1] if caps else (None, "period")
        return n.Joint(
            str(name), _opt_text(title), self._ref(into), links, cap, self._span(meta), per
        )

    @v_args(meta=True)
    def link_decl(self, meta: Meta, ch: list[Any]) -> n.Link:
        name, scorecard, kind, source, target, (amount_kind, num), once = ch
        return n.Link(
            id=str(name),
            scorecard=self._ref(scorecard),
            source_kind=kind,
            source=self._ref(source),
            target=target,
            ratio=num if amount_kind == "ratio" else None,
            amount=num if amount_kind == "amount" else None,
            span=self._span(meta),
            times=num if amount_kind == "times" else None,
            once_per=once,
        )

    @v_args(meta=True)
    def import_decl(self, meta: Meta, ch: list[Any]) -> n.Link:
        name, scorecard, (amount_kind, num) = ch
        span = self._span(meta)
        return n.Link(
            id=str(name),
            scorecard=self._ref(scorecard),
            source_kind="deductions",
            source=n.Ref("deductions", span),
            target=None,
            ratio=num if amount_kind == "ratio" else None,
            amount=num if amount_kind == "amount" else None,
            span=span,
            times=num if amount_kind == "times" else None,
        )

    def source_kind(self, ch: list[Token]) -> str:
        return str(ch[0])

    def link_ratio(self, ch: list[Token]) -> tuple[str, n.Num]:
        return ("ratio", self._percent_tok(ch[0]))

    def link_fixed(self, ch: list[n.Num]) -> tuple[str, n.Num]:
        return ("amount", ch[0])

    def link_times(self, ch: list[n.Num]) -> tuple[str, n.Num]:
        return ("times", ch[0])

    def joint_cap(self, ch: list[Any]) -> tuple[n.Num, str]:
        return (cast(n.Num, ch[0]), str(ch[1]))

    @v_args(meta=True)
    def table_decl(self, meta: Meta, ch: list[Any]) -> n.TableDecl:
        name, title, key, pop, *rows = ch
        population, else_ = pop if pop is not None else (None, None)
        return n.TableDecl(
            str(name), _opt_text(title), key, population, else_, tuple(rows), self._span(meta)
        )

    def table_for(self, ch: list[Any]) -> tuple[n.Ref, n.Num | None]:
        return (self._ref(ch[0]), ch[1])

    @v_args(meta=True)
    def table_row(self, meta: Meta, ch: list[Any]) -> n.TableRow:
        return n.TableRow(str(ch[0]), _opt_text(ch[1]), ch[2], self._span(meta))

    @v_args(meta=True)
    def pool_decl(self, meta: Meta, ch: list[Any]) -> n.PoolDecl:
        name, title, card, period, within, *all_stmts = ch
        rounds = tuple(s for s in all_stmts if isinstance(s, n.RoundResult))
        stmts = [s for s in all_stmts if not isinstance(s, n.RoundResult)]
        shows = tuple(v for k, v in stmts if k == "show")
        got = {k: v for k, v in stmts if k != "show"}
        into, unit, ties = got.get("allocate", (n.Ref(""), n.Num(Decimal(0), "0"), ()))
        zero = n.Num(Decimal(0), "0")
        return n.PoolDecl(
            str(name),
            _opt_text(title),
            self._ref(card),
            period,
            within,
            shows,
            got.get("amount", zero),
            got.get("weight", zero),
            into,
            unit,
            ties,
            self._span(meta),
            rounds=rounds,
        )

    @v_args(meta=True)
    def pool_show(self, meta: Meta, ch: list[Any]) -> tuple[str, n.PoolShow]:
        return ("show", n.PoolShow(str(ch[0]), ch[1], self._span(meta)))

    def pool_amount(self, ch: list[n.Expr]) -> tuple[str, n.Expr]:
        return ("amount", ch[0])

    def pool_weight(self, ch: list[n.Expr]) -> tuple[str, n.Expr]:
        return ("weight", ch[0])

    def pool_allocate(
        self, ch: list[Any]
    ) -> tuple[str, tuple[n.Ref, n.Num, tuple[n.RankKey, ...]]]:
        into, unit, *keys = ch
        return ("allocate", (self._ref(into), unit, tuple(k for k in keys if k is not None)))

    # ---- tests ------------------------------------------------------------------------------
    @v_args(meta=True)
    def test_decl(self, meta: Meta, ch: list[Any]) -> n.TestDecl:
        name, title, *stmts = ch
        org = facts = None
        period = None
        files: list[n.Str] = []
        expects: list[n.Expectation] = []
        for kind, value in stmts:
            if kind == "org":
                org = value
            elif kind == "facts":
                facts = value
            elif kind == "period":
                period = value
            elif kind == "file":
                files.append(value)
            else:
                expects.append(value)
        return n.TestDecl(
            str(name),
            _opt_text(title),
            org,
            facts,
            period,
            tuple(files),
            tuple(expects),
            self._span(meta),
        )

    def _str(self, tok: Token) -> n.Str:
        return n.Str(_text(str(tok)), self._tok_span(tok))

    def test_org(self, ch: list[Token]) -> tuple[str, n.Str]:
        return ("org", self._str(ch[0]))

    def test_facts(self, ch: list[Token]) -> tuple[str, n.Str]:
        return ("facts", self._str(ch[0]))

    def test_period(self, ch: list[Token]) -> tuple[str, str]:
        return ("period", str(ch[0]))

    def test_expect_file(self, ch: list[Token]) -> tuple[str, n.Str]:
        return ("file", self._str(ch[0]))

    @v_args(meta=True)
    def test_expect(self, meta: Meta, ch: list[Any]) -> tuple[str, n.Expectation]:
        subject, fld, value = ch
        return ("expect", n.Expectation(str(subject), str(fld), value, self._span(meta)))

    def expect_name(self, ch: list[Token]) -> n.Ref:
        return self._ref(ch[0])

    # ---- expressions ------------------------------------------------------------------------
    @v_args(meta=True)
    def number(self, meta: Meta, ch: list[Token]) -> n.Num:
        return n.Num(Decimal(str(ch[0])), str(ch[0]), self._span(meta))

    @v_args(meta=True)
    def percent(self, meta: Meta, ch: list[Token]) -> n.Num:
        text = str(ch[0])
        return n.Num(Decimal(text[:-1]) / 100, text, self._span(meta))

    @v_args(meta=True)
    def signed_number(self, meta: Meta, ch: list[Token | None]) -> n.Num:
        sign, tok = ch
        assert tok is not None
        text = str(tok)
        value = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
        if sign is not None:
            value, text = -value, "-" + text
        return n.Num(value, text, self._span(meta))

    @v_args(meta=True)
    def string(self, meta: Meta, ch: list[Token]) -> n.Str:
        return n.Str(_text(str(ch[0])), self._span(meta))

    @v_args(meta=True)
    def name(self, meta: Meta, ch: list[Token]) -> n.Name:
        return n.Name(str(ch[0]), self._span(meta))

    @v_args(meta=True)
    def call(self, meta: Meta, ch: list[Any]) -> n.Call:
        func, *args = ch
        return n.Call(str(func), tuple(a for a in args if a is not None), self._span(meta))

    @v_args(meta=True)
    def call_alts(self, meta: Meta, ch: list[Token]) -> n.Call:
        """`ancestor(a | b)`: a call whose arguments are alternatives (names, `|`-separated)."""
        func, *alts = ch
        args = tuple(n.Arg(n.Name(str(a), self._tok_span(a)), span=self._tok_span(a)) for a in alts)
        return n.Call(str(func), args, self._span(meta))

    @v_args(meta=True)
    def arg(self, meta: Meta, ch: list[Any]) -> n.Arg:
        return n.Arg(ch[0], ch[1], ch[2], self._span(meta))

    @v_args(meta=True)
    def by_table(self, meta: Meta, ch: list[Any]) -> n.ByTable:
        return n.ByTable(self._ref(ch[0]), ch[1], self._span(meta))

    @v_args(meta=True)
    def attr(self, meta: Meta, ch: list[Any]) -> n.Attr:
        return n.Attr(ch[0], self._ref(ch[1]), self._span(meta))

    @v_args(meta=True)
    def index(self, meta: Meta, ch: list[Any]) -> n.Index:
        return n.Index(ch[0], ch[1], self._span(meta))

    @v_args(meta=True)
    def neg(self, meta: Meta, ch: list[Any]) -> n.Expr:
        operand = ch[1]
        if isinstance(operand, n.Num):
            return n.Num(-operand.value, "-" + operand.text, self._span(meta))
        return n.Unary("-", operand, self._span(meta))

    @v_args(meta=True)
    def not_expr(self, meta: Meta, ch: list[Any]) -> n.Unary:
        return n.Unary("not", ch[0], self._span(meta))

    @v_args(meta=True)
    def binary(self, meta: Meta, ch: list[Any]) -> n.Binary:
        left, op, right = ch
        return n.Binary(cast(n.BinOp, str(op)), left, right, self._span(meta))

    @v_args(meta=True)
    def if_expr(self, meta: Meta, ch: list[Any]) -> n.If:
        return n.If(ch[0], ch[1], ch[2], self._span(meta))

    @v_args(meta=True)
    def match(self, meta: Meta, ch: list[Any]) -> n.Match:
        return n.Match(ch[0], tuple(ch[1:]), self._span(meta))

    @v_args(meta=True)
    def match_arm(self, meta: Meta, ch: list[Any]) -> n.MatchArm:
        return n.MatchArm(str(ch[0]), ch[1], self._span(meta))

    @v_args(meta=True)
    def steps(self, meta: Meta, ch: list[Any]) -> n.Match:
        arms = tuple(a for a in ch[1:] if isinstance(a, n.MatchArm))
        return n.Match(ch[0], arms, self._span(meta), steps=True)

    @v_args(meta=True)
    def step_arm(self, meta: Meta, ch: list[Any]) -> n.MatchArm:
        return n.MatchArm(str(ch[0]), ch[2], self._span(meta), bound=ch[1])

    @v_args(meta=True)
    def step_else(self, meta: Meta, ch: list[Any]) -> n.MatchArm:
        return n.MatchArm("else", ch[1], self._span(meta))

    @v_args(meta=True)
    def table(self, meta: Meta, ch: list[n.TableEntry]) -> n.Table:
        return n.Table(tuple(ch), self._span(meta))

    @v_args(meta=True)
    def table_entry(self, meta: Meta, ch: list[Any]) -> n.TableEntry:
        return n.TableEntry(str(ch[0]), ch[1], self._span(meta))


def to_module(tree: Tree[Token], path: str, comments: tuple[n.Comment, ...]) -> n.Module:
    """Transforms a parse tree of one file into a `Module`."""
    decls = cast(tuple[n.Decl, ...], ToNodes(path).transform(tree))
    return n.Module(path, decls, comments)
