"""``vrp intervention add|list|edit|close|reopen``: set up what a provider runs.

The same service the window uses; codes are checked against the intervention's framework, and
a refusal says which codes the framework has. An empty option value (``--day ""``) clears it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

#: option -> service field, for add and edit
_OPTIONS = (
    ("tier", "tier", "universal, targeted or specialist (default: the framework's first)"),
    ("setting", "setting", "where it runs, a code of the framework's settings"),
    ("area", "area", "the area it serves, e.g. Ladywood"),
    ("delivery", "delivery", "usual session type: group, one_to_one (or 1:1) or outreach"),
    ("day", "usual_weekday", "usual day: mon, tue, wed, thu, fri, sat or sun"),
    ("time", "usual_time", "usual start time, 24-hour HH:MM, e.g. 18:00"),
    ("minutes", "usual_minutes", "usual length in minutes, e.g. 90"),
    ("mode", "usual_mode", "usual way of meeting: a framework mode, e.g. in_person"),
    ("location", "usual_location_type", "usual location: a framework location type code"),
    ("lead", "lead_staff", "the worker who leads it (stays on this computer)"),
)
_DELIVERY_WORDS = {"1:1": "one_to_one", "one-to-one": "one_to_one", "1-1": "one_to_one"}


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for option, field, _help in _OPTIONS:
        value = getattr(args, option, None)
        if value is None:
            continue
        if field == "delivery":
            value = _DELIVERY_WORDS.get(value.strip().casefold(), value)
        fields[field] = value
    if getattr(args, "name", None) is not None:
        fields["name"] = args.name
    return fields


def _when(row: dict[str, Any]) -> str:
    from vrp_desktop.services.interventions import WEEKDAY_LABELS

    parts = []
    if row.get("usual_weekday") is not None:
        parts.append(WEEKDAY_LABELS[row["usual_weekday"]][:3])
    if row.get("usual_time"):
        parts.append(row["usual_time"])
    if row.get("usual_minutes"):
        parts.append(f"{row['usual_minutes']} min")
    return " ".join(parts) or "-"


def _describe(row: dict[str, Any]) -> str:
    state = "open" if row["active"] else f"closed {row.get('closed_on') or ''}".strip()
    return (
        f"{row['name']!r} ({row['framework_id']}, {row.get('delivery') or 'no usual delivery'}, "
        f"{_when(row)}; {state}; version {row['version']}) id {row['id']}"
    )


def cmd_add(args: argparse.Namespace) -> int:
    from vrp_desktop.cli import open_workspace
    from vrp_desktop.services import interventions

    fields = _fields(args)
    with open_workspace(args) as ws:
        row = interventions.create_intervention(
            ws,
            name=fields.pop("name"),
            framework_id=args.framework,
            setting=fields.pop("setting", None),
            **fields,
        )
    print(f"Set up {_describe(row)}.")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from vrp_desktop.cli import open_workspace
    from vrp_desktop.services import interventions

    with open_workspace(args) as ws:
        rows = interventions.list_interventions(ws, active_only=not args.all)
    if args.json:
        print(json.dumps(rows, indent=2, default=str, sort_keys=True))
        return 0
    if not rows:
        print(
            "No interventions yet. Set one up, e.g.: vrp intervention add WORKSPACE "
            '--framework sports_diversion --name "Friday football" --setting community '
            "--delivery group --day fri --time 18:00 --minutes 90"
        )
        return 0
    print(f"{'Name':<32} {'Framework':<20} {'Delivery':<11} {'Usually':<18} {'State':<18} Id")
    for row in rows:
        state = "open" if row["active"] else f"closed {row.get('closed_on') or ''}".strip()
        print(
            f"{row['name'][:32]:<32} {row['framework_id'][:20]:<20} "
            f"{(row.get('delivery') or '-'):<11} {_when(row):<18} {state:<18} {row['id']}"
        )
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    from vrp_desktop.cli import open_workspace
    from vrp_desktop.services import interventions

    fields = _fields(args)
    with open_workspace(args) as ws:
        found = interventions.find_intervention(ws, args.intervention)
        before = found["version"]
        row = interventions.edit_intervention(ws, found["id"], fields)
    if row["version"] == before:
        print(f"Nothing changed: {_describe(row)}.")
    else:
        print(f"Changed {_describe(row)}. The new version goes with the next batch.")
    return 0


def cmd_close(args: argparse.Namespace) -> int:
    from vrp_desktop.cli import open_workspace
    from vrp_desktop.services import interventions

    with open_workspace(args) as ws:
        found = interventions.find_intervention(ws, args.intervention)
        row = interventions.close_intervention(
            ws, found["id"], closed_on=args.on, reason=args.reason
        )
    print(f"Closed {_describe(row)}. Its records stay; reopen it with 'vrp intervention reopen'.")
    return 0


def cmd_reopen(args: argparse.Namespace) -> int:
    from vrp_desktop.cli import open_workspace
    from vrp_desktop.services import interventions

    with open_workspace(args) as ws:
        found = interventions.find_intervention(ws, args.intervention)
        row = interventions.reopen_intervention(ws, found["id"])
    print(f"Reopened {_describe(row)}.")
    return 0


def _field_options(p: argparse.ArgumentParser) -> None:
    for option, _field, text in _OPTIONS:
        p.add_argument(f"--{option}", help=text)


def register(subparsers, workspace_args) -> None:
    group = subparsers.add_parser(
        "intervention", help="set up the interventions this provider runs"
    ).add_subparsers(dest="sub", required=True)

    p = group.add_parser("add", help="set up an intervention under a framework")
    workspace_args(p)
    p.add_argument("--framework", required=True, help="framework id, e.g. sports_diversion")
    p.add_argument("--name", required=True, help='e.g. "Friday football"')
    _field_options(p)
    p.set_defaults(handler=cmd_add)

    p = group.add_parser("list", help="list interventions (open ones; --all adds closed ones)")
    workspace_args(p)
    p.add_argument("--all", action="store_true", help="include closed interventions")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)

    p = group.add_parser("edit", help="change an intervention (a new version is sent)")
    workspace_args(p)
    p.add_argument("intervention", help="its name (in quotes) or id")
    p.add_argument("--name", help="a new name")
    _field_options(p)
    p.set_defaults(handler=cmd_edit)

    p = group.add_parser("close", help="stop running an intervention (its records stay)")
    workspace_args(p)
    p.add_argument("intervention", help="its name (in quotes) or id")
    p.add_argument("--on", help="the day it ended (default today), e.g. 31/07/2026")
    p.add_argument("--reason", help="why, for the audit log (no names)")
    p.set_defaults(handler=cmd_close)

    p = group.add_parser("reopen", help="run a closed intervention again")
    workspace_args(p)
    p.add_argument("intervention", help="its name (in quotes) or id")
    p.set_defaults(handler=cmd_reopen)
