"""Read framework and measure files, and explain what is wrong with a broken one.

A person fixing a pack needs the file, the field path (``measures[1].timepoints[0].window_days``)
and plain words, so pydantic's errors are translated here and never shown raw.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Collection, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from vrp_desktop import codes
from vrp_desktop.errors import FrameworkError, NotFound
from vrp_desktop.frameworks.models import RECORD_FIELDS, Framework, MeasureDefinition
from vrp_desktop.paths import resource_path

M = TypeVar("M", bound=BaseModel)
Problem = tuple[str, str]  # (field path, what is wrong)

_MAX_LISTED = 12
_UNION_MEMBERS = {"str", "int", "bool", "float", "required_if", "date_order"}


def _path(loc: Sequence[str | int]) -> str:
    """``('measures', 1, 'window_days')`` -> ``measures[1].window_days``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _UNION_MEMBERS or "[" in part:
            continue  # pydantic names the union branch it tried; a person doesn't need that
        else:
            out += f".{part}" if out else part
    return out or "(whole file)"


def _plain(error: dict[str, Any]) -> str:
    """One pydantic error in words a person who edits JSON by hand understands."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    simple = {
        "missing": "is required but missing",
        "extra_forbidden": "is not a recognised field (check the spelling)",
        "int_type": "should be a whole number",
        "int_parsing": "should be a whole number",
        "int_from_float": "should be a whole number",
        "float_type": "should be a number",
        "float_parsing": "should be a number",
        "string_type": "should be text in quotes",
        "bool_type": "should be true or false",
        "bool_parsing": "should be true or false",
        "list_type": "should be a list in square brackets",
        "tuple_type": "should be a list in square brackets",
        "dict_type": "should be an object in curly braces",
        "model_type": "should be an object in curly braces",
        "model_attributes_type": "should be an object in curly braces",
        "string_pattern_mismatch": "should use only lower-case letters, digits and underscores",
        "union_tag_not_found": "needs a 'kind' (required_if or date_order)",
    }
    if kind in simple:
        return simple[kind]
    if kind == "literal_error":
        return f"should be one of: {ctx.get('expected', '')}".replace("'", "")
    if kind == "union_tag_invalid":
        return f"has an unknown kind '{ctx.get('tag')}' (expected {ctx.get('expected_tags')})"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind in {"too_short", "string_too_short"}:
        return "must not be empty"
    if kind == "too_long":
        return "has too many entries"
    if kind in {"greater_than_equal", "greater_than"}:
        return f"should be at least {ctx.get('ge', ctx.get('gt'))}"
    if kind in {"less_than_equal", "less_than"}:
        return f"should be at most {ctx.get('le', ctx.get('lt'))}"
    return str(error["msg"]).rstrip(".").lower()


def _raise(path: Path, what: str, problems: Iterable[Problem]) -> None:
    listed = list(problems)
    if not listed:
        return
    lines = [f"  - {field}: {message}" for field, message in listed[:_MAX_LISTED]]
    if len(listed) > _MAX_LISTED:
        lines.append(f"  - ... and {len(listed) - _MAX_LISTED} more")
    raise FrameworkError(f"The {what} file '{path.name}' is not valid:\n" + "\n".join(lines))


def _read_json(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FrameworkError(f"The {what} file '{path.name}' does not exist.") from None
    except UnicodeDecodeError:
        raise FrameworkError(f"The {what} file '{path.name}' is not UTF-8 text.") from None
    except OSError as exc:
        raise FrameworkError(
            f"The {what} file '{path.name}' cannot be read: {exc.strerror}."
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FrameworkError(
            f"The {what} file '{path.name}' is not valid JSON: {exc.msg} "
            f"at line {exc.lineno}, column {exc.colno}."
        ) from None
    except RecursionError:
        raise FrameworkError(
            f"The {what} file '{path.name}' nests lists or objects far too deeply to be a "
            f"{what} definition. Use the file the VRP published."
        ) from None
    if not isinstance(data, dict):
        raise FrameworkError(f"The {what} file '{path.name}' should hold one JSON object {{...}}.")
    return data


def _inside(loc: tuple, parent: tuple) -> bool:
    return len(loc) > len(parent) and loc[: len(parent)] == parent


def _parse(path: Path, what: str, model: type[M]) -> M:
    data = _read_json(path, what)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        deeper = [e["loc"] for e in errors]
        kept = [
            e
            for e in errors  # "must not be empty" is noise beside an error inside the same list
            if not (e["type"] == "too_short" and any(_inside(d, e["loc"]) for d in deeper))
        ]
        _raise(path, what, ((_path(e["loc"]), _plain(e)) for e in kept))
        raise AssertionError("unreachable") from None


# --- cross-checks pydantic cannot do ---------------------------------------------------------


def framework_problems(framework: Framework, known_measures: Collection[str]) -> list[Problem]:
    """References a framework makes that point nowhere: measures, fields, global codes."""
    problems: list[Problem] = []
    for index, value in enumerate(framework.session_types):
        if value not in codes.SESSION_TYPES:
            problems.append((f"session_types[{index}]", _not_one_of(value, codes.SESSION_TYPES)))
    for index, value in enumerate(framework.modes):
        if value not in codes.MODES:
            problems.append((f"modes[{index}]", _not_one_of(value, codes.MODES)))
    for kind in RECORD_FIELDS:
        for index, field in enumerate(getattr(framework.required, kind)):
            if field not in RECORD_FIELDS[kind]:
                problems.append((f"required.{kind}[{index}]", _unknown_field(field, kind)))
    for index, rule in enumerate(framework.rules):
        fields = rule.fields if rule.kind == "date_order" else [rule.field]
        names = "fields" if rule.kind == "date_order" else "field"
        for position, field in enumerate(fields):
            if field not in RECORD_FIELDS[rule.record]:
                where = f"rules[{index}].{names}" + (f"[{position}]" if names == "fields" else "")
                problems.append((where, _unknown_field(field, rule.record)))
        if rule.kind == "required_if" and rule.when.field not in RECORD_FIELDS[rule.record]:
            problems.append(
                (f"rules[{index}].when.field", _unknown_field(rule.when.field, rule.record))
            )
    for index, use in enumerate(framework.measures):
        if use.measure_id not in known_measures:
            problems.append(
                (f"measures[{index}].measure_id", f"no measure has the id '{use.measure_id}'")
            )
    return problems


def measure_problems(measure: MeasureDefinition) -> list[Problem]:
    """Scores that name items, subscales or scores the measure does not have."""
    problems: list[Problem] = []
    item_count = len(measure.items)
    for s_index, subscale in enumerate(measure.subscales):
        for i_index, number in enumerate(subscale.items):
            if not 1 <= number <= item_count:
                problems.append(
                    (f"subscales[{s_index}].items[{i_index}]", f"there is no item {number}")
                )
    subscale_ids = {s.id for s in measure.subscales}
    for c_index, composite in enumerate(measure.composites):
        for p_index, part in enumerate(composite.of):
            if part not in subscale_ids:
                problems.append((f"composites[{c_index}].of[{p_index}]", f"no subscale '{part}'"))
    known = set(measure.score_ids())
    for c_index, conversion in enumerate(measure.conversions):
        if conversion.source not in known:
            problems.append((f"conversions[{c_index}].source", f"no score '{conversion.source}'"))
    repeated = [sid for sid in known if measure.score_ids().count(sid) > 1]
    if repeated:
        problems.append(("subscales", f"the score id '{sorted(repeated)[0]}' is used twice"))
    for b_index, band_set in enumerate(measure.bands):
        if band_set.score not in known:
            problems.append((f"bands[{b_index}].score", f"no score '{band_set.score}'"))
        ordered = sorted(band_set.bands, key=lambda band: band.min)
        for first, second in itertools.pairwise(ordered):
            if second.min <= first.max:
                problems.append(
                    (f"bands[{b_index}].bands", f"'{first.label}' and '{second.label}' overlap")
                )
    problems += _evaluation_problems(measure, known)
    return problems


def _evaluation_problems(measure: MeasureDefinition, known: set[str]) -> list[Problem]:
    """Evaluation data that names scores or bands the measure does not have."""
    evaluation = measure.evaluation
    if evaluation is None:
        return []
    problems: list[Problem] = []
    if evaluation.primary_score not in known:
        problems.append(("evaluation.primary_score", f"no score '{evaluation.primary_score}'"))
    bands = {b.score: {band.label for band in b.bands} for b in measure.bands}
    for score_id, norms in evaluation.scores.items():
        if score_id not in known:
            problems.append((f"evaluation.scores.{score_id}", f"no score '{score_id}'"))
            continue
        for index, label in enumerate(norms.high_need):
            if label not in bands.get(score_id, set()):
                problems.append(
                    (
                        f"evaluation.scores.{score_id}.high_need[{index}]",
                        f"'{score_id}' has no band '{label}'",
                    )
                )
        for value, source in (
            ("reliability", "reliability_source"),
            ("norm_sd", "norm_source"),
            ("meaningful_change", "meaningful_change_source"),
        ):
            if getattr(norms, value) is not None and not getattr(norms, source):
                problems.append(
                    (f"evaluation.scores.{score_id}.{source}", f"{value} needs its source named")
                )
    return problems


def _not_one_of(value: str, allowed: Collection[str]) -> str:
    return f"'{value}' is not one of: {', '.join(allowed)}"


def _unknown_field(field: str, record: str) -> str:
    article = "an" if record[0] in "aeiou" else "a"
    return f"'{field}' is not a field of {article} {record} record"


# --- public loading API ----------------------------------------------------------------------


def load_measure_file(path: str | Path) -> MeasureDefinition:
    """Parse and check one measure definition; raises FrameworkError naming file and field."""
    path = Path(path)
    measure = _parse(path, "measure", MeasureDefinition)
    _raise(path, "measure", measure_problems(measure))
    return measure


@lru_cache(maxsize=1)
def _builtin_measure_ids() -> frozenset[str]:
    folder = resource_path("measures")
    return frozenset(load_measure_file(p).id for p in sorted(folder.glob("*.json")))


def load_framework_file(
    path: str | Path, *, known_measures: Collection[str] | None = None
) -> Framework:
    """Parse and check one framework; measure ids are checked against ``known_measures``.

    Without ``known_measures`` the built-in measures are the ones a framework may use.
    """
    path = Path(path)
    framework = _parse(path, "framework", Framework)
    known = _builtin_measure_ids() if known_measures is None else known_measures
    _raise(path, "framework", framework_problems(framework, known))
    return framework


class FrameworkCatalog:
    """The frameworks and measures available on this device, by id (and version)."""

    def __init__(
        self, frameworks: Iterable[Framework] = (), measures: Iterable[MeasureDefinition] = ()
    ) -> None:
        self._measures = {m.id: m for m in measures}
        self._frameworks: dict[tuple[str, int], Framework] = {
            (f.id, f.version): f for f in frameworks
        }

    @classmethod
    def load_builtin(cls) -> FrameworkCatalog:
        """The frameworks and measures shipped in ``resources/``."""
        return cls.load_folders(resource_path("frameworks"), resource_path("measures"))

    @classmethod
    def load_folders(cls, frameworks_dir: Path, measures_dir: Path) -> FrameworkCatalog:
        """Every ``*.json`` in both folders; duplicates and dangling references are errors."""
        measures: dict[str, tuple[Path, MeasureDefinition]] = {}
        for path in sorted(Path(measures_dir).glob("*.json")):
            measure = load_measure_file(path)
            if measure.id in measures:
                other = measures[measure.id][0].name
                raise FrameworkError(
                    f"The measure files '{other}' and '{path.name}' both define '{measure.id}'."
                )
            measures[measure.id] = (path, measure)
        frameworks: dict[tuple[str, int], tuple[Path, Framework]] = {}
        for path in sorted(Path(frameworks_dir).glob("*.json")):
            framework = load_framework_file(path, known_measures=measures.keys())
            key = (framework.id, framework.version)
            if key in frameworks:
                other = frameworks[key][0].name
                raise FrameworkError(
                    f"The framework files '{other}' and '{path.name}' both define "
                    f"'{framework.id}' version {framework.version}."
                )
            frameworks[key] = (path, framework)
        return cls((f for _, f in frameworks.values()), (m for _, m in measures.values()))

    def framework(self, id: str, version: int | None = None) -> Framework:
        """A framework by id; the latest version unless one is asked for."""
        if version is not None:
            found = self._frameworks.get((id, version))
        else:
            versions = [f for (fid, _), f in self._frameworks.items() if fid == id]
            found = max(versions, key=lambda f: f.version) if versions else None
        if found is None:
            wanted = f"'{id}'" + (f" version {version}" if version is not None else "")
            raise NotFound(f"There is no framework {wanted} on this device.")
        return found

    def measure(self, id: str) -> MeasureDefinition:
        try:
            return self._measures[id]
        except KeyError:
            raise NotFound(f"There is no measure '{id}' on this device.") from None

    def frameworks(self) -> list[Framework]:
        """Every framework version, ordered by id then version."""
        return [self._frameworks[key] for key in sorted(self._frameworks)]

    def measures(self) -> list[MeasureDefinition]:
        return [self._measures[key] for key in sorted(self._measures)]
