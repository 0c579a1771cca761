"""Interventions: a provider's programmes, each delivered under one framework version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from vrp_desktop.errors import VrpError
from vrp_desktop.services import audit
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.services.common import get_or_404, snapshot
from vrp_desktop.store.models import Intervention, Provider

_SNAPSHOT = ("name", "framework_id", "framework_version", "tier", "setting", "area", "active")


def to_dict(i: Intervention) -> dict[str, Any]:
    return {"id": i.id, **snapshot(i, _SNAPSHOT), "sync_state": i.sync_state, "version": i.version}


def create_intervention(
    ws,
    *,
    name: str,
    framework_id: str,
    setting: str,
    area: str | None = None,
    tier: str | None = None,
    framework_version: int | None = None,
) -> dict[str, Any]:
    ws.require("record")
    if not name or not name.strip():
        raise VrpError("Give the intervention a name, e.g. 'Friday football, Ladywood'.")
    with ws.unit() as session:
        framework = fw_service.get(session, framework_id, framework_version)
        settings = [entry.code for entry in framework.settings]
        if setting not in settings:
            raise VrpError(
                f"Setting {setting!r} is not one of {framework.name}'s settings: "
                f"{', '.join(settings)}."
            )
        tier = tier or framework.tier[0]
        if tier not in framework.tier:
            raise VrpError(
                f"Tier {tier!r} is not one of {framework.name}'s tiers: "
                f"{', '.join(framework.tier)}."
            )
        provider = session.scalar(select(Provider).where(Provider.is_self.is_(True)))
        intervention = Intervention(
            provider_id=provider.id,
            framework_id=framework.id,
            framework_version=framework.version,
            name=name.strip(),
            tier=tier,
            setting=setting,
            area=(area or "").strip() or None,
            version=1,
            sync_state="valid",
            findings=[],
        )
        session.add(intervention)
        session.flush()
        audit.append(
            session,
            ws.user.username,
            "intervention.create",
            "intervention",
            intervention.id,
            after=snapshot(intervention, _SNAPSHOT),
        )
        return to_dict(intervention)


def list_interventions(ws, *, active_only: bool = True) -> list[dict[str, Any]]:
    query = select(Intervention).order_by(Intervention.name)
    if active_only:
        query = query.where(Intervention.active.is_(True))
    with ws.read() as session:
        return [to_dict(i) for i in session.scalars(query)]


def get_intervention(ws, intervention_id: str) -> dict[str, Any]:
    with ws.read() as session:
        return to_dict(get_or_404(session, Intervention, intervention_id, "intervention"))


def framework_for(ws, intervention_id: str):
    """The framework definition an intervention records against."""
    with ws.read() as session:
        i = get_or_404(session, Intervention, intervention_id, "intervention")
        return fw_service.get(session, i.framework_id, i.framework_version)
