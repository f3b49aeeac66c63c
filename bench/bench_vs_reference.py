"""Jixiao against a hand-vectorised scorer of the same rules, as ratios measured in one run.

    python bench/bench_vs_reference.py                  # 100k, 1M and 4M facts; 3 rounds
    python bench/bench_vs_reference.py --quick          # 100k facts and the examples only
    python bench/bench_vs_reference.py --record         # write today's output digests
    python bench/bench_vs_reference.py --case 1M-2025   # one case (repeatable)

Both sides run as commands in fresh processes, from the facts file to the results JSON:
`jixiao score rules/2025 --org --facts --period` and `bench/reference_score.py` (bench/refscore:
pyarrow and polars, exact). First every case is run once on both sides and the results compared
subject by subject (the worked examples of 2025 as well); nothing is timed unless all agree.
Then the cases run in rounds, Jixiao and the reference interleaved (their order alternating),
and each figure is the median over the rounds: wall time, CPU time (user + system, from wait4,
which counts the command's own children too: Jixiao reads a large facts file in two processes)
and peak memory (ru_maxrss of the child; this process stays small, so it is the child's own:
the largest of its processes, not their sum; `bench/bench_processes.py` sums them).
Jixiao's output bytes are compared with `bench/baseline.sha256`, the digests of the outputs
before any optimisation: an optimisation must not change a byte.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BASELINE = ROOT / "bench" / "baseline.sha256"
EXAMPLES = ROOT.parent / "shared" / "reference" / "examples"
SIZES = {"100k": 100_000, "1M": 1_000_000, "4M": 4_000_000}
FOLDER = {"100k": OUT / "province-100k", "1M": OUT / "province", "4M": OUT / "province-4m"}
# (size, period): the figures of the issue; the year at 1M only
CASES = [("100k", "2025Q1"), ("1M", "2025Q1"), ("4M", "2025Q1"), ("1M", "2025")]
TARGET = 1.5


@dataclass
class Case:
    """One facts file and period, scored by both sides."""

    name: str
    folder: Path
    period: str
    facts: int
    rules: str = "2025"  # Jixiao's ruleset; the reference knows 2025 alone
    runs: dict[str, list[tuple[float, float, float]]] = field(default_factory=dict)

    def argv(self, side: str) -> list[str]:
        """The command line of one side."""
        files = [
            "--org",
            str(self.folder / "org.json"),
            "--facts",
            str(self.folder / "facts.jsonl"),
        ]
        if side == "jixiao":
            jx = str(ROOT / ".venv" / "bin" / "jixiao")
            return [jx, "score", str(ROOT / "rules" / self.rules), *files, "--period", self.period]
        ref = str(ROOT / "bench" / "reference_score.py")
        return [sys.executable, ref, *files, "--period", self.period]

    def output(self, side: str) -> Path:
        """Where a side's results JSON goes."""
        return OUT / "runs" / f"{side}-{self.name}.json"


def run(case: Case, side: str, check: bool = True) -> tuple[float, float, float]:
    """(wall s, CPU s, peak MB) of one run; its stdout kept in `case.output(side)`.

    A failed run stops the benchmark (with `check`) or gives wall time -1."""
    target = case.output(side)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(case.argv(side), stdout=out, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 and not check:
        return -1.0, 0.0, 0.0
    if proc.returncode != 0:
        raise SystemExit(f"{side} failed on {case.name}:\n{err.decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def same_results(case: Case) -> str:
    """'' when both sides published the same results, else what differs first."""
    mine = json.loads(case.output("jixiao").read_bytes())
    ref = json.loads(case.output("reference").read_bytes())
    if mine["period"] != ref["period"] or len(mine["results"]) != len(ref["results"]):
        return f"period or number of results: {len(mine['results'])} vs {len(ref['results'])}"
    for a, b in zip(mine["results"], ref["results"], strict=True):
        if a != b:
            return f"first difference:\n  jixiao    {a}\n  reference {b}"
    return ""


def digest(path: Path) -> str:
    """sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def examples() -> list[Case]:
    """Every worked example and period with expected results, under its year's rules."""
    cases = []
    for expected in sorted(EXAMPLES.glob("*/expected-*.json")):
        period, _, under = expected.stem.removeprefix("expected-").partition("-under-")
        rules = under.removesuffix("-rules") or period[:4]
        name = f"{expected.parent.name}-{period}" + (f"-under-{rules}" if under else "")
        cases.append(Case(name, expected.parent, period, 0, rules))
    return cases


def ensure(size: str) -> Path:
    """The generated province of a size (100 county bureaus, 3,000 persons, seed 1)."""
    folder = FOLDER[size]
    if not (folder / "facts.jsonl").exists():
        gen = [sys.executable, str(ROOT / "bench" / "generate.py"), "--out", str(folder)]
        args = ["--counties", "100", "--persons", "3000", "--facts", str(SIZES[size])]
        subprocess.run([*gen, *args], check=True)
    return folder


def verify(cases: list[Case], record: bool) -> None:
    """Runs every case once on both sides; stops unless all results agree.

    Jixiao's output bytes are checked against the recorded digests (or recorded).
    """
    known = _baseline()
    for case in cases:
        if run(case, "jixiao", check=case.rules == "2025")[0] < 0:
            print(f"  {case.name:<28} not scored by Jixiao (rules/{case.rules} do not compile)")
            continue
        both = "identical results on both sides"
        if case.rules == "2025":
            run(case, "reference")
            problem = same_results(case)
            if problem:
                raise SystemExit(f"{case.name}: the reference and Jixiao disagree; {problem}")
        else:
            both = f"Jixiao alone (rules/{case.rules})"
        got = digest(case.output("jixiao"))
        if record:
            known[case.name] = got
        elif case.name in known and known[case.name] != got:
            raise SystemExit(f"{case.name}: Jixiao's output changed (sha256 {got[:12]}…)")
        mark = "recorded" if record else "same bytes as before" if case.name in known else "new"
        print(f"  {case.name:<28} {both}; Jixiao's output {mark}", flush=True)
    if record:
        lines = [f"{v}  {k}" for k, v in sorted(known.items())]
        BASELINE.write_text("\n".join(lines) + "\n")


def _baseline() -> dict[str, str]:
    if not BASELINE.exists():
        return {}
    rows = (line.split() for line in BASELINE.read_text().splitlines() if line.strip())
    return {name: sha for sha, name in rows}


def measure(cases: list[Case], rounds: int) -> None:
    """Interleaved rounds: each case on both sides, the order alternating round by round."""
    for i in range(rounds):
        for case in cases:
            sides = ("jixiao", "reference") if i % 2 == 0 else ("reference", "jixiao")
            for side in sides:
                case.runs.setdefault(side, []).append(run(case, side))
        print(f"  round {i + 1}/{rounds} done", flush=True)


def medians(case: Case, side: str) -> tuple[float, float, float]:
    """Median wall, CPU and peak memory of a side's runs."""
    runs = case.runs[side]
    return tuple(statistics.median(r[k] for r in runs) for k in range(3))  # type: ignore[return-value]


def report(cases: list[Case]) -> None:
    """The table: medians of both sides and their ratios, with the targets."""
    print(
        f"\n{'case':<14}{'Jixiao wall (CPU)':>19}{'reference':>18}"
        f"{'ratio wall':>12}{'ratio CPU':>11}   target ≤ {TARGET}×"
    )
    for case in cases:
        (jw, jc, _), (rw, rc, _) = medians(case, "jixiao"), medians(case, "reference")
        verdict = " ".join(
            f"{what} {'PASS' if ratio <= TARGET else 'MISS'}"
            for what, ratio in (("wall", jw / rw), ("CPU", jc / rc))
        )
        print(
            f"{case.name:<14}{f'{jw:.2f} s ({jc:.2f})':>19}{f'{rw:.2f} s ({rc:.2f})':>18}"
            f"{jw / rw:>11.2f}×{jc / rc:>10.2f}×   {verdict}"
        )
    print(
        f"\n{'peak memory':<16}{'Jixiao':>12}{'reference':>12}   per million facts "
        "(the largest process; bench/bench_processes.py counts them all)"
    )
    for case in cases:
        (_, _, jm), (_, _, rm) = medians(case, "jixiao"), medians(case, "reference")
        if case.facts < SIZES["1M"]:
            print(f"{case.name:<16}{jm:>9.0f} MB{rm:>9.0f} MB")
            continue
        per, ref_per = jm / case.facts * 1e6, rm / case.facts * 1e6
        ok = "PASS" if per <= 400 else "MISS"
        print(
            f"{case.name:<16}{jm:>9.0f} MB{rm:>9.0f} MB   {per:.0f} MB vs {ref_per:.0f} MB "
            f"({per / ref_per:.2f}×)  ≤ 400 MB {ok}"
        )
    # Every run, in the order run: the medians above are of these (a shared machine's speed
    # moves between runs; a ratio per round shows how far).
    print("\neach round, wall s (Jixiao / reference = ratio)")
    for case in cases:
        rounds = zip(case.runs["jixiao"], case.runs["reference"], strict=True)
        each = "  ".join(f"{j[0]:.2f}/{r[0]:.2f}={j[0] / r[0]:.2f}" for j, r in rounds)
        print(f"{case.name:<14}{each}")
    fixed = next((c for c in cases if c.facts == SIZES["100k"]), None)
    if fixed is not None:
        jw, jc, _ = medians(fixed, "jixiao")
        # CPU beside wall: on a shared machine the wall time measures the others' load too
        verdict = " ".join(
            f"{w} {'PASS' if t < 1.5 else 'MISS'}" for w, t in (("wall", jw), ("CPU", jc))
        )
        print(
            f"\nfixed cost: one quarter at 100k facts {jw:.2f} s (CPU {jc:.2f})  < 1.5 s {verdict}"
        )


def main(argv: list[str] | None = None) -> None:
    """Verifies identity, then measures and prints the ratios."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="100k facts and the examples only")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    ap.add_argument("--record", action="store_true", help="record Jixiao's output digests")
    ap.add_argument(
        "--case", action="append", help="only these cases (1M-2025, 4M-2025Q1, ...; repeatable)"
    )
    a = ap.parse_args(argv)
    wanted = [c for c in CASES if not a.quick or c[0] == "100k"]
    if a.case:
        wanted = [c for c in wanted if f"{c[0]}-{c[1]}" in a.case]
    cases = [Case(f"{s}-{p}", ensure(s), p, SIZES[s]) for s, p in wanted]
    # The project's modules byte-compiled, as an installed package's are (`scripts/setup` does
    # it too): otherwise, with PYTHONDONTWRITEBYTECODE set, each run compiles them again.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "app", "dsl"], cwd=ROOT, check=True)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print("identity (every subject, both sides):", flush=True)
    verify(examples() + cases, a.record)
    measure(cases, a.rounds)
    report(cases)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
