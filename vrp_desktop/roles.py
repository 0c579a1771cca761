"""Roles and what each may do. Checked in services, so the CLI and the window agree."""

from __future__ import annotations

from vrp_desktop.errors import PermissionDenied

ROLES = ("worker", "manager", "coordinator", "admin")

ROLE_LABELS = {
    "worker": "Youth worker",
    "manager": "Provider manager",
    "coordinator": "VRP coordinator",
    "admin": "Administrator",
}

_RECORD = {"record"}
_MANAGE = _RECORD | {
    "manage_users", "backup", "erase", "send_batch", "export_return", "export_ids", "read_audit",
}  # fmt: skip

PERMISSIONS: dict[str, set[str]] = {
    "worker": _RECORD,
    "manager": _MANAGE,
    "coordinator": _MANAGE | {"coordinate"},
    "admin": _MANAGE | {"coordinate"},
}

_ACTION_WORDS = {
    "record": "record data",
    "manage_users": "manage users",
    "backup": "make or restore backups",
    "erase": "erase a person's data",
    "send_batch": "send batches",
    "export_return": "export returns",
    "export_ids": "export identifying fields",
    "read_audit": "read the audit log",
    "coordinate": "run the coordinator's tasks",
}


def can(role: str, action: str) -> bool:
    return action in PERMISSIONS.get(role, set())


def require(role: str, action: str) -> None:
    if not can(role, action):
        raise PermissionDenied(
            f"Your role ({ROLE_LABELS.get(role, role)}) cannot {_ACTION_WORDS.get(action, action)}."
            " Ask a provider manager to do it, or to change your role."
        )
