"""``vrp serve`` (the VRP's intake), ``vrp intake set|show`` and ``vrp batch send`` (providers)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cli():
    from vrp_desktop import cli

    return cli


def cmd_serve(args: argparse.Namespace) -> int:
    from vrp_desktop.intake import server

    with _cli().open_workspace(args) as ws:
        server.serve(
            ws,
            args.listen,
            cert=Path(args.cert) if args.cert else None,
            key=Path(args.key) if args.key else None,
            max_bytes=int(args.max_mb * (1 << 20)),
            rate=args.rate,
            burst=args.burst,
            trusted_proxies=tuple(args.trusted_proxy),
        )
    return 0


def cmd_intake_set(args: argparse.Namespace) -> int:
    from vrp_desktop.intake import client

    with _cli().open_workspace(args) as ws:
        url = client.set_intake(ws, None if args.clear else args.url, ca_file=args.ca)
    print(f"'Send now' sends to {url}." if url else "No intake address: batches go by outbox.")
    return 0


def cmd_intake_publish(args: argparse.Namespace) -> int:
    from vrp_desktop.intake import client

    with _cli().open_workspace(args) as ws:
        url = client.publish(ws, None if args.clear else args.url)
    print(
        f"Onboarding packs now carry the intake address {url}; providers who join get it. "
        "Providers already joined set it with 'vrp intake set'."
        if url
        else "Onboarding packs no longer carry an intake address."
    )
    return 0


def cmd_intake_show(args: argparse.Namespace) -> int:
    from vrp_desktop.intake import client

    with _cli().open_workspace(args) as ws:
        url = client.intake_url(ws)
        waiting = client.unanswered(ws)
    print(f"Intake: {url or '(none set: batches go by the outbox folder)'}")
    print(f"Batches sent and waiting for the VRP's receipt: {len(waiting)}")
    return 0


def cmd_batch_send(args: argparse.Namespace) -> int:
    from vrp_desktop.intake import client

    def show(label: str, done: int, total: int) -> None:
        if not args.quiet and sys.stderr.isatty():
            print(f"\r{label}: {done}/{total}", end="", file=sys.stderr, flush=True)

    with _cli().open_workspace(args) as ws:
        results = client.send_now(ws, url=args.url, build=not args.no_build, progress=show)
    if args.json:
        import dataclasses
        import json

        print(json.dumps([dataclasses.asdict(r) for r in results], indent=2))
    elif not results:
        print("Nothing to send: every batch has its receipt and no record waits to go.")
    else:
        for r in results:
            print(r.message, file=sys.stdout if r.outcome == "receipted" else sys.stderr)
    if any(r.outcome == "refused" for r in results):
        return 1
    return 6 if any(r.outcome == "kept" for r in results) else 0


def register(subparsers, workspace_args) -> None:
    p = subparsers.add_parser("serve", help="run the VRP's HTTPS intake for online providers")
    workspace_args(p)
    p.add_argument("--listen", default="127.0.0.1:8443", help="HOST:PORT (default 127.0.0.1:8443)")
    p.add_argument("--cert", help="TLS certificate (PEM); omit behind the VRP's TLS proxy")
    p.add_argument("--key", help="the certificate's private key (PEM)")
    p.add_argument("--max-mb", type=float, default=1024, help="largest batch accepted, in MiB")
    p.add_argument("--rate", type=float, default=2.0, help="requests a second per provider")
    p.add_argument("--burst", type=int, default=20, help="requests a provider may burst")
    p.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDR",
        help="the VRP's TLS proxy as the intake sees it (e.g. 127.0.0.1, or a network such as "
        "10.0.0.0/24); repeatable. Only its X-Forwarded-For is believed: the right-most "
        "address it did not add itself is the client, for per-address limits",
    )
    p.set_defaults(handler=cmd_serve)

    intake = subparsers.add_parser("intake", help="the VRP intake address for 'Send now'")
    sub = intake.add_subparsers(dest="sub", required=True)
    q = sub.add_parser("set", help="remember the VRP's intake address (or --clear it)")
    workspace_args(q)
    q.add_argument("url", nargs="?", help="e.g. https://intake.example-vrp.org.uk")
    q.add_argument("--ca", help="a certificate file to trust for it (if your VRP sent one)")
    q.add_argument("--clear", action="store_true", help="forget the address")
    q.set_defaults(handler=cmd_intake_set)
    q = sub.add_parser("publish", help="the VRP's intake address, put into onboarding packs")
    workspace_args(q)
    q.add_argument("url", nargs="?", help="e.g. https://intake.example-vrp.org.uk")
    q.add_argument("--clear", action="store_true", help="stop putting an address in packs")
    q.set_defaults(handler=cmd_intake_publish)
    q = sub.add_parser("show", help="the intake address and what waits for a receipt")
    workspace_args(q)
    q.set_defaults(handler=cmd_intake_show)


def register_batch_send(batch_subparsers, workspace_args) -> None:
    """``vrp batch send``: added to the ``batch`` group by vrp_desktop.sync.cli."""
    q = batch_subparsers.add_parser("send", help="send batches to the VRP's intake now (online)")
    workspace_args(q)
    q.add_argument("--url", help="the intake address (default: the one set with vrp intake set)")
    q.add_argument("--no-build", action="store_true", help="send built batches only")
    q.add_argument("--json", action="store_true")
    q.add_argument("--quiet", action="store_true")
    q.set_defaults(handler=cmd_batch_send)
