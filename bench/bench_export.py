"""Record-level export beside bare openpyxl write-only writing the same rows, in one run.

    .venv/bin/python -m bench.bench_export [--people 20000] [--sessions 200000] [--quick]

Builds a workspace through the validated bulk path (``bench_returns.build``), then runs, each
in its own child process: the export as a user gets it (``export_records``: streamed writer,
sheets split below the row limit, cover sheet, atomic save) and the baseline: the same queries,
the same rows, appended to an openpyxl ``Workbook(write_only=True)`` and saved, nothing else.
Prints rows/s and peak memory for both, and the ratio; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_returns import _open, _peak_mb, build


def child(kind: str, folder: str, out: str) -> dict:
    from vrp_desktop.returns import export

    with _open(folder) as ws:
        started = time.perf_counter()
        if kind == "export":
            rows = sum(export.export_records(ws, Path(out)).values())
        else:
            from openpyxl import Workbook

            wb = Workbook(write_only=True)
            rows = 0
            with ws.engine.connect() as conn:
                for spec in export._specs(export._own_source()):
                    sheet = wb.create_sheet(spec.name)
                    sheet.append([name for name, _ in spec.columns])
                    for row in export._rows(conn, spec):
                        sheet.append(row)
                        rows += 1
            wb.save(out)
        seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "seconds": seconds,
        "peak_mb": _peak_mb(),
        "bytes": Path(out).stat().st_size,
    }


def run_child(kind: str, folder: str, out: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_export", "--child", kind, folder, out],
        capture_output=True,
        env={**os.environ, "VRP_FAST_KDF": "1"},
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"child {kind} failed: {proc.stderr.decode()[-2000:]}")
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="2,000 people, 20,000 sessions")
    parser.add_argument("--workspace", help="reuse (or build and keep) the workspace here")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    os.environ["VRP_FAST_KDF"] = "1"
    people, sessions = (2_000, 20_000) if args.quick else (args.people, args.sessions)
    tmp = Path(tempfile.mkdtemp(prefix="bench-export-"))
    folder = Path(args.workspace) if args.workspace else tmp / "ws"
    try:
        if not (folder / "keyslots.json").exists():
            print(f"Building {people:,} participants and {sessions:,} sessions (bulk path)")
            t = time.perf_counter()
            build(folder, people, sessions)
            print(f"  built in {time.perf_counter() - t:.0f} s")
        ours = run_child("export", str(folder), str(tmp / "records.xlsx"))
        bare = run_child("bare", str(folder), str(tmp / "bare.xlsx"))
        print(f"\nRecord-level export, {people:,} people ({ours['rows']:,} rows in all sheets)")
        for label, r in (("export_records", ours), ("bare openpyxl write-only", bare)):
            print(
                f"  {label:<26} {r['rows'] / r['seconds']:9,.0f} rows/s  {r['seconds']:7.1f} s  "
                f"peak {r['peak_mb']:5.0f} MB  file {r['bytes'] / 2**20:6.1f} MB"
            )
        print(f"  export time / bare time: {ours['seconds'] / bare['seconds']:.2f} (target <= 1)")
    finally:
        if not args.workspace:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
