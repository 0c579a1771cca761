"""UK financial quarters as people type them."""

from __future__ import annotations

import datetime as dt

import pytest

from vrp_desktop.errors import VrpError
from vrp_desktop.returns.quarters import (
    Quarter,
    display_period,
    last_complete,
    parse_quarter,
    quarter_of,
    stored_quarter,
)


@pytest.mark.parametrize("text", ["2026-27 Q3", "2026-27Q3", "2026/27 Q3", " 2026-2027 q3 "])
def test_accepted_forms_mean_october_to_december(text):
    q = parse_quarter(text)
    assert (q.start, q.end) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert q.label == "2026-27 Q3"


def test_quarter_four_runs_into_the_next_calendar_year():
    q = parse_quarter("2026-27 Q4")
    assert (q.start, q.end) == (dt.date(2027, 1, 1), dt.date(2027, 3, 31))
    assert parse_quarter("2026-27 Q1").start == dt.date(2026, 4, 1)
    assert parse_quarter("2026-27 Q1").end == dt.date(2026, 6, 30)


def test_ambiguous_form_is_refused_with_the_accepted_forms():
    with pytest.raises(VrpError) as info:
        parse_quarter("2026Q3")
    assert "ambiguous" in str(info.value)
    assert "2026-27 Q3" in str(info.value) and "2026/27 Q3" in str(info.value)


@pytest.mark.parametrize("text", ["2026-28 Q3", "2026-27 Q5", "Q3", "", "autumn"])
def test_nonsense_is_refused(text):
    with pytest.raises(VrpError, match="2026-27 Q3"):
        parse_quarter(text)


def test_quarter_of_and_last_complete():
    assert quarter_of(dt.date(2027, 2, 14)) == Quarter(2026, 4)
    assert quarter_of(dt.date(2026, 4, 1)) == Quarter(2026, 1)
    assert last_complete(dt.date(2027, 1, 5)) == Quarter(2026, 3)
    assert last_complete(dt.date(2026, 4, 2)) == Quarter(2025, 4)
    assert Quarter(2026, 4).next() == Quarter(2027, 1)


def test_ambiguous_form_spells_out_both_meanings():
    with pytest.raises(VrpError) as info:
        parse_quarter("2026Q3")
    message = str(info.value)
    assert "2026-27 Q3 (October 2026 to December 2026)" in message
    assert "2026-27 Q2 (July 2026 to September 2026)" in message


def test_older_calendar_batch_labels_mean_the_same_months():
    # batches were labelled by calendar quarter: "2026-Q4" is October to December 2026
    assert stored_quarter("2026-Q4") == Quarter(2026, 3)
    assert stored_quarter("2027-Q1") == Quarter(2026, 4)
    assert stored_quarter("2026-27 Q3") == Quarter(2026, 3)
    assert stored_quarter("spring") is None
    assert Quarter(2026, 3).stored_labels == ("2026-27 Q3", "2026-Q4")
    assert display_period("2026-Q4") == "2026-27 Q3"


def test_a_year_no_date_can_hold_is_refused_in_words():
    """Year 0 and year 9999's quarters have no dates (``datetime`` ends at 9999): each was an
    "unexpected error (ValueError)"; now a message that says which years can be used."""
    for text in ("0000-01 Q1", "9999-00 Q4", "0000Q1"):
        with pytest.raises(VrpError, match="between 1900 and 2998"):
            parse_quarter(text)
