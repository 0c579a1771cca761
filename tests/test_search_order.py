"""One or two letters typed in the register's search read their page off a (first letters, sort
keys) index; the people listed and their order must be exactly the register's, page after
page."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from vrp_desktop.services import participants, search
from vrp_desktop.store.models import Participant

TODAY = dt.date.today()

NAMES = [
    ("Émile", "Martin"),  # SQLite's lower() leaves É alone: sorts after every ASCII letter
    ("maya", "mensah"),
    ("Mo", "McDonald"),
    ("Zara", "Mills"),
    ("Marek", "Nowak"),
    ("Amir", "Malik"),
    ("Mia", None),
    (None, "Moss"),
    ("Ola", "Ærø"),
    ("Liam", "O'Malley"),
    ("Mary", "Mary"),  # two words starting with m: listed once
]


def _register_order(ws, letter: str) -> list[str]:
    """The register's own order for the same matches (the general query, no shortcut)."""
    query = (
        participants._filtered(letter)
        .where(Participant.id.in_(search.matching_ids(letter)))
        .order_by(
            func.lower(Participant.last_name), func.lower(Participant.first_name), Participant.id
        )
    )
    with ws.read() as session:
        return list(session.scalars(query))


def _people(ws) -> dict[str, str]:
    ids = {}
    for first, last in NAMES:
        row = participants.create_participant(
            ws,
            {
                "first_name": first,
                "last_name": last,
                "date_of_birth": TODAY.replace(year=TODAY.year - 15),
                "postcode": "M1 1AA",  # every district starts with m too, as in a real area
                "consent_status": "given",
                "consent_date": TODAY,
            },
        )
        ids[f"{first} {last}"] = row["id"]
    return ids


def test_short_prefix_pages_are_the_register_order(workspace):
    _people(workspace)
    for letter in ("m", "M", "o", "z", "é", "æ", "l", "q", "ma", "Mc", "ær", "zz"):
        expected = _register_order(workspace, letter.casefold())
        assert search.single_word(letter) == letter.casefold()
        listed = [r["id"] for r in participants.list_participants(workspace, letter)]
        assert listed == expected, letter
        paged = [
            r["id"]
            for offset in range(0, len(expected) + 3, 3)
            for r in participants.list_participants(workspace, letter, offset=offset, limit=3)
        ]
        assert paged == expected, letter
    assert len(participants.list_participants(workspace, "m")) == len(NAMES)  # each once


def test_longer_words_matching_many_walk_the_prefix_index_in_the_same_order(workspace, monkeypatch):
    _people(workspace)
    monkeypatch.setattr(search, "SPARSE", 1)  # as if "mar" matched thousands
    for word in ("mar", "mcd", "m1", "m1a", "mens", "nowak", "yp"):
        expected = _register_order(workspace, word)
        with workspace.read() as session:
            assert (search.ordered_page(session, word) is None) == (len(expected) <= 1)
        paged = [
            r["id"]
            for offset in range(0, len(expected) + 2, 2)
            for r in participants.list_participants(workspace, word, offset=offset, limit=2)
        ]
        assert paged == expected, word


def test_renamed_and_erased_people_move_and_leave(workspace):
    ids = _people(workspace)
    zara = ids["Zara Mills"]
    participants.update_participant(workspace, zara, {"last_name": "Abbott"})
    listed = [r["id"] for r in participants.list_participants(workspace, "z")]
    assert zara in listed and listed == _register_order(workspace, "z")
    listed = [r["id"] for r in participants.list_participants(workspace, "m")]
    assert listed == _register_order(workspace, "m")
    assert listed.index(zara) < listed.index(ids["Amir Malik"])  # Abbott now, not Mills
    participants.erase_participant(
        workspace,
        zara,
        confirm=participants.get_participant(workspace, zara)["reference"],
        reason="asked to be forgotten",
    )
    assert zara not in [r["id"] for r in participants.list_participants(workspace, "z")]
    assert zara not in [r["id"] for r in participants.list_participants(workspace, "m")]


def test_bulk_created_people_are_in_the_prefix_index(workspace):
    from vrp_desktop.services import demo

    demo.generate(workspace, participants=60, sessions=0, seed=3)
    for letter in [*"abcdjkmrsy", "ja", "mo", "yp", "b1"]:
        expected = _register_order(workspace, letter)
        assert [
            r["id"] for r in participants.list_participants(workspace, letter, limit=500)
        ] == expected, letter


def test_sort_keys_fold_exactly_as_sqlite_does(workspace):
    samples = ["ÉMILE", "Ærø", "İSTANBUL", "O'Neil", "MACDONALD", "ß", "Ǆ", "abc", ""]
    with workspace.read() as session:
        for value in samples:
            assert search.sqlite_lower(value) == session.scalar(select(func.lower(value)))
