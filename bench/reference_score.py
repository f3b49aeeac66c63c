"""Scores a facts file with the hand-vectorised reference of the 2025 rules (bench/refscore).

    python bench/reference_score.py --org ORG --facts FACTS --period 2025Q1 > results.json

Prints the results as `jixiao score ... --format json` prints them, but for the ruleset's
digest, which only Jixiao's compiler knows.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from refscore.score import score


def main(argv: list[str] | None = None) -> int:
    """Command line: organisation, facts and period; the results JSON on stdout."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--org", type=Path, required=True)
    ap.add_argument("--facts", type=Path, required=True)
    ap.add_argument("--period", required=True, help="2025 or 2025Qn")
    a = ap.parse_args(argv)
    out = json.dumps(score(a.org, a.facts, a.period), ensure_ascii=False, indent=1)
    sys.stdout.write(out + "\n")
    sys.stdout.flush()
    os._exit(0)  # nothing to free: the process ends here


if __name__ == "__main__":
    sys.exit(main())
