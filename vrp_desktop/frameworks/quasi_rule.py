"""The partnership's quasi-identifier rule: when and how a batch coarsens what travels.

The VRP publishes it in the signed framework pack (and the onboarding pack), beside the
frameworks, so every provider applies one rule: people whose age band, gender, ethnicity and
postcode district are shared by fewer than ``min_k`` people of the same provider have their
postcode district coarsened, one step at a time (to its local authority, then withheld). The
district -> local authority table travels inside the rule, so the provider and the VRP read a
coarsened value the same way. The defaults ship in ``resources/quasi_rule.json`` and
``resources/local_authorities.json`` (see that file for where a real table comes from).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vrp_desktop import codes
from vrp_desktop.errors import FrameworkError
from vrp_desktop.frameworks.loader import _path, _plain, _read_json
from vrp_desktop.paths import resource_path

RULE_FILE = "quasi_rule.json"
LOOKUP_FILE = "local_authorities.json"
#: an ONS GSS code of a local authority district (England, Wales, Scotland, Northern Ireland)
GSS = re.compile(r"[ENSW][0-9]{8}")
MAX_DISTRICTS = 5000


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: Literal["postcode_district"]
    to: Literal["local_authority", "withheld"]


class Lookup(BaseModel):
    """Postcode district -> local authority (GSS code), and each authority's name."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    source: str = ""
    names: dict[str, str] = Field(default_factory=dict)
    districts: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sound(self) -> Lookup:
        if len(self.districts) > MAX_DISTRICTS:
            raise ValueError(f"the district table has more than {MAX_DISTRICTS} entries")
        for code, name in self.names.items():
            if not GSS.fullmatch(code):
                raise ValueError(f"'{code}' is not a local authority code such as E08000025")
            if not name.strip() or len(name) > 100:
                raise ValueError(f"the name of {code} should be one line of at most 100 characters")
        for district, code in self.districts.items():
            if codes.postcode_district(district) != district:
                raise ValueError(f"'{district}' is not a postcode district such as B5 or SW1A")
            if code not in self.names:
                raise ValueError(f"district {district} names {code}, which has no name in 'names'")
        return self


class QuasiRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    min_k: int = Field(ge=2, le=100)
    coarsen: list[Step] = Field(default_factory=list, max_length=4)
    local_authorities: Lookup = Field(default_factory=Lookup)

    @model_validator(mode="after")
    def _ordered(self) -> QuasiRule:
        steps = [s.to for s in self.coarsen]
        if len(set(steps)) != len(steps):
            raise ValueError("each coarsening step may appear once")
        if steps[:1] == ["withheld"] and "local_authority" in steps:
            raise ValueError("coarsen to local_authority before withholding, not after")
        if "local_authority" in steps and not self.local_authorities.districts:
            raise ValueError("a step to local_authority needs the district table")
        return self

    def district_to_la(self, district: str | None) -> str | None:
        return self.local_authorities.districts.get(district) if district else None

    def la_name(self, code: str) -> str:
        return self.local_authorities.names.get(code, code)

    def summary(self) -> str:
        """One line for people: "k >= 5: district -> local authority -> withheld"."""
        words = {"local_authority": "local authority", "withheld": "withheld"}
        steps = " -> ".join(["postcode district", *(words[s.to] for s in self.coarsen)])
        return f"groups of at least {self.min_k}; coarsen {steps}"


def parse(data: Any, name: str) -> QuasiRule:
    """A rule from its JSON object; FrameworkError in plain words when it is not sound."""
    try:
        return QuasiRule.model_validate(data)
    except ValidationError as exc:
        lines = [f"  - {_path(e['loc'])}: {_plain(e)}" for e in exc.errors()[:12]]
        raise FrameworkError(
            f"The quasi-identifier rule in '{name}' is not valid:\n" + "\n".join(lines)
        ) from None


def load(path: str | Path | None = None, lookup: str | Path | None = None) -> QuasiRule:
    """The rule in ``path`` (default: the one shipped), with the district table from
    ``lookup`` (default: the one shipped) unless the rule file carries its own."""
    path = Path(path) if path is not None else resource_path(RULE_FILE)
    data = _read_json(path, "quasi-identifier rule")
    if "local_authorities" not in data:
        table = Path(lookup) if lookup is not None else resource_path(LOOKUP_FILE)
        data = {**data, "local_authorities": _read_json(table, "local authority table")}
    return parse(data, path.name)


def to_json(rule: QuasiRule) -> str:
    return json.dumps(rule.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def from_json(text: str | None) -> QuasiRule | None:
    """A stored rule (a workspace setting); None when none is stored."""
    if not text:
        return None
    return parse(json.loads(text), "this workspace's settings")


AREA_NOTE = (
    "Area (postcode district): the district as recorded in a provider's own figures. In what the "
    "VRP receives, the partnership's small-group rule (in its framework pack) replaces the "
    "district of a young person who would otherwise be one of fewer than k people from their "
    "provider with the same age band, gender, ethnicity and district: first by the district's "
    "local authority (shown as the authority's name followed by '(local authority)'), then, if "
    "that is still too few, it is withheld and counts as not recorded. Completeness of the "
    "district counts a coarsened one as recorded. Each batch's manifest says how many were "
    "coarsened."
)


@functools.cache
def _names() -> dict[str, str]:
    try:
        return load().local_authorities.names
    except FrameworkError:
        return {}


def area_sql(local_authority):
    """SQL for a coarsened area's label: "Birmingham (local authority)" (NULL stays NULL)."""
    from sqlalchemy import case, literal

    suffix = " (local authority)"
    names = _names()
    fallback = local_authority + literal(suffix)
    if not names:
        return fallback
    return case(
        *((local_authority == code, literal(name + suffix)) for code, name in names.items()),
        else_=fallback,
    )
