"""What `jixiao score` costs across its processes: CPU of each, memory counted honestly.

    python bench/bench_processes.py                      # the 1M quarter and year, 3 rounds
    python bench/bench_processes.py --case 1M-2025 --rounds 5 --one

A large facts file is read by two processes (`dsl.facts.split`): wall time then hides the
second process's CPU, and `ru_maxrss` (the largest of the processes) its memory. This runs the
command and samples its processes every few milliseconds from /proc: each one's own CPU
(`utime + stime`), its peak resident memory (`VmHWM`), and the sum of their proportional set
sizes (`Pss`: a page two processes share counts half in each) at each sample, whose highest is
the honest peak of the whole. With `--one` each case also runs with `JIXIAO_PROCESSES=1`,
interleaved, the order alternating; with `--before DIR`, another tree's code too (a copy of
main: `git archive main | tar -x -C DIR`). Linux only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROVINCE = {"1M": ROOT / "bench" / "out" / "province"}
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    """One command's figures."""

    wall: float = 0.0
    cpu: float = 0.0  # user + system of every process (wait4 counts reaped children)
    own: dict[int, float] = field(default_factory=dict)  # pid: its own CPU, last seen
    hwm: dict[int, int] = field(default_factory=dict)  # pid: VmHWM in kB, last seen
    pss: int = 0  # kB: the highest sum over the processes at one sample
    pss_of: dict[int, int] = field(default_factory=dict)  # pid: its highest Pss in kB


def _status(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _pss(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as fh:
        for line in fh:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def _own_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _children(pid: int) -> list[int]:
    """Every process `pid` started and those they started, in turn (a child's own child
    too: its memory and CPU are the command's)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            direct = [int(x) for x in fh.read().split()]
    except OSError:
        return []
    return [p for child in direct for p in (child, *_children(child))]


def run(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> Run:
    """Runs the command (output discarded), sampling its processes until it ends."""
    got = Run()
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=env, cwd=cwd)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        total = 0
        for p in [proc.pid, *_children(proc.pid)]:
            try:
                # (the last sample of a process may find it ended: figures only grow)
                got.hwm[p] = max(got.hwm.get(p, 0), _status(p))
                got.own[p] = max(got.own.get(p, 0.0), _own_cpu(p))
                pss = _pss(p)
                got.pss_of[p] = max(got.pss_of.get(p, 0), pss)
                total += pss
            except (OSError, ValueError):  # ended meanwhile
                continue
        got.pss = max(got.pss, total)
        time.sleep(0.004)
    got.wall = time.perf_counter() - t0
    got.cpu = usage.ru_utime + usage.ru_stime
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return got


def argv_of(case: str, tree: Path | None = None) -> list[str]:
    """`jixiao score` of a case (`1M-2025Q1`), by this tree's code or another's (`tree`, run
    by this tree's Python as the console script runs it)."""
    size, period = case.split("-")
    folder = PROVINCE[size]
    files = ["--org", str(folder / "org.json"), "--facts", str(folder / "facts.jsonl")]
    args = ["score", str(ROOT / "rules" / "2025"), *files, "--period", period]
    if tree is None:
        return [str(ROOT / ".venv" / "bin" / "jixiao"), *args]
    # (run in `tree`, whose modules `-c` then imports first)
    script = "import sys; sys.argv[0] = 'jixiao'; from app.cli import run; run()"
    return [sys.executable, "-c", script, *args]


def show(case: str, label: str, runs: list[Run]) -> None:
    """Medians of a case's runs."""
    med = statistics.median
    main = [r.own.get(min(r.own), 0.0) for r in runs]
    others = [sum(v for p, v in r.own.items() if p != min(r.own)) for r in runs]
    hwm_main = [r.hwm[min(r.hwm)] / 1024 for r in runs]
    hwm_sum = [sum(r.hwm.values()) / 1024 for r in runs]
    wall, cpu = med(r.wall for r in runs), med(r.cpu for r in runs)
    print(
        f"{case:<11}{label:<8}wall {wall:5.2f} s  CPU {cpu:5.2f} s"
        f" (main {med(main):.2f}, child {med(others):.2f})  VmHWM main {med(hwm_main):4.0f} MB,"
        f" sum {med(hwm_sum):4.0f} MB  peak Pss sum {med(r.pss for r in runs) / 1024:4.0f} MB"
        f" (main {med(r.pss_of[min(r.pss_of)] for r in runs) / 1024:.0f})"
        f"  processes {max(len(r.own) for r in runs)}"
    )


def main(argv: list[str] | None = None) -> None:
    """Runs the cases in interleaved rounds and prints the medians."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--case", action="append", help="1M-2025Q1, 1M-2025 (repeatable)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--one", action="store_true", help="also with JIXIAO_PROCESSES=1")
    ap.add_argument("--before", type=Path, help="also another tree's code (e.g. main's)")
    a = ap.parse_args(argv)
    cases = a.case or ["1M-2025Q1", "1M-2025"]
    subprocess.run([sys.executable, "-m", "compileall", "-q", "app", "dsl"], cwd=ROOT, check=True)
    two = dict(os.environ)
    two.pop("JIXIAO_PROCESSES", None)
    envs = {"two": two}
    if a.one:
        envs["one"] = {**two, "JIXIAO_PROCESSES": "1"}
    if a.before:
        before = a.before.resolve()
        subprocess.run([sys.executable, "-m", "compileall", "-q", "app", "dsl"], cwd=before)
        envs["before"] = {**two, "PYTHONPATH": str(before)}
    runs: dict[tuple[str, str], list[Run]] = {}
    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}", flush=True)
    for i in range(a.rounds):
        for case in cases:
            order = list(envs) if i % 2 == 0 else list(reversed(envs))
            for label in order:
                tree = a.before if label == "before" else None
                got = run(argv_of(case, tree), envs[label], tree)
                runs.setdefault((case, label), []).append(got)
        print(f"  round {i + 1}/{a.rounds} done, load {os.getloadavg()[0]:.1f}", flush=True)
    for (case, label), each in runs.items():
        show(case, label, each)


if __name__ == "__main__":
    main()
