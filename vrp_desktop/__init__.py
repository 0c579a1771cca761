"""VRP Desktop core: the Qt-free engine behind the window and the `vrp` command line."""

from __future__ import annotations

import os
import sys


def _metadata_version() -> str | None:
    """The installed version from ``vrp_desktop-*.dist-info/METADATA`` on ``sys.path``: what
    importlib.metadata reads, without importing it (that costs more than the rest of the
    ``vrp`` command's start-up)."""
    for entry in sys.path:
        try:
            names = [
                e.name
                for e in os.scandir(entry or ".")
                if e.name.startswith("vrp_desktop-") and e.name.endswith(".dist-info")
            ]
        except OSError:
            continue
        for name in names:
            try:
                with open(os.path.join(entry or ".", name, "METADATA"), encoding="utf-8") as f:
                    for line in f:
                        if line.startswith("Version:"):
                            return line.split(":", 1)[1].strip()
                        if not line.strip():
                            break
            except OSError:
                continue
    return None


def __getattr__(name: str) -> str:
    # ``__version__`` comes from the package metadata, read on first use only.
    if name != "__version__":
        raise AttributeError(f"module 'vrp_desktop' has no attribute {name!r}")
    value = _metadata_version()
    if value is None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("vrp-desktop")
        except PackageNotFoundError:  # running from a source tree or a frozen bundle
            value = "0+unknown"
    globals()["__version__"] = value
    return value
