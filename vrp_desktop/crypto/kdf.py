"""Passphrase to wrapping key: Argon2id, with the parameters kept beside each key slot.

Parameters are stored per slot, so raising the defaults later never locks anyone out: old slots
open with the parameters they were made with, and are upgraded when their passphrase changes.
"""

from __future__ import annotations

import os
import secrets
import sys
import unicodedata
from dataclasses import dataclass

ALGORITHM = "argon2id"
KEY_BYTES = 32
SALT_BYTES = 16

#: Strong profile. Measured here (2-core AMD EPYC VM, argon2-cffi 25.1): ~0.2 s idle, ~0.4 s
#: with the machine busy; expect roughly 0.4-0.8 s on a modest laptop, using 128 MiB while it runs.
#: (t=3 with 64 MiB took only ~0.1 s here, so memory was doubled.)
STRONG = {"time_cost": 3, "memory_kib": 128 * 1024, "parallelism": 2}
#: Cheap profile for tests (``VRP_FAST_KDF=1`` under the test suite): real Argon2id, just quick.
FAST = {"time_cost": 1, "memory_kib": 8 * 1024, "parallelism": 1}
#: The weakest slot accepted outside the test suite: a weaker one is re-made at the strong
#: profile at its next unlock (see ``keyslots.KeySlotFile._refresh``).
FLOOR = {"time_cost": 3, "memory_kib": 64 * 1024}

# Bounds on parameters read from a file, so an edited keyslots.json cannot ask for 1 TiB.
_MAX_TIME_COST = 64
_MAX_MEMORY_KIB = 4 * 1024 * 1024
_MAX_PARALLELISM = 16


@dataclass(frozen=True)
class KdfParams:
    """Everything needed to derive the same key again from the same passphrase."""

    algorithm: str
    time_cost: int
    memory_kib: int
    parallelism: int
    salt: bytes

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem:
            raise ValueError(f"Unusable key derivation parameters: {problem}.")


def _problem(params: KdfParams) -> str | None:
    if params.algorithm != ALGORITHM:
        return f"algorithm must be {ALGORITHM!r}"
    if not _whole(params.parallelism, 1, _MAX_PARALLELISM):
        return f"parallelism must be a whole number from 1 to {_MAX_PARALLELISM}"
    if not _whole(params.time_cost, 1, _MAX_TIME_COST):
        return f"time_cost must be a whole number from 1 to {_MAX_TIME_COST}"
    low = 8 * params.parallelism  # Argon2's own floor
    if not _whole(params.memory_kib, low, _MAX_MEMORY_KIB):
        return f"memory_kib must be a whole number from {low} to {_MAX_MEMORY_KIB}"
    if not isinstance(params.salt, bytes) or len(params.salt) != SALT_BYTES:
        return f"salt must be {SALT_BYTES} bytes"
    return None


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _under_test_suite() -> bool:
    return "PYTEST_CURRENT_TEST" in os.environ or "pytest" in sys.modules


def fast_kdf_requested() -> bool:
    """True when ``VRP_FAST_KDF=1`` under the test suite: tests trade strength for speed.

    Never in a frozen (installed) bundle, and never outside pytest: an environment variable
    left set on a laptop must not weaken anyone's key slot.
    """
    return (
        os.environ.get("VRP_FAST_KDF") == "1"
        and not getattr(sys, "frozen", False)
        and _under_test_suite()
    )


def floor_enforced() -> bool:
    """The strength floor applies everywhere except where the cheap test profile is allowed."""
    return not fast_kdf_requested()


def is_weak(params: KdfParams) -> bool:
    """True when ``params`` are below ``FLOOR``."""
    return params.time_cost < FLOOR["time_cost"] or params.memory_kib < FLOOR["memory_kib"]


def default_params() -> KdfParams:
    """Parameters for a new slot, with a fresh random salt."""
    profile = FAST if fast_kdf_requested() else STRONG
    return KdfParams(algorithm=ALGORITHM, salt=secrets.token_bytes(SALT_BYTES), **profile)


def with_new_salt(params: KdfParams) -> KdfParams:
    """The same cost with a fresh salt: a salt is never reused for a second wrapping."""
    return KdfParams(
        algorithm=params.algorithm,
        time_cost=params.time_cost,
        memory_kib=params.memory_kib,
        parallelism=params.parallelism,
        salt=secrets.token_bytes(SALT_BYTES),
    )


def normalise_passphrase(passphrase: str) -> str:
    """NFKC, so the same passphrase typed on another keyboard or OS derives the same key."""
    return unicodedata.normalize("NFKC", passphrase)


def derive(passphrase: str, params: KdfParams) -> bytes:
    """The 32-byte wrapping key for ``passphrase`` under ``params``."""
    from argon2.low_level import Type, hash_secret_raw  # here, not at start-up: ~25 ms

    secret = normalise_passphrase(passphrase).encode("utf-8")
    return hash_secret_raw(
        secret=secret,
        salt=params.salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )
