"""The validator's compiled reader: a whole facts file decoded and checked by typed decoding.

Built once per `FactValidator` from its own tables (each fact type's subjects, fields, enum
names, references, number bounds): msgspec decodes every line straight into a struct of its
fact type, checking the keys, the JSON kinds, the subject, the enum values and the references
in C, and one pass turns the structs into `Fact`s through the validator's caches (numbers to
shared decimals within their bounds, dates, periods), exactly as the validator's common case
builds them. The reader accepts a chunk of lines only when every line passes; otherwise it
declines (returns None) and the validator reads the file line by line, deciding and wording
each record as before. So it never accepts what the detailed checks would refuse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, NewType, Protocol, Union

import msgspec
from msgspec.structs import asdict

from dsl.facts.fields import (
    DATE,
    ENUM,
    INDICATOR,
    INTEGER,
    NUMBER,
    OTHER,
    PERSON,
    TEXT,
    UNIT,
    TypeSpec,
)
from dsl.facts.limits import MAX_ID, MAX_TEXT
from dsl.facts.periods import Period
from dsl.facts.records import Fact

CHUNK = 8 << 20  # bytes decoded at a time: the structs of one chunk live only while converted
SHARED = 1 << 16  # at most this many distinct data dicts are shared
_NEVER = "\x00"  # the one name of an empty set of names (no record can use it)
# An empty line, or one of whitespace, after a newline: the line-by-line path skips it; decoding
# would renumber. One search of the chunk (`_blank_first` sees its first line).
_BLANK_LINE = re.compile(rb"\n(?:\n|[ \t\r\x0b\x0c]+(?:\n|\Z))")
# An escaped NUL or surrogate: the text checks (`dsl.facts.limits`) decide it, line by line.
_ODD_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


class Tables(Protocol):
    """What the reader uses of the validator (`dsl.facts.validate.FactValidator`)."""

    types: dict[Any, TypeSpec]
    single: frozenset[str]
    dates: dict[Any, date]
    periods: dict[Any, Period]

    def date_of(self, text: Any) -> date | None:
        """A date from its text, shared (None if not a date)."""

    def period_of(self, text: Any) -> Period | None:
        """A period from its text, shared (None if not a period)."""


def _names(names: Any) -> Any:
    """A Literal of the allowed names (msgspec checks membership and shares the strings).

    Behind a NewType, which typing's evaluation of a struct's annotations (msgspec's, for
    each struct) takes as it is: it would otherwise walk and compare a Literal's thousands of
    names (the organisation's subjects) once per fact type."""
    values = tuple(names) or (_NEVER,)
    return NewType("names", Literal[values])


def _field_type(kind: int, table: Any) -> Any:
    if kind in (NUMBER, INTEGER):
        return int | float
    if kind == ENUM:
        # the ids alone: a title that stands for one (市级) goes the detailed way
        return _names([k for k, i in table.items() if k == i])
    if kind in (PERSON, UNIT, INDICATOR):
        # Thousands of names: checked in Python where the data is converted (once per text),
        # as a Literal of them costs more to build (typing walks it) than a file to check.
        return str
    if kind == TEXT:
        return Annotated[str, msgspec.Meta(max_length=MAX_TEXT)]
    if kind == DATE:
        return str
    assert kind == OTHER
    return Any


def _struct(spec: TypeSpec) -> tuple[type[msgspec.Struct], type[msgspec.Struct]]:
    """The struct of one fact type (its keys, subjects, date or period, and its data as JSON
    text), and the struct of its data."""
    data: list[Any] = []
    for name, kind, optional, table in spec.rows:
        t = _field_type(kind, table)
        data.append((name, t | None, None) if optional else (name, t))
    # Required fields first, as a struct needs; `Plan` puts the declared order back.
    data.sort(key=len)
    shape = msgspec.defstruct(
        f"data_{spec.ident}", data, forbid_unknown_fields=True, gc=False, omit_defaults=False
    )
    required = any(not optional for _, _, optional, _ in spec.rows)
    fields: list[Any] = [
        ("id", Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID)]),
        ("subject", _names(spec.subjects)),
        ("date" if spec.dated else "period", str),
    ]
    # The data is kept as its JSON text and decoded into `shape` once per distinct text
    # (`TypedReader._shared_data`). Absent data is no data (None, read as `{}`) where no field
    # is required; `"data": null` is not (the text `null` fails `shape`; the detailed checks
    # say "not an object").
    fields.append(("data", msgspec.Raw) if required else ("data", msgspec.Raw, None))
    fields += [
        ("evidence", Annotated[str, msgspec.Meta(max_length=MAX_TEXT)] | None, None),
        ("supersedes", Annotated[str, msgspec.Meta(max_length=MAX_ID)] | None, None),
    ]
    fact = msgspec.defstruct(
        f"fact_{spec.ident}",
        fields,
        tag=spec.ident,
        tag_field="type",
        forbid_unknown_fields=True,
        gc=False,
    )
    return fact, shape


class Plan:
    """What turning one type's struct into its `Fact` takes."""

    __slots__ = (
        "convert",
        "dated",
        "decode",
        "ident",
        "in_order",
        "names",
        "optional",
        "shareable",
        "shared",
    )

    def __init__(self, spec: TypeSpec, shape: Any) -> None:
        self.ident, self.dated = spec.ident, spec.dated
        self.names = tuple(name for name, _, _, _ in spec.rows)  # the declared order
        self.decode = msgspec.json.Decoder(shape).decode
        # The data struct keeps the declared order (no optional field before a required one):
        # its dict is then the validator's dict, built in C.
        self.in_order = getattr(shape, "__struct_fields__", None) == self.names
        self.convert = tuple(
            (name, kind, table)
            for name, kind, _, table in spec.rows
            if kind <= INTEGER or kind == DATE or kind in (PERSON, UNIT, INDICATOR)
        )
        self.optional = tuple(name for name, _, optional, _ in spec.rows if optional)
        # Values of an undeclared kind may be lists or objects, which are not to be shared.
        self.shareable = all(kind != OTHER for _, kind, _, _ in spec.rows)
        self.shared: dict[bytes, dict[str, Any]] = {}  # the data of each JSON text read


class Keep:
    """Which of the facts read are kept (every one is decoded and checked all the same): those
    dated in one of `months` ((year, month) pairs), those of one of `periods`, and every
    correction (what it supersedes is no longer live, wherever that is)."""

    __slots__ = ("by_period", "days", "months", "periods")

    def __init__(self, months: frozenset[tuple[int, int]], periods: frozenset[Period]) -> None:
        self.months, self.periods = months, periods
        self.days: dict[date, bool] = {}  # a shared date's answer
        self.by_period: dict[int, bool] = {}  # a shared period's answer, by its identity

    @classmethod
    def of(cls, periods: Iterable[Period]) -> Keep:
        """What the indexes of `periods` read (`dsl.facts.index.index_periods`): a dated
        fact belongs to its quarter and its year, a period fact to the period it names."""
        periods = frozenset(periods)
        months = frozenset(
            (p.year, m)
            for p in periods
            for m in range(1, 13)
            if p.quarter is None or (m + 2) // 3 == p.quarter
        )
        return cls(months, periods)

    def day(self, d: date) -> bool:
        """True when a fact dated `d` is kept (`days` caches it)."""
        got = self.days[d] = (d.year, d.month) in self.months
        return got

    def period(self, p: Period) -> bool:
        """True when a fact of period `p` is kept (`by_period` caches it: the reader's periods
        are the validator's shared ones, which live as long as it does)."""
        got = self.by_period[id(p)] = p in self.periods
        return got


class TypedReader:
    """Decodes chunks of a facts file into `Fact`s for one validator, or declines.

    With `keep` set, only the facts it keeps are built (`Keep`); `lines` is the number of
    lines the last `read` went through."""

    def __init__(self, validator: Tables) -> None:
        self.keep: Keep | None = None
        self.lines = 0
        self.v = validator
        self.plans: dict[type, Plan] = {}
        for spec in validator.types.values():
            struct, shape = _struct(spec)
            self.plans[struct] = Plan(spec, shape)
        self.n_shared = 0
        self.empty: dict[str, Any] = {}
        self.decoder = msgspec.json.Decoder(Union[tuple(self.plans)])  # noqa: UP007  (runtime)

    def read(
        self,
        path: Path,
        start: int = 0,
        end: int | None = None,
        each: Callable[[list[Fact]], None] | None = None,
        chunk_size: int = 0,
    ) -> list[Fact] | None:
        """Every line of a file as its Fact, or None if any line needs the detailed checks
        (a problem, a blank line, a number the common case does not take).

        With `start` and `end`, the lines of those bytes alone (`start` at the beginning of a
        line), numbered from 1 as if they were the whole file. With `each`, the facts are
        handed to it a chunk (`chunk_size` bytes, else CHUNK) at a time instead (and the list
        returned is empty)."""
        out: list[Fact] = []
        line = self.lines = 0
        for chunk in _chunks(path, start, end, chunk_size):
            if _blank_first(chunk) or _BLANK_LINE.search(chunk) or _ODD_ESCAPE.search(chunk):
                return None
            try:
                structs = self.decoder.decode_lines(chunk)
            except (msgspec.DecodeError, msgspec.ValidationError):
                return None
            lines = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
            # With no blank line, each line holds at least one value: as many values as lines
            # means one a line, so the numbering matches the line-by-line path's.
            if len(structs) != lines or not self._facts(structs, line, out):
                return None
            line = self.lines = line + lines
            if each is not None:
                each(out)
                out = []
        return out

    def _facts(self, structs: list[Any], line: int, out: list[Fact]) -> bool:
        """Appends the chunk's facts; False as soon as one needs the detailed checks.

        A fact's data is decoded and checked once per distinct JSON text of its type, and
        facts with the same text share its dict, as facts read from the database do (the
        engine only reads it): a million work items hold a few dozen dicts instead of a
        million. The same text is the same values of the same JSON kinds (1 and 1.0, 0.0 and
        -0.0 are different texts).
        """
        v, plans, data_of = self.v, self.plans, self._shared_data
        dates, periods = v.dates, v.periods
        append = out.append
        keep = self.keep
        # With `keep`, a fact it does not keep is checked, not built (a correction always is).
        days = keep.days if keep is not None else None
        by_period = keep.by_period if keep is not None else {}
        keep_day = keep.day if keep is not None else bool
        keep_period = keep.period if keep is not None else bool
        for s in structs:
            line += 1
            plan = plans[type(s)]
            raw = s.data
            text = b"{}" if raw is None else bytes(raw)
            clean = plan.shared.get(text)
            if clean is None:
                clean = data_of(plan, text)
                if clean is None:
                    return False
            if plan.dated:
                day: date | None = dates.get(s.date) or v.date_of(s.date)
                if day is None:
                    return False
                if days is not None and s.supersedes is None:
                    wanted = days.get(day)
                    if not (keep_day(day) if wanted is None else wanted):
                        continue
                append(Fact(s.id, plan.ident, s.subject, day, None, clean, s.evidence,
                            s.supersedes, line))  # fmt: skip
            else:
                period: Period | None = periods.get(s.period) or v.period_of(s.period)
                if period is None:
                    return False
                if days is not None and s.supersedes is None:
                    wanted = by_period.get(id(period))
                    if not (keep_period(period) if wanted is None else wanted):
                        continue
                append(Fact(s.id, plan.ident, s.subject, None, period, clean, s.evidence,
                            s.supersedes, line))  # fmt: skip
        return True

    def _shared_data(self, plan: Plan, text: bytes) -> dict[str, Any] | None:
        """The data of a JSON text not met before for its type (kept to share, up to `SHARED`
        texts); None if it needs the detailed checks."""
        try:
            data = plan.decode(text)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        clean = self._data(plan, data) if plan.names else self.empty
        if clean is not None and plan.shareable and self.n_shared < SHARED:
            plan.shared[text] = clean
            self.n_shared += 1
        return clean

    def _data(self, plan: Plan, data: msgspec.Struct) -> dict[str, Any] | None:
        """The fact's data as the validator builds it: declared order, absent fields left out,
        numbers and dates shared; None if a value needs the detailed checks."""
        if plan.in_order:
            clean = asdict(data)
        else:
            clean = {name: getattr(data, name) for name in plan.names}
        for name, kind, table in plan.convert:
            x = clean[name]
            if x is None:
                continue
            if kind == DATE:
                got = self.v.date_of(x)
            elif kind > DATE:  # a person, unit or indicator by its id (not a title): shared
                got = table.get(x)
                if got != x:
                    return None
            else:  # the shared decimal of an int or float that fits, as the validator's loop
                got = (table.ints if type(x) is int else table.floats).get(x)
                if got is None:
                    got = table.accept(x)
            if got is None:
                return None
            clean[name] = got
        for name in plan.optional:
            if clean[name] is None:
                del clean[name]
        return clean


def _blank_first(chunk: bytes) -> bool:
    """True if the chunk's first line is empty or only whitespace."""
    first = chunk.find(b"\n")
    return not chunk[: first if first >= 0 else len(chunk)].strip()


def _chunks(path: Path, start: int = 0, end: int | None = None, size: int = 0) -> Iterator[bytes]:
    """The file (its bytes from `start` to `end`) in pieces of about `size` bytes (CHUNK), each
    ending after a newline (or at the end)."""
    rest = b""
    left = -1 if end is None else end - start
    size = size or CHUNK
    with path.open("rb") as fh:
        fh.seek(start)
        while left and (block := fh.read(size if left < 0 else min(size, left))):
            left -= len(block) if left > 0 else 0
            data = rest + block
            cut = data.rfind(b"\n") + 1
            if cut:
                yield data[:cut]
            rest = data[cut:]
    if rest:
        yield rest
