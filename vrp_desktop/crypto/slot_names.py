"""Who can unlock a workspace, read from ``keyslots.json`` without the key-slot machinery.

The unlock screen lists the users before it first paints. Loading ``keyslots`` for that (its
dataclasses, hashing and file helpers) cost some 25-30 ms of a start-up that must stay close
to a bare window's, so a plainly well-formed file is read here with ``json`` alone. Anything
unusual (too big, not JSON, an unknown format or version, a slot of the wrong shape) goes to
``KeySlotFile.load``, whose checks and messages stay the one place a damaged file is explained;
the unlock itself always loads and checks the whole file.
"""

from __future__ import annotations

import json
from pathlib import Path

#: keep in step with ``keyslots``: ``tests/test_keyslots.py`` compares both readers
FORMAT = "vrp-desktop-keyslots"
VERSIONS = (1, 2)
MAX_FILE_BYTES = 1024 * 1024


def usernames(path: Path) -> list[str]:
    """User names as they were given, in slot order (``KeySlotFile.usernames()``)."""
    names = _quick(Path(path))
    if names is None:
        from vrp_desktop.crypto.keyslots import KeySlotFile

        return KeySlotFile.load(path).usernames()
    return names


def _quick(path: Path) -> list[str] | None:
    """The names from a plainly well-formed file, or None to let the full reader decide."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    version = data.get("version")
    if isinstance(version, bool) or version not in VERSIONS:
        return None
    slots = data.get("slots")
    if not isinstance(slots, list) or not slots:
        return None
    names: list[str] = []
    for slot in slots:
        if not isinstance(slot, dict):
            return None
        kind, username = slot.get("kind"), slot.get("username")
        if kind == "user" and isinstance(username, str) and username:
            names.append(username)
        elif kind != "recovery" or username is not None:
            return None
    return names
