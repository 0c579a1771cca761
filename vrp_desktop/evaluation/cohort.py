"""The evaluation's cohort held by column: one numpy array per fact, one slot per enrolment.

A partnership cohort is 100,000 enrolments or more; as objects (a record, a pair and two
score dicts each, merged again per unit) it cost most of the export's time and memory. As
columns, every unit's funnel, change, dose and inequality figures are ``bincount``s, masks and
sorts over the same few arrays. ``from_records`` and ``records`` convert to and from the
object form the tests write cohorts in, so both forms publish the same pack.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

#: a date not recorded (NaT as a day number)
MISSING = np.iinfo(np.int64).min
_EPOCH = dt.date(1970, 1, 1)


class Coder:
    """Small integer codes for the values of one column, in the order first met."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}
        self.values: list[Any] = []

    def code(self, items: Iterable[Any], count: int = -1) -> np.ndarray:
        """The codes of ``items``; values not met before get the next codes, in the order
        they first appear. (New values found first, then one C-level look-up per item: a
        Python call per item took 0.2 s of the 100,000-person cohort's read.)"""
        items = items if isinstance(items, list | tuple) else list(items)
        index, values = self.index, self.values
        for v in dict.fromkeys(items):
            if v not in index:
                index[v] = len(values)
                values.append(v)
        return np.fromiter(map(index.__getitem__, items), dtype=np.int64, count=len(items))


def days(values: Sequence[Any]) -> np.ndarray:
    """Dates (``date`` objects or ISO strings, None for missing) as day numbers."""
    return np.array(values, dtype="datetime64[D]").astype(np.int64)


def day_to_date(day: int) -> dt.date | None:
    return None if day == MISSING else _EPOCH + dt.timedelta(days=int(day))


@dataclasses.dataclass
class PairColumns:
    """One measure's pairs: ``has`` marks the enrolments with a baseline and a later exit."""

    has: np.ndarray
    base_on: np.ndarray
    exit_on: np.ndarray
    #: the order the enrolment's pairs were found in (breaks ties on the exit day)
    rank: np.ndarray
    sessions: np.ndarray
    hours: np.ndarray
    #: score id -> value at baseline / exit (NaN: not held or not a number)
    base: dict[str, np.ndarray]
    exit: dict[str, np.ndarray]

    @classmethod
    def empty(cls, n: int) -> PairColumns:
        return cls(
            np.zeros(n, dtype=bool),
            np.full(n, MISSING, dtype=np.int64),
            np.full(n, MISSING, dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            np.zeros(n, dtype=float),
            {},
            {},
        )

    def score(self, side: str, score_id: str, rows: np.ndarray) -> np.ndarray:
        held = (self.base if side == "base" else self.exit).get(score_id)
        if held is None:
            return np.full(len(rows), np.nan)
        return held[rows]


def score_arrays(dicts: Sequence[dict[str, Any]], rows: np.ndarray, n: int) -> dict:
    """Score dicts (one per row in ``rows``) as one NaN-filled array per score id. (Each
    score's rows and values are gathered first and set in one assignment: a numpy element
    set per value took a third of the time.)"""
    found: dict[str, tuple[list[int], list[Any]]] = {}
    for row, scores in zip(rows.tolist(), dicts, strict=True):
        for key, value in scores.items():
            if isinstance(value, (int, float)):
                held = found.get(key)
                if held is None:
                    held = found[key] = ([], [])
                held[0].append(row)
                held[1].append(value)
    out: dict[str, np.ndarray] = {}
    for key, (where, values) in found.items():
        column = out[key] = np.full(n, np.nan)
        column[where] = np.array(values, dtype=float)
    return out


@dataclasses.dataclass
class Cohort:
    """The period's enrolments (in enrolment id order), each column one array."""

    enrolment_id: list[str]
    participant_id: list[str]
    #: who the enrolment is (``person_key`` coded): one person counts once in a unit
    person: np.ndarray
    person_keys: list[str]
    intervention: np.ndarray
    interventions: list[str]
    provider: np.ndarray
    providers: list[str]
    referral: np.ndarray
    start: np.ndarray
    end: np.ndarray
    exit_reason: np.ndarray
    exit_reasons: list[str | None]
    #: age band, gender, ethnicity, area: the coded column and its values
    groups: dict[str, tuple[np.ndarray, list[Any]]]
    rostered: np.ndarray
    attended: np.ndarray
    hours: np.ndarray
    baselines: dict[str, np.ndarray]
    exits: dict[str, np.ndarray]
    pairs: dict[str, PairColumns]

    def __len__(self) -> int:
        return len(self.enrolment_id)

    @classmethod
    def from_records(cls, records: Sequence[Any]) -> Cohort:
        """The columns of a list of ``data.Record`` (the tests' form)."""
        n = len(records)
        person, intervention, provider, reason = Coder(), Coder(), Coder(), Coder()
        groups = {}
        for name in ("age_band", "gender", "ethnicity", "area"):
            coder = Coder()
            groups[name] = (coder.code((getattr(r, name) for r in records), n), coder.values)
        measures: list[str] = []
        for r in records:
            for m in (*r.baselines, *r.exits, *r.pairs):
                if m not in measures:
                    measures.append(m)
        baselines = {m: np.array([m in r.baselines for r in records], dtype=bool) for m in measures}
        exits = {m: np.array([m in r.exits for r in records], dtype=bool) for m in measures}
        pairs = {}
        for m in measures:
            cols = PairColumns.empty(n)
            rows, base, post = [], [], []
            for j, r in enumerate(records):
                pair = r.pairs.get(m)
                if pair is None:
                    continue
                rows.append(j)
                base.append(pair.base)
                post.append(pair.exit)
                cols.has[j] = True
                cols.base_on[j] = (pair.base_on - _EPOCH).days
                cols.exit_on[j] = (pair.exit_on - _EPOCH).days
                cols.rank[j] = list(r.pairs).index(m)
                cols.sessions[j] = pair.sessions
                cols.hours[j] = pair.hours
            at = np.array(rows, dtype=np.int64)
            cols.base, cols.exit = score_arrays(base, at, n), score_arrays(post, at, n)
            pairs[m] = cols
        return cls(
            enrolment_id=[r.enrolment_id for r in records],
            participant_id=[r.participant_id for r in records],
            person=person.code((r.person_key for r in records), n),
            person_keys=person.values,
            intervention=intervention.code((r.intervention_id for r in records), n),
            interventions=intervention.values,
            provider=provider.code((r.provider_id for r in records), n),
            providers=provider.values,
            referral=days([r.referral_date for r in records]),
            start=days([r.start_date for r in records]),
            end=days([r.end_date for r in records]),
            exit_reason=reason.code((r.exit_reason for r in records), n),
            exit_reasons=reason.values,
            groups=groups,
            rostered=np.array([r.sessions_rostered for r in records], dtype=np.int64),
            attended=np.array([r.sessions_attended for r in records], dtype=np.int64),
            hours=np.array([r.hours for r in records], dtype=float),
            baselines=baselines,
            exits=exits,
            pairs=pairs,
        )

    def records(self) -> list[Any]:
        """The object form (``data.Record``), for callers that want one enrolment at a time."""
        from vrp_desktop.evaluation.data import Pair, Record

        out = []
        g = self.groups
        for j in range(len(self)):
            rec = Record(
                self.enrolment_id[j],
                self.participant_id[j],
                self.person_keys[self.person[j]],
                self.interventions[self.intervention[j]],
                self.providers[self.provider[j]],
                day_to_date(self.referral[j]),
                day_to_date(self.start[j]),
                day_to_date(self.end[j]),
                self.exit_reasons[self.exit_reason[j]],
                *(g[k][1][g[k][0][j]] for k in ("age_band", "gender", "ethnicity", "area")),
                int(self.rostered[j]),
                int(self.attended[j]),
                float(self.hours[j]),
            )
            rec.baselines = {m for m, flag in self.baselines.items() if flag[j]}
            rec.exits = {m for m, flag in self.exits.items() if flag[j]}
            found = sorted((c.rank[j], m) for m, c in self.pairs.items() if c.has[j])
            for _rank, m in found:
                c = self.pairs[m]
                rec.pairs[m] = Pair(
                    m,
                    {k: _number(v[j]) for k, v in c.base.items() if v[j] == v[j]},
                    {k: _number(v[j]) for k, v in c.exit.items() if v[j] == v[j]},
                    day_to_date(c.base_on[j]),
                    day_to_date(c.exit_on[j]),
                    int(c.sessions[j]),
                    float(c.hours[j]),
                )
            out.append(rec)
        return out


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)
