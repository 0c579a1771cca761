"""Search-as-you-type over names, references and postcode districts.

Tokens live in ``participant_search_token``; a typed word matches any token it prefixes, and
every typed word must match (``jam sm`` finds James Smith).
"""

from __future__ import annotations

import re

from sqlalchemy import Select, and_, delete, select
from sqlalchemy.orm import Session as OrmSession

from vrp_desktop.store.models import Participant, ParticipantSearchToken

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def tokens(*values: str | None) -> set[str]:
    words: set[str] = set()
    for value in values:
        if value:
            words.update(w.casefold() for w in _WORD.findall(value))
    return words


def participant_tokens(p: Participant) -> set[str]:
    found = tokens(p.first_name, p.last_name, p.preferred_name, p.reference, p.postcode_district)
    if p.reference:
        found.add(p.reference.casefold().replace("-", ""))
    return found


def reindex(session: OrmSession, p: Participant) -> None:
    session.execute(
        delete(ParticipantSearchToken).where(ParticipantSearchToken.participant_id == p.id)
    )
    if p.erased_at is None:
        session.add_all(
            ParticipantSearchToken(token=t[:100], participant_id=p.id)
            for t in participant_tokens(p)
        )


def _next_prefix(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def matching_ids(text: str) -> Select | None:
    """A SELECT of participant ids matching every typed word, or None for an empty query."""
    words = sorted(tokens(text), key=len, reverse=True)
    if not words:
        return None
    query: Select | None = None
    for word in words:
        sub = select(ParticipantSearchToken.participant_id).where(
            and_(
                ParticipantSearchToken.token >= word,
                ParticipantSearchToken.token < _next_prefix(word),
            )
        )
        query = sub if query is None else query.intersect(sub)
    assert query is not None
    # one word can prefix several of a person's tokens ("b" in Baker and B5): count them once
    return query.distinct() if len(words) == 1 else query
