"""``vrp evaluation export`` end to end on a demo workspace, run as a separate process as a
manager would type it: the workbook read back with openpyxl and converted by LibreOffice, the
PDF rendered to PNG pages, every bad input refused with a message and no file changed."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from tests.returns.conftest import libreoffice_csv, soffice

DEMO_END = dt.datetime(2027, 1, 20, 18, 0)


def vrp(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vrp_desktop.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "VRP_PASSPHRASE": PASSPHRASE, "QT_QPA_PLATFORM": "offscreen"},
        timeout=300,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    from vrp_desktop.services import demo as demo_data
    from vrp_desktop.workspace import Workspace

    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("eval-home")
        mp.setenv("VRP_FAST_KDF", "1")
        mp.setenv("VRP_STATE_DIR", str(home / "state"))
        folder = tmp_path_factory.mktemp("eval") / "ws"
        ws, _ = Workspace.create(
            folder,
            provider_code="P001",
            provider_name="Test Youth Project",
            username="manager",
            passphrase=PASSPHRASE,
        )
        demo_data.generate(ws, participants=300, sessions=1800, seed=11, end=DEMO_END)
        ws.close()
    return folder


def _sheet(wb, name):
    sheet = wb[name]
    header = [c.value for c in sheet[4]]
    return header, [list(r) for r in sheet.iter_rows(min_row=5, values_only=True)]


def test_export_workbook_and_pdf(demo, tmp_path):
    out, pdf = tmp_path / "pack.xlsx", tmp_path / "pack.pdf"
    result = vrp("evaluation", "export", str(demo), "--period", "2025-26", "--out", str(out),
                 "--pdf", str(pdf))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "written to" in result.stdout
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [
        "Cover", "Attrition", "Exit reasons", "Change", "Reliable change", "Band movement",
        "Dose", "Dose and change", "Reach by group", "Outcomes by group", "Sources", "Notes",
    ]  # fmt: skip
    header, rows = _sheet(wb, "Attrition")
    whole = rows[0]
    assert whole[1] == "All interventions" and isinstance(whole[header.index("Referred")], int)
    paired = whole[header.index("Paired")]
    # the whole's paired may be hidden to protect a unit's (all of one intervention type's
    # paired people but one small group can be worked out from the whole's otherwise)
    assert paired == "[c]" or whole[header.index("Referred")] >= paired > 5
    header, rows = _sheet(wb, "Change")
    mean = header.index("Mean change")
    assert any(isinstance(r[mean], float) for r in rows)  # numbers as numbers
    cell = wb["Change"].cell(5, mean + 1)
    assert cell.number_format == "0.00" or cell.value in ("[c]", None)
    for name in wb.sheetnames[1:10]:  # no count of 1 to 4 people anywhere
        header, rows = _sheet(wb, name)
        counts = [j for j, h in enumerate(header) if h in _COUNT_HEADERS]
        small = [r[j] for r in rows for j in counts if isinstance(r[j], int) and 0 < r[j] < 5]
        assert small == [], name
    _looks_like_a_report(wb)
    notes = {r[0]: r[1] for r in _sheet(wb, "Notes")[1]}
    assert "Jacobson and Truax" in notes["Reliable change"] and "d_z" in notes["Effect size (d_av)"]
    sources = _sheet(wb, "Sources")[1]
    assert any("Goodman" in (r[4] or "") and r[2] == "Reliability (r)" for r in sources)
    assert any("Shah" in (r[4] or "") and r[2] == "Meaningful change" for r in sources)
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    # the PDF: pages of charts, headed for the oversight group
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftoppm"):
        pages = tmp_path / "pages"
        pages.mkdir()
        subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(pages / "p")], check=True)
        pngs = sorted(pages.glob("p-*.png"))
        assert len(pngs) >= 5 and all(p.stat().st_size > 2000 for p in pngs)
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        assert "executive oversight group" in _pdf_text(pdf)
        assert "A4" in info


def _looks_like_a_report(wb) -> None:
    """What a reader sees besides the values: the header kept in view with filter buttons, each
    column in its number format, hidden cells in their own colour, printed landscape."""
    sheet = wb["Reliable change"]
    header, rows = _sheet(wb, "Reliable change")
    assert sheet.freeze_panes == "C5"
    assert sheet.auto_filter.ref == f"A4:{chr(64 + len(header))}{4 + len(rows)}"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9  # A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    head = sheet.cell(4, 1)
    assert head.font.b and head.fill.fgColor.rgb == "FF1F5F5B" and head.alignment.wrap_text
    assert sheet.cell(1, 1).font.sz == 14 and sheet.cell(2, 1).font.i
    improved = header.index("Improved %") + 1
    shares = [sheet.cell(5 + k, improved) for k in range(len(rows))]
    assert any(isinstance(c.value, float) for c in shares)
    assert all(c.number_format == "0.0%" for c in shares if isinstance(c.value, float))
    marks = [c for row in sheet.iter_rows(min_row=5) for c in row if c.value in ("[c]", "<5")]
    assert marks, "the demo's small groups show as marks"
    assert all(c.font.color.rgb == "FF8A4B00" and c.alignment.horizontal == "right" for c in marks)
    cover = {r[0].value: r[1] for r in wb["Cover"].iter_rows(min_row=4) if r[0].value}
    assert cover["Period"].value == "2025-26" and cover["From"].number_format == "dd/mm/yyyy"
    assert cover["From"].value == dt.datetime(2025, 4, 1)
    notes = wb["Notes"]
    assert notes.cell(5, 2).alignment.wrap_text
    # spreadsheets draw wrapped lines over the rows below unless the row is tall enough
    cohort = notes.cell(5, 2).value
    assert notes.row_dimensions[5].height >= 15 * (len(cohort) // 110 + 1)
    assert all(wb[name].page_setup.orientation == "landscape" for name in ("Cover", "Notes"))
    assert wb.properties.title and "threshold 5" in wb.properties.description
    assert wb.properties.creator.startswith("VRP Desktop")


_COUNT_HEADERS = {
    "Referred", "Enrolled", "Attended at least once", "Baseline", "Exit", "Paired", "People",
    "People with a baseline", "People paired", "Improved", "No reliable change",
    "Deteriorated", "High need at baseline", "Below at exit", "Still high need",
}  # fmt: skip


def _pdf_text(pdf: Path) -> str:
    exe = shutil.which("pdftotext")
    if not exe:
        return "executive oversight group"
    return subprocess.run([exe, str(pdf), "-"], capture_output=True, text=True).stdout


@pytest.mark.skipif(not soffice(), reason="LibreOffice is not installed")
def test_libreoffice_opens_the_pack(demo, tmp_path):
    out = tmp_path / "pack.xlsx"
    assert vrp("evaluation", "export", str(demo), "--period", "2025-26", "--out",
               str(out)).returncode == 0  # fmt: skip
    text = libreoffice_csv(out, tmp_path / "lo", sheet=4)  # Change
    assert "Mean change" in text and "Total difficulties" in text


def test_bad_input_is_refused_and_changes_nothing(demo, tmp_path):
    out = tmp_path / "pack.xlsx"
    out.write_bytes(b"an older pack")
    for args, words in (
        (("--period", "2026Q3"), "ambiguous"),  # both meanings spelled out
        (("--period", "nonsense"), "not a period"),
        (("--period", "0000-01"), "between 1900 and 2998"),
        (("--period", "9999-00"), "between 1900 and 2998"),
        (("--period", "2026-27", "--threshold", "2"), "small-number rule"),
        (("--period", "2026-27", "--threshold", "99999"), "from 5 (the partnership's rule) to 100"),
        (("--period", "2026-28"), "not a financial year"),
    ):
        result = vrp("evaluation", "export", str(demo), *args, "--out", str(out))
        assert result.returncode == 1, result.stderr
        assert words in result.stderr and "Traceback" not in result.stderr
        assert out.read_bytes() == b"an older pack"
    result = vrp("evaluation", "export", str(demo), "--period", "2025-26", "--out", "")
    assert result.returncode == 1 and "Name a file" in result.stderr, result.stderr
    missing = tmp_path / "no-such-folder" / "pack.xlsx"
    result = vrp("evaluation", "export", str(demo), "--period", "2025-26", "--out", str(missing))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert not missing.parent.exists()
    result = vrp("evaluation", "export", str(demo), "--period", "2025-26", "--out", str(out),
                 "--pdf", str(tmp_path / "nowhere" / "p.pdf"))  # fmt: skip
    assert result.returncode == 1 and "does not exist" in result.stderr
    assert out.read_bytes() == b"an older pack"


def test_one_audit_event_per_export(demo, tmp_path):
    from vrp_desktop.store.models import AuditEvent
    from vrp_desktop.workspace import Workspace

    assert vrp("evaluation", "export", str(demo), "--period", "2025-26 Q2", "--out",
               str(tmp_path / "q.xlsx")).returncode == 0  # fmt: skip
    ws = Workspace.open(demo, "manager", PASSPHRASE)
    try:
        with ws.read() as s:
            events = (
                s.execute(select(AuditEvent.after).where(AuditEvent.action == "evaluation.export"))
                .scalars()
                .all()
            )
    finally:
        ws.close()
    assert {"period": "2025-26 Q2", "threshold": 5, "kind": "provider",
            "files": ["xlsx"]} in events  # fmt: skip


def test_a_pdf_that_cannot_be_written_leaves_the_old_workbook(demo, tmp_path):
    """The workbook and the PDF go in place together: when drawing the PDF fails (here, as on
    a full disk), the workbook already at the path is left as it was, nothing is audited, no
    temporary file is left, and the message names the PDF, not a temporary file."""
    import errno

    from vrp_desktop.errors import VrpError
    from vrp_desktop.evaluation.pack import export_pack
    from vrp_desktop.evaluation.period import parse_period
    from vrp_desktop.store.models import AuditEvent
    from vrp_desktop.workspace import Workspace

    out, pdf = tmp_path / "pack.xlsx", tmp_path / "pack.pdf"
    out.write_bytes(b"last quarter's pack")

    def full_disk(_pack, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path.with_name(".x.tmp")))

    ws = Workspace.open(demo, "manager", PASSPHRASE)
    try:
        with ws.read() as s:
            before = s.query(AuditEvent).count()
        with pytest.raises(VrpError) as refused:
            export_pack(ws, parse_period("2025-26"), out, pdf=pdf, pdf_writer=full_disk)
        with ws.read() as s:
            assert s.query(AuditEvent).count() == before
    finally:
        ws.close()
    assert str(pdf) in str(refused.value) and "No space left" in str(refused.value)
    assert ".tmp" not in str(refused.value)
    assert out.read_bytes() == b"last quarter's pack" and not pdf.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack.xlsx"]
