"""Checking one record a provider sent, before anything of it is stored.

Two steps, both pure functions of the record and what it refers to, so the answer does not
depend on the order batches arrive in:

1. ``shape``: the batch schema (``validation.batch_schema``): exact keys, types, sizes, id and
   pseudonym shapes, date formats, the age band list. Values are normalised in place.
2. ``content``: the framework's rules, through the same engine the provider's forms use
   (``validation.engine``), with the framework of the record's intervention. Fields that never
   travel (names, birth dates) are not asked for. A questionnaire is re-scored here from its
   answers with the published scoring code: scores and bands that do not match the answers
   under the same scoring version are refused, and the VRP stores its own computation.

Checks that would compare a record with *other versions of other records* (is this attendee
enrolled on the session date under the enrolment version held now?) are the provider's: their
answer would depend on which batch arrived first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from vrp_desktop import clock
from vrp_desktop.errors import FrameworkError
from vrp_desktop.frameworks.models import Framework, MeasureDefinition
from vrp_desktop.measures.scoring import score
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.sync import manifest
from vrp_desktop.validation import batch_schema, compiled
from vrp_desktop.validation.engine import (
    AttendeeContext,
    validate_enrolment,
    validate_intervention,
    validate_participant,
    validate_response,
    validate_session,
)

#: fields that never leave the provider's device: their rules (a cancelled session's note, an
#: "other" exit's detail, a name) were checked there, and cannot be checked here
_LOCAL_ONLY = frozenset(manifest.FORBIDDEN) | {"first_name", "last_name", "date_of_birth"}


@dataclass
class Refs:
    """What a record refers to, as far as the VRP holds it (``framework`` None: not yet)."""

    framework: Framework | None = None
    enrolment: dict[str, Any] | None = None


def shape(entity: str, record: Any) -> list[str]:
    """The batch schema's reasons to refuse ``record`` (normalises it in place)."""
    return batch_schema.check(entity, record)


class Checker:
    """The framework rules for received records, with the frameworks and measures cached."""

    def __init__(self, session, *, today: dt.date | None = None, now=None) -> None:
        self.session = session
        self.today = today or dt.date.today()
        self.now = now or clock.utc_now()  # session starts carry their offset: compared in UTC
        self._frameworks: dict[tuple[str, int], Framework | None] = {}
        self._measures: dict[str, MeasureDefinition | None] = {}

    def framework(self, fid: str, version: int) -> Framework | None:
        key = (fid, version)
        if key not in self._frameworks:
            try:
                self._frameworks[key] = fw_service.get(self.session, fid, version)
            except FrameworkError:
                self._frameworks[key] = None
        return self._frameworks[key]

    def measure(self, measure_id: str) -> MeasureDefinition | None:
        if measure_id not in self._measures:
            try:
                self._measures[measure_id] = fw_service.measure(measure_id)
            except (FrameworkError, KeyError):
                self._measures[measure_id] = None
        return self._measures[measure_id]

    def content(self, entity: str, r: dict[str, Any], refs: Refs) -> list[str]:
        """Reasons to refuse a record whose shape is sound; ``refs.framework`` must be set
        for enrolments, sessions and questionnaires."""
        if entity == "intervention":
            fw = self.framework(r["framework_id"], r["framework_version"])
            if fw is None:
                return [
                    f"framework: {r['framework_id']} version {r['framework_version']} is not one "
                    "the VRP has published. Ask the VRP for its framework pack."
                ]
            return _errors(validate_intervention(r, framework=fw))
        if entity == "participant":
            if r.get("local_authority") is not None and r.get("postcode_district") is not None:
                return [
                    "local_authority: a district coarsened to its local authority travels "
                    "without the district; this record has both. Ask the provider to update "
                    "VRP Desktop and send it again."
                ]
            if compiled.participant(r, self.today, _LOCAL_ONLY):
                return []  # the common case, decided without building findings
            return _errors(validate_participant(r, today=self.today))
        fw = refs.framework
        assert fw is not None, "content checks need the intervention's framework"
        checks = compiled.for_framework(fw)
        if entity == "enrolment":
            if checks.enrolment(r, self.today):
                return []
            return _errors(validate_enrolment(r, participant=None, framework=fw, today=self.today))
        if entity == "session":
            if checks.session(r, r["register"], self.now):
                return []
            attendees = [
                AttendeeContext(a["participant_id"], a["participant_id"], a["status"], True)
                for a in r["register"]
            ]
            return _errors(validate_session(r, framework=fw, attendees=attendees, now=self.now))
        if entity == "outcome_response":
            return self._response(r, fw, refs.enrolment)
        return ["This kind of record is not one a batch carries."]

    def _response(
        self, r: dict[str, Any], fw: Framework, enrolment: dict[str, Any] | None
    ) -> list[str]:
        measure = self.measure(r["measure_id"])
        if measure is None:
            return ["measure_id: this is not a questionnaire the VRP knows."]
        if enrolment is not None and enrolment["participant_id"] != r["participant_id"]:
            return ["enrolment_id: this enrolment belongs to another young person."]
        try:
            result = score(measure, r["answers"])
        except ValueError:
            result = None  # the engine says why, in words a youth worker understands
        if compiled.for_framework(fw).response(r, measure, self.today, result is not None):
            reasons = []
        else:
            reasons = _errors(
                validate_response(
                    r,
                    measure=measure,
                    framework=fw,
                    enrolment=enrolment,
                    today=self.today,
                    scored=result,
                )
            )
        if reasons or result is None:
            return reasons or ["answers: these answers cannot be scored."]
        claimed = r["scoring_version"]
        if claimed is not None and not claimed.startswith(f"{measure.id}:v"):
            return ["scoring_version: this names another questionnaire's scoring."]
        if claimed == result.scoring_version and (
            r["scores"] != result.scores or r["bands"] != result.bands
        ):
            return [
                "scores: the scores or bands sent do not match the answers under the same "
                "scoring version. The VRP works them out from the answers; check that the "
                "provider's VRP Desktop is up to date, then send the questionnaire again."
            ]
        # the VRP keeps its own computation, whatever was sent
        r["scores"], r["bands"] = result.scores, result.bands
        r["scoring_version"] = result.scoring_version
        return []


def _errors(findings) -> list[str]:
    """The errors a record is refused for: never one on a field that stays on the provider's
    device (``_LOCAL_ONLY``), which the VRP cannot see and the provider already checked."""
    return [
        f"{f.field}: {f.message}"
        for f in findings
        if f.severity == "error" and f.field not in _LOCAL_ONLY
    ]
