"""The `vrp` command line, run as a person would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import PASSPHRASE
from vrp_desktop.cli import main


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)


def test_init_prints_the_recovery_code_and_info_reports(tmp_path, env, capsys):
    folder = tmp_path / "ws"
    assert (
        main(
            [
                "init",
                str(folder),
                "--provider-code",
                "P9",
                "--provider-name",
                "Street Kings",
                "--user",
                "alex",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "RECOVERY CODE" in out
    assert main(["info", str(folder), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["provider"] == {"code": "P9", "name": "Street Kings"}
    assert info["user"] == {"username": "alex", "role": "manager"}
    assert info["participants"] == 0


def test_demo_validate_and_audit(tmp_path, env, capsys):
    folder = tmp_path / "demo"
    assert (
        main(["demo", str(folder), "--participants", "120", "--sessions", "400", "--seed", "7"])
        == 0
    )
    capsys.readouterr()
    assert main(["info", str(folder), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["participants"] == 120 and 300 <= info["sessions"] <= 400
    assert main(["validate", str(folder)]) == 0
    assert "0 need attention" in capsys.readouterr().out
    assert main(["audit", "verify", str(folder)]) == 0
    assert "intact" in capsys.readouterr().out


def test_user_commands(tmp_path, env, capsys, monkeypatch):
    folder = tmp_path / "ws"
    main(["init", str(folder), "--provider-code", "P", "--provider-name", "P", "--user", "boss"])
    monkeypatch.setenv("VRP_NEW_PASSPHRASE", "worker passphrase 2026")
    assert main(["user", "add", str(folder), "kim", "--role", "worker"]) == 0
    capsys.readouterr()
    assert main(["user", "list", str(folder), "--user", "boss"]) == 0
    listing = capsys.readouterr().out
    assert "kim" in listing and "worker" in listing
    # with two users the CLI asks which one
    assert main(["info", str(folder)]) == 1
    assert "--user" in capsys.readouterr().err
    assert main(["user", "remove", str(folder), "kim", "--user", "boss"]) == 0


def test_wrong_passphrase_is_a_message_not_a_traceback(tmp_path, env, monkeypatch, capsys):
    folder = tmp_path / "ws"
    main(["init", str(folder), "--provider-code", "P", "--provider-name", "P", "--user", "boss"])
    capsys.readouterr()
    monkeypatch.setenv("VRP_PASSPHRASE", "this is not it at all")
    assert main(["info", str(folder)]) == 3
    err = capsys.readouterr().err
    assert err.startswith("vrp: ") and "Traceback" not in err
    assert "this is not it" not in err


def test_backup_and_restore_commands(tmp_path, env, capsys):
    folder, file = tmp_path / "ws", tmp_path / "b.vrpbackup"
    main(["init", str(folder), "--provider-code", "P", "--provider-name", "P", "--user", "boss"])
    assert main(["backup", str(folder), str(file)]) == 0
    assert main(["restore", str(file), str(tmp_path / "copy"), "--user", "boss"]) == 0
    assert main(["info", str(tmp_path / "copy"), "--json"]) == 0


def test_measure_score(capsys):
    assert main(["measure", "score", "swemwbs", "3", "3", "3", "3", "3", "3", "3"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["scores"]["raw"] == 21 and result["scores"]["metric"] == 19.25
    assert main(["measure", "score", "sdq_s11_17", *(["1"] * 22), "-", "-", "-"]) == 0
    sdq = json.loads(capsys.readouterr().out)
    assert sdq["missing_items"] == [23, 24, 25]
    assert main(["measure", "score", "swemwbs", "3", "9"]) == 1
    assert "has 7 questions but 2 answers were given" in capsys.readouterr().err


def test_entry_point_runs_as_a_process(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "vrp_desktop.cli", "info", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        env={**os.environ, "VRP_PASSPHRASE": "x"},
    )
    assert result.returncode == 1
    assert "No workspace folder" in result.stderr and "Traceback" not in result.stderr
