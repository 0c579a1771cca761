"""The passphrase strength guide: labels, hints, and the minimum the app accepts."""

from __future__ import annotations

import pytest

from vrp_desktop.crypto.strength import LABELS, MIN_LENGTH, estimate, require_acceptable
from vrp_desktop.errors import VrpError


@pytest.mark.parametrize(
    ("passphrase", "label", "acceptable"),
    [
        ("password", "very weak", False),
        ("Password123!", "very weak", False),
        ("Summer2024!", "very weak", False),
        ("qwertyuiop12", "very weak", False),
        ("aaaaaaaaaaaaaaa", "very weak", False),
        ("abcdefghijklmn", "very weak", False),
        ("abcabcabcabcabc", "very weak", False),
        ("xkqbvmtrwz", "weak", True),
        ("Tr0ub4dor&3", "fair", True),
        ("maple river candle", "fair", True),
        ("maple river candle tuesday", "strong", True),
    ],
)
def test_labels(passphrase, label, acceptable):
    result = estimate(passphrase)
    assert result.label == label
    assert result.label == LABELS[result.score]
    assert result.acceptable is acceptable


def test_longer_is_never_weaker():
    words = ["maple", "river", "candle", "tuesday", "orbit", "velvet"]
    scores = [estimate(" ".join(words[:n])).score for n in range(1, len(words) + 1)]
    assert scores == sorted(scores)


def test_short_passphrases_are_refused_with_a_hint():
    result = estimate("Zq8#mK2!")
    assert not result.acceptable and result.score <= 1
    assert any(str(MIN_LENGTH) in hint for hint in result.hints)


def test_username_is_noticed():
    plain = estimate("zephyrine-lamp-7")
    with_name = estimate("zephyrine-lamp-7", user_inputs=["Zephyrine"])
    assert with_name.score < plain.score
    assert any("username" in hint for hint in with_name.hints)
    assert not estimate("zephyrinezephyrine", user_inputs=["zephyrine"]).acceptable


def test_patterns_and_common_words_give_hints():
    assert any("repeated" in h for h in estimate("aaaaaaaaaaaaaaa").hints)
    assert any("common" in h for h in estimate("password").hints)
    assert any("common" in h for h in estimate("mypassword2024x").hints)
    assert estimate("maple river candle tuesday").hints == []


def test_require_acceptable():
    assert require_acceptable("maple river candle tuesday").acceptable
    with pytest.raises(VrpError, match="too weak") as err:
        require_acceptable("letmein")
    assert "letmein" not in str(err.value)
