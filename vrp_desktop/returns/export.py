"""Record-level export for a provider's own analysis, streamed straight into the workbook
(``xlsxstream``), each table split across sheets below the Excel/LibreOffice row limit.

Pseudonymised by default: record ids, local references and pseudonyms, never names, birth
dates, contacts or free text. Identifiers are added only on an explicit request by someone
whose role may export them (``export_ids``); either way the export is one audit event.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from vrp_desktop import __version__, clock
from vrp_desktop.atomic import atomic_open
from vrp_desktop.returns import xlsxstream
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


@dataclasses.dataclass(frozen=True)
class _Source:
    """The tables one kind of workspace exports: a provider's own records, or the records a
    coordinator holds from providers' batches (each row with the provider it came from)."""

    p: Any
    e: Any
    s: Any
    a: Any
    r: Any
    i: Any
    provider: Any = None  # the Provider model, for a coordinator's export

    @property
    def own(self) -> bool:
        return self.provider is None


def _own_source() -> _Source:
    return _Source(Participant, Enrolment, Session, Attendance, OutcomeResponse, Intervention)


def _imported_source() -> _Source:
    from vrp_desktop.store.models import Provider
    from vrp_desktop.store.sync_models import (
        ImportedAttendance,
        ImportedEnrolment,
        ImportedIntervention,
        ImportedParticipant,
        ImportedResponse,
        ImportedSession,
    )

    return _Source(
        ImportedParticipant,
        ImportedEnrolment,
        ImportedSession,
        ImportedAttendance,
        ImportedResponse,
        ImportedIntervention,
        Provider,
    )


def _specs(src: _Source, with_identifiers: bool = False) -> list[SheetSpec]:
    """The five sheets, one definition for both kinds of workspace: a coordinator's rows
    start with the provider, and carry no local reference, identifiers or sync state."""
    p, e, s, a, r, i, pv = src.p, src.e, src.s, src.a, src.r, src.i, src.provider
    ids = with_identifiers and src.own

    def cols(*groups: list[tuple[str, Any]], own: list[tuple[str, Any]] = ()) -> list:
        prefix = [] if src.own else [("Provider", pv.code)]
        return [*prefix, *(c for g in groups for c in g), *(own if src.own else [])]

    def base(model):
        if src.own:
            return model.__table__
        return model.__table__.outerjoin(pv.__table__, pv.id == model.provider_id)

    def with_intervention(model):
        if src.own:
            return model.__table__.join(i.__table__, i.id == model.intervention_id)
        return base(model).outerjoin(i.__table__, i.id == model.intervention_id)

    def order(*columns):
        return columns if src.own else (pv.code, *columns)

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
        if ids
        else []
    )
    score_ids: list[str] = []
    for measure in fw_service.builtin_catalog().measures():
        score_ids += [sid for sid in measure.score_ids() if sid not in score_ids]
    return [
        SheetSpec(
            "Participants",
            cols(
                [("Participant id", p.id)],
                [("Reference", p.reference)] if src.own else [],
                [("Pseudonym", p.pseudonym)],
                identity,
                [
                    ("Age band", p.age_band),
                    ("Gender", p.gender),
                    ("Ethnicity", p.ethnicity),
                    ("Postcode district", p.postcode_district),
                    ("Consent status", p.consent_status),
                    ("Consent date", p.consent_date),
                ],
                [("Sync state", p.sync_state)] if src.own else [],
                [("Version", p.version)],
            ),
            base(p),
            where=(p.erased_at.is_(None),) if src.own else (),
            order_by=order(p.id),
        ),
        SheetSpec(
            "Enrolments",
            cols(
                [
                    ("Enrolment id", e.id),
                    ("Participant id", e.participant_id),
                    ("Intervention", i.name),
                    ("Referral source", e.referral_source),
                    ("Referral date", e.referral_date),
                    ("Start date", e.start_date),
                    ("End date", e.end_date),
                    ("Exit reason", e.exit_reason),
                ],
                [("Exit detail", e.exit_detail)] if ids else [],
                own=[("Sync state", e.sync_state)] if src.own else [],
            ),
            with_intervention(e),
            order_by=order(e.id),
        ),
        SheetSpec(
            "Sessions",
            cols(
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
                ],
                [("Notes", s.notes)] if ids else [],
                own=[("Sync state", s.sync_state)] if src.own else [],
            ),
            with_intervention(s),
            order_by=order(s.id),
            convert={"Activities": _joined},
        ),
        SheetSpec(
            "Attendances",
            cols(
                [
                    ("Session id", a.session_id),
                    ("Participant id", a.participant_id),
                    ("Status", a.status),
                ]
            ),
            base(a),
            order_by=order(a.session_id, a.participant_id),
        ),
        SheetSpec(
            "Questionnaires",
            cols(
                [
                    ("Response id", r.id),
                    ("Participant id", r.participant_id),
                    ("Enrolment id", r.enrolment_id),
                    ("Measure", r.measure_id),
                    ("Timepoint", r.timepoint),
                    ("Completed on", r.completed_on),
                ],
                [(sid, json_number(r.scores, sid)) for sid in score_ids],
                [("Scoring version", r.scoring_version)],
                own=[("Sync state", r.sync_state)] if src.own else [],
            ),
            base(r),
            order_by=order(r.id),
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


@dataclasses.dataclass
class Written:
    """What ``write_rows`` wrote: rows per table, and the sheets each table took."""

    counts: dict[str, int]
    sheets: dict[str, list[str]]


def write_rows(
    path: Path,
    sheets: Iterable[tuple[str, list[str], Iterable[tuple], int]],
    *,
    title: str,
    progress: Progress | None = None,
    cover: Callable[[Written], list[list[Any]]] | None = None,
    rows_per_sheet: int = xlsxstream.MAX_ROWS - 1,
) -> dict[str, int]:
    """Write sheets of (name, header, rows, expected count), atomically, streamed.

    A table longer than a sheet holds (``rows_per_sheet`` below the header) continues on
    "Name (2)", "Name (3)"...; ``cover`` gives the rows of a first sheet, "About", which can
    say so. Nothing is written anywhere but the destination's own temporary file."""
    report = progress or (lambda *_: None)
    path = Path(path)
    written = Written({}, {})
    with atomic_open(path, 0o600) as handle:
        book = xlsxstream.Workbook(handle, title=title, creator=f"VRP Desktop {__version__}")
        try:
            for name, header, rows, total in sheets:
                widths = [max(12, min(len(text) + 4, 40)) for text in header]
                parts: list[str] = []
                n = 0
                sheet = None
                for row in rows:
                    if sheet is None or sheet.rows > rows_per_sheet:
                        if sheet is not None:
                            sheet.close()
                        parts.append(name if not parts else f"{name[:25]} ({len(parts) + 1})")
                        sheet = book.sheet(parts[-1], widths)
                        parts[-1] = sheet.name
                        sheet.styled_row(header, xlsxstream._HEADER)
                    sheet.append(row)
                    n += 1
                    if n % _CHUNK == 0:
                        report(f"Writing {name.lower()}", n, total)
                if sheet is None:  # an empty table still gets its sheet and header
                    sheet = book.sheet(name, widths)
                    parts.append(sheet.name)
                    sheet.styled_row(header, xlsxstream._HEADER)
                sheet.close()
                report(f"Writing {name.lower()}", n, total)
                written.counts[name] = n
                written.sheets[name] = parts
            if cover is not None:
                about = book.sheet("About", [28, 20, 90], freeze_header=False)
                for k, line in enumerate(cover(written)):
                    style = (
                        xlsxstream.TITLE_STYLE
                        if k == 0
                        else (xlsxstream._HEADER if line and line[0] == "Sheet" else 0)
                    )
                    if style:
                        about.styled_row(line, style)
                    else:
                        about.append(line)
                about.close()
                book.order(["About", *(n for parts in written.sheets.values() for n in parts)])
            report("Saving the workbook", 0, 0)
            book.close()
        except BaseException:
            book.abort()
            raise
    return written.counts


def _cover(title: str, with_identifiers: bool) -> Callable[[Written], list[list[Any]]]:
    def rows(written: Written) -> list[list[Any]]:
        limit = xlsxstream.MAX_ROWS - 1
        out: list[list[Any]] = [
            [title],
            [f"Written by VRP Desktop {__version__} on", clock.local_now().replace(microsecond=0)],
            [
                "Contents",
                None,
                "Names, birth dates, contacts and free text are included."
                if with_identifiers
                else "Pseudonymised: record ids, references and pseudonyms; no names, birth "
                "dates, contacts or free text.",
            ],
            [],
            ["Sheet", "Rows", "Notes"],
        ]
        for table, parts in written.sheets.items():
            note = None
            if len(parts) > 1:
                note = (
                    f"{table} has {written.counts[table]:,} rows, more than one sheet holds "
                    f"in Excel or LibreOffice ({limit:,} below the header), so it continues "
                    f"on {', '.join(parts[1:])}: read them together, in order."
                )
            out.append([", ".join(parts), written.counts[table], note])
        return out

    return rows


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
        specs = _specs(_imported_source())
    else:
        specs = _specs(_own_source(), with_identifiers)
    with ws.engine.connect() as conn:
        sheets = [
            (spec.name, [name for name, _ in spec.columns], _rows(conn, spec), _count(conn, spec))
            for spec in specs
        ]
        title = "Record-level export" + (" (with identifiers)" if with_identifiers else "")
        counts = write_rows(
            path, sheets, title=title, progress=progress, cover=_cover(title, with_identifiers)
        )
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
