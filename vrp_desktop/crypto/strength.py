"""A rough, honest guide to passphrase strength, with no extra dependency.

It rewards length above all, notices the patterns people reach for first (common passwords,
repeats, runs like ``abc`` or ``123``, the username), and says what would help. It is a guide for
the set-up dialog, not a guarantee: a long passphrase of unrelated words is the advice throughout.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from vrp_desktop.errors import VrpError

MIN_LENGTH = 10
LABELS = ("very weak", "weak", "fair", "good", "strong")

# Bits (by the estimate below) needed for scores 1, 2, 3 and 4.
_THRESHOLDS = (18.0, 26.0, 34.0, 42.0)

# Some of the most common passwords in published breach lists, lower case.
_COMMON_TEXT = """
    123456 123456789 12345678 12345 1234567 1234567890 123123 111111 000000 654321
    666666 121212 112233 123321 987654321 password password1 password12 password123
    passw0rd p@ssw0rd p@ssword qwerty qwerty123 qwertyuiop qwerty1 1q2w3e4r 1q2w3e4r5t
    1qaz2wsx zaq12wsx asdfgh asdfghjkl zxcvbnm abc123 abcd1234 a1b2c3d4 iloveyou
    iloveyou1 letmein letmein123 welcome welcome1 welcome123 admin admin123 administrator
    root toor login master monkey dragon football baseball soccer hockey superman batman
    spiderman starwars pokemon sunshine princess shadow michael charlie jennifer jordan
    hunter hunter2 trustno1 freedom whatever secret secret123 changeme changeme123
    default guest test test123 testing qazwsx mustang access flower hello hello123
    computer internet liverpool chelsea arsenal manchester london summer winter
    autumn spring december loveme lovely killer cheese ginger matrix maggie ashley
    nicole daniel thomas jessica purple orange yellow passphrase mypassword
"""
COMMON_PASSWORDS = frozenset(_COMMON_TEXT.split())

_COMMON_LONGEST_FIRST = sorted(
    (word for word in COMMON_PASSWORDS if len(word) >= 5), key=lambda w: (-len(w), w)
)
_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


@dataclass(frozen=True)
class Strength:
    """Score 0-4 with a label, what would help, and whether the app will accept it."""

    score: int
    label: str
    hints: list[str] = field(default_factory=list)
    acceptable: bool = False


def estimate(passphrase: str, user_inputs: Iterable[str] = ()) -> Strength:
    """Estimate how hard ``passphrase`` is to guess; ``user_inputs`` are names to avoid."""
    text = unicodedata.normalize("NFKC", passphrase)
    folded = text.casefold()
    hints: list[str] = []

    if len(text) < MIN_LENGTH:
        hints.append(
            f"Use at least {MIN_LENGTH} characters; a few unrelated words are easy to remember."
        )

    common = _is_common(folded)
    if common:
        hints.append("This is one of the most common passwords; choose something else.")

    reduced = folded
    for name in user_inputs:
        name = unicodedata.normalize("NFKC", name).casefold().strip()
        if len(name) >= 3 and name in reduced:
            reduced = reduced.replace(name, "\x00")
            hints.append("Do not include your username or other names from this workspace.")
    for word in _COMMON_LONGEST_FIRST:
        if word in reduced:
            reduced = reduced.replace(word, "\x00")
            if not common:
                hints.append("Avoid building on a common password or word list favourite.")

    patterned = _collapse_patterns(reduced)
    if len(patterned) < len(reduced) - 1:
        hints.append("Avoid repeated characters and runs like 'abc', '123' or 'qwerty'.")

    bits = _bits(len(patterned), text)
    score = 0 if common else sum(bits >= t for t in _THRESHOLDS)
    if len(text) < MIN_LENGTH:
        score = min(score, 1)
    if len(text) >= MIN_LENGTH and score < 3 and not common:
        hints.append("Add another word or two to make it stronger.")

    acceptable = len(text) >= MIN_LENGTH and score >= 1
    return Strength(score=score, label=LABELS[score], hints=_unique(hints), acceptable=acceptable)


def require_acceptable(passphrase: str, user_inputs: Iterable[str] = ()) -> Strength:
    """Raise :class:`VrpError` naming what to change when a passphrase is too weak to use."""
    strength = estimate(passphrase, user_inputs)
    if not strength.acceptable:
        advice = " ".join(strength.hints)
        raise VrpError(f"That passphrase is too weak to protect this workspace. {advice}".strip())
    return strength


def _is_common(folded: str) -> bool:
    """Common as typed, or once trailing digits and punctuation are taken off ('Summer2024!')."""
    if folded in COMMON_PASSWORDS:
        return True
    stem = folded.rstrip("0123456789!@#$%^&*.?_- ")
    return stem in COMMON_PASSWORDS


def _collapse_patterns(text: str) -> str:
    """Shrink repeats and runs to two characters each, and a repeated unit to one copy."""
    if len(text) > 1:
        unit = (text + text).find(text, 1)
        if unit < len(text):
            text = text[:unit]
    out: list[str] = []
    run = 1
    step: int | None = None
    for i, ch in enumerate(text):
        if i == 0:
            out.append(ch)
            continue
        this_step = _step(text[i - 1], ch)
        if this_step is not None and (run == 1 or this_step == step):
            run += 1
            step = this_step
            if run <= 2:
                out.append(ch)
        else:
            run, step = 1, None
            out.append(ch)
    return "".join(out)


def _step(prev: str, ch: str) -> int | None:
    """How ``ch`` follows ``prev`` in a run: 0 repeat, +-1 alphabet or keyboard order."""
    if prev == ch:
        return 0
    if prev.isalnum() and ch.isalnum() and abs(ord(ch) - ord(prev)) == 1:
        return ord(ch) - ord(prev)
    for row in _KEYBOARD_ROWS:
        a, b = row.find(prev), row.find(ch)
        if a >= 0 and b >= 0 and abs(a - b) == 1:
            return 10 * (b - a)
    return None


def _bits(effective_length: int, text: str) -> float:
    """NIST SP 800-63 (2006) style estimate: early characters count most; mixing adds a little."""
    bits = 0.0
    for position in range(1, effective_length + 1):
        if position == 1:
            bits += 4
        elif position <= 8:
            bits += 2
        elif position <= 20:
            bits += 1.5
        else:
            bits += 1
    has_upper = any(ch.isupper() for ch in text)
    has_other = any(not ch.isalpha() for ch in text)
    if has_upper and has_other:
        bits += 6
    return bits


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
