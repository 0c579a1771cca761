"""Search-as-you-type over names, references and postcode districts.

Tokens live in ``participant_search_token``; a typed word matches any token it prefixes, and
every typed word must match (``jam sm`` finds James Smith). One or two letters typed alone
match thousands of people; their page is read in order off an index of (first letters, sort
keys) instead of ordering every match (``ordered_page``).
"""

from __future__ import annotations

import re
import string

from sqlalchemy import Select, and_, delete, func, select
from sqlalchemy.orm import Session as OrmSession

from vrp_desktop.store.models import Participant, ParticipantSearchToken

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def tokens(*values: str | None) -> set[str]:
    words: set[str] = set()
    for value in values:
        if value:
            words.update(w.casefold() for w in _WORD.findall(value))
    return words


#: SQLite's built-in ``lower()`` folds ASCII letters only; the sort keys must equal it exactly,
#: since a one-letter search's order has to be the register's ``lower(last), lower(first), id``
_SQLITE_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def sqlite_lower(value: str | None) -> str | None:
    """What SQLite's ``lower(value)`` returns (without ICU)."""
    return None if value is None else value.translate(_SQLITE_LOWER)


def token_rows(p: Participant) -> list[dict[str, str | None]]:
    """The search-index rows for ``p`` (none once erased)."""
    if p.erased_at is not None:
        return []
    last_key, first_key = sqlite_lower(p.last_name), sqlite_lower(p.first_name)
    return [
        {
            "token": t[:100],
            "participant_id": p.id,
            "prefix1": t[:1],
            "prefix2": t[:2],
            "last_key": last_key,
            "first_key": first_key,
        }
        for t in participant_tokens(p)
    ]


def participant_tokens(p: Participant) -> set[str]:
    found = tokens(p.first_name, p.last_name, p.preferred_name, p.reference, p.postcode_district)
    if p.reference:
        found.add(p.reference.casefold().replace("-", ""))
    return found


def reindex(session: OrmSession, p: Participant) -> None:
    session.execute(
        delete(ParticipantSearchToken).where(ParticipantSearchToken.participant_id == p.id)
    )
    session.add_all(ParticipantSearchToken(**row) for row in token_rows(p))


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


#: a word of three letters or more matching more people than this is read off the prefix2
#: index in order; fewer are looked up by id and sorted (cheaper for a handful)
SPARSE = 500


def single_word(text: str) -> str | None:
    """The word when ``text`` is one word, else None."""
    words = tokens(text)
    return next(iter(words)) if len(words) == 1 else None


def ordered_page(session: OrmSession, word: str) -> Select | None:
    """Ids of the people with a word starting with ``word``, in register order (last name,
    first name, id, as SQLite's ``lower()`` folds them), read in that order off a prefix index
    of the tokens (add ``.offset()``/``.limit()``); None when few people match, who are then
    best looked up by id and sorted (``matching_ids``).

    One letter reads ``ix_participant_search_token_prefix1``, two ``_prefix2``; a longer word
    walks its first two letters' part of ``_prefix2`` (which holds the token) keeping only its
    own. Erased people have no tokens, so none is listed."""
    T = ParticipantSearchToken
    if len(word) == 1:
        where = T.prefix1 == word
    elif len(word) == 2:
        where = T.prefix2 == word
    else:
        ids = select(T.participant_id).where(T.token >= word, T.token < _next_prefix(word))
        found = select(func.count()).select_from(ids.distinct().limit(SPARSE + 1).subquery())
        if (session.scalar(found) or 0) <= SPARSE:
            return None
        where = and_(T.prefix2 == word[:2], T.token >= word, T.token < _next_prefix(word))
    return (
        select(T.last_key, T.first_key, T.participant_id)
        .where(where)
        .distinct()  # "m" can start two of a person's words: list them once
        .order_by(T.last_key, T.first_key, T.participant_id)
    )
