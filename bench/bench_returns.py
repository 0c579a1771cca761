"""Returns, record export and spreadsheet import at scale.

    .venv/bin/python -m bench.bench_returns [--quick] [--workspace DIR]

Builds one workspace (100k participants, 1M sessions; --quick: 10k / 100k) through the
validated bulk path and reuses it for every measurement. Each measurement runs in a child
process so its peak memory (max RSS, from wait4) is its own. Figures are printed beside
baselines measured in the same run; nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSPHRASE = "bench horse battery staple"
USER = "bench"
END = dt.datetime(2027, 1, 20, 18, 0)
QUARTER = "2026-27 Q2"


# -- building the data ------------------------------------------------------------------------


def build(folder: Path, participants: int, sessions: int) -> None:
    from vrp_desktop.ids import uuid7
    from vrp_desktop.services import bulk, demo, interventions
    from vrp_desktop.services import frameworks as fw_service
    from vrp_desktop.services.pseudonyms import new_reference
    from vrp_desktop.workspace import Workspace

    rng = random.Random(5)
    ws, _ = Workspace.create(
        folder,
        provider_code="BENCH",
        provider_name="Bench Youth Project",
        username=USER,
        passphrase=PASSPHRASE,
    )
    with ws:
        progs = []
        for name, fw_id, setting, area in demo.PROGRAMMES:
            row = interventions.create_intervention(
                ws, name=name, framework_id=fw_id, setting=setting, area=area
            )
            with ws.read() as s:
                progs.append((row, fw_service.get(s, fw_id)))
        start = END - dt.timedelta(days=548)
        people, enrols, active = [], [], {row["id"]: [] for row, _ in progs}
        for n in range(participants):
            row, fw = progs[n % 4]
            begin = start.date() + dt.timedelta(days=rng.randrange(540))
            age = rng.randint(max(fw.eligible_ages.min, 10), min(fw.eligible_ages.max, 24))
            dob = begin.replace(year=begin.year - age, day=min(begin.day, 28)) - dt.timedelta(
                days=rng.randint(1, 300)
            )
            pid = uuid7()
            people.append(
                {
                    "id": pid,
                    "reference": new_reference() + f"{n:06d}",
                    "first_name": rng.choice(demo.FIRST_NAMES),
                    "last_name": f"Bench{n}",
                    "date_of_birth": dob,
                    "gender": rng.choice(list(demo.GENDER_WEIGHTS)),
                    "ethnicity": rng.choice(list(demo.ETHNICITY_WEIGHTS)),
                    "postcode_district": rng.choice(demo.DISTRICTS),
                    "consent_status": "given",
                    "consent_date": begin,
                }
            )
            end = begin + dt.timedelta(days=rng.randint(60, 300))
            exited = end < END.date()
            e = {
                "id": uuid7(),
                "participant_id": pid,
                "intervention_id": row["id"],
                "referral_source": fw.referral_sources[0].code,
                "referral_date": begin,
                "start_date": begin,
                "end_date": end if exited else None,
                "exit_reason": fw.exit_reasons[0].code if exited else None,
            }
            enrols.append(e)
            active[row["id"]].append(e)
        responses = []
        for e, (_row, fw) in ((e, progs[k % 4]) for k, e in enumerate(enrols)):
            if not fw.measures:
                continue
            m = fw_service.measure(fw.measures[0].measure_id)
            for tp, on in (("baseline", e["start_date"]), ("exit", e["end_date"])):
                if on is not None:
                    responses.append(
                        {
                            "id": uuid7(),
                            "participant_id": e["participant_id"],
                            "enrolment_id": e["id"],
                            "measure_id": m.id,
                            "timepoint": tp,
                            "completed_on": on,
                            "answers": [rng.choice(m.allowed_values) for _ in m.items],
                        }
                    )
        bulk.bulk_insert(
            ws, participants=people, enrolments=enrols, responses=responses, action="bench.people"
        )
        print(f"  {participants:,} participants, {len(responses):,} questionnaires", flush=True)
        span = int((END - start).total_seconds())
        by_prog = {k: sorted(v, key=lambda e: e["start_date"]) for k, v in active.items()}
        done = 0
        chunk = 100_000
        while done < sessions:
            rows, regs = [], []
            for k in range(min(chunk, sessions - done)):
                row, fw = progs[(done + k) % 4]
                when = start + dt.timedelta(seconds=rng.randrange(span))
                when = when.replace(minute=0, second=0, microsecond=0)
                pool = by_prog[row["id"]]
                kind = (
                    "group"
                    if "group" in fw.session_types and rng.random() < 0.3
                    else ("one_to_one" if "one_to_one" in fw.session_types else fw.session_types[0])
                )
                who = {
                    rng.choice(pool)["participant_id"]
                    for _ in range(rng.randint(3, 6) if kind == "group" else 1)
                }
                sid = uuid7()
                rows.append(
                    {
                        "id": sid,
                        "intervention_id": row["id"],
                        "starts_at": when,
                        "duration_minutes": 60,
                        "session_type": kind,
                        "mode": fw.modes[0],
                        "location_type": fw.location_types[0].code,
                        "staff": ["b"],
                        "activities": [fw.activities[0].code],
                        "status": "delivered",
                        "notes": None,
                    }
                )
                regs += [
                    {"id": uuid7(), "session_id": sid, "participant_id": p, "status": "attended"}
                    for p in who
                ]
            bulk.bulk_insert(ws, sessions=rows, attendances=regs, action="bench.sessions")
            done += len(rows)
            print(f"  {done:,} sessions", flush=True)


# -- children (each measured in its own process) ---------------------------------------------


def _open(folder: str):
    from vrp_desktop.workspace import Workspace

    return Workspace.open(Path(folder), USER, PASSPHRASE)


def _peak_mb() -> float:
    """This process's peak RSS (VmHWM resets at exec, unlike ru_maxrss after a fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak(result: dict) -> None:
    """Keep the peak so far (unlocking: the key derivation alone takes 128 MiB) and start
    counting afresh, so the figure is the measured step's own (Linux: clear_refs 5)."""
    result["peak_open_mb"] = _peak_mb()
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def child(kind: str, folder: str, out: str, extra: str) -> dict:
    started = time.perf_counter()
    result: dict = {}
    if kind == "return":
        from vrp_desktop.returns import workbook
        from vrp_desktop.returns.quarters import parse_quarter

        with _open(folder) as ws:
            _reset_peak(result)
            started = time.perf_counter()  # the export itself, not unlocking the workspace
            cpu = time.process_time()
            workbook.export_return(ws, parse_quarter(QUARTER), Path(out))
            result["cpu_seconds"] = time.process_time() - cpu
    elif kind == "count":
        from sqlalchemy import text

        with _open(folder) as ws, ws.engine.connect() as conn:
            _reset_peak(result)
            started, cpu = time.perf_counter(), time.process_time()
            result["n"] = conn.execute(
                text(
                    "SELECT COUNT(*) FROM attendance a JOIN session s ON s.id = a.session_id "
                    "WHERE s.starts_at >= '2026-07-01' AND s.starts_at < '2026-10-01'"
                )
            ).scalar()
            result["cpu_seconds"] = time.process_time() - cpu
    elif kind == "export":
        from vrp_desktop.returns.export import export_records

        with _open(folder) as ws:
            started = time.perf_counter()
            result["rows"] = sum(export_records(ws, Path(out)).values())
    elif kind == "bare":
        from openpyxl import Workbook

        rows = int(extra)
        sample = [
            (
                f"0190{k:028d}",
                "Friday Football",
                dt.datetime(2026, 7, 1, 18),
                60,
                "group",
                "in_person",
                "community_centre",
                "football",
                "delivered",
                "valid",
            )
            for k in range(1000)
        ]
        wb = Workbook(write_only=True)
        sheet = wb.create_sheet("Sessions")
        for k in range(rows):
            sheet.append(sample[k % 1000])
        wb.save(out)
        result["rows"] = rows
    elif kind.startswith("read-"):
        from vrp_desktop.spreadsheets.reader import open_reader

        n = 0
        with open_reader(Path(out), kind.removeprefix("read-")) as reader:
            for _ in reader.rows("Register"):
                n += 1
        result["rows"] = n
    elif kind.startswith("import-"):
        from vrp_desktop.spreadsheets.importer import import_xlsx
        from vrp_desktop.workspace import Workspace

        target = Path(extra)
        if target.exists():
            shutil.rmtree(target)
        ws, _ = Workspace.create(
            target,
            provider_code="IMP",
            provider_name="Import bench",
            username=USER,
            passphrase=PASSPHRASE,
        )
        from vrp_desktop.services import interventions

        interventions.create_intervention(
            ws, name="Trusted Mentors", framework_id="mentoring", setting="community"
        )
        started = time.perf_counter()
        with ws:
            report = import_xlsx(ws, Path(out), engine=kind.removeprefix("import-"))
        result["rows"] = report.rows_read
        result["imported"] = report.good_rows
    result["seconds"] = time.perf_counter() - started
    result["peak_mb"] = _peak_mb()
    return result


def run_child(kind: str, folder: str, out: str, extra: str = "") -> dict:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_returns", "--child", kind, folder, out, extra],
        stdout=subprocess.PIPE,
        env={**os.environ, "VRP_FAST_KDF": "1"},
    )
    _, status, _usage = os.wait4(proc.pid, 0)
    output = proc.stdout.read().decode()
    proc.stdout.close()
    if status != 0:
        raise SystemExit(f"child {kind} failed: {output}")
    result = json.loads(output.strip().splitlines()[-1])
    return result


def make_register(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    from vrp_desktop.spreadsheets.template import COLUMNS

    rng = random.Random(9)
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet("Register")
    sheet.append([c.header + (" *" if c.required else "") for c in COLUMNS])
    for n in range(rows):
        start = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(200))
        sheet.append(
            [
                f"Name{n}",
                f"Bench{n}",
                None,
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2009, 2013)}",
                rng.choice(["Male", "female", "Non-binary "]),
                "White: Irish",
                "B5 4TJ",
                "Consent given",
                start,
                None,
                None,
                "Trusted Mentors",
                "School or college",
                start,
                start,
                None,
                None,
            ]
        )
    wb.save(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workspace", help="reuse (or build and keep) the workspace here")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    os.environ["VRP_FAST_KDF"] = "1"
    participants, sessions = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
    register_rows = 5_000 if args.quick else 50_000
    tmp = Path(tempfile.mkdtemp(prefix="bench-returns-"))
    folder = Path(args.workspace) if args.workspace else tmp / "ws"
    try:
        if not (folder / "keyslots.json").exists():
            print(f"Building {participants:,} participants and {sessions:,} sessions (bulk path)")
            t = time.perf_counter()
            build(folder, participants, sessions)
            print(f"  built in {time.perf_counter() - t:.0f} s")
        print(f"\nProvider return {QUARTER} ({participants:,} participants, {sessions:,} sessions)")
        base = run_child("count", str(folder), "")
        ret = run_child("return", str(folder), str(tmp / "return.xlsx"))
        print(
            f"  return export        {ret['seconds']:7.2f} s (CPU {ret['cpu_seconds']:.2f} s)"
            f"   peak {ret['peak_mb']:6.0f} MB"
            f"   (target < 5 s, < 300 MB; {ret['peak_open_mb']:.0f} MB with unlocking)"
        )
        print(
            f"  baseline: one COUNT of the quarter's attendances {base['seconds']:.2f} s "
            f"(CPU {base['cpu_seconds']:.2f} s; {base['n']:,} rows), peak {base['peak_mb']:.0f} MB "
            f"(workspace open); ratio {ret['seconds'] / base['seconds']:.1f}x wall, "
            f"{ret['cpu_seconds'] / base['cpu_seconds']:.1f}x CPU"
        )

        print("\nRecord-level export (write-only, streamed)")
        exp = run_child("export", str(folder), str(tmp / "records.xlsx"))
        bare = run_child("bare", str(folder), str(tmp / "bare.xlsx"), str(exp["rows"]))
        print(
            f"  export               {exp['rows'] / exp['seconds']:9,.0f} rows/s "
            f"({exp['rows']:,} rows in {exp['seconds']:.1f} s)   peak {exp['peak_mb']:6.0f} MB"
            "   (target < 300 MB)"
        )
        print(
            f"  baseline: openpyxl write-only, same row count bare "
            f"{bare['rows'] / bare['seconds']:9,.0f} rows/s   peak {bare['peak_mb']:6.0f} MB"
        )

        print(f"\nSpreadsheet import ({register_rows:,} rows)")
        register = tmp / "register.xlsx"
        make_register(register, register_rows)
        for engine in ("calamine", "openpyxl"):
            read = run_child(f"read-{engine}", "", str(register))
            print(
                f"  read only, {engine:<9}  {read['rows'] / read['seconds']:9,.0f} rows/s "
                f"({read['seconds']:.2f} s)   peak {read['peak_mb']:6.0f} MB"
            )
        for engine in ("calamine", "openpyxl"):
            imp = run_child(f"import-{engine}", "", str(register), str(tmp / f"imp-{engine}"))
            print(
                f"  import, {engine:<9}     {imp['rows'] / imp['seconds']:9,.0f} rows/s "
                f"({imp['seconds']:.1f} s, {imp['imported']:,} imported)   "
                f"peak {imp['peak_mb']:6.0f} MB"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
