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


def test_failures_fail_the_run_each_with_a_reason(tmp_path, monkeypatch):
    """One check failed on purpose (the env var), one that raises a foreign exception."""

    def broken(_ctx):
        raise ValueError("x" * 10)

    state_before = os.environ.get("VRP_STATE_DIR")
    monkeypatch.setenv(selftest.FAIL_ENV, "records")
    code, report = _run(workdir=tmp_path, extra_checks=[("window", broken)])
    assert code == 1
    assert "FAIL  records" in report and "Result: FAIL" in report
    # what needs the records fails too, with a reason rather than a traceback
    assert "FAIL  questionnaire  no participant to record for" in report
    assert "Traceback" not in report
    assert "FAIL  window         ValueError at test_selftest.py" in report
    assert "xxxxxxxxxx" not in report  # foreign exception messages never reach the report
    assert "PASS  workspace" in report  # the other checks still ran
    # the throwaway workspace is gone and the person's state folder setting is back
    assert list(tmp_path.iterdir()) == []
    assert os.environ.get("VRP_STATE_DIR") == state_before


def test_a_folder_that_cannot_be_made_fails_the_run(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    code, report = _run(workdir=blocker / "sub")
    assert code == 1
    assert "FAIL  scratch" in report and "cannot make a temporary folder" in report
    assert blocker.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.gui
def test_vrp_desktop_self_test_from_source_passes(tmp_path):
    """The real entry point (``python -m ui --self-test``) in its own process: every check, the
    window included, passes; the report has the versions and no made-up personal data."""
    env = dict(os.environ, VRP_FAST_KDF="1")
    env.pop("QT_QPA_PLATFORM", None)  # --self-test must choose offscreen itself
    env.pop("DISPLAY", None)
    env.pop(selftest.FAIL_ENV, None)
    done = _ui_self_test(tmp_path, env)
    report = done.stdout
    assert done.returncode == 0, report + done.stderr
    assert "Result: PASS" in report and "FAIL" not in report
    for label in ("VRP Desktop", "Python", "SQLite", "SQLCipher", "Qt"):
        assert f"  {label} " in report
    assert "platform offscreen" in report
    for name in ("workspace", "unlock", "records", "questionnaire", "audit", "backup", "qt"):
        assert f"PASS  {name}" in report
    assert "PASS  window" in report
    for made_up in ("Test", "Person", "B5 4TJ", "B5"):
        assert made_up not in report.replace("self-test", "")
    assert list(tmp_path.iterdir()) == []  # the throwaway workspace is gone


@pytest.mark.gui
def test_vrp_desktop_self_test_exits_non_zero_on_failure(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    done = _ui_self_test(blocker / "sub", dict(os.environ))
    assert done.returncode == 1
    assert "FAIL  scratch" in done.stdout and "Result: FAIL" in done.stdout


def _ui_self_test(workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ui", "--self-test", "--workdir", str(workdir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
