"""A demo workspace shared by the return tests of one module (generating it is the slow part)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE

#: the demo data ends here, so the quarters it covers are fixed
DEMO_END = dt.datetime(2027, 1, 20, 18, 0)


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory):
    from vrp_desktop.services import demo
    from vrp_desktop.workspace import Workspace

    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("returns-home")
        mp.setenv("VRP_FAST_KDF", "1")
        mp.setenv("VRP_STATE_DIR", str(home / "state"))
        mp.setenv("VRP_DATA_DIR", str(home / "data"))
        ws, _ = Workspace.create(
            tmp_path_factory.mktemp("returns") / "ws",
            provider_code="P001",
            provider_name="Test Youth Project",
            username="manager",
            passphrase=PASSPHRASE,
        )
        demo.generate(ws, participants=400, sessions=2500, seed=7, end=DEMO_END)
        yield ws
        ws.close()


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def libreoffice_csv(xlsx: Path, out_dir: Path, sheet: int = 1) -> str:
    """Convert one sheet of a workbook to CSV with LibreOffice headless; returns the text."""
    exe = soffice()
    assert exe
    profile = out_dir / "lo-profile"
    out_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            exe,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            f"csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,{sheet}",
            "--outdir",
            str(out_dir),
            str(xlsx),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    produced = sorted(out_dir.glob(f"{xlsx.stem}*.csv"))
    assert result.returncode == 0 and produced, (result.stdout, result.stderr)
    return produced[0].read_text(encoding="utf-8")
