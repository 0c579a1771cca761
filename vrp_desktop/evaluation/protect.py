"""The one door between the evaluation and the partnership's disclosure control.

Everything the evaluation publishes goes through these few functions, so when the shared
disclosure package (``vrp_desktop/disclosure/``) lands, only this module changes. For now they
call the return's rule (``vrp_desktop/returns/suppression.py``): a count of 1 to threshold-1
people is hidden (``<5``), and where hidden cells could be worked out from a table's total
another cell is hidden too (``[c]``). Statistics worked out from fewer than ``threshold``
people are not shown either (``[c]``).
"""

from __future__ import annotations

from collections.abc import Sequence

from vrp_desktop.disclosure.rule import DEFAULT_THRESHOLD, SECONDARY_MARK

#: what a hidden statistic (a mean, share or interval from too few people) shows
HIDDEN = SECONDARY_MARK

Shown = int | str


def primary_mark(threshold: int) -> str:
    return f"<{threshold}"


def is_hidden(value: object) -> bool:
    """True for any mark this module writes in place of a number."""
    return isinstance(value, str) and (value == HIDDEN or value.startswith("<"))


def count(n: int, threshold: int = DEFAULT_THRESHOLD) -> Shown:
    """A single count of people standing alone (no total it adds up to)."""
    return primary_mark(threshold) if 0 < n < max(threshold, 1) else int(n)


def one_way(
    cells: Sequence[int], total: int | None = None, threshold: int = DEFAULT_THRESHOLD
) -> tuple[list[Shown], Shown]:
    """Counts of people that add up to ``total`` (default: their sum), protected as a table:
    the small ones hidden, and another hidden where a hidden one could be worked out."""
    cells = [int(c) for c in cells]
    if not cells:
        return [], count(int(total or 0), threshold)
    from vrp_desktop.returns import suppression  # the solver loads only when protecting

    grand = sum(cells) if total is None else int(total)
    decision = suppression.suppress([cells], [grand], None, None, threshold=threshold)
    shown: list[Shown] = [
        decision.mark((0, j), threshold) or value for j, value in enumerate(cells)
    ]
    total_shown = decision.mark((0, len(cells)), threshold) or grand
    return shown, total_shown


def enough(n: int, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Whether a statistic over ``n`` people may be shown."""
    return n >= threshold or (n == 0 and threshold <= 1)


def statistic(value: float | None, n: int, threshold: int = DEFAULT_THRESHOLD):
    """A mean, interval end or effect size over ``n`` people: hidden when n is small, None
    (an empty cell) when it could not be worked out."""
    if n <= 0:
        return None
    if not enough(n, threshold):
        return HIDDEN
    return value


def share(numerator: Shown, denominator: Shown, k: int, n: int):
    """k/n, shown only when both counts are shown (so it reveals no hidden count)."""
    if n == 0:
        return None
    if is_hidden(numerator) or is_hidden(denominator):
        return HIDDEN
    return k / n


def nested(
    cells: Sequence[int],
    parents: Sequence[object],
    parent_shown: dict[object, Shown],
    threshold: int = DEFAULT_THRESHOLD,
) -> list[Shown]:
    """Counts that break down categories published elsewhere (the 19 ethnicities within the 5
    groups): within each parent they add up to the parent's count, so each parent's children
    are protected as a table with that total; and where the parent itself is hidden, every
    non-zero child is hidden too, so the parent cannot be worked out by adding them up."""
    shown: list[Shown] = [0] * len(cells)
    by_parent: dict[object, list[int]] = {}
    for index, parent in enumerate(parents):
        by_parent.setdefault(parent, []).append(index)
    for parent, indices in by_parent.items():
        values = [int(cells[i]) for i in indices]
        if is_hidden(parent_shown.get(parent)):
            children: list[Shown] = [HIDDEN if v else 0 for v in values]
        else:
            children, _ = one_way(values, sum(values), threshold)
        for i, value in zip(indices, children, strict=True):
            shown[i] = value
    return shown
