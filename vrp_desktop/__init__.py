"""VRP Desktop core: the Qt-free engine behind the window and the `vrp` command line."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # ``__version__`` comes from the package metadata, read on first use only: importing
    # importlib.metadata costs more than the rest of the ``vrp`` command's start-up.
    if name != "__version__":
        raise AttributeError(f"module 'vrp_desktop' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("vrp-desktop")
    except PackageNotFoundError:  # running from a source tree or a frozen bundle
        value = "0+unknown"
    globals()["__version__"] = value
    return value
