"""``vrp evaluation export``: the oversight group's evaluation pack (workbook, optional PDF)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _progress(label: str, done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(f"\r{label}\033[K", end="", file=sys.stderr, flush=True)


#: where the desktop app registers the function that draws the PDF (it needs Qt, which the core
#: never imports): an entry point in pyproject.toml, so this package never names ``ui``
PDF_WRITERS = "vrp_desktop.pdf_writers"


def _pdf_writer():
    """The installed PDF writer, loaded only when a PDF is asked for."""
    from importlib.metadata import entry_points

    from vrp_desktop.errors import VrpError

    found = [e for e in entry_points(group=PDF_WRITERS) if e.name == "evaluation"]
    try:
        return found[0].load()
    except (IndexError, ImportError) as exc:  # a core-only install
        raise VrpError(
            "Drawing the PDF needs the desktop app's Qt libraries, which are not installed "
            "here. Save the workbook only (leave out --pdf)."
        ) from exc


def cmd_evaluation_export(args: argparse.Namespace) -> int:
    from vrp_desktop.cli import open_workspace
    from vrp_desktop.evaluation.pack import export_pack
    from vrp_desktop.evaluation.period import parse_period

    period = parse_period(args.period)
    writer = _pdf_writer() if args.pdf else None
    started = time.perf_counter()
    with open_workspace(args) as ws:
        pack, written = export_pack(
            ws,
            period,
            Path(args.out),
            pdf=Path(args.pdf) if args.pdf else None,
            pdf_writer=writer,
            threshold=args.threshold,
            progress=_progress,
        )
    if sys.stderr.isatty():
        print(file=sys.stderr)
    took = time.perf_counter() - started
    print(
        f"Evaluation pack for {pack.period.label} ({len(pack.units)} "
        + ("unit" if len(pack.units) == 1 else "units")
        + ") written to "
        + " and ".join(str(p) for p in written)
        + f" in {took:.1f} s."
    )
    return 0


def register(subparsers, workspace_args) -> None:
    evaluation = subparsers.add_parser(
        "evaluation", help="impact and evaluation for the oversight group"
    ).add_subparsers(dest="sub", required=True)
    p = evaluation.add_parser(
        "export",
        help="write the evaluation pack: a workbook, and a PDF with charts when --pdf is given",
    )
    workspace_args(p)
    p.add_argument(
        "--period",
        required=True,
        help='a UK financial year, e.g. "2026-27", or a quarter, e.g. "2026-27 Q3"',
    )
    p.add_argument("--out", required=True, help="the .xlsx workbook to write")
    p.add_argument("--pdf", help="also write the PDF report with charts here")
    p.add_argument(
        "--threshold",
        type=int,
        default=None,
        help="hide counts of people below this (default: the partnership's rule in the "
        "framework pack, usually 5: 1-4 shown as <5; it may be raised, never lowered)",
    )
    p.set_defaults(handler=cmd_evaluation_export)
