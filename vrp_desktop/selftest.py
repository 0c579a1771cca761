"""``vrp-desktop --self-test``: prove this copy of the app works on this computer.

A support person runs it (from a bundle or from source) and reads one report: the versions of
Python, SQLite, SQLCipher, Qt and the app, then one line per check, PASS, FAIL or SKIP. Every check
works on a throwaway encrypted workspace in a temporary folder, with made-up records, so the
report never holds personal data and the person's own workspaces are never opened.

This part is Qt-free; ``ui/selftest.py`` adds the window check and the Qt version line. Set
``VRP_SELFTEST_FAIL=<check name>`` to make one check fail on purpose (to see a failing report).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import importlib
import os
import platform
import secrets
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

FAIL_ENV = "VRP_SELFTEST_FAIL"
USERNAME = "selftest"
NOT_AVAILABLE = "not available in this build"


class Skip(Exception):
    """A check that does not apply to this build (for example, a feature not shipped yet)."""


@dataclasses.dataclass
class Context:
    """What the checks share: the throwaway folder, its workspace and the secret opening it."""

    root: Path
    workspace: Path
    passphrase: str
    username: str = USERNAME
    ws: Any = None  # the open Workspace while core checks run
    ids: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Result:
    name: str
    status: str  # "PASS" | "FAIL" | "SKIP"
    detail: str
    seconds: float


Check = Callable[[Context], str]


# -- versions -----------------------------------------------------------------------------------


def versions(qt: str | None = None) -> list[tuple[str, str]]:
    """(label, value) lines for the report header; never raises."""
    from vrp_desktop import __version__

    lines = [
        ("VRP Desktop", __version__ + (" (bundle)" if getattr(sys, "frozen", False) else "")),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("System", f"{platform.system()} {platform.release()} {platform.machine()}"),
    ]
    try:
        import sqlcipher3

        conn = sqlcipher3.connect(":memory:")
        try:
            cipher = conn.execute("PRAGMA cipher_version").fetchone()
            sqlite = conn.execute("SELECT sqlite_version()").fetchone()[0]
        finally:
            conn.close()
        lines.append(("SQLite", sqlite))
        lines.append(("SQLCipher", cipher[0] if cipher else "MISSING (not an encrypting build)"))
    except Exception as exc:  # reported, and the store checks fail on their own
        lines.append(("SQLCipher", f"cannot load ({type(exc).__name__})"))
    lines.append(("Qt", qt or "not checked (the window part did not run)"))
    return lines


# -- the checks ---------------------------------------------------------------------------------


def check_resources(ctx: Context) -> str:
    """Frameworks, measures, icons and the style sheet are found where the bundle keeps them."""
    from vrp_desktop.paths import resource_path
    from vrp_desktop.services.frameworks import builtin_catalog

    catalog = builtin_catalog()
    frameworks = catalog.frameworks()
    measures = catalog.measures()
    icons = sorted(resource_path("icons").glob("*.svg"))
    style = resource_path("styles", "app.qss")
    if not icons or not style.is_file():
        raise RuntimeError(f"icons or style sheet missing under {resource_path()}")
    if not frameworks or not measures:
        raise RuntimeError("no built-in frameworks or measures were loaded")
    return f"{len(frameworks)} frameworks, {len(measures)} measures, {len(icons)} icons"


def check_create_workspace(ctx: Context) -> str:
    """A new encrypted workspace: key slots, SQLCipher store, migrations to the newest schema."""
    from vrp_desktop.store import files, migrate
    from vrp_desktop.workspace import Workspace

    started = time.perf_counter()
    ws, _code = Workspace.create(
        ctx.workspace,
        provider_code="SELFTEST",
        provider_name="Self-test provider",
        username=ctx.username,
        passphrase=ctx.passphrase,
        display_name="Self-test manager",
    )
    ctx.ws = ws
    took = time.perf_counter() - started
    header = files.db_path(ctx.workspace).read_bytes()[:16]
    if header.startswith(b"SQLite format 3"):
        raise RuntimeError("the store was written unencrypted")
    revision = migrate.current_revision(ws.engine)
    if revision != migrate.head_revision():
        raise RuntimeError(f"schema at {revision}, expected {migrate.head_revision()}")
    return f"encrypted store at schema {revision} in {took:.1f} s"


def check_unlock(ctx: Context) -> str:
    """Close, then open again with the passphrase; a wrong one is refused and changes nothing."""
    from vrp_desktop.errors import WrongPassphrase
    from vrp_desktop.workspace import Workspace

    _need_workspace(ctx)
    ctx.ws.close()
    ctx.ws = None
    before = _snapshot(ctx.workspace)
    try:
        Workspace.open(ctx.workspace, ctx.username, ctx.passphrase + " wrong")
    except WrongPassphrase:
        pass
    else:
        raise RuntimeError("a wrong passphrase opened the workspace")
    if _snapshot(ctx.workspace) != before:
        raise RuntimeError("a wrong passphrase changed a file in the workspace")
    started = time.perf_counter()
    ctx.ws = Workspace.open(ctx.workspace, ctx.username, ctx.passphrase)
    return f"wrong passphrase refused; unlocked in {time.perf_counter() - started:.1f} s"


def check_records(ctx: Context) -> str:
    """Write a participant, an enrolment and a group session with a register; read them back."""
    from vrp_desktop.services import enrolments, interventions, participants, sessions

    ws = _need_workspace(ctx)
    today = dt.date.today()
    intervention = interventions.create_intervention(
        ws, name="Self-test football", framework_id="sports_diversion", setting="community"
    )
    mentoring = interventions.create_intervention(
        ws, name="Self-test mentoring", framework_id="mentoring", setting="community"
    )
    person = participants.create_participant(
        ws,
        {
            "first_name": "Test",
            "last_name": "Person",
            "date_of_birth": today.replace(year=today.year - 15) - dt.timedelta(days=40),
            "gender": "female",
            "ethnicity": "white_british",
            "postcode": "B5 4TJ",
            "consent_status": "given",
            "consent_date": today - dt.timedelta(days=30),
        },
    )
    for target in (intervention, mentoring):
        enrolments.enrol(
            ws,
            person["id"],
            target["id"],
            {
                "referral_source": "police",
                "referral_date": today - dt.timedelta(days=30),
                "start_date": today - dt.timedelta(days=28),
            },
        )
    session = sessions.log_session(
        ws,
        intervention["id"],
        {
            "starts_at": dt.datetime.combine(today - dt.timedelta(days=1), dt.time(18, 30)),
            "duration_minutes": 90,
            "session_type": "group",
            "mode": "in_person",
            "location_type": "sports_hall",
            "activities": ["football"],
        },
        [person["id"]],
    )
    ctx.ids.update(participant=person["id"], intervention=mentoring["id"], session=session["id"])
    stored = participants.get_participant(ws, person["id"])
    if stored["first_name"] != "Test" or stored["sync_state"] != "valid":
        raise RuntimeError(f"participant read back as {stored['sync_state']}, not valid")
    read = sessions.get_session(ws, session["id"])
    if len(read["attendees"]) != 1 or read["sync_state"] != "valid":
        raise RuntimeError(f"session read back with {len(read['attendees'])} attendees")
    if not participants.list_participants(ws, "tes"):
        raise RuntimeError("search by the first letters of a name found nobody")
    return "participant, 2 enrolments and a session with its register written and read back"


def check_questionnaire(ctx: Context) -> str:
    """Score a questionnaire: the stored scores match the scoring rules' own preview."""
    from vrp_desktop.services import outcomes

    ws = _need_workspace(ctx)
    if "participant" not in ctx.ids:
        raise RuntimeError("no participant to record for (the records check failed)")
    answers = [1] * 25
    response = outcomes.record_response(
        ws,
        ctx.ids["participant"],
        "sdq_s11_17",
        "baseline",
        answers,
        completed_on=dt.date.today() - dt.timedelta(days=27),
    )
    preview = outcomes.preview_scores("sdq_s11_17", answers)
    if response["scores"] != preview["scores"] or not response["scores"]:
        raise RuntimeError("stored scores differ from the scoring rules")
    return f"SDQ scored ({len(response['scores'])} scores, {response['scoring_version']})"


def check_audit(ctx: Context) -> str:
    """Every action above left an audit event, and the hash chain holds."""
    from vrp_desktop.services import audit

    ws = _need_workspace(ctx)
    with ws.read() as session:
        report = audit.verify(session)
    if not report.ok:
        raise RuntimeError(report.message())
    return report.message()


def check_backup(ctx: Context) -> str:
    """An encrypted backup restores into a new folder and opens with the same passphrase."""
    from vrp_desktop.services import backup, participants
    from vrp_desktop.workspace import Workspace

    ws = _need_workspace(ctx)
    out = backup.backup(ws, ctx.root / "selftest.vrpbackup")
    target = ctx.root / "restored"
    backup.restore(out, target, username=ctx.username, passphrase=ctx.passphrase)
    with Workspace.open(target, ctx.username, ctx.passphrase) as restored:
        count = participants.count_participants(restored)
    if count != participants.count_participants(ws):
        raise RuntimeError("the restored workspace holds a different number of participants")
    return f"backup of {out.stat().st_size // 1024} KiB restored and opened"


def check_keychain(ctx: Context) -> str:
    """The keyring backends are in this build; whether a keychain is usable is only reported."""
    from importlib.metadata import entry_points

    from vrp_desktop.crypto import remember

    backends = list(entry_points(group="keyring.backends"))
    if not backends:
        raise RuntimeError("no keyring backends are registered in this build")
    usable, reason = remember.availability()
    first_sentence = reason.split(". ")[0].rstrip(".")
    return ("usable: " if usable else "none usable here (passphrase only): ") + first_sentence


def check_batch(ctx: Context) -> str:
    """Send the records to a throwaway VRP and back: onboarding pack, join, signed and encrypted
    batch, coordinator import, receipt; the participant ends up accepted."""
    coordinator = _optional("vrp_desktop.sync.coordinator")
    onboarding = _optional("vrp_desktop.sync.onboarding")
    outbox = _optional("vrp_desktop.sync.outbox")
    batch_build = _optional("vrp_desktop.sync.batch_build")
    batch_import = _optional("vrp_desktop.sync.batch_import")
    receipts = _optional("vrp_desktop.sync.receipts")
    from vrp_desktop.services import participants
    from vrp_desktop.workspace import Workspace

    ws = _need_workspace(ctx)
    if "participant" not in ctx.ids:
        raise RuntimeError("no records to send (the records check failed)")
    transfer, box = ctx.root / "transfer", ctx.root / "outbox"
    transfer.mkdir()
    box.mkdir()
    vrp, _code = Workspace.create(
        ctx.root / "coordinator",
        provider_code="VRP",
        provider_name="Self-test partnership",
        username="coordinator",
        passphrase=ctx.passphrase,
        role="coordinator",
        kind="coordinator",
    )
    with vrp:
        coordinator.setup(vrp, partnership_name="Self-test partnership")
        pack = transfer / "selftest.vrponboard"
        added = coordinator.add_provider(vrp, code="SELFTEST", name="Self-test provider", out=pack)
        joined = onboarding.join(ws, pack, added["one_time_code"])
        outbox.set_outbox_folder(ws, box)
        coordinator.pin_provider(
            vrp, Path(joined["key_file"]), expect_fingerprint=joined["provider_fingerprint"]
        )
        built = batch_build.build_batch(ws)
        report = batch_import.import_batch(vrp, Path(built["file"]))
    if report.counts.get("rejected") or report.counts.get("accepted") != built["records"]:
        raise RuntimeError(f"the VRP accepted {report.counts} of {built['records']} records")
    receipts.import_receipt(ws, Path(report.receipt))
    state = participants.get_participant(ws, ctx.ids["participant"])["sync_state"]
    if state != "accepted":
        raise RuntimeError(f"after the receipt the participant is {state}, not accepted")
    return f"batch of {built['records']} records sent, imported by the VRP, receipt applied"


def check_return(ctx: Context) -> str:
    """Export the quarterly return workbook and read it back with openpyxl."""
    workbook = _optional("vrp_desktop.returns.workbook")
    quarters = _optional("vrp_desktop.returns.quarters")
    from openpyxl import load_workbook

    ws = _need_workspace(ctx)
    quarter = quarters.quarter_of(dt.date.today() - dt.timedelta(days=1))  # the session's day
    data, path = workbook.export_return(ws, quarter, ctx.root / "return.xlsx")
    book = load_workbook(path, read_only=True)
    try:
        names = book.sheetnames
        cells = [c for row in book[names[0]].iter_rows(values_only=True) for c in row]
    finally:
        book.close()
    if names != [sheet.name for sheet in data.sheets]:
        raise RuntimeError("the workbook's sheets differ from the return that was built")
    if "Self-test provider" not in " ".join(str(c) for c in cells if c is not None):
        raise RuntimeError("the cover sheet does not name the provider")
    return f"{quarter.label} return: {len(names)} sheets written and read back"


CORE_CHECKS: tuple[tuple[str, Check], ...] = (
    ("resources", check_resources),
    ("workspace", check_create_workspace),
    ("unlock", check_unlock),
    ("records", check_records),
    ("questionnaire", check_questionnaire),
    ("audit", check_audit),
    ("backup", check_backup),
    ("keychain", check_keychain),
    ("batch", check_batch),
    ("return", check_return),
)


# -- helpers ------------------------------------------------------------------------------------


def _need_workspace(ctx: Context):
    if ctx.ws is None:
        raise RuntimeError("no workspace (an earlier check failed)")
    return ctx.ws


def _optional(module: str):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name and module.startswith(exc.name):
            raise Skip(f"{module.rsplit('.', 1)[-1]}: {NOT_AVAILABLE}") from None
        raise


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _describe(exc: BaseException) -> str:
    """A one-line reason without personal data: our errors' messages are written that way; for
    anything else, the type and the place it was raised."""
    from vrp_desktop.errors import VrpError

    if isinstance(exc, VrpError | RuntimeError | Skip):
        return str(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{where}"


@contextlib.contextmanager
def _scratch(workdir: Path | None) -> Iterator[Path]:
    """A private temporary folder; per-user state (unlock counters) is redirected into it too."""
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="vrp-selftest-", dir=workdir))
    saved = {key: os.environ.get(key) for key in ("VRP_STATE_DIR",)}
    os.environ["VRP_STATE_DIR"] = str(root / "state")
    try:
        yield root
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(root, ignore_errors=True)


def run_checks(
    checks: Sequence[tuple[str, Check]], ctx: Context, report: Callable[[Result], None]
) -> list[Result]:
    injected = os.environ.get(FAIL_ENV, "")
    results = []
    for name, check in checks:
        started = time.perf_counter()
        try:
            if name == injected:
                raise RuntimeError(f"failure injected by {FAIL_ENV}")
            result = Result(name, "PASS", check(ctx), time.perf_counter() - started)
        except Skip as exc:
            result = Result(name, "SKIP", str(exc), time.perf_counter() - started)
        except Exception as exc:
            result = Result(name, "FAIL", _describe(exc), time.perf_counter() - started)
            if os.environ.get("VRP_DEBUG"):
                traceback.print_exc()
        results.append(result)
        report(result)
    return results


def run(
    *,
    extra_checks: Sequence[tuple[str, Check]] = (),
    qt_version: Callable[[], str] | str | None = None,
    workdir: Path | None = None,
    out: TextIO | None = None,
) -> int:
    """Run every check and print the report; 0 when nothing failed, 1 otherwise.

    ``extra_checks`` run after the core ones, with the core workspace closed (the window check
    opens it the way a person would). ``qt_version`` is the Qt line for the header.
    """
    out = out or sys.stdout or open(os.devnull, "w")  # noqa: SIM115 (windowed: no stdout)

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    def line(result: Result) -> None:
        say(f"  {result.status:<4}  {result.name:<14} {result.detail}  ({result.seconds:.1f} s)")

    started = time.perf_counter()
    say("VRP Desktop self-test")
    qt = qt_version() if callable(qt_version) else qt_version
    for label, value in versions(qt):
        say(f"  {label:<12} {value}")
    say()
    results: list[Result] = []
    try:
        scratch = _scratch(workdir)
        root = scratch.__enter__()
    except OSError as exc:
        results.append(Result("scratch", "FAIL", f"cannot make a temporary folder: {exc}", 0))
        line(results[-1])
    else:
        try:
            ctx = Context(root, root / "workspace", secrets.token_urlsafe(18))
            results += run_checks(CORE_CHECKS, ctx, line)
            if ctx.ws is not None:
                ctx.ws.close()
                ctx.ws = None
            results += run_checks(extra_checks, ctx, line)
        finally:
            scratch.__exit__(None, None, None)
    failed = [r for r in results if r.status == "FAIL"]
    skipped = [r for r in results if r.status == "SKIP"]
    say()
    verdict = "FAIL" if failed else "PASS"
    say(
        f"Result: {verdict} ({len(results) - len(failed) - len(skipped)} passed, "
        f"{len(failed)} failed, {len(skipped)} skipped, {time.perf_counter() - started:.1f} s)"
    )
    if failed:
        say("Send this report to whoever supports VRP Desktop for you; it holds no personal data.")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m vrp_desktop.selftest [--workdir DIR]``: the checks without the window."""
    import argparse

    parser = argparse.ArgumentParser(prog="vrp-selftest", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, help="make the temporary workspace in DIR")
    args = parser.parse_args(argv)
    return run(workdir=args.workdir)


if __name__ == "__main__":
    sys.exit(main())
