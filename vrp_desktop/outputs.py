"""Where a command or the window may write a file: checked before any work starts.

Folders are never created on the user's behalf: a typo would silently put a file (perhaps a
sensitive one) somewhere nobody looks.
"""

from __future__ import annotations

import os
from pathlib import Path

from vrp_desktop.errors import VrpError


def check_output_folder(path: Path) -> Path:
    """Refuse an output folder that is missing or not a folder (never created for the user)."""
    path = Path(path)
    if not path.is_dir():
        raise VrpError(
            f"{path} is not a folder that exists. Create it first, or name an existing one."
        )
    return path


def check_output_file(path: Path, what: str = "file") -> Path:
    """Refuse an output path that is a folder, or whose folder is missing or not writable."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise VrpError(f"{path} is a folder: give the name of the {what} to write in it.")
    if not folder.is_dir():
        raise VrpError(
            f"The folder {folder} does not exist, so the {what} cannot be written there. "
            "Create the folder first, or choose another one. Nothing was written."
        )
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise VrpError(
            f"You may not write to {path if path.exists() else folder}. Choose a folder you can "
            "write to. Nothing was written."
        )
    return path
