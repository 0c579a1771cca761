"""The ``vrp`` command line: everything the window does, without a display.

Passphrases come from ``VRP_PASSPHRASE``, ``--passphrase-file`` or a prompt, never from an
argument (arguments show up in process lists and shell history). Errors go to stderr with a
non-zero exit and no traceback.

Start-up is kept small: this module and the command modules' ``register`` import only the
standard library at module level; each command imports what it uses (SQLAlchemy, alembic,
openpyxl, pydantic, cryptography) inside its handler. ``tests/test_cli.py`` checks it.
"""

from __future__ import annotations

import argparse
import os
import sys
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from vrp_desktop.errors import VrpError
from vrp_desktop.outputs import check_output_file, check_output_folder

Handler = Callable[[argparse.Namespace], int]

#: modules that add their own sub-commands: each has ``register(subparsers, workspace_args)``
#: where ``workspace_args(parser)`` adds the WORKSPACE, --user and --passphrase-file arguments.
#: Their handlers may call ``open_workspace(args)`` and ``read_secret(...)`` from this module.
COMMAND_MODULES: tuple[str, ...] = (
    "vrp_desktop.sync.cli",
    "vrp_desktop.returns.cli",
    "vrp_desktop.spreadsheets.cli",
    "vrp_desktop.intervention_cli",
    "vrp_desktop.intake.cli",
    "vrp_desktop.evaluation.cli",
    "vrp_desktop.sync.linkage_cli",
    "vrp_desktop.server_cli",
    "vrp_desktop.reference.cli",
)


# -- passphrases and opening ------------------------------------------------------------------


def _version() -> str:
    from vrp_desktop import __version__

    return __version__


class _VersionAction(argparse.Action):
    """``--version``, reading the version (package metadata) only when asked for."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, **kw):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, **kw)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"vrp {_version()}")
        parser.exit()


#: arguments that name a file a command writes (checked by ``main`` before the command runs)
OUTPUT_ARGUMENTS = ("out", "errors_out", "pdf")


def _read_secret(
    args: argparse.Namespace,
    *,
    env: str = "VRP_PASSPHRASE",
    prompt: str,
    confirm: bool = False,
    file_attr: str = "passphrase_file",
) -> str:
    path = getattr(args, file_attr, None)
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise VrpError(f"Cannot read the passphrase file {path}: {exc.strerror}.") from None
    if os.environ.get(env):
        return os.environ[env]
    if not sys.stdin.isatty():
        raise VrpError(
            f"No passphrase given: set {env}, use --passphrase-file, or run in a terminal."
        )
    import getpass

    secret = getpass.getpass(f"{prompt}: ")
    if confirm and getpass.getpass("Type it again: ") != secret:
        raise VrpError("The two passphrases differ; nothing was changed.")
    return secret


def _fold(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().casefold()


def _username(args: argparse.Namespace, folder: Path) -> str:
    """The user to sign in: ``--user``, ``VRP_USER`` or the only one. A name with no key slot
    is refused here, before any passphrase is read, so it counts no failed unlock."""
    from vrp_desktop.workspace import usernames

    names = usernames(folder)
    name = getattr(args, "user", None) or os.environ.get("VRP_USER")
    if name:
        if _fold(name) not in {_fold(n) for n in names}:
            raise VrpError(
                f"There is no user {name!r} in this workspace (users: {', '.join(names)}). "
                "Check the name given with --user or VRP_USER."
            )
        return name
    if len(names) == 1:
        return names[0]
    raise VrpError(f"This workspace has several users; say which with --user ({', '.join(names)}).")


def open_workspace(args: argparse.Namespace):
    """Open the workspace named on the command line (public for command modules)."""
    return _open(args)


def read_secret(
    args: argparse.Namespace,
    *,
    env: str = "VRP_PASSPHRASE",
    prompt: str,
    confirm: bool = False,
    file_attr: str = "passphrase_file",
) -> str:
    """Read a passphrase or code (public for command modules); see ``_read_secret``."""
    return _read_secret(args, env=env, prompt=prompt, confirm=confirm, file_attr=file_attr)


def _open(args: argparse.Namespace):
    from vrp_desktop.workspace import Workspace

    folder = Path(args.workspace)
    user = _username(args, folder)
    return Workspace.open(folder, user, _read_secret(args, prompt=f"Passphrase for {user}"))


def _print_json(value: object) -> None:
    import json

    print(json.dumps(value, indent=2, default=str, sort_keys=True))


# -- commands ---------------------------------------------------------------------------------


def _no_workspace_yet(folder: Path) -> None:
    from vrp_desktop.errors import WorkspaceError
    from vrp_desktop.store.files import is_workspace

    if is_workspace(folder):
        raise WorkspaceError(
            f"There is already a workspace in {folder}. Open it, or choose an empty folder."
        )


def _init_kind(args: argparse.Namespace) -> str:
    if args.coordinator and args.custodian:
        raise VrpError(
            "A workspace is either the VRP's (--coordinator) or the linkage custodian's "
            "(--custodian), never both: the custodian must not be the VRP."
        )
    return "coordinator" if args.coordinator else "custodian" if args.custodian else "provider"


def cmd_init(args: argparse.Namespace) -> int:
    from vrp_desktop.staging import staged_folder
    from vrp_desktop.workspace import Workspace

    target = Path(args.workspace)
    _no_workspace_yet(target)
    _init_kind(args)
    if args.database is not None:
        from vrp_desktop.store.server import server_url

        if not args.coordinator:
            raise VrpError(
                "Only a VRP coordinator's records can live on a database server; a provider's "
                "stay in its encrypted workspace file. Add --coordinator, or leave out --database."
            )
        server_url(args.database)  # a bad address (or one with a password) before the prompt
    passphrase = _read_secret(args, prompt=f"New passphrase for {args.user}", confirm=True)
    # built beside its place and renamed at the end: a crash leaves no half-made workspace
    with staged_folder(target) as folder:
        ws, code = Workspace.create(
            folder,
            provider_code=args.provider_code,
            provider_name=args.provider_name,
            username=args.user,
            passphrase=passphrase,
            display_name=args.display_name,
            kind=_init_kind(args),
            role="coordinator" if args.coordinator else "manager",
            database=args.database,
        )
        with ws:
            if args.coordinator:
                from vrp_desktop.sync import coordinator

                coordinator.setup(ws, partnership_name=args.provider_name)
            if args.custodian:
                from vrp_desktop.sync import linkage

                info = linkage.setup_custodian(ws, args.provider_name)
                print(f"Linkage custodian ready; your fingerprint is {info['fingerprint']}.")
    print(f"Workspace created in {args.workspace} for user {args.user}.")
    print()
    print("RECOVERY CODE (shown once; print it or write it down and keep it locked away):")
    print(f"    {code}")
    print("It unlocks the workspace if every passphrase is forgotten. Anyone who has it can read")
    print("the data, so never keep it on this laptop.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import time

    from vrp_desktop.services import demo
    from vrp_desktop.staging import staged_folder
    from vrp_desktop.store.files import is_workspace
    from vrp_desktop.workspace import Workspace

    folder = Path(args.workspace)
    started = time.perf_counter()
    if not is_workspace(folder):
        passphrase = _read_secret(args, prompt="New passphrase for the demo user", confirm=True)
        # a new demo workspace appears whole, with its data, or not at all
        with staged_folder(folder) as staging:
            ws, code = Workspace.create(
                staging,
                provider_code="DEMO",
                provider_name="Demo Youth Project",
                username=args.user or "demo",
                passphrase=passphrase,
                display_name="Demo Manager",
            )
            with ws:
                counts = demo.generate(
                    ws, participants=args.participants, sessions=args.sessions, seed=args.seed
                )
        print(f"Created demo workspace {folder} (user {args.user or 'demo'}); recovery code {code}")
    else:
        with _open(args) as ws:
            counts = demo.generate(
                ws, participants=args.participants, sessions=args.sessions, seed=args.seed
            )
    took = time.perf_counter() - started
    print(", ".join(f"{n} {k}" for k, n in counts.items()) + f" added in {took:.1f} s.")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from vrp_desktop.services import summary

    with _open(args) as ws:
        provider = ws.own_provider()
        info = {
            "workspace": str(ws.folder),
            "workspace_id": ws.workspace_id,
            "kind": ws.kind,
            "provider": {"code": provider.code, "name": provider.name},
            "user": {"username": ws.user.username, "role": ws.user.role},
            "users": ws.slots.usernames(),
            **summary.summary(ws),
            "software_version": _version(),
        }
    if args.json:
        _print_json(info)
        return 0
    held = " (imported from providers)" if info["kind"] == "coordinator" else ""
    print(f"Workspace    {info['workspace']} ({info['kind']})")
    print(f"Provider     {provider.name} [{provider.code}]")
    print(f"Signed in    {info['user']['username']} ({info['user']['role']})")
    print(f"Users        {', '.join(info['users'])}")
    print(f"Participants {info['participants']}{held}")
    print(f"Sessions     {info['sessions']}{held}")
    if info["kind"] == "coordinator":
        print(f"Batches      {info['batches_imported']} imported")
    else:
        print(f"To fix       {info['needing_attention']} records need attention")
    print(f"Schema       {info['schema_revision']}   software {info['software_version']}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from vrp_desktop.services import quality

    with _open(args) as ws:
        result = quality.revalidate_all(ws)
        items = quality.needing_attention(ws, limit=10_000)
    if args.json:
        _print_json({"checked": result, "needing_attention": items})
    else:
        print(f"Checked {sum(result.values())} records: {len(items)} need attention.")
        for item in items[:200]:
            for finding in item["findings"]:
                print(
                    f"  {item['entity']} {item['id']}: [{finding['severity']}] "
                    f"{finding['field']}: {finding['message']}"
                )
    return 2 if any(f["severity"] == "error" for i in items for f in i["findings"]) else 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from vrp_desktop.services import audit, backup

    anchors = []
    for path in getattr(args, "anchor", None) or ():
        head = audit.Head.from_value(backup.audit_anchor(Path(path)))
        if head is None:
            raise VrpError(f"{path} is not a backup that records the audit log's head.")
        anchors.append(head)
    with _open(args) as ws, ws.read() as session:
        report = audit.verify(session, tuple(anchors))
    print(report.message(), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 5


def cmd_audit_log(args: argparse.Namespace) -> int:
    from vrp_desktop import clock
    from vrp_desktop.services import audit

    with _open(args) as ws:
        ws.require("read_audit")
        with ws.read() as session:
            found = audit.events(session, entity_id=args.record, limit=args.limit)
    if args.json:
        _print_json(found)
        return 0
    for e in found:
        what = f"{e['entity']} {e['entity_id']}" if e["entity_id"] else e["entity"]
        line = f"{e['seq']:>6}  {clock.show(e['at'])}  {e['username']:<12} {e['action']:<24} {what}"
        print(line + (f"\n        reason: {e['reason']}" if e["reason"] else ""))
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from vrp_desktop.services import users

    with _open(args) as ws:
        secret = _read_secret(
            args,
            env="VRP_NEW_PASSPHRASE",
            prompt=f"Passphrase for {args.name}",
            confirm=True,
            file_attr="new_passphrase_file",
        )
        users.add_user(ws, args.name, secret, role=args.role, display_name=args.display_name)
    print(f"User {args.name} added as {args.role}. They sign in with their own passphrase.")
    return 0


def cmd_user_remove(args: argparse.Namespace) -> int:
    from vrp_desktop.services import users

    with _open(args) as ws:
        print(users.remove_user(ws, args.name))
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    from vrp_desktop.services import users

    with _open(args) as ws:
        secret = _read_secret(
            args,
            env="VRP_NEW_PASSPHRASE",
            prompt="New passphrase",
            confirm=True,
            file_attr="new_passphrase_file",
        )
        users.change_passphrase(ws, secret, username=args.name)
    print(f"Passphrase changed for {args.name or ws.user.username}.")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    from vrp_desktop.services import users

    with _open(args) as ws:
        for u in users.list_users(ws):
            print(f"{u['username']:<20} {u['role']:<12} {'active' if u['active'] else 'removed'}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from vrp_desktop.services import backup
    from vrp_desktop.store import server

    if server.is_server_workspace(Path(args.workspace)):
        raise VrpError(server.pg_dump_hint(Path(args.workspace)))
    out = check_output_file(Path(args.file), "backup")
    with _open(args) as ws:
        try:
            path = backup.backup(ws, out)
        except OSError as exc:
            raise VrpError(
                f"The backup could not be written to {out} ({exc.strerror or exc}). Choose a "
                "folder you can write to, on a disk with room. Nothing was written there."
            ) from None
    print(f"Backup written to {path}. It opens only with a passphrase or the recovery code.")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from vrp_desktop.services import backup

    recovery = os.environ.get("VRP_RECOVERY_CODE") if args.recovery else None
    if args.recovery and not recovery:
        import getpass

        recovery = getpass.getpass("Recovery code: ")
    user = args.user or os.environ.get("VRP_USER")
    if not recovery and not user:
        names = backup.backup_usernames(Path(args.file))
        if len(names) != 1:
            raise VrpError(
                f"This backup has several users ({', '.join(names)}): say whose passphrase "
                "opens it with --user, or use --recovery."
            )
        user = names[0]  # the only user is the default, as when opening a workspace
    passphrase = (
        None if recovery else _read_secret(args, prompt=f"Passphrase for {user} in the backup")
    )
    backup.restore(
        Path(args.file),
        Path(args.workspace),
        username=user,
        passphrase=passphrase,
        recovery_code=recovery,
    )
    print(
        f"Restored {args.file} into {args.workspace}. Any files it replaced were moved to "
        f"{Path(args.workspace) / 'backups'}."
    )
    return 0


def cmd_measure_score(args: argparse.Namespace) -> int:
    from vrp_desktop.errors import NotFound
    from vrp_desktop.measures.scoring import score
    from vrp_desktop.services.frameworks import builtin_catalog

    catalog = builtin_catalog()
    try:
        definition = catalog.measure(args.measure_id)
    except NotFound:
        ids = ", ".join(m.id for m in catalog.measures())
        raise VrpError(
            f"There is no measure {args.measure_id!r} on this device. The measures are: {ids}."
        ) from None
    answers: list[int | None] = []
    for raw in args.answers:
        if raw in ("-", ""):
            answers.append(None)
            continue
        try:
            answers.append(int(raw))
        except ValueError:
            raise VrpError(
                f"{raw!r} is not an answer: give whole numbers, or - for a missing item."
            ) from None
    try:
        result = score(definition, answers)
    except ValueError as exc:
        raise VrpError(str(exc)) from None
    _print_json(
        {
            "measure": definition.id,
            "scoring_version": result.scoring_version,
            "scores": result.scores,
            "bands": result.bands,
            "notes": result.notes,
            "missing_items": result.missing_items,
        }
    )
    return 0


# -- parser -----------------------------------------------------------------------------------


def _workspace_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("workspace", help="workspace folder")
    p.add_argument("--user", help="who is signing in (default: VRP_USER, or the only user)")
    p.add_argument("--passphrase-file", help="read the passphrase from this file")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vrp", description="VRP Desktop command line.")
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="create a workspace")
    p.add_argument("workspace")
    p.add_argument("--provider-code", required=True)
    p.add_argument("--provider-name", required=True)
    p.add_argument("--user", required=True, help="the first user (a provider manager)")
    p.add_argument("--display-name")
    p.add_argument("--coordinator", action="store_true", help="a VRP coordinator workspace")
    p.add_argument(
        "--custodian", action="store_true", help="a linkage custodian's workspace (not the VRP)"
    )
    p.add_argument(
        "--database",
        help="keep the coordinator's records on this PostgreSQL server: "
        "postgresql://USER@HOST[:PORT]/DBNAME (no password: use ~/.pgpass or PGSERVICE)",
    )
    p.add_argument("--passphrase-file")
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("demo", help="add a synthetic dataset (creates the workspace if missing)")
    _workspace_args(p)
    p.add_argument("--participants", type=int, default=300)
    p.add_argument("--sessions", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("info", help="summary of a workspace")
    _workspace_args(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_info)

    p = sub.add_parser("validate", help="re-check every record against its framework")
    _workspace_args(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_validate)

    audit = sub.add_parser("audit", help="the audit log").add_subparsers(dest="sub", required=True)
    p = audit.add_parser("verify", help="check the audit log's hash chain")
    _workspace_args(p)
    p.add_argument(
        "--anchor",
        action="append",
        metavar="BACKUP",
        help="also check the log reaches the head recorded in this backup file (repeatable)",
    )
    p.set_defaults(handler=cmd_audit_verify)
    p = audit.add_parser("log", help="the newest events, with the reasons given (managers)")
    _workspace_args(p)
    p.add_argument("--record", help="only events about this record id")
    p.add_argument("--limit", type=int, default=50, help="how many events (default 50)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_audit_log)

    user = sub.add_parser("user", help="manage users").add_subparsers(dest="sub", required=True)
    p = user.add_parser("add", help="add a user with their own passphrase")
    _workspace_args(p)
    p.add_argument("name")
    p.add_argument(
        "--role", default="worker", choices=("worker", "manager", "coordinator", "admin")
    )
    p.add_argument("--display-name")
    p.add_argument(
        "--new-passphrase-file", help="the new user's passphrase (else VRP_NEW_PASSPHRASE)"
    )
    p.set_defaults(handler=cmd_user_add)
    p = user.add_parser("remove", help="remove a user and their key slot")
    _workspace_args(p)
    p.add_argument("name")
    p.set_defaults(handler=cmd_user_remove)
    p = user.add_parser("passwd", help="change a passphrase (yours, or another user's as manager)")
    _workspace_args(p)
    p.add_argument("name", nargs="?")
    p.add_argument("--new-passphrase-file")
    p.set_defaults(handler=cmd_user_passwd)
    p = user.add_parser("list", help="list users")
    _workspace_args(p)
    p.set_defaults(handler=cmd_user_list)

    p = sub.add_parser("backup", help="write an encrypted backup file")
    _workspace_args(p)
    p.add_argument("file")
    p.set_defaults(handler=cmd_backup)

    p = sub.add_parser("restore", help="restore a backup file into a workspace folder")
    p.add_argument("file")
    p.add_argument("workspace")
    p.add_argument("--user", help="a user whose passphrase opens the backup")
    p.add_argument("--passphrase-file")
    p.add_argument(
        "--recovery",
        action="store_true",
        help="use the recovery code (from VRP_RECOVERY_CODE or a prompt)",
    )
    p.set_defaults(handler=cmd_restore)

    measure = sub.add_parser("measure", help="questionnaires").add_subparsers(
        dest="sub", required=True
    )
    p = measure.add_parser("score", help="score answers (in item order; - for missing)")
    p.add_argument("measure_id")
    p.add_argument("answers", nargs="*")
    p.set_defaults(handler=cmd_measure_score)

    import importlib

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(sub, _workspace_args)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if list(sys.argv[1:] if argv is None else argv) == ["--version"]:
        print(f"vrp {_version()}")  # no parser of some sixty sub-commands just for this
        return 0
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        for name in OUTPUT_ARGUMENTS:
            if getattr(args, name, None):
                if name in getattr(args, "output_folders", ()):
                    check_output_folder(Path(getattr(args, name)))
                else:
                    check_output_file(Path(getattr(args, name)))
        code = args.handler(args)
        sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
        return code
    except VrpError as exc:
        print(f"vrp: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # the reader of our output went away (``vrp ... | head``): not a path problem, and
        # nothing more to say; stdout goes to /dev/null so the exit flush cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # a file or folder the person named: say which, and what to do
        where = f" {exc.filename}" if exc.filename else ""
        print(
            f"vrp: cannot use{where}: {exc.strerror or type(exc).__name__}. Check the path and "
            "that you may read or write there, then run the command again.",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("vrp: interrupted; nothing was half-written.", file=sys.stderr)
        return 130
    except Exception as exc:  # last resort: no traceback, no data, a pointer to what to do
        print(
            f"vrp: unexpected error ({type(exc).__name__}). Nothing was changed by the failed "
            "step. Run again with VRP_DEBUG=1 to see details for a bug report.",
            file=sys.stderr,
        )
        if os.environ.get("VRP_DEBUG"):
            raise
        return 70


if __name__ == "__main__":
    sys.exit(main())
