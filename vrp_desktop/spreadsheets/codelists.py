"""Matching what a person typed to a code, framework by framework.

Each framework names its codes in its own words ("Self-referral", "Self-referral or walk-in",
"Police (other)"). A cell is matched against every code and every label the row's framework
defines, in any capitals and spacing; a label another framework uses, but this intervention's
does not allow, is reported as such rather than as an unknown word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from vrp_desktop import codes
from vrp_desktop.frameworks.models import Framework

#: list name -> the framework attribute that holds its entries
FRAMEWORK_LISTS = {
    "referral": "referral_sources",
    "exit": "exit_reasons",
    "location": "location_types",
    "activity": "activities",
}
_LIST_CHOICES_SHOWN = 10


def norm(text: Any) -> str:
    """Case-, space-, hyphen- and underscore-insensitive form used for every comparison."""
    return re.sub(r"[\s_\-*]+", "", str(text)).casefold()


def ethnicity_label(code: str) -> str:
    """What the drop-down shows: the ONS group and the category, e.g. "White: Irish"."""
    group = codes.ethnic_group(code)
    if group == "not_stated":
        return "Not stated"
    short = {"asian": "Asian", "black": "Black", "mixed": "Mixed", "white": "White"}
    return f"{short.get(group, 'Other')}: {codes.ETHNICITIES[code]}"


def _fixed_lists() -> dict[str, dict[str, list[str]]]:
    """code -> every name it goes by, for the lists no framework changes."""
    labels = [label for label in codes.ETHNICITIES.values()]
    ethnicity = {}
    for code, label in codes.ETHNICITIES.items():
        names = [ethnicity_label(code)]
        if labels.count(label) == 1:
            names.append(label)
        ethnicity[code] = names
    return {
        "gender": {c: [label] for c, label in codes.GENDERS.items()},
        "ethnicity": ethnicity,
        "consent": {c: [label] for c, label in codes.CONSENT_STATUSES.items()},
        "attendance": {c: [label] for c, label in codes.ATTENDANCE_STATUSES.items()}
        | {"attended": ["Attended", "Present", "Yes", "Y"], "absent": ["Absent", "No", "N"]},
        "session_status": {c: [label] for c, label in codes.SESSION_STATUSES.items()},
        "timepoint": {c: [label] for c, label in codes.TIMEPOINTS.items()},
        "session_type": {c: [label] for c, label in codes.SESSION_TYPES.items()}
        | {"one_to_one": ["One-to-one", "1:1", "1-1", "One to one"]},
        "mode": {c: [label] for c, label in codes.MODES.items()},
        "measure": _measures(),
    }


def _measures() -> dict[str, list[str]]:
    from vrp_desktop.services import frameworks as fw_service

    return {m.id: [m.name] for m in fw_service.builtin_catalog().measures()}


class CodeMatcher:
    """Every list the importer reads, per framework, with one lookup for any framework."""

    def __init__(self, frameworks: Iterable[Framework]) -> None:
        self.frameworks = {f.id: f for f in frameworks}
        self.fixed: dict[str, dict[str, str]] = {}
        self.fixed_choices: dict[str, list[str]] = {}
        for name, entries in _fixed_lists().items():
            index: dict[str, str] = {}
            for code, names in entries.items():
                for label in (code, *names):
                    index.setdefault(norm(label), code)
            self.fixed[name] = index
            self.fixed_choices[name] = [names[0] for names in entries.values()]
        #: (list, framework id) -> {normalised label or code: code}
        self.own: dict[tuple[str, str], dict[str, str]] = {}
        #: list -> {normalised label or code: codes any framework gives it}
        self.anywhere: dict[str, dict[str, set[str]]] = {name: {} for name in FRAMEWORK_LISTS}
        for framework in self.frameworks.values():
            for name, attribute in FRAMEWORK_LISTS.items():
                index = {}
                for entry in getattr(framework, attribute):
                    for label in (entry.code, entry.label):
                        index.setdefault(norm(label), entry.code)
                        self.anywhere[name].setdefault(norm(label), set()).add(entry.code)
                self.own[(name, framework.id)] = index

    def labels(self, name: str, framework_id: str) -> list[str]:
        attribute = FRAMEWORK_LISTS[name]
        return [e.label for e in getattr(self.frameworks[framework_id], attribute)]

    def match(
        self, name: str, value: str, header: str, framework: Framework | None, where: str
    ) -> tuple[str | None, str | None]:
        """(code, None), or (None, a plain-words problem) for ``value`` typed in ``header``.

        ``where``: how the row's intervention is named in a message (e.g. "Friday Football").
        """
        key = norm(value)
        if name in self.fixed:
            code = self.fixed[name].get(key)
            if code is not None:
                return code, None
            return None, f"{header} '{value}' is not one of the choices{self._offer(name)}"
        if framework is None:  # the intervention is not known: any framework's words will do
            found = self.anywhere[name].get(key)
            if found:
                return sorted(found)[0], None
            return None, f"{header} '{value}' is not one of the choices on any framework's list"
        own = self.own.get((name, framework.id))
        if own is None:  # a framework version the matcher was not built with
            own = {}
            for entry in getattr(framework, FRAMEWORK_LISTS[name]):
                own.setdefault(norm(entry.code), entry.code)
                own.setdefault(norm(entry.label), entry.code)
        code = own.get(key)
        if code is not None:
            return code, None
        choices = "; ".join(e.label for e in getattr(framework, FRAMEWORK_LISTS[name]))
        # another framework's word for a code this one allows (the template's merged list
        # offers "Self-referral" for an intervention whose framework says "... or walk-in")
        allowed = set(own.values()) & self.anywhere[name].get(key, set())
        if len(allowed) == 1:
            return allowed.pop(), None
        if key in self.anywhere[name]:
            return None, (
                f"{header} '{value}' is on the list, but is not allowed for {where} "
                f"({framework.name}). Choose one of: {choices}"
            )
        return None, f"{header} '{value}' is not one of the choices for {where}: {choices}"

    def _offer(self, name: str) -> str:
        choices = self.fixed_choices[name]
        if len(choices) > _LIST_CHOICES_SHOWN:
            return ": choose from the drop-down list in the template"
        return ": " + "; ".join(choices)
