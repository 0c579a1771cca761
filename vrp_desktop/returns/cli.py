"""``vrp return export`` and ``vrp export``: the quarterly return and the record-level export."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _progress(label: str, done: int, total: int) -> None:
    if sys.stderr.isatty():
        suffix = f" {done:,}/{total:,}" if total else ""
        print(f"\r{label}{suffix}\033[K", end="", file=sys.stderr, flush=True)


def cmd_return_export(args: argparse.Namespace) -> int:
    from vrp_desktop.cli import open_workspace
    from vrp_desktop.returns import workbook
    from vrp_desktop.returns.quarters import last_complete, parse_quarter

    quarter = parse_quarter(args.quarter) if args.quarter else last_complete()
    started = time.perf_counter()
    with open_workspace(args) as ws:
        data, path = workbook.export_return(
            ws,
            quarter,
            Path(args.out),
            threshold=args.threshold,
            progress=_progress,
            sent_only=args.sent_only,
        )
    if sys.stderr.isatty():
        print(file=sys.stderr)
    took = time.perf_counter() - started
    print(f"{data.title} written to {path} in {took:.1f} s.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from vrp_desktop.cli import open_workspace
    from vrp_desktop.returns.export import export_records

    started = time.perf_counter()
    with open_workspace(args) as ws:
        counts = export_records(
            ws, Path(args.out), with_identifiers=args.with_identifiers, progress=_progress
        )
    if sys.stderr.isatty():
        print(file=sys.stderr)
    took = time.perf_counter() - started
    what = "with identifiers" if args.with_identifiers else "pseudonymised"
    print(
        f"Exported ({what}) "
        + ", ".join(f"{n:,} {name.lower()}" for name, n in counts.items())
        + f" to {args.out} in {took:.1f} s."
    )
    if args.with_identifiers:
        print("This file identifies young people: keep it encrypted and delete it when done.")
    return 0


def register(subparsers, workspace_args) -> None:
    returns = subparsers.add_parser("return", help="quarterly returns").add_subparsers(
        dest="sub", required=True
    )
    p = returns.add_parser(
        "export",
        help="write the quarterly return workbook (the partnership return in a coordinator "
        "workspace)",
    )
    workspace_args(p)
    p.add_argument(
        "--quarter",
        help='UK financial quarter, e.g. "2026-27 Q3" (default: the last complete quarter)',
    )
    p.add_argument("--out", required=True, help="the .xlsx file to write")
    p.add_argument(
        "--threshold",
        type=int,
        default=None,
        help="hide counts of people below this (default: the partnership's rule in the "
        "framework pack, usually 5: 1-4 shown as <5; 1 = no suppression)",
    )
    p.add_argument(
        "--sent-only",
        action="store_true",
        help="count only the records sent to the VRP (the return then agrees cell for cell "
        "with the partnership return's column for this provider)",
    )
    p.set_defaults(handler=cmd_return_export)

    p = subparsers.add_parser("export", help="record-level export (.xlsx), pseudonymised")
    workspace_args(p)
    p.add_argument("--out", required=True, help="the .xlsx file to write")
    p.add_argument(
        "--with-identifiers",
        action="store_true",
        help="include names, dates of birth, contacts and free text (managers only)",
    )
    p.set_defaults(handler=cmd_export)
