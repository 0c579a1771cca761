"""One door for the signed packs a VRP sends to providers besides receipts: framework versions
(``vrp frameworks publish``) and population figures (``vrp reference publish``).

The window offers a single "Import VRP pack…" button; which kind a file is comes from its
``format`` field, read before anything is checked or written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vrp_desktop.sync.common import SyncError

_MAX_PEEK = 8 * 1024 * 1024


def kind_of(path: Path) -> str:
    """'frameworks' or 'population'; anything else is refused with what the file should be."""
    path = Path(path)
    try:
        if path.stat().st_size > _MAX_PEEK:
            raise SyncError(f"{path.name} is far too large to be a pack from the VRP.")
        body = json.loads(path.read_bytes().decode("utf-8"))
        fmt = body.get("format") if isinstance(body, dict) else None
    except FileNotFoundError:
        raise SyncError(f"There is no file {path}. Check the name and folder.") from None
    except OSError as exc:
        raise SyncError(f"Cannot read {path.name}: {exc.strerror}.") from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        fmt = None
    if fmt == "vrp-frameworks/1":
        return "frameworks"
    if fmt == "vrp-reference/1":
        return "population"
    raise SyncError(
        f"{path.name} is not a framework pack or population figures from a VRP. Receipts "
        "have their own button; onboarding packs are joined above. Nothing was changed."
    )


def import_pack(ws, path: Path) -> dict[str, Any]:
    """Install a framework pack or population figures; says which it was and what changed."""
    kind = kind_of(path)
    if kind == "frameworks":
        from vrp_desktop.sync import onboarding

        info = onboarding.import_frameworks(ws, Path(path))
        added = ", ".join(info["added"])
        if info.get("rule_changed"):
            rule = f"the partnership's rule for small groups changed ({info['rule']})"
            text = (
                f"Framework pack imported: {added}; {rule}."
                if added
                else f"Framework pack imported: {rule}."
            )
        else:
            text = f"Framework pack imported: {added or 'nothing new'}."
        return {"kind": kind, "text": text}
    from vrp_desktop.reference import population

    info = population.install(ws, Path(path))
    return {
        "kind": kind,
        "text": f"Population figures version {info['version']} installed ({info['title']}); "
        "the next evaluation pack compares reach with them.",
    }
