"""Demo benchmark: peak memory and time of ``vrp demo`` at a given size.

    .venv/bin/python -m bench.bench_demo                 # 100,000 people, 1,000,000 sessions
    .venv/bin/python -m bench.bench_demo --quick         # 10,000 / 100,000

Each run is its own process (``python -m vrp_desktop.cli demo`` into a new folder), so its peak
RSS (VmHWM) is its own. Baseline, in the same run: the same command with 0 people and 0
sessions (interpreter, imports, workspace creation), so the figure beside it is what the data
itself costs. Target, printed and never asserted: peak RSS <= 300 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSPHRASE = "benchmark passphrase words"


def run_demo(root: Path, name: str, people: int, sessions: int) -> tuple[float, float]:
    """(seconds, peak MB) of one ``vrp demo`` process."""
    secret = root / "passphrase"
    secret.write_text(PASSPHRASE)
    env = {**os.environ, "VRP_FAST_KDF": "1", "VRP_STATE_DIR": str(root / "state")}
    command = [
        sys.executable, "-c",
        "import resource, sys; from vrp_desktop.cli import main; code = main(sys.argv[1:]); "
        "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)",
        "demo", str(root / name), "--passphrase-file", str(secret),
        "--participants", str(people), "--sessions", str(sessions),
    ]  # fmt: skip
    started = time.perf_counter()
    out = subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    seconds = time.perf_counter() - started
    peak = next(int(line.split()[1]) for line in out.splitlines() if line.startswith("PEAK"))
    return seconds, peak / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--participants", type=int)
    parser.add_argument("--sessions", type=int)
    args = parser.parse_args(argv)
    people = args.participants or (10_000 if args.quick else 100_000)
    sessions = args.sessions or (100_000 if args.quick else 1_000_000)
    root = Path(tempfile.mkdtemp(prefix="vrp-bench-demo-"))
    try:
        print(f"vrp demo: {people:,} people, {sessions:,} sessions (work folder {root})")
        base_s, base_mb = run_demo(root, "empty", 0, 0)
        seconds, peak = run_demo(root, "demo", people, sessions)
        verdict = "met" if peak <= 300 else "NOT met"
        print(f"  vrp demo         {seconds:7.1f} s  peak {peak:6.0f} MB  (<= 300 MB: {verdict})")
        print(f"  baseline (empty) {base_s:7.1f} s  peak {base_mb:6.0f} MB  (nothing added)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
