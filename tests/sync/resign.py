"""Re-signed batches: a real built batch, opened, edited, signed again with the provider's own
key and encrypted to the VRP, so the coordinator sees exactly what a provider with altered or
broken software could send: a batch whose signature is good and whose content is not."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyrage
from sqlalchemy import select

from vrp_desktop.ids import uuid7
from vrp_desktop.store.models import Provider
from vrp_desktop.sync import common, coordinator, manifest, zipstream

#: entity -> its records; an item may also be raw ``bytes``, written as the line itself
Records = dict[str, list[Any]]


def open_batch(pair, path: Path) -> tuple[dict[str, Any], Records]:
    """The manifest and the records of a batch file, decrypted with the VRP's identity."""
    with pair.c() as c:
        identity = coordinator.identity(c)
    plain = pyrage.decrypt(Path(path).read_bytes(), [identity])
    with zipfile.ZipFile(io.BytesIO(plain)) as zf:
        body = json.loads(zf.read(manifest.MANIFEST))
        records = {
            entity: [json.loads(line) for line in zf.read(name).splitlines() if line]
            for entity, name in manifest.MEMBERS.items()
        }
    return body, records


def _line(item: Any) -> bytes:
    if isinstance(item, bytes):
        return item
    return json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def resign(
    pair,
    path: Path,
    edit: Callable[[Records], None],
    out: Path,
    *,
    new_batch_id: bool = True,
    edit_manifest: Callable[[dict[str, Any]], None] | None = None,
    signature_member: bytes | None = None,
    mangle: Callable[[bytes], bytes] | None = None,
) -> Path:
    """Write to ``out`` the batch at ``path`` with ``edit`` applied to its records, a fresh
    manifest (hashes, sizes, counts), signed with the provider's key and encrypted to the VRP.
    """
    body, records = open_batch(pair, path)
    edit(records)
    members: dict[str, bytes] = {}
    listed: dict[str, dict[str, Any]] = {}
    for entity, name in manifest.MEMBERS.items():
        items = records.get(entity, [])
        data = b"".join(_line(item) + b"\n" for item in items)
        members[name] = data
        listed[name] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "records": len(items),
        }
    body["members"] = listed
    if new_batch_id:
        body["batch_id"] = uuid7()
    if edit_manifest is not None:
        edit_manifest(body)
    manifest_bytes = json.dumps(body, indent=1, sort_keys=True).encode()
    with pair.p() as p, p.read() as s:
        own = s.scalar(select(Provider).where(Provider.is_self.is_(True)))
        signature = common.sign(own.signing_private_key, manifest_bytes)
    with pair.c() as c:
        recipient = pyrage.x25519.Recipient.from_str(coordinator.recipient(c))

    def trailer() -> list[tuple[str, bytes]]:
        return [
            (manifest.MANIFEST, manifest_bytes),
            (
                manifest.SIGNATURE,
                common.b64(signature).encode() if signature_member is None else signature_member,
            ),
        ]

    source = zipstream.producer(((name, [data]) for name, data in members.items()), trailer)
    plain = b""
    while chunk := source.read(1 << 16):
        plain += chunk
    if mangle is not None:
        plain = mangle(plain)
    Path(out).write_bytes(pyrage.encrypt(plain, [recipient]))
    return Path(out)
