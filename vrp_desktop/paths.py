"""Where things live: bundled resources and the per-user data folders.

One function finds resources whether we run from source or from a PyInstaller bundle.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "vrp-desktop"
APP_AUTHOR = "VRP"


def resource_path(*parts: str) -> Path:
    """Path of a file under ``resources/``, from source or from a frozen bundle."""
    base = getattr(sys, "_MEIPASS", None)
    root = Path(base) if base else Path(__file__).resolve().parent.parent
    return root.joinpath("resources", *parts)


def data_dir() -> Path:
    """The folder where workspaces live by default (``VRP_DATA_DIR`` overrides it)."""
    override = os.environ.get("VRP_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs  # only when no override is set: it costs the window's start ~20 ms

    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def state_dir() -> Path:
    """Per-user state kept outside any workspace (unlock attempt counters)."""
    override = os.environ.get("VRP_STATE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_state_dir(APP_NAME, APP_AUTHOR))


def default_workspace() -> Path:
    return data_dir() / "workspace"
