"""From nothing to a batch received online: a provider set up through the window only, a VRP
set up with ``vrp`` only, and "Send now" to a real ``vrp serve`` (issue 14).

The provider's manager runs the wizard, sets up an intervention, adds and enrols two young
people, joins the VRP on the Sync page with the pack and the one-time code read by phone, and
presses "Send now". The coordinator runs ``vrp init --coordinator``, ``vrp provider add``,
``vrp provider pin`` and ``vrp serve`` in their own processes. Nothing is set up by a service
call; the coordinator's store is read at the end with ``vrp info``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt

from tests.intake.conftest import ROOT, Intake
from tests.ui.test_first_day import add_and_enrol, settle, start_from_nothing

pytestmark = [pytest.mark.gui, pytest.mark.slow]

VRP_PASS = "lantern copper meadow ninety"


def vrp(*args: str, check: bool = True) -> str:
    env = {**os.environ, "VRP_PASSPHRASE": VRP_PASS, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "vrp_desktop.cli", *args],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if check:
        assert done.returncode == 0, done.stderr
    return done.stdout


def test_first_batch_sent_online_from_nothing(qtbot, tmp_path, app_settings):
    coord = tmp_path / "vrp"
    vrp("init", str(coord), "--coordinator", "--provider-code", "VRP",
        "--provider-name", "Eastside VRP", "--user", "coord")  # fmt: skip
    pack = tmp_path / "P021.vrponboard"
    said = vrp("provider", "add", str(coord), "--code", "P021", "--name", "Eastside Youth",
               "--out", str(pack))  # fmt: skip
    code = re.search(r"ONE-TIME CODE.*\n\s+(\S+)", said).group(1)

    window, runner = start_from_nothing(qtbot, tmp_path / "eastside", app_settings)
    intake = None
    try:
        ctx = window.ctx
        window.navigate("participants", "")
        settle(qtbot, ctx)
        for first, last in (("Amara", "Okafor"), ("Ben", "Hughes")):
            add_and_enrol(qtbot, window, first, last)
            settle(qtbot, ctx, rounds=2)

        # join on the Sync page: the pack file and the code read out by phone
        window.navigate("sync", "")
        page = window.page("sync")
        settle(qtbot, ctx)
        page.pack_edit.setText(str(pack))
        page.code_edit.setFocus()
        qtbot.keyClicks(page.code_edit, code)
        qtbot.mouseClick(page.join_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Joined" in page.message.text(), timeout=30_000)
        key_file = re.search(r"key file (\S+?)\.?$", page.message.text()).group(1)
        fingerprint = re.search(r"fingerprint (.+?) to your", page.message.text()).group(1)

        # the VRP pins the key after comparing fingerprints by phone, and starts its intake
        vrp("provider", "pin", str(coord), key_file, "--fingerprint", fingerprint)
        intake = Intake(coord, tmp_path / "serve.log", env={"VRP_PASSPHRASE": VRP_PASS})
        intake.wait_ready()

        settle(qtbot, ctx)
        page.intake_edit.setFocus()
        page.intake_edit.clear()
        qtbot.keyClicks(page.intake_edit, intake.url)
        qtbot.mouseClick(page.intake_save, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.send_now_button.isEnabled(), timeout=15_000)
        qtbot.mouseClick(page.send_now_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "the VRP imported it" in page.message.text(), timeout=60_000)
        settle(qtbot, ctx)
        qtbot.waitUntil(lambda: page.history.item(0, 3).text() == "receipted", timeout=15_000)
        assert "0 rejected" in page.message.text()
    finally:
        if intake is not None:
            intake.stop()
        window.shutdown()
        runner.shutdown()

    held = json.loads(vrp("info", str(coord), "--json"))
    assert held["participants"] == 2 and held["kind"] == "coordinator"
