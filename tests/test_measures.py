"""Measure scoring against hand-worked examples of the published rules."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vrp_desktop.frameworks import load_measure_file
from vrp_desktop.measures import round_half_up, score
from vrp_desktop.paths import resource_path

SDQ = load_measure_file(resource_path("measures", "sdq_s11_17.json"))
SWEMWBS = load_measure_file(resource_path("measures", "swemwbs.json"))
YC = load_measure_file(resource_path("measures", "youth_confidence.json"))

SUBSCALE_ITEMS = {
    "emotional": (3, 8, 13, 16, 24),
    "conduct": (5, 7, 12, 18, 22),
    "hyperactivity": (2, 10, 15, 21, 25),
    "peer": (6, 11, 14, 19, 23),
    "prosocial": (1, 4, 9, 17, 20),
}
REVERSE = {7, 11, 14, 21, 25}
DIFFICULTIES = ("emotional", "conduct", "hyperactivity", "peer")


def sdq_answers(**targets: int) -> list[int]:
    """Answers that give each subscale the target score, undoing reverse-scoring as needed."""
    answers = [0] * 25
    for name, items in SUBSCALE_ITEMS.items():
        remaining = targets.get(name, 0)
        for number in items:
            scored = min(2, remaining)
            remaining -= scored
            answers[number - 1] = 2 - scored if number in REVERSE else scored
    return answers


# --- SDQ -------------------------------------------------------------------------------------


def test_sdq_hand_worked_all_answered():
    answers = [2, 1, 0, 2, 1, 0, 2, 1, 2, 1, 2, 0, 1, 1, 2, 0, 2, 1, 0, 1, 0, 0, 1, 2, 1]
    result = score(SDQ, answers)
    assert result.scores == {
        "emotional": 4,
        "conduct": 2,
        "hyperactivity": 7,
        "peer": 2,
        "prosocial": 9,
        "total_difficulties": 15,
        "internalising": 6,
        "externalising": 9,
    }
    assert result.bands == {
        "emotional": "close to average",
        "conduct": "close to average",
        "hyperactivity": "high",
        "peer": "close to average",
        "prosocial": "close to average",
        "total_difficulties": "slightly raised",
    }
    assert result.missing_items == [] and result.notes == []
    assert result.scoring_version == "sdq_s11_17:v1"


def test_sdq_reverse_items():
    zeros = score(SDQ, [0] * 25).scores
    assert (zeros["conduct"], zeros["hyperactivity"], zeros["peer"]) == (2, 4, 4)
    assert (zeros["emotional"], zeros["prosocial"], zeros["total_difficulties"]) == (0, 0, 10)
    twos = score(SDQ, [2] * 25).scores
    assert (twos["conduct"], twos["hyperactivity"], twos["peer"]) == (8, 6, 6)
    assert (twos["emotional"], twos["prosocial"], twos["total_difficulties"]) == (10, 10, 30)


def test_sdq_prorates_from_four_items_rounding_halves_up():
    answers: list[int | None] = sdq_answers()
    answers[2], answers[7], answers[12], answers[15], answers[23] = 1, 1, 0, 0, None
    result = score(SDQ, answers)
    assert result.scores["emotional"] == 3  # 2 * 5 / 4 = 2.5 -> 3
    assert result.missing_items == [24]
    assert "Emotional symptoms prorated from 4 of 5 items." in result.notes
    assert result.scores["total_difficulties"] == 3  # other difficulty subscales are 0


@pytest.mark.parametrize(("three", "expected"), [((2, 2, 1), 8), ((1, 0, 0), 2), ((2, 2, 2), 10)])
def test_sdq_prorates_from_three_items(three, expected):
    answers: list[int | None] = sdq_answers()
    answers[2], answers[7], answers[12] = three
    answers[15] = answers[23] = None
    result = score(SDQ, answers)
    assert result.scores["emotional"] == expected
    assert "Emotional symptoms prorated from 3 of 5 items." in result.notes


def test_sdq_subscale_with_two_answers_is_missing_and_so_is_the_total():
    answers: list[int | None] = sdq_answers(peer=3)
    for number in (6, 11, 14):
        answers[number - 1] = None
    result = score(SDQ, answers)
    assert result.scores["peer"] is None
    assert result.scores["total_difficulties"] is None
    assert result.scores["internalising"] is None
    assert result.scores["externalising"] is not None
    assert "peer" not in result.bands and "total_difficulties" not in result.bands
    assert result.missing_items == [6, 11, 14]
    assert any(
        note.startswith("Peer relationship problems could not be scored") for note in result.notes
    )


@pytest.mark.parametrize(
    ("subscale", "value", "band"),
    [
        ("emotional", 4, "close to average"),
        ("emotional", 5, "slightly raised"),
        ("emotional", 6, "high"),
        ("emotional", 7, "very high"),
        ("conduct", 2, "close to average"),
        ("conduct", 3, "slightly raised"),
        ("conduct", 4, "high"),
        ("conduct", 5, "very high"),
        ("hyperactivity", 5, "close to average"),
        ("hyperactivity", 6, "slightly raised"),
        ("hyperactivity", 7, "high"),
        ("hyperactivity", 8, "very high"),
        ("peer", 2, "close to average"),
        ("peer", 3, "slightly raised"),
        ("peer", 4, "high"),
        ("peer", 5, "very high"),
        ("prosocial", 7, "close to average"),
        ("prosocial", 6, "slightly lowered"),
        ("prosocial", 5, "low"),
        ("prosocial", 4, "very low"),
    ],
)
def test_sdq_subscale_band_edges(subscale, value, band):
    result = score(SDQ, sdq_answers(**{subscale: value}))
    assert result.scores[subscale] == value
    assert result.bands[subscale] == band


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (14, "close to average"),
        (15, "slightly raised"),
        (17, "slightly raised"),
        (18, "high"),
        (19, "high"),
        (20, "very high"),
        (40, "very high"),
    ],
)
def test_sdq_total_band_edges(total, band):
    parts = {name: min(10, max(0, total - 10 * i)) for i, name in enumerate(DIFFICULTIES)}
    result = score(SDQ, sdq_answers(**parts))
    assert result.scores["total_difficulties"] == total
    assert result.bands["total_difficulties"] == band


def test_sdq_refuses_wrong_count_and_out_of_range():
    with pytest.raises(ValueError, match="25 questions but 24 answers"):
        score(SDQ, [0] * 24)
    answers: list = [0] * 25
    answers[4] = 3
    with pytest.raises(ValueError, match=r"question 5 \(SDQ05\) is 3; allowed answers are 0, 1, 2"):
        score(SDQ, answers)
    answers[4] = True
    with pytest.raises(ValueError):
        score(SDQ, answers)


@given(st.lists(st.one_of(st.none(), st.integers(0, 2)), min_size=25, max_size=25))
def test_sdq_totals_are_sums_and_in_range(answers):
    result = score(SDQ, answers)
    parts = [result.scores[name] for name in DIFFICULTIES]
    if None in parts:
        assert result.scores["total_difficulties"] is None
    else:
        assert result.scores["total_difficulties"] == sum(parts)
        assert 0 <= result.scores["total_difficulties"] <= 40
    for name in SUBSCALE_ITEMS:
        value = result.scores[name]
        assert value is None or (0 <= value <= 10 and value == int(value))
        answered = sum(answers[n - 1] is not None for n in SUBSCALE_ITEMS[name])
        assert (value is None) == (answered < 3)
    assert result.missing_items == [i + 1 for i, a in enumerate(answers) if a is None]


# --- SWEMWBS ---------------------------------------------------------------------------------


def _swemwbs_for(raw: int) -> list[int]:
    answers, remaining = [1] * 7, raw - 7
    for index in range(7):
        step = min(4, remaining)
        answers[index] += step
        remaining -= step
    return answers


@pytest.mark.parametrize(
    ("raw", "metric"),
    [
        (7, 7.00),
        (8, 9.51),
        (14, 15.32),
        (21, 19.25),
        (28, 25.03),
        (33, 30.70),
        (34, 32.55),
        (35, 35.00),
    ],
)
def test_swemwbs_conversion(raw, metric):
    result = score(SWEMWBS, _swemwbs_for(raw))
    assert result.scores["raw"] == raw
    assert result.scores["metric"] == pytest.approx(metric)


def test_swemwbs_table_is_complete_and_increasing():
    table = SWEMWBS.conversions[0].table
    assert sorted(table) == list(range(7, 36))
    values = [table[raw] for raw in range(7, 36)]
    assert values == sorted(values) and len(set(values)) == 29


def test_swemwbs_refuses_to_score_with_a_missing_item():
    answers: list[int | None] = [4] * 7
    answers[3] = None
    result = score(SWEMWBS, answers)
    assert result.scores == {"raw": None, "metric": None}
    assert result.missing_items == [4]
    assert "6 of 7 questions answered (at least 7 needed)" in result.notes[0]


def test_swemwbs_refuses_out_of_range_answers():
    with pytest.raises(ValueError, match="allowed answers are 1, 2, 3, 4, 5"):
        score(SWEMWBS, [0, 1, 1, 1, 1, 1, 1])


# --- youth confidence (custom Likert) --------------------------------------------------------


def test_likert_reverse_item():
    assert score(YC, [5, 5, 5, 1, 5]).scores["confidence"] == 5.0
    assert score(YC, [1, 1, 1, 5, 1]).scores["confidence"] == 1.0
    assert score(YC, [5, 5, 4, 2, 4]).scores["confidence"] == 4.4


def test_likert_prorated_mean_from_four_items():
    result = score(YC, [5, 4, 4, 5, None])  # (5 + 4 + 4 + 1) / 4
    assert result.scores["confidence"] == 3.5
    assert result.notes == ["Confidence prorated from 4 of 5 items."]


def test_likert_three_answers_is_not_enough():
    result = score(YC, [4, 4, 5, None, None])
    assert result.scores["confidence"] is None
    assert result.missing_items == [4, 5]


def test_round_half_up_matches_published_syntax():
    assert round_half_up(2.5) == 3
    assert round_half_up(7.5) == 8
    assert round_half_up(8.333) == 8
    assert round_half_up(0.125, 2) == 0.13
