"""Fuzz fixtures: workspaces made once per module (real SQLCipher, real keys), and the tally."""

from __future__ import annotations

import pytest

from tests.fuzz import common


@pytest.fixture(scope="session", autouse=True)
def _print_tally():
    yield
    if common.TALLY:
        print(f"\nfuzz tally (budget {common.TOTAL} inputs)")
        total = 0
        for target, counts in sorted(common.TALLY.items()):
            n = sum(counts.values())
            total += n
            print(
                f"  {target:<28} {n:>7} inputs: "
                + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            )
        print(f"  {'all':<28} {total:>7} inputs (an unhandled exception or a hang fails its test)")


@pytest.fixture(scope="module")
def fast_env(tmp_path_factory):
    """The cheap KDF and private state folders for workspaces made at module scope."""
    home = tmp_path_factory.mktemp("fuzz-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("VRP_FAST_KDF", "1")
    mp.setenv("VRP_STATE_DIR", str(home / "state"))
    mp.setenv("VRP_DATA_DIR", str(home / "data"))
    yield home
    mp.undo()
