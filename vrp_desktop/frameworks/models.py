"""Typed shapes of framework and measure definitions.

Definitions are data a VRP publishes; these models reject anything unexpected (``extra="forbid"``)
so a typo in a pack is caught when it is loaded, not when a youth worker hits it in a form.
Checks that need the whole catalog (unknown measure ids, rule fields) live in ``loader``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Tier = Literal["universal", "targeted", "specialist"]
RecordKind = Literal["participant", "enrolment", "session", "attendance", "response"]
Timepoint = Literal["baseline", "review", "exit"]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
#: which way a score improves; returns use it to count "improved" (None: no direction)
Better = Literal["higher", "lower"] | None

#: the keys each kind of record has; rules and required lists may only name these
RECORD_FIELDS: dict[str, frozenset[str]] = {
    "participant": frozenset(
        {
            "id",
            "reference",
            "first_name",
            "last_name",
            "preferred_name",
            "date_of_birth",
            "gender",
            "ethnicity",
            "postcode_district",
            "consent_status",
            "consent_date",
            "address",
            "phone",
            "email",
        }
    ),
    "enrolment": frozenset(
        {
            "id",
            "participant_id",
            "intervention_id",
            "referral_source",
            "referral_date",
            "start_date",
            "end_date",
            "exit_reason",
            "exit_detail",
        }
    ),
    "session": frozenset(
        {
            "id",
            "intervention_id",
            "starts_at",
            "duration_minutes",
            "session_type",
            "mode",
            "location_type",
            "staff",
            "activities",
            "notes",
            "status",
        }
    ),
    "attendance": frozenset({"id", "session_id", "participant_id", "status"}),
    "response": frozenset(
        {
            "id",
            "participant_id",
            "enrolment_id",
            "measure_id",
            "timepoint",
            "completed_on",
            "answers",
        }
    ),
}


class Model(BaseModel):
    """Base for definition models: unknown keys are an error and loaded values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _duplicates(values: Iterable[Any]) -> list[Any]:
    return [value for value, count in Counter(values).items() if count > 1]


class IntRange(Model):
    """An inclusive range; ``min`` may be negative for windows before an anchor date."""

    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self) -> IntRange:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and self.min <= value <= self.max


class CodeEntry(Model):
    code: Identifier
    label: str = Field(min_length=1)


def _unique_codes(entries: list[CodeEntry]) -> list[CodeEntry]:
    repeated = _duplicates(entry.code for entry in entries)
    if repeated:
        raise ValueError(f"the code '{repeated[0]}' appears more than once")
    return entries


class RequiredFields(Model):
    """Fields a record of each kind must have, on top of what the engine always needs."""

    participant: list[str] = []
    enrolment: list[str] = []
    session: list[str] = []
    attendance: list[str] = []
    response: list[str] = []


class Condition(Model):
    """When a conditional rule applies: a field is present, equals a value, or is one of some."""

    field: str
    present: bool | None = None
    equals: str | int | None = None
    one_of: list[str | int] | None = None

    @model_validator(mode="after")
    def _exactly_one_test(self) -> Condition:
        given = [
            name for name in ("present", "equals", "one_of") if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError("give exactly one of 'present', 'equals' or 'one_of'")
        return self


class RequiredIfRule(Model):
    kind: Literal["required_if"]
    record: RecordKind
    field: str
    when: Condition
    message: str | None = None


class DateOrderRule(Model):
    """Each named date must be on or before the next one; missing dates are skipped."""

    kind: Literal["date_order"]
    record: RecordKind
    fields: list[str] = Field(min_length=2)
    message: str | None = None


Rule = Annotated[RequiredIfRule | DateOrderRule, Field(discriminator="kind")]


class TimepointWindow(Model):
    """When a questionnaire is due, in days relative to the enrolment's start or end date."""

    timepoint: Timepoint
    anchor: Literal["start_date", "end_date"]
    window_days: IntRange


class MeasureUse(Model):
    measure_id: Identifier
    timepoints: list[TimepointWindow] = Field(min_length=1)

    @field_validator("timepoints")
    @classmethod
    def _unique_timepoints(cls, value: list[TimepointWindow]) -> list[TimepointWindow]:
        repeated = _duplicates(window.timepoint for window in value)
        if repeated:
            raise ValueError(f"the timepoint '{repeated[0]}' appears more than once")
        return value

    def window(self, timepoint: str) -> TimepointWindow | None:
        return next((w for w in self.timepoints if w.timepoint == timepoint), None)


class Framework(Model):
    """One published version of an intervention framework."""

    id: Identifier
    version: int = Field(ge=1)
    name: str = Field(min_length=1)
    description: str
    tier: tuple[Tier, ...] = Field(min_length=1)
    settings: list[CodeEntry] = Field(min_length=1)
    eligible_ages: IntRange
    session_types: list[str] = Field(min_length=1)
    modes: list[str] = Field(min_length=1)
    location_types: list[CodeEntry] = Field(min_length=1)
    activities: list[CodeEntry] = Field(min_length=1)
    referral_sources: list[CodeEntry] = Field(min_length=1)
    exit_reasons: list[CodeEntry] = Field(min_length=1)
    duration_minutes: IntRange
    required: RequiredFields = RequiredFields()
    rules: list[Rule] = []
    measures: list[MeasureUse] = []

    @field_validator("tier", mode="before")
    @classmethod
    def _one_tier_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("settings", "location_types", "activities", "referral_sources", "exit_reasons")
    @classmethod
    def _codes_unique(cls, value: list[CodeEntry]) -> list[CodeEntry]:
        return _unique_codes(value)

    @field_validator("session_types", "modes", "tier")
    @classmethod
    def _unique_values(cls, value: Any) -> Any:
        repeated = _duplicates(value)
        if repeated:
            raise ValueError(f"'{repeated[0]}' appears more than once")
        return value

    @field_validator("measures")
    @classmethod
    def _unique_measures(cls, value: list[MeasureUse]) -> list[MeasureUse]:
        repeated = _duplicates(use.measure_id for use in value)
        if repeated:
            raise ValueError(f"the measure '{repeated[0]}' is listed more than once")
        return value

    def code_map(self, name: str) -> dict[str, str]:
        """Code -> label for one of the framework's code lists, in the published order."""
        entries: list[CodeEntry] = getattr(self, name)
        return {entry.code: entry.label for entry in entries}

    def measure_use(self, measure_id: str) -> MeasureUse | None:
        return next((use for use in self.measures if use.measure_id == measure_id), None)

    def rules_for(self, record: str) -> list[RequiredIfRule | DateOrderRule]:
        return [rule for rule in self.rules if rule.record == record]


# --- measures -------------------------------------------------------------------------------


class ResponseOption(Model):
    value: int
    label: str = Field(min_length=1)


class Item(Model):
    """One questionnaire item; licensed wording is replaced by a code and a neutral hint."""

    number: int = Field(ge=1)
    code: str = Field(min_length=1)
    hint: str = Field(min_length=1)
    text: str | None = None
    reverse: bool = False


class Subscale(Model):
    """A score over some items: a sum or a mean, prorated when enough items are answered."""

    id: Identifier
    label: str = Field(min_length=1)
    items: list[int] = Field(min_length=1)
    method: Literal["sum", "mean"] = "sum"
    min_answered: int = Field(ge=1)
    decimals: int = Field(default=0, ge=0, le=4)
    better: Better = None

    @model_validator(mode="after")
    def _sensible(self) -> Subscale:
        if _duplicates(self.items):
            raise ValueError(f"item {_duplicates(self.items)[0]} appears more than once")
        if self.min_answered > len(self.items):
            raise ValueError(
                f"min_answered ({self.min_answered}) is more than the {len(self.items)} items"
            )
        return self


class Composite(Model):
    """A sum of subscale scores; missing when any part is missing."""

    id: Identifier
    label: str = Field(min_length=1)
    of: list[str] = Field(min_length=1)
    better: Better = None


class Conversion(Model):
    """A published lookup from one score to another (e.g. a raw total to a metric score)."""

    id: Identifier
    label: str = Field(min_length=1)
    source: str
    table: dict[int, float] = Field(min_length=1)
    better: Better = None


class Band(Model):
    label: str = Field(min_length=1)
    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class BandSet(Model):
    score: str
    bands: list[Band] = Field(min_length=1)


class ScoreNorms(Model):
    """What the evaluation needs to judge one score's change, each value with its source.

    A value left out means the statistic that needs it is not shown (never guessed): reliable
    change needs ``reliability`` and ``norm_sd``; meaningful change needs ``meaningful_change``;
    band movement needs ``high_need`` (labels of this score's bands that count as high need).
    """

    reliability: float | None = Field(default=None, gt=0, lt=1)
    reliability_source: str | None = None
    norm_sd: float | None = Field(default=None, gt=0)
    norm_source: str | None = None
    meaningful_change: float | None = Field(default=None, gt=0)
    meaningful_change_source: str | None = None
    high_need: list[str] = []


class MeasureEvaluation(Model):
    """Evaluation data for a measure: its headline score and each score's published norms."""

    primary_score: str
    scores: dict[str, ScoreNorms] = {}


class MeasureDefinition(Model):
    """A questionnaire's structure and scoring rules, as data."""

    id: Identifier
    version: int = Field(ge=1)
    name: str = Field(min_length=1)
    description: str = ""
    licence_note: str | None = None
    source: str | None = None
    response_options: list[ResponseOption] = Field(min_length=2)
    items: list[Item] = Field(min_length=1)
    subscales: list[Subscale] = Field(min_length=1)
    composites: list[Composite] = []
    conversions: list[Conversion] = []
    bands: list[BandSet] = []
    evaluation: MeasureEvaluation | None = None

    @field_validator("response_options")
    @classmethod
    def _unique_values(cls, value: list[ResponseOption]) -> list[ResponseOption]:
        repeated = _duplicates(option.value for option in value)
        if repeated:
            raise ValueError(f"the value {repeated[0]} appears more than once")
        return value

    @field_validator("items")
    @classmethod
    def _numbered_in_order(cls, value: list[Item]) -> list[Item]:
        for index, item in enumerate(value, start=1):
            if item.number != index:
                raise ValueError(
                    f"items must be numbered 1, 2, 3, ... (item {index} is {item.number})"
                )
        repeated = _duplicates(item.code for item in value)
        if repeated:
            raise ValueError(f"the item code '{repeated[0]}' appears more than once")
        return value

    @property
    def scoring_version(self) -> str:
        return f"{self.id}:v{self.version}"

    @property
    def allowed_values(self) -> list[int]:
        return [option.value for option in self.response_options]

    def score_ids(self) -> list[str]:
        """Every score this measure produces, in reporting order."""
        return (
            [s.id for s in self.subscales]
            + [c.id for c in self.composites]
            + [c.id for c in self.conversions]
        )

    def score_better(self, score_id: str) -> str | None:
        """ "higher" or "lower": which way this score improves (None when not stated)."""
        for part in (*self.subscales, *self.composites, *self.conversions):
            if part.id == score_id:
                return part.better
        raise KeyError(score_id)

    def score_label(self, score_id: str) -> str:
        for part in (*self.subscales, *self.composites, *self.conversions):
            if part.id == score_id:
                return part.label
        raise KeyError(score_id)
