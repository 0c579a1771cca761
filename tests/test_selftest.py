"""``vrp-desktop --self-test``: passes on a working install, and says FAIL (exit 1) otherwise.

No mocks: the checks run against a real encrypted workspace in a temporary folder; failures are
caused for real (a folder that cannot be made) or injected by the documented env var.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vrp_desktop import selftest

ROOT = Path(__file__).resolve().parent.parent


def _run(**kwargs) -> tuple[int, str]:
    out = io.StringIO()
    code = selftest.run(out=out, **kwargs)
    return code, out.getvalue()


def test_self_test_passes_and_reports_versions(tmp_path):
    state_before = os.environ.get("VRP_STATE_DIR")
    code, report = _run(workdir=tmp_path)
    assert code == 0, report
    assert "Result: PASS" in report
    assert "FAIL" not in report
    for label in ("VRP Desktop", "Python", "SQLite", "SQLCipher", "Qt"):
        assert f"  {label} " in report
    assert "community" in report or "SQLCipher    4" in report  # a real SQLCipher answered
    for name in ("workspace", "unlock", "records", "questionnaire", "audit", "backup"):
        assert f"PASS  {name}" in report
    # the throwaway workspace is gone and the person's state folder setting is back
    assert list(tmp_path.iterdir()) == []
    assert os.environ.get("VRP_STATE_DIR") == state_before


def test_report_holds_no_personal_data(tmp_path):
    code, report = _run(workdir=tmp_path)
    assert code == 0
    for made_up in ("Test", "Person", "B5 4TJ", "B5"):
        assert made_up not in report.replace("self-test", "")


def test_an_injected_failure_fails_the_run(tmp_path, monkeypatch):
    monkeypatch.setenv(selftest.FAIL_ENV, "records")
    code, report = _run(workdir=tmp_path)
    assert code == 1
    assert "FAIL  records" in report
    assert "Result: FAIL" in report
    # the questionnaire needs the records: it fails too, with a reason rather than a traceback
    assert "FAIL  questionnaire  no participant to record for" in report
    assert "Traceback" not in report


def test_a_folder_that_cannot_be_made_fails_the_run(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    code, report = _run(workdir=blocker / "sub")
    assert code == 1
    assert "FAIL  scratch" in report and "cannot make a temporary folder" in report
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_a_failing_extra_check_fails_the_run(tmp_path):
    def broken(_ctx):
        raise ValueError("x" * 10)

    code, report = _run(workdir=tmp_path, extra_checks=[("window", broken)])
    assert code == 1
    assert "FAIL  window         ValueError at test_selftest.py" in report
    assert "xxxxxxxxxx" not in report  # foreign exception messages never reach the report


@pytest.mark.gui
def test_vrp_desktop_self_test_from_source_starts_the_window(tmp_path):
    """The real entry point (``python -m ui --self-test``), in its own process, offscreen."""
    env = dict(os.environ, VRP_FAST_KDF="1")
    env.pop("QT_QPA_PLATFORM", None)  # --self-test must choose offscreen itself
    env.pop("DISPLAY", None)
    done = subprocess.run(
        [sys.executable, "-m", "ui", "--self-test", "--workdir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS  window" in done.stdout
    assert "PASS  qt" in done.stdout
    assert "platform offscreen" in done.stdout


@pytest.mark.gui
def test_vrp_desktop_self_test_exits_non_zero_on_failure(tmp_path):
    env = dict(os.environ, VRP_FAST_KDF="1", VRP_SELFTEST_FAIL="window")
    done = subprocess.run(
        [sys.executable, "-m", "ui", "--self-test", "--workdir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 1
    assert "FAIL  window" in done.stdout
