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


def test_output_to_a_reader_that_went_away_is_not_called_a_path_problem():
    """``vrp ... | head`` closes the pipe early: the command stops quietly (exit 141, as a
    shell's own tools do), without "cannot use ... Check the path" or a traceback."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "vrp_desktop.cli", "measure", "score", "swemwbs", *"3333333"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # before the interpreter has even started: its first write fails
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141, err
    assert "cannot use" not in err and "Traceback" not in err and "Exception" not in err


# -- issue 10, failure 15: smaller CLI faults ---------------------------------------------------


def _init(folder, user="boss") -> None:
    main(["init", str(folder), "--provider-code", "P", "--provider-name", "P", "--user", user])


def _state_files(home) -> dict[str, bytes]:
    state = home / "state"
    return (
        {str(p): p.read_bytes() for p in state.rglob("*") if p.is_file()} if state.exists() else {}
    )


def test_restore_of_a_one_user_backup_needs_no_user(tmp_path, env, capsys):
    folder, file = tmp_path / "ws", tmp_path / "b.vrpbackup"
    _init(folder)
    assert main(["backup", str(folder), str(file)]) == 0
    capsys.readouterr()
    assert main(["restore", str(file), str(tmp_path / "copy")]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["info", str(tmp_path / "copy"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["user"]["username"] == "boss"


def test_restore_of_a_two_user_backup_asks_which_user(tmp_path, env, capsys, monkeypatch):
    folder, file = tmp_path / "ws", tmp_path / "b.vrpbackup"
    _init(folder)
    monkeypatch.setenv("VRP_NEW_PASSPHRASE", "worker passphrase 2026")
    main(["user", "add", str(folder), "kim", "--role", "worker"])
    main(["backup", str(folder), str(file), "--user", "boss"])
    capsys.readouterr()
    assert main(["restore", str(file), str(tmp_path / "copy")]) == 1
    err = capsys.readouterr().err
    assert "--user" in err and "boss" in err and "kim" in err
    assert not (tmp_path / "copy").exists()


def test_info_for_an_unknown_user_says_so_and_counts_no_failed_unlock(
    tmp_path, env, capsys, isolated_env
):
    folder = tmp_path / "ws"
    _init(folder)
    capsys.readouterr()
    before = _state_files(isolated_env)
    assert main(["info", str(folder), "--user", "nobody"]) == 1
    err = capsys.readouterr().err
    assert "no user 'nobody'" in err and "boss" in err
    assert _state_files(isolated_env) == before  # no failed unlock counted
    assert main(["info", str(folder), "--user", "BOSS"]) == 0  # names match as at unlock


def test_backup_to_an_unwritable_folder_is_a_clear_message(tmp_path, env, capsys):
    if os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    folder, locked = tmp_path / "ws", tmp_path / "locked"
    _init(folder)
    locked.mkdir()
    locked.chmod(0o500)
    capsys.readouterr()
    try:
        assert main(["backup", str(folder), str(locked / "b.vrpbackup")]) == 1
    finally:
        locked.chmod(0o700)
    err = capsys.readouterr().err
    assert "may not write" in err and "unexpected" not in err
    assert list(locked.iterdir()) == []


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_backup_where_writing_fails_is_a_clear_message(tmp_path, env, capsys):
    # /proc takes no new files, not even from root: the write fails inside the command
    folder = tmp_path / "ws"
    _init(folder)
    capsys.readouterr()
    assert main(["backup", str(folder), "/proc/vrp-test.vrpbackup"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("vrp: ") and "unexpected" not in err and "/proc" in err


def test_an_os_error_names_the_file_not_unexpected_error(tmp_path, env, capsys):
    folder = tmp_path / "ws"
    _init(folder)
    capsys.readouterr()
    # a folder where the backup file should be: the write fails inside the command
    target = tmp_path / "b.vrpbackup"
    target.mkdir()
    assert main(["backup", str(folder), str(target)]) == 1
    err = capsys.readouterr().err
    assert "is a folder" in err and "unexpected" not in err


@pytest.mark.parametrize(
    "command",
    [
        ["backup", "{ws}", "{missing}/b.vrpbackup"],
        ["export", "{ws}", "--out", "{missing}/records.xlsx"],
        ["return", "export", "{ws}", "--out", "{missing}/return.xlsx"],
        ["import", "template", "--out", "{missing}/template.xlsx"],
    ],
)
def test_out_never_creates_folders(tmp_path, env, capsys, command):
    folder, missing = tmp_path / "ws", tmp_path / "no" / "such"
    _init(folder)
    capsys.readouterr()
    argv = [a.format(ws=folder, missing=missing) for a in command]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and str(missing) in err
    assert not (tmp_path / "no").exists()


def test_measure_score_with_an_unknown_id_lists_the_ids(capsys):
    assert main(["measure", "score", "sdq", "1", "2"]) == 1
    err = capsys.readouterr().err
    assert "no measure 'sdq'" in err
    assert "sdq_s11_17" in err and "swemwbs" in err


# -- issue 9: the vrp command loads only what a command uses -----------------------------------

HEAVY = (
    "sqlalchemy",
    "alembic",
    "openpyxl",
    "pydantic",
    "cryptography",
    "pyrage",
    "argon2",
    "scipy",
    "numpy",
    "PySide6",
    "keyring",
    "httpx",
)
#: what opening a workspace that is already current must not load (Alembic only migrates)
NOT_FOR_INFO = {"alembic", "openpyxl", "pydantic", "python_calamine", "scipy", "numpy", "PySide6"}


def _loaded_after(argv: list[str], env: dict[str, str] | None = None) -> set[str]:
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['vrp', *{argv!r}]\n"
        "try:\n"
        "    runpy.run_module('vrp_desktop.cli', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=True,
    )
    return set(result.stdout.strip().splitlines()[-1].split())


def test_version_and_help_load_no_heavy_library():
    for argv in (["--version"], ["--help"], ["return", "export", "--help"]):
        loaded = _loaded_after(argv)
        assert not loaded & set(HEAVY), (argv, sorted(loaded & set(HEAVY)))


def test_version_is_printed(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("vrp ")
    with pytest.raises(SystemExit) as info:
        main(["--version", "info"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("vrp ")


def test_info_loads_no_validation_engine_or_excel(tmp_path):
    folder = tmp_path / "ws"
    env = {"VRP_PASSPHRASE": PASSPHRASE}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "vrp_desktop.cli",
            "init",
            str(folder),
            "--provider-code",
            "P",
            "--provider-name",
            "P",
            "--user",
            "boss",
        ],
        capture_output=True,
        env={**os.environ, **env},
        check=True,
    )
    loaded = _loaded_after(["info", str(folder)], env)
    assert "sqlalchemy" in loaded  # it did open the workspace
    assert not loaded & NOT_FOR_INFO, sorted(loaded & NOT_FOR_INFO)


def test_every_command_help_loads_no_heavy_library():
    from vrp_desktop.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # argparse keeps them here
    for name in commands:
        loaded = _loaded_after([name, "--help"])
        assert not loaded & set(HEAVY), (name, sorted(loaded & set(HEAVY)))


def test_version_is_the_installed_metadata_version():
    from importlib.metadata import PackageNotFoundError, version

    import vrp_desktop

    try:
        expected = version("vrp-desktop")
    except PackageNotFoundError:
        pytest.skip("not installed")
    assert vrp_desktop._metadata_version() == expected
