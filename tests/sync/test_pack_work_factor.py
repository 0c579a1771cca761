"""An onboarding pack age will not open because the computer is busy says so (issue 14).

age measures the computer before deriving the key from the one-time code and refuses a scrypt
work factor far above what it can do now; under load that happened to real packs (seen in the
80-provider intake bench). That is neither a damaged pack nor a wrong code, and must not be
called one. The test raises the work factor written in a real pack's header, which age checks
before it derives anything.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from tests.sync.conftest import make_coordinator
from vrp_desktop.sync import coordinator, onboarding
from vrp_desktop.sync.common import SyncError
from vrp_desktop.workspace import Workspace


def test_a_pack_needing_more_work_than_the_computer_can_give_says_it_is_busy(tmp_path):
    coord = make_coordinator(tmp_path / "coord")
    pack = tmp_path / "P001.vrponboard"
    with Workspace.open(coord, "coord", PASSPHRASE) as c:
        code = coordinator.add_provider(c, code="P001", name="Test", out=pack)["one_time_code"]
    assert onboarding.open_pack(pack, code)["provider"]["code"] == "P001"  # opens as made
    data = pack.read_bytes()
    heavy = re.sub(rb"(-> scrypt \S+) \d+\n", rb"\1 40\n", data, count=1)
    assert heavy != data
    busy = tmp_path / "busy.vrponboard"
    busy.write_bytes(heavy)
    with pytest.raises(SyncError, match="too busy") as caught:
        onboarding.open_pack(Path(busy), code)
    assert "damaged" not in str(caught.value) and "does not open" not in str(caught.value)
    assert busy.read_bytes() == heavy
