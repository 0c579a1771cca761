"""The partnership-wide disclosure rule, read from the framework pack (``disclosure.json``).

It sits beside the frameworks because the VRP publishes both: every provider's return, the
partnership return and the evaluation pack then apply one rule.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vrp_desktop.disclosure import Rule
from vrp_desktop.errors import FrameworkError, VrpError
from vrp_desktop.frameworks.loader import _path, _plain, _read_json
from vrp_desktop.paths import resource_path

FILE_NAME = "disclosure.json"


class DisclosureRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    threshold: int = Field(default=5, ge=1, le=100)
    round_to: int | None = Field(default=None, ge=2, le=100)


def load_rule(path: str | Path | None = None) -> Rule:
    """The rule in ``path`` (default: the pack shipped in ``resources/``)."""
    path = Path(path) if path is not None else resource_path(FILE_NAME)
    data = _read_json(path, "disclosure rule")
    try:
        parsed = DisclosureRule.model_validate(data)
    except ValidationError as exc:
        lines = [f"  - {_path(e['loc'])}: {_plain(e)}" for e in exc.errors()]
        raise FrameworkError(
            f"The disclosure rule file '{path.name}' is not valid:\n" + "\n".join(lines)
        ) from None
    try:
        return Rule(parsed.threshold, parsed.round_to)
    except VrpError as exc:
        raise FrameworkError(f"The disclosure rule file '{path.name}': {exc}") from None


def partnership_rule() -> Rule:
    """The rule every return applies unless told otherwise."""
    return load_rule()
