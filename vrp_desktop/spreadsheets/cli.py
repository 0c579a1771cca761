"""``vrp import template`` and ``vrp import xlsx`` (also ``vrp import file``)."""

from __future__ import annotations

import argparse
from pathlib import Path

#: the exit status when some rows were refused and the good ones imported (not 2: that is a
#: mistyped command, as for every command)
ROWS_REFUSED = 3


def cmd_template(args: argparse.Namespace) -> int:
    from vrp_desktop.spreadsheets.template import write_template, write_workspace_template

    if args.workspace:  # the workspace's interventions fill the Intervention drop-down
        from vrp_desktop.cli import open_workspace

        with open_workspace(args) as ws:
            path = write_workspace_template(ws, Path(args.out), args.framework)
    else:
        path = write_template(Path(args.out), args.framework)
    print(
        f"Template written to {path}. Fill in the Register sheet, then run "
        f"'vrp import xlsx WORKSPACE {path.name} --dry-run' to check it."
    )
    return 0


def cmd_xlsx(args: argparse.Namespace) -> int:
    from vrp_desktop.cli import open_workspace
    from vrp_desktop.spreadsheets.importer import import_xlsx, imported_summary

    with open_workspace(args) as ws:
        result = import_xlsx(
            ws,
            Path(args.file),
            dry_run=args.dry_run,
            errors_out=Path(args.errors_out) if args.errors_out else None,
            engine=args.engine,
        )
    sheets = [f"'{result.sheet}' (header on row {result.header_row})"] if result.header_row else []
    sheets += [f"'{name}'" for name in result.other_sheets.values()]
    print(f"Read {result.rows_read:,} rows from sheet{'s' if len(sheets) > 1 else ''} "
          + ", ".join(sheets) + ".")  # fmt: skip
    if result.date_order != "day/month/year":
        print(f"Dates typed as text were read as {result.date_order} (the file's own order).")
    changed = [c for c in result.changes if c.action != "unchanged"]
    if result.dry_run and changed:
        print("What the import would do:")
        for change in changed[: args.show]:
            print("  " + change.message())
        if len(changed) > args.show:
            print(f"  ... and {len(changed) - args.show:,} more (--show N lists more)")
    print(result.summary() + ".")
    if result.ignored_columns:
        print("Ignored columns: " + ", ".join(result.ignored_columns))
    for bad in result.bad:
        print("  " + bad.message())
    if result.bad:
        n = len(result.bad)
        print(
            f"{n:,} {'row has' if n == 1 else 'rows have'} problems and "
            f"{'was' if n == 1 else 'were'} not imported. A copy of the sheet with an Errors "
            f"column is at {result.errors_copy}."
        )
    if result.warnings:
        print(f"{result.warnings:,} warnings: those records are imported as needing attention.")
    if result.dry_run:
        # what the good rows would do is the summary above (add, update, change nothing)
        print("Dry run: nothing was changed. Run it again without --dry-run to import.")
    elif result.imported:
        print(imported_summary(result.imported))
    else:
        print("Nothing was imported.")
    return ROWS_REFUSED if result.bad else 0


def register(subparsers, workspace_args) -> None:
    group = subparsers.add_parser("import", help="import a register from a spreadsheet")
    sub = group.add_subparsers(dest="sub", required=True)
    p = sub.add_parser("template", help="write the import template (.xlsx with drop-downs)")
    p.add_argument(
        "workspace", nargs="?", help="workspace whose interventions fill the Intervention list"
    )
    p.add_argument("--user", help="who is signing in (with a workspace)")
    p.add_argument("--passphrase-file", help="read the passphrase from this file")
    p.add_argument("--out", required=True)
    p.add_argument("--framework", help="make the lists for one framework (e.g. mentoring)")
    p.set_defaults(handler=cmd_template)
    p = sub.add_parser(
        "xlsx",
        aliases=["file"],
        help="check a register (.xlsx, .ods, .xls or .csv) and import its good rows",
        epilog=f"Exits 0 when every row was good, {ROWS_REFUSED} when some rows were refused (the "
        "good ones are imported, the rest are in the errors copy).",
    )
    workspace_args(p)
    p.add_argument("file")
    p.add_argument(
        "--dry-run", action="store_true", help="check and list what would change; change nothing"
    )
    p.add_argument("--show", type=int, default=50, help="how many changes a dry run lists")
    p.add_argument("--errors-out", help="where to save the copy with an Errors column")
    p.add_argument("--engine", choices=("calamine", "openpyxl"), help=argparse.SUPPRESS)
    p.set_defaults(handler=cmd_xlsx)
