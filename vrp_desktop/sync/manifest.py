"""What travels in a batch, and the manifest that lists, hashes and (signed) vouches for it.

A batch ZIP holds one JSON Lines member per entity, then ``manifest.json`` (batch id, VRP,
provider, period, framework versions, counts, SHA-256 and size of every member, previous batch
id) and ``manifest.sig`` (the provider's Ed25519 signature over the manifest's exact bytes).
Members come first so the builder can stream them and hash as it goes.

The field lists below are allow-lists: a column not named here never leaves the device. There
is no name, date of birth, address, phone, email, free-text note, exit detail, staff name or
local reference among them; participants travel as the keyed pseudonym plus shareable fields.
"""

from __future__ import annotations

import json
from typing import Any

from vrp_desktop import __version__
from vrp_desktop.sync.common import SyncError

FORMAT = "vrp-batch/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
#: entities in the order they travel (parents before children)
ENTITIES = ("intervention", "participant", "enrolment", "session", "outcome_response", "tombstone")
MEMBERS = {entity: f"records/{entity}.jsonl" for entity in ENTITIES}
MEMBER_ENTITY = {name: entity for entity, name in MEMBERS.items()}

#: the columns each entity carries (id and version first); attendances travel inside sessions
FIELDS: dict[str, tuple[str, ...]] = {
    "intervention": (
        "id",
        "version",
        "framework_id",
        "framework_version",
        "name",
        "tier",
        "setting",
        "area",
        "active",
    ),
    "participant": (
        "id",
        "version",
        "pseudonym",
        "age_band",
        "gender",
        "ethnicity",
        "postcode_district",
        "consent_status",
        "consent_date",
    ),
    "enrolment": (
        "id",
        "version",
        "participant_id",
        "intervention_id",
        "referral_source",
        "referral_date",
        "start_date",
        "end_date",
        "exit_reason",
    ),
    "session": (
        "id",
        "version",
        "intervention_id",
        "starts_at",
        "duration_minutes",
        "session_type",
        "mode",
        "location_type",
        "activities",
        "staff_count",
        "status",
    ),
    "outcome_response": (
        "id",
        "version",
        "participant_id",
        "enrolment_id",
        "measure_id",
        "timepoint",
        "completed_on",
        "answers",
        "scores",
        "bands",
        "scoring_version",
    ),
    "tombstone": ("id", "entity", "entity_id", "version", "reason", "deleted_at"),
}
#: a session's register: one entry per young person
REGISTER_FIELDS = ("id", "version", "participant_id", "status")
DATE_FIELDS = {"consent_date", "referral_date", "start_date", "end_date", "completed_on"}
DATETIME_FIELDS = {"starts_at", "deleted_at"}
#: never allowed in a batch, whatever a future change to FIELDS says (checked in tests)
FORBIDDEN = frozenset(
    {
        "first_name",
        "last_name",
        "preferred_name",
        "date_of_birth",
        "address",
        "phone",
        "email",
        "notes",
        "exit_detail",
        "warning_reason",
        "reference",
        "staff",
        "created_by",
    }
)
assert not FORBIDDEN & {f for fields in FIELDS.values() for f in fields}
MAX_MANIFEST_BYTES = 1 << 20


def make_manifest(
    *,
    batch_id: str,
    vrp_id: str,
    provider_id: str,
    provider_code: str,
    period: str,
    created_at: str,
    previous_batch_id: str | None,
    framework_versions: dict[str, list[int]],
    counts: dict[str, int],
    members: dict[str, dict[str, Any]],
    audit_head: dict[str, Any] | None = None,
) -> bytes:
    body = {
        "format": FORMAT,
        "batch_id": batch_id,
        "vrp_id": vrp_id,
        "provider_id": provider_id,
        "provider_code": provider_code,
        "period": period,
        "created_at": created_at,
        "previous_batch_id": previous_batch_id,
        "framework_versions": framework_versions,
        "counts": counts,
        "members": members,
        "software_version": __version__,
    }
    if audit_head is not None:
        body["audit_head"] = audit_head  # the provider's audit chain head: an outside anchor
    return json.dumps(body, indent=1, sort_keys=True).encode()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 53


def _sound(body: Any) -> bool:
    """Every field the importer reads has the type it reads it as."""
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        return False
    for key in ("batch_id", "vrp_id", "provider_id"):
        if not isinstance(body.get(key), str) or not body[key]:
            return False
    for key in ("previous_batch_id", "period", "provider_code", "created_at"):
        if body.get(key) is not None and not isinstance(body[key], str):
            return False
    members, counts = body.get("members"), body.get("counts")
    if not isinstance(members, dict) or set(members) - set(MEMBER_ENTITY):
        return False
    for entry in members.values():
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            return False
        if not _is_int(entry.get("bytes")) or not _is_int(entry.get("records")):
            return False
    if not isinstance(counts, dict) or not all(_is_int(v) for v in counts.values()):
        return False
    versions = body.get("framework_versions", {})
    return isinstance(versions, dict) and all(
        isinstance(v, list) and all(_is_int(n) for n in v) for v in versions.values()
    )


def parse_manifest(data: bytes) -> dict[str, Any]:
    """The manifest as a dict, or a SyncError saying the batch is not sound."""
    try:
        body = json.loads(data)
    except (ValueError, TypeError, RecursionError):
        body = None
    if not _sound(body):
        raise SyncError(
            "This batch's manifest is not one VRP Desktop understands (made by a newer "
            "version, or damaged). Nothing was imported."
        )
    return body
