"""Every secret-looking value the VRP coordinator holds, gathered to be tried as a linkage key.

Sources: every value in every table of its store, every file it made or carried (onboarding
packs opened with their one-time code, batches opened with its age identity, receipts,
linkage requests and packs, key files) and its backups (restored and swept the same way).
Each text yields candidates as itself, as hex, as base64 and as its age-key string.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyrage
from sqlalchemy import inspect, text

_HEX = re.compile(r"[0-9a-fA-F]{16,}")
_B64 = re.compile(r"[A-Za-z0-9+/]{22,}={0,2}")
_WORD = re.compile(r"[A-Za-z0-9+/=_-]{16,}")


def candidates_from_text(value: str) -> Iterator[bytes]:
    yield value.encode()
    for token in _WORD.findall(value):
        yield token.encode()
    for token in _HEX.findall(value):
        for start in (0, 1):
            part = token[start:]
            part = part[: len(part) - len(part) % 2]
            if part:
                yield bytes.fromhex(part)
    for token in _B64.findall(value):
        padded = token + "=" * (-len(token) % 4)
        try:
            decoded = base64.b64decode(padded)
        except (binascii.Error, ValueError):
            continue
        yield decoded


def candidates_from_bytes(data: bytes) -> Iterator[bytes]:
    yield data
    yield from candidates_from_text(data.decode("utf-8", "replace"))


def store_values(ws) -> Iterator[bytes]:
    """Every value in every table of an open workspace's store."""
    with ws.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if value is None:
                        continue
                    if isinstance(value, bytes | bytearray | memoryview):
                        yield from candidates_from_bytes(bytes(value))
                    elif isinstance(value, dict | list):
                        yield from candidates_from_text(json.dumps(value))
                    else:
                        yield from candidates_from_text(str(value))


def file_values(paths: Iterable[Path], *, identity=None, codes: Iterable[str] = ()) -> Iterator:
    """Every file's bytes; batches opened with ``identity``, packs with the one-time codes."""
    from vrp_desktop.sync.common import normalise_code

    for path in paths:
        data = path.read_bytes()
        yield from candidates_from_bytes(data)
        plain = None
        if identity is not None:
            try:
                plain = pyrage.decrypt(data, [identity])
            except pyrage.DecryptError:
                plain = None
        for code in codes:
            if plain is None:
                try:
                    plain = pyrage.passphrase.decrypt(data, normalise_code(code))
                except pyrage.DecryptError:
                    plain = None
        for blob in (plain, data):
            if blob is None:
                continue
            yield from candidates_from_bytes(blob)
            if blob[:2] == b"PK":
                with zipfile.ZipFile(io.BytesIO(blob)) as zf:
                    for name in zf.namelist():
                        yield from candidates_from_bytes(zf.read(name))
