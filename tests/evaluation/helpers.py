"""Synthetic cohorts for the evaluation tests (records as the SQL read returns them), and the
checks every published pack must pass."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from vrp_desktop import codes
from vrp_desktop.evaluation import protect
from vrp_desktop.evaluation.build import publish
from vrp_desktop.evaluation.data import Pair, Record
from vrp_desktop.evaluation.period import financial_year
from vrp_desktop.evaluation.tables import COUNT, Pack
from vrp_desktop.services import frameworks as fw_service

PERIOD = financial_year(2025)


def catalog():
    c = fw_service.builtin_catalog()
    return c.measures(), {f.id: f for f in c.frameworks()}


def _scores(measure, rng: random.Random, shift: float = 0.0) -> dict:
    from vrp_desktop.measures.scoring import score

    answers = [rng.choice(measure.allowed_values) for _ in measure.items]
    return dict(score(measure, answers).scores)


def cohort(n: int, seed: int, *, providers: int = 1) -> tuple[list[Record], dict, dict]:
    """n enrolments over four interventions (one per framework) at ``providers`` providers."""
    rng = random.Random(seed)
    measures, frameworks = catalog()
    by_id = {m.id: m for m in measures}
    interventions, prov = {}, {}
    for p in range(providers):
        pid = f"prov{p}"
        prov[pid] = (f"P{p:03d}", f"Provider {p}")
        for fw_id in sorted(frameworks):
            interventions[f"{pid}-{fw_id}"] = (f"{fw_id.title()} {p}", pid, fw_id)
    ids = sorted(interventions)
    ethnicities, genders = list(codes.ETHNICITIES), list(codes.GENDERS)
    records = []
    for k in range(n):
        iid = rng.choice(ids)
        fw = frameworks[interventions[iid][2]]
        referral = PERIOD.start + dt.timedelta(days=rng.randrange(360))
        start = referral + dt.timedelta(days=rng.randrange(20)) if rng.random() < 0.9 else None
        end = (
            start + dt.timedelta(days=rng.randrange(40, 200))
            if start and rng.random() < 0.6
            else None
        )
        rec = Record(
            enrolment_id=f"e{k}",
            participant_id=f"p{k}",
            person_key=f"key{k if rng.random() < 0.9 else k // 2}",
            intervention_id=iid,
            provider_id=interventions[iid][1],
            referral_date=referral,
            start_date=start,
            end_date=end,
            exit_reason=rng.choice([None, *(e.code for e in fw.exit_reasons)]) if end else None,
            age_band=rng.choice([*codes.AGE_BANDS, None]),
            gender=rng.choice([*genders, None]),
            ethnicity=rng.choice([*ethnicities, None, "made_up_code"]),
            area=rng.choice(["B1", "B2", "B6", "B11", None]),
        )
        if start:
            rec.sessions_rostered = rng.randrange(0, 30)
            rec.sessions_attended = rng.randrange(0, rec.sessions_rostered + 1)
            rec.hours = rec.sessions_attended * rng.choice([1.0, 1.5])
        for use in fw.measures:
            m = by_id[use.measure_id]
            if start and rng.random() < 0.8:
                rec.baselines.add(m.id)
                if rng.random() < 0.7:
                    rec.exits.add(m.id)
                    rec.pairs[m.id] = Pair(
                        m.id,
                        _scores(m, rng),
                        _scores(m, rng),
                        start,
                        start + dt.timedelta(days=rng.randrange(30, 200)),
                        rec.sessions_attended,
                        rec.hours,
                    )
        records.append(rec)
    return records, prov, interventions


def make_pack(records, prov, interventions, *, kind="provider", threshold=5) -> Pack:
    measures, frameworks = catalog()
    return publish(
        records,
        kind=kind,
        period=PERIOD,
        providers=prov,
        interventions=interventions,
        measures=measures,
        frameworks=frameworks,
        threshold=threshold,
    )


def small_counts_shown(pack: Pack, threshold: int = 5) -> list[tuple]:
    """Every visible count of people from 1 to threshold-1, anywhere in the pack."""
    found = []
    for key, table in pack.tables.items():
        columns = [j for j, f in enumerate(table.formats) if f == COUNT]
        for row in table.rows:
            for j in columns:
                v = row[j]
                if isinstance(v, int) and 0 < v < threshold:
                    found.append((key, table.header[j], row[:4], v))
    return found


def _col(table, row, name):
    return row[table.column(name)]


def lone_hidden(pack: Pack) -> list[tuple]:
    """Additive groups (cells and the total they add up to, as published) with exactly one
    hidden entry: that entry could be worked out by subtraction."""
    t = pack.tables
    groups: list[tuple[str, list]] = []
    funnel = {(r[0], r[1]): r for r in t["funnel"].rows}

    def stage(unit, name):
        return _col(t["funnel"], funnel[unit], name)

    exits = defaultdict(list)
    for row in t["exits"].rows:
        exits[(row[0], row[1])].append(_col(t["exits"], row, "People"))
    for unit, cells in exits.items():
        groups.append((f"exits {unit}", [*cells, stage(unit, "Referred")]))
    for row in t["reliable"].rows:
        names = ("Improved", "No reliable change", "Deteriorated", "People paired")
        groups.append((f"reliable {row[:5]}", [_col(t["reliable"], row, n) for n in names]))
    for row in t["bands"].rows:
        names = ("Below at exit", "Still high need", "High need at baseline")
        groups.append((f"bands {row[:4]}", [_col(t["bands"], row, n) for n in names]))
    trend = {
        (r[0], r[1], r[2]): _col(t["dose_trend"], r, "People paired") for r in t["dose_trend"].rows
    }
    dose = defaultdict(list)
    for row in t["dose"].rows:
        dose[(row[0], row[1], row[2], row[4])].append(_col(t["dose"], row, "People paired"))
    for key, cells in dose.items():
        groups.append((f"dose {key}", [*cells, trend[key[:3]]]))
    change = {
        (r[0], r[1], r[2], r[3]): _col(t["change"], r, "People paired") for r in t["change"].rows
    }
    reach = defaultdict(list)
    for row in t["reach_gaps"].rows:
        reach[(row[0], row[1], row[2])].append(row)
    group_of = dict(codes._ETHNIC_GROUP_OF)
    for (level, unit, dimension), rows in reach.items():
        for column, total in (
            ("Referred", "Referred"),
            ("Attended at least once", "Attended at least once"),
            ("Paired", "Paired"),
        ):
            cells = [_col(t["reach_gaps"], r, column) for r in rows]
            if dimension != "Ethnicity":
                groups.append(
                    (f"reach {unit} {dimension} {column}", [*cells, stage((level, unit), total)])
                )
                continue
            parents = {
                r[3]: _col(t["reach_gaps"], r, column) for r in reach[(level, unit, "Ethnic group")]
            }
            labels = dict(codes.ETHNIC_GROUPS)
            by_parent = defaultdict(list)
            for r, cell in zip(rows, cells, strict=True):
                code = next((c for c, lbl in codes.ETHNICITIES.items() if lbl == r[3]), r[3])
                parent = labels.get(group_of.get(code, ""), r[3])
                by_parent[parent].append(cell)
            for parent, kids in by_parent.items():
                if parent in parents:
                    groups.append((f"ethnicity {unit} {parent} {column}", [*kids, parents[parent]]))
    out = defaultdict(list)
    for row in t["outcome_gaps"].rows:
        out[(row[0], row[1], row[2], row[4], row[5])].append(
            _col(t["outcome_gaps"], row, "People paired")
        )
    for (level, unit, dimension, measure, score), cells in out.items():
        if dimension == "Ethnicity":
            continue  # nested like the reach table; the group level is checked
        groups.append(
            (
                f"outcomes {unit} {dimension} {score}",
                [*cells, change[(level, unit, measure, score)]],
            )
        )
    return [
        (name, cells) for name, cells in groups if sum(protect.is_hidden(c) for c in cells) == 1
    ]
