"""What both sides of sync share: errors, setting names, canonical JSON, keys and codes."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vrp_desktop.errors import VrpError

Progress = Callable[[str, int, int], None]

# settings (both kinds of workspace)
VRP_ID = "sync.vrp_id"
PARTNERSHIP = "sync.partnership_name"
VRP_RECIPIENTS = "sync.vrp_recipients"  # JSON list of age recipients ("age1...")
VRP_SIGNING_PUBLIC = "sync.vrp_signing_public"  # hex Ed25519 public key
# coordinator only (inside the encrypted store)
VRP_IDENTITY = "sync.vrp_identity"  # "AGE-SECRET-KEY-1..."
VRP_SIGNING_PRIVATE = "sync.vrp_signing_private"  # hex Ed25519 private key
INBOX_FOLDER = "sync.inbox_folder"
RECEIPT_FOLDER = "sync.receipt_folder"
# provider only
PROVIDER_ID = "sync.provider_id"  # the id the VRP's registry gave this provider
PROVIDER_CODE = "sync.provider_code"
OUTBOX_FOLDER = "sync.outbox_folder"
LAST_BATCH_ID = "sync.last_batch_id"
#: where "Send now" uploads (a provider's setting; from the onboarding pack or set by hand)
INTAKE_URL = "sync.intake_url"
#: the address of the VRP's intake, put into every onboarding pack (coordinator's setting)
INTAKE_PUBLIC_URL = "sync.intake_public_url"

BATCH_SUFFIX = ".vrpbatch"
RECEIPT_SUFFIX = ".vrpreceipt"
PACK_SUFFIX = ".vrponboard"
KEY_SUFFIX = ".vrpkey"
FRAMEWORKS_SUFFIX = ".vrpframeworks"

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class SyncError(VrpError):
    """A batch, receipt, pack or key file is wrong, or sync is not set up; nothing changed."""


class NothingToSend(SyncError):
    """A batch was asked for but no record waits to go (not a failure for "Send now")."""


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB blocks (batch files can be large)."""
    sha = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


def no_progress(_label: str, _done: int, _total: int) -> None:
    return None


def canonical(value: Any) -> bytes:
    """The one byte form that is hashed, signed and MACed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def utc_now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def fingerprint(public_key: bytes) -> str:
    """What two people read to each other to check a key: 96 bits in six groups."""
    digest = hashlib.sha256(public_key).hexdigest()[:24].upper()
    return " ".join(digest[i : i + 4] for i in range(0, 24, 4))


def normalise_fingerprint(text: str) -> str:
    squashed = "".join(ch for ch in text.upper() if ch in "0123456789ABCDEF")
    return " ".join(squashed[i : i + 4] for i in range(0, len(squashed), 4))


# -- Ed25519 ------------------------------------------------------------------------------------


def new_signing_key() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as (private raw 32 bytes, public raw 32 bytes)."""
    key = Ed25519PrivateKey.generate()
    return key.private_bytes_raw(), key.public_key().public_bytes_raw()


def sign(private_raw: bytes, message: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(private_raw).sign(message)


def verify(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (ValueError, TypeError):
        raise SyncError(f"The {what} in this file is not readable; ask for a new file.") from None


def mac(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def mac_ok(secret: bytes, message: bytes, expected: str) -> bool:
    return hmac.compare_digest(mac(secret, message), str(expected))


# -- one-time codes -----------------------------------------------------------------------------


def new_one_time_code() -> str:
    """20 Crockford base32 characters (100 bits) in groups of five, easy to read by phone."""
    raw = "".join(secrets.choice(_CROCKFORD) for _ in range(20))
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


def normalise_code(text: str) -> str:
    """Forgive case, spaces, dashes and the letters people confuse with digits."""
    table = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
    raw = "".join(ch for ch in text.upper() if ch.isalnum()).translate(table)
    return "-".join(raw[i : i + 5] for i in range(0, len(raw), 5))


# -- settings helpers ---------------------------------------------------------------------------


def settings(ws, *keys: str) -> dict[str, str | None]:
    """Several settings at once, read before a unit of work opens.

    Reading inside a unit is safe too (the store gives every session its own connection);
    reading first keeps each unit short and its inputs in one place.
    """
    return {key: ws.setting(key) for key in keys}


def json_setting(ws, key: str, default: Any = None) -> Any:
    value = ws.setting(key)
    return default if value is None else json.loads(value)


def require_kind(ws, kind: str) -> None:
    if ws.kind != kind:
        if kind == "coordinator":
            raise SyncError(
                "This is a provider workspace; this step runs in the VRP coordinator's "
                "workspace (created with 'vrp init --coordinator')."
            )
        raise SyncError(
            "This is a VRP coordinator workspace; this step runs in a provider's workspace."
        )


def joined(ws) -> bool:
    return ws.setting(PROVIDER_ID) is not None


def require_joined(ws) -> None:
    require_kind(ws, "provider")
    if not joined(ws):
        raise SyncError(
            "This workspace has not joined a VRP yet. Ask your VRP coordinator for an onboarding "
            "pack and its one-time code, then use 'vrp join' (or Join a VRP on the Sync page)."
        )
