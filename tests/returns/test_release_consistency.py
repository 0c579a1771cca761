"""Provider returns and the partnership return for one period, released side by side: every
record made by real providers, sent in real batches and imported by a real coordinator.

- a cell the partnership hides for a provider is hidden in that provider's own return too;
- an attacker holding all the workbooks cannot narrow any hidden count (integer program);
- the age band of a person is the same in both returns (worked out from the birth month).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from tests.conftest import PASSPHRASE
from tests.returns.attack import attack, read_return
from tests.returns.conftest import DEMO_END
from tests.sync.conftest import make_coordinator
from vrp_desktop.returns import workbook
from vrp_desktop.returns.quarters import parse_quarter

Q = parse_quarter("2026-27 Q2")
RULE = 5
PROVIDERS = (("P001", "Ladywood Youth", 45, 220, 3), ("P002", "City Mentors", 20, 90, 5))


def _provider(root: Path, coord: Path, code: str, name: str, people: int, sessions: int, seed):
    from vrp_desktop.services import demo
    from vrp_desktop.sync import batch_build, batch_import, coordinator, onboarding, outbox
    from vrp_desktop.workspace import Workspace

    folder = root / code
    ws, _ = Workspace.create(
        folder, provider_code=code, provider_name=name, username="manager", passphrase=PASSPHRASE
    )
    demo.generate(ws, participants=people, sessions=sessions, seed=seed, end=DEMO_END)
    pack = root / f"{code}.vrponboard"
    with Workspace.open(coord, "coord", PASSPHRASE) as c:
        info = coordinator.add_provider(c, code=code, name=name, out=pack)
    joined = onboarding.join(ws, pack, info["one_time_code"])
    box = root / f"outbox-{code}"
    box.mkdir()
    outbox.set_outbox_folder(ws, box)
    with Workspace.open(coord, "coord", PASSPHRASE) as c:
        coordinator.pin_provider(
            c, Path(joined["key_file"]), expect_fingerprint=joined["provider_fingerprint"]
        )
    batch = batch_build.build_batch(ws)
    with Workspace.open(coord, "coord", PASSPHRASE) as c:
        report = batch_import.import_batch(c, batch["file"])
        assert report.counts["rejected"] == 0
    return ws


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    from vrp_desktop.workspace import Workspace

    root = tmp_path_factory.mktemp("release")
    out = root / "out"
    out.mkdir()
    books = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VRP_FAST_KDF", "1")
        mp.setenv("VRP_STATE_DIR", str(root / "state"))
        mp.setenv("VRP_DATA_DIR", str(root / "data"))
        coord = make_coordinator(root / "coord")
        for code, name, people, sessions, seed in PROVIDERS:
            ws = _provider(root, coord, code, name, people, sessions, seed)
            with ws:
                for t in (RULE, 1):  # the provider's return of what it sent
                    workbook.export_return(
                        ws, Q, out / f"{code}-{t}.xlsx", threshold=t, sent_only=True
                    )
            books[code] = (out / f"{code}-{RULE}.xlsx", out / f"{code}-1.xlsx", name)
        with Workspace.open(coord, "coord", PASSPHRASE) as c:
            for t in (RULE, 1):
                workbook.export_return(c, Q, out / f"VRP-{t}.xlsx", threshold=t)
    books["VRP"] = (out / f"VRP-{RULE}.xlsx", out / "VRP-1.xlsx", "partnership")
    return books


def _tables(released):
    return {code: read_return(shown, truth, code) for code, (shown, truth, _) in released.items()}


def _links(tables, released):
    """Cells of the partnership return that count the same people as a provider's cell."""
    by = {code: {(t.sheet, t.name): t for t in ts} for code, ts in tables.items()}
    vrp = by["VRP"]
    links = []
    for code, name, *_ in PROVIDERS:
        column = f"{name} [{code}]"
        own = by[code]
        for (sheet, key), table in vrp.items():
            mine = own.get((sheet, key))
            if key[1:] == ("Intervention",) and sheet == "Reach":
                first = next(t for (s, k), t in own.items() if s == "Reach" and k[0] == key[0])
                for row in table.rows[:-1]:
                    label = row.removesuffix(f" [{code}]")
                    if row.endswith(f"[{code}]") and label in first.cols:
                        links.append((table, (row, column), first, ("Total", label)))
                continue
            if mine is None or column not in table.cols:
                continue
            for row in table.rows:
                if row in mine.rows:
                    links.append((table, (row, column), mine, (row, "Total")))
    return links


def test_the_partnership_hides_nothing_a_provider_shows(released):
    tables = _tables(released)
    links = _links(tables, released)
    assert len(links) > 100
    clashes = [
        (a.name, ca)
        for a, ca, b, cb in links
        if a.true[ca] == b.true[cb]
        and isinstance(a.shown[ca], str)
        and not isinstance(b.shown[cb], str)
    ]
    assert not clashes, clashes[:5]


def test_all_the_returns_together_disclose_nothing(released):
    tables = _tables(released)
    atk = attack(tables, RULE, _links(tables, released))
    assert atk.index
    failures = atk.failures()
    assert not failures, f"{len(failures)} of {len(atk.index)} narrowed: {failures[:5]}"


def test_age_bands_agree_between_the_returns(released):
    """Each provider's age-band counts (Total column) equal the partnership's column for it."""
    vrp = openpyxl.load_workbook(released["VRP"][1])["Reach"]
    header = [c.value for c in vrp[4]]
    for code, name, *_ in PROVIDERS:
        own = openpyxl.load_workbook(released[code][1])["Reach"]
        own_header = [c.value for c in own[4]]
        theirs = {
            (r[0], r[2]): r[header.index(f"{name} [{code}]")]
            for r in vrp.iter_rows(min_row=5, values_only=True)
            if r[1] == "Age band"
        }
        mine = {
            (r[0], r[2]): r[own_header.index("Total")]
            for r in own.iter_rows(min_row=5, values_only=True)
            if r[1] == "Age band"
        }
        assert mine and mine == theirs
