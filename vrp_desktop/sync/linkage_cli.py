"""``vrp linkage`` sub-commands: the linkage key between a custodian and each provider.

Provider: ``linkage request`` (the file the custodian needs), ``linkage import`` (a pack from
the custodian, after comparing its fingerprint by phone), ``linkage status``.
Custodian (``vrp init --custodian``): ``linkage issue``, ``linkage rotate``, ``linkage list``.
The VRP only carries the files; it can open none of them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vrp_desktop.errors import VrpError


def _cli():
    from vrp_desktop import cli

    return cli


def _confirm(shown: str, who: str, flag: str) -> str:
    """The fingerprint a person compared by phone: from ``flag`` or asked for here."""
    if not sys.stdin.isatty():
        raise VrpError(
            f"Compare the fingerprint with {who} by phone, then pass {flag} '{shown}' if it is "
            "what they read out. Nothing was changed."
        )
    print(f"Fingerprint: {shown}")
    answer = input(f"Does {who} read out exactly this fingerprint? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise VrpError("Not confirmed; nothing was changed.")
    return shown


def cmd_status(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import linkage

    with _cli().open_workspace(args) as ws:
        info = linkage.status(ws)
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True, default=str))
        return 0
    if info["kind"] == "coordinator":
        print("This is the VRP's workspace: it holds no linkage key, and never will.")
    elif info["kind"] == "custodian":
        print(f"Custodian {info['name']}, fingerprint {info['fingerprint']}")
        print(f"Linkage key generation {info['generation']}; issued to {len(info['issued'])}")
        if info["to_reissue"]:
            print(f"Still to be issued the current key: {', '.join(info['to_reissue'])}")
    else:
        if info["from_custodian"]:
            print(
                f"Linkage key generation {info['generation']} from {info['custodian_name']} "
                f"(custodian fingerprint {info['custodian_fingerprint']})."
            )
        else:
            print(
                "No linkage key from a custodian yet: pseudonyms are made with this "
                "workspace's own key, so the VRP cannot link them to other providers' people."
            )
        if info["recipient_fingerprint"]:
            print(f"This workspace's linkage fingerprint: {info['recipient_fingerprint']}")
        if info["rotation_pending"]:
            print(f"{info['rotation_pending']} pseudonym changes go in the next batch.")
    return 0


def cmd_request(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import common, linkage

    with _cli().open_workspace(args) as ws:
        out = Path(args.out or linkage.default_request_name(ws.setting(common.PROVIDER_CODE)))
        info = linkage.write_request(ws, out)
    print(f"Linkage request written to {info['file']}. Send it to your linkage custodian")
    print("(through the VRP is fine: it holds no secret), and read them this fingerprint:")
    print(f"    {info['recipient_fingerprint']}")
    return 0


def cmd_issue(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import linkage

    request = linkage.read_request(Path(args.request))
    code = request["provider"]["code"]
    expected = args.fingerprint or _confirm(
        linkage.recipient_fingerprint(request["recipient"]), f"{code}'s manager", "--fingerprint"
    )
    out = Path(args.out or linkage.default_pack_name(code))
    _cli().check_output_file(out, "linkage pack")
    with _cli().open_workspace(args) as ws:
        info = linkage.issue(ws, Path(args.request), out, expect_fingerprint=expected)
        fingerprint = linkage.custodian_status(ws)["fingerprint"]
    print(f"Linkage pack (generation {info['generation']}) for {code} written to {info['file']}.")
    print("Only that provider can open it. Read them your fingerprint when they import it:")
    print(f"    {fingerprint}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import common, linkage

    expected = args.custodian_fingerprint
    with _cli().open_workspace(args) as ws:
        unpinned = ws.kind == "provider" and ws.setting(linkage.CUSTODIAN_PUBLIC) is None
        if expected is None and unpinned:
            pack = linkage.read_pack(Path(args.pack))
            shown = common.fingerprint(bytes.fromhex(pack["custodian"]["signing_public"]))
            expected = _confirm(shown, pack["custodian"]["name"], "--custodian-fingerprint")
        info = linkage.import_pack(ws, Path(args.pack), custodian_fingerprint=expected)
    if info["unchanged"]:
        print(f"Linkage key generation {info['generation']} is already in use; nothing changed.")
        return 0
    print(
        f"Linkage key generation {info['generation']} from {info['custodian_name']} is in use; "
        f"{info['rekeyed']} pseudonyms changed and the old key was destroyed."
    )
    print("Build a batch next: it carries the change so the VRP keeps counting people once.")
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import linkage

    with _cli().open_workspace(args) as ws:
        info = linkage.rotate(ws)
    print(f"New linkage key, generation {info['generation']}; the old one was destroyed.")
    if info["to_reissue"]:
        print(f"Issue it to: {', '.join(info['to_reissue'])} (from their last requests).")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import linkage

    with _cli().open_workspace(args) as ws:
        info = linkage.custodian_status(ws)
    if args.json:
        print(json.dumps(info["issued"], indent=2, sort_keys=True))
        return 0
    for item in info["issued"]:
        stale = "" if item["generation"] == info["generation"] else "  (old key: issue again)"
        print(
            f"{item['provider_code']:<10} {(item.get('provider_name') or '')[:30]:<30} "
            f"generation {item['generation']}  {item['issued_at']}{stale}"
        )
    return 0


def cmd_duplicates(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import matching

    with _cli().open_workspace(args) as ws:
        groups = matching.probable_duplicates(ws, limit=args.limit)
    if args.json:
        print(json.dumps(groups, indent=2, sort_keys=True))
        return 0
    if not groups:
        print("No probable duplicates across providers.")
        return 0
    print(f"{len(groups)} probable duplicates (same initial, surname sound and birth month at")
    print("different providers, different pseudonyms). Ask the providers to compare records:")
    for group in groups:
        people = [f"{p['provider_code']} {p['record_id']}" for p in group["people"]]
        print("  " + "  |  ".join(people))
    return 0


def register(sub, workspace_args) -> None:
    """Add ``vrp linkage ...`` to the parser."""
    p = sub.add_parser("linkage", help="the linkage key (custodian and providers)").add_subparsers(
        dest="sub", required=True
    )
    q = p.add_parser("status", help="which linkage key this workspace uses (never the key)")
    workspace_args(q)
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_status)
    q = p.add_parser("request", help="write the file the custodian issues a key from (provider)")
    workspace_args(q)
    q.add_argument("--out", help="file to write")
    q.set_defaults(handler=cmd_request)
    q = p.add_parser("import", help="import a linkage pack from the custodian (provider)")
    workspace_args(q)
    q.add_argument("pack")
    q.add_argument("--custodian-fingerprint", help="the fingerprint the custodian read out")
    q.set_defaults(handler=cmd_import)
    q = p.add_parser("issue", help="seal the key to a provider's request (custodian)")
    workspace_args(q)
    q.add_argument("request")
    q.add_argument("--out", help="linkage pack to write")
    q.add_argument("--fingerprint", help="the fingerprint the provider read out")
    q.set_defaults(handler=cmd_issue)
    q = p.add_parser("rotate", help="make a new key and destroy the old one (custodian)")
    workspace_args(q)
    q.set_defaults(handler=cmd_rotate)
    q = p.add_parser("list", help="providers issued a key (custodian)")
    workspace_args(q)
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_list)
    q = p.add_parser("duplicates", help="probable duplicates across providers (VRP)")
    workspace_args(q)
    q.add_argument("--limit", type=int, default=1000)
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_duplicates)
