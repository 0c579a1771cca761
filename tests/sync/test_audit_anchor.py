"""Every batch manifest carries the provider's audit chain head (issue 10, failure 10)."""

from __future__ import annotations

from vrp_desktop.services import audit


def test_batch_manifests_carry_the_audit_head(pair):
    from vrp_desktop.store.models import Batch
    from vrp_desktop.sync import batch_build

    with pair.p() as p:
        with p.read() as s:
            before = audit.head(s)
        built = batch_build.build_batch(p)
        with p.read() as s:
            manifest = s.get(Batch, built["batch_id"]).manifest
            anchor = audit.Head.from_value(manifest["audit_head"])
            assert anchor is not None and anchor.seq >= before.seq
            assert audit.verify(s).ok
