"""From the cohort to the published tables: per unit (each intervention, each provider, each
intervention type, and everyone), the funnel, change, reliable and meaningful change, band
movement, dose and inequalities, every number passed through ``protect`` on the way out.

Only the protected tables leave this module (the page, the workbook and the PDF all read
them), so nothing downstream can show a small number by mistake.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from sqlalchemy import select

from vrp_desktop import __version__, codes
from vrp_desktop.evaluation import data, definitions, protect, stats
from vrp_desktop.evaluation.inequality import mean_gap, rate_gap
from vrp_desktop.evaluation.period import Period
from vrp_desktop.evaluation.tables import COUNT, DAYS, MEAN, RHO, SHARE, STAGES, Pack, Table
from vrp_desktop.frameworks import quasi_rule
from vrp_desktop.frameworks.models import MeasureDefinition
from vrp_desktop.returns.aggregate import NOT_RECORDED
from vrp_desktop.returns.partnership import partnership_source
from vrp_desktop.returns.source import Source, provider_source

Progress = Callable[[str, int, int], None]
STILL_ENROLLED = "Still enrolled"
_MEANINGFUL = "Meaningful change (published threshold)"


@dataclasses.dataclass
class Person:
    """A person within a unit: their enrolments in it merged (someone referred twice, or to two
    of a provider's interventions, counts once)."""

    key: str
    records: list[data.Record]
    pairs: dict[str, data.Pair]
    stages: dict[str, bool] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        rs = self.records
        if len(rs) == 1:  # most people: the same stages without the generators
            r = rs[0]
            self.stages = {
                "Referred": True,
                "Enrolled": r.start_date is not None,
                "Attended at least once": r.sessions_attended > 0,
                "Baseline": bool(r.baselines),
                "Exit": bool(r.exits),
                "Paired": bool(self.pairs),
            }
            return
        self.stages = {
            "Referred": True,
            "Enrolled": any(r.start_date is not None for r in rs),
            "Attended at least once": any(r.sessions_attended > 0 for r in rs),
            "Baseline": any(r.baselines for r in rs),
            "Exit": any(r.exits for r in rs),
            "Paired": bool(self.pairs),
        }

    @property
    def first(self) -> data.Record:
        return self.records[0]

    def reached(self, stage: str) -> bool:
        return self.stages[stage]

    def exit_reason(self, labels: dict[str, str]) -> str:
        ended = [r for r in self.records if r.end_date is not None]
        if not ended:
            return STILL_ENROLLED
        code = max(ended, key=lambda r: r.end_date).exit_reason
        return labels.get(code, code) if code else NOT_RECORDED


def people_of(records: Iterable[data.Record]) -> list[Person]:
    grouped: dict[str, list[data.Record]] = defaultdict(list)
    for record in records:
        grouped[record.person_key].append(record)
    people = []
    for key, recs in grouped.items():
        if len(recs) == 1:
            people.append(Person(key, recs, dict(recs[0].pairs)))
            continue
        pairs: dict[str, data.Pair] = {}
        for rec in recs:
            for measure_id, pair in rec.pairs.items():
                if measure_id not in pairs or pair.exit_on > pairs[measure_id].exit_on:
                    pairs[measure_id] = pair
        people.append(Person(key, recs, pairs))
    return people


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
        records = data.read(conn, src, period, progress)
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
    report("Evaluation ready", 4, 4)
    return pack


def _workspace_name(ws, providers) -> str:
    from vrp_desktop.store.models import Provider

    with ws.read() as s:
        own = s.execute(select(Provider.name).where(Provider.is_self.is_(True))).scalar()
    return own or ""


def _units(records, kind, providers, interventions, frameworks):
    """(level, name, framework id or None, records), the whole first."""
    whole = "Partnership" if kind == "partnership" else "All interventions"
    out = [("All", whole, None, list(records))]
    by_type: dict[str, list] = defaultdict(list)
    by_provider: dict[str, list] = defaultdict(list)
    by_intervention: dict[str, list] = defaultdict(list)
    for r in records:
        fw_id = interventions.get(r.intervention_id, ("", "", ""))[2]
        by_type[fw_id].append(r)
        by_provider[r.provider_id].append(r)
        by_intervention[r.intervention_id].append(r)
    for fw_id in sorted(by_type, key=lambda f: frameworks[f].name if f in frameworks else f):
        name = frameworks[fw_id].name if fw_id in frameworks else fw_id
        out.append(("Intervention type", name, fw_id, by_type[fw_id]))
    if kind == "partnership":
        for pid in sorted(by_provider, key=lambda p: providers.get(p, (p, p))[0]):
            code, name = providers.get(pid, (pid, pid))
            out.append(("Provider", f"{name} [{code}]", None, by_provider[pid]))
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
    return out


def publish(
    records: Sequence[data.Record],
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
    """The protected tables for every unit. Pure: records in, tables out (tests call it)."""
    exit_labels: dict[str, str] = {}
    for framework in frameworks.values():
        for entry in framework.exit_reasons:
            exit_labels.setdefault(entry.code, entry.label)
    t = _Tables(threshold, measures, exit_labels)
    units = _units(records, kind, providers, interventions, frameworks)
    t.code_groups(records)
    for level, name, fw_id, recs in units:
        people = people_of(recs)
        t.unit(level, name, fw_id, people)
    level_word = "partnership" if kind == "partnership" else "provider"
    return Pack(
        title="Impact and evaluation",
        subtitle=(f"{workspace_name}: " if workspace_name else "")
        + f"{period.label} ({period.months}), {level_word} level",
        period=period,
        kind=kind,
        threshold=threshold,
        created=created or dt.datetime.now().replace(microsecond=0),
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


def _dimensions() -> list[tuple[str, Callable[[data.Record], Any], list[tuple[Any, str]] | None]]:
    group_of = dict(codes._ETHNIC_GROUP_OF)
    return [
        (
            "Ethnic group",
            lambda r: group_of.get(r.ethnicity, r.ethnicity) if r.ethnicity else None,
            list(codes.ETHNIC_GROUPS.items()),
        ),
        ("Ethnicity", lambda r: r.ethnicity, list(codes.ETHNICITIES.items())),
        ("Gender", lambda r: r.gender, list(codes.GENDERS.items())),
        ("Age band", lambda r: r.age_band, [(b, b) for b in codes.AGE_BANDS]),
        ("Area (postcode district)", lambda r: r.area, None),
    ]


def _score(pair: data.Pair, side: str, score_id: str) -> float:
    value = (pair.base if side == "base" else pair.exit).get(score_id)
    return float(value) if isinstance(value, (int, float)) else float("nan")


class _Tables:
    def __init__(self, threshold: int, measures: Sequence[MeasureDefinition], exit_labels):
        self.t = threshold
        self.measures = list(measures)
        self.exit_labels = exit_labels
        #: each record's group on each dimension, worked out once for all the units it is in
        #: (set by ``code_groups``): the groups met, and each record's number among them
        self.position: dict[str, int] = {}
        self.dim_codes: dict[str, tuple[list[Any], np.ndarray]] = {}

    def code_groups(self, records: Sequence[data.Record]) -> None:
        self.position = {r.enrolment_id: j for j, r in enumerate(records)}
        for dimension, key, _known in _dimensions():
            found: dict[Any, int] = {}
            number = np.fromiter(
                (found.setdefault(key(r), len(found)) for r in records),
                dtype=np.intp,
                count=len(records),
            )
            self.dim_codes[dimension] = (list(found), number)
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

    # small helpers: a count standing alone, a statistic over n people
    def c(self, n: int):
        return protect.count(n, self.t)

    def s(self, value, n: int):
        return protect.statistic(value, n, self.t)

    def add(self, key: str, unit: list, values: list) -> None:
        self.tables[key].rows.append([*unit, *values])

    def unit(self, level: str, name: str, fw_id: str | None, people: list[Person]) -> None:
        u = [level, name]
        self.funnel(u, fw_id, people)
        self.exits(u, people)
        used = {m for p in people for r in p.records for m in r.baselines | r.exits}
        for measure in self.measures:
            if measure.id in used:
                self.measure(u, measure, people)
        self.inequalities(u, people)

    def funnel(self, u, fw_id, people: list[Person]) -> None:
        counts = [sum(p.stages[stage] for p in people) for stage in STAGES]
        shown = [self.c(n) for n in counts]
        waits = [
            (r.start_date - r.referral_date).days
            for p in people
            for r in p.records[:1]
            if r.start_date and r.referral_date
        ]
        spans = [
            (latest.exit_on - latest.base_on).days
            for latest in (
                max(p.pairs.values(), key=lambda x: x.exit_on) for p in people if p.pairs
            )
        ]
        strand = definitions.strand_of(fw_id).strand if fw_id else None
        self.add(
            "funnel",
            u,
            [
                strand,
                *shown,
                protect.share(shown[-1], shown[0], counts[-1], counts[0]),
                self.s(stats.median(waits), len(waits)),
                self.s(stats.median(spans), len(spans)),
            ],
        )

    def exits(self, u, people: list[Person]) -> None:
        tally: dict[str, int] = defaultdict(int)
        for p in people:
            tally[p.exit_reason(self.exit_labels)] += 1
        reasons = sorted(tally, key=lambda r: (r in (STILL_ENROLLED, NOT_RECORDED), r))
        shown, total = protect.one_way([tally[r] for r in reasons], len(people), self.t)
        for reason, value in zip(reasons, shown, strict=True):
            self.add(
                "exits",
                u,
                [reason, value, protect.share(value, total, tally[reason], len(people))],
            )

    def measure(self, u, m: MeasureDefinition, people: list[Person]) -> None:
        with_base = sum(any(m.id in r.baselines for r in p.records) for p in people)
        pairs = [p.pairs[m.id] for p in people if m.id in p.pairs]
        primary = definitions.primary_score(m)
        for score_id in m.score_ids():
            base = np.array([_score(x, "base", score_id) for x in pairs])
            post = np.array([_score(x, "exit", score_id) for x in pairs])
            change = stats.paired_change(base, post)
            n = change.n
            better = m.score_better(score_id)
            shown_n, shown_base = self.c(n), self.c(with_base)
            self.add(
                "change",
                u,
                [
                    m.name,
                    m.score_label(score_id),
                    better or "",
                    shown_base,
                    shown_n,
                    protect.share(shown_n, shown_base, n, with_base),
                    self.s(change.mean_baseline, n),
                    self.s(change.mean_exit, n),
                    self.s(change.mean_change, n),
                    self.s(change.ci_low, n),
                    self.s(change.ci_high, n),
                    self.s(change.d_av, n),
                ],
            )
            keep = ~(np.isnan(base) | np.isnan(post))
            deltas = (post - base)[keep]
            self.thresholds(u, m, score_id, better, deltas)
            self.band_movement(u, m, score_id, base[keep], post[keep])
            if score_id == primary:
                self.dose(
                    u,
                    m,
                    score_id,
                    better,
                    [x for x, k in zip(pairs, keep, strict=True) if k],
                    deltas,
                )

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
            shown, total = protect.one_way(counts, got.n, self.t)
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
                    *(
                        protect.share(v, total, k, got.n)
                        for v, k in zip(shown, counts, strict=True)
                    ),
                ],
            )

    def band_movement(self, u, m, score_id, base, post) -> None:
        high = definitions.norms(m, score_id).high_need
        if not high:
            return
        start = [definitions.band_of(m, score_id, v) in high for v in base]
        end = [definitions.band_of(m, score_id, v) in high for v in post]
        moved = sum(1 for a, b in zip(start, end, strict=True) if a and not b)
        still = sum(1 for a, b in zip(start, end, strict=True) if a and b)
        shown, total = protect.one_way([moved, still], moved + still, self.t)
        self.add(
            "bands",
            u,
            [
                m.name,
                m.score_label(score_id),
                " or ".join(f'"{h}"' for h in high),
                total,
                *shown,
                protect.share(shown[0], total, moved, moved + still),
            ],
        )

    def dose(self, u, m, score_id, better, pairs: list[data.Pair], deltas) -> None:
        threshold = self._threshold(m, score_id)
        for label, bands, value in (
            ("Sessions attended", definitions.SESSION_BANDS, lambda x: x.sessions),
            ("Contact hours", definitions.HOUR_BANDS, lambda x: x.hours),
        ):
            names = [b for _, b in bands]
            groups = [definitions.band_label(bands, value(x)) for x in pairs]
            counts = [sum(g == b for g in groups) for b in names]
            shown, _total = protect.one_way(counts, len(pairs), self.t)
            for band, n, shown_n in zip(names, counts, shown, strict=True):
                x = np.array([d for d, g in zip(deltas, groups, strict=True) if g == band])
                mean = stats.mean_interval(x)
                share = None
                if threshold is not None and better in ("higher", "lower") and n:
                    got = stats.classify(x, better, threshold[1], inclusive=threshold[2])
                    share = protect.share(self.c(got.improved), shown_n, got.improved, n)
                if protect.is_hidden(shown_n):
                    share = protect.HIDDEN if n else None
                self.add(
                    "dose",
                    u,
                    [
                        m.name,
                        m.score_label(score_id),
                        label,
                        band,
                        shown_n,
                        self._hidden_if(shown_n, mean.mean, n),
                        self._hidden_if(shown_n, mean.ci_low, n),
                        self._hidden_if(shown_n, mean.ci_high, n),
                        share,
                    ],
                )
        sign = 1.0 if better != "lower" else -1.0
        corr = stats.rank_correlation([x.hours for x in pairs], sign * np.asarray(deltas))
        self.add(
            "dose_trend",
            u,
            [
                m.name,
                m.score_label(score_id),
                self.c(len(pairs)),
                self.s(corr.rho, corr.n),
                self.s(corr.p_value, corr.n),
            ],
        )

    def _hidden_if(self, shown_count, value, n):
        """A statistic for a group whose count is hidden is hidden too."""
        if n == 0:
            return None
        if protect.is_hidden(shown_count):
            return protect.HIDDEN
        return self.s(value, n)

    def inequalities(self, u, people: list[Person]) -> None:
        """Reach and outcome gaps by group. Each person's flags, group and headline change are
        read once into arrays; counts are ``bincount``s, and a group's changes are picked out
        with a mask, in the people's order (so every sum adds the same numbers in the same
        order as one list per group would)."""
        total = len(people)
        att_flag = np.fromiter(
            (p.stages["Attended at least once"] for p in people), dtype=bool, count=total
        )
        par_flag = np.fromiter((bool(p.pairs) for p in people), dtype=bool, count=total)
        attended_all, paired_all = int(att_flag.sum()), int(par_flag.sum())
        headline = [
            (m, definitions.primary_score(m))
            for m in self.measures
            if any(m.id in p.pairs for p in people)
        ]
        nan = float("nan")
        changes: dict[str, np.ndarray] = {}  # each person's headline change (NaN: none)
        for m, score_id in headline:
            changes[m.id] = np.fromiter(
                (
                    _score(p.pairs[m.id], "exit", score_id)
                    - _score(p.pairs[m.id], "base", score_id)
                    if m.id in p.pairs
                    else nan
                    for p in people
                ),
                dtype=float,
                count=total,
            )
        group_of = dict(codes._ETHNIC_GROUP_OF)
        saved: dict[Any, dict[Any, Any]] = {}  # the ethnic groups' shown counts, by column
        first = np.fromiter(
            (self.position[p.records[0].enrolment_id] for p in people), dtype=np.intp, count=total
        )
        for dimension, _key, known in _dimensions():
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
                if parents is None:
                    shown = protect.one_way(counts, whole, self.t)[0]
                else:
                    shown = protect.nested(counts, parents, saved.get(column, {}), self.t)
                if dimension == "Ethnic group":
                    saved[column] = {g: v for (g, _), v in zip(order, shown, strict=True)}
                return shown

            total_shown = protect.count(total, self.t)
            n_shown = protected(n, total, "n")
            att_shown = protected(att, attended_all, "att")
            par_shown = protected(par, paired_all, "par")
            for j, (_g, label) in enumerate(order):
                a_gap = p_gap = None
                if not protect.is_hidden(n_shown[j]) and n[j]:  # worked out only when shown
                    if not protect.is_hidden(att_shown[j]):
                        a_gap = rate_gap(att[j], n[j], attended_all, total)
                    if not protect.is_hidden(par_shown[j]):
                        p_gap = rate_gap(par[j], n[j], paired_all, total)
                row = [
                    dimension,
                    label,
                    n_shown[j],
                    protect.share(n_shown[j], total_shown, n[j], total),
                ]
                for shown, k, gap in ((att_shown, att, a_gap), (par_shown, par, p_gap)):
                    visible = protect.share(shown[j], n_shown[j], k[j], n[j])
                    row.append(shown[j])
                    row.append(visible)
                    for v in ("gap", "ci_low", "ci_high"):
                        if visible is None:
                            row.append(None)
                        elif protect.is_hidden(visible):
                            row.append(protect.HIDDEN)
                        else:
                            row.append(getattr(gap, v) if gap is not None else None)
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
                shown = protected(counts, sum(counts), ("out", m.id, score_id))
                for j, (g, label) in enumerate(order):
                    rest = every[owner != j]
                    gap = None
                    if counts[j] and not protect.is_hidden(shown[j]):
                        gap = mean_gap(deltas[g], rest)
                    values = [
                        self._hidden_if(shown[j], getattr(gap, f) if gap else None, counts[j])
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
            f"could be worked out from a total, another count is hidden too, shown as "
            f"{protect.HIDDEN}. A mean, share, interval or correlation over fewer than "
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
