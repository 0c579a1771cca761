"""Evaluation definitions held as data: each measure's norms (``evaluation`` in
``resources/measures/*.json``) and each intervention type's evidence strand
(``resources/evaluation/evidence.json``).

The evidence strands live beside the frameworks rather than inside them: a published framework
version is stored with a hash of its content and can never change, while the Youth Endowment
Fund re-rates its strands as evidence grows. Keyed by framework id, they move on their own.
"""

from __future__ import annotations

import functools
import json

from pydantic import BaseModel, ConfigDict, ValidationError

from vrp_desktop.errors import FrameworkError
from vrp_desktop.frameworks.models import MeasureDefinition, ScoreNorms
from vrp_desktop.paths import resource_path

#: the contact-hour and session bands dose is reported in (lower bound, label)
HOUR_BANDS: tuple[tuple[float, str], ...] = (
    (0, "Under 5 hours"),
    (5, "5 to 10 hours"),
    (10, "10 to 20 hours"),
    (20, "20 hours or more"),
)
SESSION_BANDS: tuple[tuple[float, str], ...] = (
    (0, "None attended"),
    (1, "1 to 4 sessions"),
    (5, "5 to 9 sessions"),
    (10, "10 to 19 sessions"),
    (20, "20 sessions or more"),
)


class Strand(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    strand: str | None = None
    impact: str | None = None
    evidence_quality: str | None = None
    read_on: str | None = None


class EvidenceFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    frameworks: dict[str, Strand]


@functools.cache
def evidence() -> EvidenceFile:
    path = resource_path("evaluation", "evidence.json")
    try:
        return EvidenceFile.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        raise FrameworkError(
            f"{path.name} cannot be read ({type(exc).__name__}): reinstall the app or fix the "
            "file's evidence strands."
        ) from None


def strand_of(framework_id: str) -> Strand:
    return evidence().frameworks.get(framework_id, Strand())


def norms(measure: MeasureDefinition, score_id: str) -> ScoreNorms:
    """The published values held for a score (all empty when none are held)."""
    if measure.evaluation is None:
        return ScoreNorms()
    return measure.evaluation.scores.get(score_id, ScoreNorms())


def primary_score(measure: MeasureDefinition) -> str:
    """The headline score: the measure's stated one, or its first score."""
    if measure.evaluation is not None:
        return measure.evaluation.primary_score
    return measure.score_ids()[0]


def band_of(measure: MeasureDefinition, score_id: str, value: float | None) -> str | None:
    """The label of the band ``value`` falls in (a value between two bands, from prorating,
    is rounded to the nearest whole score first); None without bands or a value."""
    if value is None:
        return None
    for band_set in measure.bands:
        if band_set.score != score_id:
            continue
        for candidate in (value, float(round(value))):
            for band in band_set.bands:
                if band.min <= candidate <= band.max:
                    return band.label
    return None


def band_label(bands: tuple[tuple[float, str], ...], value: float) -> str:
    label = bands[0][1]
    for floor, name in bands:
        if value >= floor:
            label = name
    return label
