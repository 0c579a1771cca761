"""Autosaved session drafts: ids and codes only, outside the store, per workspace and user.

Notes and staff names are never written here (free text may name someone); everything else in
the form is codes, numbers, a date and participant ids, which mean nothing without the encrypted
store.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vrp_desktop.atomic import atomic_write_bytes
from vrp_desktop.paths import state_dir

#: keys a draft may hold; anything else is dropped on save and on load
KEYS = (
    "session_id",
    "intervention_id",
    "starts_at",
    "duration_minutes",
    "session_type",
    "mode",
    "location_type",
    "status",
    "activities",
    "register",
    "saved_at",
)


def draft_path(workspace_id: str, username: str) -> Path:
    safe = "".join(c for c in f"{workspace_id}-{username}" if c.isalnum() or c in "-_")
    return state_dir() / "drafts" / f"session-{safe}.json"


def save_draft(path: Path, state: dict[str, Any]) -> None:
    clean = {k: state[k] for k in KEYS if k in state}
    clean["register"] = [
        {
            "participant_id": str(r["participant_id"]),
            "ticked": bool(r["ticked"]),
            "status": str(r["status"]),
            "source": str(r.get("source") or "walk_in"),
        }
        for r in clean.get("register", [])
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(clean, sort_keys=True).encode())


def load_draft(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return {k: data[k] for k in KEYS if k in data} if isinstance(data, dict) else None


def clear_draft(path: Path) -> None:
    path.unlink(missing_ok=True)
