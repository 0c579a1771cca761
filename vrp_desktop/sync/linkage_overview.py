"""Where the partnership stands on its linkage key, as the VRP can see it (coordinator side).

The VRP never holds the key. What it does see is each batch's signed manifest: which key made
its pseudonyms (an id and a generation, never the key) and the fingerprint of the custodian
that issued it. From every provider's latest batch this works out the generation the
partnership is on, how many providers are on it, whether a rotation is still going through
(some providers still send under an older generation), whether two custodians are in play
(which should never happen), and how many probable duplicates wait for providers to confirm.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from vrp_desktop.store.models import Batch, Provider
from vrp_desktop.store.sync_models import ImportedParticipant as P
from vrp_desktop.sync import coordinator


def overview(ws) -> dict[str, Any]:
    """The figures the Inbox's linkage line shows."""
    coordinator.require_coordinator(ws)
    with ws.read() as session:
        providers = dict(
            session.execute(
                select(Provider.id, Provider.code).where(
                    Provider.is_self.is_(False), Provider.signing_public_key.is_not(None)
                )
            ).all()
        )
        latest: dict[str, dict[str, Any]] = {}
        for provider_id, manifest in session.execute(
            select(Batch.provider_id, Batch.manifest)
            .where(Batch.direction == "in", Batch.status == "imported")
            .order_by(Batch.created_at)
        ):
            section = (manifest or {}).get("linkage")
            if provider_id in providers and isinstance(section, dict):
                latest[provider_id] = section  # later batches replace earlier ones
    keyed = {pid: s for pid, s in latest.items() if s.get("key_id")}
    generation = max((int(s.get("generation") or 0) for s in keyed.values()), default=None)
    current = [pid for pid, s in keyed.items() if int(s.get("generation") or 0) == generation]
    fingerprints = sorted(
        {s["custodian_fingerprint"] for s in keyed.values() if s.get("custodian_fingerprint")}
    )
    custodian = next(
        (keyed[pid].get("custodian_fingerprint") for pid in current if pid in keyed), None
    )
    behind = sorted(providers[pid] for pid in keyed if pid not in current)
    no_key = sorted(providers[pid] for pid in providers if pid not in keyed)
    return {
        "providers": len(providers),
        "generation": generation,
        "custodian_fingerprint": custodian,
        "custodians": fingerprints,
        "on_current": len(current),
        "behind": behind,
        "without_key": no_key,
        "rotating": bool(behind),
        "duplicates": _duplicate_groups(ws),
    }


def _duplicate_groups(ws) -> int:
    """How many groups ``matching.probable_duplicates`` would list, in one query."""
    tokens = (
        select(P.match_token)
        .where(P.match_token.is_not(None))
        .group_by(P.match_token)
        .having(func.count(func.distinct(P.provider_id)) > 1)
        .having(func.count(func.distinct(P.pseudonym)) > 1)
        .subquery()
    )
    with ws.read() as session:
        return session.scalar(select(func.count()).select_from(tokens)) or 0


def describe(info: dict[str, Any]) -> str:
    """One paragraph for the Inbox."""
    if info["generation"] is None:
        text = (
            "Linkage: no provider has sent a batch under the custodian's linkage key yet, so "
            "the same young person at two providers cannot be counted once."
        )
    else:
        text = (
            f"Linkage: the partnership is on key generation {info['generation']} from the "
            f"custodian with fingerprint {info['custodian_fingerprint']}; "
            f"{info['on_current']} of {info['providers']} providers send under it."
        )
        if info["rotating"]:
            text += (
                f" Rotation in progress: {', '.join(info['behind'])} still "
                f"{'sends' if len(info['behind']) == 1 else 'send'} under an older key (the "
                "next batch after they import the new key re-keys what the VRP holds)."
            )
        if info["without_key"]:
            text += f" No linkage key yet: {', '.join(info['without_key'])}."
        if len(info["custodians"]) > 1:
            text += (
                " Warning: batches name more than one custodian "
                f"({', '.join(info['custodians'])}); a partnership has one. Ask the providers "
                "whose fingerprint differs to check with the custodian."
            )
    dupes = info["duplicates"]
    text += (
        f"\nProbable duplicates to confirm: {dupes} group(s) of records at two or more "
        "providers look like one young person (vrp linkage duplicates lists them by record id)."
        if dupes
        else "\nNo probable duplicates across providers to confirm."
    )
    if info["rotating"]:
        text += (
            " Records sent under different key generations cannot be compared until every "
            "provider is on the new key."
        )
    return text
