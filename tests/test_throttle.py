"""Unlock throttle: counted failures, a growing wait, nothing written in the workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vrp_desktop.crypto import throttle as throttle_mod
from vrp_desktop.crypto.keyslots import FILE_NAME, KeySlotFile, new_master_key
from vrp_desktop.crypto.throttle import (
    UnlockThrottle,
    delay_after,
    recover_with_throttle,
    unlock_with_throttle,
)
from vrp_desktop.errors import WrongPassphrase

PASS = "maple river candle tuesday"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VRP_FAST_KDF", "1")
    monkeypatch.setenv("VRP_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(throttle_mod, "_memory", {})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[KeySlotFile, bytes, str]:
    key = new_master_key()
    slots, code = KeySlotFile.create(
        tmp_path / "ws" / FILE_NAME,
        workspace_id="ws-1",
        master_key=key,
        username="x",
        passphrase=PASS,
    )
    return slots, key, code


def folder_state(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_delay_schedule():
    assert [delay_after(n) for n in range(1, 11)] == [0, 0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert delay_after(100) == 60


def test_delays_grow_wait_down_and_reset(clock):
    t = UnlockThrottle("ws-1", clock=clock)
    assert t.wait_seconds() == 0
    assert t.record_failure() == (1, 0)
    assert t.record_failure() == (2, 0)
    assert t.wait_seconds() == 0
    assert t.record_failure() == (3, 1)
    assert t.wait_seconds() == 1
    assert t.record_failure() == (4, 2)
    clock.now += 0.5
    assert t.wait_seconds() == pytest.approx(1.5)
    clock.now += 5
    assert t.wait_seconds() == 0
    assert t.failures() == 4
    t.record_success()
    assert t.failures() == 0
    assert t.record_failure() == (1, 0)


def test_counter_persists_across_instances_in_the_state_dir(clock, tmp_path):
    for _ in range(5):
        UnlockThrottle("ws-1", clock=clock).record_failure()
    again = UnlockThrottle("ws-1", clock=clock)
    assert again.failures() == 5
    assert again.wait_seconds() == 4
    assert again.state_path.parent == tmp_path / "state"
    stored = json.loads(again.state_path.read_text())
    assert stored["ws-1"]["failures"] == 5
    assert UnlockThrottle("ws-2", clock=clock).failures() == 0


def test_wait_never_exceeds_the_cap_even_if_the_clock_jumps_back(clock):
    t = UnlockThrottle("ws-1", clock=clock)
    for _ in range(12):
        t.record_failure()
    clock.now -= 10_000
    assert t.wait_seconds() == 60


def test_damaged_state_file_starts_over(clock, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / throttle_mod.STATE_FILE).write_text("{oops")
    t = UnlockThrottle("ws-1", clock=clock)
    assert t.failures() == 0
    assert t.record_failure() == (1, 0)
    assert json.loads(t.state_path.read_text())["ws-1"]["failures"] == 1


def test_unwritable_state_dir_falls_back_to_memory(clock, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    path = blocker / "attempts.json"
    t = UnlockThrottle("ws-1", state_path=path, clock=clock)
    for _ in range(3):
        t.record_failure()
    assert not t.persistent
    other = UnlockThrottle("ws-1", state_path=path, clock=clock)
    assert other.failures() == 3
    assert other.wait_seconds() == 1
    other.record_success()
    assert t.failures() == 0


def test_unlock_with_throttle_message_wait_and_reset(workspace, clock):
    slots, key, _ = workspace
    t = UnlockThrottle("ws-1", clock=clock)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    messages = []
    for _ in range(4):
        with pytest.raises(WrongPassphrase) as err:
            unlock_with_throttle(slots, "x", "wrong guess number", t, sleep=sleep)
        messages.append(err.value)
    assert [e.attempts for e in messages] == [1, 2, 3, 4]
    assert [e.delay_seconds for e in messages] == [0, 0, 1, 2]
    assert str(messages[0]) == (
        "That passphrase does not match user 'x'. Check Caps Lock and try again, or use your "
        "recovery code. (1 failed attempt.)"
    )
    assert str(messages[2]) == (
        "That passphrase does not match user 'x'. Check Caps Lock and try again, or use your "
        "recovery code. (3 failed attempts; wait 1 second before the next try.)"
    )
    assert str(messages[3]).endswith("(4 failed attempts; wait 2 seconds before the next try.)")
    assert all("wrong guess" not in str(e) for e in messages)
    assert slept == [1]  # the wait due after the third failure was served before the fourth

    assert unlock_with_throttle(slots, "X", PASS, t, sleep=sleep) == key
    assert slept == [1, 2]
    assert t.failures() == 0


def test_unknown_user_counts_the_same(workspace, clock):
    slots, _, _ = workspace
    t = UnlockThrottle("ws-1", clock=clock)
    with pytest.raises(WrongPassphrase) as err:
        unlock_with_throttle(slots, "nobody", PASS, t, sleep=lambda s: None)
    assert err.value.attempts == 1
    assert "user 'nobody'" in str(err.value)


def test_recovery_attempts_share_the_counter(workspace, clock):
    slots, key, code = workspace
    t = UnlockThrottle("ws-1", clock=clock)
    t.record_failure()
    with pytest.raises(WrongPassphrase) as err:
        recover_with_throttle(slots, "0000-0000-0000-0000-0000-0000-0000", t, lambda s: None)
    assert err.value.attempts == 2
    assert recover_with_throttle(slots, code.lower(), t, lambda s: None) == key
    assert t.failures() == 0


def test_failures_never_touch_the_workspace_folder(workspace, clock, tmp_path):
    slots, _, _ = workspace
    before = folder_state(slots.path.parent)
    t = UnlockThrottle("ws-1", clock=clock)
    for _ in range(5):
        with pytest.raises(WrongPassphrase):
            unlock_with_throttle(slots, "x", "wrong guess number", t, sleep=lambda s: None)
    assert folder_state(slots.path.parent) == before
    assert t.state_path.is_relative_to(tmp_path / "state")
    assert not t.state_path.is_relative_to(slots.path.parent)
