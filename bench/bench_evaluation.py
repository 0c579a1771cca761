"""The partnership's evaluation pack at scale, beside one COUNT over the same rows.

    .venv/bin/python -m bench.bench_evaluation [--quick] [--workspace DIR]

Builds one coordinator workspace holding imported records from four providers (100k people,
1M sessions and their rosters; --quick: 10k / 100k), written straight into the imported
tables (the import path is benchmarked by bench_sync). Each measurement runs in its own child
process so its peak memory (VmHWM) is its own. Nothing is asserted; the target is the issue's:
the partnership export in 5 s or less and 300 MB or less.
"""

from __future__ import annotations

import argparse
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
USER = "coord"
END = dt.date(2027, 1, 20)
PERIOD = "2026-27"
PROVIDERS = 4


def _score_pool(rng: random.Random) -> dict[str, list[dict]]:
    from vrp_desktop.measures.scoring import score
    from vrp_desktop.services import frameworks as fw_service

    pool = {}
    for m in fw_service.builtin_catalog().measures():
        pool[m.id] = [
            dict(score(m, [rng.choice(m.allowed_values) for _ in m.items]).scores)
            for _ in range(400)
        ]
    return pool


def build(folder: Path, people: int, sessions: int, database: str | None = None) -> None:
    from sqlalchemy import insert

    from vrp_desktop.services import frameworks as fw_service
    from vrp_desktop.store.models import Batch, Provider
    from vrp_desktop.store.sync_models import (
        ImportedAttendance,
        ImportedEnrolment,
        ImportedIntervention,
        ImportedParticipant,
        ImportedResponse,
        ImportedSession,
    )
    from vrp_desktop.workspace import Workspace

    rng = random.Random(13)
    pool = _score_pool(rng)
    frameworks = fw_service.builtin_catalog().frameworks()
    ws, _ = Workspace.create(
        folder,
        provider_code="VRP",
        provider_name="Bench VRP",
        username=USER,
        passphrase=PASSPHRASE,
        role="coordinator",
        kind="coordinator",
        database=database,  # a PostgreSQL coordinator (bench_server_reads)
    )
    held = {"version": 1, "batch_id": "bench", "content_sha256": "0" * 64}
    with ws:
        with ws.unit() as s:
            provs = [Provider(code=f"P{k:03d}", name=f"Provider {k}", is_self=False)
                     for k in range(PROVIDERS)]  # fmt: skip
            s.add_all(provs)
            s.flush()
            s.add(Batch(id="bench", provider_id=provs[0].id, direction="in", period=PERIOD,
                        status="imported", record_count=0))  # fmt: skip
            progs = []
            for p in provs:
                for fw in frameworks:
                    iid = f"i-{p.code}-{fw.id}"
                    s.execute(insert(ImportedIntervention), [{
                        "id": iid, "provider_id": p.id, **held, "framework_id": fw.id,
                        "framework_version": fw.version, "name": fw.name, "tier": "targeted",
                        "setting": fw.settings[0].code}])  # fmt: skip
                    progs.append((iid, p.id, fw))
        from vrp_desktop import codes

        genders, ethnicities = list(codes.GENDERS), list(codes.ETHNICITIES)
        start = END - dt.timedelta(days=548)
        enrolled: dict[str, list[tuple[str, dt.date]]] = {iid: [] for iid, _, _ in progs}
        rows = {"p": [], "e": [], "r": []}
        for n in range(people):
            iid, pid, fw = progs[n % len(progs)]
            person = f"pp{n:07d}"
            referred = start + dt.timedelta(days=rng.randrange(540))
            begin = referred + dt.timedelta(days=rng.randrange(15))
            end = begin + dt.timedelta(days=rng.randint(60, 300))
            ended = end < END
            rows["p"].append({"id": person, "provider_id": pid, **held,
                              "pseudonym": f"ps{n if rng.random() < 0.9 else n // 7:07d}",
                              "age_band": rng.choice(codes.AGE_BANDS[1:5]),
                              "gender": rng.choice(genders), "ethnicity": rng.choice(ethnicities),
                              "postcode_district": f"B{rng.randint(1, 40)}",
                              "consent_status": "given"})  # fmt: skip
            eid = f"e{n:07d}"
            source, reason = fw.referral_sources[0].code, fw.exit_reasons[0].code
            rows["e"].append({"id": eid, "provider_id": pid, **held, "participant_id": person,
                              "intervention_id": iid, "referral_source": source,
                              "referral_date": referred, "start_date": begin,
                              "end_date": end if ended else None,
                              "exit_reason": reason if ended else None})  # fmt: skip
            enrolled[iid].append((person, begin))
            for use in fw.measures[:1]:
                for tp, on in (("baseline", begin), ("exit", end if ended else None)):
                    if on is not None and rng.random() < 0.85:
                        rows["r"].append({"id": f"r{n:07d}{tp[0]}", "provider_id": pid, **held,
                                          "participant_id": person, "enrolment_id": eid,
                                          "measure_id": use.measure_id, "timepoint": tp,
                                          "completed_on": on, "answers": [],
                                          "scores": rng.choice(pool[use.measure_id])})  # fmt: skip
        with ws.unit() as s:
            s.execute(insert(ImportedParticipant), rows["p"])
            s.execute(insert(ImportedEnrolment), rows["e"])
            s.execute(insert(ImportedResponse), rows["r"])
        print(f"  {people:,} people, {len(rows['r']):,} questionnaires", flush=True)
        done, chunk = 0, 100_000
        span = (END - start).days
        while done < sessions:
            srows, arows = [], []
            for k in range(min(chunk, sessions - done)):
                iid, pid, fw = progs[(done + k) % len(progs)]
                day = start + dt.timedelta(days=rng.randrange(span))
                kind = "group" if rng.random() < 0.3 else "one_to_one"
                sid = f"s{done + k:08d}"
                srows.append({"id": sid, "provider_id": pid, **held, "intervention_id": iid,
                              "starts_at": dt.datetime.combine(day, dt.time(17)),
                              "duration_minutes": rng.choice([60, 90]), "session_type": kind,
                              "mode": "in_person", "location_type": None, "activities": [],
                              "status": "delivered"})  # fmt: skip
                pool_i = enrolled[iid]
                who = {
                    rng.choice(pool_i)[0]
                    for _ in range(rng.randint(3, 6) if kind == "group" else 1)
                }
                session = srows[-1]  # each line carries its session's, as the importer writes
                arows += [{"id": f"a{sid}{j}", "provider_id": pid, **held, "session_id": sid,
                           "participant_id": w,
                           "status": "absent" if rng.random() < 0.1 else "attended",
                           "intervention_id": iid, "session_status": session["status"],
                           "duration_minutes": session["duration_minutes"]}
                          for j, w in enumerate(who)]  # fmt: skip
            with ws.unit() as s:
                s.execute(insert(ImportedSession), srows)
                s.execute(insert(ImportedAttendance), arows)
            done += len(srows)
            print(f"  {done:,} sessions", flush=True)


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Phases:
    """CPU seconds and the memory high-water mark after each phase of the export: read (the
    SQL reads), protect (every call into the disclosure door, ``evaluation/protect.py``),
    compute (the statistics: building the tables, less protect) and write (the workbook).
    Timed by wrapping the functions the export calls, so nothing in the app knows of it."""

    PROTECT = ("one_way", "nested", "release", "protect_tables", "publish_counts")

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {"read": 0.0, "publish": 0.0, "protect": 0.0, "write": 0.0}
        self.peak: dict[str, float] = {}
        self._depth = 0

    def _timed(self, phase: str, fn, nested: bool = False):
        def timed(*args, **kwargs):
            if nested:
                self._depth += 1
                if self._depth > 1:
                    try:
                        return fn(*args, **kwargs)
                    finally:
                        self._depth -= 1
            started = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.cpu[phase] += time.process_time() - started
                self.peak[phase] = _peak_mb()
                if nested:
                    self._depth -= 1

        return timed

    def install(self) -> None:
        from vrp_desktop.evaluation import build, data, pack, protect

        reader = "read_columns" if hasattr(data, "read_columns") else "read"
        setattr(data, reader, self._timed("read", getattr(data, reader)))
        build.publish = self._timed("publish", build.publish)
        writer = "write" if hasattr(pack, "write") else "save"  # the workbook, streamed
        setattr(pack, writer, self._timed("write", getattr(pack, writer)))
        for name in self.PROTECT:
            if callable(getattr(protect, name, None)):
                setattr(protect, name, self._timed("protect", getattr(protect, name), True))
        if hasattr(protect, "Publisher"):  # the whole pack decided at once
            decide = protect.Publisher.decide
            protect.Publisher.decide = self._timed("protect", decide, True)

    def report(self) -> dict:
        cpu = dict(self.cpu)
        cpu["compute"] = cpu.pop("publish") - cpu["protect"]
        return {"phase_cpu": cpu, "phase_peak_mb": self.peak}


def child(kind: str, folder: str, out: str) -> dict:
    from vrp_desktop.workspace import Workspace

    result: dict = {}
    phases = Phases()
    with Workspace.open(Path(folder), USER, PASSPHRASE) as ws:
        result["open_peak_mb"] = _peak_mb()  # unlocking runs Argon2id (128 MiB) first
        if kind == "count":
            from sqlalchemy import text

            with ws.engine.connect() as conn:
                started, cpu = time.perf_counter(), time.process_time()
                result["n"] = conn.execute(
                    text(
                        "SELECT COUNT(*) FROM imported_attendance a JOIN imported_session s "
                        "ON s.id = a.session_id WHERE s.status = 'delivered'"
                    )
                ).scalar()
        else:
            import scipy.stats  # noqa: F401  (loaded before the clock starts, as the app has)

            from vrp_desktop.evaluation.pack import export_pack
            from vrp_desktop.evaluation.period import parse_period

            phases.install()

            started, cpu = time.perf_counter(), time.process_time()
            pack, _ = export_pack(ws, parse_period(PERIOD), Path(out))
            result["units"] = len(pack.units)
            result["rows"] = sum(len(t.rows) for t in pack.tables.values())
            result |= phases.report()
    result["seconds"] = time.perf_counter() - started
    result["cpu_seconds"] = time.process_time() - cpu  # on a shared machine, wall time waits
    result["peak_mb"] = _peak_mb()
    return result


def run_child(kind: str, folder: str, out: str = "") -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_evaluation", "--child", kind, folder, out],
        capture_output=True,
        text=True,
        env={**os.environ, "VRP_FAST_KDF": "1"},
    )
    if proc.returncode != 0:
        raise SystemExit(f"child {kind} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workspace", help="reuse (or build and keep) the workspace here")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    os.environ["VRP_FAST_KDF"] = "1"
    people, sessions = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
    tmp = Path(tempfile.mkdtemp(prefix="bench-evaluation-"))
    folder = Path(args.workspace) if args.workspace else tmp / "vrp"
    try:
        if not (folder / "keyslots.json").exists():
            print(
                f"Building {people:,} people and {sessions:,} sessions from {PROVIDERS} providers"
            )
            t = time.perf_counter()
            build(folder, people, sessions)
            print(f"  built in {time.perf_counter() - t:.0f} s")
        print(f"\nPartnership evaluation pack {PERIOD} ({people:,} people, {sessions:,} sessions)")
        print(f"  load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} (before)")
        base = run_child("count", str(folder))
        got = run_child("export", str(folder), str(tmp / "pack.xlsx"))
        print(
            f"  evaluation export    {got['seconds']:7.2f} s   peak {got['peak_mb']:6.0f} MB"
            f"   ({got['units']} units, {got['rows']:,} table rows; target <= 5 s, <= 300 MB)"
        )
        print(f"  evaluation export CPU time {got['cpu_seconds']:.2f} s")
        print(
            "    by phase (CPU s): "
            + ", ".join(f"{k} {v:.2f}" for k, v in got["phase_cpu"].items())
        )
        print(
            "    memory high-water mark after (MB): "
            + ", ".join(
                [f"unlocking {got['open_peak_mb']:.0f}"]
                + [f"{k} {v:.0f}" for k, v in got["phase_peak_mb"].items()]
            )
        )
        print(
            f"  baseline: one COUNT of the delivered sessions' roster lines "
            f"{base['seconds']:.2f} s ({base['n']:,} rows), peak {base['peak_mb']:.0f} MB, "
            f"CPU {base['cpu_seconds']:.2f} s"
        )
        print(f"  load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
