"""The linkage key, held by a custodian that is not the VRP.

A pseudonym is HMAC(linkage key, normalised names | birth date). Whoever holds the key and a
name can test whether that person is in the data, so the VRP (which holds every pseudonym)
must never hold the key. Three parties:

- the **custodian** (``vrp init --custodian``) makes the key and issues it to each provider in
  a *linkage pack*: a signed JSON envelope whose secret part is age-encrypted to that provider's
  own age recipient, so the VRP can carry it but not open it;
- the **provider** has an age identity of its own (made on first use), sends a *linkage
  request* (its recipient and ids) to the custodian, and imports the pack after comparing the
  custodian's fingerprint by phone; importing re-computes its pseudonyms and queues a signed
  *rotation* (old pseudonym -> new) for its next batch, then forgets the old key;
- the **coordinator** never stores a key (``Workspace.set_setting`` refuses), re-keys the records
  it holds from each rotation it receives, so person counts continue.

Formats are versioned (``vrp-linkage/1``, ``vrp-linkage-request/1``); readers ignore fields they
do not know, so later versions can add to them.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pyrage
from sqlalchemy import select

from vrp_desktop.atomic import atomic_write_bytes
from vrp_desktop.ids import uuid7
from vrp_desktop.services import audit
from vrp_desktop.services.common import bump
from vrp_desktop.services.pseudonyms import pseudonym
from vrp_desktop.store.models import Participant
from vrp_desktop.sync import common
from vrp_desktop.sync.common import SyncError

PACK_FORMAT = "vrp-linkage/1"
REQUEST_FORMAT = "vrp-linkage-request/1"
PACK_SUFFIX = ".vrplinkage"
REQUEST_SUFFIX = ".vrplinkreq"
_MAX_FILE = 1 << 20

#: the key in force in a provider workspace (pseudonyms are made with it)
KEY = "linkage_key"
# provider settings
KEY_ID = "linkage.key_id"  # None: a key of this workspace's own (not linkable across providers)
GENERATION = "linkage.generation"
IDENTITY = "linkage.identity"  # AGE-SECRET-KEY-1... (inside the encrypted store)
RECIPIENT = "linkage.recipient"
CUSTODIAN_PUBLIC = "linkage.custodian_public"  # hex Ed25519, pinned at the first import
CUSTODIAN_NAME = "linkage.custodian_name"
RETIRED = "linkage.retired"  # JSON list of key ids this workspace has used and forgotten
PENDING = "linkage.rotation_pending"  # JSON {from_key_id, to_key_id, pairs: [[old, new]...]}
# custodian settings
C_ID = "custodian.id"
C_NAME = "custodian.name"
C_KEY = "custodian.key"
C_KEY_ID = "custodian.key_id"
C_GENERATION = "custodian.generation"
C_SIGNING_PRIVATE = "custodian.signing_private"
C_SIGNING_PUBLIC = "custodian.signing_public"
C_ISSUED = "custodian.issued"  # JSON list, one entry per provider


def recipient_fingerprint(recipient: str) -> str:
    """What a provider reads to the custodian so the pack is encrypted to the right key."""
    return common.fingerprint(recipient.encode("ascii"))


def _read_json(path: Path, what: str) -> dict[str, Any]:
    path = Path(path)
    try:
        if path.stat().st_size > _MAX_FILE:
            raise SyncError(f"{path.name} is far too large to be a {what}. Nothing was changed.")
        body = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise SyncError(f"There is no file {path}. Check the name and folder.") from None
    except OSError as exc:
        raise SyncError(f"Cannot read {path.name}: {exc.strerror}.") from None
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        raise SyncError(f"{path.name} is not a {what}. Nothing was changed.")
    return body


def _strings(body: dict[str, Any], *keys: str) -> bool:
    return all(isinstance(body.get(k), str) and body[k] for k in keys)


# -- provider ---------------------------------------------------------------------------------


def _identity(ws) -> pyrage.x25519.Identity:
    """The provider's own age identity, made (and audited) the first time it is needed."""
    common.require_kind(ws, "provider")
    text = ws.setting(IDENTITY)
    if text:
        return pyrage.x25519.Identity.from_str(text)
    identity = pyrage.x25519.Identity.generate()
    with ws.unit() as session:
        ws.set_setting(session, IDENTITY, str(identity))
        ws.set_setting(session, RECIPIENT, str(identity.to_public()))
        audit.append(
            session,
            ws.user.username,
            "linkage.identity",
            "workspace",
            None,
            after={"recipient": str(identity.to_public())},
        )
    return identity


def provider_recipient(ws) -> str:
    return str(_identity(ws).to_public())


def status(ws) -> dict[str, Any]:
    """What the Sync page and ``vrp linkage status`` show (never a key)."""
    if ws.kind == "custodian":
        return custodian_status(ws)
    if ws.kind == "coordinator":
        return {
            "kind": "coordinator",
            "holds_key": ws.setting(KEY) is not None,
            "explain": "The VRP never holds the linkage key; the custodian issues it to providers.",
        }
    recipient = ws.setting(RECIPIENT)
    key_id = ws.setting(KEY_ID)
    pending = common.json_setting(ws, PENDING, None) if ws.setting(PENDING) else None
    public = ws.setting(CUSTODIAN_PUBLIC)
    return {
        "kind": "provider",
        "joined": common.joined(ws),
        "recipient": recipient,
        "recipient_fingerprint": recipient_fingerprint(recipient) if recipient else None,
        "key_id": key_id,
        "generation": int(ws.setting(GENERATION) or 0),
        "from_custodian": key_id is not None,
        "custodian_name": ws.setting(CUSTODIAN_NAME),
        "custodian_fingerprint": common.fingerprint(bytes.fromhex(public)) if public else None,
        "rotation_pending": len(pending["pairs"]) if pending else 0,
    }


def write_request(ws, out: Path) -> dict[str, Any]:
    """Write the file the custodian needs to issue this provider a key (no secret in it)."""
    common.require_joined(ws)
    ws.require("send_batch")
    recipient = provider_recipient(ws)
    own = ws.own_provider()
    body = {
        "format": REQUEST_FORMAT,
        "vrp_id": ws.setting(common.VRP_ID),
        "partnership": ws.setting(common.PARTNERSHIP),
        "provider": {
            "id": ws.setting(common.PROVIDER_ID),
            "code": ws.setting(common.PROVIDER_CODE),
            "name": own.name,
        },
        "recipient": recipient,
        "key_id": ws.setting(KEY_ID),
        "made_at": common.utc_now_iso(),
    }
    atomic_write_bytes(Path(out), json.dumps(body, indent=1).encode(), mode=0o644)
    return {"file": str(out), "recipient_fingerprint": recipient_fingerprint(recipient)}


def read_pack(path: Path) -> dict[str, Any]:
    """A linkage pack's envelope, checked for shape and signature (its own key); no secret."""
    name = Path(path).name
    body = _read_json(Path(path), "linkage pack")
    bad = SyncError(
        f"{name} is not a linkage pack VRP Desktop can read, or it is damaged. Ask your "
        "linkage custodian for a new one; nothing was changed."
    )
    if body.get("format") != PACK_FORMAT or not isinstance(body.get("signature"), str):
        raise bad
    custodian, provider = body.get("custodian"), body.get("provider")
    if not isinstance(custodian, dict) or not isinstance(provider, dict):
        raise bad
    if not _strings(custodian, "id", "name", "signing_public") or not _strings(
        provider, "id", "code"
    ):
        raise bad
    if not _strings(body, "vrp_id", "recipient", "key_id", "sealed"):
        raise bad
    if type(body.get("generation")) is not int or body["generation"] < 1:
        raise bad
    try:
        public = bytes.fromhex(custodian["signing_public"])
    except ValueError:
        raise bad from None
    unsigned = {k: v for k, v in body.items() if k != "signature"}
    signature = common.unb64(body["signature"], "signature")
    if len(public) != 32 or not common.verify(public, signature, common.canonical(unsigned)):
        raise SyncError(
            f"{name} fails its signature check: it was changed on the way, or was not made by a "
            "linkage custodian. Nothing was changed; ask the custodian to issue it again."
        )
    return body


def _check_for_us(ws, pack: dict[str, Any], name: str) -> None:
    if pack["vrp_id"] != ws.setting(common.VRP_ID):
        raise SyncError(
            f"{name} is for a provider of another partnership, not "
            f"{ws.setting(common.PARTNERSHIP)}. Nothing was changed."
        )
    ours = ws.setting(common.PROVIDER_ID)
    if pack["provider"]["id"] != ours or pack["recipient"] != ws.setting(RECIPIENT):
        raise SyncError(
            f"{name} was issued to {pack['provider']['code']}, not to this workspace "
            f"({ws.setting(common.PROVIDER_CODE)}): it is encrypted to their key. Ask the "
            "custodian for your own pack (send them your linkage request). Nothing was changed."
        )


def _check_custodian(ws, pack: dict[str, Any], expect_fingerprint: str | None, name: str) -> None:
    public_hex = pack["custodian"]["signing_public"]
    shown = common.fingerprint(bytes.fromhex(public_hex))
    pinned = ws.setting(CUSTODIAN_PUBLIC)
    if pinned is not None:
        if pinned != public_hex:
            raise SyncError(
                f"{name} is signed by a custodian other than the one this workspace trusts "
                f"({ws.setting(CUSTODIAN_NAME)}). Nothing was changed; check with your custodian "
                "by phone before doing anything else."
            )
        return
    if expect_fingerprint is None:
        raise SyncError(
            f"Confirm the custodian's fingerprint first: ask {pack['custodian']['name']} to read "
            f"theirs by phone, and import only if it is {shown}. Nothing was changed."
        )
    if common.normalise_fingerprint(expect_fingerprint) != shown:
        raise SyncError(
            f"The fingerprint you were given does not match this pack's custodian ({shown}). Do "
            "not import it: call the custodian back. Nothing was changed."
        )


def _check_not_replayed(ws, pack: dict[str, Any], name: str) -> bool:
    """False when this very key is already in force (nothing to do)."""
    current_id = ws.setting(KEY_ID)
    generation = int(ws.setting(GENERATION) or 0)
    retired = common.json_setting(ws, RETIRED, [])
    if pack["key_id"] == current_id:
        return False
    if pack["key_id"] in retired or pack["generation"] <= generation:
        raise SyncError(
            f"{name} holds an older linkage key (generation {pack['generation']}) that this "
            f"workspace has already replaced (it uses generation {generation}). An old pack "
            "cannot bring a retired key back. Nothing was changed."
        )
    return True


def _open_secret(ws, pack: dict[str, Any], name: str) -> str:
    try:
        identity = pyrage.x25519.Identity.from_str(ws.setting(IDENTITY))
        plain = pyrage.decrypt(common.unb64(pack["sealed"], "linkage key"), [identity])
        secret = json.loads(plain)
        key = secret["linkage_key"]
        ok = secret.get("key_id") == pack["key_id"] and len(bytes.fromhex(key)) == 32
    except (pyrage.DecryptError, ValueError, KeyError, TypeError, RecursionError):
        ok, key = False, ""
    if not ok:
        raise SyncError(
            f"{name} cannot be opened with this workspace's key, or its sealed key is damaged. "
            "Ask the custodian to issue it again from your latest linkage request. Nothing was "
            "changed."
        )
    return key


def _compose(pending: dict[str, Any] | None, pairs: list[list[str]], from_id, to_id):
    """A rotation not yet sent followed by another: old -> newest, as one mapping."""
    if not pending:
        return {"from_key_id": from_id, "to_key_id": to_id, "pairs": pairs}
    step = dict(pairs)
    composed = [[old, step.get(mid, mid)] for old, mid in pending["pairs"] if mid in step]
    return {"from_key_id": pending["from_key_id"], "to_key_id": to_id, "pairs": composed}


def import_pack(ws, path: Path, *, custodian_fingerprint: str | None = None) -> dict[str, Any]:
    """Take a new linkage key from the custodian (provider side); see the module docstring."""
    common.require_joined(ws)
    ws.require("send_batch")
    name = Path(path).name
    pack = read_pack(Path(path))
    _check_for_us(ws, pack, name)
    _check_custodian(ws, pack, custodian_fingerprint, name)
    if not _check_not_replayed(ws, pack, name):
        return {**status(ws), "unchanged": True, "rekeyed": 0}
    new_key = _open_secret(ws, pack, name)
    old_id = ws.setting(KEY_ID)
    retired = common.json_setting(ws, RETIRED, [])
    pending = common.json_setting(ws, PENDING, None) if ws.setting(PENDING) else None
    with ws.unit() as session:
        pairs: list[list[str]] = []
        for p in session.scalars(select(Participant).where(Participant.erased_at.is_(None))):
            value = pseudonym(new_key, p.first_name, p.last_name, p.date_of_birth)
            if value == p.pseudonym:
                continue
            if p.pseudonym is not None and value is not None:
                pairs.append([p.pseudonym, value])
            p.pseudonym = value
            if p.sync_state in ("sent", "accepted", "rejected"):
                bump(p)
                p.sync_state = "valid" if not p.findings else "draft"
        rotation = _compose(pending, pairs, old_id, pack["key_id"])
        # the old key is overwritten in place (secure_delete is on): it is gone from here on
        ws.set_setting(session, KEY, new_key)
        ws.set_setting(session, KEY_ID, pack["key_id"])
        ws.set_setting(session, GENERATION, str(pack["generation"]))
        ws.set_setting(session, CUSTODIAN_PUBLIC, pack["custodian"]["signing_public"])
        ws.set_setting(session, CUSTODIAN_NAME, pack["custodian"]["name"])
        ws.set_setting(session, RETIRED, json.dumps([*retired, old_id or "own"]))
        ws.set_setting(session, PENDING, json.dumps(rotation))
        audit.append(
            session,
            ws.user.username,
            "linkage.import",
            "workspace",
            None,
            after={
                "key_id": pack["key_id"],
                "generation": pack["generation"],
                "custodian": pack["custodian"]["name"],
                "pseudonyms_changed": len(pairs),
            },
        )
    ws._settings_cache.clear()
    return {**status(ws), "unchanged": False, "rekeyed": len(pairs)}


def pending_rotation(ws) -> dict[str, Any] | None:
    """The rotation the next batch carries, if a new key arrived since the last batch."""
    return common.json_setting(ws, PENDING, None) if ws.setting(PENDING) else None


def batch_linkage(ws) -> dict[str, Any]:
    """What a batch manifest says about the key its pseudonyms were made with."""
    public = ws.setting(CUSTODIAN_PUBLIC)
    return {
        "key_id": ws.setting(KEY_ID),
        "generation": int(ws.setting(GENERATION) or 0),
        "custodian_fingerprint": common.fingerprint(bytes.fromhex(public)) if public else None,
    }


# -- custodian --------------------------------------------------------------------------------


def require_custodian(ws) -> None:
    if ws.kind != "custodian":
        raise SyncError(
            "This step runs in the linkage custodian's workspace (created with 'vrp init "
            "--custodian'), never in a provider's or the VRP's."
        )
    ws.require("manage_users")


def setup_custodian(ws, name: str | None = None) -> dict[str, Any]:
    """Give a custodian workspace its signing key and a first linkage key (idempotent)."""
    require_custodian(ws)
    if ws.setting(C_KEY) is None:
        private, public = common.new_signing_key()
        with ws.unit() as session:
            values = {
                C_ID: uuid7(),
                C_NAME: (name or "").strip() or ws.own_provider().name,
                C_KEY: secrets.token_hex(32),
                C_KEY_ID: uuid7(),
                C_GENERATION: "1",
                C_SIGNING_PRIVATE: private.hex(),
                C_SIGNING_PUBLIC: public.hex(),
                C_ISSUED: "[]",
            }
            for key, value in values.items():
                ws.set_setting(session, key, value)
            audit.append(
                session,
                ws.user.username,
                "custodian.setup",
                "workspace",
                None,
                after={"name": values[C_NAME], "generation": 1},
            )
    return custodian_status(ws)


def custodian_status(ws) -> dict[str, Any]:
    require_custodian(ws)
    issued = common.json_setting(ws, C_ISSUED, [])
    return {
        "kind": "custodian",
        "name": ws.setting(C_NAME),
        "fingerprint": common.fingerprint(bytes.fromhex(ws.setting(C_SIGNING_PUBLIC))),
        "key_id": ws.setting(C_KEY_ID),
        "generation": int(ws.setting(C_GENERATION)),
        "issued": issued,
        "to_reissue": [i["provider_code"] for i in issued if i["key_id"] != ws.setting(C_KEY_ID)],
    }


def read_request(path: Path) -> dict[str, Any]:
    body = _read_json(Path(path), "linkage request")
    provider = body.get("provider")
    ok = (
        body.get("format") == REQUEST_FORMAT
        and _strings(body, "vrp_id", "recipient")
        and isinstance(provider, dict)
        and _strings(provider, "id", "code")
    )
    if ok:
        try:
            pyrage.x25519.Recipient.from_str(body["recipient"])
        except (pyrage.RecipientError, ValueError):
            ok = False
    if not ok:
        raise SyncError(
            f"{Path(path).name} is not a linkage request (made by 'vrp linkage request' or the "
            "Sync page). Nothing was issued."
        )
    return body


def issue(ws, request_path: Path, out: Path, *, expect_fingerprint: str) -> dict[str, Any]:
    """Seal the current key to the provider that wrote ``request_path``; write the pack."""
    require_custodian(ws)
    setup_custodian(ws)
    request = read_request(Path(request_path))
    shown = recipient_fingerprint(request["recipient"])
    if common.normalise_fingerprint(expect_fingerprint or "") != shown:
        raise SyncError(
            f"The fingerprint the provider read out does not match this request ({shown}). Do "
            "not issue: call them back and compare again. Nothing was issued."
        )
    keys = common.settings(ws, C_ID, C_NAME, C_KEY, C_KEY_ID, C_GENERATION, C_SIGNING_PUBLIC)
    secret = common.canonical({"key_id": keys[C_KEY_ID], "linkage_key": keys[C_KEY]})
    sealed = pyrage.encrypt(secret, [pyrage.x25519.Recipient.from_str(request["recipient"])])
    provider = request["provider"]
    body = {
        "format": PACK_FORMAT,
        "custodian": {
            "id": keys[C_ID],
            "name": keys[C_NAME],
            "signing_public": keys[C_SIGNING_PUBLIC],
        },
        "vrp_id": request["vrp_id"],
        "partnership": request.get("partnership"),
        "provider": {"id": provider["id"], "code": provider["code"], "name": provider.get("name")},
        "recipient": request["recipient"],
        "key_id": keys[C_KEY_ID],
        "generation": int(keys[C_GENERATION]),
        "issued_at": common.utc_now_iso(),
        "sealed": common.b64(sealed),
    }
    signature = common.sign(bytes.fromhex(ws.setting(C_SIGNING_PRIVATE)), common.canonical(body))
    data = json.dumps({**body, "signature": common.b64(signature)}, indent=1).encode()
    entry = {
        "vrp_id": request["vrp_id"],
        "partnership": request.get("partnership"),
        "provider_id": provider["id"],
        "provider_code": provider["code"],
        "provider_name": provider.get("name"),
        "recipient_fingerprint": shown,
        "key_id": keys[C_KEY_ID],
        "generation": int(keys[C_GENERATION]),
        "issued_at": body["issued_at"],
    }
    issued = [
        i
        for i in common.json_setting(ws, C_ISSUED, [])
        if (i["vrp_id"], i["provider_id"]) != (entry["vrp_id"], entry["provider_id"])
    ]
    with ws.unit() as session:
        ws.set_setting(session, C_ISSUED, json.dumps([*issued, entry]))
        ws.after_commit(session, lambda: atomic_write_bytes(Path(out), data, mode=0o644))
        audit.append(
            session,
            ws.user.username,
            "custodian.issue",
            "provider",
            provider["id"],
            after={k: entry[k] for k in ("provider_code", "generation", "recipient_fingerprint")},
        )
    return {**entry, "file": str(out)}


def rotate(ws) -> dict[str, Any]:
    """Make a new linkage key and destroy the old one; every provider needs a new pack."""
    require_custodian(ws)
    setup_custodian(ws)
    generation = int(ws.setting(C_GENERATION)) + 1
    with ws.unit() as session:
        ws.set_setting(session, C_KEY, secrets.token_hex(32))  # overwritten: secure_delete
        ws.set_setting(session, C_KEY_ID, uuid7())
        ws.set_setting(session, C_GENERATION, str(generation))
        audit.append(
            session,
            ws.user.username,
            "custodian.rotate",
            "workspace",
            None,
            after={"generation": generation},
        )
    return custodian_status(ws)


def default_pack_name(code: str) -> str:
    return f"linkage-{code}{PACK_SUFFIX}"


def default_request_name(code: str) -> str:
    return f"linkage-request-{code}{REQUEST_SUFFIX}"


__all__ = [
    "batch_linkage",
    "custodian_status",
    "import_pack",
    "issue",
    "pending_rotation",
    "read_pack",
    "read_request",
    "rotate",
    "setup_custodian",
    "status",
    "write_request",
]
