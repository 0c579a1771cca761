"""Sync benchmark: build and import one batch of about a million records.

    .venv/bin/python -m bench.bench_sync                  # 1,000,000 records
    .venv/bin/python -m bench.bench_sync --records 50000  # a quick run

A provider workspace is filled with demo data (participants, enrolments, sessions with their
registers, questionnaires) through the validated bulk path, joins a coordinator workspace,
builds one batch (stream -> ZIP -> Ed25519 -> age -> outbox) and the coordinator imports it
(decrypt, verify signature and hashes, validate every record, apply in one transaction, write
the signed receipt). Baseline, in the same run: raw DB-API ``executemany`` of the very rows the
import wrote into the same tables, into plain ``sqlite3`` and into ``sqlcipher3``.

Each measured phase runs in its own subprocess so its peak memory (ru_maxrss) is its own.
Targets are printed, never asserted: import within 3x raw sqlite3 (CPU time: the machine may be
shared, and wall time then measures the neighbours too; wall time is printed beside it), peak
memory under 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSPHRASE = "benchmark passphrase words"
ROUND = (2000, 10000)  # participants, sessions per demo round (keeps generation linear)
IMPORTED_TABLES = (
    "imported_intervention",
    "imported_participant",
    "imported_enrolment",
    "imported_session",
    "imported_attendance",
    "imported_response",
)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _open(folder: Path, user: str):
    from vrp_desktop.workspace import Workspace

    return Workspace.open(folder, user, PASSPHRASE)


def phase_setup(root: Path, records: int) -> dict:
    """Provider with demo data joined to a coordinator (not measured)."""
    from vrp_desktop.services import demo, quality
    from vrp_desktop.services.pseudonyms import new_reference
    from vrp_desktop.sync import coordinator, onboarding
    from vrp_desktop.workspace import Workspace

    # demo references are 30 random bits: beyond ~30k people two collide, so keep them unique
    used: set[str] = set()

    def unique_reference() -> str:
        while (ref := new_reference()) in used:
            pass
        used.add(ref)
        return ref

    demo.new_reference = unique_reference

    coord, _ = Workspace.create(
        root / "coord", provider_code="VRP", provider_name="Bench VRP", username="coord",
        passphrase=PASSPHRASE, role="coordinator", kind="coordinator",
    )  # fmt: skip
    prov, _ = Workspace.create(
        root / "prov", provider_code="P001", provider_name="Bench Provider",
        username="manager", passphrase=PASSPHRASE,
    )  # fmt: skip
    info = coordinator.add_provider(coord, code="P001", name="Bench", out=root / "pack")
    joined = onboarding.join(prov, root / "pack", info["one_time_code"])
    coordinator.pin_provider(coord, Path(joined["key_file"]))
    seed, total = 1, 0
    scale = min(1.0, records / 46000)
    people, sessions = max(20, int(ROUND[0] * scale)), max(50, int(ROUND[1] * scale))
    while total < records:
        counts = demo.generate(prov, participants=people, sessions=sessions, seed=seed)
        total += sum(counts.values())
        seed += 1
        print(f"  generated {total:,} records", file=sys.stderr, flush=True)
    states = quality.state_counts(prov)
    coord.close()
    prov.close()
    valid = sum(n for by in states.values() for s, n in by.items() if s == "valid")
    return {"generated": total, "valid": valid}


def phase_build(root: Path) -> dict:
    from vrp_desktop.sync import batch_build

    (root / "outbox").mkdir(exist_ok=True)
    with _open(root / "prov", "manager") as ws:
        started, cpu = time.perf_counter(), time.process_time()
        result = batch_build.build_batch(ws, outbox_folder=root / "outbox")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    records = result["records"] + result["counts"]["attendance"]
    return {
        "seconds": seconds,
        "cpu": cpu,
        "records": records,
        "file": result["file"],
        "bytes": Path(result["file"]).stat().st_size,
        "peak_mb": _peak_mb(),
    }


def phase_import(root: Path, file: str) -> dict:
    from vrp_desktop.sync import batch_import

    with _open(root / "coord", "coord") as ws:
        started, cpu = time.perf_counter(), time.process_time()
        report = batch_import.import_batch(ws, Path(file), receipt_folder=root)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu": cpu,
        "counts": report.counts,
        "peak_mb": _peak_mb(),
    }


def phase_raw(root: Path, module: str) -> dict:
    """executemany of the rows the import wrote, into fresh files with the same schema."""
    from bench import rawdb

    with _open(root / "coord", "coord") as ws:
        key = ws.master_key
        rows: dict[str, tuple[list[str], list[tuple]]] = {}
        with ws.engine.connect() as conn:
            for table in IMPORTED_TABLES:
                result = conn.exec_driver_sql(f"SELECT * FROM {table}")
                rows[table] = (list(result.keys()), [tuple(r) for r in result])
    target = root / f"raw-{module}.db"
    conn = rawdb.connect(target, key if module == "sqlcipher3" else None)
    rawdb.create_schema(conn)
    count = sum(len(r) for _c, r in rows.values())
    started, cpu = time.perf_counter(), time.process_time()
    conn.execute("BEGIN")
    for table, (columns, values) in rows.items():
        marks = ", ".join("?" for _ in columns)
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            values,
        )
    conn.execute("COMMIT")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    conn.close()
    return {"seconds": seconds, "cpu": cpu, "records": count, "peak_mb": _peak_mb()}


def _run(phase: str, root: Path, *extra: str) -> dict:
    env = {**os.environ, "VRP_FAST_KDF": "1", "VRP_STATE_DIR": str(root / "state")}
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_sync", "--phase", phase, "--dir", str(root), *extra],
        env=env, check=True, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--dir", help="work folder (default: a temporary one, removed)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--module", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        root = Path(args.dir)
        result = {
            "setup": lambda: phase_setup(root, args.records),
            "build": lambda: phase_build(root),
            "import": lambda: phase_import(root, args.file),
            "raw": lambda: phase_raw(root, args.module),
        }[args.phase]()
        print(json.dumps(result, default=str))
        return 0

    root = Path(args.dir or tempfile.mkdtemp(prefix="vrp-bench-sync-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        print(f"Sync benchmark: about {args.records:,} records (work folder {root})")
        setup = _run("setup", root, "--records", str(args.records))
        print(f"  demo data: {setup['generated']:,} records, {setup['valid']:,} valid to send")
        build = _run("build", root)
        imp = _run("import", root, "--file", build["file"])
        raw = _run("raw", root, "--module", "sqlite3")
        raw_cipher = _run("raw", root, "--module", "sqlcipher3")
        n = build["records"]

        def line(name: str, result: dict, count: int) -> None:
            seconds = result["seconds"]
            print(
                f"  {name:<26}{count / seconds:>10,.0f} records/s ({seconds:6.1f} s wall, "
                f"{result['cpu']:6.1f} s CPU)  peak {result['peak_mb']:.0f} MB"
            )

        def verdict(ok: bool) -> str:
            return "met" if ok else "NOT met"

        print(f"\nBatch: {n:,} records (attendances included), {build['bytes'] / 1e6:.1f} MB")
        line("build", build, n)
        line("import", imp, n)
        line("baseline raw sqlite3", raw, raw["records"])
        line("baseline raw sqlcipher3", raw_cipher, raw_cipher["records"])
        # CPU time is the figure (on a shared machine wall time measures the neighbours too)
        ratio = imp["cpu"] / raw["cpu"]
        print(
            f"\n  import / raw sqlite3     {ratio:5.2f}x CPU  target <= 3.0x  {verdict(ratio <= 3)}"
            f"  ({imp['seconds'] / raw['seconds']:.2f}x wall)"
        )
        print(
            f"  import / raw sqlcipher3  {imp['cpu'] / raw_cipher['cpu']:5.2f}x CPU"
            f"  ({imp['seconds'] / raw_cipher['seconds']:.2f}x wall)"
        )
        for name, peak in (("build", build["peak_mb"]), ("import", imp["peak_mb"])):
            print(f"  {name:<6} peak memory {peak:8.0f} MB  target < 300 MB  {verdict(peak < 300)}")
        print(f"  outcomes: {imp['counts']}")
    finally:
        if not args.keep and not args.dir:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
