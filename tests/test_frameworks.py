"""Shipped frameworks load, and a broken pack says which file, which field and what is wrong."""

import json
from pathlib import Path

import pytest

from vrp_desktop.errors import FrameworkError, NotFound
from vrp_desktop.frameworks import FrameworkCatalog, load_framework_file, load_measure_file
from vrp_desktop.paths import resource_path

SHIPPED = sorted(resource_path("frameworks").glob("*.json"))
MEASURES = sorted(resource_path("measures").glob("*.json"))


def _mentoring() -> dict:
    return json.loads(resource_path("frameworks", "mentoring.json").read_text(encoding="utf-8"))


def _write(tmp_path: Path, data, name: str = "broken.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _error_for(path: Path) -> str:
    with pytest.raises(FrameworkError) as caught:
        load_framework_file(path)
    message = str(caught.value)
    assert path.name in message
    assert "pydantic" not in message.lower() and "errors.pydantic.dev" not in message
    return message


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_framework_loads(path):
    framework = load_framework_file(path)
    assert framework.id == path.stem
    assert framework.eligible_ages.min <= framework.eligible_ages.max
    assert framework.measures, "every framework collects at least one outcome measure"


@pytest.mark.parametrize("path", MEASURES, ids=lambda p: p.stem)
def test_every_shipped_measure_loads(path):
    assert load_measure_file(path).id == path.stem


def test_catalog_has_the_four_core_frameworks():
    catalog = FrameworkCatalog.load_builtin()
    ids = {f.id for f in catalog.frameworks()}
    assert {"mentoring", "sports_diversion", "reachable_moment", "detached_outreach"} <= ids
    mentoring = catalog.framework("mentoring")
    assert (mentoring.eligible_ages.min, mentoring.eligible_ages.max) == (10, 18)
    assert catalog.framework("mentoring", 1) is mentoring
    assert catalog.framework("sports_diversion").tier == ("universal", "targeted")
    assert catalog.framework("reachable_moment").tier == ("specialist",)
    assert catalog.measure("swemwbs").name.startswith("Short Warwick")
    for framework in catalog.frameworks():
        for use in framework.measures:
            catalog.measure(use.measure_id)


def test_catalog_unknown_ids_are_not_found():
    catalog = FrameworkCatalog.load_builtin()
    with pytest.raises(NotFound, match="no framework 'nope'"):
        catalog.framework("nope")
    with pytest.raises(NotFound, match="version 99"):
        catalog.framework("mentoring", 99)
    with pytest.raises(NotFound):
        catalog.measure("nope")


def test_catalog_returns_latest_version_by_default(tmp_path):
    fw_dir, m_dir = tmp_path / "fw", tmp_path / "m"
    fw_dir.mkdir()
    m_dir.mkdir()
    for measure in MEASURES:
        (m_dir / measure.name).write_text(measure.read_text(encoding="utf-8"), encoding="utf-8")
    v1, v2 = _mentoring(), _mentoring()
    v2["version"] = 2
    _write(fw_dir, v1, "mentoring_v1.json")
    _write(fw_dir, v2, "mentoring_v2.json")
    catalog = FrameworkCatalog.load_folders(fw_dir, m_dir)
    assert catalog.framework("mentoring").version == 2
    assert catalog.framework("mentoring", 1).version == 1
    _write(fw_dir, v2, "mentoring_copy.json")
    with pytest.raises(FrameworkError, match="both define 'mentoring' version 2"):
        FrameworkCatalog.load_folders(fw_dir, m_dir)


def test_not_json_at_all(tmp_path):
    message = _error_for(_write(tmp_path, "this is { not json"))
    assert "not valid JSON" in message and "line 1" in message


def test_json_that_is_not_an_object(tmp_path):
    assert "one JSON object" in _error_for(_write(tmp_path, "[1, 2]"))


def test_missing_file(tmp_path):
    assert "does not exist" in _error_for(tmp_path / "absent.json")


def test_missing_field(tmp_path):
    data = _mentoring()
    del data["eligible_ages"]
    assert "eligible_ages: is required but missing" in _error_for(_write(tmp_path, data))


def test_wrong_type(tmp_path):
    data = _mentoring()
    data["version"] = "one"
    assert "version: should be a whole number" in _error_for(_write(tmp_path, data))
    data = _mentoring()
    data["eligible_ages"]["max"] = "eighteen"
    assert "eligible_ages.max: should be a whole number" in _error_for(_write(tmp_path, data))


def test_misspelt_field(tmp_path):
    data = _mentoring()
    data["activites"] = data.pop("activities")
    message = _error_for(_write(tmp_path, data))
    assert "activites: is not a recognised field" in message
    assert "activities: is required but missing" in message


def test_window_min_greater_than_max_names_the_nested_path(tmp_path):
    data = _mentoring()
    data["measures"][1]["timepoints"][0]["window_days"] = {"min": 30, "max": -14}
    message = _error_for(_write(tmp_path, data))
    assert "measures[1].timepoints[0].window_days: min (30) is greater than max (-14)" in message


def test_age_range_min_greater_than_max(tmp_path):
    data = _mentoring()
    data["eligible_ages"] = {"min": 18, "max": 10}
    assert "eligible_ages: min (18) is greater than max (10)" in _error_for(_write(tmp_path, data))


def test_unknown_measure(tmp_path):
    data = _mentoring()
    data["measures"][0]["measure_id"] = "made_up_scale"
    message = _error_for(_write(tmp_path, data))
    assert "measures[0].measure_id: no measure has the id 'made_up_scale'" in message


def test_duplicate_codes(tmp_path):
    data = _mentoring()
    data["activities"].append({"code": "goal_setting", "label": "Goals again"})
    message = _error_for(_write(tmp_path, data))
    assert "activities: the code 'goal_setting' appears more than once" in message


def test_conditional_rule_naming_unknown_field(tmp_path):
    data = _mentoring()
    data["rules"][0]["when"]["field"] = "finish_date"
    message = _error_for(_write(tmp_path, data))
    assert "rules[0].when.field: 'finish_date' is not a field of an enrolment record" in message


def test_date_order_rule_naming_unknown_field(tmp_path):
    data = _mentoring()
    rule = next(i for i, r in enumerate(data["rules"]) if r["kind"] == "date_order")
    data["rules"][rule]["fields"][1] = "begin_date"
    assert f"rules[{rule}].fields[1]: 'begin_date'" in _error_for(_write(tmp_path, data))


def test_unknown_rule_kind(tmp_path):
    data = _mentoring()
    data["rules"][0]["kind"] = "eval_python"
    assert "rules[0]: has an unknown kind 'eval_python'" in _error_for(_write(tmp_path, data))


def test_condition_needs_exactly_one_test(tmp_path):
    data = _mentoring()
    data["rules"][0]["when"] = {"field": "end_date"}
    message = _error_for(_write(tmp_path, data))
    assert "rules[0].when: give exactly one of" in message


def test_unknown_session_type_and_tier(tmp_path):
    data = _mentoring()
    data["session_types"] = ["one_to_one", "webinar"]
    data["tier"] = "premium"
    message = _error_for(_write(tmp_path, data))
    assert "tier[0]: should be one of: universal, targeted or specialist" in message
    assert "tier: must not be empty" not in message
    data["tier"] = "targeted"
    assert "session_types[1]: 'webinar' is not one of" in _error_for(_write(tmp_path, data))


def test_broken_measure_file(tmp_path):
    data = json.loads(resource_path("measures", "sdq_s11_17.json").read_text(encoding="utf-8"))
    data["subscales"][0]["items"][0] = 26
    data["bands"][0]["score"] = "nonsense"
    path = _write(tmp_path, data, "sdq.json")
    with pytest.raises(FrameworkError) as caught:
        load_measure_file(path)
    message = str(caught.value)
    assert "sdq.json" in message
    assert "subscales[0].items[0]: there is no item 26" in message
    assert "bands[0].score: no score 'nonsense'" in message
