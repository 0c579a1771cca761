"""The disclosure package's public API: protect(release, rule, already_published)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from vrp_desktop.disclosure import Release, Rule, deficit, protect, ranges
from vrp_desktop.errors import FrameworkError, VrpError
from vrp_desktop.frameworks.disclosure import load_rule, partnership_rule


def _table(cells, name="t"):
    """A release of one table with exact margins."""
    r = Release()
    rows = [[((name, i, j), v) for j, v in enumerate(row)] for i, row in enumerate(cells)]
    r.grid(
        rows,
        [((name, i, "T"), sum(row)) for i, row in enumerate(cells)],
        [((name, "T", j), sum(c)) for j, c in enumerate(zip(*cells, strict=True))],
        ((name, "T", "T"), sum(map(sum, cells))),
    )
    return r


def _all_protected(p, rule):
    for key, span in p.ranges().items():
        assert not deficit(rule, key in p.primary_everywhere, span), (key, span)


def test_the_issues_row_is_no_longer_recoverable():
    # 0, 6, <5, <5 with a total of 14 gave both hidden cells as 4
    rule = Rule()
    r = _table([[0, 6, 4, 4], [3, 9, 12, 20]])
    p = protect(r, rule)
    assert {("t", 0, 2), ("t", 0, 3)} <= p.hidden
    _all_protected(p, rule)
    spans = p.ranges()
    assert spans[("t", 0, 2)] == (1, 4) and spans[("t", 0, 3)] == (1, 4)


def test_a_margin_shared_by_two_tables_is_one_unknown():
    """Ethnic group (2 rows) and its categories (4 rows) share the column totals: hiding a
    category is not enough when its group shows the same people."""
    rule = Rule()
    r = _table([[3, 20], [10, 15]], "group")
    detail = _table([[3, 0], [0, 20], [6, 7], [4, 8]], "detail")
    r = r.merge([detail])
    for j in (0, 1, "T"):  # group = sum of its categories; the margins are the same people
        r.relate(("group", 0, j), [("detail", 0, j), ("detail", 1, j)])
        r.relate(("group", 1, j), [("detail", 2, j), ("detail", 3, j)])
        r.same(("group", "T", j), ("detail", "T", j))
    p = protect(r, rule)
    assert ("group", 0, 0) in p.hidden and ("detail", 0, 0) in p.hidden
    _all_protected(p, rule)


def test_already_published_cells_keep_their_state():
    rule = Rule()
    first = protect(_table([[2, 9, 30], [8, 11, 25]], "a"), rule)
    # a second release repeating the first's row totals as its own column
    second = Release()
    second.cell(("a", 0, "T"), 41)
    second.cell(("a", 1, "T"), 44)
    second.cell("b-total", 85)
    second.relate("b-total", [("a", 0, "T"), ("a", 1, "T")])
    p = protect(second, rule, [first])
    for key in second.values:
        if key in first.release.values:
            assert (key in p.hidden) == (key in first.hidden)
    _all_protected(p, rule)


def test_a_total_pinned_by_the_rule_itself_is_shown_as_c():
    """Two hidden 1s under a hidden total of 2: as <5 each would be 1 for sure."""
    rule = Rule(3)
    p = protect(_table([[1, 0], [1, 3]]), rule)
    assert not p.unprotected
    _all_protected(p, rule)


def test_threshold_one_hides_nothing_and_rounding_rounds():
    assert not protect(_table([[1, 2], [3, 4]]), Rule(1)).hidden
    p = protect(_table([[12, 23], [31, 44]]), Rule(5, 5))
    assert p.shown(("t", 0, 0)) == 10 and p.shown(("t", 0, 1)) == 25


@pytest.mark.parametrize(
    ("threshold", "round_to"), [(0, None), (101, None), (True, None), (5, 1), (5, 1.5)]
)
def test_a_bad_rule_is_refused_with_its_reason(threshold, round_to):
    with pytest.raises(VrpError, match="whole number"):
        Rule(threshold, round_to)


def test_the_rule_comes_from_the_framework_pack(tmp_path):
    assert partnership_rule() == Rule(5, None)
    good = tmp_path / "disclosure.json"
    good.write_text(json.dumps({"threshold": 10, "round_to": 5}))
    assert load_rule(good) == Rule(10, 5)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"threshold": "five", "rounding": 5}))
    before = bad.read_bytes()
    with pytest.raises(FrameworkError) as caught:
        load_rule(bad)
    message = str(caught.value)
    assert "'bad.json'" in message and "threshold" in message and "rounding" in message
    assert bad.read_bytes() == before


_SCRIPT = """
import json
from vrp_desktop.disclosure import Release, Rule, protect
from vrp_desktop.disclosure.release import order
r = Release()
cells = [[1, 7, 0, 3], [6, 2, 9, 12], [4, 15, 1, 8], [0, 3, 11, 2]]
keys = lambda i, j: ("t", frozenset({("row", i), ("col", j)}))
r.grid([[(keys(i, j), v) for j, v in enumerate(row)] for i, row in enumerate(cells)],
       [(keys(i, "T"), sum(row)) for i, row in enumerate(cells)],
       [(keys("T", j), sum(c)) for j, c in enumerate(zip(*cells))],
       (keys("T", "T"), sum(map(sum, cells))))
p = protect(r, Rule())
print(json.dumps(sorted(order(k) for k in p.secondary)))
"""


def test_the_same_figures_give_the_same_suppressions_in_any_process():
    """A provider and the partnership choose in separate processes (salted string hashes)."""
    runs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, check=True
        )
        runs.add(out.stdout)
    assert len(runs) == 1


def test_ranges_are_what_an_integer_attacker_gets():
    r = _table([[3, 6]])
    t = Rule().primary_range
    spans = ranges(r, {("t", 0, 0): (float(t[0]), float(t[1]))})
    assert spans[("t", 0, 0)] == (3, 3)  # the row total gives it away: why protect exists
