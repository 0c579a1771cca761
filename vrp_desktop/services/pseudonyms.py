"""Pseudonyms and local references.

The pseudonym is an HMAC of a person's normalised identity (names and date of birth) under
the partnership's linkage key: the same young person seen by two providers gets the same
pseudonym, and nobody without the key can test a name against it. The key is made by the
partnership's linkage custodian and never held by the VRP that receives the pseudonyms
(``vrp_desktop/sync/linkage.py``): a recipient holding the key could test any name it knows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import unicodedata

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _normalise_name(name: str | None) -> str:
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return "".join(ch for ch in text.casefold() if ch.isalpha())


def pseudonym(
    linkage_key_hex: str | None, first_name: str | None, last_name: str | None, dob: dt.date | None
) -> str | None:
    """The keyed pseudonym, or None when there is too little identity to link on (or no key:
    a coordinator's or custodian's workspace holds none)."""
    first, last = _normalise_name(first_name), _normalise_name(last_name)
    if not linkage_key_hex or not first or not last or dob is None:
        return None
    message = f"{first}|{last}|{dob.isoformat()}".encode()
    return hmac.new(bytes.fromhex(linkage_key_hex), message, hashlib.sha256).hexdigest()[:32]


def new_reference() -> str:
    """A short random reference workers can say aloud, e.g. ``YP-4K7Q2M``."""
    return "YP-" + "".join(secrets.choice(_CROCKFORD) for _ in range(6))
