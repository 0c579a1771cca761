"""``vrp reference publish|import|show``: the population figures evaluations compare with."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def cmd_publish(args: argparse.Namespace) -> int:
    from vrp_desktop.cli import open_workspace
    from vrp_desktop.reference import population

    with open_workspace(args) as ws:
        info = population.publish(
            ws,
            Path(args.csv),
            Path(args.out),
            title=args.title,
            source=args.source,
            base=args.base,
        )
    print(
        f"Population pack version {info['version']} ({', '.join(info['dimensions'])}) written "
        f"to {info['file']}. Send it to every provider; `vrp reference import` installs it."
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from vrp_desktop.cli import open_workspace
    from vrp_desktop.reference import population

    with open_workspace(args) as ws:
        info = population.install(ws, Path(args.file))
    print(
        f"Installed population figures version {info['version']}: {info['title']} "
        f"({', '.join(info['dimensions'])})."
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from vrp_desktop.cli import open_workspace
    from vrp_desktop.reference import population

    with open_workspace(args) as ws:
        pack = population.installed(ws)
    if args.json:
        print(json.dumps(None if pack is None else pack.__dict__, indent=1, sort_keys=True))
        return 0
    if pack is None:
        print(
            "No population figures installed. The VRP publishes them with `vrp reference "
            "publish`; a provider installs them with `vrp reference import`."
        )
        return 0
    print(f"{pack.title} (version {pack.version}, issued {pack.issued_at[:10]})")
    print(f"  Who is counted: {pack.base}")
    print(f"  Source: {pack.source}")
    for dimension, table in sorted(pack.tables.items()):
        print(f"  {dimension}: {len(table)} groups, {sum(table.values()):,} people")
    return 0


def register(subparsers, workspace_args) -> None:
    group = subparsers.add_parser(
        "reference", help="population figures the evaluation compares reach with"
    ).add_subparsers(dest="sub", required=True)
    p = group.add_parser("publish", help="sign and write the population pack (VRP)")
    workspace_args(p)
    p.add_argument("csv", help="a CSV of dimension,category,population rows")
    p.add_argument("--out", required=True, help="the pack file to write (.vrpref)")
    p.add_argument("--title", required=True, help='e.g. "Residents aged 10-24, 2021"')
    p.add_argument("--source", required=True, help='e.g. "ONS Census 2021, TS021 and TS007"')
    p.add_argument("--base", required=True, help="who is counted, e.g. the age range and area")
    p.set_defaults(handler=cmd_publish)
    p = group.add_parser("import", help="install a population pack signed by your VRP")
    workspace_args(p)
    p.add_argument("file", help="the .vrpref file from the VRP")
    p.set_defaults(handler=cmd_import)
    p = group.add_parser("show", help="the population figures installed here")
    workspace_args(p)
    p.add_argument("--json", action="store_true", help="print them as JSON")
    p.set_defaults(handler=cmd_show)
