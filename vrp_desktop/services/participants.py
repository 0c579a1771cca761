"""Participants: the young people a provider works with.

Identity fields (names, date of birth, address, contacts) stay on this device. What is shared
is the pseudonym, age band, gender, ethnicity, postcode district and consent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, literal_column, select
from sqlalchemy.orm import Session as OrmSession

from vrp_desktop import codes
from vrp_desktop.errors import VrpError
from vrp_desktop.services import audit, search
from vrp_desktop.services.common import (
    bump,
    clean_values,
    get_or_404,
    settle,
    snapshot,
    sync_fields,
    today,
)
from vrp_desktop.services.pseudonyms import new_reference, pseudonym
from vrp_desktop.store.models import (
    Attendance,
    Enrolment,
    OutcomeResponse,
    Participant,
    ParticipantSearchToken,
    ParticipantSentArea,
    Tombstone,
    utcnow,
)
from vrp_desktop.validation.engine import validate_participant

IDENTITY_FIELDS = (
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "address",
    "phone",
    "email",
)
SHAREABLE_FIELDS = ("gender", "ethnicity", "postcode_district", "consent_status", "consent_date")
EDITABLE_FIELDS = (*IDENTITY_FIELDS, *SHAREABLE_FIELDS, "postcode")
_DATE_FIELDS = ("date_of_birth", "consent_date")
_SNAPSHOT = ("reference", "age_band", *IDENTITY_FIELDS, *SHAREABLE_FIELDS, "sync_state", "version")


def _clean(fields: Mapping[str, Any]) -> dict[str, Any]:
    values = clean_values(
        fields,
        EDITABLE_FIELDS,
        "participant",
        dates=_DATE_FIELDS,
        codes=("gender", "ethnicity", "consent_status"),
    )
    if "postcode" in values:
        raw = values.pop("postcode")
        values["postcode_district"] = codes.postcode_district(raw) if raw else None
        if raw and values["postcode_district"] is None:
            raise VrpError(
                "postcode: that is not a UK postcode. Enter e.g. B5 4TJ, or leave it blank."
            )
    elif values.get("postcode_district"):
        values["postcode_district"] = values["postcode_district"].upper().replace(" ", "")
    return values


def as_record(p: Participant) -> dict[str, Any]:
    """The participant as the plain mapping the validation engine reads."""
    return {
        "id": p.id,
        "reference": p.reference,
        **{name: getattr(p, name) for name in (*IDENTITY_FIELDS, *SHAREABLE_FIELDS)},
    }


def to_dict(p: Participant) -> dict[str, Any]:
    return {
        **as_record(p),
        "age_band": p.age_band,
        "pseudonym": p.pseudonym,
        **sync_fields(p),
        "erased": p.erased_at is not None,
        "display_name": display_name(p),
    }


def display_name(p: Participant) -> str:
    if p.erased_at is not None:
        return f"(erased) {p.reference}"
    first = p.preferred_name or p.first_name or ""
    return f"{first} {p.last_name or ''}".strip() or p.reference


def _refresh_derived(ws, p: Participant, on: dt.date) -> None:
    p.age_band = codes.age_band(p.date_of_birth, on) if p.date_of_birth else None
    p.pseudonym = pseudonym(ws.setting("linkage_key"), p.first_name, p.last_name, p.date_of_birth)


def _unique_reference(session: OrmSession) -> str:
    for _ in range(20):
        ref = new_reference()
        if session.scalar(select(Participant.id).where(Participant.reference == ref)) is None:
            return ref
    raise VrpError("Could not make a unique participant reference; try again.")


def create_participant(
    ws, fields: Mapping[str, Any], *, warning_reason: str | None = None
) -> dict[str, Any]:
    """Add a participant; saved even with errors (as a draft) so nothing typed is lost."""
    ws.require("record")
    values = _clean(fields)
    with ws.unit() as session:
        p = Participant(reference=_unique_reference(session), version=1, **values)
        if p.consent_status is None:
            p.consent_status = "not_asked"
        _refresh_derived(ws, p, today())
        settle(p, validate_participant(as_record(p), today=today()), warning_reason)
        session.add(p)
        session.flush()
        search.reindex(session, p)
        audit.append(
            session,
            ws.user.username,
            "participant.create",
            "participant",
            p.id,
            after=snapshot(p, _SNAPSHOT),
        )
        return to_dict(p)


def update_participant(
    ws,
    participant_id: str,
    changes: Mapping[str, Any],
    *,
    reason: str | None = None,
    warning_reason: str | None = None,
) -> dict[str, Any]:
    ws.require("record")
    values = _clean(changes)
    with ws.unit() as session:
        p = get_or_404(session, Participant, participant_id, "participant")
        if p.erased_at is not None:
            raise VrpError("This participant's data was erased; it cannot be edited.")
        before = snapshot(p, _SNAPSHOT)
        for key, value in values.items():
            setattr(p, key, value)
        _refresh_derived(ws, p, today())
        bump(p)
        settle(p, validate_participant(as_record(p), today=today()), warning_reason)
        search.reindex(session, p)
        audit.append(
            session,
            ws.user.username,
            "participant.update",
            "participant",
            p.id,
            before=before,
            after=snapshot(p, _SNAPSHOT),
            reason=reason,
        )
        return to_dict(p)


def get_participant(ws, participant_id: str) -> dict[str, Any]:
    with ws.read() as session:
        return to_dict(get_or_404(session, Participant, participant_id, "participant"))


def withdraw_consent(
    ws, participant_id: str, *, on: dt.date | None = None, reason: str | None = None
) -> dict[str, Any]:
    """Record that consent was withdrawn; the record stays and the change travels."""
    ws.require("record")
    with ws.unit() as session:
        p = get_or_404(session, Participant, participant_id, "participant")
        before = snapshot(p, _SNAPSHOT)
        p.consent_status = "withdrawn"
        p.consent_date = on or today()
        bump(p)
        settle(p, validate_participant(as_record(p), today=today()), None)
        audit.append(
            session,
            ws.user.username,
            "participant.withdraw_consent",
            "participant",
            p.id,
            before=before,
            after=snapshot(p, _SNAPSHOT),
            reason=reason,
        )
        return to_dict(p)


def erase_participant(ws, participant_id: str, *, confirm: str, reason: str) -> None:
    """Erase a person: identity and shareable fields blanked, their enrolments, attendances
    and questionnaires deleted, and a tombstone for each so the VRP deletes its copies too.

    ``confirm`` must be the participant's reference, typed by the person erasing.
    """
    ws.require("erase")
    if not reason or not reason.strip():
        raise VrpError("Give a reason for the erasure (the audit log records that one was given).")
    with ws.unit() as session:
        p = get_or_404(session, Participant, participant_id, "participant")
        if p.erased_at is not None:
            raise VrpError(f"{p.reference} was already erased.")
        if confirm.strip().upper() != p.reference.upper():
            raise VrpError(
                f"To erase, type the participant's reference exactly ({p.reference}). "
                "Nothing was erased."
            )
        stones: list[Tombstone] = []
        about = [p.id]
        for model, entity in (
            (Attendance, "attendance"),
            (OutcomeResponse, "outcome_response"),
            (Enrolment, "enrolment"),
        ):
            for row in session.scalars(select(model).where(model.participant_id == p.id)):
                stones.append(
                    Tombstone(
                        entity=entity, entity_id=row.id, version=row.version + 1, reason="erasure"
                    )
                )
                about.append(row.id)
                session.delete(row)
        for name in (*IDENTITY_FIELDS, *SHAREABLE_FIELDS):
            setattr(p, name, None)
        p.consent_status = "withdrawn"
        p.pseudonym = None
        p.age_band = None
        p.erased_at = utcnow()
        p.findings = []
        bump(p)
        p.sync_state = "valid"
        stones.append(
            Tombstone(entity="participant", entity_id=p.id, version=p.version, reason="erasure")
        )
        session.add_all(stones)
        session.execute(
            delete(ParticipantSearchToken).where(ParticipantSearchToken.participant_id == p.id)
        )
        # the area their record last travelled with is a shareable field too
        session.execute(
            delete(ParticipantSentArea).where(ParticipantSentArea.participant_id == p.id)
        )
        audit.append(
            session,
            ws.user.username,
            "participant.erase",
            "participant",
            p.id,
            after={"records_removed": len(stones) - 1},
            reason=reason.strip(),
            keep_words=False,  # a reason for erasing someone must not outlive them
        )
        audit.forget_reasons(session, about)


# -- finding people -------------------------------------------------------------------------


def _filtered(
    text: str = "",
    *,
    intervention_id: str | None = None,
    status: str = "all",
    age_band: str | None = None,
):
    """Ids of the people matching the register's search and filters (not yet ordered)."""
    query = select(Participant.id).where(Participant.erased_at.is_(None))
    ids = search.matching_ids(text) if text else None
    if ids is not None:
        query = query.where(_id_column_for(text).in_(ids))
    if age_band:
        query = query.where(Participant.age_band == age_band)
    if intervention_id or status in ("active", "exited"):
        enrolled = select(Enrolment.participant_id)
        if intervention_id:
            enrolled = enrolled.where(Enrolment.intervention_id == intervention_id)
        if status == "active":
            enrolled = enrolled.where(Enrolment.end_date.is_(None))
        elif status == "exited":
            enrolled = enrolled.where(Enrolment.end_date.is_not(None))
        query = query.where(Participant.id.in_(enrolled))
    if status == "attention":
        query = query.where(Participant.sync_state == "draft")
    return query


def _id_column_for(text: str):
    """How to match ids: a short prefix ("m") matches a fifth of everyone, and walking the
    register in order until a page is full beats ordering all the matches; ``+id`` (SQLite's
    way to say "no index for this term") steers the planner to that walk. A longer prefix
    matches few people, who are best looked up by id and ordered."""
    if max((len(word) for word in search.tokens(text)), default=0) <= 2:
        return literal_column("+participant.id")
    return Participant.id


def _only_text(filters: dict[str, Any]) -> bool:
    return not any(filters.get(k) for k in ("intervention_id", "age_band")) and filters.get(
        "status", "all"
    ) in ("all", None)


def list_participants(
    ws, text: str = "", *, offset: int = 0, limit: int = 100, **filters: Any
) -> list[dict[str, Any]]:
    """One page of the register, ordered by last then first name.

    The page's ids are found and ordered from covering indexes alone (the sort keys live in
    ``ix_participant_register_order`` and ``ix_participant_id_sort``), then only those rows are
    read: with 100k people, reading every matching encrypted row to sort it was the cost. A
    search of one word that matches many people reads its ids already in order off the token
    index (``search.ordered_page``), so "m" costs what "smith" does.
    """
    with ws.read() as session:
        word = search.single_word(text) if _only_text(filters) else None
        page = search.ordered_page(session, word) if word else None
        if page is None:
            page = _filtered(text, **filters).order_by(
                func.lower(Participant.last_name),
                func.lower(Participant.first_name),
                Participant.id,
            )
        ids = [row[-1] for row in session.execute(page.offset(offset).limit(limit))]
        rows = {
            p.id: p for p in session.scalars(select(Participant).where(Participant.id.in_(ids)))
        }
        return [_row(rows[i]) for i in ids if i in rows]


def count_participants(ws, text: str = "", *, cap: int | None = None, **filters: Any) -> int:
    """How many people match. A search by text alone is counted from the token index: erased
    people have no tokens, so no participant row needs reading. With ``cap``, counting stops
    past it (the answer is then ``cap + 1``: "more than cap"), which is all a search box needs."""
    ids = search.matching_ids(text) if text else None
    matches = ids if ids is not None and _only_text(filters) else _filtered(text, **filters)
    if cap is not None:
        matches = matches.limit(cap + 1)
    query = select(func.count()).select_from(matches.subquery())
    with ws.read() as session:
        return session.scalar(query) or 0


def _row(p: Participant) -> dict[str, Any]:
    return {
        "id": p.id,
        "reference": p.reference,
        "display_name": display_name(p),
        "first_name": p.first_name,
        "last_name": p.last_name,
        "date_of_birth": p.date_of_birth,
        "age_band": p.age_band,
        "postcode_district": p.postcode_district,
        "consent_status": p.consent_status,
        "sync_state": p.sync_state,
        "problems": len(p.findings or []),
    }
