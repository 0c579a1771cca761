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


def test_the_vrp_publishes_population_figures_from_the_inbox_page(qtbot, tmp_path):
    from tests.conftest import PASSPHRASE
    from ui.context import AppContext
    from ui.pages.inbox import InboxPage
    from ui.worker import StoreRunner
    from vrp_desktop.workspace import Workspace

    ws, _ = Workspace.create(
        tmp_path / "coord", provider_code="VRP", provider_name="West Mids VRP",
        username="coord", passphrase=PASSPHRASE, role="coordinator", kind="coordinator",
    )  # fmt: skip
    runner = StoreRunner()
    ctx = AppContext(ws, runner)
    try:
        page = InboxPage(ctx)
        qtbot.addWidget(page)
        page.resize(1280, 720)
        qtbot.waitUntil(lambda: "None published yet" in page.population_label.text())
        bad = tmp_path / "bad.csv"
        bad.write_text("dimension,category,population\ngender,Martian,5\n")
        out = tmp_path / "population.vrpref"
        page.population_title.setText("Residents 10-24")
        page.population_source.setText("ONS Census 2021 (illustrative)")
        page.population_base.setText("Residents aged 10-24")
        page.publish_population(str(bad), str(out))
        qtbot.waitUntil(lambda: "'Martian' is not a gender" in page.message.text(), timeout=20000)
        assert not out.exists()

        good = tmp_path / "population.csv"
        good.write_text(CSV)
        page.publish_population(str(good), str(out))
        qtbot.waitUntil(lambda: "version 1 published" in page.message.text(), timeout=20000)
        qtbot.waitUntil(lambda: "Published: Residents 10-24" in page.population_label.text())
        assert json.loads(out.read_text())["tables"]["gender"] == {"female": 480, "male": 520}
    finally:
        runner.shutdown()
        ws.close()
