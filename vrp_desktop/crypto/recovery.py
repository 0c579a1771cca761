"""Recovery codes: 140 random bits a person can copy onto paper and type back without fuss.

Crockford base32 leaves out I, L, O and U, and reads them back leniently (O as 0, I and L as 1),
so the usual misreadings of a handwritten code still work.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUP_SIZE = 4
GROUPS = 7
LENGTH = GROUP_SIZE * GROUPS  # 28 symbols x 5 bits = 140 bits

_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_IGNORED = str.maketrans("", "", " -_\t\r\n\u00a0")


def new_recovery_code() -> str:
    """A fresh code in display form, e.g. ``7KQ2-M9XA-...`` (seven groups of four)."""
    compact = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return format_recovery_code(compact)


def format_recovery_code(compact: str) -> str:
    """Display form: groups of four joined by dashes."""
    return "-".join(compact[i : i + GROUP_SIZE] for i in range(0, len(compact), GROUP_SIZE))


def normalise_recovery_code(text: str) -> str:
    """Canonical compact form (upper case, no separators, Crockford look-alikes mapped).

    This compact form is what the key derivation sees, so ``7kq2 m9xa ...`` and ``7KQ2-M9XA-...``
    unlock alike.
    """
    return text.upper().translate(_IGNORED).translate(_READ_AS)


def looks_like_recovery_code(text: str) -> bool:
    """True when ``text`` has the length and alphabet of a recovery code (typos aside)."""
    compact = normalise_recovery_code(text)
    return len(compact) == LENGTH and all(ch in ALPHABET for ch in compact)
