"""The VRP coordinator's workspace: the partnership's keys, its provider registry and the
framework versions it publishes.

The VRP's age identity (which opens batches) and its Ed25519 signing key (which signs
receipts, onboarding packs and framework packs) live in the encrypted store's settings (sealed
under the key slots' master key when the store is a PostgreSQL server: ``store/sealed.py``);
only the age recipient and the signing public key ever leave it (``identity export`` aside).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path
from typing import Any

import pyrage
from sqlalchemy import select

from vrp_desktop.atomic import atomic_write_bytes
from vrp_desktop.frameworks import load_framework_file, quasi_rule
from vrp_desktop.ids import uuid7
from vrp_desktop.services import audit
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.store.models import Batch, Framework, Provider, Setting, utcnow
from vrp_desktop.sync import common, quasi
from vrp_desktop.sync.common import SyncError


def require_coordinator(ws) -> None:
    common.require_kind(ws, "coordinator")
    ws.require("coordinate")


def is_set_up(ws) -> bool:
    return ws.setting(common.VRP_IDENTITY) is not None


def setup(ws, *, partnership_name: str | None = None) -> dict[str, Any]:
    """Give a coordinator workspace the VRP's keys; repeat calls return what is there.

    The VRP holds no linkage key: the partnership's custodian issues it to providers (see
    ``linkage``), so nothing here can turn a name and birth date into a pseudonym.
    """
    require_coordinator(ws)
    if is_set_up(ws):
        if partnership_name and partnership_name.strip() != ws.setting(common.PARTNERSHIP):
            with ws.unit() as session:
                ws.set_setting(session, common.PARTNERSHIP, partnership_name.strip())
                audit.append(session, ws.user.username, "vrp.rename", "workspace", None)
        return summary(ws)
    name = (partnership_name or "").strip() or ws.own_provider().name
    identity = pyrage.x25519.Identity.generate()
    signing_private, signing_public = common.new_signing_key()
    with ws.unit() as session:
        values = {
            common.VRP_ID: uuid7(),
            common.PARTNERSHIP: name,
            common.VRP_IDENTITY: str(identity),
            common.VRP_RECIPIENTS: json.dumps([str(identity.to_public())]),
            common.VRP_SIGNING_PRIVATE: signing_private.hex(),
            common.VRP_SIGNING_PUBLIC: signing_public.hex(),
        }
        for key, value in values.items():
            ws.set_setting(session, key, value)
        audit.append(
            session,
            ws.user.username,
            "vrp.setup",
            "workspace",
            None,
            after={"partnership": name, "recipient": values[common.VRP_RECIPIENTS]},
        )
    return summary(ws)


def ensure_setup(ws) -> None:
    require_coordinator(ws)
    if not is_set_up(ws):
        setup(ws)


def summary(ws) -> dict[str, Any]:
    signing_public = bytes.fromhex(ws.setting(common.VRP_SIGNING_PUBLIC) or "")
    return {
        "vrp_id": ws.setting(common.VRP_ID),
        "partnership": ws.setting(common.PARTNERSHIP),
        "recipients": common.json_setting(ws, common.VRP_RECIPIENTS, []),
        "signing_fingerprint": common.fingerprint(signing_public),
    }


def recipient(ws) -> str:
    ensure_setup(ws)
    return common.json_setting(ws, common.VRP_RECIPIENTS)[0]


def identity(ws) -> pyrage.x25519.Identity:
    ensure_setup(ws)
    return pyrage.x25519.Identity.from_str(ws.setting(common.VRP_IDENTITY))


def signing_private(ws) -> bytes:
    ensure_setup(ws)
    return bytes.fromhex(ws.setting(common.VRP_SIGNING_PRIVATE))


def material(ws) -> dict[str, Any]:
    """The VRP's settings a pack or receipt needs, read before any unit of work opens."""
    ensure_setup(ws)
    values = common.settings(
        ws,
        common.VRP_ID,
        common.PARTNERSHIP,
        common.VRP_RECIPIENTS,
        common.VRP_SIGNING_PUBLIC,
    )
    values["signing_private"] = signing_private(ws)
    values["identity"] = identity(ws)
    return values


def export_identity(ws, path: Path) -> Path:
    """Write the VRP's age identity for the standard ``age`` tool; a secret, so audited."""
    require_coordinator(ws)
    ensure_setup(ws)
    text = (
        f"# VRP {ws.setting(common.PARTNERSHIP)}: age identity (SECRET - opens every batch)\n"
        f"# public key: {recipient(ws)}\n{ws.setting(common.VRP_IDENTITY)}\n"
    )
    atomic_write_bytes(Path(path), text.encode(), mode=0o600)
    with ws.unit() as session:
        audit.append(session, ws.user.username, "vrp.identity_export", "workspace", None)
    return Path(path)


# -- the provider registry --------------------------------------------------------------------


def _provider_dict(session, p: Provider) -> dict[str, Any]:
    batches = session.scalars(
        select(Batch).where(Batch.provider_id == p.id, Batch.direction == "in")
    ).all()
    return {
        "id": p.id,
        "code": p.code,
        "name": p.name,
        "pinned": p.signing_public_key is not None,
        "pinned_at": p.pinned_at,
        "fingerprint": common.fingerprint(p.signing_public_key) if p.signing_public_key else None,
        "awaiting_key": p.pairing_secret is not None,
        "batches": len(batches),
        "last_batch_at": max((b.created_at for b in batches), default=None),
    }


def list_providers(ws) -> list[dict[str, Any]]:
    require_coordinator(ws)
    with ws.read() as session:
        rows = session.scalars(
            select(Provider).where(Provider.is_self.is_(False)).order_by(Provider.code)
        ).all()
        return [_provider_dict(session, p) for p in rows]


def get_provider(session, provider_id: str) -> Provider | None:
    p = session.get(Provider, provider_id)
    return None if p is None or p.is_self else p


def add_provider(ws, *, code: str, name: str, out: Path, reissue: bool = False) -> dict[str, Any]:
    """Register a provider (or re-issue its pack) and write its onboarding pack to ``out``.

    Returns the provider and the one-time code, which is shown once and read out by phone.
    """
    from vrp_desktop.sync import onboarding

    require_coordinator(ws)
    ensure_setup(ws)
    code = (code or "").strip().upper()
    name = (name or "").strip()
    if not code or not code.replace("-", "").replace("_", "").isalnum() or len(code) > 32:
        raise SyncError("Give the provider a short code of letters and digits, e.g. P014.")
    pairing = secrets.token_bytes(32)
    keys = material(ws)
    with ws.unit() as session:
        existing = session.scalar(select(Provider).where(Provider.code == code))
        if existing is not None and (existing.is_self or not reissue):
            raise SyncError(
                f"There is already a provider with code {code}. Use another code, or re-issue "
                "their pack (--reissue) if they lost it."
            )
        if existing is None:
            if not name:
                raise SyncError("Give the provider's organisation name.")
            provider = Provider(code=code, name=name, is_self=False)
            session.add(provider)
        else:
            provider = existing
            if name:
                provider.name = name
            provider.signing_public_key = None
            provider.pinned_at = None
        session.flush()  # the provider's id, which a sealed pairing secret is bound to
        provider.pairing_secret = ws.seal_secret(f"pairing:{provider.id}", pairing)
        one_time_code = common.new_one_time_code()
        pack = onboarding.seal_pack(keys, session, provider, pairing, one_time_code)
        atomic_write_bytes(Path(out), pack)
        audit.append(
            session,
            ws.user.username,
            "provider.reissue" if existing is not None else "provider.add",
            "provider",
            provider.id,
            after={"code": code, "name": provider.name},
        )
        result = _provider_dict(session, provider)
    return {**result, "one_time_code": one_time_code, "pack": str(out)}


def pin_provider(ws, key_file: Path, *, expect_fingerprint: str | None = None) -> dict[str, Any]:
    """Pin the signing key a provider sent back after joining.

    The key file is authenticated with the secret from that provider's onboarding pack; the
    fingerprint, read out by phone, is a second check a person makes.
    """
    from vrp_desktop.sync import onboarding

    require_coordinator(ws)
    ensure_setup(ws)
    body = onboarding.read_key_file(Path(key_file))
    if body.get("vrp_id") != ws.setting(common.VRP_ID):
        raise SyncError("This provider key file is for another VRP. Nothing was pinned.")
    public = common.unb64(body.get("public_key"), "signing key")
    if len(public) != 32:
        raise SyncError("This provider key file holds no usable signing key. Nothing was pinned.")
    printed = common.fingerprint(public)
    if expect_fingerprint is not None and (
        common.normalise_fingerprint(expect_fingerprint) != printed
    ):
        raise SyncError(
            "The fingerprint you were given does not match this key file's. Do not pin it: ask "
            "the provider to read theirs again, or re-issue their pack. Nothing was pinned."
        )
    with ws.unit() as session:
        provider = get_provider(session, str(body.get("provider_id")))
        if provider is None:
            raise SyncError(
                "This provider key file names a provider that is not in the registry. Add the "
                "provider first (vrp provider add). Nothing was pinned."
            )
        if provider.signing_public_key is not None:
            if provider.signing_public_key == public:
                return _provider_dict(session, provider)
            raise SyncError(
                f"{provider.code} already has a different signing key pinned. If they set up "
                "again, re-issue their pack first (vrp provider add --reissue)."
            )
        if provider.pairing_secret is None or not common.mac_ok(
            ws.open_secret(f"pairing:{provider.id}", provider.pairing_secret),
            onboarding.key_file_message(body),
            body.get("mac", ""),
        ):
            raise SyncError(
                f"This key file was not made with {provider.code}'s current onboarding pack. "
                "Ask them to join with the latest pack. Nothing was pinned."
            )
        provider.signing_public_key = public
        provider.pinned_at = utcnow()
        provider.pairing_secret = None
        audit.append(
            session,
            ws.user.username,
            "provider.pin",
            "provider",
            provider.id,
            after={"code": provider.code, "fingerprint": printed},
        )
        return _provider_dict(session, provider)


# -- frameworks ---------------------------------------------------------------------------------


def framework_texts(session) -> list[str]:
    return [
        row.definition
        for row in session.scalars(select(Framework).order_by(Framework.id, Framework.version))
    ]


def published_rule(session) -> dict[str, Any]:
    """The partnership's quasi-identifier rule as packs carry it: the one this coordinator
    set (``vrp frameworks publish --quasi-rule``), else the one shipped in ``resources/``."""
    row = session.get(Setting, quasi.RULE)
    rule = quasi_rule.from_json(row.value if row is not None else None) or quasi_rule.load()
    return rule.model_dump(mode="json")


def publish_frameworks(
    ws, files: list[Path], out: Path, *, rule_file: Path | None = None
) -> dict[str, Any]:
    """Add framework versions (JSON definitions) and write a signed pack of all of them, with
    the partnership's quasi-identifier rule (replaced by ``rule_file`` when given)."""
    require_coordinator(ws)
    ensure_setup(ws)
    definitions = [load_framework_file(Path(f)) for f in files]
    new_rule = quasi_rule.load(Path(rule_file)) if rule_file is not None else None
    keys = material(ws)
    with ws.unit() as session:
        added = [f"{d.id} v{d.version}" for d in definitions if fw_service.install(session, d)]
        if new_rule is not None:
            ws.set_setting(session, quasi.RULE, quasi_rule.to_json(new_rule))
        body = {
            "format": "vrp-frameworks/1",
            "vrp_id": keys[common.VRP_ID],
            "issued_at": common.utc_now_iso(),
            "frameworks": framework_texts(session),
            "quasi_rule": published_rule(session),
        }
        signature = common.sign(keys["signing_private"], common.canonical(body))
        atomic_write_bytes(
            Path(out),
            json.dumps({**body, "signature": common.b64(signature)}, indent=1).encode(),
        )
        audit.append(
            session,
            ws.user.username,
            "frameworks.publish",
            "framework",
            None,
            after={
                "added": added,
                "published": len(body["frameworks"]),
                "quasi_rule_min_k": body["quasi_rule"]["min_k"],
            },
        )
    rule = quasi_rule.parse(body["quasi_rule"], Path(out).name)
    return {
        "added": added,
        "published": len(body["frameworks"]),
        "file": str(out),
        "rule": rule.summary(),
    }


def default_pack_name(code: str) -> str:
    return f"onboarding-{code}-{dt.date.today():%Y%m%d}{common.PACK_SUFFIX}"
