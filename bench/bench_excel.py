"""Times Excel in and out on a generated province and prints each figure beside its target.

    python bench/bench_excel.py            # 100,000 facts in a workbook; the 3,000-person year
    python bench/bench_excel.py --quick    # a small province, a smoke run

Import: a 100,000-row workbook in the template's layout (one sheet per fact type, enum titles,
names for subjects, Excel dates) is read, turned into fact records and validated, then recorded
in a fresh SQLite database by `jixiao import facts` (target: under 20 s in all). Export: the
year's results of the 3,000-person province as the formatted workbook (target: under 5 s).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
import xlsxwriter
from generate import generate

from app.excel.columns import Vocabulary
from app.excel.export import results_workbook
from app.excel.facts_in import parse_sheets
from app.excel.reader import read_sheets
from app.excel.titles import titles_of
from dsl.compile.compiler import compile_path
from dsl.engine.evaluate import evaluate
from dsl.engine.report import results_json
from dsl.facts.periods import Period
from dsl.facts.records import org_from_json
from dsl.facts.validate import validate_facts

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules" / "2025"
T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """(seconds, result) of one call."""
    t0 = time.perf_counter()
    got = fn()
    return time.perf_counter() - t0, got


def show(what: str, seconds: float, target: float | None = None, cpu: float | None = None) -> None:
    """One figure (with the CPU time it took, where measured), PASS or MISS against its target."""
    verdict = "" if target is None else (" PASS" if seconds < target else " MISS")
    goal = "" if target is None else f"  (target < {target:g} s)"
    used = "" if cpu is None else f" (CPU {cpu:.2f} s)"
    print(f"{what:<62} {seconds:7.2f} s{used}{goal}{verdict}")


def ledger(vocab: Vocabulary, facts: list[dict[str, Any]], names: dict[str, str]) -> bytes:
    """The facts as a filled-in template: titles, names and dates as a bureau types them."""
    path = Path(tempfile.mkstemp(suffix=".xlsx")[1])
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    sheets = {fs.decl.id: fs for fs in vocab.sheets()}
    by_type: dict[str, list[dict[str, Any]]] = {}
    for f in facts:
        by_type.setdefault(f["type"], []).append(f)
    for ftype, rows in by_type.items():
        fs = sheets[ftype]
        ws = wb.add_worksheet(fs.name)
        ws.write_row(0, 0, [c.title for c in fs.columns])
        ws.write_row(1, 0, [c.name for c in fs.columns])
        for i, f in enumerate(rows, 2):
            values = {**f, **f.get("data", {})}
            for j, col in enumerate(fs.columns):
                v = values.get(col.name)
                if v is None:
                    continue
                if col.kind == "date":
                    ws.write_datetime(i, j, datetime.fromisoformat(v), day)
                elif col.kind == "enum" and col.ftype is not None:
                    titles = {e.id: e.title or e.id for e in col.ftype.values}
                    ws.write_string(i, j, titles[v])
                elif col.name == "subject":
                    ws.write_string(i, j, names.get(v, v))
                elif isinstance(v, int | float):
                    ws.write_number(i, j, v)
                else:
                    ws.write_string(i, j, str(v))
    wb.close()
    data = path.read_bytes()
    path.unlink()
    return data


def main(argv: list[str] | None = None) -> None:
    """The figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="a small province")
    a = ap.parse_args(argv)
    counties, persons, n = (10, 300, 10_000) if a.quick else (100, 3000, 100_000)
    org_json, facts = generate(counties, persons, n, 2025, 1)
    org = org_from_json(orjson.loads(orjson.dumps(org_json)))
    compiled = compile_path(RULES)
    vocab = Vocabulary(compiled.schema, 2025, org=org)
    names = {u.id: u.name for u in org.units.values()}  # units by name; persons by id
    secs, data = timed(lambda: ledger(vocab, facts, names))
    print(f"{len(facts):,} facts, {len(org.persons):,} persons, {len(org.units):,} units")
    show(f"write the ledger workbook ({len(data) / 1e6:.1f} MB, XlsxWriter)", secs)
    t_read, sheets = timed(lambda: read_sheets(data, "ledger.xlsx"))
    show("read it (python-calamine)", t_read)
    t_parse, parsed = timed(lambda: parse_sheets(sheets, vocab, "ledger.xlsx"))
    show("cells to fact records", t_parse)
    t_check, checked = timed(lambda: validate_facts(parsed.records, compiled.schema, org))
    show("validate", t_check)
    bad = parsed.all_problems(checked.problems)
    assert not bad, bad[:3]
    t_db, cpu = import_into_sqlite(data, org_json)
    show(f"jixiao import facts ledger.xlsx (SQLite, {len(facts):,} rows)", t_db, 20, cpu)
    year = Period.parse("2025")
    doc = results_json(evaluate(compiled, org, checked.facts, year))
    titles = titles_of(compiled, org)
    t_out, book = timed(lambda: results_workbook(doc, titles))
    people = sum(r["scorecard"] == "person" for r in doc["results"])
    show(f"export the year's results ({people:,} persons, {len(book) / 1e6:.1f} MB)", t_out, 5)


def import_into_sqlite(data: bytes, org_json: dict[str, Any]) -> tuple[float, float]:
    """(seconds, CPU seconds) of `jixiao import facts` on the workbook in a fresh SQLite
    database: the whole command, from starting Python to the last row written."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "JIXIAO_DATABASE_URL": f"sqlite:///{tmp}/bench.db"}
        (Path(tmp) / "ledger.xlsx").write_bytes(data)
        (Path(tmp) / "org.json").write_bytes(orjson.dumps(org_json))
        jixiao = [sys.executable, "-m", "app.cli"]
        for cmd in (["db", "upgrade"], ["import", "org", f"{tmp}/org.json"]):
            subprocess.run([*jixiao, *cmd], env=env, check=True, cwd=ROOT, capture_output=True)
        args = ["import", "facts", f"{tmp}/ledger.xlsx", "--ruleset", str(RULES), "--quiet"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([*jixiao, *args], env=env, check=True, cwd=ROOT, capture_output=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return wall, cpu


if __name__ == "__main__":
    main()
