"""``vrp connect``: an analyst's own folder for a coordinator kept on a PostgreSQL server."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_connect(args: argparse.Namespace) -> int:
    from vrp_desktop.store import server_slots

    names = server_slots.connect_folder(Path(args.workspace), args.database)
    print(f"Connected {args.workspace} to the coordinator's database.")
    print(f"Users who can sign in: {', '.join(names)}.")
    print("Your database password stays where PostgreSQL keeps it (~/.pgpass or PGSERVICE).")
    return 0


def register(sub, _workspace_args) -> None:
    p = sub.add_parser(
        "connect",
        help="use a coordinator kept on a PostgreSQL server from this machine",
        description="Write a workspace folder that opens a coordinator kept on a PostgreSQL "
        "server: its connection details (no password) and a copy of its key slots. Sign in "
        "with the passphrase of the slot an analyst added for you (vrp user add).",
    )
    p.add_argument("workspace", help="a new, empty folder on this machine")
    p.add_argument(
        "--database",
        required=True,
        help="postgresql://USER@HOST[:PORT]/DBNAME[?sslmode=verify-full] (no password)",
    )
    p.set_defaults(handler=cmd_connect)
