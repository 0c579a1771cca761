"""The small-number rule over the whole pack: no count of 1 to 4 people visible anywhere, no
hidden count recoverable from a published total, no statistic from fewer than 5 people."""

from __future__ import annotations

import pytest

from tests.evaluation.helpers import cohort, lone_hidden, make_pack, small_counts_shown
from vrp_desktop.evaluation import protect


@pytest.mark.parametrize(("n", "seed", "providers"), [(40, 1, 1), (150, 2, 1), (300, 3, 3)])
def test_no_small_count_visible_and_none_recoverable(n, seed, providers):
    records, prov, interventions = cohort(n, seed, providers=providers)
    kind = "partnership" if providers > 1 else "provider"
    pack = make_pack(records, prov, interventions, kind=kind)
    assert small_counts_shown(pack) == []
    assert lone_hidden(pack) == []
    hidden = sum(protect.is_hidden(v) for t in pack.tables.values() for r in t.rows for v in r)
    assert hidden > 20  # small cohorts really exercise the rule


def test_statistics_from_few_people_are_hidden():
    records, prov, interventions = cohort(60, 5)
    pack = make_pack(records, prov, interventions)
    change = pack.tables["change"]
    n_col, mean_col = change.column("People paired"), change.column("Mean change")
    for row in change.rows:
        n = row[n_col]
        if protect.is_hidden(n):
            assert row[mean_col] == protect.HIDDEN
            assert row[change.column("95% CI low")] == protect.HIDDEN
        elif n == 0:
            assert row[mean_col] is None


def test_threshold_one_hides_nothing():
    records, prov, interventions = cohort(40, 1)
    pack = make_pack(records, prov, interventions, threshold=1)
    assert not any(protect.is_hidden(v) for t in pack.tables.values() for r in t.rows for v in r)


def test_one_way_adapter():
    shown, total = protect.one_way([3, 10, 12], 25)
    assert shown[0] == "<5" and sum(protect.is_hidden(v) for v in shown) == 2 and total == 25
    assert protect.one_way([0, 10, 12], 22) == ([0, 10, 12], 22)
    assert protect.count(4) == "<5" and protect.count(0) == 0 and protect.count(5) == 5
    # a hidden parent hides its non-zero children (else adding them up recovers it)
    kids = protect.nested([2, 0, 7], ["a", "a", "b"], {"a": "<5", "b": 7})
    assert kids == [protect.HIDDEN, 0, 7]


def test_the_checks_can_fail():
    records, prov, interventions = cohort(40, 1)
    pack = make_pack(records, prov, interventions)
    reliable = pack.tables["reliable"]
    row = next(
        r
        for r in reliable.rows
        if sum(protect.is_hidden(v) for v in r[7:10]) == 2 and not protect.is_hidden(r[6])
    )
    j = next(j for j in range(7, 10) if row[j] == protect.HIDDEN or row[j] == "<5")
    row[j] = 3  # shown as a number: both checks notice
    assert small_counts_shown(pack) and lone_hidden(pack)
