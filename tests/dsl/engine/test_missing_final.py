"""A final that cannot be computed is listed missing; it does not stop the others' scoring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dsl.helpers import HANDWORKED, RULES_2025, run_cli


def _org_with_a_clerk_outside_any_county(tmp_path: Path) -> Path:
    org = json.loads((HANDWORKED / "org.json").read_text(encoding="utf-8"))
    # A person of a municipal department: no county bureau above them, so the 2025 person
    # final, which reads `county[ancestor(county_bureau)].final`, has nothing to read.
    org["persons"].append(
        {
            "id": "hy-office-1",
            "name": "赵强",
            "unit": "hy-office",
            "attrs": {"post": "clerk", "workload": 100},
        }
    )
    path = tmp_path / "org.json"
    path.write_text(json.dumps(org, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("period", ["2025Q1", "2025"])
def test_a_final_without_its_reference_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], period: str
) -> None:
    org = _org_with_a_clerk_outside_any_county(tmp_path)
    code, out, err = run_cli(
        capsys, "score", RULES_2025, "--org", org, "--facts", HANDWORKED / "facts.jsonl",
        "--period", period, "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    rows = {r["subject"]: r for r in json.loads(out)["results"]}
    clerk = rows["hy-office-1"]
    assert clerk["final"] is None
    assert clerk["rank"] is None and clerk["grade"] is None
    expected = json.loads((HANDWORKED / f"expected-{period}.json").read_text(encoding="utf-8"))
    for row in expected["results"]:  # everyone else is scored exactly as before
        assert rows[row["subject"]]["final"] == row["final"]
        if "rank" in row:
            assert rows[row["subject"]]["rank"] == row["rank"]
    if period == "2025Q1":
        assert "final" in clerk["missing"]
        assert clerk["base"] is not None  # what could be computed still is
