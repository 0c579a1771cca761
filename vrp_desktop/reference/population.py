"""The VRP's population reference pack: how many people of each group live in the area.

The evaluation compares who a programme reaches with who lives there (issue 13: "identify the
burden on the population, including any inequalities"). The figures are public statistics (for
example ONS Census 2021 tables of residents aged 10-24 by ethnic group, sex and age), prepared
once by the VRP's analyst as a CSV of ``dimension,category,population`` rows. ``publish`` checks
them against the codes records use, numbers the version, signs it with the VRP's key (as
framework packs are) and keeps it; providers install the same pack with ``install``, which
verifies the signature and refuses an older version, so every evaluation in the partnership
compares with the same figures and a replayed old pack cannot take their place.

The pack holds no personal data: it is counts of residents, from published tables.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from pathlib import Path
from typing import Any

from vrp_desktop import codes
from vrp_desktop.atomic import atomic_write_bytes
from vrp_desktop.services import audit
from vrp_desktop.sync import common
from vrp_desktop.sync.common import SyncError

FORMAT = "vrp-reference/1"
KIND = "population"
#: where a workspace keeps the installed pack (its signed text, as published)
SETTING = "reference.population"
MAX_FILE = 2 * 1024 * 1024
MAX_ROWS = 20_000
#: dimension totals from one population base agree; more than this apart means a mistake
TOTALS_TOLERANCE = 0.01

#: the dimensions the evaluation breaks reach down by, with the codes a category may name
DIMENSIONS: dict[str, dict[str, str] | None] = {
    "ethnic_group": {k: v for k, v in codes.ETHNIC_GROUPS.items() if k != "not_stated"},
    "ethnicity": {k: v for k, v in codes.ETHNICITIES.items() if k != "not_stated"},
    "gender": {k: v for k, v in codes.GENDERS.items() if k in ("female", "male")},
    "age_band": {b: b for b in codes.AGE_BANDS},
    "area": None,  # postcode districts (or local authority names), as records carry them
}
#: the evaluation's names for the same dimensions
EVALUATION_DIMENSION = {
    "Ethnic group": "ethnic_group",
    "Ethnicity": "ethnicity",
    "Gender": "gender",
    "Age band": "age_band",
    "Area (postcode district)": "area",
}
_AREA_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ,&'().-]{0,59}")


@dataclasses.dataclass(frozen=True)
class PopulationPack:
    version: int
    title: str
    source: str
    base: str
    issued_at: str
    tables: dict[str, dict[str, int]]

    def shares(self, dimension: str) -> dict[str, float]:
        """Each category's share of the dimension's total (empty when the pack lacks it)."""
        table = self.tables.get(dimension) or {}
        total = sum(table.values())
        return {k: v / total for k, v in table.items()} if total else {}

    def describe(self) -> str:
        return f"{self.title}, version {self.version} ({self.source})"


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _lookup(dimension: str) -> dict[str, str] | None:
    known = DIMENSIONS[dimension]
    if known is None:
        return None
    found: dict[str, str] = {}
    for code, label in known.items():
        found[_squash(code)] = code
        found[_squash(label)] = code
    return found


def _area(text: str) -> str | None:
    district = codes.postcode_district(text)
    if district:
        return district
    return text.strip() if _AREA_RE.fullmatch(text.strip()) else None


def _read(path: Path, what: str) -> bytes:
    """A file's bytes, or a SyncError saying why not (missing, unreadable, far too large)."""
    try:
        if path.stat().st_size > MAX_FILE:
            raise SyncError(f"{path.name} is far too large to be {what}.")
        return path.read_bytes()
    except FileNotFoundError:
        raise SyncError(f"There is no file {path}. Check the name and folder.") from None
    except OSError as exc:
        raise SyncError(f"Cannot read {path.name}: {exc.strerror}.") from None


def check_tables(tables: Any) -> dict[str, dict[str, int]]:
    """Validated tables, or a SyncError naming every problem (used on publish and install)."""
    problems: list[str] = []
    if not isinstance(tables, dict) or not tables:
        raise SyncError("The population figures are empty: give at least one dimension.")
    clean: dict[str, dict[str, int]] = {}
    for dimension, table in tables.items():
        if dimension not in DIMENSIONS:
            problems.append(
                f"'{dimension}' is not a dimension the evaluation uses (use one of "
                f"{', '.join(DIMENSIONS)})."
            )
            continue
        if not isinstance(table, dict) or not table:
            problems.append(f"{dimension}: no categories.")
            continue
        known = DIMENSIONS[dimension]
        for category, value in table.items():
            if known is not None and category not in known:
                problems.append(f"{dimension}: '{category}' is not one of its codes.")
            elif known is None and (not isinstance(category, str) or _area(category) is None):
                problems.append(f"{dimension}: '{category}' is not an area name or district.")
            elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                problems.append(f"{dimension} {category}: the population must be a whole number.")
            elif value > 100_000_000:
                problems.append(f"{dimension} {category}: {value} people is not plausible.")
        clean[dimension] = dict(table)
    if not problems:
        totals = {d: sum(t.values()) for d, t in clean.items() if d != "area"}
        if totals and min(totals.values()) == 0:
            problems.append("A dimension adds up to no people at all.")
        elif totals and max(totals.values()) > min(totals.values()) * (1 + TOTALS_TOLERANCE):
            listed = ", ".join(f"{d} {n:,}" for d, n in totals.items())
            problems.append(
                f"The dimensions add up to different totals ({listed}); figures for one "
                "population base agree. Check that every table counts the same people."
            )
    if problems:
        raise SyncError("The population figures have problems:\n  " + "\n  ".join(problems))
    return clean


def read_csv(path: Path) -> dict[str, dict[str, int]]:
    """Tables from a ``dimension,category,population`` CSV; codes or labels, any case."""
    path = Path(path)
    raw = _read(path, "a table of population figures")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise SyncError(f"{path.name} is not a text (CSV) file.") from None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise SyncError(f"{path.name} is not a readable CSV file ({exc}).") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise SyncError(f"{path.name} is empty.")
    if len(rows) > MAX_ROWS:
        raise SyncError(f"{path.name} has more than {MAX_ROWS:,} rows.")
    header = [_squash(c) for c in rows[0]]
    if header[:3] != ["dimension", "category", "population"]:
        raise SyncError(
            f"{path.name} must start with the header row dimension,category,population "
            "(then one row per group, e.g. ethnic_group,Asian,12345)."
        )
    problems: list[str] = []
    tables: dict[str, dict[str, int]] = {}
    for line, row in enumerate(rows[1:], start=2):
        cells = [c.strip() for c in row] + ["", "", ""]
        dimension, category, figure = _squash(cells[0]).replace(" ", "_"), cells[1], cells[2]
        if dimension not in DIMENSIONS:
            problems.append(
                f"row {line}: '{cells[0]}' is not a dimension (use one of {', '.join(DIMENSIONS)})."
            )
            continue
        lookup = _lookup(dimension)
        code = _area(category) if lookup is None else lookup.get(_squash(category))
        if not code:
            problems.append(f"row {line}: '{category}' is not a {dimension.replace('_', ' ')}.")
            continue
        try:
            value = int(figure.replace(",", ""))
        except ValueError:
            problems.append(f"row {line}: '{figure}' is not a whole number of people.")
            continue
        if value < 0:
            problems.append(f"row {line}: a population cannot be negative.")
            continue
        table = tables.setdefault(dimension, {})
        if code in table:
            problems.append(f"row {line}: {dimension} '{category}' is given twice.")
            continue
        table[code] = value
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] * (len(problems) > 20))
        raise SyncError(
            f"{path.name} has problems; nothing was published:\n  " + "\n  ".join(shown)
        )
    return check_tables(tables)


def _parse(text: str, name: str) -> tuple[dict[str, Any], bytes]:
    try:
        body = json.loads(text)
        if not isinstance(body, dict):
            raise ValueError
        signature = common.unb64(body.pop("signature"), "signature")
        if body.get("format") != FORMAT or body.get("kind") != KIND:
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError, SyncError):
        raise SyncError(
            f"{name} is not a population reference pack from a VRP. Nothing was changed."
        ) from None
    return body, signature


def _pack_of(body: dict[str, Any]) -> PopulationPack:
    version = body.get("version")
    texts = [body.get(k) for k in ("title", "source", "base", "issued_at")]
    if (
        isinstance(version, bool)
        or not isinstance(version, int)
        or version < 1
        or not all(isinstance(t, str) for t in texts)
    ):
        raise SyncError("The population reference pack is damaged. Nothing was changed.")
    return PopulationPack(version, *texts, tables=check_tables(body.get("tables")))


def installed(ws) -> PopulationPack | None:
    """The pack this workspace compares with, or None."""
    text = ws.setting(SETTING)
    if not text:
        return None
    body, _signature = _parse(text, "The installed population pack")
    return _pack_of(body)


def publish(ws, csv_path: Path, out: Path, *, title: str, source: str, base: str) -> dict[str, Any]:
    """Check the CSV, sign the next version of the pack, keep it here and write it out."""
    from vrp_desktop.sync.coordinator import material, require_coordinator

    require_coordinator(ws)
    for what, value in (("--title", title), ("--source", source), ("--base", base)):
        if not value.strip() or len(value) > 300:
            raise SyncError(f"Give {what} in a few words (it is printed beside every figure).")
    tables = read_csv(Path(csv_path))
    keys = material(ws)
    previous = installed(ws)
    body = {
        "format": FORMAT,
        "kind": KIND,
        "vrp_id": keys[common.VRP_ID],
        "version": (previous.version if previous else 0) + 1,
        "issued_at": common.utc_now_iso(),
        "title": title.strip(),
        "source": source.strip(),
        "base": base.strip(),
        "tables": tables,
    }
    signature = common.sign(keys["signing_private"], common.canonical(body))
    text = json.dumps({**body, "signature": common.b64(signature)}, indent=1, sort_keys=True)
    out = Path(out)
    if not out.parent.is_dir():
        raise SyncError(f"There is no folder {out.parent}. Make it first, or choose another.")
    with ws.unit() as session:
        ws.set_setting(session, SETTING, text)
        audit.append(
            session,
            ws.user.username,
            "reference.publish",
            "reference",
            None,
            after={"kind": KIND, "version": body["version"], "dimensions": sorted(tables)},
        )
    atomic_write_bytes(out, text.encode(), mode=0o644)
    return {"version": body["version"], "file": str(out), "dimensions": sorted(tables)}


def install(ws, path: Path) -> dict[str, Any]:
    """Install a pack the VRP signed; an older or equal version, or another VRP's, is refused."""
    common.require_joined(ws)
    ws.require("send_batch")
    path = Path(path)
    try:
        text = _read(path, "a population pack").decode("utf-8")
    except UnicodeDecodeError:
        raise SyncError(f"{path.name} is not a population reference pack.") from None
    body, signature = _parse(text, path.name)
    public = bytes.fromhex(ws.setting(common.VRP_SIGNING_PUBLIC) or "")
    if not common.verify(public, signature, common.canonical(body)):
        raise SyncError(
            f"{path.name} is not signed by your VRP ({ws.setting(common.PARTNERSHIP)}), or it "
            "was changed on the way. Nothing was installed."
        )
    if body.get("vrp_id") != ws.setting(common.VRP_ID):
        raise SyncError(f"{path.name} is for another VRP. Nothing was installed.")
    pack = _pack_of(body)
    current = installed(ws)
    if current is not None and pack.version == current.version:
        raise SyncError(
            f"{path.name} (version {pack.version}) is already installed. Nothing was changed."
        )
    if current is not None and pack.version < current.version:
        raise SyncError(
            f"{path.name} is version {pack.version}, but version {current.version} is already "
            "installed. Nothing was changed (ask the VRP for its newest pack)."
        )
    with ws.unit() as session:
        ws.set_setting(session, SETTING, text)
        audit.append(
            session,
            ws.user.username,
            "reference.import",
            "reference",
            None,
            after={"kind": KIND, "version": pack.version},
        )
    return {"version": pack.version, "title": pack.title, "dimensions": sorted(pack.tables)}


__all__ = ["PopulationPack", "install", "installed", "publish", "read_csv"]
