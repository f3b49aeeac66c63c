"""Comparing tables (keyed by a value of the subject) and pools (amounts shared by weight)."""

from __future__ import annotations

from dsl.audit.diff_cards import BaseDiffer
from dsl.audit.diff_model import Detail, Path
from dsl.audit.diff_rules import num
from dsl.syntax import nodes as n


class PoolDiffer(BaseDiffer):
    """Tables row by row; pools statement by statement."""

    def table(self, ident: str, a: n.TableDecl | None, b: n.TableDecl | None) -> None:
        """A table: its key, its population and `else`, its rows."""
        path: Path = (("table", ident),)
        if not self.presence("table", path, a, b):
            return
        assert a is not None and b is not None
        self.title("table", path, a, b)
        spans = (a.span, b.span)
        self.formula("table", path, "key", a.key, b.key)
        pa = a.population.name if a.population else None
        pb = b.population.name if b.population else None
        self.value("table", path, "for", pa, pb, str, spans)
        self.value("table", path, "else", a.else_, b.else_, num, spans)
        ra = {r.key: r.value for r in a.rows}
        rb = {r.key: r.value for r in b.rows}
        details = tuple(
            Detail(k, num(ra.get(k)), num(rb.get(k)))
            for k in [*rb, *(k for k in ra if k not in rb)]
            if ra.get(k) is None or rb.get(k) is None or ra[k].value != rb[k].value
        )
        self.value("table", path, "rows", ra, rb, _rows_text, spans, details)

    def pool(self, ident: str, a: n.PoolDecl | None, b: n.PoolDecl | None) -> None:
        """A pool: whose results, in which period, grouped how, shows, amount, weight, shares."""
        path: Path = (("pool", ident),)
        if not self.presence("pool", path, a, b):
            return
        assert a is not None and b is not None
        self.title("pool", path, a, b)
        spans = (a.span, b.span)
        self.value("pool", path, "for", a.card.name, b.card.name, str, spans)
        self.value("pool", path, "period", a.period, b.period, str, spans)
        self.formula("pool", path, "within", a.within, b.within)
        sa, sb = {x.name: x for x in a.shows}, {y.name: y for y in b.shows}
        for name in [*sb, *(k for k in sa if k not in sb)]:
            x, y = sa.get(name), sb.get(name)
            here = (*path, ("show", name))
            if self.presence("show", here, x, y):
                assert x is not None and y is not None
                self.formula("show", here, "value", x.value, y.value)
        self.formula("pool", path, "amount", a.amount, b.amount)
        self.formula("pool", path, "weight", a.weight, b.weight)
        self.value("pool", path, "allocate", _share(a), _share(b), str, spans)


def _rows_text(rows: dict[str, n.Num]) -> str:
    return ", ".join(f"{k}: {v.text}" for k, v in rows.items())


def _share(p: n.PoolDecl) -> str:
    ties = ", ".join(f"{k.name.name} {k.order}" for k in p.ties)
    return f"{p.into.name} unit {num(p.unit)} largest remainder" + (f" by {ties}" if ties else "")
