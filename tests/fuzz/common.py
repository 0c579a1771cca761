"""What every fuzz target shares: the hypothesis profile, the example budget, JSON value and
JSON mutation strategies, and the tally ``make fuzz`` prints.

The rule each target checks: only a ``VrpError`` (a message for a person) may come out; no
input hangs (every example must finish within ``HANG_SECONDS``); a refused input changes
nothing (the file offered, and the workspace's state, are compared before and after).
"""

from __future__ import annotations

import copy
import os
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from vrp_desktop.errors import VrpError

#: inputs over the whole suite: a few thousand by default, 100,000 under ``make fuzz``
TOTAL = int(os.environ.get("FUZZ_EXAMPLES", "3000"))
HANG_SECONDS = 20.0
TALLY: dict[str, Counter] = {}

settings.register_profile(
    "fuzz",
    deadline=None,
    database=None,
    derandomize=os.environ.get("FUZZ_RANDOM") is None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


def budget(share: float) -> settings:
    """This target's share of the total examples (at least 10)."""
    return settings(settings.get_profile("fuzz"), max_examples=max(10, int(TOTAL * share)))


def run(target: str, fn: Callable[[], Any]) -> str:
    """Call ``fn``; count 'accepted' or 'refused' (a VrpError); anything else fails the test."""
    started = time.perf_counter()
    try:
        fn()
        outcome = "accepted"
    except VrpError as exc:
        assert str(exc), "a refusal must say what is wrong"
        assert "Traceback" not in str(exc)
        outcome = "refused"
    took = time.perf_counter() - started
    assert took < HANG_SECONDS, f"{target}: one input took {took:.1f} s"
    TALLY.setdefault(target, Counter())[outcome] += 1
    return outcome


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def _slots(doc: Any, out: list) -> None:
    if isinstance(doc, dict):
        for key, value in doc.items():
            out.append((doc, key))
            _slots(value, out)
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out.append((doc, i))
            _slots(value, out)


@st.composite
def mutated(draw, original: Any, max_changes: int = 3) -> Any:
    """``original`` with 1..max_changes values replaced by other JSON, or keys removed/added."""
    doc = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, max_changes))):
        slots: list = []
        _slots(doc, slots)
        if not slots:
            return draw(json_values)
        container, key = draw(st.sampled_from(slots))
        action = draw(st.sampled_from(["replace", "replace", "type", "delete", "add"]))
        if action == "delete":
            del container[key]
        elif action == "add" and isinstance(container, dict):
            container[draw(st.text(max_size=10))] = draw(json_values)
        elif action == "type":
            container[key] = draw(scalars)
        else:
            container[key] = draw(json_values)
    return doc


def mutate_bytes(data: bytes, draw) -> bytes:
    """Flip, cut, insert or overwrite a few bytes of ``data``."""
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "overwrite"]))
        at = draw(st.integers(0, max(len(buf) - 1, 0)))
        if action == "flip" and buf:
            buf[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del buf[at:]
        elif action == "insert":
            buf[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif buf:
            chunk = draw(st.binary(min_size=1, max_size=16))
            buf[at : at + len(chunk)] = chunk
    return bytes(buf)
