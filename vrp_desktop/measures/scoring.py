"""Score a questionnaire from its definition: reverse items, subscales, prorating, bands.

The rules are data (``resources/measures/*.json``); this module only interprets them, so a
measure's scoring is checked once here and reused by every form, import and return.

Sources used for the shipped definitions (the data files carry the numbers):

- SDQ scoring and prorating: youthinmind, "Scoring the SDQ" (sdqinfo.org): each subscale is
  scored when at least 3 of its 5 items are answered, as ``round(mean of answered items * 5)``,
  rounding halves upwards as SPSS ``RND`` in the published syntax does.
- SDQ self-report four-band cut-offs (close to average / slightly raised / high / very high;
  prosocial: close to average / slightly lowered / low / very low): youthinmind's four-band
  categorisation for the self-report SDQ (sdqinfo.org, "Scoring the SDQ"): total 0-14/15-17/18-19/
  20-40, emotional 0-4/5/6/7-10, conduct 0-2/3/4/5-10, hyperactivity 0-5/6/7/8-10, peer 0-2/3/4/
  5-10, prosocial 7-10/6/5/0-4. The teacher version of the same table is reproduced in
  PMC4830858 (Table 1, from sdqinfo.org/py/sdqinfo/b3.py); the self-report figures could not be
  re-checked against a primary copy while writing this, so they are kept as data a VRP can
  correct without a code change.
- SWEMWBS raw-to-metric table: Warwick Medical School scoring guidance (warwick.ac.uk/.../wemwbs);
  the 29 values match an independent published implementation of the same table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from vrp_desktop.frameworks.models import MeasureDefinition, Subscale


@dataclass(frozen=True)
class ScoreResult:
    """Scores by id (None when too few items were answered) with their bands and notes."""

    scores: dict[str, float | None]
    bands: dict[str, str]
    scoring_version: str
    missing_items: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def round_half_up(value: float, decimals: int = 0) -> float:
    """Round as published scoring syntax does (2.5 -> 3), not Python's banker's rounding."""
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def check_answers(measure: MeasureDefinition, answers: Sequence[int | None]) -> None:
    """Raise ValueError, in words a youth worker understands, for answers that cannot be scored."""
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise ValueError(f"{measure.name} answers should be a list, one per question.")
    expected = len(measure.items)
    if len(answers) != expected:
        raise ValueError(
            f"{measure.name} has {expected} questions but {len(answers)} answers were given."
        )
    allowed = measure.allowed_values
    for item, answer in zip(measure.items, answers, strict=True):
        if answer is None:
            continue
        if isinstance(answer, bool) or not isinstance(answer, int) or answer not in allowed:
            raise ValueError(
                f"The answer to question {item.number} ({item.code}) is {answer!r}; "
                f"allowed answers are {', '.join(str(v) for v in allowed)}."
            )


def _scored_values(measure: MeasureDefinition, answers: Sequence[int | None]) -> list[int | None]:
    low, high = min(measure.allowed_values), max(measure.allowed_values)
    return [
        None if answer is None else (low + high - answer if item.reverse else answer)
        for item, answer in zip(measure.items, answers, strict=True)
    ]


def _subscale(subscale: Subscale, values: list[int | None], notes: list[str]) -> float | None:
    answered = [values[n - 1] for n in subscale.items if values[n - 1] is not None]
    count, total = len(answered), len(subscale.items)
    if count < subscale.min_answered:
        notes.append(
            f"{subscale.label} could not be scored: {count} of {total} questions answered "
            f"(at least {subscale.min_answered} needed)."
        )
        return None
    points = sum(answered)  # type: ignore[arg-type]
    raw = points * total / count if subscale.method == "sum" else points / count
    if count < total:
        notes.append(f"{subscale.label} prorated from {count} of {total} items.")
    return round_half_up(raw, subscale.decimals)


def _band(measure: MeasureDefinition, score_id: str, value: float) -> str | None:
    for band_set in measure.bands:
        if band_set.score == score_id:
            for band in band_set.bands:
                if band.min <= value <= band.max:
                    return band.label
    return None


def score(measure: MeasureDefinition, answers: Sequence[int | None]) -> ScoreResult:
    """Score one completed questionnaire; ``answers[i]`` answers item ``i + 1`` (None = blank)."""
    check_answers(measure, answers)
    values = _scored_values(measure, answers)
    notes: list[str] = []
    scores: dict[str, float | None] = {
        subscale.id: _subscale(subscale, values, notes) for subscale in measure.subscales
    }
    for composite in measure.composites:
        parts = [scores[part] for part in composite.of]
        scores[composite.id] = None if None in parts else float(sum(parts))  # type: ignore[arg-type]
    for conversion in measure.conversions:
        source = scores.get(conversion.source)
        scores[conversion.id] = None if source is None else conversion.table.get(int(source))
    bands = {
        score_id: label
        for score_id, value in scores.items()
        if value is not None and (label := _band(measure, score_id, value)) is not None
    }
    missing = [
        item.number for item, answer in zip(measure.items, answers, strict=True) if answer is None
    ]
    return ScoreResult(
        scores=scores,
        bands=bands,
        scoring_version=measure.scoring_version,
        missing_items=missing,
        notes=notes,
    )


def unscored(measure: MeasureDefinition, result: ScoreResult) -> list[str]:
    """Labels of the scores that could not be worked out, for a "too many blanks" warning."""
    return [measure.score_label(sid) for sid, value in result.scores.items() if value is None]
