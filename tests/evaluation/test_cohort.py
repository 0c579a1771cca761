"""The cohort by column: the same facts as the records it is made from, and a person's
enrolments merged the way the published figures need (the latest exit counts; on a tie, the
first enrolment's)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

from tests.evaluation.helpers import cohort
from vrp_desktop.evaluation.build import People
from vrp_desktop.evaluation.cohort import Cohort
from vrp_desktop.evaluation.data import Pair, Record


def _plain(record: Record) -> dict:
    out = dataclasses.asdict(record)
    out["pairs"] = {
        m: {**p, "base": {k: float(v) for k, v in p["base"].items()},
            "exit": {k: float(v) for k, v in p["exit"].items()}}
        for m, p in out["pairs"].items()
    }  # fmt: skip
    out["pair_order"] = list(record.pairs)
    return out


def test_columns_hold_every_fact_of_the_records():
    records, _prov, _interventions = cohort(300, seed=21, providers=2)
    back = Cohort.from_records(records).records()
    assert [_plain(r) for r in back] == [_plain(r) for r in records]


def _record(eid: str, key: str, pairs: dict[str, tuple[dt.date, dt.date, int]]) -> Record:
    rec = Record(eid, f"p-{eid}", key, "i1", "prov", dt.date(2026, 4, 1), dt.date(2026, 4, 2),
                 None, None, "14-15", "female", "white_british", "B1")  # fmt: skip
    for m, (base_on, exit_on, score) in pairs.items():
        rec.baselines.add(m)
        rec.exits.add(m)
        rec.pairs[m] = Pair(m, {"total": 10}, {"total": score}, base_on, exit_on)
    return rec


def test_a_person_s_latest_pair_counts_and_the_first_enrolment_wins_a_tie():
    d = dt.date
    records = [
        _record("e1", "alex", {"m1": (d(2026, 5, 1), d(2026, 9, 1), 7)}),
        _record("e2", "sam", {"m1": (d(2026, 5, 1), d(2026, 8, 1), 8)}),
        _record("e3", "alex", {"m1": (d(2026, 6, 1), d(2026, 10, 1), 6)}),  # alex's latest
        _record("e4", "sam", {"m1": (d(2026, 6, 1), d(2026, 8, 1), 9)}),  # tie: e2 counts
        # two measures ending the same day: the span is the one found first (m2, then m1)
        _record(
            "e5",
            "kim",
            {"m2": (d(2026, 7, 1), d(2026, 9, 30), 5), "m1": (d(2026, 5, 1), d(2026, 9, 30), 4)},
        ),
    ]
    c = Cohort.from_records(records)
    people = People(c, np.arange(len(records)))
    assert people.n == 3  # alex, sam, kim, in the order first met
    assert people.pair_rows("m1").tolist() == [2, 1, 4]
    assert people.pair_rows("m2").tolist() == [-1, -1, 4]
    assert people.spans().tolist() == [122.0, 92.0, 91.0]
    assert c.pairs["m1"].score("exit", "total", people.pair_rows("m1")).tolist() == [6, 8, 4]
    assert people.first.tolist() == [0, 1, 4]
