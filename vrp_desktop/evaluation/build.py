"""From the cohort to the published tables: per unit (each intervention, each provider, each
intervention type, and everyone), the funnel, change, reliable and meaningful change, band
movement, dose and inequalities, every number passed through ``protect`` on the way out.

Only the protected tables leave this module (the page, the workbook and the PDF all read
them), so nothing downstream can show a small number by mistake.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from sqlalchemy import select

from vrp_desktop import __version__, clock, codes
from vrp_desktop.evaluation import data, definitions, population, protect, stats
from vrp_desktop.evaluation.cohort import MISSING, Coder, Cohort
from vrp_desktop.evaluation.inequality import mean_gap, rate_gap
from vrp_desktop.evaluation.period import Period
from vrp_desktop.evaluation.tables import COUNT, DAYS, MEAN, RHO, SHARE, STAGES, Pack, Table
from vrp_desktop.frameworks import quasi_rule
from vrp_desktop.frameworks.models import MeasureDefinition
from vrp_desktop.reference import population as reference
from vrp_desktop.returns.aggregate import NOT_RECORDED
from vrp_desktop.returns.partnership import partnership_source
from vrp_desktop.returns.source import Source, provider_source

Progress = Callable[[str, int, int], None]
STILL_ENROLLED = "Still enrolled"
_MEANINGFUL = "Meaningful change (published threshold)"


class People:
    """A unit's people, by column: a person's enrolments in the unit merged (someone referred
    twice, or to two of a provider's interventions, counts once), people in the order their
    first enrolment comes in the cohort."""

    def __init__(self, cohort: Cohort, rows: np.ndarray) -> None:
        self.cohort = cohort
        self.rows = rows  # the unit's enrolments (cohort positions, ascending)
        _keys, first_at, inverse = np.unique(
            cohort.person[rows], return_index=True, return_inverse=True
        )
        order = np.argsort(first_at, kind="stable")
        number = np.empty_like(order)
        number[order] = np.arange(order.size)
        self.of = number[inverse.reshape(-1)]  # each enrolment's person
        self.first = rows[first_at[order]]  # each person's first enrolment
        self.n = int(order.size)
        self._pair_rows: dict[str, np.ndarray] = {}
        c = cohort
        measures = list(c.pairs)
        self.stages = {
            "Referred": np.ones(self.n, dtype=bool),
            "Enrolled": self.any(c.start != MISSING),
            "Attended at least once": self.any(c.attended > 0),
            "Baseline": self.any(_any_of(c.baselines.values(), len(c))),
            "Exit": self.any(_any_of(c.exits.values(), len(c))),
            "Paired": self.any(_any_of((c.pairs[m].has for m in measures), len(c))),
        }

    def any(self, flags: np.ndarray) -> np.ndarray:
        """Per person: whether any of their enrolments in the unit has the flag."""
        out = np.zeros(self.n, dtype=bool)
        out[self.of[flags[self.rows]]] = True
        return out

    def count(self, flags: np.ndarray) -> int:
        return int(self.any(flags).sum())

    def latest(self, candidate: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Per person, the enrolment (cohort position; -1 for none) with the latest ``day``
        among the candidate ones, the first of them on a tie (as ``max`` picks)."""
        at = self.rows[candidate[self.rows]]
        who = self.of[candidate[self.rows]]
        order = np.lexsort((at, -day[at], who))
        firsts = np.unique(who[order], return_index=True)[1]
        out = np.full(self.n, -1, dtype=np.int64)
        out[who[order][firsts]] = at[order][firsts]
        return out

    def pair_rows(self, measure_id: str) -> np.ndarray:
        """Per person, the enrolment whose pair on the measure counts (-1: no pair): the one
        with the latest exit."""
        held = self._pair_rows.get(measure_id)
        if held is None:
            cols = self.cohort.pairs.get(measure_id)
            if cols is None:
                held = np.full(self.n, -1, dtype=np.int64)
            else:
                held = self.latest(cols.has, cols.exit_on)
            self._pair_rows[measure_id] = held
        return held

    def spans(self) -> np.ndarray:
        """Days from baseline to exit of each paired person's latest pair (over measures; on a
        tie, the measure whose pair the person's enrolments gave first)."""
        c = self.cohort
        whos, exits, spans, firsts, ranks = [], [], [], [], []
        for m, cols in c.pairs.items():
            chosen = self.pair_rows(m)
            who = np.flatnonzero(chosen >= 0)
            if not who.size:
                continue
            at = chosen[who]
            # where the measure first entered the person's merged pairs: their first
            # enrolment holding a pair on it, and its place among that enrolment's pairs
            earliest = self.earliest(cols.has)[who]
            whos.append(who)
            exits.append(cols.exit_on[at])
            spans.append(cols.exit_on[at] - cols.base_on[at])
            firsts.append(earliest)
            ranks.append(cols.rank[earliest])
        if not whos:
            return np.zeros(0)
        who, exit_on, span, first, rank = (
            np.concatenate(x) for x in (whos, exits, spans, firsts, ranks)
        )
        order = np.lexsort((rank, first, -exit_on, who))
        pick = np.unique(who[order], return_index=True)[1]
        return span[order][pick].astype(float)

    def earliest(self, candidate: np.ndarray) -> np.ndarray:
        """Per person, their first enrolment (cohort position) with the flag (-1: none)."""
        at = self.rows[candidate[self.rows]]
        who = self.of[candidate[self.rows]]
        out = np.full(self.n, -1, dtype=np.int64)
        firsts = np.unique(who, return_index=True)[1]  # rows ascend: the first is the earliest
        out[who[firsts]] = at[firsts]
        return out


def _any_of(flags: Iterable[np.ndarray], n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    for f in flags:
        out |= f
    return out


# -- the whole evaluation --------------------------------------------------------------------


def source_for(ws, period: Period) -> Source:
    return partnership_source(period) if ws.kind == "coordinator" else provider_source(period)


def build(
    ws,
    period: Period,
    *,
    threshold: int = protect.DEFAULT_THRESHOLD,
    progress: Progress | None = None,
) -> Pack:
    """Read the period's cohort and publish its evaluation (a manager's or coordinator's job)."""
    ws.require("export_return")
    from vrp_desktop.services import frameworks as fw_service

    catalog = fw_service.builtin_catalog()
    src = source_for(ws, period)
    with ws.engine.connect() as conn:
        records = data.read_columns(conn, src, period, progress)
        providers = {
            r.id: (r.code, r.name) for r in conn.execute(select(src.providers)).mappings().all()
        }
        interventions = {
            r.id: (r.name, r.provider_id, r.framework_id)
            for r in conn.execute(select(src.interventions)).mappings().all()
        }
    report = progress or (lambda *_: None)
    report("Working out the statistics", 3, 4)
    pack = publish(
        records,
        kind="partnership" if ws.kind == "coordinator" else "provider",
        period=period,
        providers=providers,
        interventions=interventions,
        measures=catalog.measures(),
        frameworks={f.id: f for f in catalog.frameworks()},
        threshold=threshold,
        workspace_name=_workspace_name(ws, providers),
    )
    population.compare(pack, reference.installed(ws))
    report("Evaluation ready", 4, 4)
    return pack


def _workspace_name(ws, providers) -> str:
    from vrp_desktop.store.models import Provider

    with ws.read() as s:
        own = s.execute(select(Provider.name).where(Provider.is_self.is_(True))).scalar()
    return own or ""


def _units(cohort: Cohort, kind, providers, interventions, frameworks):
    """(level, name, framework id or None, the unit's enrolments as cohort positions), the
    whole first; and each unit made up of others (by providers, intervention types or
    interventions: each way adds up on its own), with them (for ``Publisher.decide``)."""
    whole = "Partnership" if kind == "partnership" else "All interventions"
    out = [("All", whole, None, np.arange(len(cohort)))]
    made_of: dict[tuple[tuple, str], list[tuple]] = {}
    fw_of = [interventions.get(iid, ("", "", ""))[2] for iid in cohort.interventions]
    type_code = Coder()
    fw_values = type_code.code((fw_of[k] for k in range(len(fw_of))), len(fw_of))
    by_type = _rows_by(fw_values[cohort.intervention], type_code.values)
    by_provider = _rows_by(cohort.provider, cohort.providers)
    by_intervention = _rows_by(cohort.intervention, cohort.interventions)
    for fw_id in sorted(by_type, key=lambda f: frameworks[f].name if f in frameworks else f):
        name = frameworks[fw_id].name if fw_id in frameworks else fw_id
        out.append(("Intervention type", name, fw_id, by_type[fw_id]))
        made_of.setdefault((("All", whole), "type"), []).append(("Intervention type", name))
    unit_of_provider = {}
    if kind == "partnership":
        for pid in sorted(by_provider, key=lambda p: providers.get(p, (p, p))[0]):
            code, name = providers.get(pid, (pid, pid))
            out.append(("Provider", f"{name} [{code}]", None, by_provider[pid]))
            unit_of_provider[pid] = ("Provider", f"{name} [{code}]")
            made_of.setdefault((("All", whole), "provider"), []).append(unit_of_provider[pid])
    labels = {}
    for iid, (name, pid, _fw) in interventions.items():
        code = providers.get(pid, ("?", ""))[0]
        labels[iid] = f"{name} [{code}]" if kind == "partnership" else name
    seen: dict[str, int] = {}
    for iid in sorted(by_intervention, key=lambda i: labels.get(i, i)):
        label = labels.get(iid, iid)
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label} ({seen[label]})"
        fw_id = interventions.get(iid, ("", "", None))[2]
        out.append(("Intervention", label, fw_id, by_intervention[iid]))
        unit = ("Intervention", label)
        made_of.setdefault((("All", whole), "intervention"), []).append(unit)
        pid = interventions.get(iid, ("", None, ""))[1]
        if pid in unit_of_provider:
            made_of.setdefault((unit_of_provider[pid], "intervention"), []).append(unit)
        if fw_id in by_type:
            name = frameworks[fw_id].name if fw_id in frameworks else fw_id
            made_of.setdefault((("Intervention type", name), "intervention"), []).append(unit)
    return out, made_of


def _rows_by(codes_: np.ndarray, values: list) -> dict:
    """The cohort positions holding each value met (ascending), in the order values were met."""
    order = np.argsort(codes_, kind="stable")
    bounds = np.searchsorted(codes_[order], np.arange(len(values) + 1))
    return {
        values[k]: order[bounds[k] : bounds[k + 1]]
        for k in range(len(values))
        if bounds[k + 1] > bounds[k]
    }


def publish(
    records: Sequence[data.Record] | Cohort,
    *,
    kind: str,
    period: Period,
    providers: dict[str, tuple[str, str]],
    interventions: dict[str, tuple[str, str, str]],
    measures: Sequence[MeasureDefinition],
    frameworks: dict,
    threshold: int = protect.DEFAULT_THRESHOLD,
    workspace_name: str = "",
    created: dt.datetime | None = None,
) -> Pack:
    """The protected tables for every unit. Pure: records (or their columns) in, tables out
    (tests call it with records)."""
    cohort = records if isinstance(records, Cohort) else Cohort.from_records(records)
    exit_labels: dict[str, str] = {}
    for framework in frameworks.values():
        for entry in framework.exit_reasons:
            exit_labels.setdefault(entry.code, entry.label)
    t = _Tables(threshold, measures, exit_labels)
    units, made_of = _units(cohort, kind, providers, interventions, frameworks)
    t.code_groups(cohort)
    for level, name, fw_id, rows in units:
        t.unit(level, name, fw_id, People(cohort, rows))
    t.pub.decide(
        [(unit, children) for (unit, _way), children in made_of.items()],
        # the funnel is what a reader looks at first; the whole's funnel above all
        dear={
            ((level, name), "stage", stage): 10_000.0 if level == "All" else 100.0
            for level, name, *_ in units
            for stage in STAGES
        },
    )
    for table in t.tables.values():
        table.rows = [[t.pub.shown(v) for v in row] for row in table.rows]
    level_word = "partnership" if kind == "partnership" else "provider"
    return Pack(
        title="Impact and evaluation",
        subtitle=(f"{workspace_name}: " if workspace_name else "")
        + f"{period.label} ({period.months}), {level_word} level",
        period=period,
        kind=kind,
        threshold=threshold,
        created=created or clock.local_now().replace(microsecond=0),
        units=[(u[0], u[1]) for u in units],
        tables=t.tables,
        notes=notes(threshold),
        sources=sources(measures, frameworks),
    )


# -- tables ------------------------------------------------------------------------------------

_UNIT = ["Level", "Unit"]


def _table(key, title, explanation, columns: list[tuple[str, str]]) -> Table:
    return Table(
        key,
        title,
        explanation,
        _UNIT + [c for c, _ in columns],
        ["", ""] + [f for _, f in columns],
    )


def _dimensions() -> list[tuple[str, str, Callable[[Any], Any], list[tuple[Any, str]] | None]]:
    """(dimension, the cohort's column, the group a value is in, the known groups)."""
    group_of = dict(codes._ETHNIC_GROUP_OF)
    return [
        (
            "Ethnic group",
            "ethnicity",
            lambda v: group_of.get(v, v) if v else None,
            list(codes.ETHNIC_GROUPS.items()),
        ),
        ("Ethnicity", "ethnicity", lambda v: v, list(codes.ETHNICITIES.items())),
        ("Gender", "gender", lambda v: v, list(codes.GENDERS.items())),
        ("Age band", "age_band", lambda v: v, [(b, b) for b in codes.AGE_BANDS]),
        ("Area (postcode district)", "area", lambda v: v, None),
    ]


class _Tables:
    def __init__(self, threshold: int, measures: Sequence[MeasureDefinition], exit_labels):
        self.t = threshold
        #: every count, by what it counts: the tables hold cells until the pack is decided
        self.pub = protect.Publisher(threshold)
        self.measures = list(measures)
        self.exit_labels = exit_labels
        #: each enrolment's group on each dimension, worked out once for all the units it is in
        #: (set by ``code_groups``): the groups met, and each enrolment's number among them
        self.dim_codes: dict[str, tuple[list[Any], np.ndarray]] = {}

    def code_groups(self, cohort: Cohort) -> None:
        for dimension, column, key, _known in _dimensions():
            number, values = cohort.groups[column]
            coder = Coder()
            recode = coder.code((key(v) for v in values), len(values))
            self.dim_codes[dimension] = (coder.values, recode[number])
        self.tables: dict[str, Table] = {
            "funnel": _table(
                "funnel",
                "Attrition",
                "How many of the people referred in the period started, attended, and gave a "
                "baseline and an exit questionnaire.",
                [
                    ("Evidence strand (YEF Toolkit)", ""),
                    *((s, COUNT) for s in STAGES),
                    ("Share of referred with a pair", SHARE),
                    ("Median days, referral to start", DAYS),
                    ("Median days, baseline to exit", DAYS),
                ],
            ),
            "exits": _table(
                "exits",
                "Exit reasons",
                "Why people's enrolments ended (the latest ending per person).",
                [("Exit reason", ""), ("People", COUNT), ("Share", SHARE)],
            ),
            "change": _table(
                "change",
                "Change",
                "Mean change from baseline to exit with its 95% interval; the effect size is d_av.",
                [
                    ("Measure", ""),
                    ("Score", ""),
                    ("Better when", ""),
                    ("People with a baseline", COUNT),
                    ("People paired", COUNT),
                    ("Share paired", SHARE),
                    ("Mean at baseline", MEAN),
                    ("Mean at exit", MEAN),
                    ("Mean change", MEAN),
                    ("95% CI low", MEAN),
                    ("95% CI high", MEAN),
                    ("Effect size (d_av)", MEAN),
                ],
            ),
            "reliable": _table(
                "reliable",
                "Reliable and meaningful change",
                "Share of paired people whose change is beyond the score's reliable-change "
                "(or meaningful-change) threshold, each way.",
                [
                    ("Measure", ""),
                    ("Score", ""),
                    ("Method", ""),
                    ("Threshold (points)", MEAN),
                    ("People paired", COUNT),
                    ("Improved", COUNT),
                    ("No reliable change", COUNT),
                    ("Deteriorated", COUNT),
                    ("Improved %", SHARE),
                    ("No reliable change %", SHARE),
                    ("Deteriorated %", SHARE),
                ],
            ),
            "bands": _table(
                "bands",
                "Band movement",
                "Of the people in a high-need band at baseline, how many were below it at exit.",
                [
                    ("Measure", ""),
                    ("Score", ""),
                    ("High-need bands", ""),
                    ("High need at baseline", COUNT),
                    ("Below at exit", COUNT),
                    ("Still high need", COUNT),
                    ("Share moved below", SHARE),
                ],
            ),
            "dose": _table(
                "dose",
                "Dose",
                "Change on each measure's headline score by sessions attended and by contact "
                "hours.",
                [
                    ("Measure", ""),
                    ("Score", ""),
                    ("Dose by", ""),
                    ("Band", ""),
                    ("People paired", COUNT),
                    ("Mean change", MEAN),
                    ("95% CI low", MEAN),
                    ("95% CI high", MEAN),
                    ("Improved beyond threshold %", SHARE),
                ],
            ),
            "dose_trend": _table(
                "dose_trend",
                "Dose and change",
                "Rank correlation of contact hours with improvement (positive: more hours, "
                "more improvement).",
                [
                    ("Measure", ""),
                    ("Score", ""),
                    ("People paired", COUNT),
                    ("Spearman rho", RHO),
                    ("p-value", "0.000"),
                ],
            ),
            "reach_gaps": _table(
                "reach_gaps",
                "Reach by group",
                "Who was referred, and whether each group attended and completed as often as "
                "everyone (gap in percentage points, with its 95% interval).",
                [
                    ("Dimension", ""),
                    ("Group", ""),
                    ("Referred", COUNT),
                    ("Share of referred", SHARE),
                    ("Attended at least once", COUNT),
                    ("Attendance rate", SHARE),
                    ("Attendance gap to whole", SHARE),
                    ("Attendance gap CI low", SHARE),
                    ("Attendance gap CI high", SHARE),
                    ("Paired", COUNT),
                    ("Paired rate", SHARE),
                    ("Paired gap to whole", SHARE),
                    ("Paired gap CI low", SHARE),
                    ("Paired gap CI high", SHARE),
                ],
            ),
            "outcome_gaps": _table(
                "outcome_gaps",
                "Outcomes by group",
                "Mean change on each headline score by group, and its gap to everyone's, with "
                "the gap's 95% interval.",
                [
                    ("Dimension", ""),
                    ("Group", ""),
                    ("Measure", ""),
                    ("Score", ""),
                    ("People paired", COUNT),
                    ("Mean change", MEAN),
                    ("Gap to whole", MEAN),
                    ("Gap CI low", MEAN),
                    ("Gap CI high", MEAN),
                ],
            ),
        }

    # small helper: a statistic over n people
    def add(self, key: str, unit: list, values: list) -> None:
        self.tables[key].rows.append([*unit, *values])

    def unit(self, level: str, name: str, fw_id: str | None, people: People) -> None:
        u = [level, name]
        self.pub.begin((level, name))
        self.funnel(u, fw_id, people)
        self.exits(u, people)
        c, rows = people.cohort, people.rows
        used = {
            m
            for m in {*c.baselines, *c.exits}
            if (m in c.baselines and c.baselines[m][rows].any())
            or (m in c.exits and c.exits[m][rows].any())
        }
        for measure in self.measures:
            if measure.id in used:
                self.measure(u, measure, people)
        self.inequalities(u, people)

    def funnel(self, u, fw_id, people: People) -> None:
        counts = [int(people.stages[stage].sum()) for stage in STAGES]
        shown = [
            self.pub.count(("stage", stage), n) for stage, n in zip(STAGES, counts, strict=True)
        ]
        c, first = people.cohort, people.first
        dated = (c.start[first] != MISSING) & (c.referral[first] != MISSING)
        waits = (c.start[first] - c.referral[first])[dated].astype(float)
        spans = people.spans()
        strand = definitions.strand_of(fw_id).strand if fw_id else None
        self.add(
            "funnel",
            u,
            [
                strand,
                *shown,
                protect.Share(shown[-1], shown[0]),
                # each median is over the people of a count in this row, hidden with it
                protect.Given(shown[1], stats.median(waits), len(waits)),
                protect.Given(shown[-1], stats.median(spans), len(spans)),
            ],
        )

    def exits(self, u, people: People) -> None:
        """Each person's latest ending (the first of them on a tie) and its reason."""
        c = people.cohort
        ended = people.latest(c.end != MISSING, c.end)
        codes_ = np.where(ended >= 0, c.exit_reason[np.maximum(ended, 0)], -1)
        tally: dict[str, int] = defaultdict(int)
        found = np.bincount(codes_ + 1, minlength=len(c.exit_reasons) + 1)
        for k in np.flatnonzero(found):
            if k == 0:
                reason = STILL_ENROLLED
            else:
                code = c.exit_reasons[k - 1]
                reason = self.exit_labels.get(code, code) if code else NOT_RECORDED
            tally[reason] += int(found[k])
        reasons = sorted(tally, key=lambda r: (r in (STILL_ENROLLED, NOT_RECORDED), r))
        total = self.referred(people)
        shown = self.pub.parts([("exit", r) for r in reasons], [tally[r] for r in reasons], total)
        for reason, value in zip(reasons, shown, strict=True):
            self.add("exits", u, [reason, value, protect.Share(value, total)])

    def referred(self, people: People) -> protect.Cell:
        return self.pub.count(("stage", "Referred"), people.n)

    def measure(self, u, m: MeasureDefinition, people: People) -> None:
        c = people.cohort
        with_base = people.count(c.baselines[m.id]) if m.id in c.baselines else 0
        chosen = people.pair_rows(m.id)
        pairs = chosen[chosen >= 0]  # the counted pairs' enrolments, in the people's order
        cols = c.pairs.get(m.id)
        primary = definitions.primary_score(m)
        for score_id in m.score_ids():
            if cols is None:
                base = post = np.zeros(0)
            else:
                base = cols.score("base", score_id, pairs)
                post = cols.score("exit", score_id, pairs)
            change = stats.paired_change(base, post)
            n = change.n
            better = m.score_better(score_id)
            shown_n = self.paired(m, score_id, n)
            shown_base = self.pub.count(("baseline", m.id), with_base)
            self.add(
                "change",
                u,
                [
                    m.name,
                    m.score_label(score_id),
                    better or "",
                    shown_base,
                    shown_n,
                    protect.Share(shown_n, shown_base),
                    *(
                        protect.Given(shown_n, value, n)
                        for value in (
                            change.mean_baseline,
                            change.mean_exit,
                            change.mean_change,
                            change.ci_low,
                            change.ci_high,
                            change.d_av,
                        )
                    ),
                ],
            )
            keep = ~(np.isnan(base) | np.isnan(post))
            deltas = (post - base)[keep]
            self.thresholds(u, m, score_id, better, deltas)
            self.band_movement(u, m, score_id, base[keep], post[keep])
            if score_id == primary:
                kept = pairs[keep]
                self.dose(
                    u,
                    m,
                    score_id,
                    better,
                    cols.sessions[kept] if cols is not None else np.zeros(0),
                    cols.hours[kept] if cols is not None else np.zeros(0),
                    deltas,
                )

    def paired(self, m, score_id, n: int) -> protect.Cell:
        """People with a pair on a score: in Change, Reliable change, Dose and Outcomes."""
        return self.pub.count(("paired", m.id, score_id), n)

    def _threshold(self, m, score_id) -> tuple[str, float, bool] | None:
        norms = definitions.norms(m, score_id)
        rci = stats.reliable_change_threshold(norms.reliability, norms.norm_sd)
        if rci is not None:
            return "Reliable change (Jacobson-Truax)", rci, False
        if norms.meaningful_change is not None:
            return _MEANINGFUL, norms.meaningful_change, True
        return None

    def thresholds(self, u, m, score_id, better, deltas) -> None:
        norms = definitions.norms(m, score_id)
        methods = []
        rci = stats.reliable_change_threshold(norms.reliability, norms.norm_sd)
        if rci is not None:
            methods.append(("Reliable change (Jacobson-Truax)", rci, False))
        if norms.meaningful_change is not None:
            methods.append(
                ("Meaningful change (published threshold)", norms.meaningful_change, True)
            )
        for method, threshold, inclusive in methods:
            got = stats.classify(deltas, better, threshold, inclusive=inclusive)
            if got is None:
                continue
            counts = [got.improved, got.unchanged, got.deteriorated]
            total = self.paired(m, score_id, got.n)
            shown = self.pub.parts(
                [("change class", m.id, score_id, method, k) for k in range(3)], counts, total
            )
            self.add(
                "reliable",
                u,
                [
                    m.name,
                    m.score_label(score_id),
                    method,
                    threshold,
                    total,
                    *shown,
                    *(protect.Share(v, total) for v in shown),
                ],
            )

    def band_movement(self, u, m, score_id, base, post) -> None:
        high = definitions.norms(m, score_id).high_need
        if not high:
            return
        # each distinct score's band looked up once (scores take few values)
        values = np.unique(np.concatenate([base, post]))
        is_high = np.array(
            [definitions.band_of(m, score_id, float(v)) in high for v in values], dtype=bool
        )
        start = is_high[np.searchsorted(values, base)] if base.size else np.zeros(0, bool)
        end = is_high[np.searchsorted(values, post)] if post.size else np.zeros(0, bool)
        moved = int((start & ~end).sum())
        still = int((start & end).sum())
        total = self.pub.count(("high need", m.id, score_id), moved + still)
        shown = self.pub.parts(
            [("high need", m.id, score_id, k) for k in ("moved", "still")], [moved, still], total
        )
        self.add(
            "bands",
            u,
            [
                m.name,
                m.score_label(score_id),
                " or ".join(f'"{h}"' for h in high),
                total,
                *shown,
                protect.Share(shown[0], total),
            ],
        )

    def dose(self, u, m, score_id, better, sessions, hours, deltas) -> None:
        threshold = self._threshold(m, score_id)
        paired = self.paired(m, score_id, len(deltas))
        for label, bands, value in (
            ("Sessions attended", definitions.SESSION_BANDS, sessions),
            ("Contact hours", definitions.HOUR_BANDS, hours),
        ):
            names = [b for _, b in bands]
            # the last band whose floor the value reaches (the first band below them all)
            groups = np.digitize(np.asarray(value, dtype=float), [f for f, _ in bands[1:]])
            counts = np.bincount(groups, minlength=len(names)).tolist()
            shown = self.pub.parts(
                [("dose", m.id, score_id, label, band) for band in names], counts, paired
            )
            improved: list[protect.Cell] = []
            for j, (band, n, shown_n) in enumerate(zip(names, counts, shown, strict=True)):
                x = deltas[groups == j]
                mean = stats.mean_interval(x)
                share = None
                if threshold is not None and better in ("higher", "lower"):
                    # the share reveals how many improved: a count of its own, adding up to
                    # the improved of the Reliable change table's row for the same threshold
                    got = stats.classify(x, better, threshold[1], inclusive=threshold[2])
                    k = got.improved if n and got is not None else 0
                    improved.append(
                        self.pub.count(("dose improved", m.id, score_id, label, band), k)
                    )
                    share = protect.Share(improved[-1], shown_n)
                self.add(
                    "dose",
                    u,
                    [
                        m.name,
                        m.score_label(score_id),
                        label,
                        band,
                        shown_n,
                        protect.Given(shown_n, mean.mean, n),
                        protect.Given(shown_n, mean.ci_low, n),
                        protect.Given(shown_n, mean.ci_high, n),
                        share,
                    ],
                )
            whole = self.pub.existing(
                ("change class", m.id, score_id, threshold and threshold[0], 0)
            )
            if improved and whole is not None:
                self.pub.relate(whole, improved)
        sign = 1.0 if better != "lower" else -1.0
        corr = stats.rank_correlation(hours, sign * np.asarray(deltas))
        self.add(
            "dose_trend",
            u,
            [
                m.name,
                m.score_label(score_id),
                paired,
                # hidden with the people paired: a correlation and its p-value give away
                # how many people they are over
                protect.Given(paired, corr.rho, corr.n),
                protect.Given(paired, corr.p_value, corr.n),
            ],
        )

    def inequalities(self, u, people: People) -> None:
        """Reach and outcome gaps by group. Each person's flags, group and headline change are
        read once into arrays; counts are ``bincount``s, and a group's changes are picked out
        with a mask, in the people's order (so every sum adds the same numbers in the same
        order as one list per group would)."""
        total = people.n
        att_flag = people.stages["Attended at least once"]
        par_flag = people.stages["Paired"]
        attended_all, paired_all = int(att_flag.sum()), int(par_flag.sum())
        headline = [
            (m, definitions.primary_score(m))
            for m in self.measures
            if (people.pair_rows(m.id) >= 0).any()
        ]
        changes: dict[str, np.ndarray] = {}  # each person's headline change (NaN: none)
        for m, score_id in headline:
            chosen = people.pair_rows(m.id)
            has = chosen >= 0
            cols = people.cohort.pairs[m.id]
            change = np.full(total, np.nan)
            change[has] = cols.score("exit", score_id, chosen[has]) - cols.score(
                "base", score_id, chosen[has]
            )
            changes[m.id] = change
        group_of = dict(codes._ETHNIC_GROUP_OF)
        first = people.first
        stage = {  # the funnel's counts, which each dimension's groups add up to
            name: self.pub.count(("stage", name), n)
            for name, n in (
                ("Referred", total),
                ("Attended at least once", attended_all),
                ("Paired", paired_all),
            )
        }
        for dimension, _column, _key, known in _dimensions():
            values, codes_all = self.dim_codes[dimension]
            member = codes_all[first]
            size = np.bincount(member, minlength=len(values))
            index = {values[k]: int(k) for k in np.flatnonzero(size)}
            groups = index  # the groups people are in, each with its number
            if known is None:
                order = [(g, str(g)) for g in sorted(g for g in groups if g is not None)]
            else:
                known_codes = {c for c, _ in known}
                order = list(known) + [
                    (g, str(g))
                    for g in sorted(str(g) for g in groups if g not in known_codes)
                    if g is not None
                ]
            if None in groups:
                order.append((None, NOT_RECORDED))
            if known is None:  # areas: only those people came from (zeros would be endless)
                order = [(g, label) for g, label in order if g in index]
            att_by = np.bincount(member, weights=att_flag, minlength=len(values))
            par_by = np.bincount(member, weights=par_flag, minlength=len(values))
            slots = [index.get(g) for g, _ in order]
            n = [int(size[k]) if k is not None else 0 for k in slots]
            att = [int(att_by[k]) if k is not None else 0 for k in slots]
            par = [int(par_by[k]) if k is not None else 0 for k in slots]
            parents = None
            if dimension == "Ethnicity":  # categories within the groups published above
                parents = [group_of.get(g, g) if g is not None else None for g, _ in order]

            def protected(counts, whole, column, parents=parents, dimension=dimension, order=order):
                """The groups' counts, adding up to ``whole``; an ethnicity's also to its
                group's count (published in the Ethnic group rows)."""
                shown = self.pub.parts(
                    [("group", dimension, column, g) for g, _ in order], counts, whole
                )
                if parents is not None:
                    children: dict[Any, list[protect.Cell]] = {}
                    for parent, cell in zip(parents, shown, strict=True):
                        children.setdefault(parent, []).append(cell)
                    for parent, cells in children.items():
                        group = self.pub.existing(("group", "Ethnic group", column, parent))
                        if group is not None:
                            self.pub.relate(group, cells)
                return shown

            total_shown = stage["Referred"]
            n_shown = protected(n, total_shown, "n")
            att_shown = protected(att, stage["Attended at least once"], "att")
            par_shown = protected(par, stage["Paired"], "par")
            for j, (_g, label) in enumerate(order):
                a_gap = p_gap = None
                if n[j]:
                    a_gap = rate_gap(att[j], n[j], attended_all, total)
                    p_gap = rate_gap(par[j], n[j], paired_all, total)
                row = [dimension, label, n_shown[j], protect.Share(n_shown[j], total_shown)]
                for shown, gap in ((att_shown, a_gap), (par_shown, p_gap)):
                    visible = protect.Share(shown[j], n_shown[j])
                    row.append(shown[j])
                    row.append(visible)
                    for v in ("gap", "ci_low", "ci_high"):
                        row.append(
                            protect.Beside(visible, getattr(gap, v) if gap is not None else None)
                        )
                self.add("reach_gaps", u, row)
            for m, score_id in headline:
                change = changes[m.id]
                known_change = change == change  # not NaN: paired, with both scores
                empty = np.array([])
                deltas = {
                    g: change[(member == k) & known_change] if k is not None else empty
                    for (g, _), k in zip(order, slots, strict=True)
                }
                counts = [len(deltas[g]) for g, _ in order]
                every = np.concatenate([deltas[g] for g, _ in order] or [np.array([])])
                owner = np.repeat(np.arange(len(order)), counts)
                paired = self.paired(m, score_id, sum(counts))
                shown = protected(counts, paired, ("out", m.id, score_id))
                for j, (g, label) in enumerate(order):
                    gap = mean_gap(deltas[g], every[owner != j]) if counts[j] else None
                    values = [
                        protect.Given(shown[j], getattr(gap, f) if gap else None, counts[j])
                        for f in ("value", "gap", "ci_low", "ci_high")
                    ]
                    self.add(
                        "outcome_gaps",
                        u,
                        [dimension, label, m.name, m.score_label(score_id), shown[j], *values],
                    )


# -- notes and sources --------------------------------------------------------------------------


def notes(threshold: int) -> list[tuple[str, str]]:
    mark = protect.primary_mark(threshold)
    return [
        (
            "Cohort",
            "Everyone whose enrolment was referred in the period (the referral date, or the "
            "start date when no referral date was recorded), followed to the day the pack was "
            "made. A person referred twice, or to two interventions of one unit, counts once "
            "in that unit.",
        ),
        (
            "Units",
            "Each intervention, each intervention type (framework), each provider (partnership "
            "level), and everyone together. A person in two interventions counts in each, and "
            "once in a total.",
        ),
        ("Area", quasi_rule.AREA_NOTE),
        (
            "Attrition stages",
            "Referred; Enrolled (a start date); Attended at least once (present - attended, "
            "late or left early - at a delivered session of the intervention); Baseline and "
            "Exit (a questionnaire at that timepoint); Paired (a baseline and an exit on the "
            "same measure, the exit on or after the baseline).",
        ),
        (
            "Pairs",
            "For each person and measure, the earliest baseline of the enrolment and the "
            "latest exit on or after it. A questionnaire not tied to an enrolment counts for "
            "the person's only enrolment in the cohort (and is left out when there are two).",
        ),
        (
            "Change",
            "Exit minus baseline, in the score's own units. 'Better when' says which way "
            "is an improvement.",
        ),
        (
            "95% CI",
            "The t-based 95% confidence interval of the mean paired change (scipy.stats "
            "ttest_rel). When everyone changed by the same amount the interval is that amount.",
        ),
        (
            "Effect size (d_av)",
            "Mean change divided by the average of the baseline and exit standard deviations "
            "(Lakens 2013). Chosen over d_z (mean change / SD of the changes) because it does not "
            "grow with the correlation between occasions, so it reads on the same scale as the "
            "between-group effect sizes the YEF Toolkit reports. Not shown when neither occasion "
            "varies.",
        ),
        (
            "Share paired",
            "People paired on the score divided by people with a baseline on the measure.",
        ),
        (
            "Reliable change",
            "Jacobson and Truax (1991): a change is reliable when it is larger than "
            "1.96 x sqrt(2) x SD x sqrt(1 - r), with the score's published reliability r and "
            "norm-group SD (see Sources). Shown only for scores with both values held; never "
            "estimated from the data.",
        ),
        (
            "Meaningful change",
            "A change at least as large as the measure's published meaningful-change threshold "
            "(SWEMWBS), in the better direction (improved) or the worse (deteriorated).",
        ),
        (
            "Band movement",
            "People in a high-need band of the score at baseline (e.g. SDQ 'high' or 'very high') "
            "and below it at exit. Bands are the measure's published cut-offs.",
        ),
        (
            "Dose",
            "Sessions attended and contact hours are the person's delivered sessions of the "
            "intervention at which they were present, from the session rosters (absences are "
            "roster lines and count for neither). Improved beyond threshold uses reliable change "
            "where held, otherwise meaningful change.",
        ),
        (
            "Spearman rho",
            "Rank correlation of contact hours with improvement (change signed so that positive "
            "is better); ties get average ranks. A correlation is not an effect of dose.",
        ),
        (
            "Gap to whole",
            "The group's rate or mean minus everyone's in the unit. Its 95% interval is that of "
            "the group against everyone else (Newcombe's hybrid score interval for rates, "
            "Welch's t for means) scaled by the share of people not in the group, which is "
            "exactly the gap's relation to that difference.",
        ),
        (
            "Ethnicity",
            "ONS 2021 Census classification: 5 ethnic groups and 19 categories, and 'Not stated'.",
        ),
        (
            "Small numbers",
            f"Counts of 1 to {threshold - 1} people are shown as {mark}. Where a hidden count "
            f"could be worked out, or narrowed, from the other figures of the pack (a total, "
            f"the same people counted in another table, a unit and the units it is made of), "
            f"other counts are hidden too, shown as {protect.HIDDEN}, so that each {mark} "
            f"could still be any count from 1 to {threshold - 1}. A share is shown only where "
            f"both its counts are. A mean, share, interval or correlation over fewer than "
            f"{threshold} people, or whose count is hidden, is shown as {protect.HIDDEN}. "
            "An empty cell means the statistic cannot be worked out (no published value held, "
            "no direction stated, or no variation).",
        ),
        (
            "Made by",
            f"VRP Desktop {__version__}. Statistics with scipy.stats and numpy.",
        ),
    ]


def sources(measures: Sequence[MeasureDefinition], frameworks: dict) -> list[list[Any]]:
    """One row per published value the pack relies on, with its source."""
    rows: list[list[Any]] = []
    for m in measures:
        for score_id in m.score_ids():
            norms = definitions.norms(m, score_id)
            label = m.score_label(score_id)
            for what, value, source in (
                ("Reliability (r)", norms.reliability, norms.reliability_source),
                ("Norm-group SD", norms.norm_sd, norms.norm_source),
                ("Meaningful change", norms.meaningful_change, norms.meaningful_change_source),
            ):
                if value is not None:
                    rows.append([m.name, label, what, value, source])
            if norms.high_need:
                rows.append(
                    [m.name, label, "High-need bands", ", ".join(norms.high_need), m.source]
                )
    evidence = definitions.evidence()
    for fw_id, framework in sorted(frameworks.items()):
        strand = definitions.strand_of(fw_id)
        rows.append(
            [
                framework.name,
                "",
                "Evidence strand",
                strand.strand or "not held",
                evidence.source,
            ]
        )
    return rows
