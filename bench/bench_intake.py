"""Intake benchmark: many providers uploading to one ``vrp serve`` at once, on loopback.

    .venv/bin/python -m bench.bench_intake                 # 80 providers
    .venv/bin/python -m bench.bench_intake --providers 8   # a quick run

Set-up (not measured): a coordinator and N provider workspaces, each with a small demo
dataset, joined and pinned; each provider builds one batch. The coordinator folder is copied
before anything is imported. Measured, in the same run:

- **Intake**: ``vrp serve`` in its own process; N threads each upload their provider's batch
  with the real client (``vrp_desktop.intake.client.Uploader``) at the same moment and wait for
  the receipt. Figures: wall time, imports per second, p50/p95 upload-to-receipt latency, the
  server's peak memory (VmHWM).
- **Baseline**: the same N batch files imported one after another into the copy with
  ``batch_import.import_batch`` in this process (no HTTP, no server): what the intake adds.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PASSPHRASE = "benchmark passphrase words"
ROOT = Path(__file__).resolve().parents[1]


def _provider(root: str, code: str, one_time_code: str, master_key: bytes) -> dict:
    """One provider's workspace (in a worker process): a copy of the template opened with the
    template's master key (derived once in the parent: the provider's own passphrase is not
    what this bench measures), joined with its own pack and one-time code, so it makes its own
    signing key; then its one batch."""
    from vrp_desktop.sync import batch_build, onboarding
    from vrp_desktop.sync.common import SyncError
    from vrp_desktop.workspace import Workspace

    base = Path(root)
    pack = base / f"{code}.vrponboard"
    shutil.copytree(base / "template", base / code)
    refused: list[str] = []
    with Workspace.open_with_key(base / code, master_key, "manager") as prov:
        for attempt in range(12):
            try:
                joined = onboarding.join(prov, pack, one_time_code)
                break
            except SyncError as exc:
                # age refuses a pack whose scrypt work factor is far above what it measures
                # this machine can do now (a 2-core VM under load): wait and try again
                if "too busy" not in str(exc):
                    raise
                refused.append(code)
                time.sleep(min(30, 2 * 2**attempt))
        else:
            raise SystemExit(f"{code} could not join: {refused}")
        out = base / "out" / code
        out.mkdir(parents=True)
        built = batch_build.build_batch(prov, outbox_folder=out)
    return {
        "code": code,
        "key_file": joined["key_file"],
        "fingerprint": joined["provider_fingerprint"],
        "batch": built["file"],
        "refused": refused,
    }


def _setup(root: Path, providers: int, jobs: int) -> list[tuple[str, Path]]:
    """The coordinator adds the providers one after another (each pack is sealed under its
    one-time code with age's scrypt, inside the coordinator's write unit, so that part is
    serial) while ``jobs`` worker processes join and build the providers already added."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from vrp_desktop.services import demo
    from vrp_desktop.sync import coordinator
    from vrp_desktop.workspace import Workspace

    coord, _ = Workspace.create(
        root / "coord", provider_code="VRP", provider_name="Bench VRP", username="coord",
        passphrase=PASSPHRASE, role="coordinator", kind="coordinator",
    )  # fmt: skip
    # one provider's folder made once (Argon2id and demo data are slow) and copied per provider;
    # each copy joins on its own, so each has its own signing key and batch
    template, _ = Workspace.create(
        root / "template", provider_code="P000", provider_name="Provider",
        username="manager", passphrase=PASSPHRASE,
    )  # fmt: skip
    with template:
        demo.generate(template, participants=20, sessions=40, seed=1)
        master_key = template.master_key
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))
    with coord, pool:
        futures = []
        for n in range(providers):
            code = f"P{n + 1:03d}"
            pack = root / f"{code}.vrponboard"
            info = coordinator.add_provider(coord, code=code, name=f"Provider {n}", out=pack)
            futures.append(
                pool.submit(_provider, str(root), code, info["one_time_code"], master_key)
            )
        made = [f.result() for f in futures]
        for one in made:
            coordinator.pin_provider(
                coord, Path(one["key_file"]), expect_fingerprint=one["fingerprint"]
            )
    refused = [why for one in made for why in one["refused"]]
    if refused:
        print(f"set-up: {len(refused)} joins refused by age (machine too busy), tried again")
    if len({one["fingerprint"] for one in made}) != providers:
        raise SystemExit("set-up: two providers share a signing key; the bench would be wrong")
    return [(one["code"], Path(one["batch"])) for one in made]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _serve(coord: Path, port: int, log: Path) -> subprocess.Popen:
    import httpx

    env = {**os.environ, "VRP_PASSPHRASE": PASSPHRASE, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vrp_desktop.cli", "serve", str(coord), "--listen",
         f"127.0.0.1:{port}", "--rate", "50", "--burst", "200"],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"vrp serve did not start: {log.read_text()[-2000:]}")


def _intake(coord: Path, batches: list[tuple[str, Path]], root: Path) -> dict:
    import collections

    import httpx

    from vrp_desktop.intake import client

    reasons: collections.Counter[str] = collections.Counter()

    class Counting(client.Uploader):
        """The real client, counting its retries (each back-off sleep is one) and why."""

        retries = 0

        def _try(self, *args):
            try:
                return super()._try(*args)
            except (httpx.TransportError, client._Retry) as exc:
                reasons[getattr(exc, "why", None) or type(exc).__name__] += 1
                raise

        def _sleep(self, attempt: int, after: float | None) -> None:
            self.retries += 1
            super()._sleep(attempt, after)

    port = _free_port()
    proc = _serve(coord, port, root / "serve.log")
    latencies: list[float] = []
    failures: list[str] = []
    retries: list[int] = []
    start = threading.Barrier(len(batches) + 1)

    def one(code: str, path: Path) -> None:
        uploader = Counting(f"http://127.0.0.1:{port}", code, timeout=600)
        try:
            start.wait()
            began = time.perf_counter()
            uploader.upload(path)
            latencies.append(time.perf_counter() - began)
        except Exception as exc:  # a failure is a figure too
            failures.append(f"{code}: {exc}")
        finally:
            retries.append(uploader.retries)
            uploader.close()

    threads = [threading.Thread(target=one, args=b) for b in batches]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    peak = _peak_kb(proc.pid)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    return {
        "wall": wall,
        "latencies": latencies,
        "failures": failures,
        "retries": sum(retries),
        "reasons": reasons,
        "peak_mb": peak / 1024,
    }


def _imported(coord: Path) -> tuple[int, int]:
    """Batches in the coordinator's store, and how many providers they came from."""
    from vrp_desktop.sync import batch_import
    from vrp_desktop.workspace import Workspace

    with Workspace.open(coord, "coord", PASSPHRASE) as ws:
        rows = batch_import.list_batches(ws, limit=100_000)
    return len(rows), len({r["provider_code"] for r in rows})


def _direct(coord: Path, batches: list[tuple[str, Path]], root: Path) -> float:
    from vrp_desktop.sync import batch_import
    from vrp_desktop.workspace import Workspace

    receipts = root / "direct-receipts"
    receipts.mkdir()
    with Workspace.open(coord, "coord", PASSPHRASE) as ws:
        began = time.perf_counter()
        for _code, path in batches:
            batch_import.import_batch(ws, path, receipt_folder=receipts)
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--providers", type=int, default=80)
    parser.add_argument("--dir", help="parent of the temporary folder")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 2, help="processes making providers"
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-intake-", dir=args.dir))
    try:
        t0 = time.perf_counter()
        batches = _setup(root, args.providers, args.jobs)
        print(f"set-up: {args.providers} providers joined, each with its own signing key, "
              f"one batch each ({time.perf_counter() - t0:.0f} s with {args.jobs} "
              "processes, not measured)")  # fmt: skip
        shutil.copytree(root / "coord", root / "coord-direct")
        intake = _intake(root / "coord", batches, root)
        stored, senders = _imported(root / "coord")
        direct = _direct(root / "coord-direct", batches, root)
        lat = sorted(intake["latencies"])
        n = len(lat)
        p95 = lat[max(0, round(0.95 * n) - 1)] if lat else float("nan")
        print(f"\nIntake: {args.providers} providers uploading at once on loopback")
        print(f"  received        {n} of {len(batches)} ({len(intake['failures'])} failed, "
              f"{intake['retries']} retries)")  # fmt: skip
        print(f"  in the store    {stored} batches from {senders} providers, each verified "
              "against its own pinned key")  # fmt: skip
        for why, count in intake["reasons"].most_common(5):
            print(f"    retried {count}x: {why}")
        for failure in intake["failures"][:5]:
            print(f"    {failure}")
        print(f"  wall time       {intake['wall']:.2f} s   "
              f"({n / intake['wall']:.1f} imports/s)")  # fmt: skip
        if lat:
            print(f"  latency         p50 {statistics.median(lat):.2f} s   p95 {p95:.2f} s "
                  "(upload start to receipt)")  # fmt: skip
        print(f"  server memory   {intake['peak_mb']:.0f} MB peak (VmHWM)")
        print(f"Baseline: the same {len(batches)} batches imported directly, one after another")
        print(f"  wall time       {direct:.2f} s   ({len(batches) / direct:.1f} imports/s)")
        print(f"  intake / direct {intake['wall'] / direct:.2f}x")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
