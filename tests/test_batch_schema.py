"""The batch schema the coordinator checks every received record against (pure checks)."""

from __future__ import annotations

import datetime as dt

import pytest

from vrp_desktop.services.pseudonyms import pseudonym
from vrp_desktop.validation import batch_schema


def _participant(**changes):
    record = {
        "id": "01a220ad-8f31-7224-9062-a443e117ad5c",
        "version": 1,
        "pseudonym": "0f" * 16,
        "age_band": "14-15",
        "gender": "female",
        "ethnicity": "white_british",
        "postcode_district": "B5",
        "consent_status": "given",
        "consent_date": "2026-01-10",
    }
    record.update(changes)
    return record


def test_the_pseudonyms_providers_make_have_the_shape_the_coordinator_accepts():
    made = pseudonym("11" * 32, "Amir", "Khan", dt.date(2009, 4, 2))
    assert len(made) == batch_schema.PSEUDONYM_LENGTH
    assert batch_schema.check("participant", _participant(pseudonym=made)) == []


@pytest.mark.parametrize(
    "value",
    ["Amir Khan 2009-04-02", "0F" * 16, "0f" * 15, "0f" * 32, "g" * 32, 12345, ["0f" * 16]],
)
def test_anything_but_a_pseudonym_is_refused_without_repeating_it(value):
    reasons = batch_schema.check("participant", _participant(pseudonym=value))
    assert len(reasons) == 1 and reasons[0].startswith("pseudonym:")
    assert str(value) not in reasons[0]


def test_dates_are_parsed_in_place():
    record = _participant()
    assert batch_schema.check("participant", record) == []
    assert record["consent_date"] == dt.date(2026, 1, 10)


@pytest.mark.parametrize("band", ["zzz", "15", "", 15, None])
def test_age_bands_come_from_the_list(band):
    reasons = batch_schema.check("participant", _participant(age_band=band))
    assert reasons == ([] if band is None else [reasons[0]])
    if band is not None:
        assert "age band" in reasons[0]


def test_the_year_and_month_of_birth_travel_but_never_a_full_date():
    record = _participant(birth_month="2011-04")
    assert batch_schema.check("participant", record) == []
    for bad in ("2011-04-02", "2011-4", "2011-13", "04/2011", 201104):
        reasons = batch_schema.check("participant", _participant(birth_month=bad))
        assert reasons and "year and month of birth" in reasons[0] and str(bad) not in reasons[0]


def test_a_participant_from_before_the_birth_month_still_imports():
    record = _participant()
    assert "birth_month" not in record
    assert batch_schema.check("participant", record) == []
    assert record["birth_month"] is None
