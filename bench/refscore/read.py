"""Reading a facts file by column and checking it as Jixiao does, by column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.json as pj  # type: ignore[import-untyped]

from refscore.org import Org
from refscore.rules import FACT_TYPES, INDICATORS, MAX_NUMBER, NUMBER_FIELDS, TEXT_FIELDS, U


class InvalidFacts(Exception):
    """A facts file that Jixiao would reject (the reference says where, not always why)."""


class Unsupported(Exception):
    """Valid facts beyond what the reference computes exactly (too many decimals, too large)."""


def _arrow_schema() -> pa.Schema:
    s = pa.string()
    data = [(f, pa.float64()) for f in NUMBER_FIELDS] + [(f, s) for f in TEXT_FIELDS]
    top = [("id", s), ("type", s), ("subject", s), ("date", s), ("period", s)]
    return pa.schema([*top, ("data", pa.struct(data)), ("evidence", s), ("supersedes", s)])


def read_table(path: Path) -> pl.DataFrame:
    """The file as columns; keys, nesting and JSON kinds checked by the reader itself."""
    opts = pj.ParseOptions(explicit_schema=_arrow_schema(), unexpected_field_behavior="error")
    try:
        table = pj.read_json(path, parse_options=opts)
    except pa.ArrowInvalid as e:
        raise InvalidFacts(f"{path}: {e}") from e
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    return df.unnest("data").with_row_index("row")


def read_facts(path: Path, org: Org) -> pl.DataFrame:
    """The live facts, checked, slimmed to what scoring reads: `type` and `subject` as enums,
    `yr`, `q` (0 for a year value), `dated`, numbers in thousandths (`value_u`, `points_u`)."""
    df = read_table(path)
    df = df.with_columns(
        pl.col("type").cast(pl.Enum(list(FACT_TYPES)), strict=False),
        pl.col("subject").cast(org.ids, strict=False),
        pl.col("date").str.to_date("%Y-%m-%d", strict=False).alias("day"),
        *(_scaled(f) for f in NUMBER_FIELDS),
    )
    _check(df, org)
    day, period = pl.col("day"), pl.col("period")
    quarter = pl.when(period.str.len_bytes() == 6).then(period.str.slice(5, 1).cast(pl.Int8))
    dead = df["supersedes"].drop_nulls().implode()
    keep = [f"{f}_u" for f in NUMBER_FIELDS] + [f for f in TEXT_FIELDS]
    return df.filter(~pl.col("id").is_in(dead)).select(
        "row",
        "type",
        "subject",
        *keep,
        dated=day.is_not_null(),
        yr=pl.when(day.is_not_null())
        .then(day.dt.year())
        .otherwise(period.str.slice(0, 4).cast(pl.Int32)),
        q=pl.when(day.is_not_null())
        .then(((day.dt.month() + 2) // 3).cast(pl.Int8))
        .otherwise(quarter.otherwise(0)),
    )


def _scaled(name: str) -> pl.Expr:
    return (pl.col(name) * U).round(0).cast(pl.Int64).alias(f"{name}_u")


def _check(df: pl.DataFrame, org: Org) -> None:
    """Every check of Jixiao's validator, by column, in one pass; raises on the first kind that
    fails, naming its first rows."""
    problems = _problems(df, org)
    found = df.select(*(bad.any().alias(str(i)) for i, (_, bad) in enumerate(problems))).row(0)
    for (what, bad), hit in zip(problems, found, strict=True):
        if hit:
            rows = df.filter(bad)["row"]
            lines = ", ".join(str(r + 1) for r in rows.head(5).to_list())
            raise InvalidFacts(f"{len(rows)} facts with {what} (rows {lines}, first ones)")
    for name in NUMBER_FIELDS:
        _exact(df, name)
    _links(df)
    single = [t for t, d in FACT_TYPES.items() if d.kind == "period"]
    live = ~pl.col("id").is_in(df["supersedes"].drop_nulls().implode())
    keys = df.filter(live & pl.col("type").is_in(single)).select("type", "subject", "period")
    if keys.is_duplicated().any():
        raise InvalidFacts("a second live value for a subject and period")


def _links(df: pl.DataFrame) -> None:
    """Ids are unique and every `supersedes` names a fact of the file."""
    # 64-bit hashes first (cheap); only a collision among them needs the strings compared.
    ids = pl.col("id")
    collide = df.select(ids.hash().n_unique()).item() < df.height
    if collide and df.select(ids.is_duplicated().any()).item():
        raise InvalidFacts("a duplicate id")
    named = df["supersedes"].drop_nulls().unique()
    if df.filter(ids.is_in(named.implode()))["id"].n_unique() != len(named):
        raise InvalidFacts("a supersedes naming no fact")


def _exact(df: pl.DataFrame, name: str) -> None:
    """Numbers must be whole thousandths of at most a million: then the integers are exact."""
    got = df.select(pl.col(name), pl.col(f"{name}_u")).drop_nulls()
    value, u = got[name].to_numpy(), got[f"{name}_u"].to_numpy()
    # numpy divides exactly rounded (polars multiplies by the reciprocal): k/U is the double
    # read from the text exactly when the text was k thousandths.
    if len(value) and (np.abs(value).max() > MAX_NUMBER or (u / float(U) != value).any()):
        raise Unsupported(f"a {name} beyond thousandths or above {MAX_NUMBER}")


def _problems(df: pl.DataFrame, org: Org) -> list[tuple[str, pl.Expr]]:
    t, subject = pl.col("type"), pl.col("subject")
    has_date, has_period = pl.col("date").is_not_null(), pl.col("period").is_not_null()
    dated = [k for k, d in FACT_TYPES.items() if d.kind == "dated"]
    on_units = [k for k, d in FACT_TYPES.items() if "unit" in d.on]
    on_persons = [k for k, d in FACT_TYPES.items() if "person" in d.on]
    is_person = subject.is_in(org.person_ids)
    out = [
        ("no id", pl.col("id").is_null() | (pl.col("id").str.len_bytes() == 0)),
        ("an unknown type", t.is_null()),
        ("an unknown subject", subject.is_null()),
        (
            "a subject of the wrong kind",
            pl.when(is_person).then(~t.is_in(on_persons)).otherwise(~t.is_in(on_units)),
        ),
        ("not exactly one of date and period", has_date == has_period),
        (
            "a bad date",
            has_date & ((pl.col("date").str.len_bytes() != 10) | pl.col("day").is_null()),
        ),
        ("a bad period", has_period & ~pl.col("period").str.contains(r"^\d{4}(Q[1-4])?$")),
        ("a date on a period value", has_date & ~t.is_in(dated)),
        ("a period on a dated fact", has_period & t.is_in(dated)),
    ]
    for name in (*NUMBER_FIELDS, *TEXT_FIELDS):
        col = pl.col(name)
        having = [k for k, d in FACT_TYPES.items() if name in d.fields]
        needing = [k for k in having if not FACT_TYPES[k].fields[name].optional]
        out.append((f"a field '{name}' its type has not", col.is_not_null() & ~t.is_in(having)))
        out.append((f"no '{name}'", col.is_null() & t.is_in(needing)))
        for k in having:
            out.extend(_value_problems(k, name, t == k, org))
    return out


def _value_problems(ftype: str, name: str, mine: pl.Expr, org: Org) -> list[tuple[str, pl.Expr]]:
    fd = FACT_TYPES[ftype].fields[name]
    col = pl.col(name)
    what = f"a bad {ftype}.{name}"
    if fd.kind == "enum":
        return [(what, mine & col.is_not_null() & ~col.is_in(fd.values))]
    if fd.kind == "indicator":
        return [(what, mine & col.is_not_null() & ~col.is_in(INDICATORS))]
    if fd.kind == "person":
        return [(what, mine & col.is_not_null() & ~col.is_in(org.person_ids))]
    if fd.kind != "number":
        return []
    out = []
    if fd.low is not None:
        below = col <= fd.low if fd.low_open else col < fd.low
        out.append((what, mine & below))
    if fd.high is not None:
        out.append((what, mine & (col > fd.high)))
    return out
