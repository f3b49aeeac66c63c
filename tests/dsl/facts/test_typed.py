"""The validator's typed reader accepts a file only when every line passes the common case, and
then builds exactly the facts of the line-by-line path, numbered as it numbers them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings

from dsl.compile.compiler import compile_path
from dsl.facts import typed
from dsl.facts.inputs import load_inputs, read_checked
from dsl.facts.records import FactProblem, InputError, Org, read_org
from dsl.facts.validate import FactSchema, FactValidator
from tests.dsl.facts.test_validate import BASE, EXAMPLES, RECORDS, REPO, _random_records

ORG = EXAMPLES / "handworked" / "org.json"


@pytest.fixture(scope="module")
def schema() -> FactSchema:
    return compile_path(REPO / "rules" / "2025").schema


@pytest.fixture(scope="module")
def org() -> Org:
    return read_org(ORG)


def _line_by_line(path: Path, schema: FactSchema, org: Org) -> list[str] | None:
    """The facts of the line-by-line path, as reprs; None if any line has a problem."""
    v = FactValidator(schema, org)
    problems: list[FactProblem] = []
    out = []
    for line, raw in read_checked(path, v, problems):
        fact, errs = v.check(raw, line, "t") if isinstance(raw, dict) else (raw, [])
        if errs:
            return None
        out.append(repr(fact))
    return None if problems else out


def _agree(path: Path, schema: FactSchema, org: Org) -> None:
    got = FactValidator(schema, org).read_typed(path)
    expected = _line_by_line(path, schema, org)
    if got is not None:  # accepted: every line passes, and the facts are the same
        assert expected is not None and [repr(f) for f in got] == expected
    elif expected is not None:  # declined though valid: only for a float read again exactly
        assert _long_float_in(path)


def _long_float_in(path: Path) -> bool:
    for line in path.read_bytes().splitlines():
        data = json.loads(line).get("data") if line.strip() else None
        if isinstance(data, dict) and any(
            isinstance(v, float) and len(repr(v)) > 15 for v in data.values()
        ):
            return True
    return False


@pytest.mark.parametrize("raw", RECORDS, ids=[f"variant{i}" for i in range(len(RECORDS))])
def test_a_variant_is_read_as_the_line_by_line_path_reads_it(
    raw: dict[str, Any], schema: FactSchema, org: Org, tmp_path: Path
) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_bytes(orjson.dumps({**BASE, "id": "f0"}) + b"\n" + orjson.dumps(raw) + b"\n")
    _agree(path, schema, org)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=_random_records())
def test_random_records_are_read_as_the_line_by_line_path_reads_them(
    raw: dict[str, Any], schema: FactSchema, org: Org, tmp_path: Path
) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_bytes(json.dumps(raw).encode() + b"\n")  # big ints and NaN too, as text
    _agree(path, schema, org)


@pytest.mark.parametrize("example", ["handworked", "precision", "random-2025"])
def test_an_example_is_read_whole(example: str, schema: FactSchema) -> None:
    folder = EXAMPLES / example
    org = read_org(folder / "org.json")
    got = FactValidator(schema, org).read_typed(folder / "facts.jsonl")
    assert got is not None
    assert [repr(f) for f in got] == _line_by_line(folder / "facts.jsonl", schema, org)


@pytest.mark.parametrize(
    "between",
    [b"\n", b"  \n", b"\t\r\n", b"\x0c\n"],
    ids=["empty", "spaces", "tab-crlf", "form-feed"],
)
def test_a_blank_line_is_left_to_the_line_by_line_path(
    between: bytes, schema: FactSchema, org: Org, tmp_path: Path
) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_bytes(orjson.dumps(BASE) + b"\n" + between + orjson.dumps({**BASE, "id": "f2"}))
    assert FactValidator(schema, org).read_typed(path) is None
    loaded = load_inputs(compile_path(REPO / "rules" / "2025"), ORG, path)
    assert [(f.id, f.line) for f in loaded.facts] == [("f1", 1), ("f2", 3)]


def test_two_facts_on_one_line_are_refused_as_before(
    schema: FactSchema, org: Org, tmp_path: Path
) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_bytes(orjson.dumps(BASE) + b" " + orjson.dumps({**BASE, "id": "f2"}) + b"\n")
    assert FactValidator(schema, org).read_typed(path) is None
    with pytest.raises(InputError, match="not valid JSON"):
        load_inputs(compile_path(REPO / "rules" / "2025"), ORG, path)


def test_lines_are_numbered_across_chunks(
    schema: FactSchema, org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(typed, "CHUNK", 300)  # a few lines a chunk
    path = tmp_path / "facts.jsonl"
    lines = [orjson.dumps({**BASE, "id": f"f{i}"}) for i in range(1, 41)]
    path.write_bytes(b"\r\n".join(lines))  # CRLF, and no newline after the last line
    got = FactValidator(schema, org).read_typed(path)
    assert got is not None
    assert [(f.id, f.line) for f in got] == [(f"f{i}", i) for i in range(1, 41)]


def test_shared_values_are_shared(schema: FactSchema, org: Org, tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps({**BASE, "id": f"f{i}"}) for i in range(3)))
    got = FactValidator(schema, org).read_typed(path)
    assert got is not None
    a, b, _ = got
    assert a.date is b.date and a.data["points"] is b.data["points"] and a.subject is b.subject


def test_data_is_decoded_once_per_text_and_shared_by_text(
    schema: FactSchema, org: Org, tmp_path: Path
) -> None:
    """The same JSON text of a type's data is one dict; texts that read differently (an
    integer and a float, zero and minus zero) are each their own, as line by line."""
    values = ["80", "80.0", "80", "0", "0.0", "-0.0", "0.0", "80.0"]
    lines = [
        f'{{"id": "r{i}", "type": "rating", "subject": "nanyue", "period": "2025Q1", '
        f'"data": {{"rater_group": "leader", "value": {v}}}}}'
        for i, v in enumerate(values)
    ]
    path = tmp_path / "facts.jsonl"
    path.write_text("\n".join(lines) + "\n")
    got = FactValidator(schema, org).read_typed(path)
    assert got is not None
    assert [repr(f) for f in got] == _line_by_line(path, schema, org)
    assert [str(f.data["value"]) for f in got] == values  # Decimal keeps the text's exponent
    for i, v in enumerate(values):
        for j, w in enumerate(values):
            assert (got[i].data is got[j].data) == (v == w)


@pytest.mark.parametrize(
    ("data", "accepted"),
    [("", True), (', "data": {}', True), (', "data": null', False), (', "data": {"x": 1}', False)],
    ids=["absent", "empty", "null", "unknown-field"],
)
def test_data_of_a_type_without_fields(
    data: str, accepted: bool, schema: FactSchema, org: Org, tmp_path: Path
) -> None:
    path = tmp_path / "facts.jsonl"
    line = '{"id": "v1", "type": "major_violation", "subject": "nanyue", "date": "2025-02-03"'
    path.write_text(line + data + "}\n")
    got = FactValidator(schema, org).read_typed(path)
    assert (got is not None) == accepted
    _agree(path, schema, org)
    if got is not None:
        assert got[0].data == {}


@pytest.mark.parametrize(
    ("data", "accepted"),
    [
        ('"inspection_issue", "data": {"level": "municipal", "responsible": "nanyue-levy-1"}', 1),
        ('"inspection_issue", "data": {"level": "municipal", "responsible": "李明"}', 0),
        ('"inspection_issue", "data": {"level": "municipal", "responsible": "nobody"}', 0),
        ('"inspection_issue", "data": {"level": "municipal", "responsible": 7}', 0),
        ('"criticism_notice", "data": {"level": "municipal", "indicator": "K4"}', 1),
        ('"criticism_notice", "data": {"level": "municipal", "indicator": "K9"}', 0),
    ],
    ids=["person-id", "person-name", "unknown-person", "number", "indicator", "no-indicator"],
)
def test_a_person_or_indicator_in_the_data_is_checked_by_its_id(
    data: str, accepted: int, schema: FactSchema, org: Org, tmp_path: Path
) -> None:
    """Names of persons and indicators are checked where the data is converted (not by a
    Literal of thousands of names): an id is accepted and shared, anything else (a name that
    stands for one, an unknown id, not a string) is left to the line-by-line path."""
    path = tmp_path / "facts.jsonl"
    head = '{"id": "x1", "subject": "nanyue", "date": "2025-02-14", "type": '
    path.write_text(head + data + "}\n" + head.replace("x1", "x2") + data + "}\n")
    got = FactValidator(schema, org).read_typed(path)
    assert (got is not None) == bool(accepted)
    if got is not None:
        _agree(path, schema, org)
        value = next(v for k, v in got[0].data.items() if k != "level")
        assert value in (*org.persons, "K4") and got[0].data is got[1].data
        if value in org.persons:
            assert value is next(p for p in org.persons if p == value)  # the org's own string
