"""The partnership return and the evaluation export from a coordinator on PostgreSQL, beside
the same on SQLCipher, over the same records (issue 14).

    nice .venv/bin/python -m bench.bench_server_reads --data /tmp/vrp-bench-data       # ~5M
    .venv/bin/python -m bench.bench_server_reads --people 10000 --sessions 100000      # quick

Both coordinators are built once by ``bench.bench_evaluation.build`` (the same seeded rows
written straight into the imported tables, 100k-row inserts through SQLAlchemy) and kept under
``--data`` with a PostgreSQL cluster of their own (``initdb`` there, started for the run and
stopped after it), so later runs measure without building again. Each measurement runs in its
own child process (peak memory is the client's VmHWM; the PostgreSQL server's own memory is
not in it). Measured on both back-ends:

- **Partnership return**: ``returns.workbook.export_return`` for one quarter (every table of
  the return with its disclosure protection, the workbook written, the audit event).
- **Evaluation export**: ``evaluation.pack.export_pack`` for the year (workbook).
- **Baseline**: one ``COUNT`` over the delivered sessions' roster lines on the same store.

The SQLCipher figures are the baseline for the PostgreSQL ones. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench.bench_evaluation import PASSPHRASE, PERIOD, USER

QUARTER = "2026-27 Q2"
TABLES = (
    "imported_participant",
    "imported_enrolment",
    "imported_response",
    "imported_session",
    "imported_attendance",
)


# -- a PostgreSQL cluster kept under --data -----------------------------------------------------


@contextlib.contextmanager
def cluster(folder: Path) -> Iterator[tuple[str, int]]:
    """Start (after ``initdb`` the first time) the cluster in ``folder``; yields (socket folder,
    port). Run as the unprivileged test user when we are root, as the tests' cluster is."""
    from tests.pg.cluster import _as_user, _ensure_user, _free_port, find_bindir

    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("No PostgreSQL server binaries: install the Debian package postgresql.")
    ids = _ensure_user()
    demote = _as_user(ids)
    data, sock, port_file = folder / "data", folder / "sock", folder / "port"
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "PGTZ": "UTC"}
    user = "vrp-pg-test" if ids else os.environ.get("USER", "postgres")
    if not data.exists():
        folder.mkdir(parents=True, exist_ok=True)
        sock.mkdir(exist_ok=True)
        if ids:
            for path in (folder.parent, folder, sock):
                os.chown(path, *ids)
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", user, "--auth=trust",
             "--encoding=UTF8", "-N"],
            check=True, capture_output=True, preexec_fn=demote, env=env, cwd=folder,
        )  # fmt: skip
        port_file.write_text(str(_free_port()))
    port = int(port_file.read_text())
    # the defaults a small server would run with, bar durability (reads are what is measured)
    subprocess.run(
        [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "120",
         "-o", f"-k {sock} -p {port} -h '' -c fsync=off -c synchronous_commit=off "
         "-c shared_buffers=256MB -c max_wal_size=4GB", "start"],
        check=True, capture_output=True, preexec_fn=demote, env=env, cwd=folder,
    )  # fmt: skip
    try:
        yield str(sock), port
    finally:
        subprocess.run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True, preexec_fn=demote, env=env, cwd=folder,
        )  # fmt: skip


def _dsn(sock: str, port: int, dbname: str) -> str:
    user = "vrp-pg-test" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    return f"postgresql://{user}@/{dbname}?host={sock}&port={port}"


# -- building -----------------------------------------------------------------------------------


def _build(data: Path, backend: str, people: int, sessions: int, sock: str, port: int) -> None:
    from bench.bench_evaluation import build

    folder = data / backend
    meta = data / f"{backend}.json"
    wanted = {"people": people, "sessions": sessions}
    if meta.exists():
        if json.loads(meta.read_text()) != wanted:
            raise SystemExit(
                f"{folder} holds another size ({meta.read_text()}); use another --data folder "
                "or remove that one."
            )
        return
    database = None
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(_dsn(sock, port, "postgres"), autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS vrp_bench")
            conn.execute("CREATE DATABASE vrp_bench")
        database = _dsn(sock, port, "vrp_bench")
    shutil.rmtree(folder, ignore_errors=True)
    print(f"Building the {backend} coordinator: {people:,} people, {sessions:,} sessions")
    started = time.perf_counter()
    build(folder, people, sessions, database=database)
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")  # what autovacuum would have done by the next day
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    meta.write_text(json.dumps(wanted))


# -- measuring (each in its own child process) --------------------------------------------------


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(kind: str, folder: str, out: str) -> dict:
    from sqlalchemy import text

    from vrp_desktop.workspace import Workspace

    result: dict = {}
    with Workspace.open(Path(folder), USER, PASSPHRASE) as ws:
        if kind == "records":
            with ws.engine.connect() as conn:
                result["n"] = sum(
                    conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in TABLES
                )
            return result
        import scipy.stats  # noqa: F401  (loaded before the clock starts, as the app has)

        started, cpu = time.perf_counter(), time.process_time()
        if kind == "count":
            with ws.engine.connect() as conn:
                result["n"] = conn.execute(
                    text(
                        "SELECT COUNT(*) FROM imported_attendance a JOIN imported_session s "
                        "ON s.id = a.session_id WHERE s.status = 'delivered'"
                    )
                ).scalar()
        elif kind == "return":
            from vrp_desktop.returns import workbook
            from vrp_desktop.returns.quarters import parse_quarter

            data, _ = workbook.export_return(ws, parse_quarter(QUARTER), Path(out))
            result["title"] = data.title
        else:
            from vrp_desktop.evaluation.pack import export_pack
            from vrp_desktop.evaluation.period import parse_period

            pack, _ = export_pack(ws, parse_period(PERIOD), Path(out))
            result["units"] = len(pack.units)
    result["seconds"] = time.perf_counter() - started
    result["cpu_seconds"] = time.process_time() - cpu
    result["peak_mb"] = _peak_mb()
    return result


def run_child(kind: str, folder: Path, out: str = "") -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_server_reads", "--child", kind, str(folder), out],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"child {kind} failed: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=150_000)
    parser.add_argument("--sessions", type=int, default=1_500_000)
    parser.add_argument("--data", help="keep the built stores (and the cluster) here")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each figure (best kept)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-server-reads-"))
    tmp.chmod(0o755)  # the cluster's own user reads its folder inside
    data = Path(args.data) if args.data else tmp / "data"
    try:
        with cluster(data / "pg") as (sock, port):
            for backend in ("sqlcipher", "postgresql"):
                _build(data, backend, args.people, args.sessions, sock, port)
            rows: dict[str, dict[str, dict]] = {}
            for backend in ("sqlcipher", "postgresql"):
                folder = data / backend
                figures = {"records": run_child("records", folder)}
                for kind in ("count", "return", "evaluation"):
                    runs = [
                        run_child(kind, folder, str(tmp / f"{backend}-{kind}.xlsx"))
                        for _ in range(args.repeat)
                    ]
                    figures[kind] = min(runs, key=lambda r: r["seconds"])
                rows[backend] = figures
        n = rows["sqlcipher"]["records"]["n"]
        print(
            f"\nCoordinator reads at {n:,} imported records ({args.people:,} people, "
            f"{args.sessions:,} sessions, rosters and questionnaires); best of {args.repeat}"
        )
        if rows["postgresql"]["records"]["n"] != n:
            print(f"  NOTE: PostgreSQL holds {rows['postgresql']['records']['n']:,} records")
        labels = {
            "count": "COUNT roster lines",
            "return": f"partnership return {QUARTER}",
            "evaluation": f"evaluation export {PERIOD}",
        }
        print(f"  {'':<30} {'SQLCipher':>22} {'PostgreSQL':>22} {'PG / SQLCipher':>15}")
        for kind, label in labels.items():
            a, b = rows["sqlcipher"][kind], rows["postgresql"][kind]
            print(
                f"  {label:<30} {a['seconds']:8.2f} s {a['peak_mb']:6.0f} MB   "
                f"{b['seconds']:8.2f} s {b['peak_mb']:6.0f} MB {b['seconds'] / a['seconds']:14.2f}x"
            )
        print(
            "  (seconds are wall time of the call; MB the client process's peak. Client CPU: "
            + ", ".join(
                f"{k} {rows['sqlcipher'][k]['cpu_seconds']:.1f}/"
                f"{rows['postgresql'][k]['cpu_seconds']:.1f} s"
                for k in labels
            )
            + "; on PostgreSQL the server's CPU is not in it)"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
