"""The data model (SQLAlchemy 2 typed declarative).

Shareable records carry a UUIDv7 ``id``, a ``version`` counter and a ``sync_state``; local
identity fields on ``Participant`` never leave the device. JSON-ish lists are stored as JSON
text so the schema stays plain SQLite.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from vrp_desktop import clock
from vrp_desktop.ids import uuid7
from vrp_desktop.store.portable import finding_flag

#: the life of a shareable record on its way to the VRP
SYNC_STATES = ("draft", "valid", "queued", "sent", "accepted", "rejected")


def utcnow() -> dt.datetime:
    """Now, aware UTC: how every timestamp is stored (see ``vrp_desktop.clock``)."""
    return clock.utc_now()


class UtcDateTime(TypeDecorator):
    """A timestamp stored as UTC and read back as an aware UTC datetime.

    The column is a plain ``DATETIME`` holding naive UTC, as before, so existing rows (and raw
    SQL that reads them) are unchanged; an aware value is converted to UTC on the way in, a
    naive one is taken to be UTC already.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None or not isinstance(value, dt.datetime):
            return value
        return clock.as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSON, list[Any]: JSON}


class Syncable:
    """Columns every shareable record has."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=uuid7)
    version: Mapped[int] = mapped_column(Integer, default=1)
    sync_state: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    #: findings of the last validation, as a list of dicts (severity, field, message, rule)
    findings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: why a warning was accepted, given by the person who saved the record
    warning_reason: Mapped[str | None] = mapped_column(Text)
    #: the VRP's reason when a batch receipt rejected this version
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Setting(Base):
    """Workspace-wide settings (workspace id, kind, linkage key reference, ...)."""

    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Provider(Base):
    __tablename__ = "provider"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=uuid7)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: the provider's Ed25519 signing key (private on the provider's own workspace only)
    signing_public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    signing_private_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    is_self: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: coordinator registry: the secret in the provider's onboarding pack that authenticates
    #: their returned signing key; cleared once the key is pinned
    pairing_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: when the provider's signing key was pinned (compared by fingerprint)
    pinned_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class User(Base):
    __tablename__ = "user"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=uuid7)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Framework(Base):
    """A framework version as published; immutable once stored."""

    __tablename__ = "framework"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Intervention(Syncable, Base):
    """A provider's programme delivered under one framework version."""

    __tablename__ = "intervention"
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"))
    framework_id: Mapped[str] = mapped_column(String(64))
    framework_version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(32))
    setting: Mapped[str] = mapped_column(String(64))
    area: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: the usual session type (one of the framework's session types); forms default from these
    delivery: Mapped[str | None] = mapped_column(String(16))
    #: Monday = 0 ... Sunday = 6
    usual_weekday: Mapped[int | None] = mapped_column(Integer)
    #: local time of day, "HH:MM"
    usual_time: Mapped[str | None] = mapped_column(String(5))
    usual_minutes: Mapped[int | None] = mapped_column(Integer)
    usual_mode: Mapped[str | None] = mapped_column(String(16))
    usual_location_type: Mapped[str | None] = mapped_column(String(64))
    #: the worker who leads it; stays on the device (never in a batch)
    lead_staff: Mapped[str | None] = mapped_column(String(100))
    closed_on: Mapped[dt.date | None] = mapped_column(Date)


class Participant(Syncable, Base):
    __tablename__ = "participant"
    #: short local reference workers can quote ("YP-4K7Q2M"); carries no identity
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    #: keyed pseudonym (HMAC of the identity under the linkage key) shared with the VRP,
    #: so the partnership counts a person once across providers without knowing who they are
    pseudonym: Mapped[str | None] = mapped_column(String(64), index=True)
    # local identity fields: never leave the device
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    preferred_name: Mapped[str | None] = mapped_column(String(100))
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    # shareable fields
    age_band: Mapped[str | None] = mapped_column(String(16))
    gender: Mapped[str | None] = mapped_column(String(32))
    ethnicity: Mapped[str | None] = mapped_column(String(32))
    postcode_district: Mapped[str | None] = mapped_column(String(8))
    consent_status: Mapped[str] = mapped_column(String(16), default="not_asked")
    consent_date: Mapped[dt.date | None] = mapped_column(Date)
    erased_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="participant")

    __table_args__ = (
        Index("ix_participant_last_name", "last_name"),
        # the register's order, covering the erased flag: a page of the list comes off an index
        Index(
            "ix_participant_register_order",
            func.lower(last_name),
            func.lower(first_name),
            "id",
            "erased_at",
        ),
        # the same sort keys reached by id: ordering a search's matches reads no table rows
        Index(
            "ix_participant_id_sort",
            "id",
            "erased_at",
            func.lower(last_name),
            func.lower(first_name),
        ),
        Index("ix_participant_postcode_district", "postcode_district"),
        # the return's people (and Today's reach): every column they read of a person, without
        # reading participant rows; a provider's index (JSON cannot be a PostgreSQL key)
        Index(
            "ix_participant_return",
            "id",
            "erased_at",
            "pseudonym",
            "date_of_birth",
            "age_band",
            "gender",
            "ethnicity",
            "postcode_district",
            "consent_status",
            "sync_state",
            "warning_reason",
            "findings",
        ).ddl_if(dialect="sqlite"),
    )


class ParticipantSearchToken(Base):
    """Lower-cased words of a participant's names, reference and postcode district.

    A prefix range scan on ``token`` answers search-as-you-type without a table scan;
    erasure deletes a person's tokens with their identity fields.
    """

    __tablename__ = "participant_search_token"
    token: Mapped[str] = mapped_column(String(100), primary_key=True)
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    #: the token's first one and two letters and its person's register order (SQLite
    #: ``lower()`` of the names): a one- or two-letter search reads its page in order off one
    #: index (``search.ordered_page``)
    prefix1: Mapped[str | None] = mapped_column(String(1))
    prefix2: Mapped[str | None] = mapped_column(String(2))
    last_key: Mapped[str | None] = mapped_column(String(100))
    first_key: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (
        Index(
            "ix_participant_search_token_prefix1",
            "prefix1",
            "last_key",
            "first_key",
            "participant_id",
        ),
        # with the token, so a longer word walks its first two letters' part in order
        Index(
            "ix_participant_search_token_prefix2",
            "prefix2",
            "last_key",
            "first_key",
            "participant_id",
            "token",
        ),
    )


class ParticipantSentArea(Base):
    """The area a young person's record last travelled with, as the partnership's rule left it
    (district, local authority, or neither: withheld or never recorded).

    Written by the batch build in its own transaction, so the next build can tell whose area
    under the rule now differs from what the VRP holds and send those records again
    (``sync.resend``). No row: the record travelled before this table existed, with its raw
    district. Erasure deletes the row with the person's other shareable fields.
    """

    __tablename__ = "participant_sent_area"
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True
    )
    #: the participant version that travelled with this area
    version: Mapped[int] = mapped_column(Integer)
    postcode_district: Mapped[str | None] = mapped_column(String(8))
    local_authority: Mapped[str | None] = mapped_column(String(9))


class Enrolment(Syncable, Base):
    __tablename__ = "enrolment"
    participant_id: Mapped[str] = mapped_column(ForeignKey("participant.id"), index=True)
    intervention_id: Mapped[str] = mapped_column(ForeignKey("intervention.id"), index=True)
    referral_source: Mapped[str | None] = mapped_column(String(64))
    referral_date: Mapped[dt.date | None] = mapped_column(Date)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    exit_reason: Mapped[str | None] = mapped_column(String(64))
    exit_detail: Mapped[str | None] = mapped_column(Text)

    participant: Mapped[Participant] = relationship(back_populates="enrolments")


class Session(Syncable, Base):
    __tablename__ = "session"
    intervention_id: Mapped[str] = mapped_column(ForeignKey("intervention.id"))
    #: a local wall-clock time (naive), as the worker gave it; see ``vrp_desktop.clock``
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    session_type: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str | None] = mapped_column(String(16))
    location_type: Mapped[str | None] = mapped_column(String(64))
    staff: Mapped[list[Any]] = mapped_column(JSON, default=list)
    activities: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: free text stays on the device; it never travels in a batch
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="delivered")
    created_by: Mapped[str | None] = mapped_column(String(64))
    #: whether the findings hold an error, or a warning nobody gave a reason for: generated by
    #: the database from ``findings`` (virtual on SQLite: stored only in the return's index),
    #: so a quarter's data-quality counts read two small integers, not every session's JSON
    has_error: Mapped[int] = mapped_column(Integer, Computed(finding_flag("error")))
    has_open_warning: Mapped[int] = mapped_column(Integer, Computed(finding_flag("open_warning")))

    attendances: Mapped[list[Attendance]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_session_intervention_start", "intervention_id", "starts_at"),
        # the quarterly return: a quarter's sessions with every column it reads, off one range
        Index(
            "ix_session_return",
            "starts_at",
            "status",
            "intervention_id",
            "session_type",
            "duration_minutes",
            "mode",
            "location_type",
            "sync_state",
            "has_error",
            "has_open_warning",
            "id",
        ),  # (it leads with the start time, so it serves every search by start time too)
    )


class Attendance(Syncable, Base):
    __tablename__ = "attendance"
    session_id: Mapped[str] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    participant_id: Mapped[str] = mapped_column(ForeignKey("participant.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="attended")

    session: Mapped[Session] = relationship(back_populates="attendances")

    __table_args__ = (
        UniqueConstraint("session_id", "participant_id"),
        # Today's reach: a quarter's attendees (present statuses) without reading attendance rows
        Index("ix_attendance_session_status", "session_id", "status", "participant_id"),
        # the quarterly return: the few attendances that are not a presence (absent, ...), so
        # attendees come off the (session_id, participant_id) index without reading rows
        Index(
            "ix_attendance_not_present",
            "session_id",
            "participant_id",
            sqlite_where=status.not_in(["attended", "late", "left_early"]),
            postgresql_where=status.not_in(["attended", "late", "left_early"]),
        ),
    )


class AttendanceByStart(Base):
    """Every register row again, keyed by its session's start time (WITHOUT ROWID, so the
    B-tree is the table), with what the return reads of its session: a quarter's rows are one
    contiguous range, read with no lookup per row, where the attendance table scatters them in
    the order they were recorded. Kept by SQLite triggers (migrations 0024 and 0028) on
    attendance and session, so no writer maintains it by hand; never written by the
    application."""

    __tablename__ = "attendance_by_start"
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime, primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    participant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    # the session's, copied by the triggers
    intervention_id: Mapped[str | None] = mapped_column(String(36))
    session_status: Mapped[str | None] = mapped_column(String(16))
    session_type: Mapped[str | None] = mapped_column(String(16))
    duration_minutes: Mapped[int | None] = mapped_column(Integer)

    __table_args__: ClassVar[dict[str, Any]] = {"sqlite_with_rowid": False}


class OutcomeResponse(Syncable, Base):
    __tablename__ = "outcome_response"
    participant_id: Mapped[str] = mapped_column(ForeignKey("participant.id"), index=True)
    enrolment_id: Mapped[str | None] = mapped_column(ForeignKey("enrolment.id"))
    measure_id: Mapped[str] = mapped_column(String(64))
    timepoint: Mapped[str] = mapped_column(String(16))
    completed_on: Mapped[dt.date] = mapped_column(Date)
    answers: Mapped[list[Any]] = mapped_column(JSON)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    bands: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    scoring_version: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        # the return: a quarter's exits (one range), and each exit's baseline (one seek)
        Index(
            "ix_outcome_response_pair",
            "participant_id",
            "measure_id",
            "timepoint",
            "completed_on",
            "id",
        ),
        Index("ix_outcome_response_period", "timepoint", "completed_on"),
    )


class Tombstone(Base):
    """A deletion or erasure; travels in the next batch so the VRP drops the record too."""

    __tablename__ = "tombstone"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=uuid7)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    deleted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    sync_state: Mapped[str] = mapped_column(String(16), default="valid", index=True)


class AuditEvent(Base):
    """One entry of the tamper-evident chain: each hash covers the previous one."""

    __tablename__ = "audit_event"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(36))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditReason(Base):
    """The words of an event's free-text reason, outside the chain so they can be erased."""

    __tablename__ = "audit_reason"
    event_seq: Mapped[int] = mapped_column(
        Integer, ForeignKey("audit_event.seq", ondelete="CASCADE"), primary_key=True
    )
    text: Mapped[str] = mapped_column(Text)


class Batch(Base):
    """A batch built here (provider) or imported here (coordinator)."""

    __tablename__ = "batch"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=uuid7)
    provider_id: Mapped[str] = mapped_column(String(36), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # "out" | "in"
    period: Mapped[str | None] = mapped_column(String(16))
    previous_batch_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16))
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: the batch file's name (in the outbox, or as imported)
    file_name: Mapped[str | None] = mapped_column(String(255))
    #: outcome counts and notes (chain gap, conflicts, receipt) shown in the history
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class BatchItem(Base):
    __tablename__ = "batch_item"
    batch_id: Mapped[str] = mapped_column(ForeignKey("batch.id"), primary_key=True)
    entity: Mapped[str] = mapped_column(String(32), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)


class Receipt(Base):
    __tablename__ = "receipt"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=uuid7)
    batch_id: Mapped[str] = mapped_column(String(36), index=True)
    provider_id: Mapped[str] = mapped_column(String(36))
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class KeySlotRow(Base):
    """A coordinator on a server keeps its key slots here, one row per slot plus ``_file``
    (workspace id, key check); see ``store/server_slots.py``. A SQLCipher workspace keeps them
    in ``keyslots.json`` and leaves this table empty."""

    __tablename__ = "key_slot"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    body: Mapped[str] = mapped_column(Text)


#: tables whose records are shareable and travel in batches
SHAREABLE = {
    "intervention": Intervention,
    "participant": Participant,
    "enrolment": Enrolment,
    "session": Session,
    "attendance": Attendance,
    "outcome_response": OutcomeResponse,
}

# coordinator-side tables live in their own module; imported here so Alembic sees them
from vrp_desktop.store import sync_models as _sync_models  # noqa: E402, F401
