"""Coordinator-side tables: the records the VRP holds, imported from providers' batches.

Only shareable fields exist here (pseudonym and demographics, never a name, birth date,
address, contact or free text). Each row remembers the provider it came from, the version
held, the batch that brought it and a hash of its content, so re-imports are no-ops, newer
versions replace older ones, and a same-version clash is kept as a conflict, never dropped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vrp_desktop.store.models import Base, UtcDateTime, utcnow


class Imported:
    """Columns every imported record has."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[str] = mapped_column(String(36), index=True)
    #: SHA-256 of the record as it travelled (canonical JSON): same version, same content
    content_sha256: Mapped[str] = mapped_column(String(64))


class ImportedIntervention(Imported, Base):
    __tablename__ = "imported_intervention"
    framework_id: Mapped[str] = mapped_column(String(64))
    framework_version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str | None] = mapped_column(String(32))
    setting: Mapped[str | None] = mapped_column(String(64))
    area: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ImportedParticipant(Imported, Base):
    __tablename__ = "imported_participant"
    pseudonym: Mapped[str | None] = mapped_column(String(64), index=True)
    age_band: Mapped[str | None] = mapped_column(String(16))
    #: YYYY-MM: age on a quarter's first day is worked out from it, as the provider does
    birth_month: Mapped[str | None] = mapped_column(String(7))
    gender: Mapped[str | None] = mapped_column(String(32))
    ethnicity: Mapped[str | None] = mapped_column(String(32))
    postcode_district: Mapped[str | None] = mapped_column(String(8))
    #: set only when the partnership's rule coarsened the district to its local authority
    local_authority: Mapped[str | None] = mapped_column(String(9))
    consent_status: Mapped[str | None] = mapped_column(String(16))
    consent_date: Mapped[dt.date | None] = mapped_column(Date)
    #: keyed token of coarser identity, for probable cross-provider duplicates
    match_token: Mapped[str | None] = mapped_column(String(64), index=True)


class ImportedEnrolment(Imported, Base):
    __tablename__ = "imported_enrolment"
    participant_id: Mapped[str] = mapped_column(String(36), index=True)
    intervention_id: Mapped[str] = mapped_column(String(36))
    referral_source: Mapped[str | None] = mapped_column(String(64))
    referral_date: Mapped[dt.date | None] = mapped_column(Date)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    exit_reason: Mapped[str | None] = mapped_column(String(64))


class ImportedSession(Imported, Base):
    __tablename__ = "imported_session"
    intervention_id: Mapped[str] = mapped_column(String(36))
    #: the session's local wall-clock time (naive), from the offset it travelled with
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    session_type: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str | None] = mapped_column(String(16))
    location_type: Mapped[str | None] = mapped_column(String(64))
    activities: Mapped[list[Any]] = mapped_column(JSON, default=list)
    staff_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        Index("ix_imported_session_intervention_start", "intervention_id", "starts_at"),
    )


class ImportedAttendance(Imported, Base):
    """A line of a session's register; it travels inside its session and is replaced with it.

    It also holds what the evaluation's dose reads of its session (intervention, status,
    length), copied by the importer when it writes the register: since a line is only ever
    written with its session, the copy cannot fall behind (migration 0031)."""

    __tablename__ = "imported_attendance"
    session_id: Mapped[str] = mapped_column(String(36))
    participant_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16))
    intervention_id: Mapped[str | None] = mapped_column(String(36))
    session_status: Mapped[str | None] = mapped_column(String(16))
    duration_minutes: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        # the partnership return: a quarter's sessions' attendees and absences, read off this
        # index alone (it leads with the session, so it also serves every look-up and delete
        # by session the old session_id index did; migration 0032)
        Index("ix_imported_attendance_session", "session_id", "status", "participant_id"),
        # the evaluation's dose: a cohort member's lines on one intervention's delivered
        # sessions, read off this index alone (it leads with the person, so it also serves
        # every look-up by person the old participant_id index did)
        Index(
            "ix_imported_attendance_dose",
            "participant_id",
            "intervention_id",
            "session_status",
            "status",
            "duration_minutes",
        ),
    )


class ImportedResponse(Imported, Base):
    __tablename__ = "imported_response"
    participant_id: Mapped[str] = mapped_column(String(36), index=True)
    enrolment_id: Mapped[str | None] = mapped_column(String(36))
    measure_id: Mapped[str] = mapped_column(String(64))
    timepoint: Mapped[str] = mapped_column(String(16))
    completed_on: Mapped[dt.date] = mapped_column(Date)
    answers: Mapped[list[Any]] = mapped_column(JSON)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    bands: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    scoring_version: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        # the partnership return: a quarter's exits, and each exit's baseline (as a provider's)
        Index(
            "ix_imported_response_pair",
            "participant_id",
            "measure_id",
            "timepoint",
            "completed_on",
            "id",
        ),
        Index("ix_imported_response_period", "timepoint", "completed_on"),
    )


class ImportedTombstone(Base):
    """A provider deleted or erased a record: held copies go, older versions never come back."""

    __tablename__ = "imported_tombstone"
    entity: Mapped[str] = mapped_column(String(32), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(32))
    batch_id: Mapped[str] = mapped_column(String(36))
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class ImportedPending(Base):
    """A record that waits for one it refers to (a young person, an intervention, an
    enrolment) to arrive in another batch; applied then, so arrival order never matters."""

    __tablename__ = "imported_pending"
    provider_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entity: Mapped[str] = mapped_column(String(32), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(36))
    content_sha256: Mapped[str] = mapped_column(String(64))
    #: the record as checked against the batch schema (allow-listed keys only)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: what it waits for, in words (record ids only)
    waiting_for: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ImportConflict(Base):
    """A record offered in a batch that clashed with what the VRP holds; kept to be shown."""

    __tablename__ = "import_conflict"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider_id: Mapped[str] = mapped_column(String(36), index=True)
    batch_id: Mapped[str] = mapped_column(String(36), index=True)
    entity: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(36))
    held_version: Mapped[int | None] = mapped_column(Integer)
    offered_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    #: the offered record as it travelled (pseudonymous), so nothing is silently dropped
    offered: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


#: entity name in a batch -> the table holding it at the VRP
IMPORTED = {
    "intervention": ImportedIntervention,
    "participant": ImportedParticipant,
    "enrolment": ImportedEnrolment,
    "session": ImportedSession,
    "attendance": ImportedAttendance,
    "outcome_response": ImportedResponse,
}
