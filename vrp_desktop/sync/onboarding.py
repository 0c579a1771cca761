"""Onboarding: the VRP hands a provider a pack only they can open, and gets their key back.

The pack (VRP recipient, VRP signing key, frameworks, provider id and a pairing secret) is
age-encrypted under a one-time code the coordinator reads out by phone (age's scrypt
passphrase mode). ``join`` imports it, makes the provider's Ed25519 signing key and writes a
provider key file, MACed with the pairing secret, for the VRP to pin. Both sides show
fingerprints so two people can compare them.

The pack carries no linkage key: the VRP never holds one (the custodian issues it, see
``linkage``). A version-1 pack from an older coordinator did; its key is ignored. Readers
ignore fields they do not know, so a later version can add some (an intake address, say)
without breaking older providers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyrage
from sqlalchemy import select

from vrp_desktop.atomic import atomic_write_bytes
from vrp_desktop.errors import FrameworkError
from vrp_desktop.frameworks import quasi_rule
from vrp_desktop.frameworks.models import Framework as FrameworkDefinition
from vrp_desktop.services import audit
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.store.models import Provider, Setting
from vrp_desktop.sync import common, quasi
from vrp_desktop.sync.common import SyncError

PACK_FORMAT = "vrp-onboarding/2"
#: formats ``join`` reads (version 1 carried a VRP-made linkage key, now ignored)
PACK_FORMATS = ("vrp-onboarding/1", PACK_FORMAT)
KEY_FORMAT = "vrp-provider-key/1"
_MAX_FILE = 64 * 1024 * 1024


def seal_pack(
    keys: dict[str, Any], session, provider: Provider, pairing: bytes, one_time_code: str
) -> bytes:
    """The encrypted pack for ``provider`` (coordinator side; called by ``add_provider`` with
    ``coordinator.material(ws)``)."""
    from vrp_desktop.sync import coordinator

    body = {
        "format": PACK_FORMAT,
        "vrp_id": keys[common.VRP_ID],
        "partnership": keys[common.PARTNERSHIP],
        "vrp_recipients": json.loads(keys[common.VRP_RECIPIENTS]),
        "vrp_signing_public": keys[common.VRP_SIGNING_PUBLIC],
        "provider": {"id": provider.id, "code": provider.code, "name": provider.name},
        "pairing_secret": pairing.hex(),
        "frameworks": coordinator.framework_texts(session),
        "quasi_rule": coordinator.published_rule(session),
        "issued_at": common.utc_now_iso(),
    }
    intake = session.get(Setting, common.INTAKE_PUBLIC_URL)
    if intake is not None and intake.value:
        body["intake_url"] = intake.value  # signed with the rest: "Send now" goes only there
    signature = common.sign(keys["signing_private"], common.canonical(body))
    plain = common.canonical({**body, "signature": common.b64(signature)})
    return pyrage.passphrase.encrypt(plain, common.normalise_code(one_time_code))


def _read(path: Path, what: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > _MAX_FILE:
            raise SyncError(f"{path.name} is far too large to be a {what}.")
        return path.read_bytes()
    except FileNotFoundError:
        raise SyncError(f"There is no file {path}. Check the name and folder.") from None
    except OSError as exc:
        raise SyncError(f"Cannot read {path.name}: {exc.strerror}.") from None


def open_pack(path: Path, one_time_code: str) -> dict[str, Any]:
    """Decrypt and check a pack; a wrong code or a damaged file says so and changes nothing."""
    data = _read(Path(path), "onboarding pack")
    code = common.normalise_code(one_time_code)
    if len(code.replace("-", "")) != 20:
        raise SyncError(
            "A one-time code has 20 letters and digits (e.g. 7K2QM-...). Check what the VRP "
            "read out; nothing was changed."
        )
    try:
        plain = pyrage.passphrase.decrypt(data, code)
    except pyrage.DecryptError as exc:
        if "Excessive work" in str(exc):
            # age measures this computer before it derives the key, and refuses a work factor
            # far above what it can do now: a busy machine, not a bad pack or a wrong code
            raise SyncError(
                "This computer is too busy just now to open the onboarding pack (its one-time "
                "code protection needs a burst of work the computer cannot give at the moment). "
                "Close other programs or wait a few minutes, then try again; nothing was changed."
            ) from None
        if "Decryption failed" in str(exc):
            raise SyncError(
                "That one-time code does not open this onboarding pack. Check it with your VRP "
                "coordinator (codes are single-use: a re-issued pack has a new one). Nothing "
                "was changed."
            ) from None
        raise SyncError(
            f"{Path(path).name} is not a VRP onboarding pack, or it is damaged. Ask your VRP "
            "coordinator for a new one; nothing was changed."
        ) from None
    return parse_pack(plain, Path(path).name)


_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")


def _is_hex(value: Any, size: int | None = None) -> bool:
    try:
        raw = bytes.fromhex(value)
    except (TypeError, ValueError):
        return False
    return size is None or len(raw) == size


def _pack_sound(pack: Any) -> bool:
    """Every field ``join`` uses has the type and shape it uses it as."""
    if not isinstance(pack, dict) or pack.get("format") not in PACK_FORMATS:
        return False
    provider = pack.get("provider")
    if not isinstance(provider, dict) or not isinstance(provider.get("id"), str):
        return False
    if not provider["id"] or not isinstance(provider.get("name"), str):
        return False
    if not isinstance(provider.get("code"), str) or not _CODE.fullmatch(provider["code"]):
        return False
    for key in ("vrp_id", "partnership"):
        if not isinstance(pack.get(key), str) or not pack[key]:
            return False
    recipients, frameworks = pack.get("vrp_recipients"), pack.get("frameworks")
    if not isinstance(recipients, list) or not recipients:
        return False
    for text in recipients:
        try:
            pyrage.x25519.Recipient.from_str(text)
        except (pyrage.RecipientError, TypeError, ValueError):
            return False
    if not isinstance(frameworks, list) or not all(isinstance(t, str) for t in frameworks):
        return False
    if "intake_url" in pack and not _intake_sound(pack["intake_url"]):
        return False
    return _is_hex(pack.get("vrp_signing_public"), 32) and _is_hex(pack.get("pairing_secret"))


def _intake_sound(url: Any) -> bool:
    from vrp_desktop.intake.client import check_url

    try:
        return isinstance(url, str) and bool(check_url(url))
    except SyncError:
        return False


def parse_pack(plain: bytes, name: str) -> dict[str, Any]:
    """A decrypted pack's content, checked (self-signed, every field of its type)."""
    bad = SyncError(
        f"{name} opened but its content is not a sound onboarding pack. Ask your VRP "
        "coordinator for a new one; nothing was changed."
    )
    try:
        pack = json.loads(plain)
    except (ValueError, RecursionError):
        raise bad from None
    if not isinstance(pack, dict) or not isinstance(pack.get("signature"), str):
        raise bad
    signature = common.unb64(pack.pop("signature"), "signature")
    if not _pack_sound(pack):
        raise bad
    public = bytes.fromhex(pack["vrp_signing_public"])
    if not common.verify(public, signature, common.canonical(pack)):
        raise bad
    pack.pop("linkage_key", None)  # a version-1 pack's VRP-made key is never used
    if "quasi_rule" in pack:
        pack["quasi_rule"] = _rule(pack["quasi_rule"], name)
    return pack


def _rule(data: Any, name: str) -> quasi_rule.QuasiRule:
    """The partnership's quasi-identifier rule a signed pack carries, checked."""
    try:
        return quasi_rule.parse(data, name)
    except FrameworkError as exc:
        raise SyncError(
            f"{exc} The pack is signed by your VRP but its rule is not one this version of "
            "VRP Desktop can apply. Ask the VRP to check it (or update VRP Desktop); nothing "
            "was changed."
        ) from None


def key_file_message(body: dict[str, Any]) -> bytes:
    fields = ("format", "vrp_id", "provider_id", "provider_code", "public_key")
    return common.canonical({k: body.get(k) for k in fields})


def read_key_file(path: Path) -> dict[str, Any]:
    data = _read(Path(path), "provider key file")
    try:
        body = json.loads(data)
        if not isinstance(body, dict) or body.get("format") != KEY_FORMAT:
            raise ValueError
        for key in ("vrp_id", "provider_id", "provider_code", "public_key", "mac"):
            if not isinstance(body.get(key), str):
                raise ValueError
        if not isinstance(body.get("fingerprint", ""), str):
            raise ValueError
    except (ValueError, RecursionError):
        raise SyncError(
            f"{Path(path).name} is not a provider key file (made by 'vrp join'). Nothing was "
            "pinned."
        ) from None
    return body


def join(ws, pack_path: Path, one_time_code: str, *, key_out: Path | None = None) -> dict[str, Any]:
    """Join the VRP whose pack this is; returns fingerprints and the provider key file path."""
    common.require_kind(ws, "provider")
    ws.require("send_batch")
    pack = open_pack(Path(pack_path), one_time_code)
    current = ws.setting(common.VRP_ID)
    if current is not None and current != pack["vrp_id"]:
        raise SyncError(
            f"This workspace already belongs to {ws.setting(common.PARTNERSHIP)}; a workspace "
            "sends to one VRP. Nothing was changed."
        )
    if current is not None and ws.setting(common.PROVIDER_ID) != pack["provider"]["id"]:
        raise SyncError(
            "This pack is for a different provider of the same VRP. Ask your coordinator for "
            "your own pack; nothing was changed."
        )
    provider_info = pack["provider"]
    key_out = (
        Path(key_out)
        if key_out
        else Path(pack_path).with_name(f"provider-key-{provider_info['code']}{common.KEY_SUFFIX}")
    )
    with ws.unit() as session:
        for text in pack["frameworks"]:
            try:
                fw_service.install(session, FrameworkDefinition.model_validate_json(text))
            except FrameworkError:
                raise
            except ValueError:
                raise SyncError(
                    "A framework in this pack is not readable by this version of VRP Desktop. "
                    "Update VRP Desktop, then join again; nothing was changed."
                ) from None
        own = session.scalar(select(Provider).where(Provider.is_self.is_(True)))
        if own.signing_private_key is None:
            private, public = common.new_signing_key()
            own.signing_private_key, own.signing_public_key = private, public
        values = {
            common.VRP_ID: pack["vrp_id"],
            common.PARTNERSHIP: pack["partnership"],
            common.VRP_RECIPIENTS: json.dumps(pack["vrp_recipients"]),
            common.VRP_SIGNING_PUBLIC: pack["vrp_signing_public"],
            common.PROVIDER_ID: provider_info["id"],
            common.PROVIDER_CODE: provider_info["code"],
        }
        if pack.get("intake_url"):
            values[common.INTAKE_URL] = pack["intake_url"]
        if pack.get("quasi_rule") is not None:
            values[quasi.RULE] = quasi_rule.to_json(pack["quasi_rule"])
        for key, value in values.items():
            ws.set_setting(session, key, value)
        body = {
            "format": KEY_FORMAT,
            "vrp_id": pack["vrp_id"],
            "provider_id": provider_info["id"],
            "provider_code": provider_info["code"],
            "public_key": common.b64(own.signing_public_key),
        }
        body["mac"] = common.mac(bytes.fromhex(pack["pairing_secret"]), key_file_message(body))
        body["fingerprint"] = common.fingerprint(own.signing_public_key)
        atomic_write_bytes(key_out, json.dumps(body, indent=1).encode(), mode=0o644)
        audit.append(
            session,
            ws.user.username,
            "vrp.join",
            "workspace",
            None,
            after={
                "vrp_id": pack["vrp_id"],
                "provider_code": provider_info["code"],
            },
        )
        own_public = own.signing_public_key
    ws._settings_cache.clear()
    return {
        "partnership": pack["partnership"],
        "provider_code": provider_info["code"],
        "provider_name": provider_info["name"],
        "provider_fingerprint": common.fingerprint(own_public),
        "vrp_fingerprint": common.fingerprint(bytes.fromhex(pack["vrp_signing_public"])),
        "key_file": str(key_out),
        "frameworks": len(pack["frameworks"]),
    }


def status(ws) -> dict[str, Any]:
    """What the Sync page shows about the VRP this workspace sends to."""
    if not common.joined(ws):
        return {"joined": False}
    own = ws.own_provider()
    return {
        "joined": True,
        "partnership": ws.setting(common.PARTNERSHIP),
        "provider_code": ws.setting(common.PROVIDER_CODE),
        "provider_fingerprint": common.fingerprint(own.signing_public_key),
        "vrp_fingerprint": common.fingerprint(bytes.fromhex(ws.setting(common.VRP_SIGNING_PUBLIC))),
    }


def import_frameworks(ws, path: Path) -> dict[str, Any]:
    """Install framework versions from a pack the VRP signed (``vrp frameworks publish``)."""
    common.require_joined(ws)
    ws.require("send_batch")
    data = _read(Path(path), "framework pack")
    try:
        body = json.loads(data)
        signature = common.unb64(body.pop("signature"), "signature")
        texts = body["frameworks"]
        ok = body.get("format") == "vrp-frameworks/1"
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise SyncError(f"{Path(path).name} is not a framework pack from your VRP.") from None
    public = bytes.fromhex(ws.setting(common.VRP_SIGNING_PUBLIC))
    if not ok or not common.verify(public, signature, common.canonical(body)):
        raise SyncError(
            f"{Path(path).name} is not signed by your VRP ({ws.setting(common.PARTNERSHIP)}), or "
            "it was changed on the way. Nothing was installed."
        )
    if body.get("vrp_id") != ws.setting(common.VRP_ID):
        raise SyncError(f"{Path(path).name} is for another VRP. Nothing was installed.")
    rule = _rule(body["quasi_rule"], Path(path).name) if "quasi_rule" in body else None
    rule_changed = rule is not None and rule != quasi.rule_of(ws)
    with ws.unit() as session:
        added = []
        for text in texts:
            try:
                definition = FrameworkDefinition.model_validate_json(text)
            except ValueError:  # pydantic's ValidationError
                raise SyncError(
                    f"A framework in {Path(path).name} is not readable by this version of VRP "
                    "Desktop. Update VRP Desktop, then import the pack again; nothing was "
                    "installed."
                ) from None
            if fw_service.install(session, definition):
                added.append(f"{definition.id} v{definition.version}")
        if rule is not None:  # a pack from an older coordinator carries none: keep ours
            ws.set_setting(session, quasi.RULE, quasi_rule.to_json(rule))
        audit.append(
            session,
            ws.user.username,
            "frameworks.import",
            "framework",
            None,
            after={"added": added, "quasi_rule_min_k": rule.min_k if rule else None},
        )
    return {
        "added": added,
        "rule": rule.summary() if rule else None,
        #: the pack brought a rule other than the one this workspace had: the next batch
        #: applies it (and re-sends anyone whose area it changes)
        "rule_changed": rule_changed,
    }


__all__ = ["import_frameworks", "join", "open_pack", "read_key_file", "seal_pack", "status"]
