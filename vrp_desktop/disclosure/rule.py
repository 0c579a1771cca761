"""The partnership's small-number rule: what counts as small, how it is shown, what it promises.

One rule serves every workbook the partnership releases (provider returns, the partnership
return, the evaluation pack). It is data in the framework pack (``resources/disclosure.json``),
read by ``vrp_desktop.frameworks.disclosure``; the default is the usual one: counts of people from
1 to 4 are hidden and shown as ``<5``.
"""

from __future__ import annotations

import dataclasses
import math

from vrp_desktop.errors import VrpError

DEFAULT_THRESHOLD = 5
#: what a secondary (complementary) suppression shows: the ONS convention, "confidential"
SECONDARY_MARK = "[c]"


#: the highest threshold a rule may have
MAX_THRESHOLD = 100


@dataclasses.dataclass(frozen=True)
class Rule:
    """``threshold``: counts from 1 to ``threshold - 1`` are hidden (1 switches suppression off).
    ``round_to``: visible counts of people are also rounded to a multiple of this (e.g. 5), as
    an extra layer; suppression is decided on the exact figures first, so rounding only ever
    adds uncertainty for a reader."""

    threshold: int = DEFAULT_THRESHOLD
    round_to: int | None = None

    def __post_init__(self) -> None:
        t = self.threshold
        if isinstance(t, bool) or not isinstance(t, int) or not 1 <= t <= MAX_THRESHOLD:
            raise VrpError(
                "The suppression threshold must be a whole number from 1 to 100 (the usual rule "
                "is 5: counts of 1 to 4 are shown as <5). 1 switches suppression off."
            )
        r = self.round_to
        if r is not None and (isinstance(r, bool) or not isinstance(r, int) or not 2 <= r <= 100):
            raise VrpError(
                "Rounding must be a whole number from 2 to 100 (for example 5: counts shown to "
                "the nearest 5), or left out for no rounding."
            )

    @property
    def active(self) -> bool:
        return self.threshold > 1

    def is_small(self, value: float) -> bool:
        """A count the rule hides on sight (primary suppression)."""
        return self.active and 0 < value < self.threshold

    @property
    def primary_range(self) -> tuple[int, int]:
        """What a reader may infer of a primary-suppressed count: 1 to threshold - 1."""
        return (1, self.threshold - 1)

    @property
    def protection_width(self) -> int:
        """How wide any hidden cell's feasible range must stay: as wide as ``primary_range``."""
        return max(self.threshold - 2, 0)

    @property
    def primary_mark(self) -> str:
        return f"<{self.threshold}"

    @property
    def secondary_mark(self) -> str:
        return SECONDARY_MARK

    def shown(self, value: int) -> int:
        """A visible count as published (rounded half up to ``round_to`` when rounding)."""
        if not self.round_to:
            return int(value)
        return math.floor(value / self.round_to + 0.5) * self.round_to

    def describe(self) -> str:
        if not self.active:
            return "not suppressed (threshold 1)"
        text = f"counts of 1 to {self.threshold - 1} are shown as {self.primary_mark}"
        if self.round_to:
            text += f"; other counts of people are rounded to the nearest {self.round_to}"
        return text
