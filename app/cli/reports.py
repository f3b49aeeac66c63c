"""`jixiao report feedback`: a unit's feedback report (绩效反馈报告) as JSON, a printable
page or PDF, or every unit's at once into a folder."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from app.cli.analysis import _common, source
from app.cli.db import _day
from dsl.syntax.errors import DslError


def cmd_feedback(args: argparse.Namespace) -> int:
    """`jixiao report feedback --period P (--subject S | --all --out DIR) --format F`."""
    from dsl.analysis.feedback import all_feedback, feedback, shared, subjects
    from dsl.analysis.render import render_html, render_pdf, write_all

    src = source(args)
    sh = shared(src, args.period, args.as_of)
    cycle = None
    if args.db:  # the state of the period's results (files are always a draft)
        from app.services.analysis import cycle_state

        cycle = cycle_state(src, args.period)
    if args.all:
        if args.out is None:
            raise DslError("--all writes a folder: give --out DIR")
        start = time.perf_counter()
        reports = all_feedback(sh, cycle)
        print(f"{len(reports)} report(s) of {args.period} made", file=sys.stderr)
        paths = write_all(reports, args.out, args.format, args.jobs, _progress(start))
        print(f"wrote {len(paths)} file(s) to {args.out}", file=sys.stderr)
        return 0
    if args.subject is None:
        raise DslError("give --subject ID, or --all")
    if args.subject not in subjects(sh):
        raise DslError(f"no unit scorecard scores '{args.subject}' in {args.period}")
    report = feedback(sh, args.subject, cycle)
    if args.format == "pdf":
        body = render_pdf(report)
        if args.out is None:
            sys.stdout.buffer.write(body)
        else:
            args.out.write_bytes(body)
        return 0
    import json

    text = (
        render_html(report)
        if args.format == "html"
        else json.dumps(report, ensure_ascii=False, indent=1)
    )
    if args.out is None:
        print(text)
    else:
        args.out.write_text(text, encoding="utf-8")
    return 0


def _progress(start: float) -> Any:
    def show(done: int, total: int) -> None:
        if done == total or done % 10 == 0:
            took = time.perf_counter() - start
            print(f"  {done}/{total} written ({took:.1f} s)", file=sys.stderr)

    return show


def register(sub: Any) -> None:
    """Adds `report feedback` to the `jixiao` parser."""
    group = sub.add_parser("report", help="feedback reports (绩效反馈报告)")
    inner = group.add_subparsers(dest="report", required=True)
    p = inner.add_parser("feedback", help="a unit's feedback report, or every unit's")
    _common(p)
    one = p.add_mutually_exclusive_group(required=True)
    one.add_argument("--subject", help="a unit id")
    one.add_argument("--all", action="store_true", help="every unit, into the folder --out")
    p.add_argument("--format", choices=("json", "html", "pdf"), default="json")
    p.add_argument("--out", type=Path, help="a file (one report) or a folder (--all)")
    p.add_argument("--as-of", type=_day, help="a day in the next period: its warnings too")
    cpus = os.cpu_count() or 1
    p.add_argument(
        "--jobs",
        type=int,
        default=cpus,
        help=f"processes rendering PDFs (default: one per CPU, {cpus})",
    )
    p.set_defaults(func=cmd_feedback)
