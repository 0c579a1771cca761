"""Record ids are RFC 9562 UUIDv7: time-ordered, so new rows append to the index."""

from __future__ import annotations

import uuid

from vrp_desktop.ids import uuid7


def test_uuid7_version_variant_and_order():
    ids = [uuid7() for _ in range(5000)]
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
