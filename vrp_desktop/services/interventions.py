"""Interventions: a provider's programmes, each delivered under one framework version.

A provider sets them up (the set-up wizard, Settings, ``vrp intervention``): the name, tier,
setting and area travel to the VRP; the usual delivery, day, time, length, mode and place let
the session form fill itself in; the lead worker stays on the device. Every value that is a code
must be one of the framework's codes. Closing keeps the intervention and its history (it is
still listed when asked, and can be reopened); each action is one transaction and one audit
event, and a change makes a new version that travels in the next batch.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from vrp_desktop import codes
from vrp_desktop.errors import FrameworkError, NotFound, VrpError
from vrp_desktop.frameworks.models import Framework as FrameworkDefinition
from vrp_desktop.services import audit
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.services.common import bump, get_or_404, parse_date, snapshot, today
from vrp_desktop.store.models import Intervention, Provider

#: what a person can set (and later change) on an intervention
FIELDS = (
    "name",
    "tier",
    "setting",
    "area",
    "delivery",
    "usual_weekday",
    "usual_time",
    "usual_minutes",
    "usual_mode",
    "usual_location_type",
    "lead_staff",
)
_SNAPSHOT = ("framework_id", "framework_version", *FIELDS, "active", "closed_on")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TIER_LABELS = {"universal": "Universal", "targeted": "Targeted", "specialist": "Specialist"}

_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")
_MAX_LENGTH = {"name": 200, "area": 100, "lead_staff": 100}
_LABELS = {
    "name": "Name",
    "area": "Area",
    "lead_staff": "Lead worker",
}


def to_dict(i: Intervention) -> dict[str, Any]:
    values = snapshot(i, _SNAPSHOT)
    values["active"] = bool(i.active)
    values["closed_on"] = i.closed_on.isoformat() if i.closed_on else None
    return {"id": i.id, **values, "sync_state": i.sync_state, "version": i.version}


def _audit_values(i: Intervention) -> dict[str, Any]:
    values = snapshot(i, _SNAPSHOT)
    values["closed_on"] = i.closed_on.isoformat() if i.closed_on else None
    return values


# -- reading and checking what a person typed --------------------------------------------------


def parse_weekday(value: Any) -> int | None:
    """A day as 0-6 (Monday = 0) from an int or a day name ("fri", "Friday"); '' is no day."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int):
        if 0 <= value <= 6:
            return value
    else:
        text = str(value).strip().casefold()
        if text.isdigit() and 0 <= int(text) <= 6:
            return int(text)
        if len(text) >= 3:
            for index, label in enumerate(WEEKDAY_LABELS):
                if label.casefold().startswith(text):
                    return index
    raise VrpError(
        f"Usual day: {str(value)[:20]!r} is not a day of the week. Use mon, tue, wed, thu, fri, "
        "sat or sun. Nothing was saved."
    )


def parse_time(value: Any) -> str | None:
    """A local time of day as "HH:MM" (24-hour); '' is no time."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.time):
        return f"{value.hour:02d}:{value.minute:02d}"
    match = _TIME.match(str(value).strip())
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return f"{hour:02d}:{minute:02d}"
    raise VrpError(
        f"Usual time: {str(value)[:20]!r} is not a time of day. Use the 24-hour clock, "
        "e.g. 18:00 for 6 pm. Nothing was saved."
    )


def _minutes(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        minutes = int(str(value).strip())
    except ValueError:
        raise VrpError(
            f"Usual length: {str(value)[:20]!r} is not a number of minutes. Give whole minutes, "
            "e.g. 90. Nothing was saved."
        ) from None
    return minutes


def _clean(fields: Mapping[str, Any]) -> dict[str, Any]:
    if "framework_id" in fields or "framework_version" in fields:
        raise VrpError(
            "An intervention stays under the framework it was set up with. To run it under "
            "another framework, close it and add a new intervention."
        )
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise VrpError(
            f"Unknown intervention field(s): {', '.join(unknown)}. Use: {', '.join(FIELDS)}."
        )
    values: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, str):
            value = value.strip() or None
        if key == "usual_weekday":
            value = parse_weekday(value)
        elif key == "usual_time":
            value = parse_time(value)
        elif key == "usual_minutes":
            value = _minutes(value)
        elif key in ("tier", "setting", "delivery", "usual_mode", "usual_location_type"):
            value = value.casefold() if isinstance(value, str) else value
        values[key] = value
    return values


def _choices(pairs: Mapping[str, str]) -> str:
    return ", ".join(f"{code} ({label})" for code, label in pairs.items())


def labels(framework: FrameworkDefinition) -> dict[str, dict[str, str]]:
    """Code -> label for every list an intervention's fields are chosen from, in order."""
    return {
        "tier": {t: TIER_LABELS.get(t, t) for t in framework.tier},
        "setting": framework.code_map("settings"),
        "delivery": {t: codes.SESSION_TYPES.get(t, t) for t in framework.session_types},
        "usual_mode": {m: codes.MODES.get(m, m) for m in framework.modes},
        "usual_location_type": framework.code_map("location_types"),
    }


_WHAT = {
    "tier": "tiers",
    "setting": "settings",
    "delivery": "session types",
    "usual_mode": "ways of meeting (modes)",
    "usual_location_type": "location types",
}
_FIELD_WORDS = {
    "tier": "Tier",
    "setting": "Setting",
    "delivery": "Delivery",
    "usual_mode": "Usual mode",
    "usual_location_type": "Usual location",
}


def _problems(framework: FrameworkDefinition, values: Mapping[str, Any]) -> list[str]:
    """Every way ``values`` do not fit ``framework``, each a sentence saying what to do."""
    problems: list[str] = []
    name = values.get("name")
    if not name:
        problems.append("Give the intervention a name, e.g. 'Friday football, Ladywood'.")
    for key, limit in _MAX_LENGTH.items():
        text = values.get(key)
        if text is not None and len(str(text)) > limit:
            problems.append(f"{_LABELS[key]}: keep it to {limit} characters.")
    lists = labels(framework)
    for key, allowed in lists.items():
        value = values.get(key)
        if key == "setting" and value is None:
            problems.append(
                f"Choose the setting it runs in. {framework.name}'s settings: {_choices(allowed)}."
            )
        elif value is not None and value not in allowed:
            problems.append(
                f"{_FIELD_WORDS[key]} {str(value)[:40]!r} is not one of {framework.name}'s "
                f"{_WHAT[key]}. Choose one of: {_choices(allowed)}."
            )
    minutes = values.get("usual_minutes")
    span = framework.duration_minutes
    if minutes is not None and not span.min <= minutes <= span.max:
        problems.append(
            f"Usual length: {framework.name} sessions last {span.min} to {span.max} minutes; "
            "give a length in that range."
        )
    return problems


def _framework(session, framework_id: str, version: int | None) -> FrameworkDefinition:
    """The framework to set up under, or a message naming the ones this workspace has."""
    try:
        return fw_service.get(session, (framework_id or "").strip().casefold(), version)
    except FrameworkError as exc:
        installed = ", ".join(f"{fw.id} ({fw.name})" for fw in fw_service.latest(session))
        raise FrameworkError(f"{exc} Frameworks in this workspace: {installed}.") from None


def _check(framework: FrameworkDefinition, values: Mapping[str, Any]) -> None:
    problems = _problems(framework, values)
    if problems:
        raise VrpError(" ".join(problems) + " Nothing was saved.")


def _check_name_free(session, name: str, keep_id: str | None = None) -> None:
    query = select(Intervention.id).where(
        func.lower(Intervention.name) == name.casefold(), Intervention.active.is_(True)
    )
    if keep_id is not None:
        query = query.where(Intervention.id != keep_id)
    if session.scalar(query.limit(1)) is not None:
        raise VrpError(
            f"There is already an intervention called {name!r}. Choose another name, or edit "
            "that one. Nothing was saved."
        )


# -- actions ------------------------------------------------------------------------------------


def create_intervention(
    ws,
    *,
    name: str,
    framework_id: str,
    setting: str | None = None,
    framework_version: int | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Set up a new intervention under a framework; the tier defaults to the framework's first."""
    ws.require("record")
    values = _clean({"name": name, "setting": setting, **fields})
    with ws.unit() as session:
        framework = _framework(session, framework_id, framework_version)
        values["tier"] = values.get("tier") or framework.tier[0]
        _check(framework, values)
        _check_name_free(session, values["name"])
        provider = session.scalar(select(Provider).where(Provider.is_self.is_(True)))
        intervention = Intervention(
            provider_id=provider.id,
            framework_id=framework.id,
            framework_version=framework.version,
            active=True,
            version=1,
            sync_state="valid",
            findings=[],
            **values,
        )
        session.add(intervention)
        session.flush()
        audit.append(
            session,
            ws.user.username,
            "intervention.create",
            "intervention",
            intervention.id,
            after=_audit_values(intervention),
        )
        return to_dict(intervention)


def edit_intervention(ws, intervention_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change some fields; a real change is a new version that travels in the next batch."""
    ws.require("record")
    values = _clean(changes)
    if not values:
        raise VrpError("Say what to change, e.g. a new name or usual day. Nothing was changed.")
    with ws.unit() as session:
        intervention = get_or_404(session, Intervention, intervention_id, "intervention")
        current = {key: getattr(intervention, key) for key in FIELDS}
        merged = {**current, **values}
        if "tier" in values and values["tier"] is None:
            raise VrpError("Tier: choose one of the framework's tiers. Nothing was changed.")
        framework = fw_service.get(
            session, intervention.framework_id, intervention.framework_version
        )
        _check(framework, merged)
        changed = {key: value for key, value in values.items() if current[key] != value}
        if not changed:
            return to_dict(intervention)
        if "name" in changed and intervention.active:
            _check_name_free(session, merged["name"], keep_id=intervention.id)
        before = _audit_values(intervention)
        for key, value in changed.items():
            setattr(intervention, key, value)
        _travel(intervention)
        session.flush()
        audit.append(
            session,
            ws.user.username,
            "intervention.edit",
            "intervention",
            intervention.id,
            before=before,
            after=_audit_values(intervention),
        )
        return to_dict(intervention)


def close_intervention(
    ws, intervention_id: str, *, closed_on: Any = None, reason: str | None = None
) -> dict[str, Any]:
    """Stop running an intervention: it leaves the pickers, its records and history stay."""
    ws.require("record")
    day = parse_date(closed_on, "closed_on") or today()
    if day > today():
        raise VrpError(
            "Closed on: give today or an earlier date; close it on the day it ends. "
            "Nothing was changed."
        )
    with ws.unit() as session:
        intervention = get_or_404(session, Intervention, intervention_id, "intervention")
        if not intervention.active:
            raise VrpError(
                f"{intervention.name!r} is already closed (on {_day(intervention.closed_on)}). "
                "Reopen it first if it runs again. Nothing was changed."
            )
        before = _audit_values(intervention)
        intervention.active = False
        intervention.closed_on = day
        _travel(intervention)
        session.flush()
        audit.append(
            session,
            ws.user.username,
            "intervention.close",
            "intervention",
            intervention.id,
            before=before,
            after=_audit_values(intervention),
            reason=(reason or "").strip() or None,
        )
        return to_dict(intervention)


def reopen_intervention(ws, intervention_id: str) -> dict[str, Any]:
    """Run a closed intervention again (its name must not clash with an open one)."""
    ws.require("record")
    with ws.unit() as session:
        intervention = get_or_404(session, Intervention, intervention_id, "intervention")
        if intervention.active:
            raise VrpError(f"{intervention.name!r} is open already. Nothing was changed.")
        _check_name_free(session, intervention.name, keep_id=intervention.id)
        before = _audit_values(intervention)
        intervention.active = True
        intervention.closed_on = None
        _travel(intervention)
        session.flush()
        audit.append(
            session,
            ws.user.username,
            "intervention.reopen",
            "intervention",
            intervention.id,
            before=before,
            after=_audit_values(intervention),
        )
        return to_dict(intervention)


def _travel(intervention: Intervention) -> None:
    """A new version the VRP does not hold yet: send it with the next batch."""
    bump(intervention)
    intervention.sync_state = "valid"


def _day(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "an unknown date"


# -- reading ------------------------------------------------------------------------------------


def list_interventions(ws, *, active_only: bool = True) -> list[dict[str, Any]]:
    """Open interventions by name; with ``active_only=False`` the closed ones too (after)."""
    query = select(Intervention)
    if active_only:
        query = query.where(Intervention.active.is_(True)).order_by(Intervention.name)
    else:
        query = query.order_by(Intervention.active.desc(), Intervention.name)
    with ws.read() as session:
        return [to_dict(i) for i in session.scalars(query)]


def get_intervention(ws, intervention_id: str) -> dict[str, Any]:
    with ws.read() as session:
        return to_dict(get_or_404(session, Intervention, intervention_id, "intervention"))


def find_intervention(ws, text: str) -> dict[str, Any]:
    """One intervention by id, the start of its id (8+ characters) or its exact name."""
    wanted = (text or "").strip()
    if not wanted:
        raise VrpError("Say which intervention: its name (in quotes) or its id from 'list'.")
    with ws.read() as session:
        found = session.get(Intervention, wanted)
        if found is None:
            rows = session.scalars(
                select(Intervention).where(func.lower(Intervention.name) == wanted.casefold())
            ).all()
            if not rows and len(wanted) >= 8:
                rows = session.scalars(
                    select(Intervention).where(Intervention.id.startswith(wanted.lower()))
                ).all()
            open_rows = [r for r in rows if r.active]
            if len(open_rows) == 1 or len(rows) == 1:
                found = open_rows[0] if len(open_rows) == 1 else rows[0]
            elif len(rows) > 1:
                raise VrpError(
                    f"{len(rows)} interventions match {wanted!r}. Use the id shown by "
                    "'vrp intervention list --all'."
                )
        if found is None:
            raise NotFound(
                f"No intervention called {wanted!r}. See the names with 'vrp intervention list "
                "--all'."
            )
        return to_dict(found)


def framework_for(ws, intervention_id: str):
    """The framework definition an intervention records against."""
    with ws.read() as session:
        i = get_or_404(session, Intervention, intervention_id, "intervention")
        return fw_service.get(session, i.framework_id, i.framework_version)


def framework_choices(ws) -> list[dict[str, Any]]:
    """What the set-up forms offer for each installed framework (newest version), as plain
    dicts: the labels of every list, the length range, and how many open interventions use it."""
    with ws.read() as session:
        definitions = fw_service.latest(session)
        in_use = dict(
            session.execute(
                select(Intervention.framework_id, func.count())
                .where(Intervention.active.is_(True))
                .group_by(Intervention.framework_id)
            ).all()
        )
    return [
        {
            "id": fw.id,
            "version": fw.version,
            "name": fw.name,
            "description": fw.description,
            "labels": labels(fw),
            "duration_minutes": (fw.duration_minutes.min, fw.duration_minutes.max),
            "in_use": in_use.get(fw.id, 0),
        }
        for fw in sorted(definitions, key=lambda f: f.name.casefold())
    ]
