"""Evaluations made before anyone asks for them: the warnings the home page and the warnings
page open on (the newest quarter with facts, as of today), scored and stored
(`app.services.stored`) so that the first person to open them, in any process of the service,
reads them back instead of waiting for the quarters to be scored.

`warm` does the work, once: `jixiao analysis warm` runs it. `Warmer` runs that command beside
the server (`jixiao serve`, unless `--no-warm`), in a process of its own so that its scoring
never holds up a request in the server's: once at start, again when the recorded facts or the
organisation changed and then stayed unchanged for `quiet` seconds (a burst of facts is warmed
once, at its end), and again when the day changes. What it stores is valid for one watermark,
exactly as the service's own evaluations are; a request arriving while the warmer runs scores
for itself (it waits for nothing).
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.services import analysis
from app.services.cache import Watermark, read_watermark

log = logging.getLogger("jixiao.warm")

QUIET = 30.0  # seconds without a change before a burst of facts is warmed
INTERVAL = 5.0  # seconds between looks at the watermark
TIMEOUT = 30 * 60.0  # the longest one warming may take
WARM_PARENT_ENV = "JIXIAO_WARM_PARENT"  # the server's process id, given to the warming one


@dataclass(frozen=True)
class Warmed:
    """One period made ready: its warnings as of a day, and how long that took."""

    ruleset: str
    period: str
    as_of: str
    warnings: int
    seconds: float

    def as_json(self) -> dict[str, Any]:
        """`{"ruleset", "period", "as_of", "warnings", "seconds"}`."""
        return {
            "ruleset": self.ruleset,
            "period": self.period,
            "as_of": self.as_of,
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
        }


def warm(src: analysis.DbSource, today: date) -> list[Warmed]:
    """Scores and stores what the warnings of the newest quarter with facts begun by `today`
    read as of `today` (the quarter as of the day, the year's quarters before it whole) and
    its risk grades, as the home page and the warnings page ask for them; what was made
    ready. Nothing when no such quarter has facts."""
    q = analysis.latest_quarter(src, today)
    if q is None:
        return []
    day = analysis.day_in(q, today)
    loaded = src.loaded(q)
    assert loaded is not None  # latest_quarter looks at the rulesets in service only
    t0 = time.perf_counter()
    body = analysis.warnings(src, q, day)
    analysis.risk(src, q, day, None, None)  # the same evaluations: kept beside them
    count = len(orjson.loads(body)["warnings"])
    took = time.perf_counter() - t0
    return [Warmed(loaded.compiled.digest, str(q), str(day), count, took)]


def said(line: str) -> str:
    """What a line of `jixiao analysis warm` tells a person: the period, day, warnings, time."""
    try:
        got = orjson.loads(line)
        return (
            f"warmed {got['period']} as of {got['as_of']}: {got['warnings']} warnings "
            f"in {got['seconds']:.1f} s"
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return f"warmed: {line}"


def current(engine: Engine) -> Watermark | None:
    """The database's watermark, or None when it cannot be read (logged)."""
    try:
        with Session(engine) as session, session.begin():
            return read_watermark(session)
    except SQLAlchemyError as e:
        log.warning("warming: the watermark could not be read: %s", e)
        return None


class Warmer:
    """Runs `command` (`jixiao analysis warm`) at start, after each burst of changes once
    `quiet` seconds passed without another, and when the day changes; one run at a time, in
    a thread beside the server."""

    def __init__(
        self,
        engine: Engine,
        command: Sequence[str],
        quiet: float = QUIET,
        interval: float = INTERVAL,
        env: dict[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], date] = date.today,
        say: Callable[[str], None] = log.info,
    ) -> None:
        self.engine, self.command, self.env = engine, list(command), env
        self.quiet, self.interval = quiet, interval
        self.clock, self.today, self.say = clock, today, say
        self.done: tuple[Watermark, date] | None = None  # what was last warmed
        self.seen: Watermark | None = None  # the watermark last looked at, and since when
        self.since = 0.0
        self.runs = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jixiao-warm", daemon=True)

    def due(self, wm: Watermark) -> bool:
        """True when the state `wm` (of today) should be warmed now: never warmed, the day
        changed, or the watermark moved and has not moved for `quiet` seconds."""
        now = self.clock()
        if wm != self.seen:
            self.seen, self.since = wm, now
        if self.done is None:
            return True
        done_wm, done_day = self.done
        if done_day != self.today():
            return True
        return wm != done_wm and now - self.since >= self.quiet

    def step(self) -> bool:
        """One look at the database, and one run of the command if due; True if it ran."""
        wm = current(self.engine)
        if wm is None or not self.due(wm):
            return False
        day = self.today()
        self.runs += 1
        try:
            env = {**(self.env if self.env is not None else os.environ)}
            env[WARM_PARENT_ENV] = str(os.getpid())
            proc = subprocess.Popen(
                self.command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as e:
            log.warning("warming could not start: %s", e)
        else:
            self._proc = proc
            try:
                out, err = proc.communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                log.warning("warming took over %.0f s: stopped", TIMEOUT)
            else:
                if proc.returncode == 0:
                    for line in out.decode(errors="replace").splitlines():
                        self.say(said(line))
                elif not self._stop.is_set():
                    tail = err.decode(errors="replace").strip().splitlines()[-5:]
                    log.warning("warming failed (exit %s): %s", proc.returncode, " / ".join(tail))
            finally:
                self._proc = None
        # Warmed (or tried) for the state looked at: a failure is not retried until it changes.
        self.done = (wm, day)
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # never let the thread die: the next look tries again
                log.exception("warming")
            self._stop.wait(self.interval)

    def start(self) -> None:
        """Starts looking (the first run at once)."""
        self._thread.start()

    def stop(self) -> None:
        """Stops looking, and a run under way (its process is killed: what it stored so far
        stays, what it had not stored is made by whoever asks)."""
        self._stop.set()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
