"""An attacker who knows the rule, working from the evaluation pack as published.

Written from the tables alone, independently of ``vrp_desktop.disclosure`` and of the keys the
build gives its counts: every hidden count is an integer unknown (``<t`` is 1..t-1, ``[c]`` any
count >= 0), and every relation a reader can see from the layout and the Notes is written down —
exit reasons adding up to the people referred; improved, unchanged and deteriorated adding up to
the people paired; the dose bands and each dimension's groups adding up to their totals; the
ethnicities within their ethnic group; the people paired on a score being one number wherever it
is printed; the share improved in a dose band giving that band's count of improved people, which
add up to the Reliable change table's; and each unit against the units it is made of (the
partnership and its providers, a provider and its interventions). The attacker is *informed*:
a total is taken as the exact sum of its parts, or as lying between the largest part and the
sum, whenever it really does (read from the same pack published with no suppression).
Then the integer program of ``tests.returns.attack`` solves for each hidden count's range.
"""

from __future__ import annotations

from collections import defaultdict

from tests.evaluation.helpers import make_pack
from tests.returns.attack import ETHNIC_GROUP_OF, Attack
from vrp_desktop.evaluation import protect
from vrp_desktop.evaluation.build import _units
from vrp_desktop.evaluation.cohort import Cohort
from vrp_desktop.evaluation.tables import COUNT, Pack

NOT_RECORDED = "Not recorded"
#: the columns naming a row within its unit, by table
_ROW = {
    "funnel": (),
    "exits": ("Exit reason",),
    "change": ("Measure", "Score"),
    "reliable": ("Measure", "Score", "Method"),
    "bands": ("Measure", "Score"),
    "dose": ("Measure", "Score", "Dose by", "Band"),
    "dose_trend": ("Measure", "Score"),
    "reach_gaps": ("Dimension", "Group"),
    "outcome_gaps": ("Dimension", "Group", "Measure", "Score"),
}


class PackAttack:
    def __init__(self, pack: Pack, truth: Pack, made_of: dict[tuple, list[tuple]]) -> None:
        self.atk = Attack(pack.threshold)
        self.shown: dict[tuple, object] = {}
        self.true: dict[tuple, float] = {}
        self.rows: dict[str, list[tuple[tuple, tuple]]] = defaultdict(list)
        for key, table in pack.tables.items():
            if key not in _ROW:
                continue
            true_rows = truth.tables[key].rows
            assert len(table.rows) == len(true_rows), "the two packs must have the same layout"
            names = [table.column(c) for c in _ROW[key]]
            counts = [j for j, f in enumerate(table.formats) if f == COUNT]
            for row, true_row in zip(table.rows, true_rows, strict=True):
                unit, ident = (row[0], row[1]), tuple(row[j] for j in names)
                self.rows[key].append((unit, ident))
                for j in counts:
                    cell = (key, unit, ident, table.header[j])
                    self.shown[cell], self.true[cell] = row[j], true_row[j]
                if key == "dose":  # the share improved gives the band's improved people
                    self._improved(table, row, true_row, unit, ident)
        self.made_of = made_of

    def _improved(self, table, row, true_row, unit, ident) -> None:
        j, n = table.column("Improved beyond threshold %"), table.column("People paired")
        if true_row[j] is None:
            return
        cell = ("dose", unit, ident, "Improved")
        self.true[cell] = round(true_row[j] * true_row[n])
        if protect.is_hidden(row[j]):
            self.shown[cell] = protect.HIDDEN
        else:
            self.shown[cell] = round(row[j] * row[n])

    def term(self, cell):
        return self.atk.term(cell, self.shown[cell], self.true[cell])

    def relate(self, total, parts) -> None:
        parts = [p for p in parts if p in self.true]
        if total not in self.true or not parts:
            return
        t, got = self.true[total], [self.true[p] for p in parts]
        if t == sum(got):
            self.atk.relate(self.term(total), [self.term(p) for p in parts], True)
        elif max(got) <= t <= sum(got):
            self.atk.relate(self.term(total), [self.term(p) for p in parts], False)

    def build(self) -> Attack:
        for unit, _ in self.rows["funnel"]:
            referred = ("funnel", unit, (), "Referred")
            self.relate(
                referred, [("exits", unit, i, "People") for _u, i in self._of("exits", unit)]
            )
            for key, ident in self._of_all(unit):
                self._within(key, unit, ident)
        self._dimensions()
        for cell in list(self.true):  # each unit against the units it is made of
            key, unit, ident, column = cell
            for child_units in self.made_of.get(unit, ()):
                self.relate(cell, [(key, c, ident, column) for c in child_units])
        return self.atk

    def failures(self) -> list:
        """The attack's failures, but for a dose band's improved people behind a share hidden
        only because the band's count is: the rule protects a count of 1 to t-1 there (the
        reader sees only the share's mark, so it is held to that mark's promise, a range at
        least t-2 wide), not a zero or a larger count, which it would show anywhere else."""
        t = self.atk.t
        return [
            f
            for f in self.atk.failures()
            if not (f[0][0] == "dose" and f[0][3] == "Improved" and not 0 < f[3] < t)
        ]

    def _of(self, key, unit):
        return [(u, i) for u, i in self.rows[key] if u == unit]

    def _of_all(self, unit):
        for key in ("change", "reliable", "bands", "dose_trend"):
            for u, ident in self.rows[key]:
                if u == unit:
                    yield key, ident

    def _within(self, key, unit, ident) -> None:
        paired = ("change", unit, ident[:2], "People paired")
        if key == "reliable":
            total = (key, unit, ident, "People paired")
            self.relate(
                total,
                [(key, unit, ident, c) for c in ("Improved", "No reliable change", "Deteriorated")],
            )
            if paired in self.true:
                self.atk.same(self.term(total), self.term(paired))
        elif key == "bands":
            self.relate(
                (key, unit, ident, "High need at baseline"),
                [(key, unit, ident, c) for c in ("Below at exit", "Still high need")],
            )
        elif key == "dose_trend":
            total = (key, unit, ident, "People paired")
            if paired in self.true:
                self.atk.same(self.term(total), self.term(paired))
            for by in ("Sessions attended", "Contact hours"):
                bands = [i for u, i in self.rows["dose"] if u == unit and i[:3] == (*ident, by)]
                self.relate(total, [("dose", unit, i, "People paired") for i in bands])
                # the bands' improved add up to the first reliable-change row of the score
                first = next(
                    (i for u, i in self.rows["reliable"] if u == unit and i[:2] == ident), None
                )
                if first is not None:
                    self.relate(
                        ("reliable", unit, first, "Improved"),
                        [("dose", unit, i, "Improved") for i in bands],
                    )

    def _dimensions(self) -> None:
        groups: dict[tuple, list[tuple]] = defaultdict(list)
        for unit, ident in self.rows["reach_gaps"]:
            groups[(unit, ident[0])].append(ident)
        for (unit, dimension), idents in groups.items():
            for column, stage in (
                ("Referred", "Referred"),
                ("Attended at least once", "Attended at least once"),
                ("Paired", "Paired"),
            ):
                cells = [("reach_gaps", unit, i, column) for i in idents]
                self.relate(("funnel", unit, (), stage), cells)
                if dimension == "Ethnicity":
                    self._nested(
                        "reach_gaps", unit, idents, column, lambda i, g: ("Ethnic group", g)
                    )
        out: dict[tuple, list[tuple]] = defaultdict(list)
        for unit, ident in self.rows["outcome_gaps"]:
            out[(unit, ident[0], ident[2], ident[3])].append(ident)
        for (unit, dimension, measure, score), idents in out.items():
            cells = [("outcome_gaps", unit, i, "People paired") for i in idents]
            self.relate(("change", unit, (measure, score), "People paired"), cells)
            if dimension == "Ethnicity":
                self._nested(
                    "outcome_gaps",
                    unit,
                    idents,
                    "People paired",
                    lambda i, g: ("Ethnic group", g, i[2], i[3]),
                )

    def _nested(self, key, unit, idents, column, parent_of) -> None:
        kids: dict[tuple, list[tuple]] = defaultdict(list)
        for ident in idents:
            label = ident[1]
            group = NOT_RECORDED if label == NOT_RECORDED else ETHNIC_GROUP_OF.get(label, label)
            kids[parent_of(ident, group)].append((key, unit, ident, column))
        for parent, cells in kids.items():
            self.relate((key, unit, parent, column), cells)


def attack_pack(records, prov, interventions, *, kind: str, threshold: int = 5):
    """The protected pack, and the hidden counts the attacker narrows below the rule."""
    from tests.evaluation.helpers import catalog

    pack = make_pack(records, prov, interventions, kind=kind, threshold=threshold)
    truth = make_pack(records, prov, interventions, kind=kind, threshold=1)
    _measures, frameworks = catalog()
    _list, made_of = _units(Cohort.from_records(records), kind, prov, interventions, frameworks)
    # which units make up which is public (a provider's interventions are named in the pack);
    # the partnership is made of its providers, of its intervention types and of its
    # interventions: three ways of adding up, each a relation of its own
    ways: dict[tuple, list[list[tuple]]] = defaultdict(list)
    for (unit, _way), children in made_of.items():
        ways[unit].append(children)
    attack = PackAttack(pack, truth, ways)
    attack.build()
    return pack, attack
