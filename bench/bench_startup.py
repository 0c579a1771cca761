"""Start-up time: the ``vrp`` command beside a bare interpreter, and the unlock screen.

    .venv/bin/python -m bench.bench_startup [--runs 7] [--bundle dist/vrp-desktop/vrp-desktop]
    .venv/bin/python -m bench.bench_startup --cli-only [--cli-runs 10]

The command line (issue 9: "load only what a command uses"): ``python -m vrp_desktop.cli
--version`` and ``vrp info`` on an empty workspace, each beside a bare ``python -c pass`` started
the same way in the same run; runs interleave, one warm-up each, median of ``--cli-runs``. Wall
time and the child's CPU time (user + system, where the OS reports it) are both printed: on a busy
machine the CPU figure is the steadier one. ``vrp info`` opens the workspace with its passphrase,
so it pays one Argon2id derive of the strong profile (``VRP_FAST_KDF`` is honoured only under
pytest): that derive is timed alone and the figure is also printed without it, the part start-up
work can change.

Each run starts a fresh process on the offscreen platform with ``--exit-when-shown``, which quits
as soon as the unlock screen has painted and prints when; the time counted is from just before the
process is spawned to that moment (interpreter start, imports, Qt start-up, window built and
painted). Runs alternate between the two so a busy machine slows both alike; one warm-up run of
each is not counted. Target (issue 6): the bundle within 1.5x of source.

Children cache compiled modules (``with_bytecode_cache``) as an installed copy does, even when
the shell sets ``PYTHONDONTWRITEBYTECODE``.
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


def with_bytecode_cache(env: dict[str, str], folder: Path) -> dict[str, str]:
    """``env`` for a timed child, caching compiled modules as an installed app does.

    An installed copy (pip, or the bundle's archive) loads ``.pyc`` files; a source checkout
    run with ``PYTHONDONTWRITEBYTECODE`` compiles every one of its modules again at each start
    (some 0.2 s here), a cost no person pays and the bare baselines do not share. So children
    get a private cache folder under the run's temporary folder (the source tree stays clean),
    filled by the warm-up run; every command, baselines included, starts the same way.
    """
    env = dict(env, PYTHONPYCACHEPREFIX=str(folder / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def time_once(command: list[str], env: dict[str, str]) -> float:
    started = time.time()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    for line in done.stdout.splitlines():
        if line.startswith("VRP_SHOWN "):
            return float(line.split()[2]) - started
    raise RuntimeError(
        f"{command[0]} exited {done.returncode} without showing a window:\n{done.stderr[-2000:]}"
    )


def _children_cpu() -> float | None:
    try:
        import resource
    except ImportError:  # Windows: wall time only
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_command(command: list[str], env: dict[str, str]) -> tuple[float, float | None]:
    """Wall and CPU seconds of one run of ``command``, which must exit 0."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - started
    cpu_after = _children_cpu()
    if done.returncode != 0:
        raise RuntimeError(f"{command} exited {done.returncode}:\n{done.stderr[-2000:]}")
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return wall, cpu


def bench_cli(runs: int) -> None:
    """The ``vrp`` command's start beside a bare interpreter, interleaved in one run."""
    with tempfile.TemporaryDirectory(prefix="vrp-bench-cli-") as tmp:
        home = Path(tmp)
        workspace = make_workspace(home)
        env = with_bytecode_cache(
            dict(
                os.environ,
                VRP_STATE_DIR=str(home / "state"),
                VRP_PASSPHRASE="bench passphrase 2026",
                VRP_FAST_KDF="1",
            ),
            home,
        )
        py = sys.executable
        commands = {
            "python -c pass": [py, "-c", "pass"],
            "vrp --version": [py, "-m", "vrp_desktop.cli", "--version"],
            "vrp info": [py, "-m", "vrp_desktop.cli", "info", str(workspace)],
        }
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # warm-up: file cache, .pyc
            time_command(command, env)
        for _ in range(runs):
            for name, command in commands.items():
                wall, cpu = time_command(command, env)
                walls[name].append(wall)
                if cpu is not None:
                    cpus[name].append(cpu)

    derive = statistics.median(_argon2id_seconds(3))
    base_wall = statistics.median(walls["python -c pass"])
    base_cpu = statistics.median(cpus["python -c pass"]) if cpus["python -c pass"] else None
    print(f"The vrp command's start, median of {runs} runs (same run, interleaved):")
    for name in commands:
        wall = statistics.median(walls[name])
        line = f"  {name:<16} wall {wall * 1000:7.1f} ms ({wall / base_wall:4.1f}x bare)"
        if base_cpu and cpus[name]:
            cpu = statistics.median(cpus[name])
            line += f"   cpu {cpu * 1000:7.1f} ms ({cpu / base_cpu:4.1f}x bare)"
        print(line)
    info = statistics.median(walls["vrp info"]) - derive
    print(
        f"  {'vrp info - derive':<16} wall {info * 1000:7.1f} ms ({info / base_wall:4.1f}x bare)"
        f"   (less the Argon2id derive of its passphrase: {derive * 1000:.0f} ms, measured alone)"
    )
    print()


def _argon2id_seconds(runs: int) -> list[float]:
    """The strong profile's derive, which opening with a passphrase must pay (in this process)."""
    import secrets

    from vrp_desktop.crypto import kdf

    params = kdf.KdfParams(algorithm=kdf.ALGORITHM, salt=secrets.token_bytes(16), **kdf.STRONG)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        kdf.derive("bench passphrase 2026", params)
        times.append(time.perf_counter() - started)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cli-runs", type=int, default=10)
    parser.add_argument("--cli-only", action="store_true", help="skip the window's start-up")
    parser.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    args = parser.parse_args(argv)

    bench_cli(args.cli_runs)
    if args.cli_only:
        return 0

    with tempfile.TemporaryDirectory(prefix="vrp-bench-startup-") as tmp:
        home = Path(tmp)
        workspace = make_workspace(home)
        env = with_bytecode_cache(
            dict(
                os.environ,
                QT_QPA_PLATFORM="offscreen",
                VRP_STATE_DIR=str(home / "state"),
                XDG_CONFIG_HOME=str(home / "config"),
            ),
            home,
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
