"""`jixiao audit verify` (walk the hash chains of facts and audit entries) and `jixiao audit log`
(the audit trail, filtered). The group is `trail`: `app.cli.audit` is the group of `diff` and
`impact`, commands of their own, so the names do not meet on the command line."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any


def _time(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a date or time: {text!r}") from e
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def cmd_verify(args: argparse.Namespace) -> int:
    """`jixiao audit verify`: exit 0 when both chains hold, 1 naming the first bad row."""
    from app.services import trail
    from app.store.db import make_engine

    got = trail.verify(make_engine())
    for p in got.problems:
        print(f"jixiao: {p}", file=sys.stderr)
    counts = ", ".join(f"{n} {table}" for table, n in got.rows.items())
    print(f"{'chains hold' if got.ok else 'TAMPERED'}: {counts} walked")
    return 0 if got.ok else 1


def cmd_log(args: argparse.Namespace) -> int:
    """`jixiao audit log [--actor A] [--kind K] [--since T] [--until T]`: one JSON line each."""
    from app import exactjson
    from app.errors import AppError
    from app.services import trail
    from app.store.db import make_engine

    engine = make_engine()
    after, left = 0, args.limit
    try:
        while left is None or left > 0:
            page: dict[str, Any] = trail.log(
                engine,
                actor=args.actor,
                kind=args.kind,
                since=args.since,
                until=args.until,
                after=after,
                limit=trail.MAX_PAGE if left is None else min(left, trail.MAX_PAGE),
            )
            for e in page["entries"]:
                print(exactjson.dumps(e))
            if left is not None:
                left -= len(page["entries"])
            if page["next"] is None:
                break
            after = page["next"]
    except AppError as e:
        print(f"jixiao: {e}", file=sys.stderr)
        return 1
    return 0


def register(sub: Any) -> None:
    """Adds `audit verify` and `audit log`."""
    p = sub.add_parser("audit", help="the audit trail: verify its hash chains, read it")
    acts = p.add_subparsers(dest="action", required=True)
    q = acts.add_parser("verify", help="walk the chains of facts and audit entries")
    q.set_defaults(func=cmd_verify)
    q = acts.add_parser("log", help="the audit trail as JSON lines, oldest first")
    q.add_argument("--actor", help="a token's name (or a local user)")
    q.add_argument("--kind", help="a kind (fact.retract), or a family (facts.*)")
    q.add_argument("--since", type=_time, help="from this time (ISO 8601; UTC if no zone)")
    q.add_argument("--until", type=_time, help="before this time")
    q.add_argument("--limit", type=int, help="at most this many entries")
    q.set_defaults(func=cmd_log)
