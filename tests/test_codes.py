"""Code lists and the derivations returns depend on: ethnic groups, ages, postcode districts."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vrp_desktop import codes


def test_ons_2021_has_19_categories_in_5_groups_plus_not_stated():
    categories = [c for c in codes.ETHNICITIES if c != "not_stated"]
    assert len(categories) == 19
    groups = {codes.ethnic_group(c) for c in categories}
    assert groups == {"asian", "black", "mixed", "white", "other"}
    assert codes.ethnic_group("not_stated") == "not_stated"
    assert set(codes.ETHNIC_GROUPS) == groups | {"not_stated"}


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("asian_pakistani", "asian"),
        ("white_roma", "white"),
        ("mixed_white_black_caribbean", "mixed"),
        ("black_african", "black"),
        ("other_arab", "other"),
    ],
)
def test_ethnic_group(code, group):
    assert codes.ethnic_group(code) == group


def test_unknown_ethnicity_code_is_refused():
    with pytest.raises(ValueError, match="not a known ethnicity"):
        codes.ethnic_group("martian")


def test_code_lists_are_ordered_and_read_only():
    assert list(codes.GENDERS)[:2] == ["female", "male"]
    assert list(codes.TIMEPOINTS) == ["baseline", "review", "exit"]
    assert list(codes.SESSION_STATUSES) == ["planned", "delivered", "cancelled"]
    with pytest.raises(TypeError):
        codes.GENDERS["x"] = "X"  # type: ignore[index]


def test_age_on_turns_on_the_birthday_not_the_day_before():
    dob = date(2010, 6, 15)
    assert codes.age_on(dob, date(2024, 6, 14)) == 13
    assert codes.age_on(dob, date(2024, 6, 15)) == 14
    assert codes.age_on(dob, date(2024, 6, 16)) == 14


def test_leap_day_birthday_counts_from_1_march_in_ordinary_years():
    dob = date(2008, 2, 29)
    assert codes.age_on(dob, date(2026, 2, 28)) == 17
    assert codes.age_on(dob, date(2026, 3, 1)) == 18
    assert codes.age_on(dob, date(2028, 2, 29)) == 20


def test_age_before_birth_is_refused():
    with pytest.raises(ValueError):
        codes.age_on(date(2010, 1, 2), date(2010, 1, 1))


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (0, "under 10"),
        (9, "under 10"),
        (10, "10-13"),
        (13, "10-13"),
        (14, "14-15"),
        (15, "14-15"),
        (16, "16-17"),
        (17, "16-17"),
        (18, "18-20"),
        (20, "18-20"),
        (21, "21-24"),
        (24, "21-24"),
        (25, "25+"),
        (60, "25+"),
    ],
)
def test_age_band_edges(age, band):
    dob = date(1990, 5, 20)
    assert codes.age_band(dob, date(1990 + age, 5, 20)) == band
    if age > 0:
        # the day before the birthday still counts as the previous age
        assert codes.age_band(dob, date(1990 + age, 5, 19)) == codes.age_band(
            dob, date(1990 + age - 1, 5, 20)
        )


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2030, 1, 1)), st.integers(0, 30000))
def test_age_band_is_always_one_of_the_bands(dob, days):
    on = date.fromordinal(dob.toordinal() + days)
    assert codes.age_band(dob, on) in codes.AGE_BANDS
    assert codes.age_on(dob, on) >= 0


@pytest.mark.parametrize(
    ("text", "district"),
    [
        ("SW1A 1AA", "SW1A"),
        ("b5 4tj", "B5"),
        ("  m1   1ae ", "M1"),
        ("EC1A1BB", "EC1A"),
        ("W1A 0AX", "W1A"),
        ("CR2 6XH", "CR2"),
        ("DN55 1PT", "DN55"),
        ("B5", "B5"),
        ("sw1a", "SW1A"),
        ("GIR 0AA", "GIR"),
    ],
)
def test_postcode_district(text, district):
    assert codes.postcode_district(text) == district


@pytest.mark.parametrize(
    "junk", ["", "   ", "hello", "12345", "QQ1 1AA", "SW1A 1A", "B5 4TJX", None]
)
def test_postcode_district_rejects_junk(junk):
    assert codes.postcode_district(junk) is None


def test_full_postcode_detection():
    assert codes.is_full_postcode("b5 4tj")
    assert not codes.is_full_postcode("B5")
