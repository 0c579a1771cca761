"""Record-level export for a provider's own analysis, streamed with openpyxl's write-only mode.

Pseudonymised by default: record ids, local references and pseudonyms, never names, birth
dates, contacts or free text. Identifiers are added only on an explicit request by someone
whose role may export them (``export_ids``); either way the export is one audit event.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from sqlalchemy import Connection, func, select

from vrp_desktop import __version__
from vrp_desktop.atomic import atomic_open
from vrp_desktop.returns.xlsxtemp import parts_beside
from vrp_desktop.services import audit
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.store.models import (
    Attendance,
    Enrolment,
    Intervention,
    OutcomeResponse,
    Participant,
    Session,
)
from vrp_desktop.store.portable import json_number

Progress = Callable[[str, int, int], None]
_CHUNK = 5000
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F5F5B")


@dataclasses.dataclass(frozen=True)
class SheetSpec:
    name: str
    columns: list[tuple[str, Any]]  # (header, column expression)
    select_from: Any
    where: tuple = ()
    order_by: tuple = ()
    #: header -> a function turning the stored value into a cell value
    convert: dict[str, Callable[[Any], Any]] = dataclasses.field(default_factory=dict)


def _joined(value: Any) -> str | None:
    return ", ".join(str(v) for v in value) if value else None


def _specs(with_identifiers: bool) -> list[SheetSpec]:
    p, e, s, a, r, i = Participant, Enrolment, Session, Attendance, OutcomeResponse, Intervention
    identity = (
        [
            ("First name", p.first_name),
            ("Last name", p.last_name),
            ("Preferred name", p.preferred_name),
            ("Date of birth", p.date_of_birth),
            ("Address", p.address),
            ("Phone", p.phone),
            ("Email", p.email),
        ]
        if with_identifiers
        else []
    )
    score_ids: list[str] = []
    for measure in fw_service.builtin_catalog().measures():
        score_ids += [sid for sid in measure.score_ids() if sid not in score_ids]
    return [
        SheetSpec(
            "Participants",
            [
                ("Participant id", p.id),
                ("Reference", p.reference),
                ("Pseudonym", p.pseudonym),
                *identity,
                ("Age band", p.age_band),
                ("Gender", p.gender),
                ("Ethnicity", p.ethnicity),
                ("Postcode district", p.postcode_district),
                ("Consent status", p.consent_status),
                ("Consent date", p.consent_date),
                ("Sync state", p.sync_state),
                ("Version", p.version),
            ],
            p,
            where=(p.erased_at.is_(None),),
            order_by=(p.id,),
        ),
        SheetSpec(
            "Enrolments",
            [
                ("Enrolment id", e.id),
                ("Participant id", e.participant_id),
                ("Intervention", i.name),
                ("Referral source", e.referral_source),
                ("Referral date", e.referral_date),
                ("Start date", e.start_date),
                ("End date", e.end_date),
                ("Exit reason", e.exit_reason),
                *([("Exit detail", e.exit_detail)] if with_identifiers else []),
                ("Sync state", e.sync_state),
            ],
            e.__table__.join(i.__table__, i.id == e.intervention_id),
            order_by=(e.id,),
        ),
        SheetSpec(
            "Sessions",
            [
                ("Session id", s.id),
                ("Intervention", i.name),
                ("Starts at", s.starts_at),
                ("Duration (minutes)", s.duration_minutes),
                ("Session type", s.session_type),
                ("Mode", s.mode),
                ("Location type", s.location_type),
                ("Activities", s.activities),
                ("Status", s.status),
                *([("Notes", s.notes)] if with_identifiers else []),
                ("Sync state", s.sync_state),
            ],
            s.__table__.join(i.__table__, i.id == s.intervention_id),
            order_by=(s.id,),
            convert={"Activities": _joined},
        ),
        SheetSpec(
            "Attendances",
            [
                ("Session id", a.session_id),
                ("Participant id", a.participant_id),
                ("Status", a.status),
            ],
            a,
            order_by=(a.session_id, a.participant_id),
        ),
        SheetSpec(
            "Questionnaires",
            [
                ("Response id", r.id),
                ("Participant id", r.participant_id),
                ("Enrolment id", r.enrolment_id),
                ("Measure", r.measure_id),
                ("Timepoint", r.timepoint),
                ("Completed on", r.completed_on),
                *((sid, json_number(r.scores, sid)) for sid in score_ids),
                ("Scoring version", r.scoring_version),
                ("Sync state", r.sync_state),
            ],
            r,
            order_by=(r.id,),
        ),
    ]


def _imported_specs() -> list[SheetSpec]:
    """A coordinator's export: the records it holds from providers' batches (pseudonymous as
    they travelled; a VRP holds no names), each with the provider it came from."""
    from vrp_desktop.store.models import Provider
    from vrp_desktop.store.sync_models import (
        ImportedAttendance,
        ImportedEnrolment,
        ImportedIntervention,
        ImportedParticipant,
        ImportedResponse,
        ImportedSession,
    )

    pv = Provider
    p, e, s, a, r, i = (
        ImportedParticipant,
        ImportedEnrolment,
        ImportedSession,
        ImportedAttendance,
        ImportedResponse,
        ImportedIntervention,
    )
    score_ids: list[str] = []
    for measure in fw_service.builtin_catalog().measures():
        score_ids += [sid for sid in measure.score_ids() if sid not in score_ids]

    def joined(model):
        return model.__table__.outerjoin(pv.__table__, pv.id == model.provider_id)

    return [
        SheetSpec(
            "Participants",
            [
                ("Provider", pv.code),
                ("Participant id", p.id),
                ("Pseudonym", p.pseudonym),
                ("Age band", p.age_band),
                ("Gender", p.gender),
                ("Ethnicity", p.ethnicity),
                ("Postcode district", p.postcode_district),
                ("Consent status", p.consent_status),
                ("Consent date", p.consent_date),
                ("Version", p.version),
            ],
            joined(p),
            order_by=(pv.code, p.id),
        ),
        SheetSpec(
            "Enrolments",
            [
                ("Provider", pv.code),
                ("Enrolment id", e.id),
                ("Participant id", e.participant_id),
                ("Intervention", i.name),
                ("Referral source", e.referral_source),
                ("Referral date", e.referral_date),
                ("Start date", e.start_date),
                ("End date", e.end_date),
                ("Exit reason", e.exit_reason),
            ],
            joined(e).outerjoin(i.__table__, i.id == e.intervention_id),
            order_by=(pv.code, e.id),
        ),
        SheetSpec(
            "Sessions",
            [
                ("Provider", pv.code),
                ("Session id", s.id),
                ("Intervention", i.name),
                ("Starts at", s.starts_at),
                ("Duration (minutes)", s.duration_minutes),
                ("Session type", s.session_type),
                ("Mode", s.mode),
                ("Location type", s.location_type),
                ("Activities", s.activities),
                ("Status", s.status),
            ],
            joined(s).outerjoin(i.__table__, i.id == s.intervention_id),
            order_by=(pv.code, s.id),
            convert={"Activities": _joined},
        ),
        SheetSpec(
            "Attendances",
            [
                ("Provider", pv.code),
                ("Session id", a.session_id),
                ("Participant id", a.participant_id),
                ("Status", a.status),
            ],
            joined(a),
            order_by=(pv.code, a.session_id, a.participant_id),
        ),
        SheetSpec(
            "Questionnaires",
            [
                ("Provider", pv.code),
                ("Response id", r.id),
                ("Participant id", r.participant_id),
                ("Enrolment id", r.enrolment_id),
                ("Measure", r.measure_id),
                ("Timepoint", r.timepoint),
                ("Completed on", r.completed_on),
                *((sid, json_number(r.scores, sid)) for sid in score_ids),
                ("Scoring version", r.scoring_version),
            ],
            joined(r),
            order_by=(pv.code, r.id),
        ),
    ]


def _rows(conn: Connection, spec: SheetSpec) -> Iterator[tuple]:
    query = select(*(col.label(f"c{k}") for k, (_, col) in enumerate(spec.columns)))
    query = query.select_from(spec.select_from).where(*spec.where).order_by(*spec.order_by)
    converters = [spec.convert.get(name) for name, _ in spec.columns]
    result = conn.execution_options(yield_per=_CHUNK).execute(query)
    if not any(converters):
        for row in result:
            yield tuple(row)
        return
    for row in result:
        yield tuple(f(v) if f else v for f, v in zip(converters, row, strict=True))


def _count(conn: Connection, spec: SheetSpec) -> int:
    query = select(func.count()).select_from(spec.select_from).where(*spec.where)
    return conn.execute(query).scalar_one()


def write_rows(
    path: Path,
    sheets: Iterable[tuple[str, list[str], Iterable[tuple], int]],
    *,
    title: str,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Write sheets of (name, header, rows, expected count) in write-only mode, atomically."""
    with parts_beside(Path(path)):
        wb = Workbook(write_only=True)
        try:
            return _write_rows(wb, path, sheets, title=title, progress=progress)
        except BaseException:
            for sheet in wb.worksheets:  # close the part files before they are removed
                with contextlib.suppress(Exception):
                    sheet.close()
            raise


def _write_rows(
    wb: Workbook,
    path: Path,
    sheets: Iterable[tuple[str, list[str], Iterable[tuple], int]],
    *,
    title: str,
    progress: Progress | None,
) -> dict[str, int]:
    report = progress or (lambda *_: None)
    wb.properties.title = title
    wb.properties.creator = f"VRP Desktop {__version__}"
    counts: dict[str, int] = {}
    for name, header, rows, total in sheets:
        sheet = wb.create_sheet(name)
        sheet.freeze_panes = "A2"
        for j, text in enumerate(header):
            letter = _letter(j)
            sheet.column_dimensions[letter].width = max(12, min(len(text) + 4, 40))
        cells = []
        for text in header:
            cell = WriteOnlyCell(sheet, value=text)
            cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
            cells.append(cell)
        sheet.append(cells)
        n = 0
        for row in rows:
            sheet.append(row)
            n += 1
            if n % _CHUNK == 0:
                report(f"Writing {name.lower()}", n, total)
        report(f"Writing {name.lower()}", n, total)
        counts[name] = n
    report("Saving the workbook", 0, 0)
    with atomic_open(path, 0o600) as handle:
        wb.save(handle)
    return counts


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def export_records(
    ws, path: Path, *, with_identifiers: bool = False, progress: Progress | None = None
) -> dict[str, int]:
    """Export every record to ``path`` (.xlsx); returns the rows written per sheet."""
    ws.require("export_return")
    if with_identifiers:
        ws.require("export_ids")
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        path = path.with_suffix(".xlsx")
    if ws.kind == "coordinator":
        if with_identifiers:
            from vrp_desktop.errors import VrpError

            raise VrpError(
                "A VRP workspace holds no names, birth dates or contacts: export without "
                "--with-identifiers."
            )
        specs = _imported_specs()
    else:
        specs = _specs(with_identifiers)
    with ws.engine.connect() as conn:
        sheets = [
            (spec.name, [name for name, _ in spec.columns], _rows(conn, spec), _count(conn, spec))
            for spec in specs
        ]
        title = "Record-level export" + (" (with identifiers)" if with_identifiers else "")
        counts = write_rows(path, sheets, title=title, progress=progress)
    with ws.unit() as session:
        audit.append(
            session,
            ws.user.username,
            "records.export",
            "workspace",
            None,
            after={
                **{k.lower(): v for k, v in counts.items()},
                "with_identifiers": with_identifiers,
                "at": dt.datetime.now().replace(microsecond=0).isoformat(),
            },
        )
    return counts
