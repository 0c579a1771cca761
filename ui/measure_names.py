"""Short names for questionnaires, where a full name does not fit (a chart title, a combo box).

Qt-free and tiny, so the Outcomes page can use it without loading the chart library."""

from __future__ import annotations


def abbreviation(measure: str) -> str:
    """ "SWEMWBS" from "... (SWEMWBS)"; else a short name as it is, or a long one's initials."""
    if "(" in measure:
        inside = measure[measure.index("(") + 1 : measure.rindex(")")]
        if inside.isupper() and " " not in inside:
            return inside
    head = measure.split("(")[0].strip()
    if len(head) <= 20:  # short enough to say in full ("Youth confidence")
        return head
    return "".join(w[0] for w in head.split() if w[0].isupper()) or head
