"""``vrp`` sub-commands for sync (registered through ``cli.COMMAND_MODULES``).

Coordinator: ``coordinator setup``, ``identity export``, ``provider add|pin|list``,
``frameworks publish``, ``batch import``, ``batch inbox``.
Provider: ``join``, ``outbox``, ``batch build``, ``batch status``, ``batch rejected``,
``batch send-again``, ``receipt import``, ``frameworks import``. Coordinator again:
``receipt reissue``. One-time codes come from ``VRP_ONBOARDING_CODE``, ``--code-file`` or a
prompt, never from an argument.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from vrp_desktop import clock
from vrp_desktop.errors import VrpError


def _cli():
    from vrp_desktop import cli

    return cli


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str, sort_keys=True))


def _progress(args: argparse.Namespace):
    if getattr(args, "quiet", False) or not sys.stderr.isatty():
        return None

    def show(label: str, done: int, total: int) -> None:
        print(f"\r{label}: {done}/{total}", end="", file=sys.stderr, flush=True)

    return show


def cmd_coordinator_setup(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import coordinator

    with _cli().open_workspace(args) as ws:
        info = coordinator.setup(ws, partnership_name=args.partnership)
    print(f"Coordinator workspace ready for {info['partnership']}.")
    print(f"VRP public key (age recipient): {info['recipients'][0]}")
    print(f"VRP signing fingerprint:        {info['signing_fingerprint']}")
    return 0


def cmd_identity_export(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import coordinator

    with _cli().open_workspace(args) as ws:
        if args.recipient_only:
            print(coordinator.recipient(ws))
            return 0
        if not args.out:
            raise VrpError("Say where to write the identity with --out FILE (keep it secret).")
        path = coordinator.export_identity(ws, Path(args.out))
    print(f"Age identity written to {path}. It opens every batch: keep it locked away.")
    print(f"Decrypt a batch with:  age -d -i {path} BATCH.vrpbatch > batch.zip")
    return 0


def cmd_provider_add(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import coordinator

    out = Path(args.out or coordinator.default_pack_name(args.code.strip().upper()))
    with _cli().open_workspace(args) as ws:
        info = coordinator.add_provider(
            ws, code=args.code, name=args.name or "", out=out, reissue=args.reissue
        )
    print(f"Onboarding pack for {info['code']} ({info['name']}) written to {info['pack']}.")
    print()
    print(
        "ONE-TIME CODE (read it to the provider's manager by phone; never send it with the pack):"
    )
    print(f"    {info['one_time_code']}")
    print()
    print("They run 'vrp join' with the pack and this code, then send back their provider key")
    print("file; pin it with 'vrp provider pin', comparing fingerprints by phone.")
    return 0


def cmd_provider_pin(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import common, coordinator, onboarding

    body = onboarding.read_key_file(Path(args.key_file))
    expected = args.fingerprint
    if expected is None:
        if not sys.stdin.isatty():
            # the file's own fingerprint is not printed here: pasted back, it would check
            # nothing; the check is what the provider reads out against the file
            raise VrpError(
                "Ask the provider to read out the fingerprint 'vrp join' showed them, and pass "
                "what they read with --fingerprint '....'. Nothing was pinned."
            )
        shown = common.fingerprint(common.unb64(body.get("public_key"), "signing key"))
        print(f"Key file fingerprint: {shown}")
        answer = input("Does the provider read out exactly this fingerprint? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Not pinned.")
            return 1
        expected = shown
    with _cli().open_workspace(args) as ws:
        info = coordinator.pin_provider(ws, Path(args.key_file), expect_fingerprint=expected)
    print(
        f"Pinned {info['code']}'s signing key ({info['fingerprint']}). Their batches can be "
        "imported now."
    )
    return 0


def cmd_provider_list(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import coordinator

    with _cli().open_workspace(args) as ws:
        rows = coordinator.list_providers(ws)
    if args.json:
        _print_json(rows)
        return 0
    for p in rows:
        state = f"pinned {p['fingerprint']}" if p["pinned"] else "awaiting their key file"
        print(f"{p['code']:<10} {p['name'][:40]:<40} {state}  batches: {p['batches']}")
    return 0


def cmd_join(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import onboarding

    code = _cli().read_secret(
        args, env="VRP_ONBOARDING_CODE", prompt="One-time code", file_attr="code_file"
    )
    with _cli().open_workspace(args) as ws:
        info = onboarding.join(
            ws, Path(args.pack), code, key_out=Path(args.key_out) if args.key_out else None
        )
    print(f"Joined {info['partnership']} as {info['provider_code']} ({info['provider_name']}).")
    print(f"Your signing fingerprint: {info['provider_fingerprint']}")
    print(f"VRP's fingerprint:        {info['vrp_fingerprint']}  (compare with your coordinator)")
    print(f"Send this key file to your VRP coordinator: {info['key_file']}")
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import outbox

    with _cli().open_workspace(args) as ws:
        if args.folder:
            outbox.set_outbox_folder(ws, Path(args.folder))
        folder = outbox.outbox_folder(ws)
    print(f"Outbox folder: {folder or '(not set)'}")
    return 0


def cmd_batch_build(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import batch_build

    with _cli().open_workspace(args) as ws:
        result = batch_build.build_batch(
            ws,
            outbox_folder=Path(args.outbox) if args.outbox else None,
            period=args.period,
            progress=_progress(args),
        )
    if args.json:
        _print_json(result)
        return 0
    counts = ", ".join(f"{n} {k}" for k, n in sorted(result["counts"].items()) if n)
    print(f"\nBatch written to {result['file']}: {counts}.")
    if result.get("disclosure"):
        from vrp_desktop.sync import quasi

        print(f"Identifiability: {quasi.describe(result['disclosure'])}")
        print(quasi.describe_batch(result["disclosure"]))
    if result["held_back"]:
        print(
            f"{len(result['held_back'])} records wait until the records they depend on are "
            "fixed ('vrp batch status' lists them)."
        )
    return 0


def cmd_batch_status(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import batch_build, outbox, resend

    with _cli().open_workspace(args) as ws:
        settled = batch_build.recover(ws)
        info = batch_build.preview(ws)
        info["history"] = outbox.history(ws, limit=20)
    info["recovered"] = settled
    if args.json:
        _print_json(info)
        return 0
    for name in settled["finished"]:
        print(f"Finished writing {name} (a build was interrupted after it was recorded).")
    for name in settled["removed"]:
        print(f"Removed {name}, left by a build that was interrupted before it was recorded.")
    print(
        f"Waiting to go: {info['pending_total']} records; outbox: {info['outbox'] or '(not set)'}"
    )
    again = resend.describe_waiting(info["resend"]["records"])
    if again:
        print(again)
    print(f"Staying behind: {info['quarantined']} records")
    for item in info["quarantine"][:50]:
        print(f"  {item['entity']} {item['label']} ({item['id']}): {'; '.join(item['reasons'])}")
    for b in info["history"]:
        print(
            f"  {clock.show(b['created_at'], '%Y-%m-%d %H:%M')} {b['status']:<10} "
            f"{b['records']} records "
            + (
                f"accepted={b['accepted']} rejected={b['rejected']}  "
                if b["accepted"] is not None
                else "(no receipt yet)  "
            )
            + f"{b['file_name']}"
        )
    return 0


def cmd_batch_rejected(args: argparse.Namespace) -> int:
    """Records the VRP rejected, with its reason (provider side)."""
    from vrp_desktop.sync import rejected

    with _cli().open_workspace(args) as ws:
        items = rejected.list_rejected(ws, limit=args.limit)
    if args.json:
        _print_json(items)
        return 0
    if not items:
        print("The VRP has rejected no record.")
        return 0
    print(f"{len(items)} record(s) rejected by the VRP:")
    for item in items:
        print(f"  {item['kind']:<13} {item['label']}  ({item['id']})")
        print(f"      VRP's reason: {item['reason']}")
    print(
        "Fix a record and save it, and it goes again by itself. If there is nothing to fix (the "
        "VRP's check was wrong), 'vrp batch send-again WORKSPACE ID...' (or --all) sends it "
        "again in the next batch."
    )
    return 0


def cmd_batch_send_again(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import rejected

    if bool(args.all) == bool(args.ids):
        print(
            "vrp: give the ids of the records to send again ('vrp batch rejected' lists them), "
            "or --all; not both.",
            file=sys.stderr,
        )
        return 2
    with _cli().open_workspace(args) as ws:
        result = rejected.send_again(ws, rejected.ALL if args.all else args.ids)
    if args.json:
        _print_json(result)
        return 0
    print(rejected.describe(result))
    for record in result["records"]:
        if record["sync_state"] != "valid":
            print(f"  {record['entity']} {record['id']}: {'; '.join(record['findings'])}")
    return 0


def _print_reports(reports, as_json: bool) -> int:
    if as_json:
        _print_json([r.as_dict() for r in reports])
    else:
        for r in reports:
            print(r.summary(), file=sys.stderr if r.error else sys.stdout)
            for note in r.notes:
                print(f"  note: {note}")
            for item in r.rejected[:50]:
                print(f"  rejected {item['entity']} {item['id']}: {item['reason']}")
            if r.receipt:
                print(f"  receipt: {r.receipt}")
    return 1 if any(r.error for r in reports) else 0


def cmd_batch_import(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import batch_import

    with _cli().open_workspace(args) as ws:
        reports = batch_import.import_files(
            ws,
            [Path(f) for f in args.files],
            dry_run=args.dry_run,
            receipt_folder=Path(args.receipts) if args.receipts else None,
            progress=_progress(args),
        )
    return _print_reports(reports, args.json)


def cmd_batch_inbox(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import batch_import

    with _cli().open_workspace(args) as ws:
        if args.set_folder:
            batch_import.set_inbox_folder(ws, Path(args.set_folder))
        reports = batch_import.import_inbox(
            ws,
            Path(args.folder) if args.folder else None,
            dry_run=args.dry_run,
            progress=_progress(args),
        )
    if not reports:
        print("No new batch files in the inbox.")
    return _print_reports(reports, args.json)


def cmd_batch_pending(args: argparse.Namespace) -> int:
    """Records held back because what they refer to has not arrived (VRP side)."""
    from vrp_desktop.sync import batch_import

    with _cli().open_workspace(args) as ws:
        waiting = batch_import.list_pending(ws, limit=args.limit)
    if args.json:
        print(json.dumps(waiting, default=str, indent=2))
        return 0
    if not waiting:
        print("Nothing is waiting: every imported record has what it refers to.")
        return 0
    print(f"{len(waiting)} record(s) wait for a record from a batch not yet imported:")
    for w in waiting:
        print(
            f"  {w['provider_code']}  {w['entity']} {w['record_id']} v{w['version']}  "
            f"waits for {w['waiting_for']}  (since {clock.show(w['since'])})"
        )
    print("They are applied by themselves when the batch carrying what they wait for is imported.")
    return 0


def cmd_receipt_import(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import receipts

    with _cli().open_workspace(args) as ws:
        result = receipts.import_receipt(ws, Path(args.file), progress=_progress(args))
    print(
        f"Receipt for batch {result['batch_id']}: {result['accepted']} accepted, "
        f"{len(result['rejected'])} rejected."
    )
    for item in result["rejected"][:100]:
        print(f"  {item['entity']} {item['id']}: {item['reason']}")
    return 0


def cmd_receipt_reissue(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import reissue

    with _cli().open_workspace(args) as ws:
        info = reissue.reissue(
            ws,
            args.batch_id,
            Path(args.out),
            batch_file=Path(args.batch) if args.batch else None,
        )
    print(f"Receipt for batch {info['batch_id']} ({info['provider_code']}) written to")
    print(f"    {info['receipt']}")
    print("Send it to the provider; importing it there closes the loop.")
    return 0


def cmd_frameworks_publish(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import coordinator

    with _cli().open_workspace(args) as ws:
        info = coordinator.publish_frameworks(
            ws,
            [Path(f) for f in args.files],
            Path(args.out),
            rule_file=Path(args.quasi_rule) if args.quasi_rule else None,
        )
    print(
        f"Framework pack written to {info['file']} ({info['published']} versions; new: "
        f"{', '.join(info['added']) or 'none'}).\nPartnership rule for small groups: "
        f"{info['rule']}."
    )
    return 0


def cmd_frameworks_import(args: argparse.Namespace) -> int:
    from vrp_desktop.sync import onboarding

    with _cli().open_workspace(args) as ws:
        info = onboarding.import_frameworks(ws, Path(args.file))
    print(pack_summary(info))
    return 0


def pack_summary(info: dict) -> str:
    """What importing a framework pack changed, in a sentence or two."""
    frameworks = ", ".join(info["added"])
    if info.get("rule_changed"):
        rule = f"The partnership's rule for small groups changed: {info['rule']}."
        return f"Installed: {frameworks}.\n{rule}" if frameworks else rule
    unchanged = (
        f"\nPartnership rule for small groups (unchanged): {info['rule']}."
        if info.get("rule")
        else ""
    )
    return f"Installed: {frameworks or 'nothing new'}.{unchanged}"


def register(sub, workspace_args) -> None:
    """Add the sync commands to the ``vrp`` parser."""
    p = sub.add_parser("coordinator", help="VRP coordinator set-up").add_subparsers(
        dest="sub", required=True
    )
    q = p.add_parser("setup", help="make the VRP's keys (also done on first use)")
    workspace_args(q)
    q.add_argument("--partnership", help="the partnership's name")
    q.set_defaults(handler=cmd_coordinator_setup)

    p = sub.add_parser("identity", help="the VRP's age identity").add_subparsers(
        dest="sub", required=True
    )
    q = p.add_parser("export", help="write the age identity (for the age tool) or print the key")
    workspace_args(q)
    q.add_argument("--out", help="file to write the SECRET identity to")
    q.add_argument("--recipient-only", action="store_true", help="print the public key only")
    q.set_defaults(handler=cmd_identity_export)

    p = sub.add_parser("provider", help="the VRP's provider registry").add_subparsers(
        dest="sub", required=True
    )
    q = p.add_parser("add", help="register a provider and write their onboarding pack")
    workspace_args(q)
    q.add_argument("--code", required=True)
    q.add_argument("--name")
    q.add_argument("--out", help="pack file to write")
    q.add_argument("--reissue", action="store_true", help="new pack for a registered provider")
    q.set_defaults(handler=cmd_provider_add)
    q = p.add_parser("pin", help="pin the signing key a provider sent back")
    workspace_args(q)
    q.add_argument("key_file")
    q.add_argument("--fingerprint", help="the fingerprint the provider read out")
    q.set_defaults(handler=cmd_provider_pin)
    q = p.add_parser("list", help="registered providers")
    workspace_args(q)
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_provider_list)

    q = sub.add_parser("join", help="join a VRP with its onboarding pack and one-time code")
    workspace_args(q)
    q.add_argument("pack")
    q.add_argument("--code-file", help="read the one-time code from this file")
    q.add_argument("--key-out", help="where to write the provider key file")
    q.set_defaults(handler=cmd_join)

    q = sub.add_parser("outbox", help="show or set the outbox folder")
    workspace_args(q)
    q.add_argument("folder", nargs="?")
    q.set_defaults(handler=cmd_outbox)

    p = sub.add_parser("batch", help="batches to and from the VRP").add_subparsers(
        dest="sub", required=True
    )
    q = p.add_parser("build", help="build and write the next batch to the outbox")
    workspace_args(q)
    q.add_argument("--outbox", help="folder to write to (default: the configured outbox)")
    q.add_argument("--period", help='financial quarter, e.g. "2026-27 Q3" (default: this quarter)')
    q.add_argument("--json", action="store_true")
    q.add_argument("--quiet", action="store_true")
    q.set_defaults(handler=cmd_batch_build)
    q = p.add_parser("status", help="what waits to go, what stays behind and why, history")
    workspace_args(q)
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_batch_status)
    q = p.add_parser("rejected", help="records the VRP rejected, with its reasons")
    workspace_args(q)
    q.add_argument("--limit", type=int, default=1000, help="show at most this many")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_batch_rejected)
    q = p.add_parser(
        "send-again", help="send rejected records again as they are (a new version, checked)"
    )
    workspace_args(q)
    q.add_argument("ids", nargs="*", metavar="ID", help="ids 'vrp batch rejected' lists")
    q.add_argument("--all", action="store_true", help="every record the VRP rejected")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_batch_send_again)
    q = p.add_parser("import", help="import batch files into the coordinator workspace")
    workspace_args(q)
    q.add_argument("files", nargs="+")
    q.add_argument("--dry-run", action="store_true", help="report what would happen only")
    q.add_argument("--receipts", help="folder for receipts (default: beside each batch)")
    q.add_argument("--json", action="store_true")
    q.add_argument("--quiet", action="store_true")
    q.set_defaults(handler=cmd_batch_import)
    q = p.add_parser("inbox", help="import every new batch file in the inbox folder")
    workspace_args(q)
    q.add_argument("--folder", help="scan this folder (default: the configured inbox)")
    q.add_argument("--set-folder", help="remember this folder as the inbox")
    q.add_argument("--dry-run", action="store_true")
    q.add_argument("--json", action="store_true")
    q.add_argument("--quiet", action="store_true")
    q.set_defaults(handler=cmd_batch_inbox)

    from vrp_desktop.intake.cli import register_batch_send

    register_batch_send(p, workspace_args)
    q = p.add_parser("pending", help="records waiting for one they refer to (VRP)")
    workspace_args(q)
    q.add_argument("--limit", type=int, default=1000, help="show at most this many")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_batch_pending)

    p = sub.add_parser("receipt", help="receipts from the VRP").add_subparsers(
        dest="sub", required=True
    )
    q = p.add_parser("import", help="mark records accepted or rejected as the receipt says")
    workspace_args(q)
    q.add_argument("file")
    q.set_defaults(handler=cmd_receipt_import)
    q = p.add_parser("reissue", help="write an imported batch's receipt again (VRP)")
    workspace_args(q)
    q.add_argument("batch_id")
    q.add_argument("--out", required=True, help="folder to write the receipt to")
    q.set_defaults(output_folders=("out",))
    q.add_argument("--batch", help="the batch file (default: look in the inbox folder)")
    q.set_defaults(handler=cmd_receipt_reissue)

    p = sub.add_parser("frameworks", help="framework versions").add_subparsers(
        dest="sub", required=True
    )
    q = p.add_parser("publish", help="add framework versions and write a signed pack (VRP)")
    workspace_args(q)
    q.add_argument("files", nargs="*", help="framework JSON definitions to add")
    q.add_argument("--out", required=True, help="framework pack file to write")
    q.add_argument(
        "--quasi-rule",
        help="the partnership's rule for small groups (JSON like resources/quasi_rule.json); "
        "kept and carried by every later pack",
    )
    q.set_defaults(handler=cmd_frameworks_publish)
    q = p.add_parser("import", help="install a framework pack signed by your VRP")
    workspace_args(q)
    q.add_argument("file")
    q.set_defaults(handler=cmd_frameworks_import)
