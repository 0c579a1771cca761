"""A provider installs the VRP's population figures and framework packs from the Sync page
(issue 13): one button, the file says which kind it is; a tampered or foreign file is refused
with a message and nothing changes."""

from __future__ import annotations

import json

import pytest

from tests.ui.conftest import wait_idle
from tests.ui.test_sync_page import vrp  # noqa: F401  (the coordinator fixture)
from ui.pages.sync import SyncPage
from vrp_desktop.reference import population
from vrp_desktop.sync import coordinator

pytestmark = pytest.mark.gui

CSV = "dimension,category,population\ngender,Female,480\ngender,Male,520\n"


def test_population_and_framework_packs_install_from_the_sync_page(
    qtbot,
    unlocked_ctx,
    vrp,  # noqa: F811
    tmp_path,
):
    coord, pack, code = vrp
    page = SyncPage(unlocked_ctx)
    qtbot.addWidget(page)
    page.resize(1280, 720)
    wait_idle(qtbot, unlocked_ctx)
    page.pack_edit.setText(str(pack))
    page.code_edit.setText(code)
    page.join_button.click()
    qtbot.waitUntil(lambda: "Sending to" in page.vrp_label.text(), timeout=20000)

    source = tmp_path / "population.csv"
    source.write_text(CSV)
    figures = tmp_path / "population.vrpref"
    population.publish(
        coord, source, figures, title="Residents 10-24", source="ONS (illustrative)", base="10-24"
    )
    frameworks = tmp_path / "frameworks.json"
    coordinator.publish_frameworks(coord, [], frameworks)

    tampered = tmp_path / "tampered.vrpref"
    body = json.loads(figures.read_text())
    body["tables"]["gender"]["female"] = 1
    tampered.write_text(json.dumps(body))
    page.import_vrp_pack(str(tampered))
    qtbot.waitUntil(lambda: "not signed by your VRP" in page.message.text(), timeout=20000)
    assert population.installed(unlocked_ctx.ws) is None

    page.import_vrp_pack(str(tmp_path / "population.csv"))
    qtbot.waitUntil(lambda: "is not a framework pack or population" in page.message.text())

    page.import_vrp_pack(str(figures))
    qtbot.waitUntil(lambda: "Population figures version 1 installed" in page.message.text())
    assert population.installed(unlocked_ctx.ws).tables["gender"] == {"female": 480, "male": 520}

    page.import_vrp_pack(str(frameworks))
    qtbot.waitUntil(lambda: "Framework pack imported" in page.message.text(), timeout=20000)
    assert page.vrp_pack_button.isVisible() or not page.isVisible()
