"""``vrp intervention``, run as a separate process on a fresh ``vrp init`` workspace, as a
provider manager would type it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import PASSPHRASE


def vrp(*args: str, passphrase: str = PASSPHRASE) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vrp_desktop.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "VRP_PASSPHRASE": passphrase},
        timeout=120,
    )


@pytest.fixture
def ws(tmp_path) -> str:
    folder = str(tmp_path / "ws")
    made = vrp("init", folder, "--provider-code", "P014", "--provider-name", "Northside",
               "--user", "jo")  # fmt: skip
    assert made.returncode == 0, made.stderr
    return folder


def _listed(ws: str, *extra: str) -> list[dict]:
    result = vrp("intervention", "list", ws, "--json", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_add_list_edit_close_reopen(ws):
    empty = vrp("intervention", "list", ws)
    assert empty.returncode == 0 and "vrp intervention add" in empty.stdout  # says what to do

    added = vrp(
        "intervention", "add", ws, "--framework", "sports_diversion", "--name", "Friday football",
        "--setting", "community", "--delivery", "group", "--day", "fri", "--time", "18:00",
        "--minutes", "90", "--location", "sports_hall", "--mode", "in_person", "--lead", "Jo",
        "--area", "Ladywood",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "Set up 'Friday football'" in added.stdout
    (row,) = _listed(ws)
    assert row["framework_id"] == "sports_diversion" and row["delivery"] == "group"
    assert (row["usual_weekday"], row["usual_time"], row["usual_minutes"]) == (4, "18:00", 90)
    assert row["usual_location_type"] == "sports_hall" and row["lead_staff"] == "Jo"
    assert row["tier"] == "universal" and row["version"] == 1

    table = vrp("intervention", "list", ws)
    assert "Friday football" in table.stdout and "Fri 18:00 90 min" in table.stdout

    edited = vrp("intervention", "edit", ws, "friday football", "--delivery", "1:1",
                 "--day", "", "--time", "17:30")  # fmt: skip
    assert edited.returncode == 0, edited.stderr
    (row,) = _listed(ws)
    assert row["delivery"] == "one_to_one" and row["usual_weekday"] is None
    assert row["usual_time"] == "17:30" and row["version"] == 2

    closed = vrp("intervention", "close", ws, row["id"], "--on", "01/11/2026")
    assert closed.returncode == 0, closed.stderr
    assert _listed(ws) == []
    (gone,) = _listed(ws, "--all")
    assert gone["active"] is False and gone["closed_on"] == "2026-11-01"

    reopened = vrp("intervention", "reopen", ws, "Friday football")
    assert reopened.returncode == 0, reopened.stderr
    assert _listed(ws)[0]["version"] == 4
    assert vrp("audit", "verify", ws).returncode == 0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--setting", "moon_base"], "is not one of Sports-based diversion's settings"),
        (["--setting", "community", "--delivery", "webinar"], "Choose one of: group (Group)"),
        (["--setting", "community", "--day", "someday"], "mon, tue, wed"),
        (["--setting", "community", "--minutes", "999"], "30 to 240 minutes"),
        (["--setting", "community", "--time", "6pm"], "e.g. 18:00"),
    ],
)
def test_bad_values_are_a_message_and_change_nothing(ws, args, words):
    result = vrp("intervention", "add", ws, "--framework", "sports_diversion", "--name", "X",
                 *args)  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("vrp: ") and words in result.stderr
    assert "Traceback" not in result.stderr and "Nothing was saved" in result.stderr
    assert _listed(ws, "--all") == []


def test_unknown_framework_and_intervention_and_passphrase(ws):
    result = vrp("intervention", "add", ws, "--framework", "knitting", "--name", "X",
                 "--setting", "community")  # fmt: skip
    assert result.returncode == 1 and "sports_diversion (Sports-based diversion)" in result.stderr
    missing = vrp("intervention", "close", ws, "Tuesday boxing")
    assert missing.returncode == 1 and "list --all" in missing.stderr
    nothing = vrp("intervention", "edit", ws, "Tuesday boxing")
    assert nothing.returncode == 1
    wrong = vrp("intervention", "list", ws, passphrase="not the passphrase at all")
    assert wrong.returncode == 3 and "Traceback" not in wrong.stderr
    usage = vrp("intervention", "add", ws, "--name", "X")  # no --framework
    assert usage.returncode == 2 and "--framework" in usage.stderr
