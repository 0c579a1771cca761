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
#: old pseudonym -> new, one {"old": ..., "new": ...} per line, after a new linkage key: it
#: travels first, so the VRP re-keys what it holds before the batch's records are applied
ROTATION_MEMBER = "linkage/rotation.jsonl"

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
        "birth_month",
        "gender",
        "ethnicity",
        "postcode_district",
        "local_authority",  # only when the partnership's rule coarsened the district to it
        "consent_status",
        "consent_date",
        "match_token",
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
    linkage: dict[str, Any] | None = None,
    disclosure: dict[str, Any] | None = None,
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
    if linkage is not None:
        body["linkage"] = linkage  # which key made the pseudonyms; a rotation if one travels
    if disclosure is not None:
        body["disclosure"] = disclosure  # how many people are unique on what travels with them
    return json.dumps(body, indent=1, sort_keys=True).encode()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 53


def _problem(body: Any) -> str | None:
    """What is wrong with the manifest's shape (a field the importer reads with the wrong
    type), or None when every field has the type it is read as."""
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        return "it is not a VRP Desktop batch manifest"
    for key in ("batch_id", "vrp_id", "provider_id"):
        if not isinstance(body.get(key), str) or not body[key]:
            return f"its field {key!r} is missing or has the wrong type"
    for key in ("previous_batch_id", "period", "provider_code", "created_at"):
        if body.get(key) is not None and not isinstance(body[key], str):
            return f"its field {key!r} has the wrong type"
    members, counts = body.get("members"), body.get("counts")
    if not isinstance(members, dict) or set(members) - {*MEMBER_ENTITY, ROTATION_MEMBER}:
        return "its list of members has the wrong type or names unknown members"
    for entry in members.values():
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            return "a member's checksum has the wrong type"
        if not _is_int(entry.get("bytes")) or not _is_int(entry.get("records")):
            return "a member's size or record count has the wrong type"
    if not isinstance(counts, dict) or not all(_is_int(v) for v in counts.values()):
        return "its counts have the wrong type"
    versions = body.get("framework_versions", {})
    if not isinstance(versions, dict) or not all(
        isinstance(v, list) and all(_is_int(n) for n in v) for v in versions.values()
    ):
        return "its framework versions have the wrong type"
    linkage = body.get("linkage")
    if linkage is not None and (
        not isinstance(linkage, dict)
        or not isinstance(linkage.get("key_id"), str | None)
        or not isinstance(linkage.get("rotation"), dict | None)
    ):
        return "its linkage section has the wrong type"
    return None


def parse_manifest(data: bytes) -> dict[str, Any]:
    """The manifest as a dict, or a SyncError saying the batch is not sound."""
    try:
        body = json.loads(data)
    except (ValueError, TypeError, RecursionError):
        body = None
    problem = _problem(body)
    if problem is not None:
        raise SyncError(
            f"This batch's manifest is not one VRP Desktop understands: {problem} (made by a "
            "newer version, or damaged). Ask the provider to build the batch again. Nothing was "
            "imported."
        )
    return body
