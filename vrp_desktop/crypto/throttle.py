"""Wrong passphrases are counted, with a growing wait, and the workspace is never touched.

The counter lives in a small JSON file in the per-user state folder (``paths.state_dir()``),
keyed by workspace id, so it survives a restart of the app; if that folder cannot be written the
count is kept in memory for this run instead. Nothing is ever written into the workspace folder:
a wrong passphrase must not change a file a person relies on.

This is a speed bump for guessing at the unlock screen, not the real defence: someone who copies
keyslots.json can guess offline, and there Argon2id's cost per guess is what protects the data.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

from vrp_desktop.atomic import atomic_write_bytes
from vrp_desktop.crypto.keyslots import KeySlotFile
from vrp_desktop.errors import WrongPassphrase
from vrp_desktop.paths import state_dir

STATE_FILE = "unlock-attempts.json"
FREE_ATTEMPTS = 2
MAX_DELAY_SECONDS = 60.0

# Counts for state files that could not be written, by path; shared within this process.
_memory: dict[str, dict[str, dict[str, float]]] = {}
_lock = threading.Lock()


def delay_after(failures: int) -> float:
    """Wait required after ``failures`` wrong tries: 0, 0, then 1, 2, 4, 8 ... up to 60 s."""
    if failures <= FREE_ATTEMPTS:
        return 0.0
    return min(float(2 ** (failures - FREE_ATTEMPTS - 1)), MAX_DELAY_SECONDS)


class UnlockThrottle:
    """Failed-attempt counter and wait for one workspace."""

    def __init__(
        self,
        workspace_id: str,
        *,
        state_path: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.workspace_id = workspace_id
        self.state_path = Path(state_path) if state_path else state_dir() / STATE_FILE
        self._clock = clock

    def failures(self) -> int:
        return int(self._entry().get("failures", 0))

    def wait_seconds(self) -> float:
        """Seconds still to wait before the next try (0 when a try is allowed now)."""
        entry = self._entry()
        remaining = float(entry.get("not_before", 0.0)) - self._clock()
        # Never more than the cap, even if the clock went backwards or the file was edited.
        return max(0.0, min(remaining, MAX_DELAY_SECONDS))

    def record_failure(self) -> tuple[int, float]:
        """Count one wrong try; returns (failures so far, wait now required)."""
        with _lock:
            entries = self._read_all()
            failures = int(entries.get(self.workspace_id, {}).get("failures", 0)) + 1
            delay = delay_after(failures)
            entries[self.workspace_id] = {
                "failures": failures,
                "not_before": self._clock() + delay,
            }
            self._write_all(entries)
        return failures, delay

    def record_success(self) -> None:
        """Forget the failures: the right passphrase was given."""
        with _lock:
            entries = self._read_all()
            if entries.pop(self.workspace_id, None) is not None:
                self._write_all(entries)

    # ----- storage --------------------------------------------------------------------------

    @property
    def persistent(self) -> bool:
        """False once the state folder proved unwritable; counts then live in memory."""
        return str(self.state_path) not in _memory

    def _entry(self) -> dict[str, float]:
        with _lock:
            return self._read_all().get(self.workspace_id, {})

    def _read_all(self) -> dict[str, dict[str, float]]:
        remembered = _memory.get(str(self.state_path))
        if remembered is not None:
            return {k: dict(v) for k, v in remembered.items()}
        try:
            data = json.loads(self.state_path.read_text("utf-8"))
        except (OSError, ValueError):
            # Missing or unreadable: start from nothing (a damaged file is rewritten next time).
            return {}
        if not isinstance(data, dict):
            return {}
        entries: dict[str, dict[str, float]] = {}
        for key, value in data.items():
            if (
                isinstance(value, dict)
                and isinstance(value.get("failures"), int)
                and isinstance(value.get("not_before"), int | float)
            ):
                entries[key] = {"failures": value["failures"], "not_before": value["not_before"]}
        return entries

    def _write_all(self, entries: dict[str, dict[str, float]]) -> None:
        if self.persistent:
            try:
                data = json.dumps(entries, indent=2, sort_keys=True).encode("utf-8")
                atomic_write_bytes(self.state_path, data, mode=0o600)
                return
            except OSError:
                pass
        _memory[str(self.state_path)] = {k: dict(v) for k, v in entries.items()}


def attempts_message(base: str, failures: int, delay: float) -> str:
    """``base`` plus how many tries failed and how long to wait (never the passphrase)."""
    tries = f"{failures} failed attempt" + ("" if failures == 1 else "s")
    if delay <= 0:
        return f"{base} ({tries}.)"
    whole = math.ceil(delay)
    unit = "second" if whole == 1 else "seconds"
    return f"{base} ({tries}; wait {whole} {unit} before the next try.)"


def unlock_with_throttle(
    slots: KeySlotFile,
    username: str,
    passphrase: str,
    throttle: UnlockThrottle,
    sleep: Callable[[float], None] = time.sleep,
) -> bytes:
    """Serve any wait still due, try the passphrase, and count the result."""
    return _attempt(lambda: slots.unlock(username, passphrase), throttle, sleep)


def recover_with_throttle(
    slots: KeySlotFile,
    code: str,
    throttle: UnlockThrottle,
    sleep: Callable[[float], None] = time.sleep,
) -> bytes:
    """As :func:`unlock_with_throttle`, for the recovery code (same counter)."""
    return _attempt(lambda: slots.unlock_with_recovery(code), throttle, sleep)


def _attempt(
    try_unlock: Callable[[], bytes],
    throttle: UnlockThrottle,
    sleep: Callable[[float], None],
) -> bytes:
    wait = throttle.wait_seconds()
    if wait > 0:
        sleep(wait)
    try:
        key = try_unlock()
    except WrongPassphrase as exc:
        failures, delay = throttle.record_failure()
        raise WrongPassphrase(
            attempts_message(str(exc), failures, delay),
            attempts=failures,
            delay_seconds=delay,
        ) from None
    throttle.record_success()
    return key
