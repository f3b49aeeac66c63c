"""Runs a drawn ruleset through everything a rule author can run on it; classifies the outcome.

The guarantee under test: a ruleset that `check` accepts (no errors) compiles, and scoring,
explaining, reporting and its tests either run or stop with a diagnostic (a `RuleRuntimeError`
at a rule file's line, or invalid inputs listed per record), never an internal exception.

`python -m tests.dsl.gen.harness N [SEED]` draws N rulesets and prints the figures: how many
were accepted by the checker, scored cleanly, stopped with which diagnostic, and crashed.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

from dsl.check.checker import check
from dsl.compile.compiler import compile_program
from dsl.engine.evaluate import evaluate
from dsl.engine.report import explain_json, explain_text, results_json, results_table
from dsl.engine.testing import run_test
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period
from dsl.facts.records import InputError
from dsl.syntax.errors import RuleRuntimeError
from dsl.syntax.program import load
from tests.dsl.gen.rulesets import EXPECTED, PERIODS, Drawn


class Rejected(Exception):
    """The checker reported errors: the ruleset is not one the guarantee is about."""

    def __init__(self, codes: list[str]) -> None:
        super().__init__(", ".join(codes))
        self.codes = codes


def write(drawn: Drawn, root: Path) -> Path:
    """The ruleset's files, org.json and facts.jsonl, under `root`."""
    for rel, text in drawn.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    (root / "org.json").write_text(json.dumps(drawn.org), "utf-8")
    for name, text in EXPECTED.items():
        (root / name).write_text(text, "utf-8")
    lines = "".join(json.dumps(f) + "\n" for f in drawn.facts)
    (root / "facts.jsonl").write_text(lines, "utf-8")
    return root


def exercise(drawn: Drawn) -> list[str]:
    """Checks, compiles, scores every period (traced for one subject), renders and runs tests.

    Returns how each period ended ("ok", "R001", "input"); raises `Rejected` when the checker
    reports errors, and lets any other exception through: that is the failure looked for.
    """
    with tempfile.TemporaryDirectory() as tmp:
        root = write(drawn, Path(tmp))
        loaded = load(root)
        diags = check(loaded)
        errors = [d for d in diags if d.is_error]
        if errors:
            raise Rejected(sorted({d.code for d in errors}))
        for d in diags:
            d.render(loaded.sources)
        compiled = compile_program(loaded.program, loaded.sources)
        outcomes = []
        try:
            inputs = load_inputs(compiled, root / "org.json", root / "facts.jsonl", True)
        except InputError:
            return ["input"]
        for p in PERIODS:
            period = Period.parse(p)
            cards = compiled.scorecards.values()
            if period.kind not in {k for c in cards for k in c.periods} and not any(
                c.annual for c in cards
            ):
                continue
            try:
                ev = evaluate(compiled, inputs.org, inputs.facts, period, traced=("c1", "p1"))
                json.dumps(results_json(ev))
                results_table(ev)
                for s in ("c1", "p1", "p5"):
                    # as `jixiao explain` does: focused on the subject
                    focused = evaluate(
                        compiled, inputs.org, inputs.facts, period, traced={s}, focus=True
                    )
                    if focused.for_subject(s):
                        json.dumps(explain_json(focused, s))
                        explain_text(focused, s)
                outcomes.append("ok")
            except RuleRuntimeError as e:
                assert e.span.path.endswith(".jx"), e
                assert "error[R001]" in str(e)
                # A Python error inside generated code is the compiler's fault, not the rule's.
                internal = ("TypeError", "KeyError", "AttributeError", "IndexError", "Invalid")
                if _reason(str(e)).startswith(internal):
                    raise
                outcomes.append("R001 " + _reason(str(e)))
            except InputError:
                outcomes.append("input")
        for test in compiled.program.tests.values():
            for failure in run_test(compiled, test):
                str(failure)
        return outcomes


def _reason(message: str) -> str:
    """What an R001 says, without the subject, facts and places: `division by zero`."""
    text = message.split("error[R001]: ", 1)[-1]
    return text.split(" in 2025")[0][:60]


def main(argv: list[str]) -> int:
    """Draws many rulesets and prints the figures."""
    from hypothesis import HealthCheck, given, settings

    from tests.dsl.gen.rulesets import rulesets

    total = int(argv[0]) if argv else 1000
    seed = int(argv[1]) if len(argv) > 1 else 0
    tally: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    crashes: list[tuple[str, str]] = []

    @settings(
        max_examples=total,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(rulesets())
    def one(drawn: Drawn) -> None:
        seen = sum(tally[k] for k in ("accepted", "rejected", "crashed"))
        if seen and seen % 250 == 0:  # figures so far, in case the run is cut short
            print(f"... {seen}: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())),
                  flush=True)  # fmt: skip
        try:
            for outcome in exercise(drawn):
                tally[outcome] += 1
            tally["accepted"] += 1
        except Rejected as r:
            tally["rejected"] += 1
            rejected.update(r.codes)
        except Exception as e:  # the failures looked for: keep going, count them
            tally["crashed"] += 1
            crashes.append((f"{type(e).__name__}: {e}", drawn.show()))

    import random

    random.seed(seed)
    one()
    print(f"drawn {total}: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
    print(
        "checker errors in rejected ones: "
        + ", ".join(f"{k} {v}" for k, v in rejected.most_common())
    )
    kinds = Counter(c for c, _ in crashes)
    for what, count in kinds.most_common():
        print(f"CRASH x{count}: {what}")
    if crashes:
        Path("/tmp/gen-crash.txt").write_text(crashes[0][0] + "\n" + crashes[0][1], "utf-8")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
