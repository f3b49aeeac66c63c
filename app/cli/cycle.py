"""`jixiao cycle publish|approve|reopen|status`, `jixiao appeal file|list|show|rule` and
`jixiao webhooks deliver|list` on the database (docs/cycle.md).

The command line acts with the database's own authority, as an admin named by JIXIAO_USER (or
the login name), like `jixiao token create`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app import exactjson
from app.cli.db import who
from app.errors import AppError, Invalid
from app.services import cycles, rulesets, webhooks
from app.services.tokens import Principal
from app.store.db import make_engine
from dsl.compile.ir import CompiledRuleset
from dsl.facts.periods import Period


def _fail(e: AppError) -> int:
    print(f"jixiao: {e}", file=sys.stderr)
    for d in e.details:
        print(f"  {d.get('field', '')}: {d.get('message', '')}", file=sys.stderr)
    return 1


def _actor() -> cycles.Actor:
    name = who()
    return cycles.Actor(Principal(None, name, "admin"), name)


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


def resolve(engine: Engine, ref: str | None, period: Period) -> CompiledRuleset:
    """A ruleset folder (registered on the way), a year (its latest registered ruleset) or a
    registered digest; none: the latest of the period's year."""
    ref = ref or str(period.year)
    if Path(ref).is_dir():
        return rulesets.register_path(engine, Path(ref), who())
    if len(ref) == 4 and ref.isdigit():
        with Session(engine) as session:
            digest = rulesets.latest_for_year(session, int(ref))
        if digest is None:
            raise Invalid(f"no ruleset of {ref} is registered; name its folder with --ruleset")
        return rulesets.load(engine, digest)
    return rulesets.load(engine, ref)


def _print(payload: Any) -> None:
    print(exactjson.dumps(payload) if not isinstance(payload, str) else payload)


def _show_cycle(st: dict[str, Any]) -> str:
    lines = [
        f"cycle {st['period']} (ruleset {st['ruleset'][:12]}): {st['state']}"
        + (f", notice until {st['notice_until']}" if st.get("notice_until") else "")
        + (f", receipt {st['receipt']}" if st.get("receipt") else "")
    ]
    for h in st.get("history", []):
        why = f" — {h['why']}" if h.get("why") else ""
        lines.append(f"  {h['at']}  {h['kind']:<16} {h['by']} ({h['role']}){why}")
    for a in st.get("appeals", []):
        lines.append(f"  appeal {a['id']} {a['subject']}: {a['state']} — {a['reason']}")
    return "\n".join(lines)


def cmd_cycle(args: argparse.Namespace) -> int:
    """`jixiao cycle publish|approve|reopen|status PERIOD [--ruleset R]`."""
    engine = make_engine()
    try:
        compiled = resolve(engine, args.ruleset, args.period)
        if args.action == "publish":
            got = cycles.publish(engine, compiled, args.period, _actor(), args.notice_days)
        elif args.action == "approve":
            got = cycles.approve(engine, compiled, args.period, _actor())
        elif args.action == "reopen":
            if not args.reason:
                raise Invalid("reopening needs --reason")
            got = cycles.reopen(engine, compiled, args.period, _actor(), args.reason)
        else:
            got = cycles.status(engine, compiled.digest, args.period)
            if not args.json:
                _print(_show_cycle(got))
                return 0
    except AppError as e:
        return _fail(e)
    _print(got)
    return 0


def _corrections(path: Path | None) -> list[Any]:
    """A ruling's corrections from a JSON file (a list); Invalid naming the file otherwise."""
    if path is None:
        return []
    try:
        got = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise Invalid(f"{path}: not JSON ({e})") from e
    if not isinstance(got, list):
        raise Invalid(f"{path}: a JSON list of corrections is needed")
    return got


def cmd_appeal(args: argparse.Namespace) -> int:
    """`jixiao appeal file|list|show|rule`."""
    engine = make_engine()
    try:
        if args.action == "file":
            compiled = resolve(engine, args.ruleset, args.period)
            body = {
                "subject": args.subject,
                "indicator": args.indicator,
                "facts": args.facts or [],
                "reason": args.reason,
                "evidence": args.evidence,
            }
            got: Any = cycles.file_appeal(engine, compiled, args.period, _actor(), body)
        elif args.action == "list":
            got = {"appeals": cycles.list_appeals(engine, args.state, args.subject)}
        elif args.action == "show":
            got = cycles.get_appeal(engine, args.id)
        else:
            corrections = _corrections(args.corrections)
            body = {"decision": args.decision, "reason": args.reason, "corrections": corrections}
            got = cycles.rule(engine, lambda d: rulesets.load(engine, d), args.id, _actor(), body)
    except AppError as e:
        return _fail(e)
    _print(got)
    return 0


def cmd_webhooks(args: argparse.Namespace) -> int:
    """`jixiao webhooks deliver` (once) and `jixiao webhooks list`."""
    engine = make_engine()
    if args.action == "list":
        _print({"subscriptions": webhooks.listing(engine)})
        return 0
    sent = webhooks.deliver_due(engine)
    print(f"delivered {sent.delivered}, to retry {sent.retried}, failed {sent.failed}")
    return 0


def register(sub: Any) -> None:
    """Adds `cycle`, `appeal` and `webhooks` to the `jixiao` parser."""
    p = sub.add_parser("cycle", help="the evaluation cycle: publish, approve, reopen, status")
    p.add_argument("action", choices=("publish", "approve", "reopen", "status"))
    p.add_argument("period", type=_period, help="YYYYQn or YYYY")
    p.add_argument("--ruleset", help="a ruleset folder, a year (default: the period's) or digest")
    p.add_argument("--notice-days", type=int, help="publish: the notice period (default 5)")
    p.add_argument("--reason", help="reopen: why")
    p.add_argument("--json", action="store_true", help="status: as JSON")
    p.set_defaults(func=cmd_cycle)

    p = sub.add_parser("appeal", help="appeals: file, list, show, rule")
    acts = p.add_subparsers(dest="action", required=True)
    q = acts.add_parser("file", help="file an appeal against a published result")
    q.add_argument("period", type=_period)
    q.add_argument("--ruleset")
    q.add_argument("--subject", required=True)
    q.add_argument("--indicator")
    q.add_argument("--facts", nargs="*", help="ids of the facts disputed")
    q.add_argument("--reason", required=True)
    q.add_argument("--evidence", help="the evidence's reference (文号)")
    q = acts.add_parser("list", help="list appeals")
    q.add_argument("--state", choices=("open", "upheld", "rejected"))
    q.add_argument("--subject")
    q = acts.add_parser("show", help="one appeal with its ruling")
    q.add_argument("id", type=int)
    q = acts.add_parser("rule", help="rule on an appeal (upheld or rejected)")
    q.add_argument("id", type=int)
    q.add_argument("decision", choices=cycles.DECISIONS)
    q.add_argument("--reason", required=True)
    q.add_argument("--corrections", type=Path, help="a JSON file: the list of corrections")
    p.set_defaults(func=cmd_appeal)

    p = sub.add_parser("webhooks", help="webhooks: deliver due events once, list subscribers")
    p.add_argument("action", choices=("deliver", "list"))
    p.set_defaults(func=cmd_webhooks)
