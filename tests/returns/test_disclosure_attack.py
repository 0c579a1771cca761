"""The attack test: an integer program over what the workbooks show cannot narrow any hidden
count below the rule's range, on several datasets, small and skewed ones included."""

from __future__ import annotations

import pytest

from tests.conftest import PASSPHRASE
from tests.returns.attack import attack, read_return
from tests.returns.conftest import DEMO_END
from vrp_desktop.returns import workbook
from vrp_desktop.returns.quarters import parse_quarter

Q = parse_quarter("2026-27 Q2")
RULE = 5


def _small_ws(tmp_path_factory, participants: int, sessions: int, seed: int):
    from vrp_desktop.services import demo
    from vrp_desktop.workspace import Workspace

    ws, _ = Workspace.create(
        tmp_path_factory.mktemp(f"small{participants}") / "ws",
        provider_code="P001",
        provider_name="Test Youth Project",
        username="manager",
        passphrase=PASSPHRASE,
    )
    demo.generate(ws, participants=participants, sessions=sessions, seed=seed, end=DEMO_END)
    return ws


@pytest.fixture(scope="module", params=["demo", "small", "tiny"])
def dataset(request, demo_ws, tmp_path_factory):
    if request.param == "demo":
        yield demo_ws
        return
    size = {"small": (40, 200, 3), "tiny": (12, 60, 11)}[request.param]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VRP_FAST_KDF", "1")
        ws = _small_ws(tmp_path_factory, *size)
        yield ws
        ws.close()


def _export(ws, folder, threshold):
    path = folder / f"return-{threshold}.xlsx"
    workbook.export_return(ws, Q, path, threshold=threshold)
    return path


def test_no_hidden_count_can_be_narrowed(dataset, tmp_path):
    shown = _export(dataset, tmp_path, RULE)
    truth = _export(dataset, tmp_path, 1)
    tables = read_return(shown, truth, "provider")
    atk = attack({"provider": tables}, RULE)
    assert atk.index, "the dataset should have something to hide"
    failures = atk.failures()
    assert not failures, f"{len(failures)} of {len(atk.index)} narrowed: {failures[:5]}"
