"""Users of a workspace: a row with their role, and a key slot that only their passphrase opens."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from vrp_desktop import roles
from vrp_desktop.crypto import strength
from vrp_desktop.errors import VrpError, WrongPassphrase
from vrp_desktop.services import audit
from vrp_desktop.store.models import User


def list_users(ws) -> list[dict[str, Any]]:
    with ws.read() as session:
        return [
            {
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role,
                "active": u.active,
            }
            for u in session.scalars(select(User).order_by(User.username))
        ]


def add_user(
    ws, username: str, passphrase: str, *, role: str = "worker", display_name: str | None = None
) -> dict[str, Any]:
    """Give someone their own login: a user row and a key slot under their passphrase."""
    ws.require("manage_users")
    username = username.strip()
    if (
        not username
        or len(username) > 64
        or any(ch.isspace() or not ch.isprintable() for ch in username)
    ):
        raise VrpError("Choose a username of 1-64 characters with no spaces, e.g. 'sam.k'.")
    if role not in roles.ROLES:
        raise VrpError(f"Unknown role {role!r}: choose one of {', '.join(roles.ROLES)}.")
    with ws.unit() as session:
        existing = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
        if existing is not None and existing.active and ws.slots.has_user(existing.username):
            raise VrpError(f"There is already a user called {existing.username!r}.")
        # checked before anything is written, so a weak passphrase changes nothing
        strength.require_acceptable(passphrase, (username,))
        if existing is not None:
            existing.active, existing.role = True, role
            existing.display_name = display_name or existing.display_name
            username = existing.username
        else:
            session.add(User(username=username, display_name=display_name or username, role=role))
        audit.append(
            session,
            ws.user.username,
            "user.add",
            "user",
            None,
            after={"username": username, "role": role},
        )
        session.flush()
        # the slot is written once the row has committed; a crash in between leaves an active
        # row without a slot, which adding the user again completes
        ws.after_commit(session, lambda: _put_slot(ws, username, passphrase))
    return {"username": username, "role": role, "display_name": display_name or username}


def _put_slot(ws, username: str, passphrase: str) -> None:
    if ws.slots.has_user(username):
        ws.slots.change_passphrase(username, ws.master_key, passphrase)
    else:
        ws.slots.add_user(ws.master_key, username, passphrase)


REMOVED_MESSAGE = (
    "User {name} removed. The workspace key was changed, so their passphrase no longer opens "
    "this workspace, not even with an old copy of its key file, and any key remembered for them "
    "on this computer was forgotten. Backups made before now still open with the passphrases "
    "they were made with, {name}'s included: keep them locked away, or delete them."
)


def remove_user(ws, username: str) -> str:
    """Remove a login and change the workspace key, so the removed passphrase (and the old key,
    which its holder may have kept) opens nothing here any more. Returns the message to show.

    The row is committed first; the re-key follows (see ``Workspace.rekey``). A crash between
    the two is finished at the next open, which re-keys away any slot of a removed user.
    """
    from vrp_desktop.crypto.keyslots import new_master_key

    ws.require("manage_users")
    if username.lower() == ws.user.username.lower():
        raise VrpError("You cannot remove yourself; ask another manager to do it.")
    with ws.read() as session:
        user = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
        if user is None or not user.active:
            raise VrpError(f"There is no user called {username!r}.")
        name = user.username
    if ws.slots.has_user(name):
        # refuse now, before anything changes, if the key could not be changed afterwards
        ws.slots.rekeyed(ws.master_key, new_master_key(), drop=(name,))
    with ws.unit() as session:
        user = session.scalar(select(User).where(User.username == name))
        user.active = False
        audit.append(
            session,
            ws.user.username,
            "user.remove",
            "user",
            None,
            before={"username": user.username, "role": user.role},
        )
    ws.rekey(drop=(name,))
    return REMOVED_MESSAGE.format(name=name)


def change_passphrase(
    ws, new_passphrase: str, *, current_passphrase: str | None = None, username: str | None = None
) -> None:
    """Change your own passphrase (give the current one), or reset another user's (managers)."""
    target = username or ws.user.username
    if target.lower() == ws.user.username.lower():
        if current_passphrase is not None:
            try:
                ws.slots.unlock(target, current_passphrase)
            except WrongPassphrase:
                raise WrongPassphrase(
                    "Your current passphrase is not right, so it was not changed."
                ) from None
    else:
        ws.require("manage_users")
    if not ws.slots.has_user(target):
        raise VrpError(f"There is no user called {target!r} in this workspace.")
    strength.require_acceptable(new_passphrase, (target,))  # before anything is written
    with ws.unit() as session:
        audit.append(
            session, ws.user.username, "user.passphrase", "user", None, after={"username": target}
        )
        ws.after_commit(
            session, lambda: ws.slots.change_passphrase(target, ws.master_key, new_passphrase)
        )


def new_recovery_code(ws) -> str:
    """Replace the recovery code; the old one stops working. Show the new one once."""
    ws.require("manage_users")
    made: list[str] = []
    with ws.unit() as session:
        audit.append(session, ws.user.username, "workspace.recovery_code", "workspace", None)
        ws.after_commit(session, lambda: made.append(ws.slots.replace_recovery(ws.master_key)))
    return made[0]
