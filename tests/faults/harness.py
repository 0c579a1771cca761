"""The fault-injection harness: run a real ``vrp`` command in a child process, SIGKILL it at a
named point (``VRP_FAULT_POINT``) or after a random delay, then check the workspaces the way a
person would find them: they open, their audit chains verify, and finishing the operation
reaches exactly the state of a run nobody killed (a canonical dump without ids and times)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import text

from tests.conftest import PASSPHRASE
from vrp_desktop.services import audit
from vrp_desktop.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
#: trials per operation: a few in the default run, 100 under ``make faults``
TRIALS = int(os.environ.get("FAULT_TRIALS", "2"))
TALLY: dict[str, Counter] = {}


def child_env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("VRP_") and k not in ("PYTEST_CURRENT_TEST",)
    }
    env.update(
        PYTHONPATH=str(ROOT),
        VRP_FAST_KDF="1",
        VRP_PASSPHRASE=PASSPHRASE,
        VRP_STATE_DIR=str(home / "state"),
        VRP_DATA_DIR=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
    )
    return env


def vrp(env: dict[str, str], *args: str, point: str | None = None, kill_after: float | None = None):
    """Run ``vrp ARGS``; returns (returncode, stdout, stderr). -9 means it was killed."""
    child = dict(env)
    if point:
        child["VRP_FAULT_POINT"] = point
    proc = subprocess.Popen(
        [sys.executable, "-m", "vrp_desktop.cli", *args],
        env=child,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    if kill_after is not None:
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err


def timed(env, *args: str) -> float:
    started = time.perf_counter()
    code, out, err = vrp(env, *args)
    assert code == 0, (args, out, err)
    return time.perf_counter() - started


@contextlib.contextmanager
def opened(folder: Path, user: str):
    ws = Workspace.open(folder, user, PASSPHRASE)
    try:
        yield ws
    finally:
        ws.close()


_PROVIDER_TABLES = (
    "intervention",
    "participant",
    "enrolment",
    "session",
    "attendance",
    "outcome_response",
    "tombstone",
)
_COORD_TABLES = (
    "imported_intervention",
    "imported_participant",
    "imported_enrolment",
    "imported_session",
    "imported_attendance",
    "imported_response",
    "imported_tombstone",
    "import_conflict",
    "batch_item",
)


def dump(folder: Path, user: str) -> dict[str, Any]:
    """What a person would see, without ids and times; also proves it opens and verifies."""
    with opened(folder, user) as ws, ws.read() as session:
        report = audit.verify(session)
        assert report.ok, report.message()
        conn = session.connection()
        state: dict[str, Any] = {"kind": ws.kind}
        tables = _COORD_TABLES if ws.kind == "coordinator" else _PROVIDER_TABLES
        for table in tables:
            has_state = table in _PROVIDER_TABLES
            sql = (
                f"SELECT sync_state, count(*) FROM {table} GROUP BY sync_state"
                if has_state
                else f"SELECT 'n', count(*) FROM {table}"
            )
            state[table] = dict(conn.execute(text(sql)).all())
        state["batches"] = sorted(
            (d, s, n)
            for d, s, n in conn.execute(text("SELECT direction, status, record_count FROM batch"))
        )
        state["receipts"] = conn.execute(text("SELECT count(*) FROM receipt")).scalar()
        state["audit"] = sorted(
            Counter(a for (a,) in conn.execute(text("SELECT action FROM audit_event"))).items()
        )
        state["users"] = sorted(ws.slots.usernames())
    return state


def copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


def tally(op: str, outcome: str) -> None:
    TALLY.setdefault(op, Counter())[outcome] += 1


def trial_plan(points: tuple[str, ...], seed: int) -> list[tuple[str | None, float | None]]:
    """Each named point once, then random fractions of the unkilled run's duration."""
    import random

    rng = random.Random(seed)
    plan: list[tuple[str | None, float | None]] = [(p, None) for p in points]
    while len(plan) < TRIALS:
        plan.append((None, rng.uniform(0.25, 1.1)))
    return plan[:TRIALS] if len(points) <= TRIALS else plan[: max(TRIALS, 1)]
