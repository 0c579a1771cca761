"""The three parties a workspace can be, and making one: what ``vrp init`` and the set-up
wizard share.

A partnership has providers (record young people, send batches), one VRP coordinator (opens
batches, publishes frameworks and the partnership's rules) and one linkage custodian (holds the
linkage key, never the VRP). Each is its own workspace with its own keys; this module creates
one and gives a coordinator or custodian its keys straight away, so the first window it opens
already shows fingerprints to compare by phone.
"""

from __future__ import annotations

from pathlib import Path

from vrp_desktop.workspace import Workspace

#: kind -> (name shown, one line on what it does); the order the wizard offers them in
PARTIES: dict[str, tuple[str, str]] = {
    "provider": (
        "A provider",
        "Record young people, sessions and questionnaires, and send batches to your VRP.",
    ),
    "coordinator": (
        "The VRP coordinator",
        "Onboard providers, publish frameworks, import their batches and make the "
        "partnership's returns.",
    ),
    "custodian": (
        "The linkage custodian",
        "Hold the partnership's linkage key and issue it to providers; never the VRP itself.",
    ),
}
#: the first user's role in each kind of workspace
FIRST_ROLE = {"provider": "manager", "coordinator": "coordinator", "custodian": "manager"}


def create(
    folder: Path,
    kind: str,
    *,
    code: str,
    name: str,
    username: str,
    passphrase: str,
    display_name: str | None = None,
) -> tuple[Workspace, str]:
    """A new workspace of ``kind``, unlocked, and its recovery code (shown once)."""
    ws, recovery = Workspace.create(
        Path(folder),
        provider_code=code,
        provider_name=name,
        username=username,
        passphrase=passphrase,
        display_name=display_name,
        role=FIRST_ROLE.get(kind, "manager"),
        kind=kind,
    )
    try:
        if kind == "coordinator":
            from vrp_desktop.sync import coordinator

            coordinator.setup(ws, partnership_name=name)
        elif kind == "custodian":
            from vrp_desktop.sync import linkage

            linkage.setup_custodian(ws, name)
    except BaseException:
        ws.close()
        raise
    return ws, recovery
