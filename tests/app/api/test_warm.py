"""Warming (`app.services.warm`, `jixiao analysis warm`, the server's `Warmer`): the warnings
the home page opens on are scored and stored ahead, so that a process starting cold reads them
back; the warmer runs at start, once after a burst of changes, and when the day changes."""

from __future__ import annotations

import json
import logging
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cli import main as jixiao
from app.services import analysis, stored
from app.services.cache import ScoreCache, Watermark
from app.services.warm import WARM_PARENT_ENV, Warmer, said, warm
from app.store.models import AuditEntry, Ruleset, StoredEvaluation
from dsl.facts.periods import Period
from tests.app.api.conftest import Client, load_example
from tests.conftest import REPO_ROOT

Q1, Q2 = Period(2025, 1), Period(2025, 2)
DAY = date(2025, 5, 20)


def fresh(api: Client, keep: bool = True) -> analysis.DbSource:
    """A new process's view of the database: an empty cache."""
    svc = api.app.state.services
    return analysis.DbSource(ScoreCache(svc.engine, keep=keep), svc.registry)


def test_warm_stores_what_the_first_warnings_read(api: Client) -> None:
    load_example(api, "random-2025")
    src = fresh(api, keep=False)  # as made without storing: the old way, for comparison
    before = analysis.warnings(src, Q2, DAY)
    risk = analysis.risk(src, Q2, DAY, None, None)
    # The random example has facts in every quarter of 2025: on 20 May the newest quarter
    # begun is Q2, read as of that day.
    got = warm(fresh(api), DAY)
    assert [(w.period, w.as_of, w.warnings) for w in got] == [
        ("2025Q2", "2025-05-20", len(json.loads(before)["warnings"]))
    ]
    svc = api.app.state.services
    with Session(svc.engine) as session:
        rows = session.execute(select(StoredEvaluation.period, StoredEvaluation.as_of)).all()
    assert sorted(rows) == [("2025Q1", ""), ("2025Q2", str(DAY))]
    cold = fresh(api)  # the first request of a new process: nothing scored, the same bytes
    assert analysis.warnings(cold, Q2, DAY) == before
    assert analysis.risk(cold, Q2, DAY, None, None) == risk
    assert (cold.cache.fills, cold.cache.restored) == (0, 2)
    # After the year's end the newest quarter is Q4, read at its last day (scored whole).
    late = warm(fresh(api), date(2026, 2, 1))
    assert [(w.period, w.as_of) for w in late] == [("2025Q4", "2025-12-31")]


def test_warm_with_no_facts_makes_nothing(api: Client) -> None:
    assert warm(fresh(api), DAY) == []


def test_warm_command_stores_for_the_configured_database(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from app.store.db import make_engine
    from tests.app.api.conftest import make_app, token

    url = sqlite_url
    app = make_app(url)
    load_example(Client(app, token(app, "admin")), "random-2025")
    svc = app.state.services
    made = analysis.warnings(analysis.DbSource(ScoreCache(svc.engine), svc.registry), Q2, DAY)
    svc.engine.dispose()
    monkeypatch.setenv("JIXIAO_DATABASE_URL", url)
    monkeypatch.setenv("JIXIAO_RULES", str(REPO_ROOT / "rules"))
    engine = make_engine(url)

    def recorded() -> tuple[int, int]:
        with Session(engine) as session:
            entries = session.execute(select(func.count(AuditEntry.id))).scalar_one()
            sets = session.execute(select(func.count(Ruleset.digest))).scalar_one()
            return entries, sets

    before = recorded()
    assert jixiao(["analysis", "warm", "--as-of", "2025-05-20"]) == 0
    assert recorded() == before  # it scores and stores; it records nothing in the trail
    (line,) = capsys.readouterr().out.splitlines()
    assert {k: v for k, v in json.loads(line).items() if k != "seconds"} == {
        "ruleset": svc.registry.for_year(2025).compiled.digest,
        "period": "2025Q2",
        "as_of": "2025-05-20",
        "warnings": len(json.loads(made)["warnings"]),
    }
    with Session(engine) as session:
        assert session.execute(select(StoredEvaluation.as_of)).scalars().all().count("") == 1
    stored.clear(engine)
    monkeypatch.setenv("JIXIAO_RULES", str(tmp_path / "none"))
    assert jixiao(["analysis", "warm"]) == 1  # no rules folder: said, not a traceback
    assert "no rules folder" in capsys.readouterr().err


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.day = date(2025, 5, 20)

    def __call__(self) -> float:
        return self.now


def test_warmer_runs_at_start_after_a_quiet_burst_and_on_a_new_day(api: Client) -> None:
    svc = api.app.state.services
    clock = Clock()
    w = Warmer(svc.engine, ["true"], quiet=30, clock=clock, today=lambda: clock.day)
    a, b, c = Watermark(10, 0, 1), Watermark(12, 0, 1), Watermark(15, 0, 1)
    assert w.due(a)  # never warmed: at once
    w.done = (a, clock.day)
    clock.now = 100
    assert not w.due(a)  # nothing changed
    assert not w.due(b)  # facts arrive: wait for the burst to end
    clock.now = 120
    assert not w.due(c)  # more arrive 20 s later: the quiet time starts again
    clock.now = 149
    assert not w.due(c)
    clock.now = 150
    assert w.due(c)  # 30 s without a change
    w.done = (c, clock.day)
    clock.day = date(2025, 5, 21)
    assert w.due(c)  # a new day: today's warnings are another day's


def test_what_a_warming_says() -> None:
    line = '{"ruleset": "ab", "period": "2025Q2", "as_of": "2025-05-20", "warnings": 7, '
    assert said(line + '"seconds": 1.234}') == "warmed 2025Q2 as of 2025-05-20: 7 warnings in 1.2 s"
    assert said("not json") == "warmed: not json"


def test_warmer_step_runs_the_command_once_per_state(
    api: Client, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import os

    svc = api.app.state.services
    seen = tmp_path / "parent"
    script = f"import os; open({str(seen)!r}, 'w').write(os.environ[{WARM_PARENT_ENV!r}])"
    w = Warmer(svc.engine, [sys.executable, "-c", script], quiet=0)
    assert w.step() and w.runs == 1
    assert seen.read_text() == str(os.getpid())  # told whose death to end with
    assert not w.step() and w.runs == 1  # the same state: not again
    load_example(api, "handworked")  # the watermark moves
    assert w.step() and w.runs == 2
    failing = Warmer(svc.engine, [sys.executable, "-c", "import sys; sys.exit('no luck')"])
    with caplog.at_level(logging.WARNING, logger="jixiao.warm"):
        assert failing.step()
    assert "warming failed (exit 1): no luck" in caplog.text
    assert not failing.step()  # a failure is not retried until something changes
    missing = Warmer(svc.engine, [str(tmp_path / "no-such-command")])
    with caplog.at_level(logging.WARNING, logger="jixiao.warm"):
        assert missing.step()
    assert "warming could not start" in caplog.text
