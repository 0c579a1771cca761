"""The import's fast paths give exactly what the plain calls they stand in for give.

A million-record import parses each line, writes each code list and each session start through
shortcuts (``batch_import._parse``, ``held._db_codes``, ``held._db_datetime`` with the zone
looked up once, ``held._row_builder``); these tests hold each shortcut to the slow, obvious
call, on ordinary values and on awkward ones (other encodings, a byte-order mark, lone
surrogates, text that needs escaping), so a shortcut can never accept, refuse or store
something the plain call would not.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vrp_desktop import clock
from vrp_desktop.sync import batch_import, held
from vrp_desktop.sync.common import SyncError


def _plain_parse(raw: bytes):
    try:
        return ("ok", json.loads(raw))
    except (ValueError, RecursionError):
        return ("refused", None)


def _fast_parse(raw: bytes):
    try:
        return ("ok", batch_import._parse(raw, "sessions.jsonl"))
    except SyncError:
        return ("refused", None)


AWKWARD_LINES = [
    b'{"id": "a", "v": 1}',
    '{"name": "Zoë"}'.encode(),
    b"\xef\xbb\xbf" + b'{"bom": true}',  # UTF-8 with a byte-order mark: json.loads takes it
    '{"wide": 1}'.encode("utf-16"),  # UTF-16 with its BOM: json.loads takes it too
    '{"wide": 1}'.encode("utf-16-le"),
    '{"wide": 1}'.encode("utf-32"),
    b'{"lone": "\xed\xa0\x80"}',  # an encoded surrogate: json.loads decodes surrogatepass
    b'{"x": 1} trailing',
    b"\x00{}",
    b"[" * 100_000,  # deep nesting: RecursionError, refused
    b"\xff\xfe",
    b'"\\ud800"',
    b"NaN",
    b"",
]


def _same(raw: bytes) -> None:
    fast, plain = _fast_parse(raw), _plain_parse(raw)
    assert fast[0] == plain[0]
    if fast[0] == "ok":  # compared as text: NaN is not equal to itself
        assert json.dumps(fast[1]) == json.dumps(plain[1])


@pytest.mark.parametrize("raw", AWKWARD_LINES)
def test_parse_accepts_and_refuses_exactly_what_json_loads_does(raw):
    _same(raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40) | st.text(max_size=40).map(lambda t: json.dumps(t).encode()))
def test_parse_matches_json_loads_on_any_bytes(raw):
    _same(raw)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.lists(st.sampled_from(["group_work", "mentoring", "a1", "x_y_z"]), max_size=5),
        st.lists(st.text(max_size=6), max_size=4),
        st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=3)), max_size=3),
        st.none(),
    )
)
def test_code_lists_are_stored_as_json_dumps_writes_them(value):
    assert held._db_codes(value) == held._db_json(value)


def test_session_starts_are_stored_as_strftime_wrote_them(monkeypatch):
    monkeypatch.setenv("VRP_TIMEZONE", "Europe/London")
    zone = clock.local_zone()
    for text in (
        "2026-07-10T18:30:00+01:00",
        "2026-07-10T17:30:00+00:00",
        "2026-01-09T18:30:00.250000+00:00",
        "2026-01-09T18:30:00",
        "1900-01-01T00:00:00+14:00",
        "2100-12-31T23:59:59-12:00",
    ):
        value = dt.datetime.fromisoformat(text)
        expected = clock.received_start(value).strftime("%Y-%m-%d %H:%M:%S.%f")
        assert held._db_datetime(value) == expected
        assert held._db_datetime(value, zone) == expected


def test_a_stored_row_has_every_column_converted_as_before():
    record = {
        "id": "01900000-0000-7000-8000-000000000001",
        "intervention_id": "01900000-0000-7000-8000-000000000002",
        "starts_at": dt.datetime(2026, 7, 10, 18, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        "duration_minutes": 60,
        "session_type": "group",
        "mode": "in_person",
        "location_type": "school",
        "activities": ["mentoring", "sport"],
        "staff_count": 2,
        "status": "delivered",
    }
    zone = clock.local_zone()
    built = held._row_builder("session", zone)(record)
    expected = [
        record[column] if convert is None else convert(record[column])
        for column, convert in held._CONVERT["session"]
    ]
    assert built == expected
    assert built[1] == clock.received_start(record["starts_at"]).strftime("%Y-%m-%d %H:%M:%S.%f")
    assert built[6] == '["mentoring", "sport"]'
