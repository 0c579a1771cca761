"""Probable duplicates across providers, still without identities.

The pseudonym links a young person only when both providers typed the same names and birth
date. A second keyed token from coarser identity -- first initial, the surname's Soundex code,
birth year and month -- lets the VRP list pairs of people at different providers who are
*probably* the same (e.g. "Jon"/"John", or a birth day typed wrongly), for the providers to
confirm. It is keyed with the same linkage key, so the VRP cannot compute it either.

Soundex is written here from its published definition (US National Archives, "The Soundex
Indexing System", 2007): keep the first letter; code b f p v = 1, c g j k q s x z = 2, d t = 3,
l = 4, m n = 5, r = 6; letters with the same code separated only by h or w count once; vowels
(a e i o u y) separate; pad or cut to four characters.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from sqlalchemy import func, select

from vrp_desktop.services.pseudonyms import _normalise_name

_CODES = {
    **dict.fromkeys("bfpv", "1"),
    **dict.fromkeys("cgjkqsxz", "2"),
    **dict.fromkeys("dt", "3"),
    "l": "4",
    **dict.fromkeys("mn", "5"),
    "r": "6",
}


def soundex(name: str) -> str:
    """American Soundex of a name ("Robert" and "Rupert" -> R163, "Ashcraft" -> A261)."""
    letters = [ch for ch in _normalise_name(name) if "a" <= ch <= "z"]
    if not letters:
        return ""
    first = letters[0]
    out = [first.upper()]
    previous = _CODES.get(first, "")
    for ch in letters[1:]:
        code = _CODES.get(ch, "")
        if code and code != previous:
            out.append(code)
        if ch not in "hw":  # h and w do not separate letters with the same code
            previous = code
        if len(out) == 4:
            break
    return "".join(out).ljust(4, "0")


def coarse_token(
    linkage_key_hex: str | None, first: str | None, last: str | None, dob: dt.date | None
) -> str | None:
    """HMAC(key, first initial | surname Soundex | birth year-month), 32 hex characters."""
    first_name = _normalise_name(first)
    sound = soundex(last or "")
    if not linkage_key_hex or not first_name or not sound or dob is None:
        return None
    message = f"coarse|{first_name[0]}|{sound}|{dob:%Y-%m}".encode()
    return hmac.new(bytes.fromhex(linkage_key_hex), message, hashlib.sha256).hexdigest()[:32]


def probable_duplicates(ws, *, limit: int = 1000) -> list[dict[str, Any]]:
    """Groups of people at two or more providers who share a coarse token but not a pseudonym
    (coordinator side): for the providers to confirm, by record id, never by name."""
    from vrp_desktop.store.models import Provider
    from vrp_desktop.store.sync_models import ImportedParticipant as P
    from vrp_desktop.sync import coordinator

    coordinator.require_coordinator(ws)
    with ws.read() as session:
        tokens = session.scalars(
            select(P.match_token)
            .where(P.match_token.is_not(None))
            .group_by(P.match_token)
            .having(func.count(func.distinct(P.provider_id)) > 1)
            .having(func.count(func.distinct(P.pseudonym)) > 1)
            .limit(limit)
        ).all()
        codes = dict(session.execute(select(Provider.id, Provider.code)).all())
        groups = []
        for token in tokens:
            rows = session.execute(
                select(P.id, P.provider_id, P.pseudonym, P.age_band, P.gender)
                .where(P.match_token == token)
                .order_by(P.provider_id, P.id)
            ).all()
            groups.append(
                {
                    "people": [
                        {
                            "provider_code": codes.get(r.provider_id, "?"),
                            "record_id": r.id,
                            "pseudonym": r.pseudonym,
                            "age_band": r.age_band,
                            "gender": r.gender,
                        }
                        for r in rows
                    ]
                }
            )
    return groups
