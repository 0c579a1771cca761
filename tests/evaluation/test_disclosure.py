"""The small-number rule over the whole pack: no count of 1 to 4 people visible anywhere, no
hidden count recoverable from a published total, no statistic from fewer than 5 people."""

from __future__ import annotations

import pytest

from tests.evaluation.helpers import cohort, lone_hidden, make_pack, small_counts_shown
from vrp_desktop.evaluation import protect


@pytest.mark.parametrize(("n", "seed", "providers"), [(40, 1, 1), (150, 2, 1), (200, 3, 3)])
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


def test_publisher_protects_across_units():
    """A unit's small count is protected against the whole it adds up to: without the link
    the other unit's count would stay shown, and 23 - 20 would give the 3."""

    def publish(linked: bool):
        pub = protect.Publisher(5)
        cells = {}
        for unit, n in (
            (("All", "w"), 23),
            (("Intervention", "a"), 3),
            (("Intervention", "b"), 20),
        ):
            pub.begin(unit)
            cells[unit[1]] = pub.count(("stage", "Referred"), n)
        links = [(("All", "w"), [("Intervention", "a"), ("Intervention", "b")])] if linked else []
        pub.decide(links)
        return pub, cells

    pub, cells = publish(linked=False)
    assert [pub.shown(cells[u]) for u in "wab"] == [23, "<5", 20]
    pub, cells = publish(linked=True)
    assert [pub.shown(cells[u]) for u in "wab"] == [23, "<5", "[c]"]
    assert pub.shown(protect.Share(cells["a"], cells["w"])) == protect.HIDDEN
    assert pub.shown(protect.Share(cells["w"], cells["w"])) == 1.0
    assert pub.shown(protect.Given(cells["b"], 1.5, 20)) == protect.HIDDEN
    assert pub.shown(protect.Given(cells["w"], 1.5, 23)) == 1.5
    assert pub.shown(protect.Given(cells["w"], 1.5, 0)) is None


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


@pytest.mark.parametrize(
    ("n", "seed", "providers"), [(12, 3, 1), (40, 1, 1), (60, 9, 2), (150, 2, 1)]
)
def test_no_hidden_count_recoverable_by_an_integer_attack(n, seed, providers):
    """An attacker with every relation the layout shows, solving an integer program for each
    hidden count over the whole pack (across tables and levels), narrows none below the rule."""
    from tests.evaluation.pack_attack import attack_pack

    records, prov, interventions = cohort(n, seed, providers=providers)
    kind = "partnership" if providers > 1 else "provider"
    _pack, attack = attack_pack(records, prov, interventions, kind=kind)
    assert len(attack.atk.lo) > 10, "the cohort must really exercise the rule"
    assert attack.failures() == []


def test_the_attack_finds_what_unit_by_unit_protection_leaves(monkeypatch):
    """The attack can fail: the same pack protected unit by unit (no unit linked to the units
    it is made of), as the pack was before, has hidden counts the attacker narrows."""
    from tests.evaluation.pack_attack import attack_pack

    decide = protect.Publisher.decide
    monkeypatch.setattr(
        protect.Publisher, "decide", lambda self, links=(), dear=None: decide(self, (), dear)
    )
    records, prov, interventions = cohort(12, 3)
    _pack, attack = attack_pack(records, prov, interventions, kind="provider")
    assert len(attack.failures()) > 10


@pytest.mark.parametrize(
    ("n", "seed", "providers"), [(40, 1, 1), (60, 5, 1), (200, 3, 3), (120, 7, 2)]
)
def test_a_statistic_beside_a_hidden_count_is_hidden(n, seed, providers):
    """A correlation's p-value, with the correlation, gives away how many people it is over
    (solving the t distribution for n), and a median is a statistic of its count's people:
    where that count is hidden, they are too (as the Notes say)."""
    records, prov, interventions = cohort(n, seed, providers=providers)
    pack = make_pack(
        records, prov, interventions, kind="partnership" if providers > 1 else "provider"
    )
    checks = [
        ("dose_trend", "People paired", ("Spearman rho", "p-value")),
        ("funnel", "Paired", ("Median days, baseline to exit",)),
        ("funnel", "Enrolled", ("Median days, referral to start",)),
    ]
    hidden_rows = 0
    for key, count, statistics in checks:
        table = pack.tables[key]
        for row in table.rows:
            if protect.is_hidden(row[table.column(count)]):
                hidden_rows += 1
                for name in statistics:
                    assert row[table.column(name)] in (protect.HIDDEN, None), (key, row)
    assert hidden_rows > 0  # the cohort really has such rows
