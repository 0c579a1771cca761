"""Start-up time to the unlock screen: the frozen bundle beside the app run from source.

    .venv/bin/python -m bench.bench_startup [--runs 7] [--bundle dist/vrp-desktop/vrp-desktop]

Each run starts a fresh process on the offscreen platform with ``--exit-when-shown``, which quits
as soon as the unlock screen has painted and prints when; the time counted is from just before the
process is spawned to that moment (interpreter start, imports, Qt start-up, window built and
painted). Runs alternate between the two so a busy machine slows both alike; one warm-up run of
each is not counted. Target (issue 6): the bundle within 1.5x of source.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BUNDLE = ROOT / "dist" / "vrp-desktop" / "vrp-desktop"
TARGET_RATIO = 1.5


def make_workspace(folder: Path) -> Path:
    """A real (empty) provider workspace, so the unlock screen is what shows first."""
    os.environ.setdefault("VRP_FAST_KDF", "1")
    from vrp_desktop.workspace import Workspace

    ws, _code = Workspace.create(
        folder / "ws",
        provider_code="BENCH",
        provider_name="Bench provider",
        username="bench",
        passphrase="bench passphrase 2026",
    )
    ws.close()
    return folder / "ws"


def time_once(command: list[str], env: dict[str, str]) -> float:
    started = time.time()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    for line in done.stdout.splitlines():
        if line.startswith("VRP_SHOWN "):
            return float(line.split()[2]) - started
    raise RuntimeError(
        f"{command[0]} exited {done.returncode} without showing a window:\n{done.stderr[-2000:]}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="vrp-bench-startup-") as tmp:
        home = Path(tmp)
        workspace = make_workspace(home)
        env = dict(
            os.environ,
            QT_QPA_PLATFORM="offscreen",
            VRP_STATE_DIR=str(home / "state"),
            XDG_CONFIG_HOME=str(home / "config"),
        )
        common = ["--workspace", str(workspace), "--exit-when-shown"]
        commands = {"source (python -m ui)": [sys.executable, "-m", "ui", *common]}
        if args.bundle.is_file():
            commands["bundle (frozen)"] = [str(args.bundle), *common]
        else:
            print(f"No bundle at {args.bundle}: run `make bundle` to compare. Source only.\n")
        times: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # warm-up: file cache, font cache
            time_once(command, env)
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(time_once(command, env))

    print(f"Start-up to the unlock screen, median of {args.runs} runs (offscreen):")
    for name, values in times.items():
        print(
            f"  {name:<24} {statistics.median(values):6.2f} s   "
            f"(min {min(values):.2f}, max {max(values):.2f})"
        )
    if len(times) == 2:
        source, bundle = (statistics.median(v) for v in times.values())
        ratio = bundle / source
        verdict = "within" if ratio <= TARGET_RATIO else "OVER"
        print(f"  bundle / source          {ratio:6.2f}x  ({verdict} the {TARGET_RATIO}x target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
